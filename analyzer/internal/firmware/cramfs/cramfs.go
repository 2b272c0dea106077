// Package cramfs reads cramfs images, the compressed read-only file system
// of Linux, without external programs.
//
// [Open] checks the superblock and returns an [FS], a read-only fs.FS of
// the image. Both byte orders are read, the superblock is found at offset 0
// or after a 512-byte boot pad, and every feature flag the kernel documents
// is understood: holes, uncompressed and direct block pointers
// (EXT_BLOCK_POINTERS), a shifted root. File data is read and inflated a
// page (block) at a time when a file is read; nothing is buffered whole.
// The block size is the page size of the system that made the image: 4096
// bytes, or a power of two up to 64 KiB (mkfs.cramfs -b), which is found
// from each file's first block pointer. [FS.CheckCRC] verifies the image
// checksum on request; a bad one does not stop the image from being read.
//
// cramfs has no hard links (mkfs.cramfs shares the data of identical
// files), no times, and 8-bit group ids; none of them is reported.
package cramfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

const (
	magic        = 0x28cd3d45
	magicSwapped = 0x453dcd28 // the magic of a big-endian image read as little-endian
	signature    = "Compressed ROMFS"
	superSize    = 76 // bytes of the superblock, root inode included
	inodeSize    = 12
	pageSize     = 4096 // the usual block size
	maxBlockSize = 1 << 16
	padSize      = 512 // boot pad before the superblock in some images
	crcOffset    = 32  // fsid.crc within the superblock
	maxLinkLen   = 4096
	// maxCached caps the directory entries kept parsed in memory.
	maxCached = 1 << 20
)

// Superblock feature flags (include/uapi/linux/cramfs_fs.h).
const (
	flagFSIDv2         = 0x001 // fsid holds the CRC, size and counts
	flagSortedDirs     = 0x002
	flagHoles          = 0x100
	flagWrongSignature = 0x200
	flagShiftedRoot    = 0x400 // root inode not right after the superblock
	flagExtBlockPtrs   = 0x800 // uncompressed and direct block pointers
	supportedFlags     = 0xff | flagHoles | flagWrongSignature | flagShiftedRoot | flagExtBlockPtrs
)

// Block pointer flags.
const (
	blkUncompressed = 1 << 31
	blkDirect       = 1 << 30
	blkFlags        = blkUncompressed | blkDirect
)

// ErrNoCRC is returned by [FS.CheckCRC] for images in the original format,
// which carry no checksum.
var ErrNoCRC = errors.New("cramfs: image has no CRC (original format)")

// FS is a read-only view of a cramfs image. It is safe for concurrent use.
type FS struct {
	r     io.ReaderAt
	size  int64 // bytes of the image, from its start (before any pad)
	start int64 // superblock offset: 0, or 512 after a boot pad
	big   bool  // big-endian image
	flags uint32
	root  inode

	mu      sync.Mutex
	dirs    map[int64]*dir  // parsed directories by entry offset
	cached  int             // entries held in dirs
	listers map[int64]int64 // directory entry offset -> the directory listing it
}

// inode is a decoded 12-byte cramfs inode.
type inode struct {
	mode    uint16
	size    uint32 // 24 bits; the device number for device files
	nameLen int    // bytes of the name that follows the inode
	offset  int64  // data, or a directory's first entry; 0 when none
}

func (n inode) isDir() bool     { return n.mode&unixmode.IFMT == unixmode.IFDIR }
func (n inode) isReg() bool     { return n.mode&unixmode.IFMT == unixmode.IFREG }
func (n inode) isSymlink() bool { return n.mode&unixmode.IFMT == unixmode.IFLNK }

// Open checks the cramfs superblock of the image in r[0:size) and returns a
// read-only view of it. It fails only when the image has no valid
// superblock; damage below the root is reported by the calls that meet it.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	for _, start := range []int64{0, padSize} {
		if size < start+superSize {
			break
		}
		var sb [superSize]byte
		if err := imgfile.ReadFull(r, sb[:], start); err != nil {
			return nil, fmt.Errorf("cramfs: reading superblock at 0x%x: %w", start, err)
		}
		switch binary.LittleEndian.Uint32(sb[:]) {
		case magic:
			return open(r, size, start, sb[:], false)
		case magicSwapped:
			return open(r, size, start, sb[:], true)
		}
	}
	return nil, errors.New("cramfs: no superblock (magic 0x28cd3d45 at offset 0 or 512)")
}

