// Package firmware unpacks appliance firmware images (compression
// streams, squashfs, cpio, legacy U-Boot uImages, and the tar archives they
// contain) into a plain file tree, so that their contents can be catalogued
// and scanned like a root filesystem. Every entry is written through
// extract.Writer, so names are cleaned, nothing lands outside the target
// directory and limits hold.
package firmware

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"path"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/arfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/fit"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/inflate"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/rpmpkg"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/sparse"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/trx"
)

// Format names returned by Detect.
const (
	fmtGzip     = "gzip"
	fmtXz       = "xz"
	fmtBzip2    = "bzip2"
	fmtZstd     = "zstd"
	fmtLz4      = "lz4"
	fmtLzma     = "lzma"
	fmtSquashfs = "squashfs"
	fmtCpio     = "cpio"
	fmtUImage   = "uimage"
	fmtTar      = "tar"
	fmtExt      = "ext"
	fmtISO9660  = "iso9660"
	fmtFAT      = "fat"
)

// uImageMagic is the legacy U-Boot image header magic (big-endian).
const uImageMagic = 0x27051956

// Detect names the firmware/container format that starts at offset 0 of
// head (at least 64 KiB when available): "gzip", "xz", "bzip2", "zstd",
// "lz4", "lzma" (legacy .lzma, only with a sane header), "squashfs" (v4,
// "hsqs" little-endian or "sqsh" big-endian), "cpio" (newc, crc, odc and
// old binary in either byte order), "uimage" (legacy U-Boot header), "ext"
// (ext2/3/4 superblock magic 0xEF53 at 1080 with sane geometry), "iso9660"
// ("CD001" at 0x8001), "fat" (FAT12/16/32 boot sector with its
// filesystem-type text), or "" when none. Tar is not reported here; see isTar.
func Detect(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b, 0x08}):
		return fmtGzip
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}):
		return fmtXz
	case isBzip2(head):
		return fmtBzip2
	case bytes.HasPrefix(head, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		return fmtZstd
	case bytes.HasPrefix(head, []byte{0x04, 0x22, 0x4d, 0x18}):
		return fmtLz4
	case isSquashfs(head):
		return fmtSquashfs
	case isCpio(head):
		return fmtCpio
	case len(head) >= uImageHeaderSize && binary.BigEndian.Uint32(head) == uImageMagic:
		return fmtUImage
	case isExt(head):
		return fmtExt
	case isISO9660(head):
		return fmtISO9660
	case fatKind(head) != "":
		return fmtFAT
	case cramfsOffset(head) >= 0:
		return fmtCramfs
	case isJFFS2(head):
		return fmtJFFS2
	case isUBI(head):
		return fmtUBI
	case isUBIFS(head):
		return fmtUBIFS
	case fit.Is(head):
		return fmtFIT
	case trx.Is(head):
		return fmtTRX
	case sparse.Is(head):
		return fmtSparse
	case rpmpkg.Is(head):
		return fmtRPM
	case arfile.Is(head):
		return fmtAr
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return fmtZip
	case bytes.HasPrefix(head, []byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}):
		return fmt7z
	case isLzma(head):
		return fmtLzma
	}
	return ""
}

func isBzip2(h []byte) bool {
	if len(h) < 10 || !bytes.HasPrefix(h, []byte("BZh")) || h[3] < '1' || h[3] > '9' {
		return false
	}
	return bytes.Equal(h[4:10], []byte{0x31, 0x41, 0x59, 0x26, 0x53, 0x59}) || // block
		bytes.Equal(h[4:10], []byte{0x17, 0x72, 0x45, 0x38, 0x50, 0x90}) // empty stream
}

// isSquashfs accepts a version 4 superblock in either byte order.
func isSquashfs(h []byte) bool {
	if len(h) < squashfsSuperblockSize {
		return false
	}
	switch string(h[:4]) {
	case "hsqs":
		return binary.LittleEndian.Uint16(h[28:]) == 4
	case "sqsh":
		return binary.BigEndian.Uint16(h[28:]) == 4
	}
	return false
}

