package sparse

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// rawWant reads raw.manifest: the size and sha256 of the image make.sh
// converted.
func rawWant(t *testing.T) (int64, string) {
	t.Helper()
	b, err := os.ReadFile("testdata/raw.manifest")
	if err != nil {
		t.Fatalf("%v; run testdata/make.sh", err)
	}
	var size int64
	var sum string
	if _, err := fmt.Sscanf(string(b), "%d %s", &size, &sum); err != nil {
		t.Fatal(err)
	}
	return size, sum
}

func openFile(t *testing.T, path string) (*Image, []byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !Is(b) {
		t.Errorf("%s: Is = false", path)
	}
	m, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m, b
}

// expand reads the whole image in pieces of the given size.
func expand(t *testing.T, m *Image, piece int) []byte {
	t.Helper()
	var out bytes.Buffer
	buf := make([]byte, piece)
	for off := int64(0); ; {
		n, err := m.ReadAt(buf, off)
		out.Write(buf[:n])
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
	return out.Bytes()
}

func kinds(m *Image) map[uint16]int {
	k := map[uint16]int{}
	for _, e := range m.extents {
		k[e.kind]++
	}
	return k
}

func TestFixtures(t *testing.T) {
	size, sum := rawWant(t)
	for _, name := range []string{"ext4-4k.simg", "ext4-1k.simg"} {
		t.Run(name, func(t *testing.T) {
			m, _ := openFile(t, filepath.Join("testdata", name))
			if m.Size() != size {
				t.Fatalf("Size = %d, want %d", m.Size(), size)
			}
			if k := kinds(m); k[chunkRaw] == 0 || k[chunkFill] == 0 {
				t.Errorf("chunk kinds %v, want RAW and FILL", k)
			}
			for _, piece := range []int{int(size), 4096, 777, 1} {
				if piece == 1 && testing.Short() {
					continue
				}
				img := expand(t, m, piece)
				if got := sha256.Sum256(img); hex.EncodeToString(got[:]) != sum {
					t.Fatalf("pieces of %d: sha256 %x, want %s", piece, got, sum)
				}
				if !bytes.Contains(img, []byte("AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n")) {
					t.Error("base001.avc content not found in the expanded image")
				}
			}
		})
	}
}

// TestSplit checks simg2simg's pieces: each marks the blocks of the others
// DONT_CARE, so XOR-ing the expanded pieces gives back the image.
func TestSplit(t *testing.T) {
	size, sum := rawWant(t)
	pieces, _ := filepath.Glob("testdata/ext4-split.simg.*")
	if len(pieces) < 2 {
		t.Fatalf("%d split pieces", len(pieces))
	}
	acc := make([]byte, size)
	for _, p := range pieces {
		m, _ := openFile(t, p)
		if k := kinds(m); k[chunkDontCare] == 0 {
			t.Errorf("%s: chunk kinds %v, want DONT_CARE", p, k)
		}
		for i, c := range expand(t, m, 5000) {
			acc[i] ^= c
		}
	}
	if got := sha256.Sum256(acc); hex.EncodeToString(got[:]) != sum {
		t.Fatalf("sha256 %x, want %s", got, sum)
	}
}

func TestConcurrentReads(t *testing.T) {
	m, _ := openFile(t, "testdata/ext4-4k.simg")
	want := expand(t, m, int(m.Size()))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			buf := make([]byte, 1000+g*333)
			for off := int64(g); off < m.Size(); off += int64(len(buf)) {
				n, err := m.ReadAt(buf, off)
				if (err != nil && err != io.EOF) || !bytes.Equal(buf[:n], want[off:off+int64(n)]) {
					t.Errorf("goroutine %d: ReadAt(%d): %d %v", g, off, n, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// chunk is a chunk for build.
type chunk struct {
	typ    uint16
	blocks uint32
	data   []byte
}

// build writes a sparse image with 8-byte blocks.
func build(totalBlocks uint32, chunks ...chunk) []byte {
	le := binary.LittleEndian
	b := make([]byte, fileHeaderLen)
	le.PutUint32(b, magic)
	le.PutUint16(b[4:], 1)
	le.PutUint16(b[8:], fileHeaderLen)
	le.PutUint16(b[10:], chunkHdrLen)
	le.PutUint32(b[12:], 8)
	le.PutUint32(b[16:], totalBlocks)
	le.PutUint32(b[20:], uint32(len(chunks)))
	for _, c := range chunks {
		h := make([]byte, chunkHdrLen)
		le.PutUint16(h, c.typ)
		le.PutUint32(h[4:], c.blocks)
		le.PutUint32(h[8:], uint32(chunkHdrLen+len(c.data)))
		b = append(append(b, h...), c.data...)
	}
	return b
}

func TestChunks(t *testing.T) {
	b := build(6,
		chunk{chunkRaw, 1, []byte("ABCDEFGH")},
		chunk{chunkFill, 2, []byte("wxyz")},
		chunk{chunkCRC32, 0, []byte{1, 2, 3, 4}},
		chunk{chunkDontCare, 2, nil},
		chunk{chunkRaw, 0, nil}, // empty: ignored
		chunk{chunkRaw, 1, []byte("12345678")},
	)
	m, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := "ABCDEFGH" + "wxyzwxyzwxyzwxyz" + strings.Repeat("\x00", 16) + "12345678"
	if m.Size() != int64(len(want)) || m.BlockSize() != 8 {
		t.Fatalf("Size %d BlockSize %d", m.Size(), m.BlockSize())
	}
	for off := 0; off <= len(want); off++ {
		for n := 0; n <= len(want)-off+2; n++ {
			p := make([]byte, n)
			got, err := m.ReadAt(p, int64(off))
			end := min(off+n, len(want))
			if got != end-off || string(p[:got]) != want[off:end] {
				t.Fatalf("ReadAt(%d bytes at %d) = %d %q, want %q", n, off, got, p[:got], want[off:end])
			}
			if (off+n > len(want) || off == len(want)) != (err == io.EOF) || (err != nil && err != io.EOF) {
				t.Fatalf("ReadAt(%d bytes at %d): err %v", n, off, err)
			}
		}
	}
	if _, err := m.ReadAt(make([]byte, 1), -1); err == nil {
		t.Error("negative offset accepted")
	}
}

func TestRefused(t *testing.T) {
	raw := chunk{chunkRaw, 1, []byte("ABCDEFGH")}
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"blocks short", build(2, raw)},
		{"blocks over", build(1, raw, raw)},
		{"unknown type", build(1, chunk{0xcac5, 1, nil})},
		{"raw size", build(1, chunk{chunkRaw, 1, []byte("ABC")})},
		{"fill size", build(1, chunk{chunkFill, 1, []byte("ABC")})},
		{"dont care size", build(1, chunk{chunkDontCare, 1, []byte("A")})},
		{"crc size", build(0, chunk{chunkCRC32, 0, nil})},
		{"truncated", build(1, raw)[:fileHeaderLen+chunkHdrLen+4]},
		{"short", []byte{0x3a, 0xff, 0x26, 0xed}},
		{"version", func() []byte { b := build(1, raw); b[4] = 2; return b }()},
		{"block size", func() []byte { b := build(1, raw); b[12] = 6; return b }()},
		{"chunk header", func() []byte { b := build(1, raw); b[10] = 8; return b }()},
		{"file header", func() []byte { b := build(1, raw); b[8] = 20; return b }()},
		{"chunk count", func() []byte { b := build(1, raw); b[20] = 9; return b }()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Open(bytes.NewReader(tc.b), int64(len(tc.b))); err == nil {
				t.Error("accepted")
			}
		})
	}
}

func TestRefusesOtherData(t *testing.T) {
	imgtest.RefusesForeign(t, Is, Open)
}

// exercise opens b and, when that works, reads the image at a few places.
func exercise(t *testing.T, b []byte) {
	t.Helper()
	m, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	buf := make([]byte, 64<<10)
	for _, off := range []int64{0, m.Size() / 3, m.Size() - 100, m.Size() - 1} {
		if off >= 0 {
			if _, err := m.ReadAt(buf, off); err != nil && err != io.EOF {
				t.Fatalf("ReadAt(%d) of an image that opened: %v", off, err)
			}
		}
	}
}

func TestHostile(t *testing.T) {
	b, err := os.ReadFile("testdata/ext4-split.simg.2")
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= len(b); n++ {
		exercise(t, b[:n])
	}
	c := make([]byte, len(b))
	for i := 0; i < 28+6*12+4*3; i++ { // the headers, every bit
		for bit := range 8 {
			copy(c, b)
			c[i] ^= 1 << bit
			exercise(t, c)
		}
	}
	rng := rand.New(rand.NewSource(2))
	for range 2000 {
		copy(c, b)
		c[rng.Intn(200)] = byte(rng.Intn(256))
		exercise(t, c)
	}
}
