package sqfs

import (
	"fmt"
	"io"
	"io/fs"
	"sync"
)

// maxIndexBlocks bounds the data blocks of a file that ReadAt indexes. The
// index takes 12 bytes a block, so at most 48 MiB, and covers files of
// 16 GiB at the smallest block size, 512 GiB at the default 128 KiB. A
// corrupt inode can declare any size; a larger file still streams.
const maxIndexBlocks = 1 << 22

// randomAccess is the state behind ReadAt, guarded by mu: where each data
// block lies, and the last blocks decoded, so that a parser reading a
// header and then nearby bytes decodes each block once.
type randomAccess struct {
	mu sync.Mutex

	indexed bool     // the size list has been read (perhaps in part)
	sizes   []uint32 // size field of data block i, as stored
	starts  []int64  // image position of data block i
	// listErr says why sizes stops short of the file's block count.
	listErr error

	recent [2]decodedBlock // most recently used first
	tail   []byte          // the fragment tail once read; shared, read-only
}

// decodedBlock is a data block kept decoded in a pooled buffer.
type decodedBlock struct {
	idx  uint64
	data []byte
	buf  *[]byte // nil when the slot is empty
}

// ReadAt reads len(p) bytes at offset off of the file, as io.ReaderAt does:
// fewer bytes come with io.EOF at the end of the file, or with the error of
// the block that could not be read. Calls may run concurrently.
func (fl *file) ReadAt(p []byte, off int64) (int, error) {
	n, err := fl.readAt(p, off)
	if err != nil && err != io.EOF {
		err = &fs.PathError{Op: "readat", Path: fl.path, Err: err}
	}
	return n, err
}

// Seek sets the position of the next Read. Where it differs from where
// streaming stopped, Read serves from ReadAt, one block at a time, until a
// Seek (or reading) comes back there and streaming with read-ahead resumes.
func (fl *file) Seek(offset int64, whence int) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, &fs.PathError{Op: "seek", Path: fl.path, Err: err}
	}
	if fl.closed {
		return fail(fs.ErrClosed)
	}
	var base int64
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		base = fl.at
	case io.SeekEnd:
		base = fl.size
	default:
		return fail(fmt.Errorf("%w: whence %d", fs.ErrInvalid, whence))
	}
	// base is not negative, so an overflow wraps below zero too.
	pos := base + offset
	if pos < 0 {
		return fail(fmt.Errorf("%w: position %d%+d", fs.ErrInvalid, base, offset))
	}
	fl.at = pos
	return pos, nil
}

// readRandom is Read away from the stream: ReadAt at the position. Like
// the stream, it returns io.EOF only with no bytes.
func (fl *file) readRandom(p []byte) (int, error) {
	n, err := fl.readAt(p, fl.at)
	fl.at += int64(n)
	switch {
	case err == io.EOF && n > 0:
		return n, nil
	case err != nil && err != io.EOF:
		return n, &fs.PathError{Op: "read", Path: fl.path, Err: err}
	}
	return n, err
}

