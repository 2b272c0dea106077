package firmware

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"sort"
)

// candidate is a format found at an offset of a region.
type candidate struct {
	off    int64
	format string
	carved bool // found by searching, not at the start of the region
}

// magic is a byte string that marks a format, delta bytes after its start.
type magic struct {
	b      []byte
	delta  int64
	format string
}

// carveMagics are the formats searched for inside a region. Formats with
// no distinctive magic (lzma, FAT) are only recognised at a region's start.
var carveMagics = []magic{
	{[]byte("hsqs"), 0, fmtSquashfs},
	{[]byte("sqsh"), 0, fmtSquashfs},
	{[]byte{0x27, 0x05, 0x19, 0x56}, 0, fmtUImage},
	{[]byte{0x1f, 0x8b, 0x08}, 0, fmtGzip},
	{[]byte{0xfd, '7', 'z', 'X', 'Z', 0x00}, 0, fmtXz},
	{[]byte{0x28, 0xb5, 0x2f, 0xfd}, 0, fmtZstd},
	{[]byte("BZh"), 0, fmtBzip2},
	{[]byte{0x04, 0x22, 0x4d, 0x18}, 0, fmtLz4},
	{[]byte("0707"), 0, fmtCpio},
	{[]byte("ustar"), 257, fmtTar},
	{[]byte{0x53, 0xef}, extMagicOff, fmtExt},
	{[]byte("CD001"), isoMagicOff, fmtISO9660},
	{[]byte{0xd0, 0x0d, 0xfe, 0xed}, 0, fmtFIT},
	{[]byte("HDR0"), 0, fmtTRX},
	{[]byte{0x3a, 0xff, 0x26, 0xed}, 0, fmtSparse},
	{[]byte{0xed, 0xab, 0xee, 0xdb}, 0, fmtRPM},
	{[]byte("!<arch>\n"), 0, fmtAr},
	{[]byte("PK\x03\x04"), 0, fmtZip},
	{[]byte{'7', 'z', 0xbc, 0xaf, 0x27, 0x1c}, 0, fmt7z},
	{[]byte("UBI#"), 0, fmtUBI},
	{[]byte("Compressed ROMFS"), 16, fmtCramfs},
	{[]byte{0x85, 0x19}, 0, fmtJFFS2},
	{[]byte{0x19, 0x85}, 0, fmtJFFS2},
	{[]byte{0x31, 0x18, 0x10, 0x06}, 0, fmtUBIFS},
}

// maxDelta is the largest magic delta; carveWindow the stride of a search.
const (
	maxDelta    = isoMagicOff
	carveWindow = 4 << 20
)

// nextCandidate finds the first validated format starting in [pos, end)
// of f. atStart also accepts formats recognised only at a region's start.
func (u *unpacker) nextCandidate(f *os.File, pos, end int64, atStart bool) (candidate, bool) {
	if atStart {
		head := readAtMost(f, pos, min(end-pos, headSize))
		if format := Detect(head); format != "" {
			return candidate{off: pos, format: format}, true
		}
		if isTar(head) {
			return candidate{off: pos, format: fmtTar}, true
		}
	}
	buf := make([]byte, min(carveWindow, end-pos)+maxDelta+16)
	for ws := pos; ws < end; ws += carveWindow {
		if u.ctx.Err() != nil {
			return candidate{}, false
		}
		n, _ := f.ReadAt(buf[:min(int64(len(buf)), end-ws)], ws)
		win := buf[:n]
		var starts []candidate
		for _, m := range carveMagics {
			for i := int(m.delta); i+len(m.b) <= len(win); {
				j := bytes.Index(win[i:], m.b)
				if j < 0 {
					break
				}
				i += j
				start := ws + int64(i) - m.delta
				if start >= ws+carveWindow {
					break // the next window's
				}
				if start > pos || (start == pos && !atStart) {
					starts = append(starts, candidate{off: start, format: m.format, carved: true})
				}
				i++
			}
		}
		sort.SliceStable(starts, func(a, b int) bool { return starts[a].off < starts[b].off })
		for _, c := range starts {
			if u.valid(f, c, end) {
				return c, true
			}
		}
	}
	return candidate{}, false
}

