package sqfs

import (
	"fmt"
	"io/fs"
	"time"
)

// Basic inode types; an extended inode's type is its basic type + 7.
const (
	typeDir     = 1
	typeFile    = 2
	typeSymlink = 3
	typeBlock   = 4
	typeChar    = 5
	typeFifo    = 6
	typeSocket  = 7
)

// maxSymlinkLen bounds a symlink target.
const maxSymlinkLen = 1 << 16

// inode is a parsed inode. Only the fields of its kind are set.
type inode struct {
	ref    uint64 // metadata reference: block offset << 16 | byte offset
	typ    uint16 // 1..14 as stored
	perm   uint16
	uidIdx uint16
	gidIdx uint16
	mtime  uint32
	number uint32
	nlink  uint32

	// Directories: the listing's position in the directory table and its
	// size in bytes + 3, as stored, and the parent directory's number.
	dirBlock  uint32
	dirOffset uint16
	dirSize   uint32
	parent    uint32

	// Regular files.
	blocksStart uint64 // image position of the first data block
	size        uint64 // file size; for symlinks the target length
	fragment    uint32 // fragment index or noFragment
	fragOffset  uint32 // offset of the tail inside the fragment block
	listPos     int64  // metadata position of the block size list
	listOff     int

	target string // symlink target
	rdev   uint32 // device number
}

// kind returns the basic type (1..7) of the inode.
func (n *inode) kind() uint16 {
	if n.typ > 7 {
		return n.typ - 7
	}
	return n.typ
}

// mode returns the fs.FileMode of the inode: type bits and permissions.
func (n *inode) mode() fs.FileMode {
	m := fs.FileMode(n.perm & 0o777)
	if n.perm&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if n.perm&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if n.perm&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m | typeMode(n.kind())
}

// typeMode maps a basic inode type to fs.FileMode type bits.
func typeMode(t uint16) fs.FileMode {
	switch t {
	case typeDir:
		return fs.ModeDir
	case typeSymlink:
		return fs.ModeSymlink
	case typeBlock:
		return fs.ModeDevice
	case typeChar:
		return fs.ModeDevice | fs.ModeCharDevice
	case typeFifo:
		return fs.ModeNamedPipe
	case typeSocket:
		return fs.ModeSocket
	}
	return 0
}

func (n *inode) modTime() time.Time { return time.Unix(int64(n.mtime), 0) }

// inode reads and parses the inode at ref.
func (f *FS) inode(ref uint64) (*inode, error) {
	block, off := ref>>16, int(ref&0xFFFF)
	tableLen := f.sb.directoryTable - f.sb.inodeTable
	if block >= tableLen {
		return nil, fmt.Errorf("inode reference %#x: outside the inode table", ref)
	}
	m, err := f.metaReader(int64(f.sb.inodeTable+block), off, int64(f.sb.directoryTable))
	if err != nil {
		return nil, fmt.Errorf("inode reference %#x: %w", ref, err)
	}
	n, err := f.parseInode(m)
	if err != nil {
		return nil, fmt.Errorf("inode reference %#x: %w", ref, err)
	}
	n.ref = ref
	return n, nil
}

// Sizes of the fixed parts of each inode type after the 16-byte header.
var inodeBodySize = [15]int{
	typeDir: 16, typeFile: 16, typeSymlink: 8, typeBlock: 8, typeChar: 8, typeFifo: 4, typeSocket: 4,
	typeDir + 7: 24, typeFile + 7: 40, typeSymlink + 7: 8, typeBlock + 7: 12, typeChar + 7: 12,
	typeFifo + 7: 8, typeSocket + 7: 8,
}