// readAt is ReadAt with its errors unwrapped.
func (fl *file) readAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("%w: negative offset %d", fs.ErrInvalid, off)
	}
	fl.ra.mu.Lock()
	defer fl.ra.mu.Unlock()
	if fl.closed {
		return 0, fs.ErrClosed
	}
	n := 0
	for n < len(p) && off < fl.size {
		chunk, err := fl.chunkAt(off)
		if err != nil {
			return n, err
		}
		k := copy(p[n:], chunk)
		n += k
		off += int64(k)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// chunkAt returns the file's bytes from off, inside the file, to the end of
// the block that holds off. The slice is valid while fl.ra.mu is held.
func (fl *file) chunkAt(off int64) ([]byte, error) {
	bs := int64(fl.f.sb.blockSize)
	i := uint64(off / bs)
	if i >= fl.lay.blocks {
		tail, err := fl.tailBlock()
		if err != nil {
			return nil, err
		}
		return tail[off-int64(fl.lay.blocks)*bs:], nil
	}
	data, err := fl.dataBlock(i)
	if err != nil {
		return nil, err
	}
	return data[off-int64(i)*bs:], nil
}

// dataBlock returns data block i decoded: zeros for a sparse block, else
// from the recent blocks or decoded into their place.
func (fl *file) dataBlock(i uint64) ([]byte, error) {
	ra := &fl.ra
	if !ra.indexed {
		fl.index()
	}
	if i >= uint64(len(ra.sizes)) {
		return nil, ra.listErr
	}
	want := fl.blockLen(i)
	if ra.sizes[i]&^sizeUncompressed == 0 {
		return fl.f.zeros()[:want], nil
	}
	if data, ok := ra.cached(i); ok {
		return data, nil
	}
	data, buf, err := fl.f.decode(i, ra.starts[i], ra.sizes[i], want)
	if err != nil {
		return nil, err
	}
	ra.keep(fl.f, decodedBlock{idx: i, data: data, buf: buf})
	return data, nil
}

// index reads the whole block size list and computes where each block
// starts. A list that breaks off keeps the blocks before the break, so
// that they read as they would stream; listErr tells why it stops.
func (fl *file) index() {
	ra := &fl.ra
	ra.indexed = true
	count := fl.lay.blocks
	if count > maxIndexBlocks {
		ra.listErr = fmt.Errorf("%d data blocks: random access indexes at most %d", count, maxIndexBlocks)
		return
	}
	m, err := fl.sizeList()
	if err != nil {
		ra.listErr = fmt.Errorf("block 0: %w", err)
		return
	}
	// The list grows as it reads rather than from the declared count: a
	// corrupt count then costs no more memory than the image holds.
	ra.sizes = make([]uint32, 0, min(count, 1024))
	ra.starts = make([]int64, 0, min(count, 1024))
	pos := int64(fl.info.ino.blocksStart)
	for i := range count {
		size, stored, err := fl.nextSize(m)
		if err != nil {
			ra.listErr = fmt.Errorf("block %d: %w", i, err)
			return
		}
		ra.sizes = append(ra.sizes, size)
		ra.starts = append(ra.starts, pos)
		pos += stored
	}
}

// tailBlock returns the fragment tail: the file's bytes after its last
// data block.
func (fl *file) tailBlock() ([]byte, error) {
	if fl.ra.tail == nil {
		tail, err := fl.f.fragmentTail(fl.info.ino, fl.lay.tail)
		if err != nil {
			return nil, err
		}
		fl.ra.tail = tail
	}
	return fl.ra.tail, nil
}

// cached returns block i when it is one of the recent blocks, and makes it
// the most recent.
func (ra *randomAccess) cached(i uint64) ([]byte, bool) {
	for k, b := range ra.recent {
		if b.buf != nil && b.idx == i {
			copy(ra.recent[1:k+1], ra.recent[:k])
			ra.recent[0] = b
			return b.data, true
		}
	}
	return nil, false
}

// keep makes b the most recent block; the least recent one's buffer goes
// back to the pool.
func (ra *randomAccess) keep(f *FS, b decodedBlock) {
	last := len(ra.recent) - 1
	if old := ra.recent[last].buf; old != nil {
		f.putBuf(old)
	}
	copy(ra.recent[1:], ra.recent[:last])
	ra.recent[0] = b
}

// drop returns the buffers of the recent blocks to the pool and lets the
// index go, for a closed file.
func (ra *randomAccess) drop(f *FS) {
	for k, b := range ra.recent {
		if b.buf != nil {
			f.putBuf(b.buf)
		}
		ra.recent[k] = decodedBlock{}
	}
	ra.indexed, ra.sizes, ra.starts, ra.listErr, ra.tail = false, nil, nil, nil, nil
}
