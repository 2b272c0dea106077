package inventory

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anchore/stereoscope/pkg/filetree"

	"github.com/oemtrace/oemtrace/analyzer/internal/fscan"
	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
	"github.com/oemtrace/oemtrace/signatures"
)

// TestCatalogTreeMatchesDirectory catalogs one appliance tree twice:
// with Syft's own directory source and with the listed-tree source that
// firmware filesystems use. Every package, field and owned file must be
// the same, including those found by MIME type (a Go binary).
func TestCatalogTreeMatchesDirectory(t *testing.T) {
	root := extractFixtures(t, "base.tar.gz", "webui.tar.gz", "engine.tar.gz")
	addGoTool(t, root)
	ctx := context.Background()
	want, err := Catalog(ctx, root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tree, err := fstree.Dir(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	types := NewTypes()
	spill, err := NewSpill(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer spill.Close()
	got := make(chan *Result, 1)
	go func() {
		res, err := CatalogTree(ctx, "fw.bin!squashfs", tree, types, spill)
		if err != nil {
			t.Error(err)
		}
		got <- res
	}()
	set, err := signatures.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := fscan.New(set, Markers()...)
	if err != nil {
		t.Fatal(err)
	}
	scan, err := sc.Scan(ctx, tree, fscan.Options{MIMETypes: true, Keep: func(p string, n int64) fscan.Copy { return spill.Writer(p, n) }, Reread: Rereads})
	if err != nil {
		t.Fatal(err)
	}
	types.Set(scan.MIMETypes, scan.Marks)
	res := <-got
	if res == nil {
		t.FailNow()
	}
	if g, w := summary(res), summary(want); g != w {
		t.Errorf("tree source catalogued\n%s\nwant (directory source)\n%s", g, w)
	}
	if !strings.Contains(summary(res), "go-module") {
		t.Errorf("the Go binary was not catalogued by MIME type:\n%s", summary(res))
	}
	if len(spill.at) == 0 {
		t.Error("the scan kept no binary for the cataloger")
	}
	if res.SBOM.Source.Name != "fw.bin!squashfs" {
		t.Errorf("source name %q", res.SBOM.Source.Name)
	}
}

// summary renders what a Result says about packages, for comparison.
func summary(r *Result) string {
	var b strings.Builder
	for i, c := range r.Components {
		fmt.Fprintf(&b, "%s %s %s %s %s\n", c.Type, c.Name, c.Version, c.PURL, c.Location)
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "  %s %s %q %s\n", f.Kind, f.Qualifier, f.Value, f.Location)
		}
		n := 0
		for _, o := range r.Owners {
			if o == i {
				n++
			}
		}
		fmt.Fprintf(&b, "  owns %d files\n", n)
	}
	return b.String()
}

func TestTypesWaitEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if m, marks := NewTypes().get(ctx); m != nil || marks != nil {
		t.Errorf("got %v, %v from unset types after cancel", m, marks)
	}
}

// TestLargeFileWaitsForItsCopy checks that a large file a cataloger asks
// for before the content scan has kept its copy is read from the copy
// once the scan ends, not from the tree; a small one is read at once.
func TestLargeFileWaitsForItsCopy(t *testing.T) {
	root := t.TempDir()
	large := strings.Repeat("t", waitAbove)
	for name, body := range map[string]string{"large": large, "small": "tree"} {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	tree, err := fstree.Dir(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	spill, err := NewSpill(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	defer spill.Close()
	types := NewTypes()
	r, err := newTreeResolver(ctx, tree, types, spill)
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		locs, err := r.FilesByPath(p)
		if err != nil || len(locs) != 1 {
			t.Fatalf("FilesByPath(%s) = %v, %v", p, locs, err)
		}
		rc, err := r.FileContentsByLocation(locs[0])
		if err != nil {
			t.Fatal(err)
		}
		defer rc.Close()
		b, err := io.ReadAll(rc)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if got := read("/small"); got != "tree" {
		t.Errorf("small file = %q, want it read from the tree at once", got)
	}
	got := make(chan string, 1)
	go func() { got <- read("/large") }()
	select {
	case <-got:
		t.Fatal("the large file was read before the scan ended")
	case <-time.After(50 * time.Millisecond):
	}
	copied := strings.Repeat("c", waitAbove)
	w := spill.Writer("/large", int64(len(copied)))
	io.WriteString(w, copied)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	types.Set(map[string]string{}, nil)
	if g := <-got; g != copied {
		t.Errorf("large file read %.10q..., want its copy", g)
	}
}

// TestBasenameGlobsAsStereoscope checks that the resolver's basename
// globs find exactly the entries stereoscope's own index finds, for the
// kinds of glob Syft's catalogers ask, and fail as it fails.
func TestBasenameGlobsAsStereoscope(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{
		"var/lib/dpkg/info/libc6:amd64.list", "var/lib/dpkg/info/libc6:amd64.md5sums",
		"var/lib/dpkg/info/libc6.list", "var/lib/dpkg/info/libcap2.list", "var/lib/dpkg/info/bash.list",
		"usr/lib/libssl.so.3", "usr/lib/libcrypto.so.3", "usr/share/doc/a*b/copyright", "a", "b.txt", "[x]",
	} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, p), []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("libc6.list", filepath.Join(root, "var/lib/dpkg/info/libc6-link.list")); err != nil {
		t.Fatal(err)
	}
	tree, err := fstree.Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newTreeResolver(context.Background(), tree, NewTypes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(es []filetree.IndexEntry) []string {
		var out []string
		for _, e := range es {
			out = append(out, string(e.RealPath))
		}
		slices.Sort(out)
		return out
	}
	for _, g := range []string{
		"libc6.*", "libc6:amd64.*", "libc*", "*.list", "lib*.so*", "*", "?", "[ab]*", "{a,b.txt}", "[[]x]",
		`a\*b`, "libc6.[lm]*", "bash.*", "none.*", "", "**", "a/b", "[", "{",
	} {
		want, wantErr := r.index.Index.GetByBasenameGlob(g)
		got, gotErr := r.index.GetByBasenameGlob(g)
		if (wantErr != nil) != (gotErr != nil) || !slices.Equal(ids(got), ids(want)) {
			t.Errorf("glob %q: got %v (%v), stereoscope %v (%v)", g, ids(got), gotErr, ids(want), wantErr)
		}
	}
	if len(r.index.names) < 10 {
		t.Fatalf("only %d basenames listed", len(r.index.names))
	}
}
