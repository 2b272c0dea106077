// Package fscan scans a file tree for content evidence: every regular file
// is read once, in parallel, through the signature set's literal matcher,
// and binaries are parsed for symbols, libraries and classes. Symlinks are
// never followed; what cannot be examined becomes a gap with a reason.
package fscan

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// Gap is a part of the tree that could not be examined: its path inside
// the tree (with a leading "/") and the reason. It is the extractor's gap
// type, so callers record both the same way.
type Gap = extract.Gap

// entry is one regular file to scan.
type entry struct {
	rel  string // "/"-rooted path inside the tree
	abs  string // path on disk
	size int64
}

// maxLinkHops bounds symlink resolution; a chain longer than this is a loop.
const maxLinkHops = 40

// walk lists the regular files under root in lexical order and records gaps
// for what cannot be examined: unreadable directories and files, special
// files (devices, FIFOs, sockets), symlink loops and links that point out of
// the tree. Symlinks are never followed: the file a link points to is
// scanned at its own path, if it is inside the tree.
func walk(ctx context.Context, root string) ([]entry, []Gap, error) {
	var files []entry
	var gaps []Gap
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		rel := relPath(root, p)
		if err != nil {
			if p == root {
				return err
			}
			gaps = append(gaps, Gap{Path: rel, Reason: "cannot read: " + describeErr(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		mode := d.Type()
		switch {
		case mode.IsDir():
			return nil
		case mode&fs.ModeSymlink != 0:
			if reason := checkLink(root, rel); reason != "" {
				gaps = append(gaps, Gap{Path: rel, Reason: reason})
			}
			return nil
		case mode.IsRegular():
			info, err := d.Info()
			if err != nil {
				gaps = append(gaps, Gap{Path: rel, Reason: "cannot stat: " + describeErr(err)})
				return nil
			}
			files = append(files, entry{rel: rel, abs: p, size: info.Size()})
			return nil
		case mode&(fs.ModeDevice|fs.ModeNamedPipe|fs.ModeSocket) != 0:
			// Device nodes, pipes and sockets store no content.
			return nil
		default:
			gaps = append(gaps, Gap{Path: rel, Reason: "special file (" + specialKind(mode) + ") not examined"})
			return nil
		}
	})
	if err != nil {
		return nil, nil, fmt.Errorf("walking %s: %w", root, err)
	}
	return files, gaps, nil
}

// checkLink resolves the symlink at rel inside the tree the way the
// appliance would see it (absolute targets are relative to the tree's
// root), without touching anything outside the tree. It returns a gap
// reason for a loop or a target outside the tree, and "" otherwise
// (including a dangling link, which hides nothing).
func checkLink(root, rel string) string {
	cur := rel
	for hop := 0; hop < maxLinkHops; hop++ {
		target, err := os.Readlink(filepath.Join(root, filepath.FromSlash(cur)))
		if err != nil {
			return ""
		}
		var next string
		if strings.HasPrefix(target, "/") {
			next = path.Clean(target)
		} else {
			joined := path.Join(path.Dir(cur), target)
			if escapes(path.Dir(cur), target) {
				return fmt.Sprintf("symlink points out of the scanned tree (-> %s); not followed", target)
			}
			next = path.Clean("/" + joined)
		}
		fi, err := os.Lstat(filepath.Join(root, filepath.FromSlash(next)))
		if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
			return ""
		}
		cur = next
	}
	return "symlink loop (more than 40 links); not followed"
}

// escapes reports whether joining a relative target to dir climbs above
// the tree's root.
func escapes(dir, target string) bool {
	depth := len(strings.Split(strings.Trim(dir, "/"), "/"))
	if strings.Trim(dir, "/") == "" {
		depth = 0
	}
	for _, part := range strings.Split(target, "/") {
		switch part {
		case "", ".":
		case "..":
			depth--
			if depth < 0 {
				return true
			}
		default:
			depth++
		}
	}
	return false
}

func relPath(root, p string) string {
	r, err := filepath.Rel(root, p)
	if err != nil || r == "." {
		return "/"
	}
	return "/" + filepath.ToSlash(r)
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
	return m.String()
}

func describeErr(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}