func open(r io.ReaderAt, size, start int64, sb []byte, big bool) (*FS, error) {
	f := &FS{r: r, size: size, start: start, big: big, dirs: map[int64]*dir{}, listers: map[int64]int64{}}
	f.flags = f.u32(sb[8:])
	if extra := f.flags &^ supportedFlags; extra != 0 {
		return nil, fmt.Errorf("cramfs: unsupported feature flags 0x%x", extra)
	}
	if f.flags&flagWrongSignature == 0 && string(sb[16:32]) != signature {
		return nil, errors.New("cramfs: bad signature")
	}
	if f.flags&flagFSIDv2 != 0 {
		declared := int64(f.u32(sb[4:]))
		if declared < start+superSize {
			return nil, fmt.Errorf("cramfs: declared size %d too small", declared)
		}
		// A truncated image is still read as far as it goes.
		f.size = min(declared, size)
	}
	f.root = f.inode(sb[64:])
	if !f.root.isDir() {
		return nil, fmt.Errorf("cramfs: root inode is not a directory (mode 0%o)", f.root.mode)
	}
	if off := f.root.offset; off != 0 && f.flags&flagShiftedRoot == 0 &&
		off != superSize && off != padSize+superSize {
		return nil, fmt.Errorf("cramfs: bad root directory offset 0x%x", off)
	}
	return f, nil
}

