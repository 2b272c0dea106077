package sqfs

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// ErrXZFilters is returned by NewXZReader for a stream whose first block
// runs filters before LZMA2 (BCJ, delta): the caller reads it with a
// decoder that has them, from the reader NewXZReader returns with the
// error, which still holds every byte.
var ErrXZFilters = errors.New("xz: filters other than LZMA2 alone")

// lzma2MaxChunk is the most one LZMA2 chunk decompresses to.
const lzma2MaxChunk = 2 << 20

// NewXZReader returns a reader of the decompressed content of the xz
// stream read from r: the blocks of one stream, each with its check
// verified (CRC32, CRC64, SHA-256 or none), up to the index, where it
// ends. It decodes with the package's LZMA2 decoder, keeping only the
// dictionary (refused when larger than maxDict) and one chunk in memory.
//
// A stream whose first block uses other filters is refused with
// ErrXZFilters before anything is consumed: the returned io.Reader then
// replays r from the stream's start.
func NewXZReader(r io.Reader, maxDict int64) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(12)
	if err != nil {
		return br, fmt.Errorf("xz: stream header: %w", noEOF(err))
	}
	if string(head[:6]) != string(xzMagic) {
		return br, errors.New("xz: bad stream header")
	}
	if crc32.ChecksumIEEE(head[6:8]) != binary.LittleEndian.Uint32(head[8:12]) {
		return br, errors.New("xz: stream header checksum mismatch")
	}
	if head[6] != 0 || head[7]&0xF0 != 0 {
		return br, errors.New("xz: unsupported stream flags")
	}
	// Check types other than CRC32, CRC64 and SHA-256 are read past,
	// not verified.
	x := &xzReader{br: br, check: head[7] & 0x0F, sum: newXzCheck(head[7] & 0x0F), maxDict: maxDict}
	// The first block header decides, before anything is consumed.
	first, err := br.Peek(13)
	if err != nil {
		return br, fmt.Errorf("xz: truncated: %w", noEOF(err))
	}
	if first[12] != 0 {
		hsize := (int(first[12]) + 1) * 4
		h, err := br.Peek(12 + hsize)
		if err != nil {
			return br, fmt.Errorf("xz: block header truncated: %w", noEOF(err))
		}
		if _, err := parseXZBlockHeader(h[12:], maxDict); err != nil {
			return br, err
		}
	}
	br.Discard(12)
	return x, nil
}

func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseXZBlockHeader reads a block header (size byte to CRC32) of a block
// that runs LZMA2 alone, and returns its dictionary size.
func parseXZBlockHeader(h []byte, maxDict int64) (int64, error) {
	hdr, err := parseXzHeader(h)
	if err != nil {
		return 0, fmt.Errorf("xz: %w", err)
	}
	f := hdr.filters[0]
	if len(hdr.filters) > 1 || f.id != xzFilterLZMA2 {
		return 0, ErrXZFilters
	}
	if len(f.props) != 1 || f.props[0] > 40 {
		return 0, errors.New("xz: bad LZMA2 properties")
	}
	dict := int64(0xFFFFFFFF)
	if b := f.props[0]; b < 40 {
		dict = int64(2|b&1) << (b/2 + 11)
	}
	if dict > maxDict {
		return 0, fmt.Errorf("xz: dictionary of %d bytes over the limit of %d", dict, maxDict)
	}
	return dict, nil
}

// xzReader decodes one xz stream block by block, LZMA2 chunk by chunk,
// into a window holding the dictionary and the chunk being decoded.
type xzReader struct {
	br      *bufio.Reader
	check   byte
	sum     hash.Hash // of the block's content; nil for no check
	maxDict int64

	d                    *lzmaDecoder
	buf                  []byte // the window
	dict                 int    // the block's dictionary size
	out, emit, dictStart int    // in buf: decoded up to, returned up to, dictionary start
	needDict, needProps  bool
	inBlock              bool
	packed               int64 // bytes of the block so far, header included
	src                  []byte
	err                  error // sticky
}

func (x *xzReader) Read(p []byte) (int, error) {
	for x.emit == x.out {
		if x.err != nil {
			return 0, x.err
		}
		x.err = x.step()
	}
	n := copy(p, x.buf[x.emit:x.out])
	x.emit += n
	return n, nil
}

