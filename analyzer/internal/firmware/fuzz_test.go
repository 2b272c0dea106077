package firmware

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

func addFixtures(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzDetect(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		Detect(b)
		isTar(b)
	})
}

func FuzzCpio(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "out")
		os.Mkdir(dst, 0o755)
		w := extract.NewWriter(dst, extract.Limits{MaxBytes: 1 << 16, MaxEntries: 64, MaxFileBytes: 1 << 16})
		extractCpio(context.Background(), bytesReader(b), w)
		w.Finish()
		checkParent(t, parent)
	})
}

func FuzzUnpack(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		parent := t.TempDir()
		in := filepath.Join(parent, "in")
		if err := os.WriteFile(in, b, 0o644); err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(parent, "out")
		os.Mkdir(dst, 0o755)
		Unpack(context.Background(), in, dst, extract.Limits{MaxBytes: 1 << 16, MaxEntries: 64, MaxFileBytes: 1 << 16})
		checkParent(t, parent)
	})
}

func checkParent(t *testing.T, parent string) {
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		if e.Name() != "out" && e.Name() != "in" {
			t.Fatalf("%q written next to dst", e.Name())
		}
	}
}

func bytesReader(b []byte) *bytesR { return &bytesR{b: b} }

// bytesR is a minimal reader (no WriteTo) over b.
type bytesR struct{ b []byte }

func (r *bytesR) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
