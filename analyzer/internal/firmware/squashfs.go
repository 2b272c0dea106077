package firmware

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sync"

	diskfile "github.com/diskfs/go-diskfs/backend/file"
	diskfssq "github.com/diskfs/go-diskfs/filesystem/squashfs"
	sylabs "github.com/sylabs/squashfs"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

const (
	squashfsSuperblockSize = 96
	maxSquashfsDepth       = 256 // directory nesting; also stops directory loops
)

// squashfsCompressor names a compression id of a squashfs superblock.
func squashfsCompressor(id uint16) string {
	switch id {
	case 1:
		return "gzip"
	case 2:
		return "lzma"
	case 3:
		return "lzo"
	case 4:
		return "xz"
	case 5:
		return "lz4"
	case 6:
		return "zstd"
	}
	return ""
}

// superblock holds the superblock fields Unpack checks.
type superblock struct {
	compression string
	blockSize   uint32
	bytesUsed   uint64
	bcj         bool // xz with compressor options (possibly BCJ filters)
}

// parseSuperblock checks a version 4 squashfs superblock.
func parseSuperblock(h []byte) (*superblock, error) {
	if len(h) < squashfsSuperblockSize {
		return nil, errors.New("superblock truncated")
	}
	if string(h[:4]) == "sqsh" {
		return nil, errBigEndian{}
	}
	le := binary.LittleEndian
	if string(h[:4]) != "hsqs" || le.Uint16(h[28:]) != 4 {
		return nil, errors.New("not a version 4 superblock")
	}
	s := &superblock{blockSize: le.Uint32(h[12:]), bytesUsed: le.Uint64(h[40:])}
	comp := le.Uint16(h[20:])
	if s.compression = squashfsCompressor(comp); s.compression == "" {
		return nil, fmt.Errorf("unknown compression id %d", comp)
	}
	blockLog := le.Uint16(h[22:])
	if s.blockSize < 4096 || s.blockSize > 1<<20 || blockLog > 20 || s.blockSize != 1<<blockLog {
		return nil, fmt.Errorf("block size %d (log %d) out of range", s.blockSize, blockLog)
	}
	const compressorOptions = 0x0400
	s.bcj = s.compression == "xz" && le.Uint16(h[24:])&compressorOptions != 0
	return s, nil
}

// errBigEndian reports a big-endian (vendor) squashfs, which no Go
// library reads.
type errBigEndian struct{}

func (errBigEndian) Error() string { return "big-endian squashfs not supported" }

// sqfsLib is one squashfs library opened on an image.
type sqfsLib struct {
	name     string
	readDir  func(p string) ([]fs.DirEntry, error)
	open     func(p string) (io.ReadCloser, error)
	readlink func(p string, e fs.DirEntry) (string, error)
	// dirID, when set, names where a directory's listing lies in the
	// image, so that a directory reached twice is listed once.
	dirID func(e fs.DirEntry) (uint64, bool)
}

// openDiskfs opens the image with go-diskfs.
func openDiskfs(f *os.File, off, size int64) (*sqfsLib, error) {
	sq, err := diskfssq.Read(diskfile.New(f, true), size, off, 0)
	if err != nil {
		return nil, err
	}
	return &sqfsLib{
		name:    "go-diskfs",
		readDir: sq.ReadDir,
		open: func(p string) (io.ReadCloser, error) {
			return sq.OpenFile(p, os.O_RDONLY)
		},
		readlink: func(_ string, e fs.DirEntry) (string, error) {
			if l, ok := e.(interface{ Readlink() (string, error) }); ok {
				return l.Readlink()
			}
			return "", errors.New("go-diskfs entry has no link target")
		},
	}, nil
}

// openSylabs opens the image with sylabs/squashfs.
func openSylabs(f *os.File, off, size int64) (*sqfsLib, error) {
	sq, err := sylabs.NewReader(io.NewSectionReader(f, off, size))
	if err != nil {
		return nil, err
	}
	open := func(p string) (*sylabs.File, error) {
		fl, err := sq.Open(p)
		if err != nil {
			return nil, err
		}
		sf, ok := fl.(*sylabs.File)
		if !ok {
			fl.Close()
			return nil, fmt.Errorf("unexpected file type %T", fl)
		}
		return sf, nil
	}
	return &sqfsLib{
		name:    "sylabs",
		readDir: sq.ReadDir,
		open: func(p string) (io.ReadCloser, error) {
			sf, err := open(p)
			if err != nil {
				return nil, err
			}
			// Hide File.WriteTo: read through Read only.
			return struct {
				io.Reader
				io.Closer
			}{sf, sf}, nil
		},
		readlink: func(p string, _ fs.DirEntry) (string, error) {
			sf, err := open(p)
			if err != nil {
				return "", err
			}
			defer sf.Close()
			return sf.SymlinkPath(), nil
		},
	}, nil
}

