package ubifs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
)

const (
	maxDepth = 256 // directory nesting
	// maxFileSize is the largest size data keys can address (29-bit
	// block numbers of 4 KiB).
	maxFileSize = 1 << 41
)

var (
	errNotDir     = errors.New("not a directory")
	errNotSymlink = errors.New("not a symbolic link")
	errLoop       = errors.New("directory loop")
)

// claim records where a directory inode was first listed.
type claim struct {
	parent uint32
	name   string
}

// lookup resolves a slash path to an inode number. Symbolic links met on
// the way are followed (up to 40, within the file system: an absolute
// target starts at its root, ".." stops there); a final one only when
// follow is set.
func (f *FS) lookup(op, name string, follow bool) (uint32, error) {
	if !fs.ValidPath(name) {
		return 0, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	fail := func(err error) (uint32, error) { return 0, &fs.PathError{Op: op, Path: name, Err: err} }
	var todo []string
	if name != "." {
		todo = strings.Split(name, "/")
	}
	chain := []uint32{rootIno} // the directories walked, root first
	links := 0
	for len(todo) > 0 {
		el := todo[0]
		todo = todo[1:]
		switch el {
		case "", ".":
			continue
		case "..":
			if len(chain) > 1 {
				chain = chain[:len(chain)-1]
			}
			continue
		}
		if len(chain) > maxDepth {
			return fail(errors.New("path deeper than 256 directories"))
		}
		d := f.dir(chain[len(chain)-1])
		e, ok := d.find(el)
		switch {
		case !ok && d.err != nil:
			return fail(fmt.Errorf("%w (directory unreadable: %w)", fs.ErrNotExist, d.err))
		case !ok:
			return fail(fs.ErrNotExist)
		case e.typ == fs.ModeSymlink && (len(todo) > 0 || follow):
			if links++; links > 40 {
				return fail(errors.New("too many levels of symbolic links"))
			}
			in, err := f.readInode(e.ino)
			if err != nil {
				return fail(err)
			}
			if err := in.encrypted(); err != nil {
				return fail(err)
			}
			target := string(in.data)
			if target == "" {
				return fail(errors.New("empty symbolic link"))
			}
			if strings.HasPrefix(target, "/") {
				chain = chain[:1]
			}
			todo = append(strings.Split(target, "/"), todo...)
			if len(todo) > 4*maxDepth {
				return fail(errors.New("symbolic link target too long"))
			}
		case len(todo) == 0:
			if e.typ == fs.ModeDir && slices.Contains(chain, e.ino) {
				return fail(errLoop)
			}
			return e.ino, nil
		case e.typ != fs.ModeDir:
			return fail(errNotDir)
		case slices.Contains(chain, e.ino):
			return fail(errLoop)
		default:
			chain = append(chain, e.ino)
		}
	}
	return chain[len(chain)-1], nil
}

// stat resolves name and reads its inode.
func (f *FS) stat(op, name string, follow bool) (*inode, error) {
	ino, err := f.lookup(op, name, follow)
	if err != nil {
		return nil, err
	}
	in, err := f.readInode(ino)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return in, nil
}

// Open opens a file, following symbolic links. A device, fifo or socket
// opens as an empty file.
func (f *FS) Open(name string) (fs.File, error) {
	in, err := f.stat("open", name, true)
	if err != nil {
		return nil, err
	}
	switch in.fileMode().Type() {
	case fs.ModeDir:
		return &dirFile{f: f, name: name, in: in}, nil
	case 0:
	default:
		return imgfile.New(name, &fileInfo{name: path.Base(name), in: in}, 0, nil), nil
	}
	if err := in.encrypted(); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if in.size > maxFileSize {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("inode %d: size %d too large", in.ino, in.size)}
	}
	data := &blockData{f: f, ino: in.ino, blocks: f.data[in.ino], cur: -1}
	return imgfile.New(name, &fileInfo{name: path.Base(name), in: in}, int64(in.size), data), nil
}

// ReadDir lists a directory, sorted by name. Entries that cannot be read
// are left out and reported in the error, which may come with the entries
// that could be read. A directory listed a second time under another name
// (a directory hard link or loop) is left out too.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	in, err := f.stat("readdir", name, true)
	if err != nil {
		return nil, err
	}
	return f.readDirEntries(name, in)
}

func (f *FS) readDirEntries(name string, in *inode) ([]fs.DirEntry, error) {
	if !in.fileMode().IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	if err := in.encrypted(); err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	d := f.dir(in.ino)
	errs := []error{d.err}
	out := make([]fs.DirEntry, 0, len(d.ents))
	f.mu.Lock()
	for _, e := range d.ents {
		if e.typ == fs.ModeDir {
			c, ok := f.claims[e.ino]
			if ok && (c.parent != in.ino || c.name != e.name) {
				errs = append(errs, fmt.Errorf("entry %q: directory inode %d is already listed elsewhere: %w", e.name, e.ino, errLoop))
				continue
			}
			f.claims[e.ino] = claim{parent: in.ino, name: e.name}
		}
		out = append(out, &dirEntry{f: f, e: e})
	}
	f.mu.Unlock()
	if err := errors.Join(errs...); err != nil {
		return out, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return out, nil
}

// Stat returns a FileInfo for name, following symbolic links.
func (f *FS) Stat(name string) (fs.FileInfo, error) { return f.statInfo("stat", name, true) }

// Lstat returns a FileInfo for name without following a final symbolic
// link.
func (f *FS) Lstat(name string) (fs.FileInfo, error) { return f.statInfo("lstat", name, false) }

func (f *FS) statInfo(op, name string, follow bool) (fs.FileInfo, error) {
	in, err := f.stat(op, name, follow)
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: path.Base(name), in: in}, nil
}

