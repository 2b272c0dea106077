package extfs

import (
	"errors"
	"fmt"
	"io"
	"sort"
)

// run maps logical blocks [lblk, lblk+n) of a file to physical blocks
// starting at pblk; pblk 0 is a hole. Holes and uninitialized extents
// read as zeros.
type run struct {
	lblk, n uint64
	pblk    uint64
	zero    bool // uninitialized extent
}

func (r run) contains(lblk uint64) bool { return lblk >= r.lblk && lblk-r.lblk < r.n }

// hole returns a hole from lblk up to (not including) end.
func hole(lblk, end uint64) run { return run{lblk: lblk, n: end - lblk} }

// mapper finds the run holding a logical block.
type mapper interface {
	lookup(lblk uint64) (run, error)
}

// newMapper returns the block mapper of a file stored in blocks.
func (f *FS) newMapper(in *inode) mapper {
	if in.flags&flagExtents != 0 {
		return &extentTree{f: f, root: in.iblock}
	}
	m := &blockMap{f: f}
	for i := range m.ptrs {
		m.ptrs[i] = le.Uint32(in.iblock[4*i:])
	}
	return m
}

// Extent trees.
const (
	extentMagic    = 0xF30A
	extentSize     = 12 // header, index and leaf entries alike
	maxExtentDepth = 5
	maxLogical     = 1 << 32 // logical blocks an extent tree can address
	uninitLen      = 32768   // ee_len above this marks an uninitialized extent
)

// extentTree maps blocks through an ext4 extent tree rooted in i_block.
type extentTree struct {
	f    *FS
	root []byte
	buf  []byte // one tree block
}

func (t *extentTree) lookup(lblk uint64) (run, error) {
	if lblk >= maxLogical {
		return run{}, fmt.Errorf("block %d beyond the extent tree's range", lblk)
	}
	node, end, want := t.root, uint64(maxLogical), -1
	for {
		if len(node) < extentSize || le.Uint16(node) != extentMagic {
			return run{}, errors.New("bad extent header magic")
		}
		entries, limit := int(le.Uint16(node[2:])), int(le.Uint16(node[4:]))
		depth := int(le.Uint16(node[6:]))
		if entries > limit || extentSize*(1+limit) > len(node) {
			return run{}, fmt.Errorf("extent node of %d entries (limit %d) overflows its %d bytes", entries, limit, len(node))
		}
		if want < 0 && depth > maxExtentDepth || want >= 0 && depth != want {
			return run{}, fmt.Errorf("extent node depth %d, want %d", depth, want)
		}
		ent := func(i int) []byte { return node[extentSize*(i+1):][:extentSize] }
		start := func(i int) uint64 { return uint64(le.Uint32(ent(i))) }
		// i: the last entry starting at or before lblk.
		i := sort.Search(entries, func(i int) bool { return start(i) > lblk }) - 1
		if i+1 < entries {
			end = min(end, start(i+1))
		}
		if i < 0 {
			return hole(lblk, end), nil
		}
		e := ent(i)
		if depth == 0 {
			n := uint64(le.Uint16(e[4:]))
			zero := n > uninitLen
			if zero {
				n -= uninitLen
			}
			pblk := uint64(le.Uint16(e[6:]))<<32 | uint64(le.Uint32(e[8:]))
			s := start(i)
			if lblk-s >= n {
				return hole(lblk, end), nil
			}
			if n == 0 || pblk == 0 || pblk >= t.f.blocks || n > t.f.blocks-pblk {
				return run{}, fmt.Errorf("extent of %d blocks at block %d out of range", n, pblk)
			}
			return run{lblk: s, n: n, pblk: pblk, zero: zero}, nil
		}
		child := uint64(le.Uint16(e[8:]))<<32 | uint64(le.Uint32(e[4:]))
		if child == 0 {
			return run{}, errors.New("extent index points at block 0")
		}
		if t.buf == nil {
			t.buf = make([]byte, t.f.blockSize)
		}
		if err := t.f.readBlock(t.buf, child); err != nil {
			return run{}, fmt.Errorf("extent tree block: %w", err)
		}
		node, want = t.buf, depth-1
	}
}

// blockMap maps blocks through the direct and indirect block pointers of
// ext2/ext3 (and ext4 files without extents).
type blockMap struct {
	f     *FS
	ptrs  [15]uint32
	cache [3]struct {
		blk  uint64
		data []byte
	}
}

const directBlocks = 12

