package firmware

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"runtime"
	"sync"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
)

// imageFS is what the filesystem readers (sqfs, extfs, cramfs, jffs2,
// ubifs) offer: a read-only tree, safe for concurrent use, whose regular
// files can be read at any offset.
type imageFS = fstree.FS

// mount presents the filesystem fsys of the container on top of the
// chain: listed with the limits and handed to the visitor to read in
// place, or, without a visitor, written below the destination.
func (u *unpacker) mount(kind string, fsys imageFS) error {
	if u.visit == nil {
		return u.tree(func(w *extract.Writer) error {
			u.walkFS(kind, fsys, w)
			return nil
		})
	}
	lim := fstree.Limits{MaxEntries: u.lim.MaxEntries, MaxFileBytes: u.lim.MaxFileBytes, MaxBytes: u.lim.MaxBytes, MaxDepth: maxSquashfsDepth}
	t, err := protect(func() (*fstree.Tree, error) {
		return fstree.List(u.ctx, fsys, lim, fstree.WithFileWrapper(func(f fstree.File) fstree.File {
			return &kindFile{kind: kind, ctx: u.ctx, f: f}
		}))
	})
	if err != nil {
		return fmt.Errorf("%s: %w", kind, err)
	}
	u.res.Roots = append(u.res.Roots, Root{Tree: t, Chain: u.current()})
	u.visit(u.res.Roots[len(u.res.Roots)-1])
	return nil
}

// kindFile is a file read in place: reads name the filesystem in their
// errors, stop when the context is done, and a reader's panic on a corrupt
// image becomes an error.
type kindFile struct {
	kind string
	ctx  context.Context
	f    fstree.File
}

func (k *kindFile) Read(b []byte) (int, error) {
	return k.wrap(protect(func() (int, error) { return k.f.Read(b) }))
}

func (k *kindFile) ReadAt(b []byte, off int64) (int, error) {
	return k.wrap(protect(func() (int, error) { return k.f.ReadAt(b, off) }))
}

func (k *kindFile) Close() error { return k.f.Close() }

func (k *kindFile) wrap(n int, err error) (int, error) {
	if err == nil {
		if cerr := k.ctx.Err(); cerr != nil {
			return n, cerr
		}
	}
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", k.kind, err)
	}
	return n, err
}

// fileJob is one regular file to copy out of an image.
type fileJob struct {
	path string
	size int64
}

// walkFS writes the tree of fsys through w. The directory walk runs on
// the calling goroutine; file contents are read and written by one worker
// per CPU, so decompressing filesystems use every core.
func (u *unpacker) walkFS(kind string, fsys imageFS, w *extract.Writer) {
	jobs := make(chan fileJob, 256)
	var wg sync.WaitGroup
	for range max(runtime.GOMAXPROCS(0), 2) {
		wg.Go(func() {
			for j := range jobs {
				u.copyFile(kind, fsys, w, j)
			}
		})
	}
	u.walkDir(kind, fsys, w, ".", 0, jobs)
	close(jobs)
	wg.Wait()
}

// walkDir walks the directory p of fsys.
func (u *unpacker) walkDir(kind string, fsys imageFS, w *extract.Writer, p string, depth int, jobs chan<- fileJob) {
	if depth > maxSquashfsDepth {
		w.Gap(p, kind+": directory nesting too deep; not examined")
		return
	}
	entries, err := protect(func() ([]fs.DirEntry, error) { return fsys.ReadDir(p) })
	if err != nil {
		w.Gap(p, fmt.Sprintf("%s: cannot read directory: %v", kind, err))
	}
	for _, e := range entries {
		if w.Stopped() {
			return
		}
		if err := u.ctx.Err(); err != nil {
			w.Gap(p, kind+": "+err.Error())
			return
		}
		name := e.Name()
		child := path.Join(p, name)
		if name == "" || name == "." || name == ".." || !fs.ValidPath(child) {
			w.Gap(child, kind+": invalid entry name not extracted")
			continue
		}
		if !w.Admit(child) {
			continue
		}
		switch t := e.Type(); {
		case t.IsDir():
			w.Dir(child)
			u.walkDir(kind, fsys, w, child, depth+1, jobs)
		case t&fs.ModeSymlink != 0:
			target, err := protect(func() (string, error) { return fsys.ReadLink(child) })
			if err != nil {
				w.Gap(child, fmt.Sprintf("%s: cannot read symlink: %v", kind, err))
				continue
			}
			w.Symlink(child, target)
		case t.IsRegular():
			info, err := e.Info()
			if err != nil {
				w.Gap(child, fmt.Sprintf("%s: cannot read inode: %v", kind, err))
				continue
			}
			jobs <- fileJob{child, info.Size()}
		case noContent(t):
		default:
			w.Gap(child, fmt.Sprintf("%s: special file (%v) not examined", kind, t))
		}
	}
}

// copyFile writes one regular file of fsys through w.
func (u *unpacker) copyFile(kind string, fsys imageFS, w *extract.Writer, j fileJob) {
	if w.Stopped() || u.ctx.Err() != nil {
		return
	}
	f, err := protect(func() (fs.File, error) { return fsys.Open(j.path) })
	if err != nil {
		w.Gap(j.path, fmt.Sprintf("%s: cannot open file: %v", kind, err))
		return
	}
	defer f.Close()
	r := &kindReader{kind: kind, r: ctxReader{u.ctx, f}}
	w.File(j.path, io.LimitReader(r, j.size), j.size)
}

// noContent reports a device node, pipe or socket: an entry that stores
// no content, so skipping it misses nothing.
func noContent(t fs.FileMode) bool {
	return t&(fs.ModeDevice|fs.ModeCharDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0
}

// kindReader names the filesystem in read errors and turns a reader's
// panic into an error.
type kindReader struct {
	kind string
	r    io.Reader
}

func (k *kindReader) Read(b []byte) (int, error) {
	n, err := protect(func() (int, error) { return k.r.Read(b) })
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", k.kind, err)
	}
	return n, err
}