// ReadLink returns the target of symbolic link name.
func (f *FS) ReadLink(name string) (string, error) {
	in, err := f.stat("readlink", name, false)
	if err != nil {
		return "", err
	}
	if in.fileMode().Type() != fs.ModeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: errNotSymlink}
	}
	if err := in.encrypted(); err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return string(in.data), nil
}

// Inode is what fs.FileInfo.Sys returns for files of a UBIFS.
type Inode struct {
	Ino   uint32 // inode number: hard links share it
	Nlink uint32
	UID   uint32
	GID   uint32
}

// HardLink returns the inode number, which hard links share, and the
// link count.
func (i *Inode) HardLink() (ino, nlink uint64) { return uint64(i.Ino), uint64(i.Nlink) }

// fileInfo implements fs.FileInfo.
type fileInfo struct {
	name string
	in   *inode
}

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return int64(min(i.in.size, 1<<62)) }
func (i *fileInfo) Mode() fs.FileMode  { return i.in.fileMode() }
func (i *fileInfo) ModTime() time.Time { return i.in.mtime }
func (i *fileInfo) IsDir() bool        { return i.Mode().IsDir() }
func (i *fileInfo) Sys() any {
	return &Inode{Ino: i.in.ino, Nlink: i.in.nlink, UID: i.in.uid, GID: i.in.gid}
}

// dirEntry implements fs.DirEntry.
type dirEntry struct {
	f *FS
	e dirent
}

func (d *dirEntry) Name() string      { return d.e.name }
func (d *dirEntry) IsDir() bool       { return d.e.typ == fs.ModeDir }
func (d *dirEntry) Type() fs.FileMode { return d.e.typ }
func (d *dirEntry) String() string    { return fs.FormatDirEntry(d) }

// Info reads the entry's inode.
func (d *dirEntry) Info() (fs.FileInfo, error) {
	in, err := d.f.readInode(d.e.ino)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: d.e.name, Err: err}
	}
	return &fileInfo{name: d.e.name, in: in}, nil
}

// dirFile is an open directory.
type dirFile struct {
	f      *FS
	name   string
	in     *inode
	ents   []fs.DirEntry
	read   bool
	closed bool
}

func (d *dirFile) Stat() (fs.FileInfo, error) {
	return &fileInfo{name: path.Base(d.name), in: d.in}, nil
}

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *dirFile) Close() error {
	d.closed = true
	return nil
}

// ReadDir implements fs.ReadDirFile.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.closed {
		return nil, &fs.PathError{Op: "readdir", Path: d.name, Err: fs.ErrClosed}
	}
	var err error
	if !d.read {
		d.read = true
		d.ents, err = d.f.readDirEntries(d.name, d.in)
	}
	if n <= 0 {
		out := d.ents
		d.ents = nil
		return out, err
	}
	if len(d.ents) == 0 && err == nil {
		return nil, io.EOF
	}
	k := min(n, len(d.ents))
	out := d.ents[:k:k]
	d.ents = d.ents[k:]
	return out, err
}

// blockData reads a file's data a block at a time, keeping the last
// block decoded for the next read; imgfile.File serialises the reads.
type blockData struct {
	f      *FS
	ino    uint32
	blocks []dataRef

	cur  int64 // the block in buf, or -1
	buf  []byte
	node []byte // the last data node read
}

// ReadAt fills p from offset off, block by block.
func (d *blockData) ReadAt(p []byte, off int64) (int, error) {
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		blk := pos / blockSize
		if blk != d.cur {
			if err := d.load(blk); err != nil {
				return n, err
			}
		}
		// p ends at or before the end of the file, so the zeros after
		// the file's end in its last block are never copied.
		n += copy(p[n:], d.buf[pos%blockSize:])
	}
	return n, nil
}

// load reads block blk into buf: a data node, or zeros for a hole.
func (d *blockData) load(blk int64) error {
	if d.buf == nil {
		d.buf = make([]byte, blockSize)
	}
	d.cur = -1
	ino := d.ino
	i := sort.Search(len(d.blocks), func(i int) bool { return int64(d.blocks[i].block) >= blk })
	if i == len(d.blocks) || int64(d.blocks[i].block) != blk {
		k := makeKey(ino, keyData, uint32(blk))
		if err := d.f.damageIn(k, k); err != nil {
			return fmt.Errorf("inode %d block %d: %w", ino, blk, err)
		}
		clear(d.buf)
		d.cur = blk
		return nil
	}
	if err := d.f.readBlock(ino, d.blocks[i], d.buf, &d.node); err != nil {
		return fmt.Errorf("inode %d block %d: %w", ino, blk, err)
	}
	d.cur = blk
	return nil
}
