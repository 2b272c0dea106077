package sqfs

import (
	"bytes"
	stdflate "compress/flate"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"testing"

	"github.com/klauspost/compress/flate"
)

// samples returns inputs of the shapes squashfs blocks have: code, text,
// runs, random bytes, and mixes, at sizes around block boundaries.
func samples() [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	code := readFixtureBytes("xz/input.bin")
	var out [][]byte
	for _, n := range []int{0, 1, 2, 3, 7, 100, 258, 259, 4096, 32768, 32769, 65536, 131072} {
		text := make([]byte, n)
		words := []string{"squashfs ", "block ", "inode ", "the ", "a ", "fragment\n", "0123456789"}
		for i := 0; i < n; {
			i += copy(text[i:], words[r.IntN(len(words))])
		}
		rnd := make([]byte, n)
		for i := range rnd {
			rnd[i] = byte(r.Uint32())
		}
		runs := make([]byte, n)
		for i := 0; i < n; {
			c, l := byte(r.IntN(4)), 1+r.IntN(300)
			for j := 0; j < l && i < n; j++ {
				runs[i] = c
				i++
			}
		}
		mix := make([]byte, n)
		for i := 0; i < n; {
			switch r.IntN(3) {
			case 0:
				i += copy(mix[i:], code[r.IntN(len(code)/2):][:r.IntN(500)])
			case 1:
				i += copy(mix[i:], rnd[:min(len(rnd), r.IntN(40))])
			default:
				i += copy(mix[i:], text[:min(len(text), r.IntN(2000))])
			}
			if n == 0 {
				break
			}
		}
		out = append(out, text, rnd, runs, mix)
	}
	return out
}

func readFixtureBytes(name string) []byte {
	b, _ := readFixtureFile(name)
	return b
}

// deflateAll compresses b in every mode both encoders offer.
func deflateAll(t testing.TB, b []byte) [][]byte {
	var out [][]byte
	for _, level := range []int{-2, 0, 1, 2, 5, 6, 9} {
		var buf bytes.Buffer
		w, err := flate.NewWriter(&buf, level)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		w.Close()
		out = append(out, bytes.Clone(buf.Bytes()))
		buf.Reset()
		sw, err := stdflate.NewWriter(&buf, level)
		if err != nil {
			t.Fatal(err)
		}
		// Flushes make several blocks, fixed ones among them.
		for i := 0; i < len(b); i += 1000 {
			sw.Write(b[i:min(i+1000, len(b))])
			if i%3000 == 0 {
				sw.Flush()
			}
		}
		sw.Close()
		out = append(out, bytes.Clone(buf.Bytes()))
	}
	return out
}

func TestInflate(t *testing.T) {
	for _, want := range samples() {
		for _, c := range deflateAll(t, want) {
			dst := make([]byte, len(want)+1)
			n, err := inflate(dst, c)
			if err != nil || !bytes.Equal(dst[:n], want) {
				t.Fatalf("%d bytes: inflate gave %d bytes, %v", len(want), n, err)
			}
			if n, err = inflate(dst[:len(want)], c); err != nil || n != len(want) {
				t.Fatalf("exact buffer: %d, %v", n, err)
			}
			if len(want) > 0 {
				if _, err := inflate(dst[:len(want)-1], c); !errors.Is(err, errTooLarge) {
					t.Fatalf("short buffer: %v", err)
				}
			}
			for _, cut := range []int{0, 1, len(c) / 2, len(c) - 1} {
				if cut < 0 || cut >= len(c) {
					continue
				}
				if n, err := inflate(dst, c[:cut]); err == nil && n == len(want) && len(want) > 0 {
					t.Fatalf("cut at %d of %d: no error", cut, len(c))
				}
			}
		}
	}
}

// FuzzInflate compares inflate with klauspost/compress/flate: whatever the
// reference decodes, inflate must decode the same.
func FuzzInflate(f *testing.F) {
	for i, s := range samples() {
		if i%5 == 0 && len(s) < 5000 {
			for _, c := range deflateAll(f, s) {
				f.Add(c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(b)), 1<<17))
		dst := make([]byte, 1<<17)
		n, err2 := inflate(dst, b)
		if err != nil || len(want) == 1<<17 {
			return // the reference refuses it (or it is too large to compare)
		}
		if err2 != nil || !bytes.Equal(dst[:n], want) {
			t.Fatalf("reference decodes %d bytes; inflate %d bytes, %v", len(want), n, err2)
		}
	})
}

// BenchmarkInflate decodes real x86 code (usr/bin/tool of the fixtures)
// deflated in 128 KiB blocks, with inflate and with klauspost/flate.
func BenchmarkInflate(b *testing.B) {
	fsys := openBytes(b, readFixture(b, "rootfs-gzip.sqfs"))
	code, err := fs.ReadFile(fsys, "usr/bin/tool")
	if err != nil {
		b.Fatal(err)
	}
	var blocks [][]byte
	for i := 0; i < len(code); i += 128 << 10 {
		var buf bytes.Buffer
		w, _ := flate.NewWriter(&buf, 9)
		w.Write(code[i:min(i+128<<10, len(code))])
		w.Close()
		blocks = append(blocks, buf.Bytes())
	}
	dst := make([]byte, 128<<10)
	b.Run("inflate", func(b *testing.B) {
		b.SetBytes(int64(len(code)))
		for b.Loop() {
			for _, c := range blocks {
				if _, err := inflate(dst, c); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("klauspost", func(b *testing.B) {
		b.SetBytes(int64(len(code)))
		r := flate.NewReader(nil)
		for b.Loop() {
			for _, c := range blocks {
				r.(flate.Resetter).Reset(bytes.NewReader(c), nil)
				if _, err := readAllInto(r, dst); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
