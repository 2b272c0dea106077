// Package imgfile holds the open files that the image file system readers
// (cramfs, jffs2, ubifs, extfs) return: the handle plumbing they share,
// around the decoding that each keeps to itself.
//
// A reader decodes a regular file's data in a Content, which only reads at
// an offset and may cache what it decoded; File adds the read position,
// Seek, Close, the bounds and errors of io.Reader, io.ReaderAt and
// io.Seeker, and the locking that makes one handle safe for concurrent
// use. Dir is a directory listed when it is opened. Lookup resolves paths,
// links included, in any reader's tree.
package imgfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
)

// Content is the data of one file, as a reader decodes it.
//
// File calls ReadAt with 0 <= off, 0 < len(p) and off+len(p) at most the
// size given to New, so a Content need not check bounds or stop at the
// end of the file. ReadAt must fill p or return an error saying why not;
// File wraps that error in an *fs.PathError. File never runs two ReadAt
// calls on one Content at once, so a Content may keep a cache of decoded
// blocks without locking.
type Content interface {
	ReadAt(p []byte, off int64) (int, error)
}

// File is an open regular file: it implements fs.File, io.ReaderAt and
// io.Seeker over a Content. It is safe for concurrent use; a mutex
// serialises the calls, so that ReadAt calls on one handle share the
// Content's cache instead of each decoding the same block.
type File struct {
	name string // the path for errors
	info fs.FileInfo
	size int64

	mu     sync.Mutex
	c      Content // nil for a file that reads as empty, and once closed
	pos    int64   // read position of Read and Seek
	closed bool
}

var _ interface {
	fs.File
	io.ReaderAt
	io.Seeker
} = (*File)(nil)

// New returns an open file named name (the path its errors carry) of size
// bytes read from c, which Stat describes with info. A nil c makes a file
// that reads as empty (a device, FIFO or socket, whose size is 0).
func New(name string, info fs.FileInfo, size int64, c Content) *File {
	return &File{name: name, info: info, size: size, c: c}
}

// Stat returns the FileInfo given to New, even after Close.
func (f *File) Stat() (fs.FileInfo, error) { return f.info, nil }

// Close drops the Content, so that its buffers can be collected; the
// handle cannot be used afterwards, and a second Close fails.
func (f *File) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return f.pathError("close", fs.ErrClosed)
	}
	f.closed, f.c = true, nil
	return nil
}

// Read reads from the read position and advances it.
func (f *File) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.pathError("read", fs.ErrClosed)
	}
	n, err := f.readAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// ReadAt reads len(p) bytes at offset off, like io.ReaderAt; it does not
// move the read position and may be called concurrently.
func (f *File) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.pathError("read", fs.ErrClosed)
	}
	return f.readAt(p, off)
}

// Seek sets the read position. A position past the end is allowed (reads
// there return io.EOF); a negative one is not.
func (f *File) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return 0, f.pathError("seek", fs.ErrClosed)
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, f.pathError("seek", fmt.Errorf("whence %d: %w", whence, fs.ErrInvalid))
	}
	// The position and the size are never negative, so only a large
	// offset can overflow, and it wraps to a negative position.
	if offset < 0 {
		return 0, f.pathError("seek", fmt.Errorf("negative position %d: %w", offset, fs.ErrInvalid))
	}
	f.pos = offset
	return offset, nil
}

// readAt cuts p at the end of the file, so that the Content reads only
// within it, and returns io.EOF, unwrapped as io.ReaderAt callers expect,
// when it did. The caller holds mu.
func (f *File) readAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, f.pathError("read", fmt.Errorf("negative offset %d: %w", off, fs.ErrInvalid))
	}
	if off >= f.size || f.c == nil {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > f.size-off {
		p, eof = p[:f.size-off], io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	n, err := f.c.ReadAt(p, off)
	if err != nil {
		return n, f.pathError("read", err)
	}
	return n, eof
}

func (f *File) pathError(op string, err error) error {
	return &fs.PathError{Op: op, Path: f.name, Err: err}
}

// Dir is an open directory whose entries were all listed when it was
// opened. Like an *os.File, it is not safe for concurrent use.
type Dir struct {
	name    string
	info    fs.FileInfo
	entries []fs.DirEntry
	pos     int // entries returned so far
}

var _ fs.ReadDirFile = (*Dir)(nil)

// NewDir returns an open directory named name, which Stat describes with
// info, holding entries (in the order ReadDir is to return them).
func NewDir(name string, info fs.FileInfo, entries []fs.DirEntry) *Dir {
	return &Dir{name: name, info: info, entries: entries}
}

// Stat returns the FileInfo given to NewDir.
func (d *Dir) Stat() (fs.FileInfo, error) { return d.info, nil }

// Close does nothing: the entries hold no resources.
func (d *Dir) Close() error { return nil }

// Read fails: a directory has no data.
func (d *Dir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

// ReadDir returns the next n entries, or all that remain when n <= 0.
func (d *Dir) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.pos:]
	if n <= 0 {
		d.pos = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.pos += n
	return rest[:n:n], nil
}

// DirNames records, for one directory listing, the name each
// subdirectory has there, by its inode key. A directory has one name: two
// entries for one directory would let each level of a crafted image
// multiply the next.
type DirNames[K comparable] map[K]string

// Claim records name for the directory key, or fails (naming both entries)
// when the listing already named it.
func (d DirNames[K]) Claim(key K, name string) error {
	if first, dup := d[key]; dup {
		return fmt.Errorf("%q and %q name one directory", first, name)
	}
	d[key] = name
	return nil
}

// ReadFull reads len(p) bytes of r at off. A full read is a success even
// when r also reports io.EOF (io.ReaderAt allows that at the end of its
// input); a short one fails, with io.ErrUnexpectedEOF when r gave no
// other reason.
func ReadFull(r io.ReaderAt, p []byte, off int64) error {
	n, err := r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