func isCpio(h []byte) bool {
	if len(h) >= 6 {
		switch string(h[:6]) {
		case "070701", "070702", "070707":
			return true
		}
	}
	// Old binary: a 26-byte header of 16-bit words, magic 070707 octal.
	if len(h) < binHeaderSize+2 {
		return false
	}
	var bo binary.ByteOrder
	switch {
	case h[0] == 0xc7 && h[1] == 0x71:
		bo = binary.LittleEndian
	case h[0] == 0x71 && h[1] == 0xc7:
		bo = binary.BigEndian
	default:
		return false
	}
	n := int(bo.Uint16(h[20:]))
	if n < 2 || n > maxNameSize || binHeaderSize+n > len(h) {
		return false
	}
	return h[binHeaderSize+n-1] == 0 // the name is NUL-terminated
}

// isLzma accepts a legacy LZMA-alone header: properties byte, dictionary
// size, uncompressed size (or -1 for unknown).
func isLzma(h []byte) bool {
	if len(h) < 14 || h[0] >= 9*5*5 {
		return false
	}
	dict := binary.LittleEndian.Uint32(h[1:])
	if dict < 1<<12 || dict > maxLzmaDict {
		return false
	}
	// A dictionary size is 2^n or 2^n+2^(n-1) in every encoder we know.
	if dict&(dict-1) != 0 {
		d := dict / 3
		if dict%3 != 0 || d&(d-1) != 0 {
			return false
		}
	}
	size := binary.LittleEndian.Uint64(h[5:])
	return size == ^uint64(0) || size < 1<<40
}

// isTar reports whether head starts with a tar header: a "ustar" magic or
// a valid header checksum.
func isTar(h []byte) bool {
	if len(h) < 512 {
		return false
	}
	if bytes.Equal(h[257:262], []byte("ustar")) {
		return true
	}
	var sum int64
	for i, b := range h[:512] {
		if i >= 148 && i < 156 {
			b = ' '
		}
		sum += int64(b)
	}
	want, ok := parseOctal(h[148:156])
	return ok && h[0] != 0 && want == sum
}

// parseOctal parses a NUL/space padded octal field.
func parseOctal(b []byte) (int64, bool) {
	b = bytes.Trim(b, " \x00")
	if len(b) == 0 || len(b) > 22 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '7' {
			return 0, false
		}
		v = v<<3 | int64(c-'0')
	}
	return v, true
}

// Nested reports whether a file inside a scanned tree, whose first bytes
// are head, is a container worth opening: a format with a strong
// signature (no 2-byte magics, no bare device trees), so that an ordinary
// file is never mistaken for one and reported as a corrupt container.
// A zip is one (an update bundle, an APK with native libraries); whether
// a Java archive is opened is the caller's choice.
func Nested(head []byte) bool {
	if isTar(head) {
		return true
	}
	switch Detect(head) {
	case fmtGzip, fmtXz, fmtBzip2, fmtZstd, fmtSquashfs, fmtCpio, fmtUImage, fmtExt,
		fmtRPM, fmt7z, fmtUBI, fmtCramfs, fmtZip:
		return true
	case fmtAr:
		// A Debian package, not a static library (whose objects are
		// stored as they are, and scanned so in the .a file).
		return PackageExt(head) == ".deb"
	}
	return false
}

// PackageExt is the file extension of a package file whose first bytes
// are head: ".deb" for a Debian or opkg package in an ar archive (not a
// static library), ".ipk" for an opkg package in a tar.gz, ".apk" for an
// Alpine package, ".rpm", else "".
func PackageExt(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("!<arch>\ndebian-binary")):
		return ".deb"
	case Detect(head) == fmtRPM:
		return ".rpm"
	case Detect(head) == fmtGzip:
		switch first := firstTarMember(head); {
		case first == "debian-binary":
			return ".ipk" // opkg, in the tar framing of OpenWrt's ipkg-build
		case first == ".PKGINFO" || strings.HasPrefix(first, ".SIGN."):
			return ".apk" // Alpine
		}
	}
	return ""
}

