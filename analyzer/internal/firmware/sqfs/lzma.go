package sqfs

import (
	"encoding/binary"
	"errors"
	"sync"
)

// A whole-buffer LZMA decoder, for LZMA2 (inside xz) and legacy "lzma
// alone" blocks. As with inflate, the output buffer is the dictionary, so
// matches copy straight from it; no allocation happens per block once a
// pooled decoder has its literal tables. The algorithm follows the LZMA
// specification (lzma-specification.txt of the LZMA SDK and the xz file
// format description for LZMA2 chunks).

var (
	errLzmaTruncated = errors.New("lzma: stream truncated")
	errLzmaCorrupt   = errors.New("lzma: corrupt stream")
)

const (
	lzmaStates       = 12
	lzmaEndPosModel  = 14
	lzmaFullDistance = 128
	lzmaProbInit     = 1 << 10 // half of the 11-bit probability range
	lzmaMaxLcLp      = 12      // literal context bits allowed (lc + lp)
)

// rangeDec is the range decoder over one chunk of compressed input.
type rangeDec struct {
	src  []byte
	in   int
	rng  uint32
	code uint32
	over bool // read past the end of src
}

func (r *rangeDec) init(src []byte) error {
	if len(src) < 5 || src[0] != 0 {
		return errLzmaCorrupt
	}
	r.src, r.in, r.over = src, 5, false
	r.rng, r.code = 0xFFFFFFFF, binary.BigEndian.Uint32(src[1:])
	if r.code == r.rng {
		return errLzmaCorrupt
	}
	return nil
}

func (r *rangeDec) normalize() {
	if r.rng < 1<<24 {
		r.shift()
	}
}

// shift takes in the next input byte. Kept out of line so that bit
// inlines.
//
//go:noinline
func (r *rangeDec) shift() {
	r.rng <<= 8
	r.code <<= 8
	if r.in < len(r.src) {
		r.code |= uint32(r.src[r.in])
		r.in++
	} else {
		r.over = true
	}
}

// bit decodes one bit with probability p and adapts p. Small enough to
// inline.
func (r *rangeDec) bit(p *uint16) uint32 {
	if r.rng < 1<<24 {
		r.shift()
	}
	bound := (r.rng >> 11) * uint32(*p)
	if r.code < bound {
		r.rng = bound
		*p += (1<<11 - *p) >> 5
		return 0
	}
	r.rng -= bound
	r.code -= bound
	*p -= *p >> 5
	return 1
}

// fill takes in the next input byte when the range is below 2^24, for the
// loops that keep the coder in locals.
func (r *rangeDec) fill(rng, code uint32) (uint32, uint32) {
	if rng < 1<<24 {
		r.rng, r.code = rng, code
		r.shift()
		return r.rng, r.code
	}
	return rng, code
}

// step decodes one bit with probability p, adapts p and returns the new
// range and code with the bit. It is branch-free, with masks (the compiler
// turns the obvious if-form into a jump), because the bits of literals and
// bit trees are hard to predict: this makes decoding about a third faster.
// zero is all ones when the bit is 0 (code < bound), else 0.
func step(p *uint16, rng, code uint32) (uint32, uint32, uint32) {
	v := uint32(*p)
	bound := rng >> 11 * v
	zero := uint32(int64(uint64(code)-uint64(bound)) >> 63)
	*p = uint16((v+(1<<11-v)>>5)&zero | (v-v>>5)&^zero)
	return bound&zero | (rng-bound)&^zero, code - bound&^zero, zero + 1
}

// direct decodes n bits of probability one half.
func (r *rangeDec) direct(n uint32) uint32 {
	var v uint32
	for ; n > 0; n-- {
		r.normalize()
		r.rng >>= 1
		r.code -= r.rng
		t := 0 - r.code>>31 // all ones when the bit is 0
		r.code += r.rng & t
		v = v<<1 + t + 1
	}
	return v
}

// tree decodes an n-bit symbol, high bit first, with probs[1:1<<n]. It
// keeps the coder in locals: this and literal are the hot loops.
func (r *rangeDec) tree(probs []uint16, n uint) uint32 {
	rng, code := r.rng, r.code
	m := uint32(1)
	for range n {
		rng, code = r.fill(rng, code)
		p := &probs[m&(1<<n-1)]
		var b uint32
		rng, code, b = step(p, rng, code)
		m = m<<1 | b
	}
	r.rng, r.code = rng, code
	return m - 1<<n
}

