package jffs2

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
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
// Other files read as empty.
type file struct {
	fs     *FS
	info   fileInfo
	path   string
	size   int64
	frags  []frag
	off    int64  // read position
	cur    *node  // node whose data is in data
	data   []byte // decompressed data of cur
	src    []byte
	closed bool
}

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

func (fl *file) Close() error {
	fl.closed = true
	return nil
}

func (fl *file) Read(b []byte) (int, error) {
	if fl.closed {
		return 0, &fs.PathError{Op: "read", Path: fl.path, Err: fs.ErrClosed}
	}
	if fl.off >= fl.size {
		return 0, io.EOF
	}
	n := 0
	for n < len(b) && fl.off < fl.size {
		// The first fragment that ends after off.
		i, _ := slices.BinarySearchFunc(fl.frags, fl.off, func(fr frag, off int64) int {
			if fr.end <= off {
				return -1
			}
			return 1
		})
		if i == len(fl.frags) || fl.frags[i].start > fl.off || fl.frags[i].node.compr == comprZero {
			end := fl.size // a hole, up to the next fragment
			switch {
			case i == len(fl.frags):
			case fl.frags[i].start > fl.off:
				end = fl.frags[i].start
			default:
				end = fl.frags[i].end // a zero node
			}
			c := int(min(int64(len(b)-n), end-fl.off))
			clear(b[n : n+c])
			n += c
			fl.off += int64(c)
			continue
		}
		fr := fl.frags[i]
		if fl.cur != fr.node {
			if err := fl.load(fr.node); err != nil {
				return n, &fs.PathError{Op: "read", Path: fl.path, Err: err}
			}
		}
		base := int64(fr.node.offset)
		c := copy(b[n:], fl.data[fl.off-base:fr.end-base])
		n += c
		fl.off += int64(c)
	}
	return n, nil
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
