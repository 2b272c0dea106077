package sqfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"runtime"
)

var (
	_ io.ReaderAt = (*file)(nil)
	_ io.Seeker   = (*file)(nil)
)

// sizeUncompressed flags a data or fragment block stored as is.
const sizeUncompressed = 1 << 24

// errDecoderPanic marks a block whose decompression panicked.
var errDecoderPanic = errors.New("decoder panic")

// defaultReadAhead returns how many blocks a large file keeps in flight:
// enough for every core to decompress one.
func defaultReadAhead() int { return min(max(runtime.GOMAXPROCS(0)+1, 2), 8) }

// file is an opened regular file. Read streams its content block by block;
// with more than one data block, the next few blocks decompress in parallel
// goroutines while the caller consumes the current one. After a Seek away
// from where streaming stopped, Read serves from ReadAt instead (see
// readat.go). ReadAt is safe for concurrent use with every method; Read,
// Seek and Close are not with each other. Distinct files are independent.
type file struct {
	f    *FS
	path string
	info *fileInfo
	lay  fileLayout
	size int64 // file size, as Size reports it
	at   int64 // position of the next Read

	// Streaming state. The stream has returned the first size-left bytes;
	// Read streams while at is there.
	left int64   // bytes not yet returned
	cur  []byte  // unread part of the current block
	held *[]byte // pooled buffer behind cur, or nil

	sizes  *metaReader // block size list; nil until the first block
	next   uint64      // index of the next block to schedule
	pos    int64       // image position of the next block's data
	window int         // blocks kept in flight
	queue  []*blockJob // scheduled blocks, oldest first
	tail   bool        // the fragment tail has been read
	err    error

	ra     randomAccess // state of ReadAt
	closed bool         // written under ra.mu, which ReadAt holds
}

// blockJob is one data block being decompressed.
type blockJob struct {
	done chan struct{}
	data []byte
	buf  *[]byte // pooled buffer holding data, or nil
	err  error
}

// newFile opens the regular file that info describes, under path.
func newFile(f *FS, path string, info *fileInfo) *file {
	fl := &file{f: f, path: path, info: info, lay: f.layout(info.ino), window: 1}
	fl.size = int64(min(info.ino.size, math.MaxInt64))
	fl.left = fl.size
	if fl.lay.blocks > 1 && f.readAhead > 1 {
		fl.window = f.readAhead
	}
	return fl
}

// Stat returns the file's FileInfo.
func (fl *file) Stat() (fs.FileInfo, error) { return fl.info, nil }

// Read reads the next bytes: from the stream while the position is where
// streaming stopped, else through ReadAt.
func (fl *file) Read(p []byte) (int, error) {
	if fl.closed {
		return 0, &fs.PathError{Op: "read", Path: fl.path, Err: fs.ErrClosed}
	}
	if fl.at != fl.size-fl.left {
		return fl.readRandom(p)
	}
	n, err := fl.stream(p)
	fl.at += int64(n)
	return n, err
}

// stream reads the next bytes of the stream.
func (fl *file) stream(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(fl.cur) == 0 {
			if fl.left == 0 {
				if n > 0 {
					return n, nil
				}
				return 0, io.EOF
			}
			if fl.err == nil {
				if err := fl.advance(); err != nil {
					fl.err = &fs.PathError{Op: "read", Path: fl.path, Err: err}
				}
			}
			if fl.err != nil {
				return n, fl.err
			}
			continue
		}
		k := copy(p[n:], fl.cur)
		fl.cur = fl.cur[k:]
		n += k
		fl.left -= int64(k)
	}
	return n, nil
}

// advance makes the next block (or the fragment tail) current.
func (fl *file) advance() error {
	fl.release()
	if fl.next < fl.lay.blocks || len(fl.queue) > 0 {
		fl.schedule()
		job := fl.queue[0]
		fl.queue = fl.queue[1:]
		fl.schedule()
		<-job.done
		if job.err != nil {
			return job.err
		}
		fl.cur, fl.held = job.data, job.buf
	} else if fl.lay.tail > 0 && !fl.tail {
		fl.tail = true
		data, err := fl.f.fragmentTail(fl.info.ino, fl.lay.tail)
		if err != nil {
			return err
		}
		fl.cur = data
	} else {
		return fmt.Errorf("data ends %d bytes short of the file size", fl.left)
	}
	if int64(len(fl.cur)) > fl.left {
		fl.cur = fl.cur[:fl.left]
	}
	return nil
}

