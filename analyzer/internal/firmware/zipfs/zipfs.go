// Package zipfs reads a zip archive in place, as a read-only file tree that
// fstree lists and the content scan reads, without extracting it.
//
// [Open] reads the central directory once and builds the tree: names are
// cleaned the way an extractor would (backslashes are separators, a
// leading slash is dropped) and missing parent directories are made up.
// What an extractor could not write faithfully is refused, with a reason,
// instead of being listed: a name holding NUL or a ".." element, an
// encrypted entry, a compression method other than store and deflate, an
// entry under a name that is already a file, and an entry shadowed by a
// later one of the same name (an extractor keeps the last). The caller
// reports refused entries as gaps.
//
// A stored entry is read at any offset straight from the archive. A
// deflated one is decompressed as it is read; reading before the current
// position starts the stream again, so random access costs a decode from
// the start (the content scan reads each file once, from the start). A
// file yields exactly its declared size: a stream that ends early or runs
// long is an error.
package zipfs

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"path"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
)

// maxLinkLen bounds a symbolic link target, which is an entry's content.
const maxLinkLen = 4096

// Refused is an entry of the archive that is not in the tree.
type Refused struct {
	Path   string // the entry's name as the archive has it, "/"-rooted
	Reason string
}

// FS is a zip archive as a file tree. It is safe for concurrent use.
type FS struct {
	nodes map[string]*node // by fs.FS path; "." is the root
}

// node is one file, directory or symbolic link of the tree.
type node struct {
	name     string
	mode     fs.FileMode
	mtime    time.Time
	f        *zip.File // nil for a directory
	children []*node   // sorted by name, for a directory
}

// Open reads the central directory of the zip archive of size bytes in r
// and returns its tree and the entries refused. r must be safe for
// concurrent ReadAt calls.
func Open(r io.ReaderAt, size int64) (*FS, []Refused, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, nil, err
	}
	root := &node{name: ".", mode: fs.ModeDir | 0o755}
	fsys := &FS{nodes: map[string]*node{".": root}}
	var refused []Refused
	refuse := func(f *zip.File, reason string) {
		refused = append(refused, Refused{Path: "/" + strings.TrimPrefix(printable(f.Name), "/"), Reason: reason})
	}
	// The last entry of a name is the one an extractor leaves.
	last := make(map[string]int, len(zr.File))
	names := make([]string, len(zr.File))
	for i, f := range zr.File {
		name, ok := clean(f.Name)
		if !ok {
			refuse(f, "unsafe entry name; not examined")
			continue
		}
		names[i] = name
		if name != "." && !f.Mode().IsDir() {
			if j, dup := last[name]; dup {
				refuse(zr.File[j], "shadowed by a later entry of the same name; not examined")
			}
			last[name] = i
		}
	}
	for i, f := range zr.File {
		name := names[i]
		if name == "" || name == "." {
			continue
		}
		mode := f.Mode()
		if !mode.IsDir() && last[name] != i {
			continue
		}
		switch {
		case mode.IsDir():
		case mode&fs.ModeSymlink != 0 || mode.IsRegular():
			if reason := unreadable(f); reason != "" {
				refuse(f, reason)
				continue
			}
		default:
			refuse(f, "special entry not examined")
			continue
		}
		if reason := fsys.add(name, f); reason != "" {
			refuse(f, reason)
		}
	}
	for _, n := range fsys.nodes {
		slices.SortFunc(n.children, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	}
	return fsys, refused, nil
}

// printable is name with NUL, other control bytes and invalid UTF-8 shown
// as "?", for a report.
func printable(name string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return '?'
		}
		return r
	}, strings.ToValidUTF8(name, "?"))
}

// unreadable says why the data of f cannot be read, or "".
func unreadable(f *zip.File) string {
	switch {
	case f.Flags&0x1 != 0:
		return "encrypted zip entry not examined"
	case f.Method != zip.Store && f.Method != zip.Deflate:
		return fmt.Sprintf("zip compression method %d not supported; not examined", f.Method)
	case f.UncompressedSize64 > math.MaxInt64:
		return "entry size out of range; not examined"
	case f.Mode()&fs.ModeSymlink != 0 && f.UncompressedSize64 > maxLinkLen:
		return "symbolic link target too long; not examined"
	}
	return ""
}

// clean turns an entry name into an fs.FS path: "." for the root, false
// for a name no extractor should write.
func clean(name string) (string, bool) {
	if name == "" || strings.ContainsRune(name, 0) {
		return "", false
	}
	n := strings.ReplaceAll(name, "\\", "/")
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", false
		}
	}
	p := strings.TrimPrefix(path.Clean("/"+n), "/")
	if p == "" {
		return ".", true
	}
	if !fs.ValidPath(p) {
		return "", false
	}
	return p, true
}

