package imgtest

import (
	"bytes"
	"compress/gzip"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"strings"
	"testing"
)

// Limits bound what WalkAll reads, so that walking a hostile image, which
// may list huge files or many entries, stays quick.
type Limits struct {
	File    int64 // bytes read from each file
	Total   int64 // bytes read from all files together; 0 for no bound
	Entries int   // entries visited; 0 for no bound
}

// WalkAll visits everything in fsys, within lim: it stats every entry,
// reads every link target, and opens every file that is not a directory,
// reads it and probes it with ProbeReadAt. Errors are expected of a
// damaged image; the walk must neither panic nor hang, nor go deeper than
// the readers allow.
func WalkAll(t testing.TB, fsys fs.FS, lim Limits) {
	w := &walker{t: t, fsys: fsys, lim: lim}
	w.walk(".", 0)
}

type walker struct {
	t       testing.TB
	fsys    fs.FS
	lim     Limits
	entries int   // entries visited
	read    int64 // bytes read from files
}

// more counts an entry and reports whether the walk may visit it.
func (w *walker) more() bool {
	w.entries++
	return (w.lim.Entries == 0 || w.entries <= w.lim.Entries) && (w.lim.Total == 0 || w.read < w.lim.Total)
}

// walk visits the entries of dir, depth directories below ".", even
// when listing it fails: a damaged directory may list some.
func (w *walker) walk(dir string, depth int) {
	if depth > maxDepth {
		w.t.Errorf("%s: walk deeper than %d directories", dir, maxDepth)
		return
	}
	entries, _ := fs.ReadDir(w.fsys, dir)
	for _, e := range entries {
		if !w.more() {
			return
		}
		p := path.Join(dir, e.Name())
		_, _ = e.Info()
		_, _ = fs.Lstat(w.fsys, p)
		_, _ = fs.Stat(w.fsys, p)
		switch {
		case e.IsDir():
			w.walk(p, depth+1)
		case e.Type()&fs.ModeSymlink != 0:
			_, _ = fs.ReadLink(w.fsys, p)
		default:
			w.read += w.file(p)
		}
	}
}

// file reads up to lim.File bytes of file p, probes it and returns the
// bytes it read.
func (w *walker) file(p string) int64 {
	f, err := w.fsys.Open(p)
	if err != nil {
		return 0
	}
	defer f.Close()
	head := make([]byte, min(w.lim.File, 8192))
	n, _ := io.ReadFull(f, head)
	rest, _ := io.CopyN(io.Discard, f, w.lim.File-int64(n))
	ProbeReadAt(w.t, f, head[:n])
	return int64(n) + rest
}

// WalkCuts opens each prefix data[:n], n in cuts, with open (a reader's
// Open) and walks each image open accepts with walk.
func WalkCuts[F any](data []byte, cuts []int, open func(io.ReaderAt, int64) (F, error), walk func(F)) {
	for _, n := range cuts {
		if f, err := open(bytes.NewReader(data[:n]), int64(n)); err == nil {
			walk(f)
		}
	}
}

// WalkFlips damages data one byte at a time: each byte i for which
// limit(i) is positive is xored with xor, the result opened with open (a
// reader's Open) and, if accepted, walked with walk, given limit(i) (how
// much of each file to read, say), before the byte is restored.
func WalkFlips[F any](data []byte, xor byte, limit func(i int) int64, open func(io.ReaderAt, int64) (F, error), walk func(F, int64)) {
	bad := bytes.Clone(data)
	for i := range bad {
		l := limit(i)
		if l <= 0 {
			continue
		}
		bad[i] ^= xor
		if f, err := open(bytes.NewReader(bad), int64(len(bad))); err == nil {
			walk(f, l)
		}
		bad[i] = data[i]
	}
}

// Foreign returns inputs that hold no file system, by name: nothing, size
// zero bytes, size random (but always the same) bytes, and the files of
// paths that exist, fixtures of other formats.
func Foreign(size int, paths ...string) map[string][]byte {
	rnd := make([]byte, size)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	inputs := map[string][]byte{"empty": nil, "zeros": make([]byte, size), "random": rnd}
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			inputs[p] = b
		}
	}
	return inputs
}

// CheckRefuses checks that open, a reader's Open, refuses each of inputs.
func CheckRefuses[F any](t *testing.T, open func(io.ReaderAt, int64) (F, error), inputs map[string][]byte) {
	t.Helper()
	for name, b := range inputs {
		if _, err := open(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// Load returns the contents of file, gunzipped when its name ends in
// ".gz" (as the larger fixtures are stored).
func Load(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(file, ".gz") {
		return b
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if b, err = io.ReadAll(zr); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return b
}
