// Package fscan scans a file tree for content evidence: every regular file
// is read once, in parallel, through the signature set's literal matcher,
// and binaries are parsed for symbols, libraries and classes. Files are
// read where they lie (a directory on disk or a filesystem image, see
// fstree); symlinks are never followed; what cannot be examined becomes a
// gap with a reason.
package fscan

import (
	"errors"
	"io/fs"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
)

// Gap is a part of the tree that could not be examined: its path inside
// the tree (with a leading "/") and the reason. It is the extractor's gap
// type, so callers record both the same way.
type Gap = fstree.Gap

// entry is one regular file to scan.
type entry struct {
	rel  string // "/"-rooted path inside the tree
	size int64
	same string // a hard link of this file, scanned in its stead
}

// plan lists the regular files of t to scan, in lexical order, and the
// gaps of its other entries: symlink loops, and special files that are
// neither devices, pipes nor sockets (which store no content). Symlinks
// are never followed: a link resolves inside the tree (see
// fstree.Tree.LinkGap), and the file it reaches is scanned at its own
// path.
func plan(t *fstree.Tree) ([]entry, []Gap) {
	var files []entry
	gaps := append([]Gap(nil), t.Gaps...)
	for _, e := range t.Entries {
		mode := e.Mode.Type()
		switch {
		case mode.IsDir():
		case mode&fs.ModeSymlink != 0:
			if reason := t.LinkGap(e.Path); reason != "" {
				gaps = append(gaps, Gap{Path: e.Path, Reason: reason})
			}
		case mode.IsRegular():
			f := entry{rel: e.Path, size: e.Size}
			// A link listed with another size than its file's is no
			// link: it is read for itself.
			if e.Same != "" {
				if o, ok := t.Lookup(e.Same); ok && o.Mode.IsRegular() && o.Size == e.Size {
					f.same = e.Same
				}
			}
			files = append(files, f)
		case mode&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0:
		default:
			gaps = append(gaps, Gap{Path: e.Path, Reason: "special file (" + specialKind(mode) + ") not examined"})
		}
	}
	return files, gaps
}

func specialKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeDevice != 0 && m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return strings.TrimSpace(m.String())
}

func describeErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
