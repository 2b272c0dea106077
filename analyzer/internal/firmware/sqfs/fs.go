package sqfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strings"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
)

var (
	_ fs.ReadDirFS  = (*FS)(nil)
	_ fs.StatFS     = (*FS)(nil)
	_ fs.ReadLinkFS = (*FS)(nil)
)

// Open opens the named file. A directory gives an fs.ReadDirFile; a regular
// file streams its decompressed content and implements io.ReaderAt and
// io.Seeker. Symlinks in name are followed inside the image.
func (f *FS) Open(name string) (fs.File, error) {
	n, err := f.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	info := &fileInfo{f: f, name: baseName(name), ino: n}
	switch n.kind() {
	case typeDir:
		return &dirFile{f: f, path: name, info: info}, nil
	case typeFile:
		return newFile(f, name, info), nil
	}
	return &specialFile{info: info}, nil
}

// ReadDir returns the entries of the named directory sorted by name. When
// part of the listing is corrupt it returns the entries it could read with
// the error.
func (f *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := f.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if n.kind() != typeDir {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return f.readDir(name, n)
}

func (f *FS) readDir(name string, n *inode) ([]fs.DirEntry, error) {
	ents, err := f.listing(n)
	list := make([]fs.DirEntry, 0, len(ents))
	// A second entry for one directory is left out, with an error.
	dirs := imgfile.DirNames[uint64]{}
	for _, e := range ents {
		d := &dirEntry{info: fileInfo{f: f, name: e.name}, typ: typeMode(e.typ)}
		ino, ierr := f.inode(e.ref)
		if ierr != nil {
			d.err = &fs.PathError{Op: "stat", Path: joinPath(name, e.name), Err: ierr}
		} else {
			d.info.ino = ino
			d.typ = typeMode(ino.kind())
		}
		if ierr == nil && ino.kind() == typeDir {
			if derr := dirs.Claim(e.ref, e.name); derr != nil {
				if err == nil {
					err = fmt.Errorf("%w (inode %d); %q left out", derr, ino.number, e.name)
				}
				continue
			}
		}
		list = append(list, d)
	}
	if err != nil {
		return list, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return list, nil
}

// Stat returns a FileInfo for the named file, following symlinks.
func (f *FS) Stat(name string) (fs.FileInfo, error) {
	n, err := f.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return &fileInfo{f: f, name: baseName(name), ino: n}, nil
}

// Lstat returns a FileInfo for the named file without following a final
// symlink.
func (f *FS) Lstat(name string) (fs.FileInfo, error) {
	n, err := f.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return &fileInfo{f: f, name: baseName(name), ino: n}, nil
}

// ReadLink returns the target of the named symlink as stored.
func (f *FS) ReadLink(name string) (string, error) {
	n, err := f.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.kind() != typeSymlink {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return n.target, nil
}

// lookup resolves name to its inode. Symlinks met on the way are followed
// inside the image (an absolute target starts at the root, ".." stops at
// the root); a final symlink only when follow is set. A directory met twice
// on the path is a loop, and one reached from a directory that is not its
// recorded parent is refused (see recordsParents).
func (f *FS) lookup(op, name string, follow bool) (*inode, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	fail := func(err error) (*inode, error) {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	stack := []*inode{f.root}
	var todo []string
	if name != "." {
		todo = strings.Split(name, "/")
	}
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		child, err := f.child(stack[len(stack)-1], c)
		if err != nil {
			return fail(err)
		}
		if child.kind() == typeSymlink && (len(todo) > 0 || follow) {
			if hops++; hops > maxSymlinkHops {
				return fail(errors.New("too many levels of symbolic links"))
			}
			t := child.target
			if strings.HasPrefix(t, "/") {
				stack = stack[:1]
			}
			todo = append(strings.Split(t, "/"), todo...)
			if len(todo) > 4*maxDepth {
				return fail(errors.New("symlink expansion too long"))
			}
			continue
		}
		if child.kind() != typeDir {
			if len(todo) > 0 {
				return fail(errors.New("not a directory"))
			}
		} else {
			for _, d := range stack {
				if d.ref == child.ref {
					return fail(errors.New("directory loop"))
				}
			}
			if up := stack[len(stack)-1]; f.parents && child.parent != up.number {
				return fail(fmt.Errorf("directory inode %d is linked from inode %d but names inode %d as its parent", child.number, up.number, child.parent))
			}
		}
		if len(stack) > maxDepth {
			return fail(errors.New("path too deep"))
		}
		stack = append(stack, child)
	}
	return stack[len(stack)-1], nil
}

func baseName(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		return name[i+1:]
	}
	return name
}

func joinPath(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// Stat is the squashfs part of a FileInfo, returned by its Sys method.
type Stat struct {
	Inode uint32 // inode number
	Nlink uint32 // hard link count
	UID   uint32 // owner, from the id table (0 when it is unreadable)
	GID   uint32 // group, from the id table (0 when it is unreadable)
	Rdev  uint32 // device number of a block or character device, as stored

	ref uint64 // where the inode record lies
}

// HardLink returns an identity that two names share only when they are
// one file, and the link count. The identity is where the inode record
// lies, not its number: a crafted image could give two different files
// one number, to hide one behind the other.
func (s *Stat) HardLink() (id, nlink uint64) { return s.ref, uint64(s.Nlink) }

// Major returns the major number of Rdev (Linux encoding, as mksquashfs
// stores it).
func (s *Stat) Major() uint32 { return s.Rdev >> 8 & 0xFFF }

// Minor returns the minor number of Rdev.
func (s *Stat) Minor() uint32 { return s.Rdev&0xFF | s.Rdev>>12&0xFFF00 }

// fileInfo describes one inode under a name.
type fileInfo struct {
	f    *FS
	name string
	ino  *inode
}

func (i *fileInfo) Name() string { return i.name }

func (i *fileInfo) Size() int64 {
	switch i.ino.kind() {
	case typeFile, typeSymlink:
		return int64(min(i.ino.size, math.MaxInt64))
	case typeDir:
		return int64(i.ino.dirSize)
	}
	return 0
}

func (i *fileInfo) Mode() fs.FileMode  { return i.ino.mode() }
func (i *fileInfo) ModTime() time.Time { return i.ino.modTime() }
func (i *fileInfo) IsDir() bool        { return i.ino.kind() == typeDir }

// Sys returns a *Stat.
func (i *fileInfo) Sys() any {
	uid, gid := i.f.ids(i.ino)
	return &Stat{Inode: i.ino.number, Nlink: i.ino.nlink, UID: uid, GID: gid, Rdev: i.ino.rdev, ref: i.ino.ref}
}

func (i *fileInfo) String() string { return fs.FormatFileInfo(i) }

// dirEntry is one entry returned by ReadDir. Its inode was read with the
// listing; err holds the failure when it could not be.
type dirEntry struct {
	info fileInfo
	typ  fs.FileMode
	err  error
}

func (d *dirEntry) Name() string      { return d.info.name }
func (d *dirEntry) IsDir() bool       { return d.typ.IsDir() }
func (d *dirEntry) Type() fs.FileMode { return d.typ }
func (d *dirEntry) String() string    { return fs.FormatDirEntry(d) }

func (d *dirEntry) Info() (fs.FileInfo, error) {
	if d.err != nil {
		return nil, d.err
	}
	return &d.info, nil
}

// dirFile is an opened directory.
type dirFile struct {
	f       *FS
	path    string
	info    *fileInfo
	entries []fs.DirEntry
	read    bool // entries loaded
	off     int
}

func (d *dirFile) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *dirFile) Close() error               { return nil }

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.path, Err: errors.New("is a directory")}
}

// ReadDir returns the next n entries, or all remaining ones when n <= 0.
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	if !d.read {
		list, err := d.f.readDir(d.path, d.info.ino)
		if err != nil {
			return nil, err
		}
		d.entries, d.read = list, true
	}
	rest := d.entries[d.off:]
	if n <= 0 {
		d.off = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(n, len(rest))]
	d.off += len(rest)
	return rest, nil
}

// specialFile is an opened device, fifo or socket: it has a FileInfo and
// reads as empty, since an image holds no content for it.
type specialFile struct {
	info *fileInfo
}

func (s *specialFile) Stat() (fs.FileInfo, error) { return s.info, nil }
func (s *specialFile) Close() error               { return nil }
func (s *specialFile) Read([]byte) (int, error)   { return 0, io.EOF }
