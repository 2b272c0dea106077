// Package jffs2 reads JFFS2 images, the log-structured flash file system of
// Linux, without external programs.
//
// A JFFS2 image is a log of nodes. [Open] scans it once, in the byte order
// of its first node, checking every node's CRCs: nodes that fail are
// skipped as corrupt (counted by [FS.CorruptNodes]) and the scan
// resynchronises on the next 4-byte-aligned magic; erased flash (0xff),
// obsolete nodes, padding, cleanmarkers, erase-block summaries and xattr
// nodes are passed over. It keeps an index of the nodes, not their data:
// the newest directory entry for each (parent, name) names a file, an
// entry with inode 0 deletes it, the newest inode node gives a file's mode
// and size, and the newest node covering each byte of a file supplies it
// (bytes no node covers are zeros). Data is read and decompressed node by
// node when a file is read.
//
// Compression types (numbered as in include/uapi/linux/jffs2.h): none (0),
// zero (1), rtime (2), copy (4), zlib (6), lzo (7) and lzma (8, the kernel
// patches' fixed parameters lc=0 lp=0 pb=0 with an 8 KiB dictionary, or
// five stored property bytes in front of the data as some vendor kernels
// write, also under the zlib type) are read. rubinmips (3) and dynrubin (5)
// are reported as unsupported when a file that uses them is read.
//
// # Limitations
//
// Extended attributes are ignored. A directory reached by more than one
// entry (which JFFS2 does not allow) is kept under the first in (parent,
// name) order only, so the tree stays a tree. Raw NAND dumps with the spare (OOB) bytes interleaved are
// not read: strip them first. The image must start with a node after any
// erased flash, within 256 KiB.
package jffs2

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

const (
	magic      = 0x1985
	accurate   = 0x2000 // node type bit cleared on flash when a node is obsoleted
	headerSize = 12
	direntSize = 40
	inodeSize  = 68

	nodeDirent = 0xe001
	nodeInode  = 0xe002

	rootIno    = 1
	maxNode    = 1 << 20 // largest node accepted (headers, names, data)
	maxData    = 1 << 20 // largest decompressed node data
	maxLinkLen = 4096
	// detectSpan bounds the bytes, other than erased flash, that Open
	// examines for the first node.
	detectSpan = 256 << 10
	windowSize = 1 << 20
)

// FS is a read-only view of a JFFS2 image. It is safe for concurrent use.
type FS struct {
	r        io.ReaderAt
	size     int64
	big      bool
	inodes   map[uint32]*inode
	children map[uint32]map[string]uint32 // directory ino -> name -> ino
	nlink    map[uint32]uint32            // ino -> directory entries naming it
	corrupt  int
}

// inode gathers the nodes of one inode.
type inode struct {
	meta  *node   // newest inode node: mode, size, times; nil when none
	nodes []*node // inode nodes that carry data
}

// node is an inode node: where it is and what part of the file it holds.
type node struct {
	pos     int64 // image offset of the node
	version uint32
	mode    uint32
	isize   uint32
	mtime   uint32
	offset  uint32 // file offset of the data
	csize   uint32
	dsize   uint32
	compr   uint8
}

// newer orders nodes by version, then by position in the log.
func (n *node) newer(m *node) bool {
	if n.version != m.version {
		return n.version > m.version
	}
	return n.pos > m.pos
}

// dirent is a directory entry node.
type dirent struct {
	pos     int64
	pino    uint32
	version uint32
	ino     uint32 // 0 deletes the name
	dtype   uint8
	name    string
}

// Open scans the JFFS2 image in r[0:size) and returns a read-only view of
// it. It fails only when no valid node is found where the image starts
// (after any erased flash); damaged nodes later on are skipped.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	f := &FS{r: r, size: size, inodes: map[uint32]*inode{}, children: map[uint32]map[string]uint32{}}
	w := &window{r: r, size: size}
	start, err := f.detect(w)
	if err != nil {
		return nil, err
	}
	dirents, err := f.scan(w, start)
	if err != nil {
		return nil, err
	}
	f.build(dirents)
	return f, nil
}