// firstTarMember names the first member of the tar that the gzip stream
// starting head holds, "" when it holds none.
func firstTarMember(head []byte) string {
	zr, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return ""
	}
	inner := make([]byte, 512)
	n, _ := io.ReadFull(zr, inner)
	if !isTar(inner[:n]) {
		return ""
	}
	name := string(bytes.TrimRight(inner[:100], "\x00"))
	return strings.TrimPrefix(path.Clean("/"+name), "/")
}

// nestedHead is how much of a stream is decompressed to decide whether
// it is a container.
const nestedHead = 3072

// NestedFile reports whether the file r, whose first bytes are head (see
// Nested), is worth opening as a container; see CompressedText.
func NestedFile(head []byte, r io.Reader) bool {
	return CompressedText(head, r, nestedHead) == nil
}

// Text is the content of a compressed document.
type Text struct {
	Format string // of the stream: "gzip", "xz", ...
	Data   []byte
	// More is set when the stream held more than was asked for; Err when
	// it broke off (Data then holds what came before).
	More bool
	Err  error
}

// CompressedText reads the file r, whose first bytes are head (see
// Nested), and returns nil when it is a container worth opening, else the
// text it holds, at most max bytes of it. A compression stream is a
// container when what it holds starts with a container or is binary (an
// executable, a kernel module .ko.xz, signature bases), or when it cannot
// be decompressed (the unpacker then reports it as a gap); else it is a
// document (a gzip'd changelog, manual page or configuration file), whose
// text is returned. So the documentation of a root filesystem is read
// without unpacking it file by file as containers.
func CompressedText(head []byte, r io.Reader, max int64) *Text {
	format := Detect(head)
	if !isCompression(format) {
		if Nested(head) {
			return nil
		}
		return &Text{Err: errors.New("not a compression stream")}
	}
	if format == fmtGzip {
		if t, ok := wholeGzip(r, max); ok {
			return t
		}
	}
	rc, closeFn, err := decompressor(format, r)
	if err != nil {
		return nil
	}
	defer closeFn()
	inner, err := io.ReadAll(io.LimitReader(rc, min(nestedHead, max)))
	if err != nil || !isText(inner) {
		return nil
	}
	rest, err := io.ReadAll(io.LimitReader(rc, max-int64(len(inner))+1))
	t := &Text{Format: format, Data: append(inner, rest...), Err: err}
	if int64(len(t.Data)) > max {
		t.Data, t.More = t.Data[:max], true
	}
	return t
}

// isText reports whether the first bytes a stream decompresses to are a
// document's: no container, no NUL byte.
func isText(inner []byte) bool {
	return !Nested(inner) && bytes.IndexByte(inner, 0) < 0
}

// maxWholeGzip is the largest gzip file read whole into memory to be
// decoded at once rather than as a stream.
const maxWholeGzip = 8 << 20

// wholeGzip decodes a small gzip file r, when r knows its size, in one
// call of inflate.Gzip: about twice as fast as a stream reader, and with
// one allocation, on a system's tens of thousands of manual pages. It
// returns what CompressedText returns and true, or false when the stream
// reader must decide, reading r from its start: r is not a plain gzip
// file (several members, a size over max, damage, which the stream
// reader then reports).
func wholeGzip(r io.Reader, max int64) (*Text, bool) {
	s, ok := r.(interface {
		io.ReaderAt
		Size() int64
	})
	if !ok || s.Size() > maxWholeGzip {
		return nil, false
	}
	src := make([]byte, s.Size())
	if n, err := s.ReadAt(src, 0); n != len(src) || (err != nil && err != io.EOF) {
		return nil, false
	}
	data, ok := inflate.Gzip(src, int(min(max, math.MaxInt32)))
	if !ok {
		return nil, false
	}
	if !isText(data[:min(len(data), nestedHead)]) {
		return nil, true
	}
	return &Text{Format: fmtGzip, Data: data}, true
}
