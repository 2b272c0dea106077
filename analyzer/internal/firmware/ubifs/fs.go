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
	"sync"
	"time"
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
		return &file{f: f, name: name, in: in, cur: -1}, nil
	}
	if err := in.encrypted(); err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if in.size > maxFileSize {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("inode %d: size %d too large", in.ino, in.size)}
	}
	return &file{f: f, name: name, in: in, size: int64(in.size), blocks: f.data[in.ino], cur: -1}, nil
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

// file is an open regular file: its data is read a block at a time. It is
// safe for concurrent use: mu guards the read position and the block
// cache, so that ReadAt calls on one handle can share the decoded block.
type file struct {
	f      *FS
	name   string
	in     *inode
	size   int64 // 0 for a device, fifo or socket
	blocks []dataRef

	mu     sync.Mutex
	pos    int64 // read position of Read and Seek
	cur    int64 // the block in buf, or -1
	buf    []byte
	node   []byte // the last data node read
	closed bool
}

var (
	_ io.ReaderAt = (*file)(nil)
	_ io.Seeker   = (*file)(nil)
)

func (fl *file) Stat() (fs.FileInfo, error) {
	return &fileInfo{name: path.Base(fl.name), in: fl.in}, nil
}

// Close releases the block buffers; the handle cannot be used afterwards.
func (fl *file) Close() error {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return fl.pathError("close", fs.ErrClosed)
	}
	fl.closed = true
	fl.cur, fl.buf, fl.node = -1, nil, nil
	return nil
}

// Read implements io.Reader: it reads from the read position and
// advances it.
func (fl *file) Read(p []byte) (int, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return 0, fl.pathError("read", fs.ErrClosed)
	}
	n, err := fl.readAt(p, fl.pos)
	fl.pos += int64(n)
	return n, err
}

// ReadAt implements io.ReaderAt; it does not move the read position and
// may be called concurrently.
func (fl *file) ReadAt(p []byte, off int64) (int, error) {
	fl.mu.Lock()
	defer fl.mu.Unlock()
	if fl.closed {
		return 0, fl.pathError("read", fs.ErrClosed)
	}
	return fl.readAt(p, off)
}

// Seek implements io.Seeker. A position past the end is allowed (reads
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

// readAt fills p from offset off, block by block, keeping the last block
// decoded for the next call. The caller holds mu.
func (fl *file) readAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fl.pathError("read", fmt.Errorf("negative offset %d: %w", off, fs.ErrInvalid))
	}
	if off >= fl.size {
		return 0, io.EOF
	}
	var eof error
	if int64(len(p)) > fl.size-off {
		p, eof = p[:fl.size-off], io.EOF
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		blk := pos / blockSize
		if blk != fl.cur {
			if err := fl.load(blk); err != nil {
				return n, fl.pathError("read", err)
			}
		}
		// p ends at or before the end of the file, so the zeros after
		// the file's end in its last block are never copied.
		n += copy(p[n:], fl.buf[pos%blockSize:])
	}
	return n, eof
}

func (fl *file) pathError(op string, err error) error {
	return &fs.PathError{Op: op, Path: fl.name, Err: err}
}

// load reads block blk into buf: a data node, or zeros for a hole.
func (fl *file) load(blk int64) error {
	if fl.buf == nil {
		fl.buf = make([]byte, blockSize)
	}
	fl.cur = -1
	ino := fl.in.ino
	i := sort.Search(len(fl.blocks), func(i int) bool { return int64(fl.blocks[i].block) >= blk })
	if i == len(fl.blocks) || int64(fl.blocks[i].block) != blk {
		k := makeKey(ino, keyData, uint32(blk))
		if err := fl.f.damageIn(k, k); err != nil {
			return fmt.Errorf("inode %d block %d: %w", ino, blk, err)
		}
		clear(fl.buf)
		fl.cur = blk
		return nil
	}
	if err := fl.f.readBlock(ino, fl.blocks[i], fl.buf, &fl.node); err != nil {
		return fmt.Errorf("inode %d block %d: %w", ino, blk, err)
	}
	fl.cur = blk
	return nil
}
