package sparse

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func FuzzOpen(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.simg*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(build(6,
		chunk{chunkRaw, 1, []byte("ABCDEFGH")},
		chunk{chunkFill, 2, []byte("wxyz")},
		chunk{chunkCRC32, 0, []byte{1, 2, 3, 4}},
		chunk{chunkDontCare, 3, nil},
	))
	f.Fuzz(func(t *testing.T, b []byte) {
		Is(b)
		m, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		// Read the whole view when it is small, else a few windows.
		buf := make([]byte, 64<<10)
		offs := []int64{0, m.Size() / 2, m.Size() - int64(len(buf))}
		if m.Size() <= 4<<20 {
			offs = offs[:0]
			for off := int64(0); off < m.Size(); off += int64(len(buf)) {
				offs = append(offs, off)
			}
		}
		for _, off := range offs {
			if off < 0 {
				continue
			}
			if _, err := m.ReadAt(buf, off); err != nil && err != io.EOF {
				t.Fatalf("ReadAt(%d): %v", off, err)
			}
		}
	})
}
