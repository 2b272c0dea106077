package content

import (
	"encoding/binary"
	"io"
)

// ChunkSize is how many bytes [Scanner.Scan] reads before scanning them. A
// Scanner's buffer holds one chunk plus the longest pattern length (at most
// [MaxPatternLen]+1 bytes). Besides it, a scan only keeps the matches that
// wait to be reported in order: those starting within the last
// [MaxPatternLen] bytes scanned, so memory does not grow with the stream.
const ChunkSize = 256 << 10

// Match is one occurrence of a pattern.
type Match struct {
	// ID is the ID of the Pattern that matched.
	ID int
	// Offset is the stream offset of the match's first byte.
	Offset int64
}

// Scan reads r to EOF and calls fn for every match: every occurrence of
// every pattern, overlapping ones included, in stream order (by Offset, then
// by the pattern's position in the slice given to [Compile]). A match is
// reported once no match at a smaller offset can still turn up, that is a
// little (at most [MaxPatternLen] bytes) behind the bytes scanned. Scan stops
// early, with a nil error, as soon as fn returns false; callers wanting a
// few hits per pattern count in fn and return false when done.
//
// Scan reads in chunks of [ChunkSize] bytes into a buffer taken from a pool
// owned by m, so memory is bounded independently of the stream's length, and
// concurrent Scans on one Matcher are safe. It returns the number of bytes
// read from r (after an early stop, possibly a chunk past the last match)
// and the first read error other than io.EOF; the bytes read before that
// error are scanned as if the stream ended there (a reader that keeps
// returning neither data nor an error fails with io.ErrNoProgress). fn runs
// on the calling goroutine.
func (m *Matcher) Scan(r io.Reader, fn func(Match) bool) (int64, error) {
	sc, _ := m.pool.Get().(*Scanner)
	if sc == nil {
		sc = NewScanner(m)
	}
	n, err := sc.Scan(r, fn)
	m.pool.Put(sc)
	return n, err
}

// ScanBytes reports the matches in b exactly as [Matcher.Scan] would for a
// reader of b, without copying b. It is safe for concurrent use.
func (m *Matcher) ScanBytes(b []byte, fn func(Match) bool) {
	st := state{m: m, fn: fn}
	st.anchor(b, true)
	st.run(b, 0, true)
	st.flush(1<<63 - 1)
}

// Scanner scans streams for a Matcher's patterns, reusing its buffer from
// one stream to the next. A Scanner is not safe for concurrent use; use one
// per goroutine, or [Matcher.Scan], which pools them.
type Scanner struct {
	m     *Matcher
	chunk int // ChunkSize; smaller in tests
	buf   []byte
	st    state
}

// NewScanner returns a Scanner for m. It allocates its buffer, a little more
// than [ChunkSize] bytes, on first use.
func NewScanner(m *Matcher) *Scanner { return &Scanner{m: m, chunk: ChunkSize} }

// Scan is [Matcher.Scan] with the Scanner's buffer.
func (sc *Scanner) Scan(r io.Reader, fn func(Match) bool) (int64, error) {
	m := sc.m
	// keep: bytes carried from one chunk to the next, enough to confirm a
	// match ending at the first new byte, to compare an anchored pattern
	// straddling the boundary, and to look up the pair at the last byte.
	keep := m.maxLen + 1
	if len(sc.buf) != sc.chunk+keep {
		sc.buf = make([]byte, sc.chunk+keep)
	}
	sc.st = state{m: m, fn: fn, pending: sc.st.pending[:0]}
	st := &sc.st
	defer func() { st.fn = nil }() // do not keep the callback alive
	buf := sc.buf
	var total int64
	n, p := 0, 0 // bytes in buf; next position to scan
	for {
		nr, err := fill(r, buf[n:])
		n += nr
		total += int64(nr)
		eof := err != nil
		b := buf[:n]
		st.anchor(b, eof)
		p = st.run(b, p, eof)
		if st.stop {
			return total, nil
		}
		if eof {
			st.flush(1<<63 - 1)
			if err == io.EOF {
				err = nil
			}
			return total, err
		}
		// run leaves at most one byte unscanned (p >= n-1), so the kept
		// tail holds it plus maxLen bytes of history.
		k := min(keep, n)
		copy(buf, buf[n-k:n])
		st.base += int64(n - k)
		p -= n - k
		n = k
	}
}

// fill reads into b until it is full or r fails; io.EOF is returned as is.
func fill(r io.Reader, b []byte) (int, error) {
	n, empty := 0, 0
	for n < len(b) {
		k, err := r.Read(b[n:])
		n += k
		if err != nil {
			return n, err
		}
		if k > 0 {
			empty = 0
		} else if empty++; empty >= 100 {
			return n, io.ErrNoProgress
		}
	}
	return n, nil
}

// pend is a match waiting to be reported in order.
type pend struct {
	off int64
	idx int32
}

// state is one scan in progress.
type state struct {
	m       *Matcher
	fn      func(Match) bool
	s       int32 // DFA state, pre-multiplied by the stride
	base    int64 // stream offset of b[0] in the current buffer
	pending []pend
	ai      int // m.anchored[ai:] are not checked yet
	stop    bool
}

