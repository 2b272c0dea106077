// Package rpmpkg reads the package tags of RPM files and locates their
// payload. An RPM file is a 96-byte lead (magic ed ab ee db), a signature
// header padded to 8 bytes, the main header and the payload (a compressed
// cpio archive). Both headers have the same layout: magic 8e ad e8 01,
// 4 reserved bytes, the index entry count and the data size (big-endian),
// then 16-byte index entries (tag, type, offset into the data, count) and
// the data.
//
// Only the lead's signature type 5 (header-style signature, every RPM
// since rpm 3) is read; older formats are refused. No signature or digest
// is checked.
package rpmpkg

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Part is one payload inside the container, at [Offset, Offset+Size) of the input.
type Part struct {
	Name         string
	Offset, Size int64
	Type         string // the payload format, "cpio" in practice
	// Compression is "gzip", "bzip2", "xz", "lzma" or "zstd" from the
	// PAYLOADCOMPRESSOR tag ("gzip", rpm's default, when the tag is
	// absent), or "" for a compressor this package does not know.
	Compression string
}

// Package holds the tags of an RPM and where its payload lies.
type Package struct {
	Name, Version, Release, Arch string
	Vendor, Packager, URL        string
	License, Summary             string
	PayloadFormat                string // PAYLOADFORMAT, e.g. "cpio"
	PayloadCompressor            string // PAYLOADCOMPRESSOR as written, e.g. "zstd"
	// Payload is the compressed payload: from the end of the main header
	// to the end of the input. Its Name is "payload".
	Payload Part
}

const (
	leadSize      = 96
	leadMagic     = "\xed\xab\xee\xdb"
	headerMagic   = "\x8e\xad\xe8\x01"
	headerSigType = 5
	indexSize     = 16
	// Caps on one header, beyond the input's size.
	maxIndex     = 65536
	maxData      = 256 << 20
	maxStringLen = 8192 // longer tag values are cut
)

// Header tags read (rpmtag.h).
const (
	tagName              = 1000
	tagVersion           = 1001
	tagRelease           = 1002
	tagSummary           = 1004
	tagVendor            = 1011
	tagLicense           = 1014
	tagPackager          = 1015
	tagURL               = 1020
	tagArch              = 1022
	tagPayloadFormat     = 1124
	tagPayloadCompressor = 1125
)

// Header data types holding strings.
const (
	typeString      = 6
	typeStringArray = 8
	typeI18NString  = 9
)

// Is reports whether head starts with an RPM lead of a version-3 or
// version-4 package with a header-style signature.
func Is(head []byte) bool {
	return len(head) >= leadSize && string(head[:4]) == leadMagic &&
		(head[4] == 3 || head[4] == 4) && binary.BigEndian.Uint16(head[78:]) == headerSigType
}

// header is the position of a header structure in the input.
type header struct {
	off, dataOff int64
	count        int64 // index entries
	dataSize     int64
}

// end returns the offset just past the header.
func (h header) end() int64 { return h.dataOff + h.dataSize }

// Open reads the RPM in r[0:size): its lead, signature header and main
// header. It fails when the input is not an RPM of a supported format,
// when a header breaks its bounds (more than 65536 index entries, more
// than 256 MiB of data, or running past the input), when a tag it reads
// points outside its header, or when no payload follows the main header.
func Open(r io.ReaderAt, size int64) (*Package, error) {
	lead := make([]byte, leadSize)
	if size < leadSize {
		return nil, errors.New("rpm: not an RPM: too short")
	}
	if _, err := r.ReadAt(lead, 0); err != nil {
		return nil, fmt.Errorf("rpm: reading lead: %w", err)
	}
	if string(lead[:4]) != leadMagic {
		return nil, errors.New("rpm: not an RPM: bad lead magic")
	}
	if !Is(lead) {
		return nil, fmt.Errorf("rpm: unsupported lead (version %d, signature type %d)", lead[4], binary.BigEndian.Uint16(lead[78:]))
	}
	sig, err := readHeader(r, leadSize, size)
	if err != nil {
		return nil, fmt.Errorf("rpm: signature header: %w", err)
	}
	mainOff := (sig.end() + 7) &^ 7
	main, err := readHeader(r, mainOff, size)
	if err != nil {
		return nil, fmt.Errorf("rpm: main header: %w", err)
	}
	p := &Package{}
	fields := map[uint32]*string{
		tagName: &p.Name, tagVersion: &p.Version, tagRelease: &p.Release, tagArch: &p.Arch,
		tagVendor: &p.Vendor, tagPackager: &p.Packager, tagURL: &p.URL,
		tagLicense: &p.License, tagSummary: &p.Summary,
		tagPayloadFormat: &p.PayloadFormat, tagPayloadCompressor: &p.PayloadCompressor,
	}
	if err := main.strings(r, fields); err != nil {
		return nil, fmt.Errorf("rpm: main header: %w", err)
	}
	payload := main.end()
	if payload >= size {
		return nil, fmt.Errorf("rpm: no payload after the main header (ends at 0x%x of 0x%x)", payload, size)
	}
	p.Payload = Part{Name: "payload", Offset: payload, Size: size - payload, Type: p.PayloadFormat, Compression: compression(p.PayloadCompressor)}
	return p, nil
}

