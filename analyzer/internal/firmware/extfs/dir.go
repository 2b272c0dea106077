package extfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
)

const (
	maxDepth       = 256  // directories on one path
	maxSymlinkHops = 40   // symlinks followed while resolving one path
	maxSymlinkLen  = 4096 // PATH_MAX
	direntHeader   = 8
)

// dirent is one directory entry.
type dirent struct {
	name  string
	ino   uint32
	ftype uint8 // file type from the entry; 0 when unknown
}

// dirList is a parsed directory: its entries sorted by name, without
// "." and "..".
type dirList struct {
	parent uint32 // inode named by ".."; 0 if missing
	ents   []dirent
	err    error // first damage met; ents holds the entries outside it
}

// lookup finds an entry by name.
func (d *dirList) lookup(name string) (dirent, bool) {
	i, ok := slices.BinarySearchFunc(d.ents, name, func(e dirent, n string) int { return strings.Compare(e.name, n) })
	if !ok {
		return dirent{}, false
	}
	return d.ents[i], true
}

// listing returns the directory at the top of stack, after checking that
// it names the directory below it as its parent and appears only once on
// the path: together these make every directory reachable by one path
// only, so no walk can loop or multiply.
func (f *FS) listing(stack []*inode) (*dirList, error) {
	in := stack[len(stack)-1]
	d, err := f.dirList(in)
	if err != nil {
		return nil, err
	}
	if len(stack) > 1 {
		parent := stack[len(stack)-2].ino
		if d.parent != parent {
			return nil, fmt.Errorf("directory inode %d: \"..\" is inode %d, not its parent %d", in.ino, d.parent, parent)
		}
		for _, up := range stack[:len(stack)-1] {
			if up.ino == in.ino {
				return nil, fmt.Errorf("directory inode %d: loop (it contains itself)", in.ino)
			}
		}
	}
	return d, nil
}

// dirList returns the parsed directory in, from the cache if possible.
func (f *FS) dirList(in *inode) (*dirList, error) {
	f.mu.Lock()
	d := f.dirs[in.ino]
	f.mu.Unlock()
	if d != nil {
		return d, nil
	}
	d, err := f.readDirList(in)
	if err != nil {
		return nil, fmt.Errorf("directory inode %d: %w", in.ino, err)
	}
	f.mu.Lock()
	if f.dirCount+len(d.ents) > maxDirCache {
		clear(f.dirs)
		f.dirCount = 0
	}
	f.dirs[in.ino] = d
	f.dirCount += len(d.ents) + 1
	f.mu.Unlock()
	return d, nil
}

// readDirList reads and parses directory in. It fails only when nothing
// can be read; damage met on the way is kept in dirList.err (the first
// one), and the entries outside it are kept.
func (f *FS) readDirList(in *inode) (*dirList, error) {
	if !in.isDir() {
		return nil, errors.New("not a directory")
	}
	if err := f.checkReadable(in); err != nil {
		return nil, err
	}
	p := &direntParser{f: f, seen: make(map[string]bool)}
	if in.flags&flagInlineData != 0 {
		// Inline: the parent's number, then entries in the rest of
		// i_block and in the system.data attribute.
		p.d.parent = le.Uint32(in.iblock)
		v, err := in.inlineValue()
		if err != nil {
			return nil, err
		}
		p.parse(in.iblock[4:], "inline entries")
		p.parse(v, "inline attribute entries")
	} else {
		if in.size > uint64(f.size) {
			return nil, fmt.Errorf("size %d exceeds the image", in.size)
		}
		c, err := f.newContent(in)
		if err != nil {
			return nil, err
		}
		// Each block holds whole entries: damage in one block does not
		// stop the next.
		blk := make([]byte, f.blockSize)
		for off := int64(0); off < c.size; off += f.blockSize {
			lblk := uint64(off / f.blockSize)
			r, err := c.m.lookup(lblk)
			if err != nil {
				p.fail(fmt.Errorf("block %d: %w", lblk, err))
				continue
			}
			if r.pblk == 0 || r.zero {
				off = int64(r.lblk+r.n-1) * f.blockSize // a hole holds no entries
				continue
			}
			c.cur = r
			n, err := c.ReadAt(blk, off)
			if err != nil && err != io.EOF {
				p.fail(err)
				continue
			}
			p.parse(blk[:n], fmt.Sprintf("block %d", lblk))
		}
	}
	slices.SortStableFunc(p.d.ents, func(a, b dirent) int { return strings.Compare(a.name, b.name) })
	return &p.d, nil
}

