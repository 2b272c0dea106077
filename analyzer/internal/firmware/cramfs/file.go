package cramfs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zlib"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

// fileInfo describes an inode. cramfs keeps no times.
type fileInfo struct {
	name string
	ino  inode
}

func (i fileInfo) Name() string { return i.name }

// Size is the length of a file's data or of a link's target; the bytes of
// a directory's entries; zero for other files (whose size field holds a
// device number).
func (i fileInfo) Size() int64 {
	if i.ino.isReg() || i.ino.isSymlink() || i.ino.isDir() {
		return int64(i.ino.size)
	}
	return 0
}

func (i fileInfo) Mode() fs.FileMode  { return unixmode.FileMode(uint32(i.ino.mode)) }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.ino.isDir() }
func (i fileInfo) Sys() any           { return nil }

func sortEntries(e []fs.DirEntry) {
	slices.SortFunc(e, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
}

// dirFile is an open directory.
type dirFile struct {
	info    fileInfo
	path    string
	entries []fs.DirEntry
	pos     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errors.New("is a directory")}
}

// ReadDir returns the next n entries, or all that remain when n <= 0.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
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

// file reads the data of a regular file or symbolic link, inflating one
// page at a time. Other files read as empty. It is safe for concurrent
// use: mu guards the read position and the page cache, so that ReadAt
// calls on one handle can share the inflated page.
type file struct {
	fs        *FS
	info      fileInfo
	path      string
	size      int64
	bs        int64    // block size: the bytes of a page
	ptrs      []uint32 // block pointers, one per page
	dataStart int64    // first byte after the block pointers

	mu       sync.Mutex
	pos      int64  // read position of Read and Seek
	pageIdx  int64  // page held in page, -1 when none
	page     []byte // the file's bytes of page pageIdx
	buf, src []byte
	closed   bool
}

var (
	_ io.ReaderAt = (*file)(nil)
	_ io.Seeker   = (*file)(nil)
)

// openData prepares to read the data of inode n.
func (f *FS) openData(n inode) (*file, error) {
	fl := &file{fs: f, info: fileInfo{ino: n}, size: int64(n.size), pageIdx: -1, bs: pageSize}
	if n.size == 0 {
		return fl, nil
	}
	// Read enough pointers for the smallest block size.
	pages := (fl.size + pageSize - 1) / pageSize
	if n.offset < f.start+superSize || n.offset+4*pages > f.size {
		return nil, fmt.Errorf("block pointers at 0x%x outside the image", n.offset)
	}
	raw := make([]byte, 4*pages)
	if err := readFull(f.r, raw, n.offset); err != nil {
		return nil, fmt.Errorf("reading block pointers at 0x%x: %w", n.offset, err)
	}
	fl.bs = f.blockSize(n, f.u32(raw))
	pages = (fl.size + fl.bs - 1) / fl.bs
	fl.dataStart = n.offset + 4*pages
	fl.ptrs = make([]uint32, pages)
	for i := range fl.ptrs {
		fl.ptrs[i] = f.u32(raw[4*i:])
	}
	return fl, nil
}

// blockSize finds the block size of a file: the page size of the machine
// that made the image, 4096 but for a few (mkfs.cramfs -b). With a block
// size B, the first block starts after ceil(size/B) pointers, and the first
// pointer, a plain one, holds its end; a compressed block starts with a
// zlib header.
func (f *FS) blockSize(n inode, ptr0 uint32) int64 {
	if ptr0&blkFlags != 0 || n.size <= pageSize {
		return pageSize
	}
	for bs := int64(pageSize); bs <= maxBlockSize; bs *= 2 {
		start := n.offset + 4*((int64(n.size)+bs-1)/bs)
		end := int64(ptr0)
		if end == start {
			return bs // a hole: the first block is empty
		}
		var h [2]byte
		if end > start && end-start <= 2*bs && readFull(f.r, h[:], start) == nil &&
			h[0]&0x0f == 8 && (uint(h[0])<<8|uint(h[1]))%31 == 0 {
			return bs
		}
	}
	return pageSize
}

func (fl *file) Stat() (fs.FileInfo, error) { return fl.info, nil }

// Close releases the page buffers; the handle cannot be used afterwards.
func (fl *file) Close() error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return fl.pathError("close", fs.ErrClosed)
	}
	fl.closed = true
	fl.pageIdx, fl.page, fl.buf, fl.src = -1, nil, nil, nil
	return nil
}

// Read reads from the read position and advances it.
func (fl *file) Read(b []byte) (int, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return 0, fl.pathError("read", fs.ErrClosed)
	}
	n, err := fl.readAt(b, fl.pos)
	fl.pos += int64(n)
	return n, err
}

// ReadAt reads len(b) bytes at offset off, like io.ReaderAt; it does not
// move the read position and may be called concurrently.
func (fl *file) ReadAt(b []byte, off int64) (int, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return 0, fl.pathError("read", fs.ErrClosed)
	}
	return fl.readAt(b, off)
}

