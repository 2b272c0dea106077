// Package fstree lists a read-only file tree (a directory on disk or a
// filesystem inside a firmware image) as sorted entries whose files can be
// opened for random access where they lie. The content scanner and the
// package cataloger both read a Tree, so a filesystem image is examined
// without extracting it.
//
// Listing never follows a symbolic link. Limits bound the entry count, the
// size of one file and the total of all file sizes; what a limit or a read
// error leaves out is a Gap, and listing goes on where it safely can.
package fstree

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// Gap is a part of the tree that cannot be examined: its "/"-rooted path
// and the reason. It is the extractor's gap type, so callers record both
// the same way.
type Gap = extract.Gap

// Entry is one entry of a tree.
type Entry struct {
	// Path is the entry's "/"-rooted, clean path.
	Path string
	// Mode holds the type and permission bits.
	Mode fs.FileMode
	// Size is a regular file's size in bytes.
	Size int64
	// Link is a symbolic link's target, as stored.
	Link string
	// Same is set on a regular file that is a hard link of an entry
	// listed before it (by path): that entry's path. Their content is
	// one and the same.
	Same string
}

// File is an opened regular file: read in sequence or at any offset.
type File interface {
	io.Reader
	io.ReaderAt
	io.Closer
}

// FS is what a tree is listed from: a read-only tree whose symbolic links
// can be read without being followed, like os.DirFS and the firmware
// filesystem readers. Regular files it opens must implement io.ReaderAt.
type FS interface {
	fs.ReadDirFS
	fs.ReadLinkFS
}

// Tree is a listed file tree.
type Tree struct {
	// Entries holds every directory, regular file, symbolic link and
	// special file, sorted by path; the root itself is not listed.
	Entries []Entry
	// Gaps holds what listing left out, sorted by path.
	Gaps []Gap

	fsys      fs.FS
	wrap      func(File) File
	indexOnce sync.Once
	index     map[string]int
}

// Limits bound a listing; a zero field means no bound.
type Limits struct {
	MaxEntries   int
	MaxFileBytes int64
	MaxBytes     int64
	// MaxDepth bounds directory nesting (default 4096), so a crafted
	// image cannot recurse without end.
	MaxDepth int
}

// defaultMaxDepth bounds directory nesting when Limits.MaxDepth is 0.
const defaultMaxDepth = 4096

// Option tunes List.
type Option func(*Tree)

// WithFileWrapper makes Open pass every file through wrap, e.g. to name
// the filesystem in read errors or to turn a reader's panic into an error.
func WithFileWrapper(wrap func(File) File) Option {
	return func(t *Tree) { t.wrap = wrap }
}

// ErrLimit is wrapped in the reason of gaps that a limit caused.
var ErrLimit = extract.ErrLimit

// List walks fsys from its root in lexical order. err is returned only
// when the root directory itself cannot be read, or ctx is done.
func List(ctx context.Context, fsys FS, lim Limits, opts ...Option) (*Tree, error) {
	t := &Tree{fsys: fsys}
	for _, o := range opts {
		o(t)
	}
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = defaultMaxDepth
	}
	l := &lister{ctx: ctx, fsys: fsys, lim: lim, t: t}
	if _, err := fsys.ReadDir("."); err != nil {
		return nil, fmt.Errorf("listing the tree: %w", err)
	}
	l.dir(".", 0)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.Slice(t.Entries, func(i, j int) bool { return t.Entries[i].Path < t.Entries[j].Path })
	l.markHardLinks()
	sort.SliceStable(t.Gaps, func(i, j int) bool { return t.Gaps[i].Path < t.Gaps[j].Path })
	return t, nil
}

// Dir lists the directory at root on disk, without limits.
func Dir(ctx context.Context, root string) (*Tree, error) {
	fsys, ok := os.DirFS(root).(FS)
	if !ok {
		return nil, fmt.Errorf("listing %s: the platform's directory view cannot read links", root)
	}
	t, err := List(ctx, fsys, Limits{})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", root, err)
	}
	return t, nil
}

