// Package extract unpacks tar archives (plain or gzip-compressed) and
// container images into a private directory so that they can be catalogued
// and scanned like a root filesystem. (Zip archives are read in place; see
// firmware/zipfs.)
//
// Nothing is ever written outside the target directory: entry names are
// cleaned and rooted, names with NUL bytes or escaping ".." are refused, and
// symlinks are created only after every regular file is written, so no file
// can be written through a link. Links are created as links, never
// followed. Limits bound the total bytes, the entry count and the size of
// one entry; what is refused or cut off becomes a Gap and extraction goes on
// where it safely can.
package extract

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Limits bound an extraction.
type Limits struct {
	// MaxBytes is the total of all entries' contents.
	MaxBytes int64
	// MaxEntries is the number of entries.
	MaxEntries int
	// MaxFileBytes is the size of one entry.
	MaxFileBytes int64
	// MaxDepth is how many nested layers a recursive unpacker opens
	// (0 means DefaultMaxDepth).
	MaxDepth int
	// MaxRatio bounds decompressed bytes per compressed byte for
	// compression layers (0 means DefaultMaxRatio).
	MaxRatio int64
}

// Defaults for the recursive limits.
const (
	DefaultMaxDepth = 8
	DefaultMaxRatio = 1000
)

// Depth is MaxDepth or its default.
func (l Limits) Depth() int {
	if l.MaxDepth > 0 {
		return l.MaxDepth
	}
	return DefaultMaxDepth
}

// Ratio is MaxRatio or its default.
func (l Limits) Ratio() int64 {
	if l.MaxRatio > 0 {
		return l.MaxRatio
	}
	return DefaultMaxRatio
}

// DefaultLimits are generous for appliance images and still bounded.
func DefaultLimits() Limits {
	return Limits{MaxBytes: 16 << 30, MaxEntries: 2_000_000, MaxFileBytes: 4 << 30}
}

// Gap is an entry that was not extracted, or was extracted only in part.
type Gap struct {
	Path   string
	Reason string
}

// ErrLimit is wrapped by gaps' causes when a limit stopped extraction.
var ErrLimit = errors.New("limit reached")

type extractor struct {
	// mu guards total, count, gaps, links, hard and stopped: Writer.File
	// may be called from several goroutines at once.
	mu      sync.Mutex
	dir     string
	lim     Limits
	total   int64
	count   int
	gaps    []Gap
	links   [][2]string // symlinks to create last: rel path, target
	hard    [][2]string // hard links: rel path, rel target
	stopped bool
	layer   bool // apply OCI whiteouts; refuse writes below existing links
}

// TarFile extracts the tar (or tar.gz) file at path into dir.
func TarFile(path, dir string, lim Limits) ([]Gap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Tar(f, dir, lim)
}

// Tar extracts a tar stream, gzip-compressed or not, into dir.
func Tar(r io.Reader, dir string, lim Limits) ([]Gap, error) {
	return extractTar(r, dir, lim, false)
}

func extractTar(r io.Reader, dir string, lim Limits, layer bool) ([]Gap, error) {
	br := newPeekReader(r)
	head, _ := br.peek(2)
	var src io.Reader = br
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	x := &extractor{dir: dir, lim: lim, layer: layer}
	tr := tar.NewReader(src)
	for !x.isStopped() {
		h, err := tr.Next()
		if err == io.EOF {
			if trailing(src) {
				// More data after the archive's end: another archive
				// appended (an Alpine package's segments), or a hidden one.
				x.gap("", "data after the end of the tar archive not examined")
			}
			break
		}
		if err != nil {
			if x.count == 0 {
				return nil, fmt.Errorf("reading tar: %w", err)
			}
			x.gap("", "archive is truncated or corrupt after this point: "+err.Error())
			break
		}
		if !x.admit(h.Name) {
			continue
		}
		if x.layer && x.whiteout(h.Name) {
			continue
		}
		switch h.Typeflag {
		case tar.TypeDir:
			x.mkdir(h.Name)
		case tar.TypeReg:
			x.file(h.Name, tr, h.Size)
		case tar.TypeSymlink:
			x.symlink(h.Name, h.Linkname)
		case tar.TypeLink:
			x.hardlink(h.Name, h.Linkname)
		case tar.TypeXGlobalHeader, tar.TypeXHeader, tar.TypeGNULongName, tar.TypeGNULongLink:
		case tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
			// Device nodes and pipes store no content.
		default:
			x.gap(h.Name, fmt.Sprintf("special entry (tar type %q) not examined", h.Typeflag))
		}
	}
	x.finish()
	return x.gaps, nil
}