// step decodes the next LZMA2 chunk, or moves to the next block, or ends
// the stream.
func (x *xzReader) step() error {
	if !x.inBlock {
		return x.startBlock()
	}
	c, err := x.br.ReadByte()
	if err != nil {
		return truncated(err)
	}
	x.packed++
	switch {
	case c == 0:
		return x.endBlock()
	case c == 1 || c == 2:
		var sz [2]byte
		if _, err := io.ReadFull(x.br, sz[:]); err != nil {
			return truncated(err)
		}
		n := int(binary.BigEndian.Uint16(sz[:])) + 1
		x.packed += 2 + int64(n)
		if x.d.pending > 0 {
			return errLzmaCorrupt
		}
		x.room(n)
		if c == 1 {
			x.dictStart, x.needDict, x.needProps = x.out, false, true
		} else if x.needDict {
			return errLzmaCorrupt
		}
		if _, err := io.ReadFull(x.br, x.buf[x.out:x.out+n]); err != nil {
			return truncated(err)
		}
		x.produced(n)
		return nil
	case c < 0x80:
		return errLzmaCorrupt
	}
	var h [5]byte
	if _, err := io.ReadFull(x.br, h[:4]); err != nil {
		return truncated(err)
	}
	unpacked := int(c&0x1F)<<16 + int(binary.BigEndian.Uint16(h[0:])) + 1
	packed := int(binary.BigEndian.Uint16(h[2:])) + 1
	x.packed += 4 + int64(packed)
	x.room(unpacked)
	reset := c >> 5 & 3
	if reset == 3 {
		x.dictStart, x.needDict = x.out, false
	} else if x.needDict {
		return errLzmaCorrupt
	}
	if reset >= 2 {
		b, err := x.br.ReadByte()
		if err != nil {
			return truncated(err)
		}
		x.packed++
		if err := x.d.setProps(b, 4); err != nil {
			return err
		}
		x.needProps = false
	} else if x.needProps {
		return errLzmaCorrupt
	}
	if reset >= 1 {
		x.d.reset()
	}
	if cap(x.src) < packed {
		x.src = make([]byte, 64<<10)
	}
	src := x.src[:packed]
	if _, err := io.ReadFull(x.br, src); err != nil {
		return truncated(err)
	}
	if err := x.d.rc.init(src); err != nil {
		return err
	}
	from := x.out
	out, _, err := x.d.decode(x.buf, x.out, x.out+unpacked, x.dictStart, false)
	if err != nil {
		return err
	}
	x.out = from
	x.produced(out - from)
	return nil
}

// room makes space for n more bytes after out, sliding the window so that
// the last dict bytes stay. The slide keeps the position since the
// dictionary's start the same modulo 16, which the decoder's literal and
// position contexts use (pb, lp <= 4).
func (x *xzReader) room(n int) {
	if x.out+n <= len(x.buf) {
		return
	}
	if full := x.dict + lzma2MaxChunk + 16; len(x.buf) < full {
		// Grow toward the full window as the output needs it, so that a
		// small stream with a large dictionary stays small.
		grown := make([]byte, min(max(2*len(x.buf), x.out+n, 1<<20), full))
		copy(grown, x.buf[:x.out])
		x.buf = grown
		if x.out+n <= len(x.buf) {
			return
		}
	}
	s := x.out - x.dict
	s -= ((s-x.dictStart)%16 + 16) % 16
	if s <= 0 {
		return // cannot happen: the window holds dict + a chunk + 16
	}
	copy(x.buf, x.buf[s:x.out])
	x.out -= s
	x.emit -= s
	x.dictStart -= s
	if x.dictStart < 0 {
		// The whole window is dictionary; the shift is a multiple of 16
		// from the true start.
		x.dictStart = 0
	}
}

// produced records n decoded bytes at out in the block's check.
func (x *xzReader) produced(n int) {
	if x.sum != nil {
		x.sum.Write(x.buf[x.out : x.out+n])
	}
	x.out += n
}

// startBlock reads the next block header, or ends the stream at the index.
func (x *xzReader) startBlock() error {
	b, err := x.br.Peek(1)
	if err != nil {
		return truncated(err)
	}
	if b[0] == 0 { // index indicator: the stream's blocks are done
		return io.EOF
	}
	hsize := (int(b[0]) + 1) * 4
	h := make([]byte, hsize)
	if _, err := io.ReadFull(x.br, h); err != nil {
		return truncated(err)
	}
	dict, err := parseXZBlockHeader(h, x.maxDict)
	if err != nil {
		return err
	}
	// The window: the dictionary, one chunk, and the slide's rounding.
	// The dictionary cannot hold more than the block will produce, but
	// that is not known ahead; grow to the need instead of allocating a
	// large dictionary for a small stream.
	x.dict = int(dict)
	if x.d == nil {
		x.d = new(lzmaDecoder)
	}
	x.d.pending = 0
	x.out, x.emit, x.dictStart = 0, 0, 0
	x.needDict, x.needProps = true, true
	x.packed = int64(hsize)
	if x.sum != nil {
		x.sum.Reset()
	}
	x.inBlock = true
	return nil
}

// endBlock reads the block padding and check after the end of its LZMA2
// data.
func (x *xzReader) endBlock() error {
	if x.d.pending > 0 {
		return errLzmaCorrupt
	}
	if pad := (4 - x.packed%4) % 4; pad > 0 {
		z := make([]byte, pad)
		if _, err := io.ReadFull(x.br, z); err != nil {
			return truncated(err)
		}
		for _, b := range z {
			if b != 0 {
				return errors.New("xz: block padding not zero")
			}
		}
	}
	want := make([]byte, xzCheckSize(x.check))
	if _, err := io.ReadFull(x.br, want); err != nil {
		return truncated(err)
	}
	if x.sum != nil && !xzCheckMatches(x.check, x.sum, want) {
		return errors.New("xz: block check mismatch")
	}
	x.inBlock = false
	return nil
}

func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errLzmaTruncated
	}
	return err
}