// release returns the current block's buffer to the pool.
func (fl *file) release() {
	if fl.held != nil {
		fl.f.putBuf(fl.held)
		fl.held = nil
	}
	fl.cur = nil
}

// schedule starts blocks until the window is full. Blocks run in their own
// goroutines when the window is larger than one, else here.
func (fl *file) schedule() {
	for len(fl.queue) < fl.window && fl.next < fl.lay.blocks {
		job, broken := fl.start()
		fl.queue = append(fl.queue, job)
		if broken {
			fl.next = fl.lay.blocks // nothing after a broken size list
		}
	}
}

// start reads the next block's size and starts decompressing it. broken
// reports a failure to find the block at all (the job holds the error);
// decompression errors come later, through the job.
func (fl *file) start() (job *blockJob, broken bool) {
	f := fl.f
	i := fl.next
	fl.next++
	job = &blockJob{done: make(chan struct{})}
	fail := func(err error) (*blockJob, bool) {
		job.err = fmt.Errorf("block %d: %w", i, err)
		close(job.done)
		return job, true
	}
	if fl.sizes == nil {
		m, err := fl.sizeList()
		if err != nil {
			return fail(err)
		}
		fl.sizes, fl.pos = m, int64(fl.info.ino.blocksStart)
	}
	size, stored, err := fl.nextSize(fl.sizes)
	if err != nil {
		return fail(err)
	}
	pos := fl.pos
	fl.pos += stored
	want := fl.blockLen(i)
	if stored == 0 { // sparse: a block of zeros
		job.data = f.zeros()[:want]
		close(job.done)
		return job, false
	}
	if fl.window > 1 {
		go f.decodeBlock(job, i, pos, size, want)
	} else {
		f.decodeBlock(job, i, pos, size, want)
	}
	return job, false
}

// sizeList opens the file's block size list: one size field per data
// block, in the inode table right after the inode.
func (fl *file) sizeList() (*metaReader, error) {
	f, n := fl.f, fl.info.ino
	if n.blocksStart > uint64(f.end) {
		return nil, errors.New("data starts beyond image end")
	}
	return f.metaReader(n.listPos, n.listOff, int64(f.sb.directoryTable))
}

// nextSize reads the next size field of the list m and returns it with the
// stored size it gives, which a block size bounds.
func (fl *file) nextSize(m *metaReader) (size uint32, stored int64, err error) {
	size, err = m.u32()
	if err != nil {
		return 0, 0, fmt.Errorf("size list: %w", err)
	}
	stored = int64(size &^ sizeUncompressed)
	if stored > int64(fl.f.sb.blockSize) {
		return 0, 0, fmt.Errorf("stored size %d exceeds block size", stored)
	}
	return size, stored, nil
}

// blockLen returns how many bytes data block i decompresses to: a whole
// block but for a last block that no fragment tail follows.
func (fl *file) blockLen(i uint64) int {
	bs := uint64(fl.f.sb.blockSize)
	if i == fl.lay.blocks-1 && fl.lay.tail == 0 {
		return int(fl.info.ino.size - i*bs)
	}
	return int(bs)
}

// decodeBlock completes job with data block i, decoded by decode.
func (f *FS) decodeBlock(job *blockJob, i uint64, pos int64, size uint32, want int) {
	defer close(job.done)
	job.data, job.buf, job.err = f.decode(i, pos, size, want)
}

// decode decompresses data block i of want bytes, stored at pos with the
// given size field, into a pooled buffer, and returns the data with that
// buffer.
func (f *FS) decode(i uint64, pos int64, size uint32, want int) ([]byte, *[]byte, error) {
	buf := f.getBuf()
	n, err := f.readBlock((*buf)[:want], pos, size)
	if err == nil && n != want {
		err = fmt.Errorf("block at %d decompressed to %d bytes, want %d", pos, n, want)
	}
	if err != nil {
		f.putBuf(buf)
		return nil, nil, fmt.Errorf("block %d: %w", i, err)
	}
	return (*buf)[:want], buf, nil
}