// direntParser collects the entries of one directory.
type direntParser struct {
	f    *FS
	d    dirList
	seen map[string]bool
}

func (p *direntParser) fail(err error) {
	if p.d.err == nil {
		p.d.err = err
	}
}

// parse reads the entries packed in b (a block or an inline area). A
// bad record length ends the area; a bad entry is skipped.
func (p *direntParser) parse(b []byte, where string) {
	for off := 0; off < len(b); {
		if len(b)-off < direntHeader {
			p.fail(fmt.Errorf("%s: entry at %d truncated", where, off))
			return
		}
		e := b[off:]
		ino := le.Uint32(e)
		recLen := p.recLen(le.Uint16(e[4:]))
		nameLen := int(e[6])
		ftype := e[7]
		if p.f.incompat&incompatFiletype == 0 {
			nameLen |= int(ftype) << 8 // no file type: a 16-bit name length
			ftype = 0
		} else if p.f.incompat&incompatDirData != 0 {
			ftype &= 0x0F // high bits flag extra data after the name
		}
		if recLen < direntHeader || recLen%4 != 0 || recLen > len(b)-off || nameLen > recLen-direntHeader {
			p.fail(fmt.Errorf("%s: entry at %d: record length %d, name length %d", where, off, recLen, nameLen))
			return
		}
		off += recLen
		if ino == 0 {
			continue // unused slot, htree node or checksum tail
		}
		name := string(e[direntHeader : direntHeader+nameLen])
		switch {
		case name == "." || name == "..":
			if name == ".." && p.d.parent == 0 {
				p.d.parent = ino
			}
			continue
		case ino > p.f.inodes:
			p.fail(fmt.Errorf("%s: entry %q: inode %d out of range", where, name, ino))
			continue
		case name == "" || strings.ContainsAny(name, "/\x00"):
			p.fail(fmt.Errorf("%s: invalid entry name %q", where, name))
			continue
		case p.seen[name]:
			p.fail(fmt.Errorf("%s: duplicate entry %q", where, name))
			continue
		}
		p.seen[name] = true
		p.d.ents = append(p.d.ents, dirent{name: name, ino: ino, ftype: ftype})
	}
}

// recLen decodes a record length; 64 KiB blocks need 17 bits.
func (p *direntParser) recLen(v uint16) int {
	if p.f.blockSize < 65536 {
		return int(v)
	}
	if v == 65535 || v == 0 {
		return 65536
	}
	return int(v&65532) | int(v&3)<<16
}

