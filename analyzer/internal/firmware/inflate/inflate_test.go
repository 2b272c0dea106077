package inflate

import (
	"bytes"
	stdflate "compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// code is real x86 machine code: the test binary itself.
func code(t testing.TB) []byte {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	return b[:min(len(b), 4<<20)]
}

// samples returns inputs of the shapes filesystem blocks have.
func samples(t testing.TB) [][]byte { return imgtest.Samples(code(t)) }

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
	for _, want := range samples(t) {
		for _, c := range deflateAll(t, want) {
			// Bytes after the stream are not taken.
			src := append(bytes.Clone(c), "after"...)
			dst := make([]byte, len(want)+1)
			n, used, err := Raw(dst, src)
			if err != nil || !bytes.Equal(dst[:n], want) || used != len(c) {
				t.Fatalf("%d bytes: Raw gave %d bytes, took %d of %d, %v", len(want), n, used, len(c), err)
			}
			if n, _, err = Raw(dst[:len(want)], c); err != nil || n != len(want) {
				t.Fatalf("exact buffer: %d, %v", n, err)
			}
			if len(want) > 0 {
				short := make([]byte, len(want)-1)
				n, _, err := Raw(short, c)
				if !errors.Is(err, ErrTooLarge) || n != len(short) || !bytes.Equal(short, want[:len(short)]) {
					t.Fatalf("short buffer: %d bytes, %v", n, err)
				}
			}
			for _, cut := range []int{0, 1, len(c) / 2, len(c) - 1} {
				if cut < 0 || cut >= len(c) {
					continue
				}
				if n, _, err := Raw(dst, c[:cut]); err == nil && n == len(want) && len(want) > 0 {
					t.Fatalf("cut at %d of %d: no error", cut, len(c))
				}
			}
		}
	}
}

func TestZlib(t *testing.T) {
	want := []byte("zlib-wrapped deflate, as in squashfs and JFFS2 blocks")
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(want)
	w.Close()
	dst := make([]byte, 100)
	if n, err := Zlib(dst, buf.Bytes()); err != nil || !bytes.Equal(dst[:n], want) {
		t.Fatalf("Zlib: %q, %v", dst[:n], err)
	}
	if n, err := ZlibChecked(dst, buf.Bytes()); err != nil || !bytes.Equal(dst[:n], want) {
		t.Fatalf("ZlibChecked: %q, %v", dst[:n], err)
	}
	// A wrong or missing checksum: only ZlibChecked minds.
	bad := bytes.Clone(buf.Bytes())
	bad[len(bad)-1] ^= 1
	for _, b := range [][]byte{bad, buf.Bytes()[:buf.Len()-2]} {
		if _, err := Zlib(dst, b); err != nil {
			t.Errorf("Zlib: %v", err)
		}
		if _, err := ZlibChecked(dst, b); err == nil || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("ZlibChecked: %v, want a checksum error", err)
		}
	}
	for _, bad := range [][]byte{nil, {0x78}, {0x79, 0x9c, 0}, {0x78, 0x9d, 0}, {0x78, 0xbb, 0, 0, 0, 0}} {
		if _, err := Zlib(dst, bad); err == nil {
			t.Errorf("Zlib(% x): no error", bad)
		}
	}
}