// maxTrailing bounds how far past a tar archive's end trailing looks.
const maxTrailing = 1 << 20

// trailing reports whether r holds any byte other than zero (the end
// blocks and record padding of a tar) within maxTrailing bytes, or fails.
func trailing(r io.Reader) bool {
	buf := make([]byte, 32<<10)
	for n := 0; n < maxTrailing; {
		m, err := r.Read(buf)
		for _, c := range buf[:m] {
			if c != 0 {
				return true
			}
		}
		n += m
		if err == io.EOF {
			return false
		}
		if err != nil {
			return true
		}
	}
	return false
}

func (x *extractor) gap(name, reason string) {
	x.mu.Lock()
	x.gaps = append(x.gaps, Gap{Path: "/" + strings.TrimPrefix(name, "/"), Reason: reason})
	x.mu.Unlock()
}

// stop marks extraction as stopped by a limit.
func (x *extractor) stop() {
	x.mu.Lock()
	x.stopped = true
	x.mu.Unlock()
}

func (x *extractor) isStopped() bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.stopped
}

// admit counts an entry and checks its name.
func (x *extractor) admit(name string) bool {
	x.mu.Lock()
	x.count++
	over := x.count > x.lim.MaxEntries
	x.mu.Unlock()
	if over {
		x.gap(name, fmt.Sprintf("entry limit of %d reached; the rest of the archive is not examined", x.lim.MaxEntries))
		x.stop()
		return false
	}
	if _, ok := clean(name); !ok {
		x.gap(name, "unsafe entry name (absolute, '..', or NUL) not extracted")
		return false
	}
	return true
}

// clean turns an entry name into a safe relative path.
func clean(name string) (string, bool) {
	if strings.ContainsRune(name, 0) || name == "" {
		return "", false
	}
	n := strings.ReplaceAll(name, "\\", "/")
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", false
		}
	}
	rel := strings.TrimPrefix(path.Clean("/"+n), "/")
	return rel, true
}

func (x *extractor) target(name string) (string, bool) {
	rel, ok := clean(name)
	if !ok || rel == "" {
		return "", false
	}
	return filepath.Join(x.dir, filepath.FromSlash(rel)), true
}

func (x *extractor) mkdir(name string) {
	if p, ok := x.target(name); ok {
		if err := os.MkdirAll(p, 0o755); err != nil {
			x.gap(name, "cannot create directory: "+err.Error())
		}
	}
}

func (x *extractor) file(name string, r io.Reader, size int64) {
	p, ok := x.target(name)
	if !ok {
		return
	}
	if size > x.lim.MaxFileBytes {
		x.gap(name, fmt.Sprintf("entry of %d bytes is over the per-file limit of %d; not examined", size, x.lim.MaxFileBytes))
		return
	}
	if !x.safeParents(name) {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		x.gap(name, "cannot create directory: "+err.Error())
		return
	}
	// A later entry may replace an earlier one; never write through a link.
	if fi, err := os.Lstat(p); err == nil && !fi.Mode().IsRegular() {
		os.RemoveAll(p)
	}
	f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		x.gap(name, "cannot write: "+err.Error())
		return
	}
	// Files written in parallel each see the budget left when they
	// start, so the total may pass the limit by what they write at once.
	x.mu.Lock()
	budget := min(x.lim.MaxBytes-x.total, x.lim.MaxFileBytes)
	x.mu.Unlock()
	n, err := io.Copy(f, io.LimitReader(r, budget+1))
	f.Close()
	x.mu.Lock()
	x.total += n
	x.mu.Unlock()
	switch {
	case n > budget:
		x.gap(name, fmt.Sprintf("%v: total of %d bytes extracted; this entry and the rest are not examined", ErrLimit, x.lim.MaxBytes))
		os.Remove(p)
		x.stop()
	case err != nil:
		x.gap(name, "entry is truncated or corrupt: "+err.Error())
	}
}

// safeParents refuses an entry whose parent directories include a symlink
// (left by an earlier image layer): writing through it could leave the
// target directory.
func (x *extractor) safeParents(name string) bool {
	rel, _ := clean(name)
	parts := strings.Split(rel, "/")
	cur := x.dir
	for _, part := range parts[:len(parts)-1] {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return true // the rest does not exist yet; MkdirAll creates real directories
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			x.gap(name, "entry below a symlink of an earlier layer not extracted")
			return false
		}
	}
	return true
}

