package extfs

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"time"
)

// Inode flags (i_flags).
const (
	flagCompr      = 0x4
	flagComprBlk   = 0x200
	flagEncrypt    = 0x800
	flagHugeFile   = 0x40000
	flagExtents    = 0x80000
	flagInlineData = 0x10000000
)

// File types of i_mode.
const (
	modeFIFO  = 0x1000
	modeChr   = 0x2000
	modeDir   = 0x4000
	modeBlk   = 0x6000
	modeReg   = 0x8000
	modeLink  = 0xA000
	modeSock  = 0xC000
	modeTypes = 0xF000
)

// iblockSize is the size of i_block: 15 block pointers, an extent tree
// root, inline data or a fast symlink target.
const iblockSize = 60

// inode is the part of an on-disk inode this package uses.
type inode struct {
	ino     uint32
	mode    uint16
	uid     uint32
	gid     uint32
	links   uint16
	size    uint64
	blocks  uint64 // i_blocks in 512-byte units
	flags   uint32
	fileACL uint64
	mtime   time.Time
	iblock  []byte // i_block
	xattrs  []byte // in-inode extended attributes after the 4-byte magic; nil if none
}

// Inode is what the FileInfo.Sys method of this package returns.
type Inode struct {
	Number uint32 // inode number; hard links share it
	Links  uint16 // link count
	UID    uint32
	GID    uint32
}

// HardLink returns the inode number, which hard links share, and the
// link count.
func (i *Inode) HardLink() (ino, nlink uint64) { return uint64(i.Number), uint64(i.Links) }

// readInode reads and checks inode n.
func (f *FS) readInode(n uint32) (*inode, error) {
	if n < 1 || n > f.inodes {
		return nil, fmt.Errorf("inode %d out of range 1..%d", n, f.inodes)
	}
	g := uint64(n-1) / uint64(f.inodesPerGroup)
	idx := uint64(n-1) % uint64(f.inodesPerGroup)
	d, err := f.group(g)
	if err != nil {
		return nil, fmt.Errorf("inode %d: %w", n, err)
	}
	if d.uninit {
		return nil, fmt.Errorf("inode %d: block group %d has no initialized inodes", n, g)
	}
	if d.inodeTable == 0 || d.inodeTable >= f.blocks {
		return nil, fmt.Errorf("inode %d: inode table block %d of group %d out of range", n, d.inodeTable, g)
	}
	raw := make([]byte, f.inodeSize)
	if err := f.readFull(raw, int64(d.inodeTable)*f.blockSize+int64(idx)*f.inodeSize); err != nil {
		return nil, fmt.Errorf("inode %d: %w", n, err)
	}
	in, err := f.parseInode(n, raw)
	if err != nil {
		return nil, fmt.Errorf("inode %d: %w", n, err)
	}
	return in, nil
}

// parseInode decodes a raw inode of f.inodeSize bytes.
func (f *FS) parseInode(n uint32, raw []byte) (*inode, error) {
	in := &inode{
		ino:     n,
		mode:    le.Uint16(raw[0x00:]),
		uid:     uint32(le.Uint16(raw[0x02:])) | uint32(le.Uint16(raw[0x78:]))<<16,
		gid:     uint32(le.Uint16(raw[0x18:])) | uint32(le.Uint16(raw[0x7A:]))<<16,
		links:   le.Uint16(raw[0x1A:]),
		size:    uint64(le.Uint32(raw[0x04:])),
		blocks:  uint64(le.Uint32(raw[0x1C:])),
		flags:   le.Uint32(raw[0x20:]),
		fileACL: uint64(le.Uint32(raw[0x68:])) | uint64(le.Uint16(raw[0x76:]))<<32,
		iblock:  raw[0x28 : 0x28+iblockSize],
	}
	switch in.mode & modeTypes {
	case modeFIFO, modeChr, modeDir, modeBlk, modeReg, modeLink, modeSock:
	default:
		return nil, fmt.Errorf("unknown file type in mode %#o", in.mode)
	}
	if in.links == 0 {
		return nil, errors.New("not in use (link count 0)")
	}
	if in.mode&modeTypes == modeReg || f.incompat&incompatLargeDir != 0 {
		in.size |= uint64(le.Uint32(raw[0x6C:])) << 32
	}
	if in.size > math.MaxInt64 {
		return nil, fmt.Errorf("size %d out of range", in.size)
	}
	if f.roCompat&roCompatHugeFile != 0 {
		in.blocks |= uint64(le.Uint16(raw[0x74:])) << 32
		if in.flags&flagHugeFile != 0 {
			in.blocks *= uint64(f.blockSize / 512) // counted in filesystem blocks
		}
	}
	mtime, extra := int64(int32(le.Uint32(raw[0x10:]))), uint32(0)
	if len(raw) > goodOldInode {
		extraSize := int(le.Uint16(raw[0x80:]))
		start := goodOldInode + extraSize
		if extraSize%4 != 0 || start > len(raw) {
			return nil, fmt.Errorf("extra inode size %d out of range", extraSize)
		}
		if extraSize >= 0x8C-goodOldInode {
			extra = le.Uint32(raw[0x88:])
		}
		if start+4 <= len(raw) && le.Uint32(raw[start:]) == xattrMagic {
			in.xattrs = raw[start+4:]
		}
	}
	// The extra field widens the seconds by two epoch bits and adds
	// nanoseconds.
	mtime += int64(extra&3) << 32
	nsec := int64(extra >> 2)
	if nsec >= 1e9 {
		nsec = 0
	}
	in.mtime = time.Unix(mtime, nsec).UTC()
	return in, nil
}