// walk resolves name (a valid fs path) to its inode and the directories
// leading to it (stack, from the root; the inode itself is on top when
// it is a directory). Symlinks are followed inside the image, the last
// element only if follow is set; ".." in a link target never climbs
// above the root.
func (f *FS) walk(name string, follow bool) ([]*inode, *inode, error) {
	if !fs.ValidPath(name) {
		return nil, nil, fs.ErrInvalid
	}
	stack := []*inode{f.root}
	cur := f.root
	var parts []string
	if name != "." {
		parts = strings.Split(name, "/")
	}
	hops := 0
	for len(parts) > 0 {
		p := parts[0]
		parts = parts[1:]
		switch p {
		case "", ".":
			continue
		case "..":
			if !cur.isDir() {
				return nil, nil, fmt.Errorf("%w: inode %d is not a directory", fs.ErrNotExist, cur.ino)
			}
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			cur = stack[len(stack)-1]
			continue
		}
		if !cur.isDir() {
			return nil, nil, fmt.Errorf("%w: inode %d is not a directory", fs.ErrNotExist, cur.ino)
		}
		d, err := f.listing(stack)
		if err != nil {
			return nil, nil, err
		}
		e, ok := d.lookup(p)
		if !ok {
			if d.err != nil {
				return nil, nil, fmt.Errorf("%w (directory inode %d is damaged: %v)", fs.ErrNotExist, cur.ino, d.err)
			}
			return nil, nil, fs.ErrNotExist
		}
		child, err := f.readInode(e.ino)
		if err != nil {
			return nil, nil, err
		}
		if child.isLink() && (len(parts) > 0 || follow) {
			if hops++; hops > maxSymlinkHops {
				return nil, nil, errors.New("too many levels of symbolic links")
			}
			target, err := f.readLink(child)
			if err != nil {
				return nil, nil, err
			}
			if strings.HasPrefix(target, "/") {
				stack, cur = stack[:1], f.root
			}
			parts = append(strings.Split(target, "/"), parts...)
			continue
		}
		if child.isDir() {
			if len(stack) >= maxDepth {
				return nil, nil, fmt.Errorf("more than %d nested directories", maxDepth)
			}
			stack = append(stack, child)
		}
		cur = child
	}
	return stack, cur, nil
}

// readLink returns the target of symlink in.
func (f *FS) readLink(in *inode) (string, error) {
	if in.flags&flagEncrypt != 0 {
		return "", fmt.Errorf("symlink inode %d: encrypted target", in.ino)
	}
	if in.size == 0 || in.size > maxSymlinkLen {
		return "", fmt.Errorf("symlink inode %d: target length %d out of range", in.ino, in.size)
	}
	var b []byte
	switch {
	case in.flags&flagInlineData != 0:
		var err error
		if b, err = in.inlineData(); err != nil {
			return "", fmt.Errorf("symlink inode %d: %w", in.ino, err)
		}
	case f.isFastSymlink(in):
		if in.size >= iblockSize {
			return "", fmt.Errorf("symlink inode %d: fast symlink of %d bytes", in.ino, in.size)
		}
		b = in.iblock[:in.size]
	default:
		c, err := f.newContent(in)
		if err != nil {
			return "", fmt.Errorf("symlink inode %d: %w", in.ino, err)
		}
		b = make([]byte, in.size)
		if n, err := c.ReadAt(b, 0); n < len(b) {
			return "", fmt.Errorf("symlink inode %d: %w", in.ino, err)
		}
	}
	return string(b), nil
}

// isFastSymlink reports whether a symlink keeps its target in i_block:
// it owns no blocks besides an extended attribute block.
func (f *FS) isFastSymlink(in *inode) bool {
	blocks := in.blocks
	if in.fileACL != 0 {
		blocks -= min(blocks, uint64(f.clusterSize/512))
	}
	return blocks == 0
}

// pathError wraps err for fs methods.
func pathError(op, name string, err error) error {
	return &fs.PathError{Op: op, Path: name, Err: err}
}

// Open opens the named file or directory, following symlinks inside the
// image. A regular file reads its content; a device, FIFO or socket reads
// as empty; a directory implements fs.ReadDirFile.
func (f *FS) Open(name string) (fs.File, error) {
	stack, in, err := f.walk(name, true)
	if err != nil {
		return nil, pathError("open", name, err)
	}
	info := in.info(path.Base(name))
	if in.isDir() {
		return &dirFile{f: f, name: name, info: info, stack: stack}, nil
	}
	if !in.isReg() {
		return imgfile.New(name, info, 0, nil), nil
	}
	c, err := f.newContent(in)
	if err != nil {
		return nil, pathError("open", name, fmt.Errorf("inode %d: %w", in.ino, err))
	}
	return imgfile.New(name, info, c.size, c), nil
}

// ReadDir returns the named directory's entries sorted by name. A
// damaged directory returns the entries it could read together with an
// error describing the damage.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	stack, in, err := f.walk(name, true)
	if err != nil {
		return nil, pathError("readdir", name, err)
	}
	if !in.isDir() {
		return nil, pathError("readdir", name, fmt.Errorf("inode %d is not a directory", in.ino))
	}
	ents, err := f.readDir(stack)
	if err != nil {
		err = pathError("readdir", name, err)
	}
	return ents, err
}