// whiteout applies an OCI/Docker whiteout entry and reports whether name
// was one: ".wh.NAME" deletes NAME, ".wh..wh..opq" empties its directory.
func (x *extractor) whiteout(name string) bool {
	rel, _ := clean(name)
	dir, base := path.Split(rel)
	if !strings.HasPrefix(base, ".wh.") {
		return false
	}
	if !x.safeParents(name) {
		return true
	}
	target := filepath.Join(x.dir, filepath.FromSlash(dir))
	if base == ".wh..wh..opq" {
		entries, _ := os.ReadDir(target)
		for _, e := range entries {
			os.RemoveAll(filepath.Join(target, e.Name()))
		}
		return true
	}
	os.RemoveAll(filepath.Join(target, strings.TrimPrefix(base, ".wh.")))
	return true
}

func (x *extractor) symlink(name, target string) {
	if strings.ContainsRune(target, 0) {
		x.gap(name, "symlink target with NUL byte not extracted")
		return
	}
	x.mu.Lock()
	x.links = append(x.links, [2]string{name, target})
	x.mu.Unlock()
}

func (x *extractor) hardlink(name, target string) {
	x.mu.Lock()
	x.hard = append(x.hard, [2]string{name, target})
	x.mu.Unlock()
}

// finish creates hard links as copies and symlinks as links, after every
// regular file exists.
func (x *extractor) finish() {
	for _, l := range x.hard {
		src, ok1 := x.target(l[1])
		_, ok2 := x.target(l[0])
		if !ok1 || !ok2 {
			x.gap(l[0], "unsafe hard link not extracted")
			continue
		}
		in, err := os.Open(src)
		if err != nil {
			x.gap(l[0], "hard link to a missing entry: "+l[1])
			continue
		}
		fi, err := in.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			in.Close()
			x.gap(l[0], "hard link to a non-regular entry: "+l[1])
			continue
		}
		x.file(l[0], in, fi.Size())
		in.Close()
	}
	for _, l := range x.links {
		p, ok := x.target(l[0])
		if !ok {
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			x.gap(l[0], "cannot create directory: "+err.Error())
			continue
		}
		os.RemoveAll(p)
		if err := os.Symlink(l[1], p); err != nil {
			x.gap(l[0], "cannot create symlink: "+err.Error())
		}
	}
}

// peekReader lets Tar look at the first bytes without losing them.
type peekReader struct {
	r   io.Reader
	buf []byte
}

func newPeekReader(r io.Reader) *peekReader { return &peekReader{r: r} }

func (p *peekReader) peek(n int) ([]byte, error) {
	for len(p.buf) < n {
		b := make([]byte, n-len(p.buf))
		m, err := p.r.Read(b)
		p.buf = append(p.buf, b[:m]...)
		if err != nil {
			return p.buf, err
		}
	}
	return p.buf[:n], nil
}

func (p *peekReader) Read(b []byte) (int, error) {
	if len(p.buf) > 0 {
		n := copy(b, p.buf)
		p.buf = p.buf[n:]
		return n, nil
	}
	return p.r.Read(b)
}

// Writer writes entries of any archive or filesystem format into a
// directory with the same guarantees as Tar: cleaned, rooted names; no
// write outside the directory or through a link; links created last by
// Finish; limits enforced. Call Finish once all entries are written.
type Writer struct{ x *extractor }

// NewWriter starts writing entries into dir.
func NewWriter(dir string, lim Limits) *Writer {
	return &Writer{x: &extractor{dir: dir, lim: lim}}
}

// Admit counts an entry and checks its name; false means skip the entry
// (a gap was recorded) or stop (Stopped reports true).
func (w *Writer) Admit(name string) bool { return w.x.admit(name) }

// Stopped reports whether a limit stopped extraction.
func (w *Writer) Stopped() bool { return w.x.isStopped() }

// Dir creates a directory entry.
func (w *Writer) Dir(name string) { w.x.mkdir(name) }

// File writes a regular file entry of the given size from r. Unlike the
// other methods, File may be called from several goroutines at once
// (for different names), once the entry was admitted and its directory
// created.
func (w *Writer) File(name string, r io.Reader, size int64) { w.x.file(name, r, size) }

// Symlink records a symbolic link, created by Finish.
func (w *Writer) Symlink(name, target string) { w.x.symlink(name, target) }

// Hardlink records a hard link to an earlier entry, copied by Finish.
func (w *Writer) Hardlink(name, target string) { w.x.hardlink(name, target) }

// Gap records an entry that could not be extracted.
func (w *Writer) Gap(name, reason string) { w.x.gap(name, reason) }

// Finish creates the recorded links and returns every gap.
func (w *Writer) Finish() []Gap {
	w.x.finish()
	return w.x.gaps
}
