package content

import (
	"cmp"
	"fmt"
	"slices"
	"sync"
)

// MaxPatternLen is the longest literal [Compile] accepts, in bytes.
const MaxPatternLen = 255

// maxTableEntries bounds the DFA transition table (4 bytes an entry), so a
// huge pattern set fails to compile instead of exhausting memory.
const maxTableEntries = 1 << 26

// Pattern is one literal to find.
type Pattern struct {
	// ID is the caller's identifier, returned in every [Match] of this
	// pattern. IDs need not be unique: patterns sharing an ID are still
	// matched and reported separately.
	ID int
	// Bytes is the literal, 1 to [MaxPatternLen] bytes. Compile copies it.
	Bytes []byte
	// Fold makes the match ASCII case-insensitive (A-Z equal a-z); other
	// bytes always match exactly.
	Fold bool
	// AtOffset is -1 for a pattern that may match anywhere. A value >= 0
	// anchors the pattern: it matches only when it starts exactly at this
	// offset of the stream (a header magic at 0, for example).
	AtOffset int64
}

// Matcher is a compiled pattern set. It is immutable after [Compile] and
// safe for concurrent use by any number of goroutines.
type Matcher struct {
	pats []pattern // in the order given to Compile

	// Aho-Corasick DFA over the unanchored patterns.
	classes [256]uint8 // byte -> equivalence class, ASCII letters folded
	stride  int32      // number of classes: the width of a state's row
	trans   []int32    // [state*stride + class] -> next state*stride
	// State numbering, by ranges of pre-multiplied ids: the root is 0;
	// 0 < s < oneEnd are depth-1 states with outputs (1-byte patterns);
	// s < shallowEnd have depth 0 or 1; shallowEnd <= s < specialEnd are
	// deeper states with outputs; the rest are deeper states without.
	oneEnd     int32
	shallowEnd int32
	specialEnd int32
	depth      []uint8 // by state number (s / stride)
	outStart   []int32 // by state number; outputs are outs[outStart[i]:outStart[i+1]]
	outs       []int32 // pattern indices

	// Skip loop tables.
	pair *[1 << 16]uint8 // [b[i] | b[i+1]<<8] != 0: a pattern may start at i
	one  [256]bool       // a 1-byte unanchored pattern matches this byte

	anchored []int32 // indices of anchored patterns, by (AtOffset, index)
	maxLen   int     // longest pattern, anchored or not

	pool sync.Pool // of *Scanner, for Scan
}

// pattern is the compiled form of a Pattern.
type pattern struct {
	id      int
	lit     []byte
	fold    bool
	confirm bool // matched by the folding DFA but must be compared exactly
	at      int64
}

// Compile builds a Matcher for ps. It fails if a literal is empty or longer
// than [MaxPatternLen], if AtOffset is below -1, or if the set is too large
// for the transition table (tens of millions of entries). An empty set is
// valid and matches nothing. Compile copies what it needs from ps.
func Compile(ps []Pattern) (*Matcher, error) {
	m := &Matcher{pats: make([]pattern, len(ps))}
	for i, p := range ps {
		switch {
		case len(p.Bytes) == 0:
			return nil, fmt.Errorf("content: pattern %d (id %d): empty literal", i, p.ID)
		case len(p.Bytes) > MaxPatternLen:
			return nil, fmt.Errorf("content: pattern %d (id %d): literal is %d bytes, limit is %d", i, p.ID, len(p.Bytes), MaxPatternLen)
		case p.AtOffset < -1:
			return nil, fmt.Errorf("content: pattern %d (id %d): AtOffset %d, want -1 (anywhere) or an offset >= 0", i, p.ID, p.AtOffset)
		}
		m.pats[i] = pattern{
			id:      p.ID,
			lit:     slices.Clone(p.Bytes),
			fold:    p.Fold,
			confirm: !p.Fold && hasLetter(p.Bytes),
			at:      p.AtOffset,
		}
		m.maxLen = max(m.maxLen, len(p.Bytes))
		if p.AtOffset >= 0 {
			m.anchored = append(m.anchored, int32(i))
		}
	}
	slices.SortStableFunc(m.anchored, func(a, b int32) int {
		return cmp.Compare(m.pats[a].at, m.pats[b].at)
	})
	if err := m.buildDFA(); err != nil {
		return nil, err
	}
	m.buildSkip()
	return m, nil
}

