package sqfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"

	"github.com/ulikunitz/xz/lzma"
)

// lzmaAll compresses b as "lzma alone" and as LZMA2 with ulikunitz/xz, for
// several property sets.
func lzmaAll(t testing.TB, b []byte) (alone, lzma2 [][]byte) {
	for _, p := range []lzma.Properties{{LC: 3, LP: 0, PB: 2}, {LC: 0, LP: 2, PB: 0}, {LC: 4, LP: 0, PB: 4}, {LC: 1, LP: 3, PB: 1}} {
		for _, eos := range []bool{false, true} {
			var buf bytes.Buffer
			w, err := lzma.WriterConfig{Properties: &p, DictCap: 1 << 16, EOSMarker: eos, Size: -1}.NewWriter(&buf)
			if err != nil {
				t.Fatal(err)
			}
			w.Write(b)
			w.Close()
			alone = append(alone, bytes.Clone(buf.Bytes()))
		}
		var buf bytes.Buffer
		w, err := lzma.Writer2Config{Properties: &p, DictCap: 1 << 16}.NewWriter2(&buf)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(b)
		w.Close()
		lzma2 = append(lzma2, bytes.Clone(buf.Bytes()))
	}
	return alone, lzma2
}

func TestLzma(t *testing.T) {
	for _, want := range samples() {
		alone, lzma2 := lzmaAll(t, want)
		for _, c := range alone {
			dst := make([]byte, len(want)+10)
			// The writer stores an unknown size; an end marker or the
			// room given ends the stream.
			n, err := lzmaAloneDecode(dst, c)
			if !bytes.Equal(dst[:n], want) || (err != nil && !errors.Is(err, errTooLarge)) {
				t.Fatalf("alone, %d bytes: got %d, %v", len(want), n, err)
			}
			// With the size in the header.
			sized := bytes.Clone(c)
			for i := range 8 {
				sized[5+i] = byte(uint64(len(want)) >> (8 * i))
			}
			if n, err := lzmaAloneDecode(dst, sized); err != nil || !bytes.Equal(dst[:n], want) {
				t.Fatalf("alone sized, %d bytes: got %d, %v", len(want), n, err)
			}
			if len(want) > 0 {
				if _, err := lzmaAloneDecode(dst[:len(want)-1], sized); err == nil {
					t.Fatal("alone sized: no error with a short buffer")
				}
			}
		}
		for _, c := range lzma2 {
			dst := make([]byte, len(want))
			n, used, err := lzma2Decode(dst, c)
			if err != nil || !bytes.Equal(dst[:n], want) || used != len(c) {
				t.Fatalf("lzma2, %d bytes: got %d, used %d of %d, %v", len(want), n, used, len(c), err)
			}
			if len(want) > 0 {
				if _, _, err := lzma2Decode(dst[:len(want)-1], c); err == nil {
					t.Fatal("lzma2: no error with a short buffer")
				}
			}
			for _, cut := range []int{0, 1, len(c) / 2, len(c) - 1} {
				if cut >= len(c) {
					continue
				}
				if _, _, err := lzma2Decode(dst, c[:cut]); err == nil {
					t.Fatalf("lzma2 cut at %d of %d: no error", cut, len(c))
				}
			}
		}
	}
}

// FuzzLzma2 compares lzma2Decode with ulikunitz/xz on arbitrary chunks:
// whatever the reference decodes, lzma2Decode must decode the same.
func FuzzLzma2(f *testing.F) {
	for i, s := range samples() {
		if i%3 == 0 && len(s) < 5000 {
			_, l2 := lzmaAll(f, s)
			for _, c := range l2 {
				f.Add(c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const room = 1 << 16
		dst := make([]byte, room)
		n, _, err := lzma2Decode(dst, b)
		r, err2 := lzma.Reader2Config{DictCap: room}.NewReader2(bytes.NewReader(b))
		if err2 != nil {
			return
		}
		want, err2 := io.ReadAll(io.LimitReader(r, room+1))
		if err2 != nil || len(want) > room || !r.EOS() || !lzma2Framed(b) {
			// The reference refuses it, or accepts chunks shorter than
			// their declared size (it does not skip to a chunk's end).
			return
		}
		if err != nil || !bytes.Equal(dst[:n], want) {
			t.Fatalf("reference decodes %d bytes; lzma2Decode %d bytes, %v", len(want), n, err)
		}
	})
}

// lzma2Framed reports whether b is a sequence of LZMA2 chunks whose
// declared sizes fit b, with valid properties, ended by an end chunk.
func lzma2Framed(b []byte) bool {
	for pos := 0; pos < len(b); {
		c := b[pos]
		switch {
		case c == 0:
			return true
		case c == 1 || c == 2:
			if pos+3 > len(b) {
				return false
			}
			pos += 3 + int(b[pos+1])<<8 + int(b[pos+2]) + 1
		case c >= 0x80:
			if pos+5 > len(b) {
				return false
			}
			n := 5 + int(b[pos+3])<<8 + int(b[pos+4]) + 1
			if c >= 0xC0 {
				// New properties; LZMA2 (unlike ulikunitz) wants lc+lp <= 4.
				if pos+6 > len(b) || b[pos+5] >= 225 || b[pos+5]%9+b[pos+5]/9%5 > 4 {
					return false
				}
				n++
			}
			pos += n
		default:
			return false
		}
	}
	return false
}

// FuzzLzmaAlone does the same for legacy .lzma streams.
func FuzzLzmaAlone(f *testing.F) {
	for i, s := range samples() {
		if i%3 == 0 && len(s) < 5000 {
			alone, _ := lzmaAll(f, s)
			for _, c := range alone {
				f.Add(c)
			}
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		const room = 1 << 16
		if len(b) >= 5 && binary.LittleEndian.Uint32(b[1:]) > room {
			// The reference allocates the dictionary size the header
			// asks for (up to 4 GiB), which stalls the fuzzer; the
			// decoder under test ignores it (the output is the
			// dictionary).
			b = bytes.Clone(b)
			binary.LittleEndian.PutUint32(b[1:], room)
		}
		dst := make([]byte, room)
		n, err := lzmaAloneDecode(dst, b)
		r, err2 := lzma.ReaderConfig{DictCap: room}.NewReader(bytes.NewReader(b))
		if err2 != nil {
			return
		}
		want, err2 := io.ReadAll(io.LimitReader(r, room+1))
		if err2 != nil || len(want) > room {
			return
		}
		if err != nil || !bytes.Equal(dst[:n], want) {
			t.Fatalf("reference decodes %d bytes; lzmaAloneDecode %d bytes, %v", len(want), n, err)
		}
	})
}

// BenchmarkLzma2 decodes LZMA2 chunks of mostly random data and x86 code.
func BenchmarkLzma2(b *testing.B) {
	code := readFixture(b, "xz/input.bin")
	_, l2 := lzmaAll(b, code)
	dst := make([]byte, len(code))
	b.Run("own", func(b *testing.B) {
		b.SetBytes(int64(len(code)))
		for b.Loop() {
			if _, _, err := lzma2Decode(dst, l2[0]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ulikunitz", func(b *testing.B) {
		b.SetBytes(int64(len(code)))
		for b.Loop() {
			r, _ := lzma.Reader2Config{DictCap: len(dst)}.NewReader2(bytes.NewReader(l2[0]))
			if _, err := readAllInto(r, dst); err != nil {
				b.Fatal(err)
			}
		}
	})
}