// add puts the entry f at name, making up its parent directories; it
// returns why it cannot, or "".
func (fsys *FS) add(name string, f *zip.File) string {
	parent, err := fsys.mkdirAll(path.Dir(name))
	if err != "" {
		return err
	}
	mode := f.Mode()
	if n, ok := fsys.nodes[name]; ok {
		if mode.IsDir() && n.mode.IsDir() {
			n.mtime = f.Modified
			return ""
		}
		return "name already used by another entry; not examined"
	}
	n := &node{name: path.Base(name), mtime: f.Modified}
	switch {
	case mode.IsDir():
		n.mode = fs.ModeDir | mode.Perm()
	default:
		n.mode, n.f = mode.Type()|mode.Perm(), f
	}
	fsys.nodes[name] = n
	parent.children = append(parent.children, n)
	return ""
}

// mkdirAll returns the directory at p, making it and its parents up.
func (fsys *FS) mkdirAll(p string) (*node, string) {
	if n, ok := fsys.nodes[p]; ok {
		if !n.mode.IsDir() {
			return nil, "a parent directory is a file in the archive; not examined"
		}
		return n, ""
	}
	parent, err := fsys.mkdirAll(path.Dir(p))
	if err != "" {
		return nil, err
	}
	n := &node{name: path.Base(p), mode: fs.ModeDir | 0o755}
	fsys.nodes[p] = n
	parent.children = append(parent.children, n)
	return n, ""
}

// lookup finds name, following symbolic links in its directories, and in
// its last element too when follow is set (see imgfile.Lookup). Nodes are
// known by path: an archive's names make a tree without loops.
func (fsys *FS) lookup(op, name string, follow bool) (*node, error) {
	p, err := imgfile.Lookup(imgfile.Tree[string]{
		Root:  ".",
		IsDir: func(p string) bool { return fsys.nodes[p].mode.IsDir() },
		Child: func(dir, name string) (string, error) {
			child := path.Join(dir, name)
			if _, ok := fsys.nodes[child]; !ok {
				return "", fs.ErrNotExist
			}
			return child, nil
		},
		IsLink:   func(p string) bool { return fsys.nodes[p].mode&fs.ModeSymlink != 0 },
		ReadLink: func(p string) (string, error) { return fsys.nodes[p].readLink() },
	}, op, name, follow)
	if err != nil {
		return nil, err
	}
	return fsys.nodes[p], nil
}

// readLink reads the target of a symbolic link: its content.
func (n *node) readLink() (string, error) {
	rc, err := n.f.Open()
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, maxLinkLen+1))
	if err != nil {
		return "", err
	}
	if len(b) > maxLinkLen {
		return "", errors.New("symbolic link target too long")
	}
	return string(b), nil
}

// Open opens the named file or directory, following a final symbolic
// link. A regular file implements io.ReaderAt and io.Seeker.
func (fsys *FS) Open(name string) (fs.File, error) {
	n, err := fsys.lookup("open", name, true)
	if err != nil {
		return nil, err
	}
	info := n.info()
	if n.mode.IsDir() {
		return imgfile.NewDir(name, info, n.entries()), nil
	}
	return imgfile.New(name, info, info.Size(), newContent(n.f)), nil
}

// entries lists a directory in name order.
func (n *node) entries() []fs.DirEntry {
	out := make([]fs.DirEntry, len(n.children))
	for i, c := range n.children {
		out[i] = fs.FileInfoToDirEntry(c.info())
	}
	return out
}

// ReadDir lists the named directory in name order.
func (fsys *FS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := fsys.lookup("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	return n.entries(), nil
}

// Stat describes the named file, following a final symbolic link.
func (fsys *FS) Stat(name string) (fs.FileInfo, error) {
	n, err := fsys.lookup("stat", name, true)
	if err != nil {
		return nil, err
	}
	return n.info(), nil
}

// Lstat describes the named file without following a final symbolic link.
func (fsys *FS) Lstat(name string) (fs.FileInfo, error) {
	n, err := fsys.lookup("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return n.info(), nil
}

// ReadLink returns the target of the named symbolic link.
func (fsys *FS) ReadLink(name string) (string, error) {
	n, err := fsys.lookup("readlink", name, false)
	if err != nil {
		return "", err
	}
	if n.mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.New("not a symbolic link")}
	}
	target, err := n.readLink()
	if err != nil {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: err}
	}
	return target, nil
}

// info describes the node.
func (n *node) info() fileInfo {
	fi := fileInfo{name: n.name, mode: n.mode, mtime: n.mtime}
	if n.f != nil {
		fi.size = int64(n.f.UncompressedSize64)
	}
	return fi
}

// fileInfo describes a node.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) Mode() fs.FileMode  { return i.mode }
func (i fileInfo) ModTime() time.Time { return i.mtime }
func (i fileInfo) IsDir() bool        { return i.mode.IsDir() }
func (i fileInfo) Sys() any           { return nil }