// extractSquashfs writes the squashfs image at [off, off+size) of f
// through w. It returns an error when the image cannot be opened at all.
func (u *unpacker) extractSquashfs(f *os.File, off, size int64, head []byte, w *extract.Writer) (err error) {
	sb, err := parseSuperblock(head)
	if errors.As(err, new(errBigEndian)) {
		w.Gap("/", "squashfs: "+err.Error())
		return nil
	}
	if err != nil {
		return fmt.Errorf("squashfs at 0x%x: bad superblock: %w", off, err)
	}
	if sb.compression == "lz4" {
		w.Gap("/", "squashfs compression lz4 not supported")
		return nil
	}
	if sb.bytesUsed > uint64(size) {
		w.Gap("/", fmt.Sprintf("squashfs image truncated: %d of %d bytes present", size, sb.bytesUsed))
	} else if sb.bytesUsed >= squashfsSuperblockSize {
		size = int64(sb.bytesUsed)
	}
	// go-diskfs is faster; sylabs reads xz with BCJ filters. Each is the
	// other's fallback, opened only when needed.
	first, second := openDiskfs, openSylabs
	if sb.bcj {
		first, second = openSylabs, openDiskfs
	}
	if sb.compression == "lzo" {
		second = nil // sylabs has no lzo
	}
	var once sync.Once
	var alt *sqfsLib
	fallback := func() *sqfsLib {
		once.Do(func() {
			if second != nil {
				alt, _ = safeOpen(second, f, off, size)
			}
		})
		return alt
	}
	lib, err := safeOpen(first, f, off, size)
	if err != nil {
		if lib = fallback(); lib == nil {
			return fmt.Errorf("squashfs at 0x%x: cannot open (compression %s): %w", off, sb.compression, err)
		}
		fallback = func() *sqfsLib { return nil }
	}
	s := &sqfsWalk{u: u, w: w, lib: lib, fallback: fallback, comp: sb.compression}
	s.dir(".", 0)
	return nil
}

// safeOpen opens an image with a library, turning a panic into an error.
func safeOpen(open func(*os.File, int64, int64) (*sqfsLib, error), f *os.File, off, size int64) (lib *sqfsLib, err error) {
	defer func() {
		if r := recover(); r != nil {
			lib, err = nil, fmt.Errorf("library panic: %v", r)
		}
	}()
	return open(f, off, size)
}

// sqfsWalk walks a squashfs tree and writes it through w.
type sqfsWalk struct {
	u        *unpacker
	w        *extract.Writer
	lib      *sqfsLib
	fallback func() *sqfsLib
	comp     string
	kind     string // format named in gaps; "squashfs" when empty
	// maxEntries, when set, is the most entries the image can hold (its
	// size over the least room one takes); listing more means that a
	// directory is reached more than once, and the walk stops there.
	maxEntries, entries int
	stopped             bool
	dirs                map[uint64]string // by lib.dirID: where each was listed
}

func (s *sqfsWalk) gap(p, reason string) {
	kind := s.kind
	if kind == "" {
		kind = "squashfs"
	}
	s.w.Gap(p, kind+": "+reason)
}

// repeated reports a directory whose listing was reached before, at
// another path (a loop, or a DAG that would multiply at every level), as
// a gap.
func (s *sqfsWalk) repeated(p string, e fs.DirEntry) bool {
	if s.lib.dirID == nil {
		return false
	}
	id, ok := s.lib.dirID(e)
	if !ok {
		return false
	}
	if first, seen := s.dirs[id]; seen {
		s.gap(p, "directory already listed at /"+first+"; not listed twice")
		return true
	}
	if s.dirs == nil {
		s.dirs = map[uint64]string{}
	}
	s.dirs[id] = p
	return false
}

// how describes the compression in a gap reason, when there is one.
func (s *sqfsWalk) how() string {
	if s.comp == "" {
		return ""
	}
	return " (compression " + s.comp + ")"
}