// Single presents the one file at disk as a tree holding it at "/"+name.
func Single(disk, name string) (*Tree, error) {
	fi, err := os.Stat(disk)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, &fs.PathError{Op: "open", Path: disk, Err: errors.New("not a regular file")}
	}
	return &Tree{
		Entries: []Entry{{Path: rooted(name), Mode: fi.Mode(), Size: fi.Size()}},
		fsys:    oneFile(disk),
	}, nil
}

// Memory presents data as a tree holding one file at the "/"-rooted path
// p: a file's content decompressed in memory, say.
func Memory(p string, data []byte) *Tree {
	return &Tree{
		Entries: []Entry{{Path: p, Mode: 0o444, Size: int64(len(data))}},
		fsys:    memFile(data),
	}
}

// memFile is a filesystem whose every name opens the same bytes.
type memFile []byte

func (m memFile) Open(string) (fs.File, error) { return memReader{bytes.NewReader(m)}, nil }

// memReader is an open memFile.
type memReader struct{ *bytes.Reader }

func (memReader) Close() error { return nil }

func (m memReader) Stat() (fs.FileInfo, error) {
	return nil, &fs.PathError{Op: "stat", Path: "memory", Err: errors.ErrUnsupported}
}

// oneFile is a filesystem whose every name opens the same file on disk.
type oneFile string

func (o oneFile) Open(string) (fs.File, error) { return os.Open(string(o)) }

// lister holds the state of one List call.
type lister struct {
	ctx     context.Context
	fsys    FS
	lim     Limits
	t       *Tree
	count   int
	total   int64
	stopped bool
	inodes  map[string]fileID // regular files with more than one link, by path
}

// fileID identifies a file's content within one tree: its inode.
type fileID struct{ dev, ino uint64 }

// hardLinker is a FileInfo.Sys value that knows the file's inode (the
// firmware filesystem readers' inode types).
type hardLinker interface {
	HardLink() (ino, nlink uint64)
}

// idOf returns the identity of a regular file with more than one link.
func idOf(info fs.FileInfo) (fileID, bool) {
	switch s := info.Sys().(type) {
	case hardLinker:
		ino, n := s.HardLink()
		return fileID{ino: ino}, n > 1
	default:
		return statID(s)
	}
}

// markHardLinks sets Same on every regular file whose inode an entry
// before it (in path order) has.
func (l *lister) markHardLinks() {
	if len(l.inodes) == 0 {
		return
	}
	first := map[fileID]string{}
	for i := range l.t.Entries {
		e := &l.t.Entries[i]
		id, ok := l.inodes[e.Path]
		if !ok {
			continue
		}
		if p, seen := first[id]; seen {
			e.Same = p
		} else {
			first[id] = e.Path
		}
	}
	l.inodes = nil
}

func (l *lister) gap(p, reason string) {
	l.t.Gaps = append(l.t.Gaps, Gap{Path: rooted(p), Reason: reason})
}

// dir lists the directory p (an fs.FS path).
func (l *lister) dir(p string, depth int) {
	if depth > l.lim.MaxDepth {
		l.gap(p, fmt.Sprintf("directory nesting deeper than %d levels; not examined", l.lim.MaxDepth))
		return
	}
	entries, err := l.fsys.ReadDir(p)
	if err != nil {
		l.gap(p, "cannot read directory: "+describe(err))
		// A reader may return the entries it could read with the error.
	}
	for _, e := range entries {
		if l.stopped || l.ctx.Err() != nil {
			return
		}
		name := e.Name()
		child := path.Join(p, name)
		if name == "" || name == "." || name == ".." || strings.ContainsRune(name, '/') || !fs.ValidPath(child) {
			l.gap(path.Join(p, strings.ToValidUTF8(name, "?")), "invalid entry name; not examined")
			continue
		}
		if !l.admit(child) {
			return
		}
		l.entry(child, e, depth)
	}
}

// admit counts an entry against the entry limit.
func (l *lister) admit(p string) bool {
	l.count++
	if l.lim.MaxEntries > 0 && l.count > l.lim.MaxEntries {
		l.gap(p, fmt.Sprintf("%v: entry limit of %d reached; the rest of the tree is not examined", ErrLimit, l.lim.MaxEntries))
		l.stopped = true
		return false
	}
	return true
}