// CorruptNodes returns how many nodes with a valid header were skipped
// because a node, name or data CRC did not match.
func (f *FS) CorruptNodes() int { return f.corrupt }

func (f *FS) u16(b []byte) uint16 {
	if f.big {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (f *FS) u32(b []byte) uint32 {
	if f.big {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// crc is the CRC-32 JFFS2 uses: the IEEE polynomial without the initial
// and final inversions.
func crc(p []byte) uint32 { return ^crc32.Update(0xffffffff, crc32.IEEETable, p) }

// headerOK checks a node header's CRC, computed as written: with the
// accurate bit set.
func (f *FS) headerOK(h []byte) bool {
	var c [8]byte
	copy(c[:], h[:8])
	if f.big {
		c[2] |= accurate >> 8
	} else {
		c[3] |= accurate >> 8
	}
	return crc(c[:]) == f.u32(h[8:])
}

// detect finds the first node, skipping erased flash, and sets the byte
// order from it.
func (f *FS) detect(w *window) (int64, error) {
	examined := 0
	for pos := int64(0); pos+headerSize <= f.size && examined < detectSpan; pos += 4 {
		h, err := w.at(pos, headerSize)
		if err != nil {
			return 0, fmt.Errorf("jffs2: reading at 0x%x: %w", pos, err)
		}
		if binary.LittleEndian.Uint32(h) == 0xffffffff {
			continue
		}
		examined += 4
		for _, big := range []bool{false, true} {
			f.big = big
			if f.u16(h) == magic && f.headerOK(h) {
				return pos, nil
			}
		}
	}
	return 0, errors.New("jffs2: no node found (magic 0x1985 with a valid header CRC)")
}

// scan reads the node log from start on, indexing inode nodes and
// returning directory entries.
func (f *FS) scan(w *window, start int64) ([]dirent, error) {
	var dirents []dirent
	for pos := start; pos+headerSize <= f.size; {
		h, err := w.at(pos, headerSize)
		if err != nil {
			return nil, fmt.Errorf("jffs2: reading at 0x%x: %w", pos, err)
		}
		totlen := int64(f.u32(h[4:]))
		if f.u16(h) != magic || !f.headerOK(h) || totlen < headerSize || totlen > maxNode || pos+totlen > f.size {
			pos += 4 // erased flash, dirt or damage: resynchronise
			continue
		}
		next := pos + (totlen+3)&^3
		typ := f.u16(h[2:])
		if typ != nodeDirent && typ != nodeInode { // obsolete or not needed
			pos = next
			continue
		}
		b, err := w.at(pos, int(totlen))
		if err != nil {
			return nil, fmt.Errorf("jffs2: reading node at 0x%x: %w", pos, err)
		}
		if typ == nodeDirent {
			d, ok := f.parseDirent(pos, b)
			if ok {
				dirents = append(dirents, d)
			}
		} else {
			f.addInode(pos, b)
		}
		pos = next
	}
	return dirents, nil
}

// parseDirent decodes and checks a directory entry node.
func (f *FS) parseDirent(pos int64, b []byte) (dirent, bool) {
	if len(b) < direntSize || crc(b[:32]) != f.u32(b[32:]) {
		f.corrupt++
		return dirent{}, false
	}
	nsize := int(b[28])
	if direntSize+nsize > len(b) || crc(b[direntSize:direntSize+nsize]) != f.u32(b[36:]) {
		f.corrupt++
		return dirent{}, false
	}
	d := dirent{pos: pos, pino: f.u32(b[12:]), version: f.u32(b[16:]), ino: f.u32(b[20:]),
		dtype: b[29], name: string(b[direntSize : direntSize+nsize])}
	if !validName(d.name) {
		f.corrupt++
		return dirent{}, false
	}
	return d, true
}

func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// addInode checks an inode node and indexes it.
func (f *FS) addInode(pos int64, b []byte) {
	if len(b) < inodeSize || crc(b[:60]) != f.u32(b[64:]) {
		f.corrupt++
		return
	}
	n := &node{pos: pos, version: f.u32(b[16:]), mode: f.u32(b[20:]), isize: f.u32(b[28:]),
		mtime: f.u32(b[36:]), offset: f.u32(b[44:]), csize: f.u32(b[48:]), dsize: f.u32(b[52:]), compr: b[56]}
	ino := f.u32(b[12:])
	// Zero nodes (holes written by truncate and seek) may be any size.
	if int64(n.csize) > int64(len(b)-inodeSize) || n.dsize > maxData && n.compr != comprZero ||
		crc(b[inodeSize:inodeSize+int(n.csize)]) != f.u32(b[60:]) {
		f.corrupt++
		return
	}
	if ino == 0 {
		return
	}
	in := f.inodes[ino]
	if in == nil {
		in = &inode{}
		f.inodes[ino] = in
	}
	if in.meta == nil || n.newer(in.meta) {
		in.meta = n
	}
	if n.dsize > 0 {
		in.nodes = append(in.nodes, n)
	}
}

// build makes the directory tree from the newest entry of each (parent,
// name). A directory keeps one parent: the first entry in (parent, name)
// order; the root none.
func (f *FS) build(dirents []dirent) {
	type key struct {
		pino uint32
		name string
	}
	latest := map[key]dirent{}
	for _, d := range dirents {
		k := key{d.pino, d.name}
		if old, ok := latest[k]; !ok || d.version > old.version || d.version == old.version && d.pos > old.pos {
			latest[k] = d
		}
	}
	live := make([]dirent, 0, len(latest))
	for _, d := range latest {
		if d.ino != 0 && d.ino != rootIno && d.ino != d.pino {
			live = append(live, d)
		}
	}
	slices.SortFunc(live, func(a, b dirent) int {
		return cmp.Or(cmp.Compare(a.pino, b.pino), strings.Compare(a.name, b.name))
	})
	hasParent := map[uint32]bool{}
	for _, d := range live {
		if f.modeOf(d.ino, d.dtype)&unixmode.IFMT == unixmode.IFDIR {
			if hasParent[d.ino] {
				continue
			}
			hasParent[d.ino] = true
		}
		m := f.children[d.pino]
		if m == nil {
			m = map[string]uint32{}
			f.children[d.pino] = m
		}
		m[d.name] = d.ino
	}
	f.nlink = map[uint32]uint32{}
	for _, m := range f.children {
		for _, ino := range m {
			f.nlink[ino]++
		}
	}
	// Entries keep the type their inode has; remember the dirent's type
	// for inodes that have no node at all.
	for _, d := range live {
		if f.inodes[d.ino] == nil {
			f.inodes[d.ino] = &inode{meta: &node{mode: uint32(d.dtype) << 12}}
		}
	}
}

// modeOf returns the mode of ino: its newest node's, else the type that
// a directory entry gives it.
func (f *FS) modeOf(ino uint32, dtype uint8) uint32 {
	if in := f.inodes[ino]; in != nil && in.meta != nil {
		return in.meta.mode
	}
	return uint32(dtype) << 12
}

// entry is a file found by lookup.
type entry struct {
	ino  uint32
	mode uint32
}

func (f *FS) entry(ino uint32) entry {
	if ino == rootIno {
		mode := uint32(unixmode.IFDIR | 0o755)
		if m := f.modeOf(rootIno, 0); m&unixmode.IFMT == unixmode.IFDIR {
			mode = m
		}
		return entry{ino: rootIno, mode: mode}
	}
	return entry{ino: ino, mode: f.modeOf(ino, 0)}
}

// lookup finds name, following symbolic links in its directories, and in
// its last element too when follow is set (see imgfile.Lookup).
func (f *FS) lookup(op, name string, follow bool) (entry, error) {
	return imgfile.Lookup(imgfile.Tree[entry]{
		Root:  f.entry(rootIno),
		IsDir: func(e entry) bool { return e.mode&unixmode.IFMT == unixmode.IFDIR },
		Child: func(dir entry, name string) (entry, error) {
			ino, ok := f.children[dir.ino][name]
			if !ok {
				return entry{}, fs.ErrNotExist
			}
			return f.entry(ino), nil
		},
		IsLink:   func(e entry) bool { return e.mode&unixmode.IFMT == unixmode.IFLNK },
		ReadLink: f.readLink,
		Same:     func(dir, child entry) bool { return dir.ino == child.ino },
	}, op, name, follow)
}

// readLink returns the target of a symbolic link: its data.
func (f *FS) readLink(e entry) (string, error) {
	d := f.openData(e)
	if d.size > maxLinkLen {
		return "", fmt.Errorf("symbolic link target of %d bytes too long", d.size)
	}
	b, err := io.ReadAll(imgfile.New("", fileInfo{}, d.size, d))
	if err != nil {
		return "", err
	}
	return string(b), nil
}

func (f *FS) info(name string, e entry) fileInfo {
	fi := fileInfo{name: name, mode: e.mode, inode: Inode{Ino: e.ino, Nlink: f.nlink[e.ino]}}
	if in := f.inodes[e.ino]; in != nil && in.meta != nil {
		fi.mtime = in.meta.mtime
		if t := e.mode & unixmode.IFMT; t == unixmode.IFREG || t == unixmode.IFLNK {
			fi.size = int64(in.meta.isize)
		}
	}
	return fi
}

// Open opens the named file or directory, following symbolic links.
// Device files, FIFOs and sockets open as empty files.
func (f *FS) Open(name string) (fs.File, error) {
	e, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	info := f.info(path.Base(name), e)
	switch e.mode & unixmode.IFMT {
	case unixmode.IFDIR:
		return imgfile.NewDir(name, info, f.dirEntries(e.ino)), nil
	case unixmode.IFREG:
		d := f.openData(e)
		return imgfile.New(name, info, d.size, d), nil
	}
	return imgfile.New(name, info, 0, nil), nil
}

// dirEntries lists directory ino in name order.
func (f *FS) dirEntries(ino uint32) []fs.DirEntry {
	m := f.children[ino]
	out := make([]fs.DirEntry, 0, len(m))
	for name, child := range m {
		out = append(out, fs.FileInfoToDirEntry(f.info(name, f.entry(child))))
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out
}

// ReadDir lists the named directory in name order.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	e, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if e.mode&unixmode.IFMT != unixmode.IFDIR {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return f.dirEntries(e.ino), nil
}

// Stat describes the named file, following symbolic links.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return f.info(path.Base(name), e), nil
}

// Lstat describes the named file without following a final symbolic link.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	e, err := f.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return f.info(path.Base(name), e), nil
}

// ReadLink returns the target of the named symbolic link.
func (f *FS) ReadLink(name string) (string, error) {
	e, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if e.mode&unixmode.IFMT != unixmode.IFLNK {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.New("not a symbolic link")}
	}
	target, err := f.readLink(e)
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}

// window reads the image through a buffer, for the scan.
type window struct {
	r    io.ReaderAt
	size int64
	off  int64
	buf  []byte
}

// at returns the n bytes at off, which the caller has checked lie within
// the image. The slice is valid until the next call.
func (w *window) at(off int64, n int) ([]byte, error) {
	if off >= w.off && off+int64(n) <= w.off+int64(len(w.buf)) {
		return w.buf[off-w.off:][:n], nil
	}
	size := int(min(int64(max(n, windowSize)), w.size-off))
	if cap(w.buf) < size {
		w.buf = make([]byte, size)
	}
	w.buf = w.buf[:size]
	w.off = off
	if err := imgfile.ReadFull(w.r, w.buf, off); err != nil {
		w.buf = w.buf[:0]
		return nil, err
	}
	return w.buf[:n], nil
}
