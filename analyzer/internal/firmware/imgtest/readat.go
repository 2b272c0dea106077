// Package imgtest holds the test checks that the image file system
// readers (cramfs, jffs2, ubifs, extfs) share: random access on open
// files, manifests of fixture trees, and hostile-input walks.
//
// It is a regular package, not a _test.go file, so that the tests of
// several packages can import it; only _test.go files may import it, as
// it depends on package testing.
package imgtest

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
)

// Boundaries returns the multiples of step from step up to the first at
// or past size: the split points of a file stored in blocks of step bytes.
func Boundaries(step, size int64) []int64 {
	var out []int64
	for off := step; off < size+step; off += step {
		out = append(out, off)
	}
	return out
}

// CheckRandomAccess reads the regular file name of fsys sequentially, then
// checks on one handle that ReadAt and Seek+Read return the same bytes at
// many offsets (the ends, each of splits ±1, random ones) and lengths
// (within and across split points, past the end), that ReadAt leaves the
// read position alone, that ReadAt from several goroutines at once
// agrees, and that a closed handle refuses everything. splits are where
// the format cuts the file's data into separately stored pieces (blocks,
// pages, nodes, holes), where reads are most likely to go wrong.
func CheckRandomAccess(t *testing.T, fsys fs.FS, name string, splits []int64) {
	t.Helper()
	want, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("%s: sequential read: %v", name, err)
	}
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	size := int64(len(want))
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	offsets := []int64{0, 1, size - 1, size, size + 1, size + 1<<20, math.MaxInt64}
	for _, p := range splits {
		offsets = append(offsets, p-1, p, p+1)
	}
	for range 32 {
		offsets = append(offsets, rng.Int64N(size+1))
	}
	lengths := []int{0, 1, 2, 100, 4095, 4096, 4097, 3*4096 + 7}
	r := f.(io.ReaderAt)
	for _, off := range offsets {
		for _, l := range lengths {
			checkReadAt(t, name, r, want, off, l)
		}
	}
	checkReadAt(t, name, r, want, 0, len(want))
	checkReadAt(t, name, r, want, 0, len(want)+1)
	if n, err := r.ReadAt(make([]byte, 10), -1); n != 0 || !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("%s: ReadAt at -1: %d, %v", name, n, err)
	}
	checkSeek(t, name, f, want, offsets, lengths, rng)
	checkConcurrentReadAt(t, name, r, want)
	checkClosed(t, name, f)
}

// checkReadAt checks ReadAt of l bytes at off against want, the file's
// bytes, as io.ReaderAt specifies it.
func checkReadAt(t *testing.T, name string, r io.ReaderAt, want []byte, off int64, l int) {
	t.Helper()
	if off < 0 {
		return
	}
	size := int64(len(want))
	buf := make([]byte, l)
	n, err := r.ReadAt(buf, off)
	wantN := int(max(0, min(int64(l), size-off)))
	if n != wantN {
		t.Errorf("%s: ReadAt(%d bytes, %d) = %d bytes, %v; want %d bytes", name, l, off, n, err, wantN)
		return
	}
	if !bytes.Equal(buf[:n], want[min(off, size):][:n]) {
		t.Errorf("%s: ReadAt(%d bytes, %d): bytes differ from a sequential Read", name, l, off)
		return
	}
	rest := size - off // what remains from off; negative past the end
	switch {
	case int64(l) > rest && l > 0 && err != io.EOF,
		int64(l) < rest && err != nil,
		err != nil && err != io.EOF:
		t.Errorf("%s: ReadAt(%d bytes, %d) of %d: error %v", name, l, off, size, err)
	}
}

// checkSeek seeks to each offset with each whence in turn and reads, with
// a ReadAt elsewhere in between, which must not disturb the position.
func checkSeek(t *testing.T, name string, f fs.File, want []byte, offsets []int64, lengths []int, rng *rand.Rand) {
	t.Helper()
	s := f.(io.Seeker)
	size := int64(len(want))
	for i, off := range offsets {
		if off < 0 || off > size+1<<20 {
			continue
		}
		var pos int64
		var err error
		switch i % 3 {
		case 0:
			pos, err = s.Seek(off, io.SeekStart)
		case 1:
			cur, _ := s.Seek(0, io.SeekCurrent)
			pos, err = s.Seek(off-cur, io.SeekCurrent)
		case 2:
			pos, err = s.Seek(off-size, io.SeekEnd)
		}
		if err != nil || pos != off {
			t.Errorf("%s: Seek to %d (whence %d) = %d, %v", name, off, i%3, pos, err)
			continue
		}
		checkReadAt(t, name, f.(io.ReaderAt), want, rng.Int64N(size+1), 4097)
		l := lengths[i%len(lengths)]
		buf := make([]byte, l)
		n, err := io.ReadFull(f, buf)
		wantN := int(max(0, min(int64(l), size-off)))
		if n != wantN || !bytes.Equal(buf[:n], want[min(off, size):][:n]) || (n == l) != (err == nil) {
			t.Errorf("%s: Read(%d bytes) at %d = %d bytes, %v; want %d bytes", name, l, off, n, err, wantN)
		}
		if cur, err := s.Seek(0, io.SeekCurrent); err != nil || cur != off+int64(n) {
			t.Errorf("%s: position %d after reading %d bytes at %d, %v", name, cur, n, off, err)
		}
	}
	for _, c := range []struct {
		off    int64
		whence int
	}{{-1, io.SeekStart}, {-size - 1, io.SeekEnd}, {math.MinInt64, io.SeekCurrent}, {0, 3}} {
		if _, err := s.Seek(c.off, c.whence); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%s: Seek(%d, %d): %v, want an invalid argument", name, c.off, c.whence, err)
		}
	}
}