// entry records one directory entry and descends into directories.
func (l *lister) entry(p string, e fs.DirEntry, depth int) {
	info, err := e.Info()
	if err != nil {
		l.gap(p, "cannot read entry: "+describe(err))
		return
	}
	ent := Entry{Path: rooted(p), Mode: info.Mode()}
	switch t := info.Mode().Type(); {
	case t.IsDir():
		l.t.Entries = append(l.t.Entries, ent)
		l.dir(p, depth+1)
		return
	case t&fs.ModeSymlink != 0:
		target, err := l.fsys.ReadLink(p)
		if err != nil {
			l.gap(p, "cannot read symbolic link: "+describe(err))
			return
		}
		ent.Link = target
	case t.IsRegular():
		ent.Size = info.Size()
		if reason := l.budget(ent.Size); reason != "" {
			l.gap(p, reason)
			return
		}
		if id, ok := idOf(info); ok {
			if l.inodes == nil {
				l.inodes = map[string]fileID{}
			}
			l.inodes[ent.Path] = id
		}
	}
	l.t.Entries = append(l.t.Entries, ent)
}

// budget checks a regular file of size bytes against the size limits and
// returns the gap reason when one refuses it.
func (l *lister) budget(size int64) string {
	if size < 0 {
		return "negative file size; not examined"
	}
	if l.lim.MaxFileBytes > 0 && size > l.lim.MaxFileBytes {
		return fmt.Sprintf("file of %d bytes is over the per-file limit of %d; not examined", size, l.lim.MaxFileBytes)
	}
	if l.lim.MaxBytes > 0 && size > l.lim.MaxBytes-l.total {
		l.stopped = true
		return fmt.Sprintf("%v: total of %d bytes of files reached; this file and the rest are not examined", ErrLimit, l.lim.MaxBytes)
	}
	l.total += size
	return ""
}

// Open opens the regular file at the "/"-rooted path p for reading.
func (t *Tree) Open(p string) (File, error) {
	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	if name == "" {
		name = "."
	}
	f, err := t.fsys.Open(name)
	if err != nil {
		return nil, err
	}
	ra, ok := f.(File)
	if !ok {
		f.Close()
		return nil, &fs.PathError{Op: "open", Path: p, Err: errors.New("the filesystem reader offers no random access")}
	}
	if t.wrap != nil {
		ra = t.wrap(ra)
	}
	return ra, nil
}

// Lookup returns the entry at the "/"-rooted path p. It is safe for
// concurrent use once the tree is listed.
func (t *Tree) Lookup(p string) (Entry, bool) {
	t.indexOnce.Do(func() {
		t.index = make(map[string]int, len(t.Entries))
		for i, e := range t.Entries {
			t.index[e.Path] = i
		}
	})
	i, ok := t.index[p]
	if !ok {
		return Entry{}, false
	}
	return t.Entries[i], true
}

// maxLinkHops bounds symlink resolution; a longer chain is a loop.
const maxLinkHops = 40

// LinkGap resolves the symbolic link at p inside the tree the way the
// appliance's kernel would, with the tree as its root: absolute targets
// start at the tree's root and ".." at the root stays there. It returns a
// gap reason for a loop, else "": a link whose target is missing hides
// nothing, and any target it reaches is in the tree and scanned at its own
// path. Nothing outside the tree is touched.
func (t *Tree) LinkGap(p string) string {
	cur := p
	for range maxLinkHops {
		e, ok := t.Lookup(cur)
		if !ok || e.Mode.Type()&fs.ModeSymlink == 0 {
			return ""
		}
		target := e.Link
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir(cur), target)
		}
		// Cleaning a rooted path drops the ".." that climb above "/".
		cur = path.Clean("/" + target)
	}
	return fmt.Sprintf("symlink loop (more than %d links); not followed", maxLinkHops)
}

// rooted turns an fs.FS path into a "/"-rooted one.
func rooted(p string) string {
	if p == "." {
		return "/"
	}
	return "/" + p
}

// describe drops the path an fs.PathError repeats.
func describe(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
