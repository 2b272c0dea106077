package firmware

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
)

// TestVisitMatchesUnpack reads every fixture image both ways: written
// below a directory (Unpack) and in place (Visit). The trees, every
// file's content, the gaps and the coverage must be the same.
func TestVisitMatchesUnpack(t *testing.T) {
	images, err := filepath.Glob("testdata/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"sqfs", "cramfs", "jffs2", "ubi", "ubifs", "extfs"} {
		more, _ := filepath.Glob(filepath.Join(sub, "testdata", "*"))
		images = append(images, more...)
	}
	n := 0
	for _, img := range images {
		if fi, err := os.Stat(img); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if ext := filepath.Ext(img); ext == ".sh" || ext == ".manifest" || ext == ".txt" {
			continue
		}
		t.Run(filepath.Base(img), func(t *testing.T) {
			ctx := context.Background()
			lim := extract.DefaultLimits()
			written, err := Unpack(ctx, img, t.TempDir(), lim)
			if err != nil {
				t.Skipf("not an image: %v", err)
			}
			var want []string
			for _, r := range written.Roots {
				tr, err := fstree.Dir(ctx, r.Dir)
				if err != nil {
					t.Fatal(err)
				}
				want = append(want, describeRoot(t, r, tr))
			}
			var got []string
			visited, err := Visit(ctx, img, t.TempDir(), lim, func(r Root) {
				tr := r.Tree
				if tr == nil {
					if tr, err = fstree.Dir(ctx, r.Dir); err != nil {
						t.Fatal(err)
					}
				}
				got = append(got, describeRoot(t, r, tr))
			})
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(want)
			sort.Strings(got)
			if g, w := strings.Join(got, "\n"), strings.Join(want, "\n"); g != w {
				t.Errorf("visited in place:\n%s\nwritten:\n%s", g, w)
			}
			if g, w := fmt.Sprint(visited.Gaps, visited.Coverage), fmt.Sprint(written.Gaps, written.Coverage); g != w {
				t.Errorf("visit gaps and coverage %s, unpack %s", g, w)
			}
			n++
		})
	}
	if n < 15 {
		t.Errorf("only %d fixture images compared", n)
	}
}

// describeRoot renders a tree: its chain, then one line per entry with
// its type and, for a regular file, the digest of what reading it gives.
func describeRoot(t *testing.T, r Root, tr *fstree.Tree) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "root %v raw=%v\n", r.Chain, r.Raw)
	for _, e := range tr.Entries {
		switch {
		case e.Mode.IsRegular():
			f, err := tr.Open(e.Path)
			if err != nil {
				fmt.Fprintf(&b, "  %s open error\n", e.Path)
				continue
			}
			h := sha256.New()
			n, err := io.Copy(h, io.LimitReader(f, e.Size))
			f.Close()
			fmt.Fprintf(&b, "  %s %d %x %v\n", e.Path, n, h.Sum(nil)[:8], err != nil)
		case e.Mode.Type()&os.ModeSymlink != 0:
			fmt.Fprintf(&b, "  %s -> %s\n", e.Path, e.Link)
		case e.Mode.IsDir():
			fmt.Fprintf(&b, "  %s/\n", e.Path)
		}
	}
	for _, g := range tr.Gaps {
		fmt.Fprintf(&b, "  gap %s: %s\n", g.Path, g.Reason)
	}
	return b.String()
}

// TestHardLinksInImages checks that the fixture tree's hard link
// (appinfo-link.kli) is known as one in every image that keeps hard
// links, read in place: squashfs, ext2/3/4, UBIFS and JFFS2.
func TestHardLinksInImages(t *testing.T) {
	found := map[string]bool{}
	for _, sub := range []string{"sqfs", "extfs", "ubifs", "jffs2"} {
		images, _ := filepath.Glob(filepath.Join(sub, "testdata", "*"))
		for _, img := range images {
			if ext := filepath.Ext(img); ext == ".sh" || ext == ".manifest" || ext == ".txt" {
				continue
			}
			_, err := Visit(context.Background(), img, t.TempDir(), extract.DefaultLimits(), func(r Root) {
				if r.Tree == nil {
					return
				}
				link, ok := r.Tree.Lookup("/opt/netwarden/bin/appinfo-link.kli")
				if !ok {
					return
				}
				orig, _ := r.Tree.Lookup("/opt/netwarden/bin/appinfo.kli")
				if link.Same != "" || orig.Same != "/opt/netwarden/bin/appinfo-link.kli" {
					t.Errorf("%s: appinfo.kli same as %q, appinfo-link.kli as %q", img, orig.Same, link.Same)
				}
				found[sub] = true
			})
			if err != nil {
				continue // not an image of the tree
			}
		}
	}
	if len(found) != 4 {
		t.Errorf("hard link checked in %v only", found)
	}
}
