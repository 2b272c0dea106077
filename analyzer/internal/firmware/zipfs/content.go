package zipfs

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
)

// newContent returns the data of the entry f: the stored bytes read in
// place, or a deflate stream.
func newContent(f *zip.File) imgfile.Content {
	if f.Method == zip.Store {
		if raw, err := f.OpenRaw(); err == nil {
			if ra, ok := raw.(io.ReaderAt); ok {
				return stored{ra}
			}
		}
	}
	return &stream{f: f}
}

// stored reads a stored entry straight from the archive. Its CRC is not
// checked: the bytes are what a reader of the archive gets.
type stored struct{ ra io.ReaderAt }

func (s stored) ReadAt(p []byte, off int64) (int, error) {
	if err := imgfile.ReadFull(s.ra, p, off); err != nil {
		return 0, fmt.Errorf("stored zip entry: %w", err)
	}
	return len(p), nil
}

// stream decompresses a deflated entry as it is read, forward only: a
// read before the position opens the stream again.
type stream struct {
	f   *zip.File
	rc  io.ReadCloser
	pos int64 // of rc in the entry's data
}

func (s *stream) ReadAt(p []byte, off int64) (int, error) {
	if s.rc == nil || off < s.pos {
		if s.rc != nil {
			s.rc.Close()
		}
		rc, err := s.f.Open()
		if err != nil {
			s.rc = nil
			return 0, err
		}
		s.rc, s.pos = rc, 0
	}
	if off > s.pos {
		n, err := io.CopyN(io.Discard, s.rc, off-s.pos)
		s.pos += n
		if err != nil {
			return 0, s.fail(err)
		}
	}
	n, err := io.ReadFull(s.rc, p)
	s.pos += int64(n)
	if err != nil {
		return n, s.fail(err)
	}
	if s.pos == int64(s.f.UncompressedSize64) {
		// Drain to the end, so that archive/zip checks the size and CRC.
		var one [1]byte
		if m, err := s.rc.Read(one[:]); m > 0 || (err != nil && err != io.EOF) {
			return n, s.fail(errOr(err, "zip entry longer than its declared size"))
		}
	}
	return n, nil
}

// fail drops the stream after an error and says what happened.
func (s *stream) fail(err error) error {
	s.rc.Close()
	s.rc = nil
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return errors.New("zip entry shorter than its declared size")
	case errors.Is(err, zip.ErrFormat):
		// archive/zip's reader stops at the declared size this way.
		return errors.New("zip entry longer than its declared size")
	}
	return fmt.Errorf("zip entry: %w", err)
}

func errOr(err error, what string) error {
	if err != nil && err != io.EOF {
		return err
	}
	return errors.New(what)
}