// readBlock reads the data or fragment block stored at pos with the given
// size field (stored size, bit 24 set when uncompressed) into dst.
func (f *FS) readBlock(dst []byte, pos int64, size uint32) (int, error) {
	n := int(size &^ sizeUncompressed)
	if n == 0 || n > int(f.sb.blockSize) {
		return 0, fmt.Errorf("block at %d: stored size %d", pos, n)
	}
	if size&sizeUncompressed != 0 {
		if n > len(dst) {
			return 0, fmt.Errorf("block at %d: %w", pos, errTooLarge)
		}
		if err := f.readAt(dst[:n], pos); err != nil {
			return 0, err
		}
		return n, nil
	}
	src := f.getBuf()
	defer f.putBuf(src)
	if err := f.readAt((*src)[:n], pos); err != nil {
		return 0, err
	}
	k, err := f.decompress(dst, (*src)[:n])
	if err != nil {
		return 0, fmt.Errorf("block at %d: %s: %w", pos, f.info.Compression, err)
	}
	return k, nil
}

// decompress decompresses one block with the image's decompressor. A panic
// of a decompression library on hostile input becomes errDecoderPanic: data
// blocks often decode in goroutines of their own, where no caller could
// recover it, and a reader under a lock must return to release it.
func (f *FS) decompress(dst, src []byte) (n int, err error) {
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("%w: %v", errDecoderPanic, r)
		}
	}()
	return f.dec.decompress(dst, src)
}

// fragmentTail returns the last size bytes of file n, kept in a fragment.
func (f *FS) fragmentTail(n *inode, size uint64) ([]byte, error) {
	data, err := f.fragmentBlock(n.fragment)
	if err != nil {
		return nil, fmt.Errorf("fragment %d: %w", n.fragment, err)
	}
	off := uint64(n.fragOffset)
	if off > uint64(len(data)) || size > uint64(len(data))-off {
		return nil, fmt.Errorf("fragment %d: tail of %d bytes at %d outside its %d bytes", n.fragment, size, off, len(data))
	}
	return data[off : off+size], nil
}

// fragmentBlock returns fragment block idx decompressed, from the cache
// when it is there.
func (f *FS) fragmentBlock(idx uint32) ([]byte, error) {
	if idx >= f.sb.fragments {
		return nil, fmt.Errorf("index beyond the %d fragments", f.sb.fragments)
	}
	at := uint64(idx) * 16
	blk := at / metaSize
	if blk >= uint64(len(f.fragIndex)) {
		return nil, errors.New("fragment table unreadable")
	}
	m, err := f.metaReader(int64(f.fragIndex[blk]), int(at%metaSize), f.end)
	if err != nil {
		return nil, err
	}
	e, err := m.bytes(16)
	if err != nil {
		return nil, err
	}
	start, size := f.bo.Uint64(e), f.bo.Uint32(e[8:])
	if start >= uint64(f.end) {
		return nil, fmt.Errorf("block at %d beyond image end", start)
	}
	return f.frags.get(start, func() ([]byte, int, error) {
		dst := make([]byte, f.sb.blockSize)
		n, err := f.readBlock(dst, int64(start), size)
		if err != nil {
			return nil, 0, err
		}
		return dst[:n:n], n + 64, nil
	})
}

// Close stops the file: blocks in flight finish and their buffers go back
// to the pool, as do those ReadAt keeps.
func (fl *file) Close() error {
	if fl.closed {
		return &fs.PathError{Op: "close", Path: fl.path, Err: fs.ErrClosed}
	}
	fl.ra.mu.Lock()
	fl.closed = true
	fl.ra.drop(fl.f)
	fl.ra.mu.Unlock()
	for _, job := range fl.queue {
		<-job.done
		if job.buf != nil {
			fl.f.putBuf(job.buf)
		}
	}
	fl.queue = nil
	fl.release()
	return nil
}