// u32 decodes a 32-bit word in the image's byte order.
func (f *FS) u32(b []byte) uint32 {
	if f.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (f *FS) u16(b []byte) uint16 {
	if f.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

// inode decodes the bit fields of a 12-byte inode (mode:16 uid:16,
// size:24 gid:8, namelen:6 offset:26; owners are not kept). C bit fields
// fill each word from the low bits on little-endian machines and from the
// high bits on big-endian ones.
func (f *FS) inode(b []byte) inode {
	w0, w1, w2 := f.u32(b), f.u32(b[4:]), f.u32(b[8:])
	if f.big {
		return inode{mode: uint16(w0 >> 16), size: w1 >> 8, nameLen: int(w2>>26) * 4, offset: int64(w2&0x3ffffff) * 4}
	}
	return inode{mode: uint16(w0), size: w1 & 0xffffff, nameLen: int(w2&0x3f) * 4, offset: int64(w2>>6) * 4}
}

// CheckCRC verifies the checksum of a version 2 image: the CRC-32 of the
// image from its superblock to its declared end, with the CRC field read as
// zero. It returns [ErrNoCRC] for images without one. A bad checksum does
// not stop the image from being read.
func (f *FS) CheckCRC() error {
	if f.flags&flagFSIDv2 == 0 {
		return ErrNoCRC
	}
	var sb [superSize]byte
	if err := imgfile.ReadFull(f.r, sb[:], f.start); err != nil {
		return fmt.Errorf("cramfs: reading superblock: %w", err)
	}
	want := f.u32(sb[crcOffset:])
	declared := int64(f.u32(sb[4:]))
	if declared > f.size {
		return fmt.Errorf("cramfs: image truncated: %d of %d bytes present", f.size, declared)
	}
	clear(sb[crcOffset : crcOffset+4])
	h := crc32.NewIEEE()
	h.Write(sb[:])
	rest := io.NewSectionReader(f.r, f.start+superSize, declared-f.start-superSize)
	if _, err := io.Copy(h, rest); err != nil {
		return fmt.Errorf("cramfs: reading image for CRC: %w", err)
	}
	if got := h.Sum32(); got != want {
		return fmt.Errorf("cramfs: CRC mismatch: stored 0x%08x, computed 0x%08x", want, got)
	}
	return nil
}

// dir is a parsed directory.
type dir struct {
	entries []fileInfo
	index   map[string]int
}

// readDir parses the entries of directory n, from the cache when it can.
func (f *FS) readDir(n inode) (*dir, error) {
	if n.size == 0 {
		return &dir{}, nil
	}
	f.mu.Lock()
	d := f.dirs[n.offset]
	f.mu.Unlock()
	if d != nil {
		return d, nil
	}
	end := n.offset + int64(n.size)
	if n.offset < f.start+superSize || end > f.size {
		return nil, fmt.Errorf("directory entries at 0x%x-0x%x outside the image", n.offset, end)
	}
	buf := make([]byte, n.size)
	if err := imgfile.ReadFull(f.r, buf, n.offset); err != nil {
		return nil, fmt.Errorf("reading directory at 0x%x: %w", n.offset, err)
	}
	d = &dir{index: map[string]int{}}
	for p := 0; p < len(buf); {
		at := n.offset + int64(p)
		if len(buf)-p < inodeSize {
			return nil, fmt.Errorf("directory entry at 0x%x truncated", at)
		}
		child := f.inode(buf[p:])
		p += inodeSize
		if child.nameLen == 0 || child.nameLen > len(buf)-p {
			return nil, fmt.Errorf("directory entry at 0x%x: bad name length %d", at, child.nameLen)
		}
		name := strings.TrimRight(string(buf[p:p+child.nameLen]), "\x00")
		p += child.nameLen
		if !validName(name) {
			return nil, fmt.Errorf("directory entry at 0x%x: invalid name %q", at, name)
		}
		if _, dup := d.index[name]; dup {
			return nil, fmt.Errorf("directory entry at 0x%x: duplicate name %q", at, name)
		}
		d.index[name] = len(d.entries)
		d.entries = append(d.entries, fileInfo{name: name, ino: child})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	// A directory has one parent and one name: one listed twice would let
	// a crafted image of a few KB list as an endless tree.
	seen := map[int64]string{}
	for _, c := range d.entries {
		if !c.ino.isDir() || c.ino.size == 0 {
			continue
		}
		if first, dup := seen[c.ino.offset]; dup {
			return nil, fmt.Errorf("directory entries %q and %q name the directory at 0x%x", first, c.name, c.ino.offset)
		}
		seen[c.ino.offset] = c.name
		if by, ok := f.listers[c.ino.offset]; ok && by != n.offset {
			return nil, fmt.Errorf("directory %q at 0x%x is also listed by the directory at 0x%x", c.name, c.ino.offset, by)
		}
		f.listers[c.ino.offset] = n.offset
	}
	if f.cached+len(d.entries) <= maxCached {
		f.dirs[n.offset] = d
		f.cached += len(d.entries)
	}
	return d, nil
}

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// lookup finds name, following symbolic links in its directories, and in
// its last element too when follow is set (see imgfile.Lookup).
func (f *FS) lookup(op, name string, follow bool) (fileInfo, error) {
	return imgfile.Lookup(imgfile.Tree[fileInfo]{
		Root:  fileInfo{name: ".", ino: f.root},
		IsDir: func(fi fileInfo) bool { return fi.ino.isDir() },
		Child: func(dir fileInfo, name string) (fileInfo, error) {
			d, err := f.readDir(dir.ino)
			if err != nil {
				return fileInfo{}, err
			}
			i, ok := d.index[name]
			if !ok {
				return fileInfo{}, fs.ErrNotExist
			}
			return d.entries[i], nil
		},
		IsLink:   func(fi fileInfo) bool { return fi.ino.isSymlink() },
		ReadLink: func(fi fileInfo) (string, error) { return f.readLink(fi.ino) },
		// Empty directories all have offset 0: not loops.
		Same: func(dir, child fileInfo) bool { return child.ino.size > 0 && dir.ino.offset == child.ino.offset },
	}, op, name, follow)
}

// readLink returns the target of a symbolic link: its data.
func (f *FS) readLink(n inode) (string, error) {
	if n.size > maxLinkLen {
		return "", fmt.Errorf("symbolic link target of %d bytes too long", n.size)
	}
	pg, err := f.openData(n)
	if err != nil {
		return "", err
	}
	b, err := io.ReadAll(imgfile.New("", fileInfo{ino: n}, pg.size, pg))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// Open opens the named file or directory, following symbolic links.
// Device files, FIFOs and sockets open as empty files.
func (f *FS) Open(name string) (fs.File, error) {
	e, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	info := fileInfo{name: path.Base(name), ino: e.ino}
	if info.ino.isDir() {
		entries, err := f.dirEntries(e.ino)
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		return imgfile.NewDir(name, info, entries), nil
	}
	if !e.ino.isReg() {
		return imgfile.New(name, info, 0, nil), nil
	}
	pg, err := f.openData(e.ino)
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return imgfile.New(name, info, pg.size, pg), nil
}

// dirEntries lists directory n in name order.
func (f *FS) dirEntries(n inode) ([]fs.DirEntry, error) {
	d, err := f.readDir(n)
	if err != nil {
		return nil, err
	}
	out := make([]fs.DirEntry, len(d.entries))
	for i, e := range d.entries {
		out[i] = fs.FileInfoToDirEntry(e)
	}
	sortEntries(out)
	return out, nil
}

// ReadDir lists the named directory in name order.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !e.ino.isDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	entries, err := f.dirEntries(e.ino)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return entries, nil
}

// Stat describes the named file, following symbolic links.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: path.Base(name), ino: e.ino}, nil
}

// Lstat describes the named file without following a final symbolic link.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return fileInfo{name: path.Base(name), ino: e.ino}, nil
}

// ReadLink returns the target of the named symbolic link.
func (f *FS) ReadLink(name string) (string, error) {
	e, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if !e.ino.isSymlink() {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.New("not a symbolic link")}
	}
	target, err := f.readLink(e.ino)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}