// run scans b from position p with the automaton in state st.s, and returns
// the position where the next buffer must resume: len(b), or len(b)-1 when
// the pair at the last byte could not be looked up yet. At eof it scans b to
// its end. b[p-1] and, while the DFA is deeper than the root, the bytes the
// current state stands for, must be in b.
func (st *state) run(b []byte, p int, eof bool) int {
	m := st.m
	s := st.s
	trans := m.trans
	cls := &m.classes
	shallowEnd, specialEnd := m.shallowEnd, m.specialEnd
	for {
		if s < shallowEnd {
			// Depth 0 or 1: the only match that might be in progress
			// starts at p-1 (depth 1), and only if the pair there is marked.
			if s != 0 {
				if p >= len(b) {
					if eof {
						s = 0
					}
					st.s = s
					return p
				}
				if m.pair[uint16(b[p-1])|uint16(b[p])<<8] != 0 {
					goto dfa
				}
			}
			c := m.next(b, p)
			if c < 0 {
				last := len(b) - 1
				if !eof {
					st.s = 0
					p = max(p, last)
					st.flush(st.base + int64(p))
					return p
				}
				if p > last || !m.one[b[last]] {
					st.s = 0
					return len(b)
				}
				c = last
			}
			s, p = 0, c
			if len(st.pending) > 0 && st.flush(st.base+int64(p)) {
				return p
			}
		}
	dfa:
		for p < len(b) {
			s = trans[s+int32(cls[b[p]])]
			p++
			if s < specialEnd {
				goto special
			}
		}
		st.s = s
		return p
	special:
		if s >= shallowEnd || s != 0 && s < m.oneEnd {
			if st.report(b, p, s/m.stride) {
				st.s = s
				return p
			}
		}
	}
}

// next returns the first position >= i with a marked pair at b[i], b[i+1],
// or -1 if there is none before the last byte.
func (m *Matcher) next(b []byte, i int) int {
	t := m.pair
	for ; i+8 < len(b); i += 8 {
		w := binary.LittleEndian.Uint64(b[i:])
		if t[uint16(w)]|t[uint16(w>>8)]|t[uint16(w>>16)]|t[uint16(w>>24)]|
			t[uint16(w>>32)]|t[uint16(w>>40)]|t[uint16(w>>48)]|
			t[uint16(w>>56)|uint16(b[i+8])<<8] != 0 {
			break
		}
	}
	for ; i+1 < len(b); i++ {
		if t[uint16(b[i])|uint16(b[i+1])<<8] != 0 {
			return i
		}
	}
	return -1
}

// report queues the outputs of state number i, entered after b[p-1], and
// reports what can no longer be preceded by another match. It returns true
// when the callback asked to stop.
func (st *state) report(b []byte, p int, i int32) bool {
	m := st.m
	for _, k := range m.outs[m.outStart[i]:m.outStart[i+1]] {
		pt := &m.pats[k]
		start := p - len(pt.lit)
		if pt.confirm && string(b[start:p]) != string(pt.lit) {
			continue
		}
		st.insert(pend{st.base + int64(start), k})
	}
	// Matches found later start at or after p - depth.
	return st.flush(st.base + int64(p) - int64(m.depth[i]))
}

// insert adds x to the pending matches, keeping them sorted.
func (st *state) insert(x pend) {
	q := st.pending
	j := len(q)
	for j > 0 && (q[j-1].off > x.off || q[j-1].off == x.off && q[j-1].idx > x.idx) {
		j--
	}
	q = append(q, pend{})
	copy(q[j+1:], q[j:])
	q[j] = x
	st.pending = q
}

// flush reports the pending matches that start before bound and before any
// anchored pattern not checked yet. It returns true when the callback asked
// to stop.
func (st *state) flush(bound int64) bool {
	if st.ai < len(st.m.anchored) {
		bound = min(bound, st.m.pats[st.m.anchored[st.ai]].at)
	}
	q := st.pending
	j := 0
	for ; j < len(q) && q[j].off < bound; j++ {
		if !st.fn(Match{ID: st.m.pats[q[j].idx].id, Offset: q[j].off}) {
			st.stop = true
			st.pending = q[:0]
			return true
		}
	}
	if j > 0 {
		st.pending = q[:copy(q, q[j:])]
	}
	return false
}

// anchor checks the anchored patterns whose bytes are all in b (the buffer
// covering stream offsets st.base onwards) and queues those that match. At
// eof the patterns that extend past the end fail.
func (st *state) anchor(b []byte, eof bool) {
	m := st.m
	end := st.base + int64(len(b))
	for ; st.ai < len(m.anchored); st.ai++ {
		k := m.anchored[st.ai]
		pt := &m.pats[k]
		if pt.at > end-int64(len(pt.lit)) { // not all in b (no overflow near MaxInt64)
			if eof {
				continue // runs past the end; a shorter one may not
			}
			return
		}
		w := b[pt.at-st.base:][:len(pt.lit)]
		if equal(w, pt.lit, pt.fold) {
			st.insert(pend{pt.at, k})
		}
	}
}

func equal(b, lit []byte, fold bool) bool {
	if !fold {
		return string(b) == string(lit)
	}
	for i, c := range lit {
		if lower(b[i]) != lower(c) {
			return false
		}
	}
	return true
}
