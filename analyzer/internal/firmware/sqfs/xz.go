package sqfs

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"slices"
)

// xzDecompressor reads xz streams. It parses the xz container itself so that
// blocks with BCJ or delta filters before LZMA2 (mksquashfs -Xbcj) can be
// decoded: LZMA2 decodes into the output (lzma2Decode), then the filters run
// backwards over it.
type xzDecompressor struct{}

// xz filter ids.
const (
	xzFilterDelta    = 0x03
	xzFilterX86      = 0x04
	xzFilterPowerPC  = 0x05
	xzFilterIA64     = 0x06
	xzFilterARM      = 0x07
	xzFilterARMThumb = 0x08
	xzFilterSPARC    = 0x09
	xzFilterARM64    = 0x0A
	xzFilterRISCV    = 0x0B
	xzFilterLZMA2    = 0x21
)

var xzMagic = []byte{0xFD, '7', 'z', 'X', 'Z', 0x00}

var crc64Table = crc64.MakeTable(crc64.ECMA)

// xzFilter is one non-LZMA2 filter of a block.
type xzFilter struct {
	id    uint64
	start uint32 // BCJ start offset
	dist  int    // delta distance
}

func (xzDecompressor) decompress(dst, src []byte) (int, error) {
	n, err := xzDecode(dst, src)
	if err != nil && err != errTooLarge {
		err = fmt.Errorf("xz: %w", err)
	}
	return n, err
}

// xzDecode decodes the xz stream in src into dst. It reads every block up
// to the index; the index and footer are not checked.
func xzDecode(dst, src []byte) (int, error) {
	if len(src) < 12 || !bytes.Equal(src[:6], xzMagic) {
		return 0, errors.New("bad stream header")
	}
	if crc32.ChecksumIEEE(src[6:8]) != binary.LittleEndian.Uint32(src[8:12]) {
		return 0, errors.New("stream header checksum mismatch")
	}
	if src[6] != 0 || src[7]&0xF0 != 0 {
		return 0, errors.New("unsupported stream flags")
	}
	check := src[7] & 0x0F
	pos, out := 12, 0
	for {
		if pos >= len(src) {
			return out, errors.New("stream truncated")
		}
		if src[pos] == 0 { // index indicator: no more blocks
			return out, nil
		}
		n, next, err := xzBlock(dst[out:], src, pos, check)
		if err != nil {
			return out, err
		}
		out += n
		pos = next
	}
}

// xzBlock decodes the block whose header starts at src[pos] into dst. It
// returns the output length and the position after the block's check.
func xzBlock(dst, src []byte, pos int, check byte) (int, int, error) {
	hsize := (int(src[pos]) + 1) * 4
	if pos+hsize > len(src) {
		return 0, 0, errors.New("block header truncated")
	}
	hdr, err := parseXzHeader(src[pos : pos+hsize])
	if err != nil {
		return 0, 0, err
	}
	compSize, size := hdr.compSize, hdr.size
	if size != ^uint64(0) && size > uint64(len(dst)) {
		return 0, 0, errTooLarge
	}
	var filters []xzFilter
	for i, f := range hdr.filters {
		if i == len(hdr.filters)-1 {
			if f.id != xzFilterLZMA2 || len(f.props) != 1 {
				return 0, 0, fmt.Errorf("last filter is %#x, not LZMA2", f.id)
			}
			if f.props[0] > 40 {
				return 0, 0, errors.New("bad LZMA2 dictionary size")
			}
			continue
		}
		fl, err := parseXzFilter(f.id, f.props)
		if err != nil {
			return 0, 0, err
		}
		filters = append(filters, fl)
	}

	start := pos + hsize
	n, used, err := lzma2Decode(dst, src[start:])
	if err != nil {
		return 0, 0, err
	}
	if size != ^uint64(0) && uint64(n) != size {
		return 0, 0, fmt.Errorf("block decoded to %d bytes, header says %d", n, size)
	}
	end := start + used
	if compSize != 0 && uint64(used) != compSize {
		return 0, 0, errors.New("compressed size mismatch")
	}
	for end%4 != 0 { // block padding, aligned like the stream start
		if end >= len(src) || src[end] != 0 {
			return 0, 0, errors.New("bad block padding")
		}
		end++
	}
	out := dst[:n]
	for i := len(filters) - 1; i >= 0; i-- {
		filters[i].decode(out)
	}
	csize := xzCheckSize(check)
	if end+csize > len(src) {
		return 0, 0, errors.New("block check truncated")
	}
	if !xzCheckOK(check, out, src[end:end+csize]) {
		return 0, 0, errors.New("block check mismatch")
	}
	return n, end + csize, nil
}

// xzHeader is what a block header holds: the optional sizes and the
// filter chain, LZMA2 last.
type xzHeader struct {
	compSize, size uint64 // 0 and ^0 when absent
	filters        []xzFilterFlags
}

// xzFilterFlags is one filter of a block header, its properties unread.
type xzFilterFlags struct {
	id    uint64
	props []byte
}

