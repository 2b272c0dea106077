package fstree

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/oemtrace/oemtrace/internal/testutil"
)

func paths(t *Tree) string {
	var out []string
	for _, e := range t.Entries {
		out = append(out, e.Path)
	}
	return strings.Join(out, " ")
}

func TestDirListsWithoutFollowingLinks(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, root, "etc/a.conf", "x")
	testutil.WriteFile(t, root, "lib/real.so", "yy")
	os.Symlink("/lib/real.so", filepath.Join(root, "lib", "abs-inside"))
	os.Symlink("/", filepath.Join(root, "rootlink"))
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tr, err := Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := paths(tr), "/etc /etc/a.conf /fifo /lib /lib/abs-inside /lib/real.so /rootlink"; got != want {
		t.Errorf("entries %q, want %q", got, want)
	}
	e, ok := tr.Lookup("/lib/real.so")
	if !ok || e.Size != 2 || !e.Mode.IsRegular() {
		t.Errorf("lookup real.so = %+v, %v", e, ok)
	}
	if e, _ := tr.Lookup("/lib/abs-inside"); e.Link != "/lib/real.so" {
		t.Errorf("link target %q", e.Link)
	}
	f, err := tr.Open("/lib/real.so")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, 1); err != nil || b[0] != 'y' {
		t.Errorf("ReadAt = %q, %v", b, err)
	}
}

func TestLinkGap(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, root, "lib/real.so", "y")
	os.Symlink("/lib/real.so", filepath.Join(root, "lib", "abs"))
	os.Symlink("../lib/real.so", filepath.Join(root, "lib", "rel"))
	// ".." above the root stays at the root, as on the appliance.
	os.Symlink("../../../../../etc/passwd", filepath.Join(root, "lib", "escape"))
	os.Symlink("../../../../loop1", filepath.Join(root, "lib", "climb-loop"))
	os.Symlink("loop2", filepath.Join(root, "loop1"))
	os.Symlink("loop1", filepath.Join(root, "loop2"))
	os.Symlink("missing", filepath.Join(root, "dangling"))
	tr, err := Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	for p, want := range map[string]string{
		"/lib/abs":        "",
		"/lib/rel":        "",
		"/dangling":       "",
		"/lib/escape":     "",
		"/lib/climb-loop": "symlink loop",
		"/loop1":          "symlink loop",
	} {
		got := tr.LinkGap(p)
		if want == "" && got != "" || want != "" && !strings.Contains(got, want) {
			t.Errorf("LinkGap(%s) = %q, want %q", p, got, want)
		}
	}
}

func TestListLimits(t *testing.T) {
	fsys := mapFS{fstest.MapFS{
		"a/big":   {Data: make([]byte, 100)},
		"a/small": {Data: []byte("s")},
		"b/c":     {Data: make([]byte, 60)},
		"b/d":     {Data: make([]byte, 60)},
		"e":       {Data: []byte("e")},
	}}
	ctx := context.Background()
	cases := []struct {
		name string
		lim  Limits
		want string
		gap  string
	}{
		{"none", Limits{}, "/a /a/big /a/small /b /b/c /b/d /e", ""},
		{"entries", Limits{MaxEntries: 3}, "/a /a/big /a/small", "/b: limit reached: entry limit of 3"},
		{"file size", Limits{MaxFileBytes: 80}, "/a /a/small /b /b/c /b/d /e", "/a/big: file of 100 bytes is over the per-file limit of 80"},
		{"total", Limits{MaxBytes: 150}, "/a /a/big /a/small /b", "/b/c: limit reached: total of 150 bytes"},
		{"depth", Limits{MaxDepth: 0}, "/a /a/big /a/small /b /b/c /b/d /e", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr, err := List(ctx, fsys, c.lim)
			if err != nil {
				t.Fatal(err)
			}
			if got := paths(tr); got != c.want {
				t.Errorf("entries %q, want %q", got, c.want)
			}
			var gaps []string
			for _, g := range tr.Gaps {
				gaps = append(gaps, g.Path+": "+g.Reason)
			}
			if c.gap == "" && len(gaps) > 0 || c.gap != "" && (len(gaps) != 1 || !strings.HasPrefix(gaps[0], c.gap)) {
				t.Errorf("gaps %q, want one starting %q", gaps, c.gap)
			}
		})
	}
}

