package fscan

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
	"github.com/oemtrace/oemtrace/internal/testutil"
	"github.com/oemtrace/oemtrace/signatures"
)

func TestWalkGaps(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, root, "etc/a.conf", "x")
	testutil.WriteFile(t, root, "lib/real.so", "y")
	os.Symlink("/lib/real.so", filepath.Join(root, "lib", "abs-inside"))
	os.Symlink("../../../../../etc/passwd", filepath.Join(root, "etc", "escape"))
	os.Symlink("loop2", filepath.Join(root, "loop1"))
	os.Symlink("loop1", filepath.Join(root, "loop2"))
	os.Symlink("missing", filepath.Join(root, "dangling"))
	if err := syscall.Mkfifo(filepath.Join(root, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	tree, err := fstree.Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	files, gaps := plan(tree)
	var got []string
	for _, f := range files {
		got = append(got, f.rel)
	}
	if strings.Join(got, " ") != "/etc/a.conf /lib/real.so" {
		t.Errorf("files = %v", got)
	}
	want := map[string]string{
		"/loop1": "symlink loop",
		"/loop2": "symlink loop",
	}
	if len(gaps) != len(want) {
		t.Errorf("gaps = %v, want %d", gaps, len(want))
	}
	for _, g := range gaps {
		if !strings.Contains(g.Reason, want[g.Path]) || want[g.Path] == "" {
			t.Errorf("unexpected gap %s: %s", g.Path, g.Reason)
		}
	}
}

func TestUnreadableFileIsGap(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode")
	}
	root := t.TempDir()
	testutil.WriteFile(t, root, "secret", "x")
	os.Chmod(filepath.Join(root, "secret"), 0)
	s := newScanner(t)
	res, err := s.ScanTree(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 || !strings.Contains(res.Gaps[0].Reason, "cannot open") {
		t.Errorf("gaps = %v", res.Gaps)
	}
}

func newScanner(t testing.TB) *Scanner {
	t.Helper()
	set, err := signatures.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(set)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRuleExamplesThroughScanner runs every content rule's file examples
// through the real scanner (matcher, kind detection), so the reference
// observer that Load uses and the scanner cannot drift apart.
func TestRuleExamplesThroughScanner(t *testing.T) {
	s := newScanner(t)
	for _, r := range s.set.Rules {
		for _, want := range []bool{true, false} {
			exs := r.Examples.Match
			if !want {
				exs = r.Examples.NoMatch
			}
			for _, e := range exs {
				if e.Field != "" || e.Content == "" || e.Kind != "" && e.Kind != "text" && e.Kind != "binary" {
					continue // identity examples, and metadata examples need real binaries
				}
				root := t.TempDir()
				testutil.WriteFile(t, root, e.Path, e.Content)
				res, err := s.ScanTree(context.Background(), root)
				if err != nil {
					t.Fatal(err)
				}
				got := false
				for _, f := range res.Files {
					for _, h := range f.Hits {
						got = got || h.Rule.ID == r.ID
					}
				}
				if got != want {
					t.Errorf("%s: example %s %q: matched = %v, want %v", r.ID, e.Path, e.Content, got, want)
				}
			}
		}
	}
}

func TestHitOffsetsAndBytes(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, root, "etc/x/updater.ini", "# mirrors\nsource=https://DNL-01.GEO.KASPERSKY.COM/\n")
	res, err := newScanner(t).ScanTree(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 {
		t.Fatalf("files = %+v", res.Files)
	}
	f := res.Files[0]
	if len(f.SHA256) != 64 {
		t.Errorf("sha256 = %q", f.SHA256)
	}
	found := false
	for _, h := range f.Hits {
		if h.Rule.ID == "OT-CT-UPDATE-HOST" {
			found = true
			if h.Value != ".GEO.KASPERSKY.COM" || h.Offset != 31 || h.Length != 18 {
				t.Errorf("hit = %+v, want the bytes as found at offset 31", h)
			}
		}
	}
	if !found {
		t.Errorf("no update-host hit in %+v", f.Hits)
	}
}

// TestMIMETypesAndHeldBinaries checks the MIME types a scan reports for
// the cataloger, and that a binary held in memory yields the same facts
// and exact bytes as one streamed.
func TestMIMETypesAndHeldBinaries(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, root, "etc/empty", "")
	testutil.WriteFile(t, root, "etc/motd", "hello\n")
	exe, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true to copy: ", err)
	}
	testutil.WriteFile(t, root, "bin/tool", string(exe)+"DNL-01.GEO.KASPERSKY.COM")
	tree, err := fstree.Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := newScanner(t).Scan(context.Background(), tree, Options{MIMETypes: true})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/etc/empty": "", "/etc/motd": "text/plain", "/bin/tool": "application/x-executable"}
	for p, m := range want {
		got, ok := res.MIMETypes[p]
		if !ok || got != m && !(p == "/bin/tool" && strings.HasPrefix(got, "application/x-")) {
			t.Errorf("MIME type of %s = %q (listed %v), want %q", p, got, ok, m)
		}
	}
	if len(res.Files) != 1 || res.Files[0].Path != "/bin/tool" {
		t.Fatalf("files = %+v", res.Files)
	}
	var hit *Hit
	for i, h := range res.Files[0].Hits {
		if h.Rule.ID == "OT-CT-UPDATE-HOST" {
			hit = &res.Files[0].Hits[i]
		}
	}
	if hit == nil || hit.Value != ".GEO.KASPERSKY.COM" {
		t.Errorf("hits = %+v, want the update host as found", res.Files[0].Hits)
	}
}

