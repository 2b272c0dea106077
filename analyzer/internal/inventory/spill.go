package inventory

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Spill keeps copies of files the content scan has already read (the
// binaries it holds in memory) in one temporary file, so that Syft's
// binary catalogers, which read every executable again, read them from
// the page cache instead of decompressing them from a filesystem image a
// second time. It is safe for concurrent use.
type Spill struct {
	mu   sync.Mutex
	f    *os.File
	end  int64
	max  int64
	at   map[string]span
	full bool // a write failed: keep no more
}

type span struct{ off, size int64 }

// NewSpill creates the spill file in dir ("" for the system temporary
// directory); it keeps at most max bytes.
func NewSpill(dir string, max int64) (*Spill, error) {
	f, err := os.CreateTemp(dir, ".oemtrace-spill-*")
	if err != nil {
		return nil, fmt.Errorf("creating a spill file: %w", err)
	}
	return &Spill{f: f, max: max, at: map[string]span{}}, nil
}

// Copy is the copy of one file being written; Kept reads it back once
// Close has kept it.
type Copy interface {
	io.WriteCloser
	Kept() io.ReaderAt
}

// Writer returns a writer for the copy of the file at path, size bytes
// long; Close keeps the copy if exactly size bytes were written. A file
// that does not fit, or a write error, only means the cataloger reads
// that file where it lies.
func (s *Spill) Writer(path string, size int64) Copy {
	// Space is reserved under the lock and written outside it, so the
	// scan's workers write their copies at the same time.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.full || size < 0 || s.end+size > s.max {
		return discard{}
	}
	w := &spillWriter{s: s, path: path, off: s.end, size: size}
	s.end += size
	return w
}

// spillWriter writes one copy into its reserved span.
type spillWriter struct {
	s         *Spill
	path      string
	off, size int64
	n         int64
	err       error
	kept      bool
}

func (w *spillWriter) Write(b []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.n+int64(len(b)) > w.size {
		w.err = errors.New("copy longer than declared")
		return 0, w.err
	}
	n, err := w.s.f.WriteAt(b, w.off+w.n)
	w.n += int64(n)
	w.err = err
	return n, err
}

func (w *spillWriter) Close() error {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if w.err != nil || w.n != w.size {
		return w.err
	}
	w.s.at[w.path] = span{w.off, w.size}
	w.kept = true
	return nil
}

// Kept reads the copy once Close has kept it, else returns nil.
func (w *spillWriter) Kept() io.ReaderAt {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	if !w.kept {
		return nil
	}
	return io.NewSectionReader(w.s.f, w.off, w.size)
}

// discard is the writer of a copy not kept.
type discard struct{}

func (discard) Write(b []byte) (int, error) { return len(b), nil }
func (discard) Close() error                { return nil }
func (discard) Kept() io.ReaderAt           { return nil }

// open returns a reader of the kept copy of path, if there is one.
func (s *Spill) open(path string) (*io.SectionReader, bool) {
	if s == nil {
		return nil, false
	}
	s.mu.Lock()
	sp, ok := s.at[path]
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	return io.NewSectionReader(s.f, sp.off, sp.size), true
}

// Close removes the spill file.
func (s *Spill) Close() error {
	err := s.f.Close()
	if rerr := os.Remove(s.f.Name()); err == nil {
		err = rerr
	}
	return err
}
