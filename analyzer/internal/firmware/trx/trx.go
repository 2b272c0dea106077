// Package trx lists the partitions of Broadcom TRX firmware images
// (version 1 with three partition offsets and version 2 with four), the
// wrapper of many Broadcom-based routers' firmware.
//
// The header is little-endian: the magic "HDR0", the image length
// (header included), a CRC-32, a flags/version word and the partition
// offsets (from the start of the header; 0 for an unused slot). A
// partition runs from its offset to the next larger offset, or to the
// image length. The CRC is the IEEE CRC-32 of bytes [12, len) with the
// initial value 0xffffffff and no final complement, that is the
// complement of the standard CRC-32 (crc32.ChecksumIEEE).
//
// Parts describes where the partitions lie; it copies no data. TRX does
// not name its partitions, so they are called "part0" to "part3" after
// their header slot, and Type and Compression are guessed from each
// partition's first bytes.
package trx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Part is one payload inside the container, at [Offset, Offset+Size) of the input.
type Part struct {
	Name         string // "part0" … "part3", after the header slot
	Offset, Size int64
	// Type is "filesystem" for a partition that starts with a squashfs,
	// cramfs, JFFS2 or UBI magic, else "".
	Type string
	// Compression is "gzip", "xz", "lzma", "zstd", "bzip2", "lz4" when the
	// partition starts with that format's header, "none" for a bare
	// filesystem, or "" when unknown.
	Compression string
}

const (
	magic     = "HDR0"
	maxOffset = 4
)

// CRCError reports a TRX image whose stored CRC does not match its
// content. Parts returns it together with the parts, which stay usable:
// the caller records the mismatch and unpacks them anyway.
type CRCError struct {
	Stored, Computed uint32
}

func (e *CRCError) Error() string {
	return fmt.Sprintf("trx: CRC mismatch: header says 0x%08x, content gives 0x%08x", e.Stored, e.Computed)
}

// header is a parsed TRX header.
type header struct {
	length  uint32
	crc     uint32
	version uint16
	offsets []uint32
}

func parseHeader(h []byte) (header, bool) {
	if len(h) < 16 || string(h[:4]) != magic {
		return header{}, false
	}
	le := binary.LittleEndian
	hd := header{length: le.Uint32(h[4:]), crc: le.Uint32(h[8:]), version: le.Uint16(h[14:])}
	n := 0
	switch hd.version {
	case 1:
		n = 3
	case 2:
		n = 4
	default:
		return header{}, false
	}
	if len(h) < headerSize(n) || hd.length < uint32(headerSize(n)) {
		return header{}, false
	}
	for i := range n {
		hd.offsets = append(hd.offsets, le.Uint32(h[16+4*i:]))
	}
	return hd, true
}

// headerSize returns the length of a header with n offsets.
func headerSize(n int) int { return 16 + 4*n }

// Is reports whether head starts with a TRX v1 or v2 header whose length
// covers at least the header.
func Is(head []byte) bool {
	_, ok := parseHeader(head)
	return ok
}

// Parts lists the partitions of the TRX image in r[0:size), in header
// slot order. It fails when the input is not a TRX image. A partition
// offset that points into the header or past the image length, or repeats
// another, is left out and reported. An image longer than the input is
// reported, and its partitions are clipped to the input (its CRC is then
// not checked). A CRC mismatch is reported as a *CRCError. In every case
// the partitions that could be placed are returned with the error
// (errors.Join of all problems).
func Parts(r io.ReaderAt, size int64) ([]Part, error) {
	head := make([]byte, max(0, min(size, int64(headerSize(maxOffset)))))
	n, _ := r.ReadAt(head, 0)
	hd, ok := parseHeader(head[:n])
	if !ok {
		return nil, errors.New("trx: not a TRX v1/v2 image")
	}
	hsize := int64(headerSize(len(hd.offsets)))
	length := int64(hd.length)
	var errs []error
	end := length
	if length > size {
		errs = append(errs, fmt.Errorf("trx: image truncated: %d of %d bytes present", size, length))
		end = size
	}
	var parts []Part
	seen := map[uint32]bool{}
	for i, o := range hd.offsets {
		switch {
		case o == 0:
			continue
		case int64(o) < hsize || int64(o) >= length:
			errs = append(errs, fmt.Errorf("trx: part%d offset 0x%x outside [0x%x, 0x%x)", i, o, hsize, length))
			continue
		case seen[o]:
			errs = append(errs, fmt.Errorf("trx: part%d offset 0x%x repeats another part's", i, o))
			continue
		}
		seen[o] = true
		next := length // the next larger offset bounds the partition
		for _, p := range hd.offsets {
			if p > o && int64(p) < next {
				next = int64(p)
			}
		}
		next = min(next, end)
		if int64(o) >= next {
			continue // starts past the end of a truncated input; already reported
		}
		p := Part{Name: fmt.Sprintf("part%d", i), Offset: int64(o), Size: next - int64(o)}
		var b [16]byte
		m, _ := r.ReadAt(b[:min(16, p.Size)], p.Offset)
		p.Type, p.Compression = sniff(b[:m])
		parts = append(parts, p)
	}
	if length <= size {
		got, err := checksum(r, length)
		if err != nil {
			errs = append(errs, fmt.Errorf("trx: computing CRC: %w", err))
		} else if got != hd.crc {
			errs = append(errs, &CRCError{Stored: hd.crc, Computed: got})
		}
	}
	return parts, errors.Join(errs...)
}

// checksum returns the TRX CRC of r[12:length).
func checksum(r io.ReaderAt, length int64) (uint32, error) {
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, io.NewSectionReader(r, 12, length-12)); err != nil {
		return 0, err
	}
	return ^h.Sum32(), nil
}

// sniff guesses a partition's type and compression from its first bytes.
func sniff(b []byte) (typ, comp string) {
	has := func(p string) bool { return bytes.HasPrefix(b, []byte(p)) }
	switch {
	case has("\x1f\x8b"):
		return "", "gzip"
	case has("\xfd7zXZ\x00"):
		return "", "xz"
	case has("\x28\xb5\x2f\xfd"):
		return "", "zstd"
	case has("BZh"):
		return "", "bzip2"
	case has("\x04\x22\x4d\x18"):
		return "", "lz4"
	case has("\x5d\x00\x00"): // LZMA-alone with the usual lc=3 lp=0 pb=2
		return "", "lzma"
	case has("hsqs"), has("sqsh"), has("\x45\x3d\xcd\x28"), has("\x28\xcd\x3d\x45"),
		has("\x85\x19"), has("\x19\x85"), has("UBI#"):
		return "filesystem", "none"
	}
	return "", ""
}