func hasLetter(b []byte) bool {
	for _, c := range b {
		if lower(c) != upper(c) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

// variants returns the bytes that c matches in a pattern with the given fold.
func variants(c byte, fold bool) []byte {
	if fold && lower(c) != upper(c) {
		return []byte{lower(c), upper(c)}
	}
	return []byte{c}
}

// buildDFA builds the Aho-Corasick automaton of the unanchored patterns.
func (m *Matcher) buildDFA() error {
	// Byte classes: every (lower-cased) byte used by a pattern gets its own
	// class, everything else shares class 0.
	var used [256]bool
	for _, p := range m.pats {
		if p.at < 0 {
			for _, c := range p.lit {
				used[lower(c)] = true
			}
		}
	}
	nclass := 1
	for c := range 256 {
		if used[c] {
			m.classes[c] = uint8(nclass)
			nclass++
		}
	}
	for c := 'A'; c <= 'Z'; c++ {
		m.classes[c] = m.classes[c+'a'-'A']
	}
	stride := nclass

	// Trie, state 0 the root; goto[s*stride+c] == -1 when there is no edge.
	gotoT := make([]int32, stride)
	for i := range gotoT {
		gotoT[i] = -1
	}
	depth := []int{0}
	own := [][]int32{nil}
	for i, p := range m.pats {
		if p.at >= 0 {
			continue
		}
		s := 0
		for _, c := range p.lit {
			k := s*stride + int(m.classes[c])
			if gotoT[k] < 0 {
				if len(depth)*stride > maxTableEntries {
					return fmt.Errorf("content: pattern %d (id %d): set too large, over %d automaton states of %d byte classes: split it", i, p.id, len(depth), stride)
				}
				gotoT[k] = int32(len(depth))
				depth = append(depth, depth[s]+1)
				own = append(own, nil)
				for range stride {
					gotoT = append(gotoT, -1)
				}
			}
			s = int(gotoT[k])
		}
		own[s] = append(own[s], int32(i))
	}
	n := len(depth)

	// Failure links and the full transition function, breadth first, so a
	// state's failure target is complete before the state itself.
	delta := make([]int32, n*stride)
	fail := make([]int32, n)
	outs := make([][]int32, n)
	order := make([]int32, 0, n)
	order = append(order, 0)
	for c := range stride {
		if t := gotoT[c]; t >= 0 {
			delta[c] = t
			fail[t] = 0
			order = append(order, t)
		}
	}
	for q := 1; q < len(order); q++ {
		s := int(order[q])
		outs[s] = append(slices.Clone(own[s]), outs[fail[s]]...)
		f := int(fail[s])
		for c := range stride {
			if t := gotoT[s*stride+c]; t >= 0 {
				delta[s*stride+c] = t
				fail[t] = delta[f*stride+c]
				order = append(order, t)
			} else {
				delta[s*stride+c] = delta[f*stride+c]
			}
		}
	}

	// Renumber into the ranges documented on Matcher; breadth-first order
	// within each range.
	rank := func(s int32) int {
		switch {
		case depth[s] == 0:
			return 0
		case depth[s] == 1 && len(outs[s]) > 0:
			return 1
		case depth[s] == 1:
			return 2
		case len(outs[s]) > 0:
			return 3
		}
		return 4
	}
	slices.SortStableFunc(order, func(a, b int32) int { return rank(a) - rank(b) })
	newID := make([]int32, n)
	for i, s := range order {
		newID[s] = int32(i)
	}
	m.stride = int32(stride)
	m.trans = make([]int32, n*stride)
	m.depth = make([]uint8, n)
	m.outStart = make([]int32, n+1)
	for i, s := range order {
		for c := range stride {
			m.trans[i*stride+c] = newID[delta[int(s)*stride+c]] * int32(stride)
		}
		m.depth[i] = uint8(min(depth[s], 255))
		m.outs = append(m.outs, outs[s]...)
		m.outStart[i+1] = int32(len(m.outs))
		end := int32(i+1) * int32(stride)
		switch rank(s) {
		case 0, 1:
			m.oneEnd, m.shallowEnd, m.specialEnd = end, end, end
		case 2:
			m.shallowEnd, m.specialEnd = end, end
		case 3:
			m.specialEnd = end
		}
	}
	return nil
}

// buildSkip fills the byte-pair table used by the skip loop.
func (m *Matcher) buildSkip() {
	m.pair = new([1 << 16]uint8)
	for _, p := range m.pats {
		if p.at >= 0 {
			continue
		}
		for _, c0 := range variants(p.lit[0], p.fold) {
			if len(p.lit) == 1 {
				m.one[c0] = true
				for c1 := range 256 {
					m.pair[int(c0)|c1<<8] = 1
				}
				continue
			}
			for _, c1 := range variants(p.lit[1], p.fold) {
				m.pair[int(c0)|int(c1)<<8] = 1
			}
		}
	}
}
