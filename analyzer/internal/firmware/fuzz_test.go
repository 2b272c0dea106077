package firmware

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
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
		NestedFile(b, bytes.NewReader(b))
	})
}

func FuzzCpio(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		parent := t.TempDir()
		dst := filepath.Join(parent, "out")
		os.Mkdir(dst, 0o755)
		w := extract.NewWriter(dst, fuzzLimits)
		extractCpio(context.Background(), bytesReader(b), w)
		w.Finish()
		checkParent(t, parent)
	})
}

func FuzzUnpack(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		parent, in, dst := fuzzInput(t, b)
		Unpack(context.Background(), in, dst, fuzzLimits)
		checkParent(t, parent)
	})
}

// FuzzVisit reads every file of every tree in place, sequentially and at
// offsets, as the analyzer does: a corrupt image gives read errors, never a
// panic or a read past a file's listed size.
func FuzzVisit(f *testing.F) {
	addFixtures(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		parent, in, dst := fuzzInput(t, b)
		Visit(context.Background(), in, dst, fuzzLimits, func(r Root) {
			if r.Tree == nil {
				return
			}
			for _, e := range r.Tree.Entries {
				if e.Mode.IsRegular() {
					readBoth(t, r.Tree, e.Path, e.Size)
				}
			}
		})
		checkParent(t, parent)
	})
}

// readBoth reads a file of a tree to its listed size, then at a few
// offsets, and fails when ReadAt returns more than was asked.
func readBoth(t *testing.T, tr *fstree.Tree, p string, size int64) {
	f, err := tr.Open(p)
	if err != nil {
		return
	}
	defer f.Close()
	io.Copy(io.Discard, io.LimitReader(f, size))
	buf := make([]byte, 64)
	for _, off := range []int64{0, size / 2, max(size-1, 0), size} {
		if n, _ := f.ReadAt(buf, off); n > len(buf) {
			t.Fatalf("%s: ReadAt returned %d bytes for a %d-byte buffer", p, n, len(buf))
		}
	}
}

// fuzzLimits keeps every fuzzed input small to unpack.
var fuzzLimits = extract.Limits{MaxBytes: 1 << 16, MaxEntries: 64, MaxFileBytes: 1 << 16}

// fuzzInput writes b to parent/in and makes the destination parent/out.
func fuzzInput(t *testing.T, b []byte) (parent, in, dst string) {
	parent = t.TempDir()
	in = filepath.Join(parent, "in")
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	dst = filepath.Join(parent, "out")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	return parent, in, dst
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
