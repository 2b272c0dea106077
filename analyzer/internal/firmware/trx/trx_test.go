package trx

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// wantPart is one "slot size sha256" manifest line written by make.sh.
type wantPart struct {
	slot int
	size int64
	sum  string
}

func readManifest(t *testing.T, path string) []wantPart {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var m []wantPart
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var w wantPart
		if _, err := fmt.Sscanf(sc.Text(), "%d %d %s", &w.slot, &w.size, &w.sum); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		m = append(m, w)
	}
	return m
}

func TestFixtures(t *testing.T) {
	manifests, _ := filepath.Glob("testdata/*.manifest")
	if len(manifests) != 2 {
		t.Fatalf("found %d manifests, want 2; run testdata/make.sh", len(manifests))
	}
	for _, mf := range manifests {
		t.Run(filepath.Base(mf), func(t *testing.T) {
			want := readManifest(t, mf)
			b, err := os.ReadFile(strings.TrimSuffix(mf, ".manifest"))
			if err != nil {
				t.Fatal(err)
			}
			if !Is(b) {
				t.Error("Is = false")
			}
			parts, err := Parts(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != len(want) {
				t.Fatalf("got %d parts %+v, want %d", len(parts), parts, len(want))
			}
			for i, p := range parts {
				w := want[i]
				data := b[p.Offset : p.Offset+p.Size]
				if p.Name != fmt.Sprintf("part%d", w.slot) || p.Size < w.size {
					t.Fatalf("part %d = %+v, want slot %d of at least %d bytes", i, p, w.slot, w.size)
				}
				if got := sha256.Sum256(data[:w.size]); hex.EncodeToString(got[:]) != w.sum {
					t.Errorf("%s: payload sha256 %x, want %s", p.Name, got, w.sum)
				}
				if len(bytes.Trim(data[w.size:], "\x00")) != 0 {
					t.Errorf("%s: non-zero bytes after the payload", p.Name)
				}
				switch data[0] {
				case 0x1f:
					if p.Compression != "gzip" || p.Type != "" {
						t.Errorf("%s: kernel sniffed as %q/%q", p.Name, p.Type, p.Compression)
					}
				case 'h':
					if p.Compression != "none" || p.Type != "filesystem" {
						t.Errorf("%s: squashfs sniffed as %q/%q", p.Name, p.Type, p.Compression)
					}
				}
			}
		})
	}
}

// build returns a TRX v1 image of the given payload with the given
// offsets and a correct CRC.
func build(length int, offsets ...uint32) []byte {
	b := make([]byte, length)
	copy(b, magic)
	le := binary.LittleEndian
	le.PutUint32(b[4:], uint32(length))
	le.PutUint32(b[12:], 1<<16)
	for i, o := range offsets {
		le.PutUint32(b[16+4*i:], o)
	}
	for i := 28; i < length; i++ {
		b[i] = byte(i)
	}
	le.PutUint32(b[8:], ^crc32.ChecksumIEEE(b[12:]))
	return b
}

func TestCRC(t *testing.T) {
	b := build(100, 28, 60)
	parts, err := Parts(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(parts) != 2 || parts[0].Size != 32 || parts[1].Size != 40 {
		t.Fatalf("parts %+v, err %v", parts, err)
	}
	b[99] ^= 1
	parts, err = Parts(bytes.NewReader(b), int64(len(b)))
	var ce *CRCError
	if !errors.As(err, &ce) || len(parts) != 2 {
		t.Fatalf("corrupt payload: parts %+v, err %v", parts, err)
	}
	if ce.Stored == ce.Computed {
		t.Errorf("CRCError %+v", ce)
	}
}

func TestBadOffsets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		offsets []uint32
		want    int // parts kept
	}{
		{"inside header", []uint32{8, 60}, 1},
		{"past length", []uint32{28, 100}, 1},
		{"repeated", []uint32{28, 28, 60}, 2},
		{"descending", []uint32{60, 28}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := build(100, tc.offsets...)
			parts, err := Parts(bytes.NewReader(b), int64(len(b)))
			if len(parts) != tc.want {
				t.Errorf("got %d parts %+v, want %d", len(parts), parts, tc.want)
			}
			if tc.name == "descending" {
				if err != nil || parts[0].Size != 40 || parts[1].Size != 32 {
					t.Errorf("parts %+v, err %v", parts, err)
				}
			} else if err == nil {
				t.Error("no error")
			}
		})
	}
}

func TestTruncated(t *testing.T) {
	b := build(100, 28, 60)[:80]
	parts, err := Parts(bytes.NewReader(b), int64(len(b)))
	if err == nil || len(parts) != 2 || parts[1].Size != 20 {
		t.Fatalf("parts %+v, err %v", parts, err)
	}
	var ce *CRCError
	if errors.As(err, &ce) {
		t.Errorf("CRC checked on a truncated image: %v", err)
	}
	// Truncated before the second partition starts.
	b = b[:50]
	if parts, err = Parts(bytes.NewReader(b), int64(len(b))); err == nil || len(parts) != 1 {
		t.Fatalf("parts %+v, err %v", parts, err)
	}
}

func TestRefusesOtherData(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	junk := make([]byte, 4096)
	rng.Read(junk)
	bad := build(100, 28)
	bad[14] = 3 // version 3
	short := build(100, 28)
	binary.LittleEndian.PutUint32(short[4:], 20) // length inside the header
	imgtest.RefusesForeign(t, Is, Parts, []byte("HDR0"), bad, short)
}

func checkBounds(t *testing.T, b []byte) {
	t.Helper()
	parts, _ := Parts(bytes.NewReader(b), int64(len(b)))
	if len(parts) > maxOffset {
		t.Fatalf("%d parts", len(parts))
	}
	for _, p := range parts {
		if p.Offset < 0 || p.Size <= 0 || p.Offset+p.Size > int64(len(b)) {
			t.Fatalf("part %+v outside input of %d bytes", p, len(b))
		}
	}
}

func TestHostile(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.trx")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= len(b); n += 1 + n/32 {
			checkBounds(t, b[:n])
		}
		c := make([]byte, len(b))
		for i := 0; i < 64; i++ { // every header byte, every bit
			for bit := range 8 {
				copy(c, b)
				c[i] ^= 1 << bit
				checkBounds(t, c)
			}
		}
	}
}
