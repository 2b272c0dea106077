package jffs2

import (
	"cmp"
	"container/heap"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

// fileInfo describes an inode as its newest node has it.
type fileInfo struct {
	name  string
	mode  uint32
	size  int64 // data length of regular files and links; 0 otherwise
	mtime uint32
	inode Inode
}

// Inode is what Sys returns: the inode number, the key of the inode's
// nodes, and the count of directory entries naming it.
type Inode struct {
	Ino   uint32
	Nlink uint32
}

// HardLink returns the inode number, which hard links share (it keys the
// file's data, so two names with it are one file), and the link count.
func (i *Inode) HardLink() (id, nlink uint64) { return uint64(i.Ino), uint64(i.Nlink) }

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return unixmode.FileMode(i.mode) }
func (i fileInfo) ModTime() time.Time { return time.Unix(int64(i.mtime), 0).UTC() }
func (i fileInfo) IsDir() bool        { return i.mode&unixmode.IFMT == unixmode.IFDIR }
func (i fileInfo) Sys() any           { return &i.inode }

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

// nodeData reads the data of a regular file or symbolic link node by
// node, keeping the last node decompressed for the next read;
// imgfile.File serialises the reads.
type nodeData struct {
	fs    *FS
	size  int64
	frags []frag

	cur  *node  // node whose data is in data
	data []byte // decompressed data of cur
	src  []byte
}

// openData prepares to read the data of e.
func (f *FS) openData(e entry) *nodeData {
	d := &nodeData{fs: f}
	if in := f.inodes[e.ino]; in != nil && in.meta != nil {
		d.size = int64(in.meta.isize)
		d.frags = fragments(in.nodes, d.size)
	}
	return d
}

// ReadAt fills b from offset off, a fragment or hole at a time.
func (d *nodeData) ReadAt(b []byte, off int64) (int, error) {
	n := 0
	for n < len(b) {
		c, err := d.fill(b[n:], off+int64(n))
		n += c
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// fill copies into b the bytes from off, which is before the end of the
// file, up to the end of the fragment or hole holding off, as many as fit:
// at least one when b is not empty.
func (d *nodeData) fill(b []byte, off int64) (int, error) {
	// The first fragment that ends after off.
	i := sort.Search(len(d.frags), func(i int) bool { return d.frags[i].end > off })
	if i == len(d.frags) || d.frags[i].start > off || d.frags[i].node.compr == comprZero {
		end := d.size // a hole, up to the next fragment
		switch {
		case i == len(d.frags):
		case d.frags[i].start > off:
			end = d.frags[i].start
		default:
			end = d.frags[i].end // a zero node
		}
		c := int(min(int64(len(b)), end-off))
		clear(b[:c])
		return c, nil
	}
	fr := d.frags[i]
	if d.cur != fr.node {
		if err := d.load(fr.node); err != nil {
			return 0, err
		}
	}
	base := int64(fr.node.offset)
	return copy(b, d.data[off-base:fr.end-base]), nil
}

// load reads and decompresses the data of node n.
func (d *nodeData) load(n *node) error {
	d.cur = nil
	if cap(d.data) < int(n.dsize) {
		d.data = make([]byte, n.dsize)
	}
	d.data = d.data[:n.dsize]
	if cap(d.src) < int(n.csize) {
		d.src = make([]byte, n.csize)
	}
	d.src = d.src[:n.csize]
	if err := imgfile.ReadFull(d.fs.r, d.src, n.pos+inodeSize); err != nil {
		return fmt.Errorf("node at 0x%x: %w", n.pos, err)
	}
	if err := d.fs.decompress(n.compr, d.src, d.data); err != nil {
		return fmt.Errorf("node at 0x%x (version %d, offset %d): %w", n.pos, n.version, n.offset, err)
	}
	d.cur = n
	return nil
}