// memCopy is a Copy kept in memory.
type memCopy struct {
	buf  bytes.Buffer
	kept bool
}

func (c *memCopy) Write(b []byte) (int, error) { return c.buf.Write(b) }
func (c *memCopy) Close() error                { c.kept = true; return nil }
func (c *memCopy) Kept() io.ReaderAt {
	if !c.kept {
		return nil
	}
	return bytes.NewReader(c.buf.Bytes())
}

// noRandomAccess fails every ReadAt: reading a file at an offset again is
// what a kept copy spares for a binary too large to hold.
type noRandomAccess struct{ fstree.File }

func (noRandomAccess) ReadAt([]byte, int64) (int, error) {
	return 0, errors.New("read at an offset")
}

// TestLargeBinaryParsedFromCopy checks that a binary too large to hold is
// parsed, and its hit bytes read, from the copy the scan kept while
// streaming it, not from the file again.
func TestLargeBinaryParsedFromCopy(t *testing.T) {
	exe, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true to copy: ", err)
	}
	root := t.TempDir()
	body := string(exe) + strings.Repeat("\x00", maxHeld) + "DNL-01.GEO.KASPERSKY.COM"
	testutil.WriteFile(t, root, "bin/big", body)
	tree, err := fstree.List(context.Background(), os.DirFS(root).(fstree.FS), fstree.Limits{},
		fstree.WithFileWrapper(func(f fstree.File) fstree.File { return noRandomAccess{f} }))
	if err != nil {
		t.Fatal(err)
	}
	var copies []*memCopy
	keep := func(string, int64) Copy {
		c := &memCopy{}
		copies = append(copies, c)
		return c
	}
	res, err := newScanner(t).Scan(context.Background(), tree, Options{Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) > 0 {
		t.Fatalf("gaps = %+v", res.Gaps)
	}
	if len(copies) != 1 || copies[0].buf.String() != body {
		t.Fatalf("%d copies; want one whole copy of the binary", len(copies))
	}
	if len(res.Files) != 1 || res.Files[0].Facts == nil || res.Files[0].Facts.Format != "elf" {
		t.Fatalf("files = %+v, want the binary with its ELF facts", res.Files)
	}
	found := false
	for _, h := range res.Files[0].Hits {
		found = found || h.Value == ".GEO.KASPERSKY.COM" && h.Offset == int64(len(body)-len(".GEO.KASPERSKY.COM"))
	}
	if !found {
		t.Errorf("hits = %+v, want the update host read from the copy", res.Files[0].Hits)
	}

	// Without a copy the binary is read at offsets again, which fails here.
	res, err = newScanner(t).Scan(context.Background(), tree, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 {
		t.Errorf("gaps without a copy = %+v, want the binary", res.Gaps)
	}
}

// TestCorruptMetadataKeepsHits checks that a binary whose metadata cannot
// be parsed is a gap that keeps its content hits: damaging a header must
// not hide what the bytes show.
func TestCorruptMetadataKeepsHits(t *testing.T) {
	exe, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true to copy: ", err)
	}
	root := t.TempDir()
	// The head of a real ELF file: its section headers lie past the end.
	testutil.WriteFile(t, root, "bin/cut", string(exe[:4096])+"DNL-01.GEO.KASPERSKY.COM")
	tree, err := fstree.Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	res, err := newScanner(t).Scan(context.Background(), tree, Options{MIMETypes: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 1 || !strings.Contains(res.Gaps[0].Reason, "content scanned, but the elf metadata is corrupt") {
		t.Errorf("gaps = %+v, want the corrupt metadata", res.Gaps)
	}
	if len(res.Files) != 1 || len(res.Files[0].Hits) == 0 {
		t.Fatalf("files = %+v, want the update host found", res.Files)
	}
	if res.Scanned != 1 || res.MIMETypes["/bin/cut"] == "" {
		t.Errorf("scanned %d files, MIME types %v: the content was read", res.Scanned, res.MIMETypes)
	}
}

// TestMarkersAndKeptCopies checks that markers are noted per file, in the
// bit of their position, wherever in the file they lie (across the
// scanner's chunks too), and that of the binaries held in memory only
// those Reread selects (here: holding a marker) are offered for a copy.
func TestMarkersAndKeptCopies(t *testing.T) {
	exe, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true to copy: ", err)
	}
	root := t.TempDir()
	pad := strings.Repeat("\x00", 3<<20)
	testutil.WriteFile(t, root, "bin/gotool", string(exe)+pad+"\xff Go buildinf:")
	testutil.WriteFile(t, root, "bin/plain", string(exe))
	testutil.WriteFile(t, root, "lib/both.so", string(exe)+".note.package"+pad+"\xff Go buildinf:")
	testutil.WriteFile(t, root, "etc/notes.txt", "section .note.package\n")
	tree, err := fstree.Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	set, err := signatures.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := New(set, []byte("\xff Go buildinf:"), []byte(".note.package"))
	if err != nil {
		t.Fatal(err)
	}
	kept := map[string]*memCopy{}
	var mu sync.Mutex
	keep := func(p string, _ int64) Copy {
		mu.Lock()
		defer mu.Unlock()
		kept[p] = &memCopy{}
		return kept[p]
	}
	reread := func(_ string, marks uint64) bool { return marks != 0 }
	res, err := sc.Scan(context.Background(), tree, Options{Keep: keep, Reread: reread})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{"/bin/gotool": 1, "/lib/both.so": 3, "/etc/notes.txt": 2}
	if !maps.Equal(res.Marks, want) {
		t.Errorf("marks = %v, want %v", res.Marks, want)
	}
	if len(kept) != 2 || kept["/bin/gotool"] == nil || kept["/lib/both.so"] == nil {
		t.Fatalf("copies of %v, want the two marked binaries", slices.Sorted(maps.Keys(kept)))
	}
	if c := kept["/bin/gotool"]; !c.kept || c.buf.Len() != len(exe)+len(pad)+14 {
		t.Errorf("copy of /bin/gotool: kept %v, %d bytes", c.kept, c.buf.Len())
	}
	if _, err := New(set, make([][]byte, MaxMarkers+1)...); err == nil {
		t.Errorf("New took %d markers", MaxMarkers+1)
	}
}

// TestShortBinaryScannedAsFound checks that a binary shorter than its
// listing says (a corrupt image's inode, a file cut after listing) is
// scanned as far as it goes, not dropped.
func TestShortBinaryScannedAsFound(t *testing.T) {
	exe, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true to copy: ", err)
	}
	root := t.TempDir()
	body := string(exe) + "DNL-01.GEO.KASPERSKY.COM"
	testutil.WriteFile(t, root, "bin/tool", body+strings.Repeat("\x00", 4096))
	tree, err := fstree.Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filepath.Join(root, "bin", "tool"), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	res, err := newScanner(t).Scan(context.Background(), tree, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) != 0 || len(res.Files) != 1 || len(res.Files[0].Hits) == 0 {
		t.Errorf("gaps %+v, files %+v; want the hits of what the file holds", res.Gaps, res.Files)
	}
}

