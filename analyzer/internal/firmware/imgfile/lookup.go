package imgfile

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Tree describes the directory tree of an image for Lookup, over nodes of
// type N (inodes, directory entries, archive members).
type Tree[N any] struct {
	// Root is the root directory.
	Root N
	// IsDir reports whether a node is a directory.
	IsDir func(N) bool
	// Child finds the entry name of directory dir, failing with
	// fs.ErrNotExist when there is none.
	Child func(dir N, name string) (N, error)
	// IsLink reports whether a node is a symbolic link; ReadLink reads
	// its target.
	IsLink   func(N) bool
	ReadLink func(N) (string, error)
	// Same, when set, reports whether directory child is directory dir
	// again: a child that is its own parent or ancestor is a loop. Trees
	// that cannot loop leave it nil.
	Same func(dir, child N) bool
}

// Limits of one Lookup.
const (
	MaxLinkHops = 40  // symbolic links followed, as Linux's limit
	MaxDepth    = 256 // directories descended
)

// Lookup finds name (an fs.ValidPath) in t, following symbolic links in
// its directories, and in its last element too when follow is set. A link
// resolves inside the tree, as the appliance's kernel would with the image
// as its root: an absolute target starts at the root, and ".." at the root
// stays there. Errors are *fs.PathError with op and name.
func Lookup[N any](t Tree[N], op, name string, follow bool) (N, error) {
	var zero N
	if !fs.ValidPath(name) {
		return zero, &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	fail := func(err error) (N, error) {
		return zero, &fs.PathError{Op: op, Path: name, Err: err}
	}
	cur := t.Root
	var parents []N // the directories above cur
	parts := split(name)
	links := 0
	for len(parts) > 0 {
		elem := parts[0]
		parts = parts[1:]
		switch elem { // "." and ".." come from link targets only
		case ".":
			continue
		case "..":
			if len(parents) > 0 {
				cur, parents = parents[len(parents)-1], parents[:len(parents)-1]
			}
			continue
		}
		if !t.IsDir(cur) {
			return fail(errors.New("not a directory"))
		}
		if len(parents) >= MaxDepth {
			return fail(errors.New("directory nesting too deep"))
		}
		child, err := t.Child(cur, elem)
		if err != nil {
			return fail(err)
		}
		if t.IsLink(child) && (len(parts) > 0 || follow) {
			if links++; links > MaxLinkHops {
				return fail(errors.New("too many levels of symbolic links"))
			}
			target, err := t.ReadLink(child)
			if err != nil {
				return fail(err)
			}
			if strings.HasPrefix(target, "/") {
				cur, parents = t.Root, nil
			}
			parts = append(split(target), parts...)
			continue
		}
		if t.Same != nil && t.IsDir(child) && onPath(t.Same, child, cur, parents) {
			return fail(fmt.Errorf("directory loop at %q", elem))
		}
		parents = append(parents, cur)
		cur = child
	}
	return cur, nil
}

// onPath reports whether directory child is cur or one of its parents.
func onPath[N any](same func(dir, child N) bool, child, cur N, parents []N) bool {
	if same(cur, child) {
		return true
	}
	for _, p := range parents {
		if same(p, child) {
			return true
		}
	}
	return false
}

// split splits a slash path into its non-empty elements.
func split(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '/' })
}