// Seek sets the read position. A position past the end is allowed (reads
// there return io.EOF); a negative one is not.
func (fl *file) Seek(offset int64, whence int) (int64, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return 0, fl.pathError("seek", fs.ErrClosed)
	}
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += fl.pos
	case io.SeekEnd:
		offset += fl.size
	default:
		return 0, fl.pathError("seek", fmt.Errorf("whence %d: %w", whence, fs.ErrInvalid))
	}
	// The position and the size are never negative, so only a large
	// offset can overflow, and it wraps to a negative position.
	if offset < 0 {
		return 0, fl.pathError("seek", fmt.Errorf("negative position %d: %w", offset, fs.ErrInvalid))
	}
	fl.pos = offset
	return offset, nil
}

// readAt fills b from offset off, page by page, keeping the last page
// inflated for the next call. The caller holds mu.
func (fl *file) readAt(b []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fl.pathError("read", fmt.Errorf("negative offset %d: %w", off, fs.ErrInvalid))
	}
	if off >= fl.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(b)) > fl.size-off {
		b, eof = b[:fl.size-off], io.EOF
	}
	n := 0
	for n < len(b) {
		pos := off + int64(n)
		idx := pos / fl.bs
		if idx != fl.pageIdx {
			if err := fl.load(idx); err != nil {
				return n, fl.pathError("read", fmt.Errorf("page %d: %w", idx, err))
			}
		}
		n += copy(b[n:], fl.page[pos-idx*fl.bs:])
	}
	return n, eof
}

func (fl *file) pathError(op string, err error) error {
	return &fs.PathError{Op: op, Path: fl.path, Err: err}
}

// load reads page idx into fl.page.
func (fl *file) load(idx int64) error {
	fl.pageIdx = -1
	if fl.buf == nil {
		fl.buf = make([]byte, fl.bs)
		fl.src = make([]byte, 2*fl.bs)
	}
	want := min(fl.bs, fl.size-idx*fl.bs)
	start, length, raw, err := fl.extent(idx)
	if err != nil {
		return err
	}
	switch {
	case length == 0: // a hole
		clear(fl.buf)
	case length > 2*fl.bs || raw && length > fl.bs:
		return fmt.Errorf("bad block length %d at 0x%x", length, start)
	case start < 0 || start+length > fl.fs.size:
		return fmt.Errorf("block at 0x%x-0x%x outside the image", start, start+length)
	case raw:
		if err := readFull(fl.fs.r, fl.buf[:length], start); err != nil {
			return err
		}
		clear(fl.buf[length:])
	default:
		src := fl.src[:length]
		if err := readFull(fl.fs.r, src, start); err != nil {
			return err
		}
		if err := fl.inflate(src); err != nil {
			return fmt.Errorf("block at 0x%x: %w", start, err)
		}
	}
	fl.page, fl.pageIdx = fl.buf[:want], idx
	return nil
}

// extent finds where page idx is stored. A plain block pointer holds the
// end of its block, which starts where the previous one ends; a direct
// pointer holds the block's start (divided by 4), followed by a 16-bit
// length when it is compressed.
func (fl *file) extent(idx int64) (start, length int64, raw bool, err error) {
	ptr := fl.ptrs[idx]
	raw = ptr&blkUncompressed != 0
	if ptr&blkDirect != 0 {
		start = int64(ptr&^blkFlags) << 2
		if raw {
			return start, min(fl.bs, fl.size-idx*fl.bs), true, nil
		}
		l, err := fl.u16At(start)
		return start + 2, int64(l), false, err
	}
	start = fl.dataStart
	if idx > 0 {
		prev := fl.ptrs[idx-1]
		switch ps := int64(prev&^blkFlags) << 2; {
		case prev&blkDirect == 0:
			start = int64(prev &^ blkFlags)
		case prev&blkUncompressed != 0:
			start = ps + fl.bs
		default:
			l, err := fl.u16At(ps)
			if err != nil {
				return 0, 0, false, err
			}
			start = ps + 2 + int64(l)
		}
	}
	length = int64(ptr&^blkFlags) - start
	if length < 0 {
		return 0, 0, false, fmt.Errorf("block pointer 0x%x before block start 0x%x", ptr, start)
	}
	return start, length, raw, nil
}

func (fl *file) u16At(off int64) (uint16, error) {
	var b [2]byte
	if off < 0 || off+2 > fl.fs.size {
		return 0, fmt.Errorf("block length at 0x%x outside the image", off)
	}
	if err := readFull(fl.fs.r, b[:], off); err != nil {
		return 0, err
	}
	return fl.fs.u16(b[:]), nil
}

// inflate decompresses one zlib block into fl.buf. Like the kernel it
// zero-fills a short page and refuses one that inflates past the page.
func (fl *file) inflate(src []byte) error {
	br := bytes.NewReader(src)
	zr, _ := fl.fs.zlibs.Get().(io.ReadCloser)
	if zr == nil {
		var err error
		if zr, err = zlib.NewReader(br); err != nil {
			return err
		}
	} else if err := zr.(zlib.Resetter).Reset(br, nil); err != nil {
		fl.fs.zlibs.Put(zr)
		return err
	}
	defer fl.fs.zlibs.Put(zr)
	n := 0
	for n < len(fl.buf) {
		m, err := zr.Read(fl.buf[n:])
		n += m
		if err == io.EOF {
			clear(fl.buf[n:])
			return nil
		}
		if err != nil {
			return err
		}
	}
	var one [1]byte
	switch _, err := io.ReadFull(zr, one[:]); err {
	case io.EOF:
		return nil
	case nil:
		return errors.New("block inflates past the page size")
	default:
		return err
	}
}