// dir writes the directory p (an fs.FS path) and everything below it.
func (s *sqfsWalk) dir(p string, depth int) {
	if depth > maxSquashfsDepth {
		s.gap(p, "directory nesting too deep; not examined")
		return
	}
	entries, err := s.readDir(p)
	if err != nil {
		s.gap(p, fmt.Sprintf("cannot read directory%s: %v", s.how(), err))
		return
	}
	for _, e := range entries {
		if s.stopped || s.w.Stopped() || s.u.ctx.Err() != nil {
			if err := s.u.ctx.Err(); err != nil {
				s.gap(p, err.Error())
			}
			return
		}
		if s.entries++; s.maxEntries > 0 && s.entries > s.maxEntries {
			s.gap(p, fmt.Sprintf("more entries than the image can hold (%d): a directory is reached more than once; the rest is not examined", s.maxEntries))
			s.stopped = true
			return
		}
		name := e.Name()
		if name == "" || name == "." || name == ".." {
			s.gap(path.Join(p, name), "invalid entry name not extracted")
			continue
		}
		child := path.Join(p, name)
		if !s.w.Admit(child) {
			continue
		}
		switch t := e.Type(); {
		case t.IsDir():
			if s.repeated(child, e) {
				continue
			}
			s.w.Dir(child)
			s.dir(child, depth+1)
		case t&fs.ModeSymlink != 0:
			target, err := s.readlink(child, e)
			if err != nil {
				s.gap(child, "cannot read symlink: "+err.Error())
				continue
			}
			s.w.Symlink(child, target)
		case t.IsRegular():
			s.file(child, e)
		case noContent(t):
		default:
			s.gap(child, fmt.Sprintf("special file (%v) not examined", t))
		}
	}
}

func (s *sqfsWalk) readDir(p string) (entries []fs.DirEntry, err error) {
	entries, err = protect(func() ([]fs.DirEntry, error) { return s.lib.readDir(p) })
	if err != nil {
		if alt := s.fallback(); alt != nil {
			if e2, err2 := protect(func() ([]fs.DirEntry, error) { return alt.readDir(p) }); err2 == nil {
				return e2, nil
			}
		}
	}
	return entries, err
}

func (s *sqfsWalk) readlink(p string, e fs.DirEntry) (string, error) {
	return protect(func() (string, error) { return s.lib.readlink(p, e) })
}

// file writes one regular file. A read error from the primary library
// switches to the fallback library at the same offset.
func (s *sqfsWalk) file(p string, e fs.DirEntry) {
	var size int64
	if info, err := e.Info(); err == nil {
		size = info.Size()
	}
	rc, err := protect(func() (io.ReadCloser, error) { return s.lib.open(p) })
	if err != nil {
		if alt := s.fallback(); alt != nil {
			rc, err = protect(func() (io.ReadCloser, error) { return alt.open(p) })
		}
		if err != nil {
			s.gap(p, fmt.Sprintf("cannot open file%s: %v", s.how(), err))
			return
		}
	}
	r := &switchReader{ctx: s.u.ctx, r: rc, reopen: func() (io.ReadCloser, error) {
		alt := s.fallback()
		if alt == nil {
			return nil, errors.New("no fallback library")
		}
		return alt.open(p)
	}}
	defer r.close()
	s.w.File(p, io.LimitReader(r, size), size)
	if r.err != nil {
		s.gap(p, fmt.Sprintf("file data unreadable%s: %v", s.how(), r.err))
	}
}

// protect calls f and turns a library panic into an error.
func protect[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("library panic: %v", r)
		}
	}()
	return f()
}

// switchReader reads r; on an error it reopens the file with reopen,
// skips what was already read and goes on, once.
type switchReader struct {
	ctx context.Context
	r   io.ReadCloser
	n   int64
	// reopen opens the same file with the fallback library.
	reopen   func() (io.ReadCloser, error)
	switched bool
	err      error // the primary's error, when the fallback failed too
}

func (s *switchReader) Read(b []byte) (n int, err error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	n, err = protect(func() (int, error) { return s.r.Read(b) })
	s.n += int64(n)
	if err == nil || err == io.EOF || s.switched {
		return n, err
	}
	s.switched = true
	alt, err2 := protect(s.reopen)
	if err2 != nil {
		s.err = err
		return n, err
	}
	if _, err2 := protect(func() (int64, error) { return io.CopyN(io.Discard, ctxReader{s.ctx, alt}, s.n) }); err2 != nil {
		alt.Close()
		s.err = err
		return n, err
	}
	s.r.Close()
	s.r = alt
	return n, nil
}

func (s *switchReader) close() { s.r.Close() }