// TestHardLinksReadOnce checks that the hard links of a file are not read
// again: each takes the file's result (hits, MIME type, marks) under its
// own path, and counts as scanned.
func TestHardLinksReadOnce(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, root, "etc/x/updater.ini", "source=https://dnl-01.geo.kaspersky.com/\n")
	testutil.WriteFile(t, root, "etc/motd", "hello\n")
	for _, p := range []string{"etc/x/updater-b.ini", "opt/a/updater.ini"} {
		if err := os.MkdirAll(filepath.Join(root, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(filepath.Join(root, "etc/x/updater.ini"), filepath.Join(root, p)); err != nil {
			t.Skipf("no hard links here: %v", err)
		}
	}
	var opened atomic.Int32
	tree, err := fstree.List(context.Background(), os.DirFS(root).(fstree.FS), fstree.Limits{},
		fstree.WithFileWrapper(func(f fstree.File) fstree.File { opened.Add(1); return f }))
	if err != nil {
		t.Fatal(err)
	}
	res, err := newScanner(t).Scan(context.Background(), tree, Options{MIMETypes: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := opened.Load(); n != 2 {
		t.Errorf("%d files opened, want 2 (motd, and the linked file once)", n)
	}
	if res.Scanned != 4 || res.Bytes != 3*41+6 {
		t.Errorf("scanned %d files, %d bytes", res.Scanned, res.Bytes)
	}
	var paths []string
	for _, f := range res.Files {
		paths = append(paths, f.Path)
		if len(f.Hits) == 0 || !slices.Equal(f.Hits, res.Files[0].Hits) || f.SHA256 != res.Files[0].SHA256 {
			t.Errorf("%s: hits %+v", f.Path, f.Hits)
		}
	}
	if want := []string{"/etc/x/updater-b.ini", "/etc/x/updater.ini", "/opt/a/updater.ini"}; !slices.Equal(paths, want) {
		t.Errorf("files with evidence %v, want %v", paths, want)
	}
	if len(res.MIMETypes) != 4 || res.MIMETypes["/opt/a/updater.ini"] != res.MIMETypes["/etc/x/updater.ini"] {
		t.Errorf("MIME types %v", res.MIMETypes)
	}
}

// TestHardLinkOfAnotherSizeIsRead checks that an entry claiming to be a
// hard link of a file of another size is read for itself: what a tree
// says about links never hides content.
func TestHardLinkOfAnotherSizeIsRead(t *testing.T) {
	root := t.TempDir()
	testutil.WriteFile(t, root, "a/benign", "hello\n")
	testutil.WriteFile(t, root, "b/engine.ini", "source=https://dnl-01.geo.kaspersky.com/\n")
	tree, err := fstree.Dir(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	for i := range tree.Entries {
		if tree.Entries[i].Path == "/b/engine.ini" {
			tree.Entries[i].Same = "/a/benign"
		}
	}
	res, err := newScanner(t).Scan(context.Background(), tree, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || res.Files[0].Path != "/b/engine.ini" || res.Scanned != 2 {
		t.Errorf("files %+v, scanned %d; want the engine file read", res.Files, res.Scanned)
	}
}
