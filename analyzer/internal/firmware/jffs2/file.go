package jffs2

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

// fileInfo describes an inode as its newest node has it.
type fileInfo struct {
	name  string
	mode  uint32
	size  int64 // data length of regular files and links; 0 otherwise
	mtime uint32
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return unixmode.FileMode(i.mode) }
func (i fileInfo) ModTime() time.Time { return time.Unix(int64(i.mtime), 0).UTC() }
func (i fileInfo) IsDir() bool        { return i.mode&unixmode.IFMT == unixmode.IFDIR }
func (i fileInfo) Sys() any           { return nil }

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

// frag is a byte range of a file supplied by one node.
type frag struct {
	start, end int64
	node       *node
}

// fragments returns which node supplies each byte of [0, size): the newest
// node covering it. Bytes that no fragment covers are holes (zeros). It
// sweeps the node boundaries in order with a heap of the nodes covering
// the current point, newest on top.
func fragments(nodes []*node, size int64) []frag {
	type span struct {
		start, end int64
		n          *node
	}
	var spans []span
	var bounds []int64
	for _, n := range nodes {
		s, e := int64(n.offset), min(int64(n.offset)+int64(n.dsize), size)
		if s < e {
			spans = append(spans, span{s, e, n})
			bounds = append(bounds, s, e)
		}
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	var out []frag
	active := &nodeHeap{}
	next := 0
	for i := 0; i+1 < len(bounds); i++ {
		x := bounds[i]
		for ; next < len(spans) && spans[next].start <= x; next++ {
			heap.Push(active, heapItem{end: spans[next].end, n: spans[next].n})
		}
		for active.Len() > 0 && (*active)[0].end <= x {
			heap.Pop(active)
		}
		if active.Len() == 0 {
			continue
		}
		top := (*active)[0].n
		if k := len(out) - 1; k >= 0 && out[k].node == top && out[k].end == x {
			out[k].end = bounds[i+1]
		} else {
			out = append(out, frag{start: x, end: bounds[i+1], node: top})
		}
	}
	return out
}

type heapItem struct {
	end int64
	n   *node
}

// nodeHeap is a max-heap of nodes by version.
type nodeHeap []heapItem

func (h nodeHeap) Len() int           { return len(h) }
func (h nodeHeap) Less(i, j int) bool { return h[i].n.newer(h[j].n) }
func (h nodeHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nodeHeap) Push(x any)        { *h = append(*h, x.(heapItem)) }
func (h *nodeHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// file reads the data of a regular file or symbolic link node by node.
// Other files read as empty. It is safe for concurrent use: mu guards the
// read position and the decompressed node, so that ReadAt calls on one
// handle can share it.
type file struct {
	fs    *FS
	info  fileInfo
	path  string
	size  int64
	frags []frag

	mu     sync.Mutex
	pos    int64  // read position of Read and Seek
	cur    *node  // node whose data is in data
	data   []byte // decompressed data of cur
	src    []byte
	closed bool
}

var (
	_ io.ReaderAt = (*file)(nil)
	_ io.Seeker   = (*file)(nil)
)

// openData prepares to read the data of e.
func (f *FS) openData(e entry, info fileInfo) *file {
	fl := &file{fs: f, info: info}
	if in := f.inodes[e.ino]; in != nil && in.meta != nil {
		fl.size = int64(in.meta.isize)
		fl.frags = fragments(in.nodes, fl.size)
	}
	return fl
}

func (fl *file) Stat() (fs.FileInfo, error) { return fl.info, nil }

// Close releases the node buffers; the handle cannot be used afterwards.
func (fl *file) Close() error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return fl.pathError("close", fs.ErrClosed)
	}
	fl.closed = true
	fl.cur, fl.data, fl.src = nil, nil, nil
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

// readAt fills b from offset off, a fragment or hole at a time. The
// caller holds mu.
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
		c, err := fl.fill(b[n:], off+int64(n))
		n += c
		if err != nil {
			return n, fl.pathError("read", err)
		}
	}
	return n, eof
}

// fill copies into b the bytes from off, which is before the end of the
// file, up to the end of the fragment or hole holding off, as many as fit:
// at least one when b is not empty.
func (fl *file) fill(b []byte, off int64) (int, error) {
	// The first fragment that ends after off.
	i := sort.Search(len(fl.frags), func(i int) bool { return fl.frags[i].end > off })
	if i == len(fl.frags) || fl.frags[i].start > off || fl.frags[i].node.compr == comprZero {
		end := fl.size // a hole, up to the next fragment
		switch {
		case i == len(fl.frags):
		case fl.frags[i].start > off:
			end = fl.frags[i].start
		default:
			end = fl.frags[i].end // a zero node
		}
		c := int(min(int64(len(b)), end-off))
		clear(b[:c])
		return c, nil
	}
	fr := fl.frags[i]
	if fl.cur != fr.node {
		if err := fl.load(fr.node); err != nil {
			return 0, err
		}
	}
	base := int64(fr.node.offset)
	return copy(b, fl.data[off-base:fr.end-base]), nil
}

func (fl *file) pathError(op string, err error) error {
	return &fs.PathError{Op: op, Path: fl.path, Err: err}
}

// load reads and decompresses the data of node n.
func (fl *file) load(n *node) error {
	fl.cur = nil
	if cap(fl.data) < int(n.dsize) {
		fl.data = make([]byte, n.dsize)
	}
	fl.data = fl.data[:n.dsize]
	if cap(fl.src) < int(n.csize) {
		fl.src = make([]byte, n.csize)
	}
	fl.src = fl.src[:n.csize]
	if err := readFull(fl.fs.r, fl.src, n.pos+inodeSize); err != nil {
		return fmt.Errorf("node at 0x%x: %w", n.pos, err)
	}
	if err := fl.fs.decompress(n.compr, fl.src, fl.data); err != nil {
		return fmt.Errorf("node at 0x%x (version %d, offset %d): %w", n.pos, n.version, n.offset, err)
	}
	fl.cur = n
	return nil
}