// checkConcurrentReadAt reads at random offsets from several goroutines
// at once (run with -race).
func checkConcurrentReadAt(t *testing.T, name string, r io.ReaderAt, want []byte) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(2, uint64(g)))
			for range 50 {
				checkReadAt(t, name, r, want, rng.Int64N(int64(len(want))+1), rng.IntN(3*4096))
			}
		})
	}
	wg.Wait()
}

// checkClosed closes f and checks that every call then fails with
// fs.ErrClosed in an *fs.PathError.
func checkClosed(t *testing.T, name string, f fs.File) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Fatalf("%s: Close: %v", name, err)
	}
	buf := make([]byte, 10)
	_, readErr := f.Read(buf)
	_, readAtErr := f.(io.ReaderAt).ReadAt(buf, 0)
	_, seekErr := f.(io.Seeker).Seek(0, io.SeekStart)
	for op, err := range map[string]error{"Read": readErr, "ReadAt": readAtErr, "Seek": seekErr, "Close": f.Close()} {
		var pe *fs.PathError
		if !errors.As(err, &pe) || !errors.Is(err, fs.ErrClosed) {
			t.Errorf("%s: %s after Close: %v, want a *fs.PathError with fs.ErrClosed", name, op, err)
		}
	}
}

// ProbeReadAt checks ReadAt of an open file at a few offsets against
// head, what Read returned from its start: the same bytes where both
// succeed, io.EOF at and past the end, an error before the start. It
// suits damaged images, where reads may fail.
func ProbeReadAt(t testing.TB, f fs.File, head []byte) {
	rs, ok := f.(io.ReadSeeker)
	ra, okAt := f.(io.ReaderAt)
	if !ok || !okAt {
		// A damaged directory entry can call a directory a file: only
		// a regular file must offer random access.
		if info, err := f.Stat(); err == nil && info.Mode().IsRegular() {
			t.Errorf("%T: a regular file without ReadAt and Seek", f)
		}
		return
	}
	size, err := rs.Seek(0, io.SeekEnd)
	if err != nil {
		t.Errorf("Seek to the end: %v", err)
		return
	}
	buf := make([]byte, 100)
	for _, off := range []int64{0, 1, 4095, 4096, size / 2, size - 1, size, size + 1, math.MaxInt64, -1} {
		n, err := ra.ReadAt(buf, off)
		switch {
		case n < 0 || n > len(buf):
			t.Errorf("ReadAt(%d) = %d bytes", off, n)
		case off < 0:
			if n != 0 || err == nil {
				t.Errorf("ReadAt(%d) = %d, %v; want an error", off, n, err)
			}
		case off >= size:
			if n != 0 || err != io.EOF {
				t.Errorf("ReadAt(%d) of %d = %d, %v; want io.EOF", off, size, n, err)
			}
		case err != nil && err != io.EOF:
		case int64(n) != min(int64(len(buf)), size-off) || n < len(buf) && err != io.EOF:
			t.Errorf("ReadAt(%d) of %d = %d, %v", off, size, n, err)
		case off < int64(len(head)):
			k := min(n, len(head)-int(off))
			if !bytes.Equal(buf[:k], head[off:][:k]) {
				t.Errorf("ReadAt(%d) differs from Read", off)
			}
		}
	}
}

// countingReaderAt counts the reads of an image.
type countingReaderAt struct {
	r io.ReaderAt
	n atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	c.n.Add(1)
	return c.r.ReadAt(p, off)
}

// CheckCached opens img with open through a reader that counts its
// reads, reads a header of file name with ReadAt, then bytes near it
// with ReadAt and Read, and checks that only the first call read the
// image: the decoded block is kept for the next call.
func CheckCached[F fs.FS](t *testing.T, open func(io.ReaderAt, int64) (F, error), img []byte, name string) {
	t.Helper()
	reads := &countingReaderAt{r: bytes.NewReader(img)}
	fsys, err := open(reads, int64(len(img)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := fsys.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := f.(io.ReaderAt)
	buf := make([]byte, 64)
	if _, err := r.ReadAt(buf, 0); err != nil {
		t.Fatal(err)
	}
	before := reads.n.Load()
	for _, off := range []int64{1000, 16, 3000, 0} {
		if _, err := r.ReadAt(buf, off); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := io.ReadFull(f, buf); err != nil {
		t.Fatal(err)
	}
	if n := reads.n.Load() - before; n != 0 {
		t.Errorf("%s: %d more reads of the image for bytes of the block already read", name, n)
	}
}