func (f *FS) parseInode(m *metaReader) (*inode, error) {
	bo := f.bo
	h, err := m.bytes(16)
	if err != nil {
		return nil, err
	}
	n := &inode{
		typ:    bo.Uint16(h),
		perm:   bo.Uint16(h[2:]),
		uidIdx: bo.Uint16(h[4:]),
		gidIdx: bo.Uint16(h[6:]),
		mtime:  bo.Uint32(h[8:]),
		number: bo.Uint32(h[12:]),
	}
	if n.typ == 0 || n.typ > 14 {
		return nil, fmt.Errorf("unknown inode type %d", n.typ)
	}
	b, err := m.bytes(inodeBodySize[n.typ])
	if err != nil {
		return nil, fmt.Errorf("inode %d: %w", n.number, err)
	}
	switch n.typ {
	case typeDir:
		n.dirBlock = bo.Uint32(b)
		n.nlink = bo.Uint32(b[4:])
		n.dirSize = uint32(bo.Uint16(b[8:]))
		n.dirOffset = bo.Uint16(b[10:])
		n.parent = bo.Uint32(b[12:])
	case typeDir + 7:
		n.nlink = bo.Uint32(b)
		n.dirSize = bo.Uint32(b[4:])
		n.dirBlock = bo.Uint32(b[8:])
		n.parent = bo.Uint32(b[12:])
		n.dirOffset = bo.Uint16(b[18:])
		// The directory index that follows is not needed: listings are
		// read whole and cached.
	case typeFile:
		n.nlink = 1
		n.blocksStart = uint64(bo.Uint32(b))
		n.fragment = bo.Uint32(b[4:])
		n.fragOffset = bo.Uint32(b[8:])
		n.size = uint64(bo.Uint32(b[12:]))
	case typeFile + 7:
		n.blocksStart = bo.Uint64(b)
		n.size = bo.Uint64(b[8:])
		n.nlink = bo.Uint32(b[24:])
		n.fragment = bo.Uint32(b[28:])
		n.fragOffset = bo.Uint32(b[32:])
	case typeSymlink, typeSymlink + 7:
		n.nlink = bo.Uint32(b)
		size := bo.Uint32(b[4:])
		if size > maxSymlinkLen {
			return nil, fmt.Errorf("inode %d: symlink target of %d bytes", n.number, size)
		}
		t, err := m.bytes(int(size))
		if err != nil {
			return nil, fmt.Errorf("inode %d: symlink target: %w", n.number, err)
		}
		n.target = string(t)
		n.size = uint64(size)
	case typeBlock, typeChar, typeBlock + 7, typeChar + 7:
		n.nlink = bo.Uint32(b)
		n.rdev = bo.Uint32(b[4:])
	default: // fifos and sockets
		n.nlink = bo.Uint32(b)
	}
	if n.kind() == typeFile {
		n.listPos, n.listOff = m.pos, m.off
	}
	return n, nil
}

// fileLayout describes how a regular file's bytes are stored.
type fileLayout struct {
	blocks uint64 // data blocks in the block size list
	tail   uint64 // bytes at the end kept in a fragment block; 0 if none
}

func (f *FS) layout(n *inode) fileLayout {
	bs := uint64(f.sb.blockSize)
	if n.fragment != noFragment && n.size%bs != 0 {
		return fileLayout{blocks: n.size / bs, tail: n.size % bs}
	}
	blocks := n.size / bs
	if n.size%bs != 0 {
		blocks++
	}
	return fileLayout{blocks: blocks}
}

// ids returns the uid and gid of an inode from the id table; 0 when the
// table cannot be read.
func (f *FS) ids(n *inode) (uid, gid uint32) {
	return f.id(n.uidIdx), f.id(n.gidIdx)
}

func (f *FS) id(idx uint16) uint32 {
	if uint32(idx) >= uint32(f.sb.ids) {
		return 0
	}
	pos := uint64(idx) * 4
	blk := pos / metaSize
	if blk >= uint64(len(f.idIndex)) {
		return 0
	}
	m, err := f.metaReader(int64(f.idIndex[blk]), int(pos%metaSize), f.end)
	if err != nil {
		return 0
	}
	v, err := m.u32()
	if err != nil {
		return 0
	}
	return v
}
