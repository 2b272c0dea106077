package content

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// reference is the brute-force matcher the automaton is checked against:
// every offset, every pattern in order.
func reference(ps []Pattern, data []byte) []Match {
	var out []Match
	for off := range data {
		for _, p := range ps {
			if p.AtOffset >= 0 && p.AtOffset != int64(off) {
				continue
			}
			if off+len(p.Bytes) <= len(data) && equal(data[off:off+len(p.Bytes)], p.Bytes, p.Fold) {
				out = append(out, Match{ID: p.ID, Offset: int64(off)})
			}
		}
	}
	return out
}

// shortReader returns at most a few bytes per Read, sometimes none.
type shortReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (r *shortReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(r.rng.IntN(r.max+1), len(b), len(r.data))
	copy(b, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

func collectBytes(m *Matcher, data []byte) []Match {
	var got []Match
	m.ScanBytes(data, func(x Match) bool { got = append(got, x); return true })
	return got
}

func collectScan(t testing.TB, sc *Scanner, r io.Reader, size int) []Match {
	t.Helper()
	var got []Match
	n, err := sc.Scan(r, func(x Match) bool { got = append(got, x); return true })
	if err != nil || n != int64(size) {
		t.Fatalf("Scan = %d, %v; want %d, nil", n, err, size)
	}
	return got
}

func fmtPatterns(ps []Pattern) string {
	var b strings.Builder
	for _, p := range ps {
		fmt.Fprintf(&b, "{%d %q fold=%v at=%d} ", p.ID, p.Bytes, p.Fold, p.AtOffset)
	}
	return b.String()
}

// checkAll compares every way of scanning data with the reference.
func checkAll(t *testing.T, ps []Pattern, data []byte, rng *rand.Rand) {
	t.Helper()
	m, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	want := reference(ps, data)
	if got := collectBytes(m, data); !slices.Equal(want, got) {
		diff := cmp.Diff(want, got)
		t.Fatalf("ScanBytes mismatch (-want +got):\n%s\npatterns %s\ndata %q", diff, fmtPatterns(ps), data)
	}
	var got []Match
	if _, err := m.Scan(bytes.NewReader(data), func(x Match) bool { got = append(got, x); return true }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(want, got) {
		diff := cmp.Diff(want, got)
		t.Fatalf("Scan mismatch (-want +got):\n%s\npatterns %s\ndata %q", diff, fmtPatterns(ps), data)
	}
	for _, chunk := range []int{1, 2, 3, 1 + rng.IntN(40)} {
		sc := &Scanner{m: m, chunk: chunk}
		r := &shortReader{data: data, rng: rng, max: 1 + rng.IntN(9)}
		if got := collectScan(t, sc, r, len(data)); !slices.Equal(want, got) {
			diff := cmp.Diff(want, got)
			t.Fatalf("Scan with chunk %d mismatch (-want +got):\n%s\npatterns %s\ndata %q", chunk, diff, fmtPatterns(ps), data)
		}
	}
}

func TestTable(t *testing.T) {
	fold := func(s string) Pattern { return Pattern{ID: -1, Bytes: []byte(s), Fold: true, AtOffset: -1} }
	lit := func(s string) Pattern { return Pattern{ID: -1, Bytes: []byte(s), AtOffset: -1} }
	at := func(s string, off int64) Pattern { return Pattern{ID: -1, Bytes: []byte(s), AtOffset: off} }
	tests := []struct {
		name string
		ps   []Pattern
		data string
		want []Match
	}{
		{"empty reader", []Pattern{lit("a")}, "", nil},
		{"no patterns", nil, "abc", nil},
		{"one byte", []Pattern{lit("a")}, "banana", []Match{{0, 1}, {0, 3}, {0, 5}}},
		{"overlapping self", []Pattern{lit("aa")}, "aaaa", []Match{{0, 0}, {0, 1}, {0, 2}}},
		{"prefix and suffix", []Pattern{lit("he"), lit("she"), lit("hers"), lit("his")}, "ushers",
			[]Match{{1, 1}, {0, 2}, {2, 2}}},
		{"equal offsets by pattern order", []Pattern{lit("abc"), lit("a"), lit("ab")}, "abc",
			[]Match{{0, 0}, {1, 0}, {2, 0}}},
		{"fold", []Pattern{fold("KaSpErSkY")}, "kaspersky KASPERSKY Kaspersky kasperskx",
			[]Match{{0, 0}, {0, 10}, {0, 20}}},
		{"exact is case sensitive", []Pattern{lit("KLZF")}, "klzf KLZF KlZF", []Match{{0, 5}}},
		{"fold and exact of one literal", []Pattern{lit("Ab"), fold("ab")}, "ab Ab AB",
			[]Match{{1, 0}, {0, 3}, {1, 3}, {1, 6}}},
		{"non-letters fold to themselves", []Pattern{fold("@[`{")}, "@[`{ `{@[", []Match{{0, 0}}},
		{"anchored at 0", []Pattern{at("\x7fELF", 0), lit("ELF")}, "\x7fELF\x7fELF",
			[]Match{{0, 0}, {1, 1}, {1, 5}}},
		{"anchored elsewhere fails", []Pattern{at("ELF", 0)}, "\x7fELF", nil},
		{"anchored past end", []Pattern{at("abc", 2)}, "xxab", nil},
		{"anchored past end before a shorter one", []Pattern{at("abcd", 1), at("b", 1)}, "ab", []Match{{1, 1}}},
		{"anchored at max offset", []Pattern{at("abc", math.MaxInt64), lit("b")}, "abc", []Match{{1, 1}}},
		{"anchored and unanchored at one offset", []Pattern{lit("bc"), at("b", 1), lit("abc")}, "abc",
			[]Match{{2, 0}, {0, 1}, {1, 1}}},
		{"anchored fold", []Pattern{{ID: 7, Bytes: []byte("mz"), Fold: true, AtOffset: 2}}, "..MZ", []Match{{7, 2}}},
		{"binary", []Pattern{lit("\x00\x00\x01"), lit("\xff\xfe")}, "\x00\x00\x00\x01\xff\xfe\xff",
			[]Match{{0, 1}, {1, 4}}},
		{"match at last byte", []Pattern{lit("z"), lit("yz")}, "xyz", []Match{{1, 1}, {0, 2}}},
		{"duplicate ids and literals", []Pattern{{ID: 3, Bytes: []byte("ab"), AtOffset: -1}, {ID: 3, Bytes: []byte("ab"), AtOffset: -1}},
			"ab", []Match{{3, 0}, {3, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.ps {
				if tc.ps[i].ID == -1 {
					tc.ps[i].ID = i
				}
			}
			if diff := cmp.Diff(tc.want, reference(tc.ps, []byte(tc.data))); diff != "" {
				t.Fatalf("reference disagrees with the table (-want +got):\n%s", diff)
			}
			checkAll(t, tc.ps, []byte(tc.data), rand.New(rand.NewPCG(1, 2)))
		})
	}
}

func TestCompileErrors(t *testing.T) {
	tests := []struct {
		name string
		p    Pattern
		want string
	}{
		{"empty", Pattern{ID: 4, AtOffset: -1}, "pattern 0 (id 4): empty literal"},
		{"too long", Pattern{ID: 5, Bytes: bytes.Repeat([]byte("x"), 256), AtOffset: -1}, "256 bytes, limit is 255"},
		{"bad offset", Pattern{ID: 6, Bytes: []byte("x"), AtOffset: -2}, "AtOffset -2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compile([]Pattern{tc.p})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Compile error = %v, want it to contain %q", err, tc.want)
			}
		})
	}
	if _, err := Compile([]Pattern{{Bytes: bytes.Repeat([]byte("x"), 255), AtOffset: -1}}); err != nil {
		t.Fatalf("255-byte literal: %v", err)
	}
}

// TestChunkEdges puts matches at every position around the chunk boundaries
// of a real-size Scanner and of tiny ones.
func TestChunkEdges(t *testing.T) {
	ps := []Pattern{
		{ID: 0, Bytes: []byte("needle"), AtOffset: -1},
		{ID: 1, Bytes: []byte("Needle"), Fold: true, AtOffset: -1},
		{ID: 2, Bytes: []byte("e"), AtOffset: -1},
		{ID: 3, Bytes: []byte("dle"), AtOffset: -1},
		{ID: 4, Bytes: bytes.Repeat([]byte("n"), 255), AtOffset: -1},
		{ID: 5, Bytes: []byte("needle"), AtOffset: ChunkSize - 3},
		{ID: 6, Bytes: []byte("NEEDLE"), Fold: true, AtOffset: ChunkSize + 1},
	}
	m, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	for _, edge := range []int{ChunkSize, 2*ChunkSize + m.maxLen + 1} {
		for shift := -8; shift <= 8; shift++ {
			t.Run(fmt.Sprintf("edge%d%+d", edge, shift), func(t *testing.T) {
				data := bytes.Repeat([]byte{'x'}, edge+300)
				copy(data[edge+shift:], "NeEdLe")
				copy(data[edge+shift+20:], bytes.Repeat([]byte("n"), 256))
				want := reference(ps, data)
				got := collectScan(t, NewScanner(m), &shortReader{data: data, rng: rand.New(rand.NewPCG(3, uint64(shift))), max: 1 << 17}, len(data))
				if diff := cmp.Diff(want, got); diff != "" {
					t.Fatalf("mismatch (-want +got):\n%s", diff)
				}
				if diff := cmp.Diff(want, collectBytes(m, data)); diff != "" {
					t.Fatalf("ScanBytes mismatch (-want +got):\n%s", diff)
				}
			})
		}
	}
}

// randomPatterns draws patterns over a tiny alphabet so they match often.
func randomPatterns(rng *rand.Rand, alphabet string) []Pattern {
	ps := make([]Pattern, 1+rng.IntN(12))
	for i := range ps {
		n := 1 + rng.IntN(6)
		if rng.IntN(10) == 0 {
			n = 1 + rng.IntN(40)
		}
		b := make([]byte, n)
		for j := range b {
			b[j] = alphabet[rng.IntN(len(alphabet))]
		}
		ps[i] = Pattern{ID: rng.IntN(8), Bytes: b, Fold: rng.IntN(3) == 0, AtOffset: -1}
		if rng.IntN(6) == 0 {
			// Small offsets often, so anchored patterns share one.
			ps[i].AtOffset = int64(rng.IntN([]int{4, 50}[rng.IntN(2)]))
		}
	}
	return ps
}

func randomData(rng *rand.Rand, alphabet string, ps []Pattern) []byte {
	data := make([]byte, rng.IntN([]int{16, 600}[rng.IntN(2)]))
	for i := range data {
		data[i] = alphabet[rng.IntN(len(alphabet))]
	}
	// Plant some whole patterns, anchored ones sometimes at their offset.
	for range rng.IntN(6) {
		p := ps[rng.IntN(len(ps))]
		off := rng.IntN(len(data) + 1)
		if p.AtOffset >= 0 && rng.IntN(2) == 0 {
			off = int(p.AtOffset)
		}
		if off+len(p.Bytes) <= len(data) {
			copy(data[off:], p.Bytes)
		}
	}
	return data
}

func TestDifferential(t *testing.T) {
	alphabets := []string{"ab", "abAB", "aB\x00", "abcdefgh", "xyzXYZ\xff\x00"}
	rng := rand.New(rand.NewPCG(42, 7))
	iters, matches := 3000, 0
	if testing.Short() {
		iters = 300
	}
	for i := range iters {
		alphabet := alphabets[i%len(alphabets)]
		ps := randomPatterns(rng, alphabet)
		data := randomData(rng, alphabet, ps)
		matches += len(reference(ps, data))
		t.Run(fmt.Sprint(i), func(t *testing.T) { checkAll(t, ps, data, rng) })
	}
	t.Logf("%d cases, %d matches", iters, matches)
}

func TestStopEarly(t *testing.T) {
	ps := []Pattern{{ID: 1, Bytes: []byte("a"), AtOffset: -1}, {ID: 2, Bytes: []byte("aa"), AtOffset: -1}, {ID: 3, Bytes: []byte("a"), AtOffset: 5}}
	data := bytes.Repeat([]byte("a"), 1000)
	want := reference(ps, data)
	m, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 2, 3, 10, 17, 500, len(want)} {
		t.Run(fmt.Sprint(limit), func(t *testing.T) {
			var got, gotBytes []Match
			if _, err := m.Scan(bytes.NewReader(data), func(x Match) bool { got = append(got, x); return len(got) < limit }); err != nil {
				t.Fatal(err)
			}
			m.ScanBytes(data, func(x Match) bool { gotBytes = append(gotBytes, x); return len(gotBytes) < limit })
			if diff := cmp.Diff(want[:limit], got); diff != "" {
				t.Errorf("Scan (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(want[:limit], gotBytes); diff != "" {
				t.Errorf("ScanBytes (-want +got):\n%s", diff)
			}
		})
	}
}

type failReader struct {
	data []byte
	err  error
}

func (r *failReader) Read(b []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(b, r.data)
	r.data = r.data[n:]
	return n, nil
}

func TestReadError(t *testing.T) {
	m, err := Compile([]Pattern{{ID: 1, Bytes: []byte("ab"), AtOffset: -1}})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var got []Match
	n, err := m.Scan(&failReader{data: []byte("xxabxxa"), err: boom}, func(x Match) bool { got = append(got, x); return true })
	if n != 7 || !errors.Is(err, boom) {
		t.Fatalf("Scan = %d, %v; want 7, boom", n, err)
	}
	if diff := cmp.Diff([]Match{{1, 2}}, got); diff != "" {
		t.Fatalf("matches before the error (-want +got):\n%s", diff)
	}
}

// TestScannerReuse scans several streams with one Scanner; nothing may leak
// from one stream into the next.
func TestScannerReuse(t *testing.T) {
	ps := []Pattern{{ID: 1, Bytes: []byte("abcabc"), AtOffset: -1}, {ID: 2, Bytes: []byte("cab"), AtOffset: 1}}
	m, err := Compile(ps)
	if err != nil {
		t.Fatal(err)
	}
	sc := &Scanner{m: m, chunk: 4}
	for _, s := range []string{"abcab", "cabcabc", "", "xcabcabcabc", "abc"} {
		want := reference(ps, []byte(s))
		if diff := cmp.Diff(want, collectScan(t, sc, strings.NewReader(s), len(s))); diff != "" {
			t.Fatalf("%q (-want +got):\n%s", s, diff)
		}
	}
}

// FuzzScan compares Scan and ScanBytes with the reference on patterns and
// data from the fuzzer. spec holds patterns separated by '|'; a pattern's
// first byte holds flags: bit 0 Fold, bit 1 anchored at offset flags>>2.
func FuzzScan(f *testing.F) {
	f.Add("\x00he|\x00she|\x01HIS|\x00hers", []byte("ushers his HIS"), uint8(3))
	f.Add("\x00a|\x00aa|\x06aaa", []byte("aaaaaaa"), uint8(1))
	f.Add("\x01Kaspersky|\x00KLZF|\x02\x7fELF", []byte("\x7fELF..KLZF.kAsPeRsKy"), uint8(5))
	f.Fuzz(func(t *testing.T, spec string, data []byte, chunk uint8) {
		var ps []Pattern
		for i, s := range strings.Split(spec, "|") {
			if len(s) < 2 || len(s) > 1+MaxPatternLen {
				continue
			}
			p := Pattern{ID: i, Bytes: []byte(s[1:]), Fold: s[0]&1 != 0, AtOffset: -1}
			if s[0]&2 != 0 {
				p.AtOffset = int64(s[0] >> 2)
			}
			ps = append(ps, p)
		}
		m, err := Compile(ps)
		if err != nil {
			t.Fatal(err)
		}
		want := reference(ps, data)
		if diff := cmp.Diff(want, collectBytes(m, data)); diff != "" {
			t.Fatalf("ScanBytes (-want +got):\n%s", diff)
		}
		sc := &Scanner{m: m, chunk: 1 + int(chunk)%64}
		r := &shortReader{data: data, rng: rand.New(rand.NewPCG(uint64(chunk), 1)), max: 1 + int(chunk)%7}
		if diff := cmp.Diff(want, collectScan(t, sc, r, len(data))); diff != "" {
			t.Fatalf("Scan (-want +got):\n%s", diff)
		}
	})
}