// literal decodes a literal byte with the 0x300 probabilities of its
// context. After a match (matched), the byte at rep0 guides the first
// bits: while they agree, the probabilities at 0x100 or 0x200 apply; the
// rest decode as a plain literal, in a loop of its own.
func (r *rangeDec) literal(probs []uint16, matched bool, m uint32) byte {
	pr := (*[0x300]uint16)(probs[:0x300])
	rng, code := r.rng, r.code
	sym := uint32(1)
	if matched {
		for sym < 0x100 {
			rng, code = r.fill(rng, code)
			mb := m >> 7 & 1
			m <<= 1
			p := &pr[(1+mb)<<8|sym]
			var b uint32
			rng, code, b = step(p, rng, code)
			sym = sym<<1 | b
			if mb != b {
				break
			}
		}
	}
	for sym < 0x100 {
		rng, code = r.fill(rng, code)
		p := &pr[sym]
		var b uint32
		rng, code, b = step(p, rng, code)
		sym = sym<<1 | b
	}
	r.rng, r.code = rng, code
	return byte(sym)
}

// reverse decodes an n-bit symbol, low bit first, with probs[0:1<<n-1].
func (r *rangeDec) reverse(probs []uint16, n uint32) uint32 {
	rng, code := r.rng, r.code
	m, sym := uint32(1), uint32(0)
	for i := range n {
		rng, code = r.fill(rng, code)
		p := &probs[m-1]
		var b uint32
		rng, code, b = step(p, rng, code)
		m = m<<1 | b
		sym |= b << i
	}
	r.rng, r.code = rng, code
	return sym
}

// lenDecoder decodes match lengths (minus 2).
type lenDecoder struct {
	choice, choice2 uint16
	low, mid        [16][8]uint16
	high            [256]uint16
}

func (l *lenDecoder) reset() {
	l.choice, l.choice2 = lzmaProbInit, lzmaProbInit
	for i := range l.low {
		fill(l.low[i][:])
		fill(l.mid[i][:])
	}
	fill(l.high[:])
}

func (l *lenDecoder) decode(r *rangeDec, posState uint32) uint32 {
	if r.bit(&l.choice) == 0 {
		return r.tree(l.low[posState][:], 3)
	}
	if r.bit(&l.choice2) == 0 {
		return 8 + r.tree(l.mid[posState][:], 3)
	}
	return 16 + r.tree(l.high[:], 8)
}

func fill(p []uint16) {
	for i := range p {
		p[i] = lzmaProbInit
	}
}

// lzmaDecoder holds the LZMA model; pooled.
type lzmaDecoder struct {
	rc         rangeDec
	lc, lp, pb uint32
	literal    []uint16
	isMatch    [lzmaStates << 4]uint16
	isRep      [lzmaStates]uint16
	isRepG0    [lzmaStates]uint16
	isRepG1    [lzmaStates]uint16
	isRepG2    [lzmaStates]uint16
	isRep0Long [lzmaStates << 4]uint16
	posSlot    [4][64]uint16
	posSpecial [lzmaFullDistance - lzmaEndPosModel]uint16
	align      [15]uint16
	matchLen   lenDecoder
	repLen     lenDecoder
	state      uint32
	rep        [4]uint32
	pending    int // bytes of a match cut by the end of an LZMA2 chunk
}

var lzmaDecoders = sync.Pool{New: func() any { return new(lzmaDecoder) }}

// setProps sets lc, lp and pb from the properties byte.
func (d *lzmaDecoder) setProps(b byte, maxLcLp uint32) error {
	if b >= 9*5*5 {
		return errLzmaCorrupt
	}
	lc, lp, pb := uint32(b%9), uint32(b/9%5), uint32(b/45)
	if lc+lp > maxLcLp {
		return errLzmaCorrupt
	}
	d.lc, d.lp, d.pb = lc, lp, pb
	n := 0x300 << (lc + lp)
	if cap(d.literal) < n {
		d.literal = make([]uint16, n)
	}
	d.literal = d.literal[:n]
	return nil
}

// reset sets every probability to one half and the state to its start.
func (d *lzmaDecoder) reset() {
	fill(d.literal)
	fill(d.isMatch[:])
	fill(d.isRep[:])
	fill(d.isRepG0[:])
	fill(d.isRepG1[:])
	fill(d.isRepG2[:])
	fill(d.isRep0Long[:])
	for i := range d.posSlot {
		fill(d.posSlot[i][:])
	}
	fill(d.posSpecial[:])
	fill(d.align[:])
	d.matchLen.reset()
	d.repLen.reset()
	d.state, d.rep, d.pending = 0, [4]uint32{}, 0
}