// gzipped compresses b as one gzip member with the given header fields.
func gzipped(t testing.TB, b []byte, h gzip.Header) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Header = h
	w.Write(b)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestGzip(t *testing.T) {
	text := bytes.Repeat([]byte("a gzip'd changelog line\n"), 1000)
	for _, h := range []gzip.Header{{}, {Name: "changelog", Comment: "c", Extra: []byte("xy")}} {
		z := gzipped(t, text, h)
		if got, ok := Gzip(z, len(text)); !ok || !bytes.Equal(got, text) {
			t.Fatalf("header %+v: %d bytes, %v", h, len(got), ok)
		}
	}
	z := gzipped(t, text, gzip.Header{})
	// Each of these is left to a stream reader.
	crc := bytes.Clone(z)
	crc[len(crc)-8] ^= 1
	size := bytes.Clone(z)
	size[len(size)-4]++
	reserved := bytes.Clone(z)
	reserved[3] |= 0x20
	for name, b := range map[string][]byte{
		"over max":      z,
		"two members":   append(bytes.Clone(z), z...),
		"data after":    append(bytes.Clone(z), 0),
		"bad crc":       crc,
		"bad size":      size,
		"reserved flag": reserved,
		"cut":           z[:len(z)-1],
		"header only":   z[:10],
		"not gzip":      text,
	} {
		max := len(text)
		if name == "over max" {
			max--
		}
		if got, ok := Gzip(b, max); ok {
			t.Errorf("%s: decoded %d bytes", name, len(got))
		}
	}
	// A size no deflate stream of this length can reach is not trusted
	// for an allocation.
	huge := bytes.Clone(gzipped(t, []byte("x"), gzip.Header{}))
	huge[len(huge)-1] = 0x10
	if _, ok := Gzip(huge, 1<<30); ok {
		t.Error("size beyond deflate's ratio accepted")
	}
}

// FuzzInflate compares Raw with compress/flate, which like zlib refuses
// incomplete Huffman codes: what either decodes, the other must decode
// the same.
func FuzzInflate(f *testing.F) {
	for i, s := range samples(f) {
		if i%5 == 0 && len(s) < 5000 {
			for _, c := range deflateAll(f, s) {
				f.Add(c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, err := io.ReadAll(io.LimitReader(stdflate.NewReader(bytes.NewReader(b)), 1<<17))
		dst := make([]byte, 1<<17)
		n, _, err2 := Raw(dst, b)
		if len(want) == 1<<17 || n == len(dst) {
			return // too large to compare
		}
		if (err == nil) != (err2 == nil) || (err == nil && !bytes.Equal(dst[:n], want)) {
			t.Fatalf("compress/flate decodes %d bytes, %v; Raw %d bytes, %v", len(want), err, n, err2)
		}
		// Gzip never panics either, and agrees with compress/gzip.
		if got, ok := Gzip(b, 1<<17); ok {
			zr, err := gzip.NewReader(bytes.NewReader(b))
			if err != nil {
				t.Fatalf("Gzip decoded what compress/gzip refuses: %v", err)
			}
			zr.Multistream(false)
			if want, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, want) {
				t.Fatalf("Gzip and compress/gzip differ: %v", err)
			}
		}
	})
}

// FuzzGzip feeds gzip members to Gzip, which must agree with compress/gzip
// on every one it accepts.
func FuzzGzip(f *testing.F) {
	f.Add(gzipped(f, []byte("hello, world\n"), gzip.Header{Name: "a"}))
	f.Add(gzipped(f, bytes.Repeat([]byte("ab"), 3000), gzip.Header{Comment: "c", Extra: []byte{1, 2}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, ok := Gzip(b, 1<<20)
		if !ok {
			return
		}
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("Gzip decoded what compress/gzip refuses: %v", err)
		}
		zr.Multistream(false)
		want, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("Gzip and compress/gzip differ: %v", err)
		}
	})
}

// BenchmarkInflate decodes real x86 code (the test binary) deflated in
// 128 KiB blocks, with Raw, klauspost/flate and compress/flate.
func BenchmarkInflate(b *testing.B) {
	code := code(b)
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
				if _, _, err := Raw(dst, c); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for name, r := range map[string]io.ReadCloser{"klauspost": flate.NewReader(nil), "std": stdflate.NewReader(nil)} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(code)))
			for b.Loop() {
				for _, c := range blocks {
					r.(flate.Resetter).Reset(bytes.NewReader(c), nil)
					if _, err := io.ReadFull(r, dst); err != nil && err != io.ErrUnexpectedEOF {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