// readHeader checks the header structure at off.
func readHeader(r io.ReaderAt, off, size int64) (header, error) {
	var b [16]byte
	if off+16 > size {
		return header{}, fmt.Errorf("at 0x%x: truncated", off)
	}
	if _, err := r.ReadAt(b[:], off); err != nil {
		return header{}, fmt.Errorf("at 0x%x: %w", off, err)
	}
	if string(b[:4]) != headerMagic {
		return header{}, fmt.Errorf("at 0x%x: bad magic", off)
	}
	h := header{off: off, count: int64(binary.BigEndian.Uint32(b[8:])), dataSize: int64(binary.BigEndian.Uint32(b[12:]))}
	if h.count > maxIndex {
		return header{}, fmt.Errorf("at 0x%x: %d index entries, more than %d", off, h.count, maxIndex)
	}
	if h.dataSize > maxData {
		return header{}, fmt.Errorf("at 0x%x: %d data bytes, more than %d", off, h.dataSize, maxData)
	}
	h.dataOff = off + 16 + h.count*indexSize
	if h.end() > size {
		return header{}, fmt.Errorf("at 0x%x: %d entries and %d data bytes run past the end of the input", off, h.count, h.dataSize)
	}
	return h, nil
}

// strings reads the string values of the tags in fields (removing the
// tags it found from it). A STRING_ARRAY or I18NSTRING gives its first
// string.
func (h header) strings(r io.ReaderAt, fields map[uint32]*string) error {
	index := make([]byte, h.count*indexSize)
	if _, err := r.ReadAt(index, h.off+16); err != nil {
		return fmt.Errorf("reading index: %w", err)
	}
	be := binary.BigEndian
	for i := 0; i < len(index); i += indexSize {
		e := index[i : i+indexSize]
		tag := be.Uint32(e)
		dst, ok := fields[tag]
		if !ok {
			continue
		}
		typ, off, count := be.Uint32(e[4:]), int64(be.Uint32(e[8:])), be.Uint32(e[12:])
		switch typ {
		case typeString, typeStringArray, typeI18NString:
		default:
			return fmt.Errorf("tag %d: type %d, want a string", tag, typ)
		}
		if count == 0 || off >= h.dataSize {
			return fmt.Errorf("tag %d: offset %d (count %d) outside the %d data bytes", tag, off, count, h.dataSize)
		}
		s, err := readString(r, h.dataOff+off, h.end())
		if err != nil {
			return fmt.Errorf("tag %d: %w", tag, err)
		}
		*dst = s
		delete(fields, tag) // the first of repeated tags wins
	}
	return nil
}

// readString reads a NUL-terminated string at off that must end before
// end; a string longer than maxStringLen is cut.
func readString(r io.ReaderAt, off, end int64) (string, error) {
	b := make([]byte, min(maxStringLen, end-off))
	n, err := r.ReadAt(b, off)
	if n < len(b) {
		return "", fmt.Errorf("string at 0x%x: %w", off, err)
	}
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return string(b[:i]), nil
	}
	if int64(len(b)) == end-off {
		return "", fmt.Errorf("string at 0x%x not terminated inside the header", off)
	}
	return string(b), nil
}

// compression maps a PAYLOADCOMPRESSOR value to a compression name.
func compression(c string) string {
	switch c {
	case "", "gzip":
		return "gzip"
	case "bzip2", "xz", "lzma", "zstd":
		return c
	}
	return ""
}