// literalNext is the state after a literal.
var literalNext = [lzmaStates]uint32{0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 4, 5}

// decode decodes symbols into dst from out up to limit; dictStart is where
// the dictionary began (matches may not reach before it). With allowEnd an
// end marker may stop it early and ended reports it.
func (d *lzmaDecoder) decode(dst []byte, out, limit, dictStart int, allowEnd bool) (int, bool, error) {
	r := &d.rc
	pbMask, lpMask := uint32(1)<<d.pb-1, uint32(1)<<d.lp-1
	for d.pending > 0 && out < limit { // the rest of a match cut by the last chunk
		if int(d.rep[0]) >= out-dictStart {
			return out, false, errLzmaCorrupt
		}
		dst[out] = dst[out-int(d.rep[0])-1]
		out++
		d.pending--
	}
	for out < limit {
		if r.over {
			return out, false, errLzmaTruncated
		}
		pos := uint32(out - dictStart)
		posState := pos & pbMask
		state := d.state
		if r.bit(&d.isMatch[state<<4|posState]) == 0 {
			prev := uint32(0)
			if out > dictStart {
				prev = uint32(dst[out-1])
			}
			ctx := (pos&lpMask)<<d.lc | prev>>(8-d.lc)
			var m uint32
			if state >= 7 {
				if int(d.rep[0]) >= out-dictStart {
					return out, false, errLzmaCorrupt
				}
				m = uint32(dst[out-int(d.rep[0])-1])
			}
			dst[out] = r.literal(d.literal[ctx*0x300:], state >= 7, m)
			out++
			d.state = literalNext[state]
			continue
		}
		var length uint32
		if r.bit(&d.isRep[state]) != 0 {
			if out == dictStart {
				return out, false, errLzmaCorrupt
			}
			if r.bit(&d.isRepG0[state]) == 0 {
				if r.bit(&d.isRep0Long[state<<4|posState]) == 0 {
					// A single byte at rep0.
					if int(d.rep[0]) >= out-dictStart {
						return out, false, errLzmaCorrupt
					}
					if state < 7 {
						d.state = 9
					} else {
						d.state = 11
					}
					dst[out] = dst[out-int(d.rep[0])-1]
					out++
					continue
				}
			} else {
				var dist uint32
				if r.bit(&d.isRepG1[state]) == 0 {
					dist = d.rep[1]
				} else {
					if r.bit(&d.isRepG2[state]) == 0 {
						dist = d.rep[2]
					} else {
						dist = d.rep[3]
						d.rep[3] = d.rep[2]
					}
					d.rep[2] = d.rep[1]
				}
				d.rep[1] = d.rep[0]
				d.rep[0] = dist
			}
			length = d.repLen.decode(r, posState)
			if state < 7 {
				d.state = 8
			} else {
				d.state = 11
			}
		} else {
			d.rep[3], d.rep[2], d.rep[1] = d.rep[2], d.rep[1], d.rep[0]
			length = d.matchLen.decode(r, posState)
			if state < 7 {
				d.state = 7
			} else {
				d.state = 10
			}
			dist := d.distance(min(length, 3))
			if dist == 0xFFFFFFFF { // end marker
				if !allowEnd || r.over {
					return out, false, errLzmaCorrupt
				}
				return out, true, nil
			}
			d.rep[0] = dist
		}
		dist := int(d.rep[0]) + 1
		if dist > out-dictStart {
			return out, false, errLzmaCorrupt
		}
		n := int(length) + 2
		if n > limit-out {
			d.pending = n - (limit - out)
			n = limit - out
		}
		from := out - dist
		if dist >= n {
			copy(dst[out:out+n], dst[from:from+n])
		} else {
			end := out + n
			for p := out; p < end; {
				p += copy(dst[p:end], dst[from:p])
			}
		}
		out += n
	}
	if r.over {
		return out, false, errLzmaTruncated
	}
	return out, false, nil
}

// distance decodes a match distance (minus 1) for a length state.
func (d *lzmaDecoder) distance(lenState uint32) uint32 {
	r := &d.rc
	slot := r.tree(d.posSlot[lenState][:], 6)
	if slot < 4 {
		return slot
	}
	direct := slot>>1 - 1
	dist := (2 | slot&1) << direct
	if slot < lzmaEndPosModel {
		return dist + r.reverse(d.posSpecial[dist-slot:], direct)
	}
	dist += r.direct(direct-4) << 4
	return dist + r.reverse(d.align[:], 4)
}