// mapFS adds the link-reading methods to fstest.MapFS, whose files
// implement io.ReaderAt.
type mapFS struct{ fstest.MapFS }

func (m mapFS) ReadLink(name string) (string, error) {
	f, ok := m.MapFS[name]
	if !ok || f.Mode&fs.ModeSymlink == 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return string(f.Data), nil
}

func (m mapFS) Lstat(name string) (fs.FileInfo, error) { return m.MapFS.Stat(name) }

func TestListDeepNestingAndBadNames(t *testing.T) {
	m := fstest.MapFS{"x/../y": {Data: []byte("z")}}
	deep := strings.Repeat("d/", 20) + "f"
	m[deep] = &fstest.MapFile{Data: []byte("f")}
	tr, err := List(context.Background(), mapFS{m}, Limits{MaxDepth: 5})
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, g := range tr.Gaps {
		reasons = append(reasons, g.Reason)
	}
	if !strings.Contains(strings.Join(reasons, "|"), "nesting deeper than 5") {
		t.Errorf("gaps %q: no nesting gap", reasons)
	}
	for _, e := range tr.Entries {
		if strings.Contains(e.Path, "..") {
			t.Errorf("listed %s", e.Path)
		}
	}
}

func TestListStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := List(ctx, mapFS{fstest.MapFS{"a": {}}}, Limits{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestOpenWrapsAndRefusesSequentialOnly(t *testing.T) {
	tr, err := List(context.Background(), seqFS{mapFS{fstest.MapFS{"f": {Data: []byte("abc")}}}}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Open("/f"); err == nil || !strings.Contains(err.Error(), "no random access") {
		t.Errorf("Open of a sequential-only file: %v", err)
	}
	wrapped := 0
	tr, err = List(context.Background(), mapFS{fstest.MapFS{"f": {Data: []byte("abc")}}}, Limits{}, WithFileWrapper(func(f File) File {
		wrapped++
		return f
	}))
	if err != nil {
		t.Fatal(err)
	}
	f, err := tr.Open("/f")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "abc" || wrapped != 1 {
		t.Errorf("read %q through %d wrappers", b, wrapped)
	}
}

// seqFS hides io.ReaderAt from the files it opens.
type seqFS struct{ mapFS }

func (s seqFS) Open(name string) (fs.File, error) {
	f, err := s.mapFS.Open(name)
	if err != nil {
		return nil, err
	}
	return struct{ fs.File }{f}, nil
}

func TestSingle(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.bin")
	os.WriteFile(p, []byte("hello"), 0o644)
	tr, err := Single(p, "fw.bin")
	if err != nil {
		t.Fatal(err)
	}
	if paths(tr) != "/fw.bin" {
		t.Errorf("entries %q", paths(tr))
	}
	f, err := tr.Open("/fw.bin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if string(b) != "hello" {
		t.Errorf("read %q", b)
	}
	if _, err := Single(filepath.Dir(p), "d"); err == nil {
		t.Error("Single of a directory: no error")
	}
}

// TestHardLinksMarked checks that a file's hard links after the first (in
// path order) name it in Same, on disk and in a squashfs image, and that
// nothing else does.
func TestHardLinksMarked(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, root, "b/file", "content")
	testutil.WriteFile(t, root, "single", "alone")
	if err := os.Link(filepath.Join(root, "b/file"), filepath.Join(root, "a-link")); err != nil {
		t.Skipf("no hard links here: %v", err)
	}
	if err := os.Link(filepath.Join(root, "b/file"), filepath.Join(root, "c-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("b/file", filepath.Join(root, "symlink")); err != nil {
		t.Fatal(err)
	}
	tree, err := Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range tree.Entries {
		if e.Same != "" {
			got[e.Path] = e.Same
		}
	}
	if want := map[string]string{"/b/file": "/a-link", "/c-link": "/a-link"}; !maps.Equal(got, want) {
		t.Errorf("hard links %v, want %v", got, want)
	}
}
