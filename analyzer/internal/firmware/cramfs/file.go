package cramfs

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/inflate"
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

// pages reads the data of a regular file or symbolic link, inflating one
// page at a time and keeping the last page inflated for the next read;
// imgfile.File serialises the reads.
type pages struct {
	fs        *FS
	size      int64
	bs        int64    // block size: the bytes of a page
	ptrs      []uint32 // block pointers, one per page
	dataStart int64    // first byte after the block pointers

	pageIdx  int64  // page held in page, -1 when none
	page     []byte // the file's bytes of page pageIdx
	buf, src []byte
}

// openData prepares to read the data of inode n.
func (f *FS) openData(n inode) (*pages, error) {
	pg := &pages{fs: f, size: int64(n.size), pageIdx: -1, bs: pageSize}
	if n.size == 0 {
		return pg, nil
	}
	// Read enough pointers for the smallest block size.
	npages := (pg.size + pageSize - 1) / pageSize
	if n.offset < f.start+superSize || n.offset+4*npages > f.size {
		return nil, fmt.Errorf("block pointers at 0x%x outside the image", n.offset)
	}
	raw := make([]byte, 4*npages)
	if err := imgfile.ReadFull(f.r, raw, n.offset); err != nil {
		return nil, fmt.Errorf("reading block pointers at 0x%x: %w", n.offset, err)
	}
	pg.bs = f.blockSize(n, f.u32(raw))
	npages = (pg.size + pg.bs - 1) / pg.bs
	pg.dataStart = n.offset + 4*npages
	pg.ptrs = make([]uint32, npages)
	for i := range pg.ptrs {
		pg.ptrs[i] = f.u32(raw[4*i:])
	}
	return pg, nil
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
		if end > start && end-start <= 2*bs && imgfile.ReadFull(f.r, h[:], start) == nil &&
			h[0]&0x0f == 8 && (uint(h[0])<<8|uint(h[1]))%31 == 0 {
			return bs
		}
	}
	return pageSize
}

// ReadAt fills b from offset off, page by page.
func (pg *pages) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		pos := off + int64(n)
		idx := pos / pg.bs
		if idx != pg.pageIdx {
			if err := pg.load(idx); err != nil {
				return n, fmt.Errorf("page %d: %w", idx, err)
			}
		}
		n += copy(b[n:], pg.page[pos-idx*pg.bs:])
	}
	return n, nil
}

// load reads page idx into pg.page.
func (pg *pages) load(idx int64) error {
	pg.pageIdx = -1
	if pg.buf == nil {
		pg.buf = make([]byte, pg.bs)
		pg.src = make([]byte, 2*pg.bs)
	}
	want := min(pg.bs, pg.size-idx*pg.bs)
	start, length, raw, err := pg.extent(idx)
	if err != nil {
		return err
	}
	switch {
	case length == 0: // a hole
		clear(pg.buf)
	case length > 2*pg.bs || raw && length > pg.bs:
		return fmt.Errorf("bad block length %d at 0x%x", length, start)
	case start < 0 || start+length > pg.fs.size:
		return fmt.Errorf("block at 0x%x-0x%x outside the image", start, start+length)
	case raw:
		if err := imgfile.ReadFull(pg.fs.r, pg.buf[:length], start); err != nil {
			return err
		}
		clear(pg.buf[length:])
	default:
		src := pg.src[:length]
		if err := imgfile.ReadFull(pg.fs.r, src, start); err != nil {
			return err
		}
		if err := pg.inflate(src); err != nil {
			return fmt.Errorf("block at 0x%x: %w", start, err)
		}
	}
	pg.page, pg.pageIdx = pg.buf[:want], idx
	return nil
}

// extent finds where page idx is stored. A plain block pointer holds the
// end of its block, which starts where the previous one ends; a direct
// pointer holds the block's start (divided by 4), followed by a 16-bit
// length when it is compressed.
func (pg *pages) extent(idx int64) (start, length int64, raw bool, err error) {
	ptr := pg.ptrs[idx]
	raw = ptr&blkUncompressed != 0
	if ptr&blkDirect != 0 {
		start = int64(ptr&^blkFlags) << 2
		if raw {
			return start, min(pg.bs, pg.size-idx*pg.bs), true, nil
		}
		l, err := pg.u16At(start)
		return start + 2, int64(l), false, err
	}
	start = pg.dataStart
	if idx > 0 {
		prev := pg.ptrs[idx-1]
		switch ps := int64(prev&^blkFlags) << 2; {
		case prev&blkDirect == 0:
			start = int64(prev &^ blkFlags)
		case prev&blkUncompressed != 0:
			start = ps + pg.bs
		default:
			l, err := pg.u16At(ps)
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

func (pg *pages) u16At(off int64) (uint16, error) {
	var b [2]byte
	if off < 0 || off+2 > pg.fs.size {
		return 0, fmt.Errorf("block length at 0x%x outside the image", off)
	}
	if err := imgfile.ReadFull(pg.fs.r, b[:], off); err != nil {
		return 0, err
	}
	return pg.fs.u16(b[:]), nil
}

// inflate decompresses one zlib block into pg.buf. Like the kernel it
// checks the block's Adler-32, zero-fills a short page and refuses one
// that inflates past the page.
func (pg *pages) inflate(src []byte) error {
	n, err := inflate.ZlibChecked(pg.buf, src)
	switch {
	case errors.Is(err, inflate.ErrTooLarge):
		return errors.New("block inflates past the page size")
	case err != nil:
		return err
	}
	clear(pg.buf[n:])
	return nil
}
