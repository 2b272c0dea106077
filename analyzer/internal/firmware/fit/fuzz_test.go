package fit

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParts(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.itb")
	files = append(files, "testdata/plain.dtb")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		Is(b)
		parts, _ := Parts(bytes.NewReader(b), int64(len(b)))
		if len(parts) > MaxParts {
			t.Fatalf("%d parts", len(parts))
		}
		for _, p := range parts {
			if p.Offset < 0 || p.Size < 0 || p.Offset+p.Size > int64(len(b)) {
				t.Fatalf("part %+v outside input of %d bytes", p, len(b))
			}
		}
	})
}