// valid checks a carved candidate before it is opened: the format's own
// header checks, and for compression streams that the first bytes
// decompress.
func (u *unpacker) valid(f *os.File, c candidate, end int64) bool {
	head := readAtMost(f, c.off, min(end-c.off, headSize))
	got := Detect(head)
	if got == "" && isTar(head) {
		got = fmtTar
	}
	if got != c.format {
		return false
	}
	switch c.format {
	case fmtGzip:
		// Reserved flag bits are zero in every real stream.
		if len(head) < 10 || head[3]&0xe0 != 0 {
			return false
		}
	case fmtXz:
		// The stream flags are protected by a CRC32.
		if len(head) < 12 || binary.LittleEndian.Uint32(head[8:]) != crc32.ChecksumIEEE(head[6:8]) {
			return false
		}
	case fmtUImage:
		if _, err := parseUImage(f, c.off, end-c.off); err != nil {
			return false
		}
		return true
	case fmtSquashfs:
		_, err := squashfsExtent(head, end-c.off)
		return err == nil || errors.As(err, new(errBigEndian))
	case fmtCpio:
		return validCpio(head)
	}
	if isCompression(c.format) {
		return decompresses(c.format, io.NewSectionReader(f, c.off, end-c.off))
	}
	return true
}

// decompresses reports whether the first bytes of a stream decompress.
func decompresses(format string, r io.Reader) bool {
	dr, closeFn, err := decompressor(format, r)
	if err != nil {
		return false
	}
	defer closeFn()
	var b [512]byte
	n, err := io.ReadFull(dr, b[:])
	return n > 0 && (err == nil || err == io.ErrUnexpectedEOF || err == io.EOF)
}

// validCpio checks that a carved ASCII cpio header has hexadecimal (or
// octal) fields and a NUL-terminated name.
func validCpio(h []byte) bool {
	c := newCpioReader(bytes.NewReader(h))
	hd, err := c.next()
	return err == nil && hd.name != ""
}

// squashfsExtent returns the bytes a squashfs image spans (its
// bytes_used), checking the superblock; size is what is available.
func squashfsExtent(head []byte, size int64) (int64, error) {
	sb, err := parseSuperblock(head)
	if err != nil {
		if errors.As(err, new(errBigEndian)) && len(head) >= 48 {
			if n := int64(binary.BigEndian.Uint64(head[40:])); n >= squashfsSuperblockSize && n <= size {
				return n, err
			}
			return size, err
		}
		return 0, err
	}
	if sb.bytesUsed < squashfsSuperblockSize || sb.bytesUsed > uint64(size) {
		return size, nil
	}
	return int64(sb.bytesUsed), nil
}

// diskExtent returns the bytes a disk filesystem image spans according to
// its superblock, or 0 when unknown.
func diskExtent(format string, h []byte) int64 {
	le := binary.LittleEndian
	switch format {
	case fmtExt:
		if len(h) < extSuperblockOff+0x160 {
			return 0
		}
		sb := h[extSuperblockOff:]
		blocks := int64(le.Uint32(sb[4:]))
		const incompat64bit = 0x80
		if le.Uint32(sb[0x60:])&incompat64bit != 0 {
			blocks |= int64(le.Uint32(sb[0x150:])) << 32
		}
		return blocks << (10 + le.Uint32(sb[24:]))
	case fmtISO9660:
		if len(h) < 0x8082 {
			return 0
		}
		return int64(le.Uint32(h[0x8050:])) * int64(le.Uint16(h[0x8080:]))
	case fmtFAT:
		sectors := int64(le.Uint16(h[19:]))
		if sectors == 0 {
			sectors = int64(le.Uint32(h[32:]))
		}
		return sectors * int64(le.Uint16(h[11:]))
	}
	return 0
}

// spans is a set of byte ranges.
type spans [][2]int64

func (s *spans) add(from, to int64) {
	if to > from {
		*s = append(*s, [2]int64{from, to})
	}
}

// merged returns the ranges sorted and joined.
func (s spans) merged() spans {
	c := append(spans(nil), s...)
	sort.Slice(c, func(a, b int) bool { return c[a][0] < c[b][0] })
	var out spans
	for _, r := range c {
		if n := len(out); n > 0 && r[0] <= out[n-1][1] {
			out[n-1][1] = max(out[n-1][1], r[1])
			continue
		}
		out = append(out, r)
	}
	return out
}

// total returns the bytes the set covers.
func (s spans) total() int64 {
	var n int64
	for _, r := range s.merged() {
		n += r[1] - r[0]
	}
	return n
}

// minus returns the bytes of s not in o.
func (s spans) minus(o spans) int64 {
	all := append(append(spans(nil), s...), o...)
	return all.total() - o.total()
}