// lzma2Decode decodes the LZMA2 chunks at the start of src into dst. It
// returns the output length and the input consumed, end chunk included.
func lzma2Decode(dst, src []byte) (int, int, error) {
	d := lzmaDecoders.Get().(*lzmaDecoder)
	defer func() {
		d.rc.src = nil
		lzmaDecoders.Put(d)
	}()
	d.pending = 0 // the pooled decoder may hold another stream's
	pos, out, dictStart := 0, 0, 0
	// As liblzma: the first chunk resets the dictionary, and the first
	// LZMA chunk after a dictionary reset sets new properties.
	needDict, needProps := true, true
	for {
		if pos >= len(src) {
			return out, pos, errLzmaTruncated
		}
		c := src[pos]
		pos++
		switch {
		case c == 0:
			if d.pending > 0 {
				return out, pos, errLzmaCorrupt
			}
			return out, pos, nil
		case c == 1 || c == 2: // uncompressed chunk, with or without a dictionary reset
			if c == 1 {
				dictStart, needDict, needProps = out, false, true
			} else if needDict {
				return out, pos, errLzmaCorrupt
			}
			if pos+2 > len(src) {
				return out, pos, errLzmaTruncated
			}
			n := int(binary.BigEndian.Uint16(src[pos:])) + 1
			pos += 2
			if pos+n > len(src) {
				return out, pos, errLzmaTruncated
			}
			if n > len(dst)-out {
				return out, pos, errTooLarge
			}
			if d.pending > 0 {
				return out, pos, errLzmaCorrupt
			}
			copy(dst[out:], src[pos:pos+n])
			out += n
			pos += n
			continue
		case c < 0x80:
			return out, pos, errLzmaCorrupt
		}
		if pos+4 > len(src) {
			return out, pos, errLzmaTruncated
		}
		unpacked := int(c&0x1F)<<16 + int(binary.BigEndian.Uint16(src[pos:])) + 1
		packed := int(binary.BigEndian.Uint16(src[pos+2:])) + 1
		pos += 4
		reset := c >> 5 & 3
		if reset == 3 {
			dictStart, needDict = out, false
		} else if needDict {
			return out, pos, errLzmaCorrupt
		}
		if reset >= 2 {
			if pos >= len(src) {
				return out, pos, errLzmaTruncated
			}
			if err := d.setProps(src[pos], 4); err != nil {
				return out, pos, err
			}
			pos++
			needProps = false
		} else if needProps {
			return out, pos, errLzmaCorrupt
		}
		if reset >= 1 {
			d.reset()
		}
		if pos+packed > len(src) {
			return out, pos, errLzmaTruncated
		}
		if unpacked > len(dst)-out {
			return out, pos, errTooLarge
		}
		if err := d.rc.init(src[pos : pos+packed]); err != nil {
			return out, pos, err
		}
		var err error
		if out, _, err = d.decode(dst, out, out+unpacked, dictStart, false); err != nil {
			return out, pos, err
		}
		pos += packed
	}
}

// lzmaAloneDecode decodes a legacy .lzma stream: a 13-byte header
// (properties, dictionary size, uncompressed size or all ones for
// "unknown, end marker follows") and one LZMA stream.
func lzmaAloneDecode(dst, src []byte) (int, error) {
	if len(src) < 13 {
		return 0, errLzmaTruncated
	}
	d := lzmaDecoders.Get().(*lzmaDecoder)
	defer func() {
		d.rc.src = nil
		lzmaDecoders.Put(d)
	}()
	if err := d.setProps(src[0], lzmaMaxLcLp); err != nil {
		return 0, err
	}
	d.reset()
	size := binary.LittleEndian.Uint64(src[5:])
	limit := len(dst)
	if size != ^uint64(0) {
		if size > uint64(len(dst)) {
			return 0, errTooLarge
		}
		limit = int(size)
	}
	if err := d.rc.init(src[13:]); err != nil {
		return 0, err
	}
	out, ended, err := d.decode(dst, 0, limit, 0, true)
	if err != nil {
		return out, err
	}
	if size == ^uint64(0) && !ended {
		return out, errTooLarge // no end marker within the room given
	}
	if size != ^uint64(0) && out != limit {
		return out, errLzmaCorrupt
	}
	return out, nil
}