// readDir lists the directory on top of stack.
func (f *FS) readDir(stack []*inode) ([]fs.DirEntry, error) {
	d, err := f.listing(stack)
	if err != nil {
		return nil, err
	}
	ents := make([]fs.DirEntry, 0, len(d.ents))
	// A second entry for one directory (each naming this directory in its
	// "..") is left out, with an error.
	dirs := imgfile.DirNames[uint32]{}
	var dupErr error
	for _, e := range d.ents {
		de := &dirEntry{name: e.name, typ: direntType(e.ftype)}
		if in, err := f.readInode(e.ino); err != nil {
			de.err = err
		} else {
			de.info = in.info(e.name)
			de.typ = de.info.mode.Type()
		}
		if de.err == nil && de.typ.IsDir() {
			if err := dirs.Claim(e.ino, e.name); err != nil {
				if dupErr == nil {
					dupErr = fmt.Errorf("%w (inode %d); %q left out", err, e.ino, e.name)
				}
				continue
			}
		}
		ents = append(ents, de)
	}
	return ents, errors.Join(d.err, dupErr)
}

// direntType converts a directory entry's file type.
func direntType(t uint8) fs.FileMode {
	switch t {
	case 2:
		return fs.ModeDir
	case 3:
		return fs.ModeDevice | fs.ModeCharDevice
	case 4:
		return fs.ModeDevice
	case 5:
		return fs.ModeNamedPipe
	case 6:
		return fs.ModeSocket
	case 7:
		return fs.ModeSymlink
	}
	return 0
}

// Stat describes the named file, following symlinks inside the image.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	_, in, err := f.walk(name, true)
	if err != nil {
		return nil, pathError("stat", name, err)
	}
	return in.info(path.Base(name)), nil
}

// Lstat describes the named file without following a final symlink.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	_, in, err := f.walk(name, false)
	if err != nil {
		return nil, pathError("lstat", name, err)
	}
	return in.info(path.Base(name)), nil
}

// ReadLink returns the target of the named symlink as stored.
func (f *FS) ReadLink(name string) (string, error) {
	_, in, err := f.walk(name, false)
	if err != nil {
		return "", pathError("readlink", name, err)
	}
	if !in.isLink() {
		return "", pathError("readlink", name, fs.ErrInvalid)
	}
	target, err := f.readLink(in)
	if err != nil {
		return "", pathError("readlink", name, err)
	}
	return target, nil
}

// dirEntry implements fs.DirEntry.
type dirEntry struct {
	name string
	typ  fs.FileMode
	info *fileInfo
	err  error // reading the entry's inode
}

func (e *dirEntry) Name() string      { return e.name }
func (e *dirEntry) IsDir() bool       { return e.typ.IsDir() }
func (e *dirEntry) Type() fs.FileMode { return e.typ }

func (e *dirEntry) Info() (fs.FileInfo, error) {
	if e.err != nil {
		return nil, e.err
	}
	return e.info, nil
}

// dirFile is an open directory.
type dirFile struct {
	f     *FS
	name  string
	info  *fileInfo
	stack []*inode
	ents  []fs.DirEntry // nil until the first ReadDir
	read  bool
	err   error
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, pathError("read", d.name, errors.New("is a directory"))
}

// ReadDir returns the next n entries (all remaining when n ≤ 0).
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		d.read = true
		d.ents, d.err = d.f.readDir(d.stack)
		if d.err != nil {
			d.err = pathError("readdir", d.name, d.err)
		}
	}
	if n <= 0 {
		ents := d.ents
		d.ents = nil
		err := d.err
		d.err = nil
		return ents, err
	}
	if len(d.ents) == 0 {
		if d.err != nil {
			err := d.err
			d.err = nil
			return nil, err
		}
		return nil, io.EOF
	}
	n = min(n, len(d.ents))
	ents := d.ents[:n]
	d.ents = d.ents[n:]
	return ents, nil
}