func (m *blockMap) lookup(lblk uint64) (run, error) {
	if lblk < directBlocks {
		return m.coalesce(lblk, directBlocks-lblk, func(j uint64) uint32 { return m.ptrs[lblk+j] })
	}
	k := uint64(m.f.blockSize / 4) // pointers per block
	base, span := uint64(directBlocks), k
	for level := 0; level < 3; level++ {
		if lblk-base < span {
			return m.walk(lblk, base, span, level, m.ptrs[directBlocks+level])
		}
		base += span
		span *= k
	}
	return run{}, fmt.Errorf("block %d beyond the reach of triple-indirect blocks", lblk)
}

// walk descends from an indirect pointer covering [base, base+span) to
// the data pointer of lblk; level 0 is single-indirect.
func (m *blockMap) walk(lblk, base, span uint64, level int, ptr uint32) (run, error) {
	k := uint64(m.f.blockSize / 4)
	for l := level; ; l-- {
		if ptr == 0 {
			return hole(lblk, base+span), nil
		}
		tbl, err := m.table(l, uint64(ptr))
		if err != nil {
			return run{}, err
		}
		span /= k
		idx := (lblk - base) / span
		base += idx * span
		if l == 0 {
			return m.coalesce(lblk, k-idx, func(j uint64) uint32 { return le.Uint32(tbl[4*(idx+j):]) })
		}
		ptr = le.Uint32(tbl[4*idx:])
	}
}

// table reads indirect block blk, caching the last block of each level.
func (m *blockMap) table(level int, blk uint64) ([]byte, error) {
	c := &m.cache[level]
	if c.data != nil && c.blk == blk {
		return c.data, nil
	}
	if c.data == nil {
		c.data = make([]byte, m.f.blockSize)
	}
	c.blk = 0
	if err := m.f.readBlock(c.data, blk); err != nil {
		return nil, fmt.Errorf("indirect block: %w", err)
	}
	c.blk = blk
	return c.data, nil
}

// coalesce returns the run starting at lblk from the n pointers ptr(0),
// ptr(1), ...: consecutive physical blocks, or consecutive holes.
func (m *blockMap) coalesce(lblk, n uint64, ptr func(uint64) uint32) (run, error) {
	p := uint64(ptr(0))
	if p >= m.f.blocks {
		return run{}, fmt.Errorf("block pointer %d beyond the block count %d", p, m.f.blocks)
	}
	r := run{lblk: lblk, n: 1, pblk: p}
	for ; r.n < n; r.n++ {
		q := uint64(ptr(r.n))
		if p == 0 && q != 0 || p != 0 && (q != p+r.n || q >= m.f.blocks) {
			break
		}
	}
	return r, nil
}

// content reads the data of one inode: through its block mapper, or
// from the inode itself for inline data. It is the imgfile.Content of an
// open regular file, which keeps the run last mapped for the next read.
type content struct {
	f      *FS
	size   int64
	inline []byte // inline data; nil when m is set
	m      mapper
	cur    run
}

// newContent prepares to read in's data.
func (f *FS) newContent(in *inode) (*content, error) {
	if err := f.checkReadable(in); err != nil {
		return nil, err
	}
	c := &content{f: f, size: int64(in.size)}
	if in.flags&flagInlineData != 0 {
		b, err := in.inlineData()
		if err != nil {
			return nil, err
		}
		c.inline = b
		return c, nil
	}
	c.m = f.newMapper(in)
	return c, nil
}

// ReadAt fills p from offset off like io.ReaderAt. It checks the bounds
// itself, as directories and symbolic links read through it directly.
func (c *content) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= c.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > c.size-off {
		p, eof = p[:c.size-off], io.EOF
	}
	if c.m == nil {
		return copy(p, c.inline[off:]), eof
	}
	bs := uint64(c.f.blockSize)
	n := 0
	for n < len(p) {
		pos := uint64(off) + uint64(n)
		lblk, within := pos/bs, pos%bs
		if !c.cur.contains(lblk) {
			r, err := c.m.lookup(lblk)
			if err != nil {
				return n, fmt.Errorf("block %d: %w", lblk, err)
			}
			if !r.contains(lblk) {
				return n, fmt.Errorf("block %d: mapping does not cover it", lblk)
			}
			c.cur = r
		}
		chunk := len(p) - n
		if avail := (c.cur.lblk+c.cur.n-lblk)*bs - within; avail < uint64(chunk) {
			chunk = int(avail)
		}
		dst := p[n : n+chunk]
		if c.cur.pblk == 0 || c.cur.zero {
			clear(dst)
		} else {
			phys := (c.cur.pblk+lblk-c.cur.lblk)*bs + within
			if err := c.f.readFull(dst, int64(phys)); err != nil {
				return n, fmt.Errorf("block %d: %w", lblk, err)
			}
		}
		n += chunk
	}
	return n, eof
}
