package imgfile

import (
	"errors"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// mapTree is a tree given as paths: "d" marks a directory, "->x" a link
// to x, anything else a file. Directory "loop" is its own parent.
func mapTree(nodes map[string]string) Tree[string] {
	return Tree[string]{
		Root:  ".",
		IsDir: func(p string) bool { return nodes[p] == "d" },
		Child: func(dir, name string) (string, error) {
			c := path.Join(dir, name)
			if c == "loop/again" {
				return "loop", nil
			}
			if _, ok := nodes[c]; !ok {
				return "", fs.ErrNotExist
			}
			return c, nil
		},
		IsLink:   func(p string) bool { return strings.HasPrefix(nodes[p], "->") },
		ReadLink: func(p string) (string, error) { return strings.TrimPrefix(nodes[p], "->"), nil },
		Same:     func(dir, child string) bool { return dir == child },
	}
}

func TestLookup(t *testing.T) {
	tree := mapTree(map[string]string{
		".": "d", "etc": "d", "etc/conf": "file", "bin": "d", "bin/sh": "file",
		"abs": "->/etc", "rel": "->../etc/conf", "up": "->../../../../etc", "dot": "->./etc/.",
		"self": "->self", "a": "->b", "b": "->a", "file": "->etc/conf/x", "dangling": "->nowhere",
		"loop": "d",
	})
	for _, c := range []struct {
		name   string
		follow bool
		want   string // or "error: ..." for a failure containing it
	}{
		{"etc/conf", true, "etc/conf"},
		{".", true, "."},
		{"abs/conf", true, "etc/conf"},
		{"abs", false, "abs"},
		{"abs", true, "etc"},
		{"bin/../etc", true, "error: invalid argument"}, // ".." only from links
		{"rel", true, "etc/conf"},
		{"up/conf", true, "etc/conf"}, // ".." at the root stays there
		{"dot/conf", true, "etc/conf"},
		{"self", true, "error: too many levels of symbolic links"},
		{"a/x", true, "error: too many levels of symbolic links"},
		{"self", false, "self"},
		{"file", true, "error: not a directory"},
		{"dangling", true, "error: file does not exist"},
		{"dangling", false, "dangling"},
		{"etc/conf/x", true, "error: not a directory"},
		{"loop/again", true, "error: directory loop"},
		{"/etc", true, "error: invalid argument"},
		{"etc/", true, "error: invalid argument"},
	} {
		got, err := Lookup(tree, "open", c.name, c.follow)
		if want, ok := strings.CutPrefix(c.want, "error: "); ok {
			var pe *fs.PathError
			if err == nil || !strings.Contains(err.Error(), want) || !errors.As(err, &pe) || pe.Path != c.name {
				t.Errorf("Lookup(%q) = %q, %v; want an error with %q", c.name, got, err, want)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("Lookup(%q, follow %v) = %q, %v; want %q", c.name, c.follow, got, err, c.want)
		}
	}
}

func TestLookupDepth(t *testing.T) {
	nodes := map[string]string{".": "d"}
	p := "."
	for range MaxDepth + 1 {
		p = path.Join(p, "d")
		nodes[p] = "d"
	}
	if _, err := Lookup(mapTree(nodes), "open", p, true); err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Fatalf("%d levels: %v", MaxDepth+1, err)
	}
}