func (in *inode) isDir() bool  { return in.mode&modeTypes == modeDir }
func (in *inode) isLink() bool { return in.mode&modeTypes == modeLink }
func (in *inode) isReg() bool  { return in.mode&modeTypes == modeReg }

// fileMode converts i_mode to an fs.FileMode.
func (in *inode) fileMode() fs.FileMode {
	m := fs.FileMode(in.mode & 0o777)
	if in.mode&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if in.mode&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if in.mode&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	switch in.mode & modeTypes {
	case modeDir:
		m |= fs.ModeDir
	case modeLink:
		m |= fs.ModeSymlink
	case modeChr:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case modeBlk:
		m |= fs.ModeDevice
	case modeFIFO:
		m |= fs.ModeNamedPipe
	case modeSock:
		m |= fs.ModeSocket
	}
	return m
}

// info describes the inode under the given name.
func (in *inode) info(name string) *fileInfo {
	size := int64(in.size)
	if !in.isReg() && !in.isDir() && !in.isLink() {
		size = 0
	}
	return &fileInfo{
		name:  name,
		size:  size,
		mode:  in.fileMode(),
		mtime: in.mtime,
		sys:   &Inode{Number: in.ino, Links: in.links, UID: in.uid, GID: in.gid},
	}
}

// checkReadable refuses inodes whose content this package cannot decode.
func (f *FS) checkReadable(in *inode) error {
	if in.flags&flagEncrypt != 0 {
		return errors.New("encrypted (fscrypt); content not readable without the key")
	}
	if in.flags&flagComprBlk != 0 || (in.flags&flagCompr != 0 && f.incompat&incompatCompression != 0) {
		return errors.New("compressed (e2compr) content not supported")
	}
	return nil
}

// In-inode extended attributes.
const (
	xattrMagic       = 0xEA020000
	xattrIndexSystem = 7
	xattrEntrySize   = 16
)

// inlineValue returns the value of the in-inode attribute system.data,
// which holds inline data past the first 60 bytes; nil when absent.
func (in *inode) inlineValue() ([]byte, error) {
	x := in.xattrs
	for off := 0; off+4 <= len(x) && le.Uint32(x[off:]) != 0; {
		if off+xattrEntrySize > len(x) {
			return nil, errors.New("extended attribute entry truncated")
		}
		nameLen := int(x[off])
		nameEnd := off + xattrEntrySize + nameLen
		if nameEnd > len(x) {
			return nil, errors.New("extended attribute name truncated")
		}
		if x[off+1] == xattrIndexSystem && string(x[off+xattrEntrySize:nameEnd]) == "data" {
			if le.Uint32(x[off+4:]) != 0 {
				return nil, errors.New("inline data stored in an attribute inode")
			}
			start := int(le.Uint16(x[off+2:]))
			size := int64(le.Uint32(x[off+8:]))
			if int64(start)+size > int64(len(x)) {
				return nil, fmt.Errorf("inline data attribute of %d bytes at %d beyond the inode", size, start)
			}
			return x[start : start+int(size)], nil
		}
		off = (nameEnd + 3) &^ 3
	}
	return nil, nil
}

// inlineData returns the content of an inline-data file or symlink: the
// 60 bytes of i_block followed by system.data, cut to the inode size.
func (in *inode) inlineData() ([]byte, error) {
	v, err := in.inlineValue()
	if err != nil {
		return nil, err
	}
	if in.size > uint64(iblockSize+len(v)) {
		return nil, fmt.Errorf("inline data of %d bytes shorter than the size %d", iblockSize+len(v), in.size)
	}
	b := make([]byte, 0, in.size)
	b = append(b, in.iblock...)
	return append(b, v...)[:in.size], nil
}

// fileInfo implements fs.FileInfo.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	sys   *Inode
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.size }
func (i *fileInfo) Mode() fs.FileMode  { return i.mode }
func (i *fileInfo) ModTime() time.Time { return i.mtime }
func (i *fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i *fileInfo) Sys() any           { return i.sys }
