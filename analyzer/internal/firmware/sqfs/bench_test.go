package sqfs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// BenchmarkReadAll opens the image named by OEMTRACE_SQFS_BENCH, walks it
// and reads every regular file with two goroutines. testdata/bench.sh
// builds the reference image and compares with unsquashfs.
func BenchmarkReadAll(b *testing.B) {
	img := os.Getenv("OEMTRACE_SQFS_BENCH")
	if img == "" {
		b.Skip("OEMTRACE_SQFS_BENCH is not set")
	}
	fh, err := os.Open(img)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		fsys, err := Open(fh, st.Size())
		if err != nil {
			b.Fatal(err)
		}
		n, err := readAll(fsys, 2)
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(n)
	}
}

// readAll walks fsys and reads every regular file with workers goroutines.
// It returns the bytes read and the first error.
func readAll(fsys fs.FS, workers int) (int64, error) {
	paths := make(chan string, 64)
	var (
		mu    sync.Mutex
		total int64
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil {
			first = err
		}
		mu.Unlock()
	}
	for range workers {
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			var n int64
			for p := range paths {
				k, err := readFile(fsys, p, buf)
				n += k
				if err != nil {
					fail(err)
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			fail(err)
			return nil
		}
		if d.Type().IsRegular() {
			paths <- p
		}
		return nil
	})
	close(paths)
	wg.Wait()
	if err != nil {
		return total, err
	}
	return total, first
}

func readFile(fsys fs.FS, p string, buf []byte) (int64, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var n int64
	for {
		k, err := f.Read(buf)
		n += int64(k)
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

// BenchmarkReadOne reads the largest file of the image named by
// OEMTRACE_SQFS_BENCH with one goroutine, with and without read-ahead.
func BenchmarkReadOne(b *testing.B) {
	img := os.Getenv("OEMTRACE_SQFS_BENCH")
	if img == "" {
		b.Skip("OEMTRACE_SQFS_BENCH is not set")
	}
	fh, err := os.Open(img)
	if err != nil {
		b.Fatal(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		b.Fatal(err)
	}
	fsys, err := Open(fh, st.Size())
	if err != nil {
		b.Fatal(err)
	}
	var big string
	var size int64
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if info, err := d.Info(); err == nil && info.Size() > size {
				big, size = p, info.Size()
			}
		}
		return nil
	})
	for _, ra := range []int{1, defaultReadAhead()} {
		b.Run(fmt.Sprintf("readahead=%d", ra), func(b *testing.B) {
			fsys.readAhead = ra
			buf := make([]byte, 256<<10)
			b.SetBytes(size)
			for b.Loop() {
				if _, err := readFile(fsys, big, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestAgainstUnsquashfs extracts the image named by OEMTRACE_SQFS_BENCH
// with unsquashfs and checks that every regular file and symlink reads the
// same through FS.
func TestAgainstUnsquashfs(t *testing.T) {
	img := os.Getenv("OEMTRACE_SQFS_BENCH")
	if img == "" {
		t.Skip("OEMTRACE_SQFS_BENCH is not set")
	}
	bin, err := exec.LookPath("unsquashfs")
	if err != nil {
		t.Skip("no unsquashfs")
	}
	dir := filepath.Join(t.TempDir(), "out")
	if out, err := exec.Command(bin, "-q", "-n", "-d", dir, img).CombinedOutput(); err != nil {
		t.Fatalf("unsquashfs: %v\n%s", err, out)
	}
	fh, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Open(fh, st.Size())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type().IsRegular():
			want, _, err := hashFile(os.DirFS(dir), rel)
			if err != nil {
				return err
			}
			got, _, err := hashFile(fsys, rel)
			if err != nil || got != want {
				t.Errorf("%s: %v, content differs: %v", rel, err, got != want)
			}
			n++
		case d.Type()&fs.ModeSymlink != 0:
			want, _ := os.Readlink(p)
			if got, err := fsys.ReadLink(rel); err != nil || got != want {
				t.Errorf("%s: link %q, %v; want %q", rel, got, err, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d files compared", n)
}