// parseXzHeader checks the block header h (from its size byte to its
// CRC32) and reads its fields.
func parseXzHeader(h []byte) (xzHeader, error) {
	hdr := xzHeader{size: ^uint64(0)}
	hsize := len(h)
	if crc32.ChecksumIEEE(h[:hsize-4]) != binary.LittleEndian.Uint32(h[hsize-4:]) {
		return hdr, errors.New("block header checksum mismatch")
	}
	flags := h[1]
	if flags&0x3C != 0 {
		return hdr, errors.New("reserved block flags set")
	}
	p := h[2 : hsize-4]
	var err error
	if flags&0x40 != 0 {
		if hdr.compSize, p, err = xzVLI(p); err != nil {
			return hdr, err
		}
	}
	if flags&0x80 != 0 {
		if hdr.size, p, err = xzVLI(p); err != nil {
			return hdr, err
		}
	}
	for range int(flags&3) + 1 {
		var id, psize uint64
		if id, p, err = xzVLI(p); err != nil {
			return hdr, err
		}
		if psize, p, err = xzVLI(p); err != nil {
			return hdr, err
		}
		if psize > uint64(len(p)) {
			return hdr, errors.New("filter properties truncated")
		}
		hdr.filters = append(hdr.filters, xzFilterFlags{id: id, props: p[:psize]})
		p = p[psize:]
	}
	for _, b := range p {
		if b != 0 {
			return hdr, errors.New("block header padding not zero")
		}
	}
	return hdr, nil
}

// newXzCheck returns the hash of a block check type (CRC32, CRC64,
// SHA-256), nil for none and for types that are read past unverified.
func newXzCheck(t byte) hash.Hash {
	switch t {
	case 0x01:
		return crc32.NewIEEE()
	case 0x04:
		return crc64.New(crc64Table)
	case 0x0A:
		return sha256.New()
	}
	return nil
}

// xzCheckMatches compares a block's check field with the hash of its
// content; CRC32 and CRC64 are stored little-endian.
func xzCheckMatches(t byte, sum hash.Hash, want []byte) bool {
	got := sum.Sum(nil)
	if t == 0x01 || t == 0x04 {
		slices.Reverse(got)
	}
	return bytes.Equal(got, want)
}

// parseXzFilter reads the properties of a BCJ or delta filter.
func parseXzFilter(id uint64, props []byte) (xzFilter, error) {
	f := xzFilter{id: id}
	switch id {
	case xzFilterDelta:
		if len(props) != 1 {
			return f, errors.New("bad delta filter properties")
		}
		f.dist = int(props[0]) + 1
	case xzFilterX86, xzFilterPowerPC, xzFilterIA64, xzFilterARM, xzFilterARMThumb, xzFilterSPARC, xzFilterARM64:
		switch len(props) {
		case 0:
		case 4:
			f.start = binary.LittleEndian.Uint32(props)
		default:
			return f, fmt.Errorf("bad BCJ filter %#x properties", id)
		}
	case xzFilterRISCV:
		return f, errors.New("RISC-V BCJ filter not supported")
	default:
		return f, fmt.Errorf("unsupported filter %#x", id)
	}
	return f, nil
}

// decode undoes the filter over buf, a whole block's output.
func (f xzFilter) decode(buf []byte) {
	switch f.id {
	case xzFilterDelta:
		for i := f.dist; i < len(buf); i++ {
			buf[i] += buf[i-f.dist]
		}
	case xzFilterX86:
		bcjX86(buf, f.start)
	case xzFilterPowerPC:
		bcjPowerPC(buf, f.start)
	case xzFilterIA64:
		bcjIA64(buf, f.start)
	case xzFilterARM:
		bcjARM(buf, f.start)
	case xzFilterARMThumb:
		bcjARMThumb(buf, f.start)
	case xzFilterSPARC:
		bcjSPARC(buf, f.start)
	case xzFilterARM64:
		bcjARM64(buf, f.start)
	}
}

// xzVLI reads a variable-length integer: 7 bits per byte, low first, at
// most 9 bytes.
func xzVLI(p []byte) (uint64, []byte, error) {
	var v uint64
	for i := 0; i < 9 && i < len(p); i++ {
		v |= uint64(p[i]&0x7F) << (7 * i)
		if p[i]&0x80 == 0 {
			if i > 0 && p[i] == 0 {
				return 0, nil, errors.New("non-minimal integer")
			}
			return v, p[i+1:], nil
		}
	}
	return 0, nil, errors.New("bad integer in block header")
}

// xzCheckSize returns the size of a block check of the given type.
func xzCheckSize(t byte) int {
	if t == 0 {
		return 0
	}
	return 4 << ((t - 1) / 3)
}

// xzCheckOK verifies a CRC32, CRC64 or SHA-256 block check; other types
// are not verified.
func xzCheckOK(t byte, data, sum []byte) bool {
	h := newXzCheck(t)
	if h == nil {
		return true
	}
	h.Write(data)
	return xzCheckMatches(t, h, sum)
}
