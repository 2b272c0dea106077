package extract_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

type ent struct {
	name, body, link string
	typ              byte
}

func mkTar(t testing.TB, gz bool, ents []ent) []byte {
	var buf bytes.Buffer
	var w = &buf
	var zw *gzip.Writer
	tw := tar.NewWriter(w)
	if gz {
		zw = gzip.NewWriter(w)
		tw = tar.NewWriter(zw)
	}
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o644, Size: int64(len(e.body)), Linkname: e.link}
		if e.typ != tar.TypeReg {
			h.Size = 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

func TestTarHostile(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(filepath.Dir(dir), "pwned")
	data := mkTar(t, true, []ent{
		{name: "ok/a.txt", body: "hello", typ: tar.TypeReg},
		{name: "../pwned", body: "x", typ: tar.TypeReg},
		{name: "/etc/abs.txt", body: "rooted", typ: tar.TypeReg},
		{name: "evil", link: "/etc", typ: tar.TypeSymlink},
		{name: "evil/passwd", body: "through the link", typ: tar.TypeReg},
		{name: "hard", link: "ok/a.txt", typ: tar.TypeLink},
		{name: "dev", typ: tar.TypeChar},
	})
	gaps, err := extract.Tar(bytes.NewReader(data), dir, extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(outside); err == nil {
		t.Fatal("an entry escaped the target directory")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "etc", "abs.txt")); string(b) != "rooted" {
		t.Error("absolute name not rooted inside the target")
	}
	if fi, err := os.Lstat(filepath.Join(dir, "evil")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Error("symlink not created as a link")
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "hard")); string(b) != "hello" {
		t.Error("hard link not copied")
	}
	var reasons []string
	for _, g := range gaps {
		reasons = append(reasons, g.Path+": "+g.Reason)
	}
	all := strings.Join(reasons, "\n")
	if strings.Contains(all, "/dev:") {
		t.Errorf("a device node (no content) is a gap:\n%s", all)
	}
	for _, want := range []string{"/../pwned: unsafe entry name"} {
		if !strings.Contains(all, want) {
			t.Errorf("gaps lack %q:\n%s", want, all)
		}
	}
}

func TestTarLimits(t *testing.T) {
	data := mkTar(t, false, []ent{
		{name: "a", body: strings.Repeat("a", 100), typ: tar.TypeReg},
		{name: "b", body: strings.Repeat("b", 100), typ: tar.TypeReg},
	})
	gaps, err := extract.Tar(bytes.NewReader(data), t.TempDir(), extract.Limits{MaxBytes: 150, MaxEntries: 10, MaxFileBytes: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) != 1 || !strings.Contains(gaps[0].Reason, "limit reached") {
		t.Fatalf("gaps = %v, want one limit gap", gaps)
	}
	if _, err := extract.Tar(strings.NewReader("not a tar at all, just text that is long enough to be read as a header block"), t.TempDir(), extract.DefaultLimits()); err == nil {
		t.Error("garbage accepted as tar")
	}
}

func FuzzTar(f *testing.F) {
	f.Add(mkTar(f, false, []ent{{name: "a", body: "x", typ: tar.TypeReg}, {name: "l", link: "../../x", typ: tar.TypeSymlink}}))
	f.Add(mkTar(f, true, []ent{{name: "d/", typ: tar.TypeDir}, {name: "d/f", body: "y", typ: tar.TypeReg}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		extract.Tar(bytes.NewReader(data), dir, extract.Limits{MaxBytes: 1 << 20, MaxEntries: 100, MaxFileBytes: 1 << 20})
		if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "x")); err == nil {
			t.Fatal("escaped")
		}
	})
}

func TestFlattenImages(t *testing.T) {
	root := filepath.Join("..", "..", "..", "fixtures", "appliance")
	for _, name := range []string{"tainted.docker.tar", "tainted.oci.tar"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			outer := t.TempDir()
			if _, err := extract.Tar(f, outer, extract.DefaultLimits()); err != nil {
				t.Fatal(err)
			}
			if extract.ImageFormat(outer) == "" {
				t.Fatal("image layout not recognized")
			}
			rootfs := t.TempDir()
			gaps, err := extract.Flatten(outer, rootfs, extract.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gaps {
				t.Logf("gap %s: %s", g.Path, g.Reason)
			}
			if _, err := os.Stat(filepath.Join(rootfs, "opt", "netwarden", "lib", "libnwscan.so.8")); err != nil {
				t.Errorf("engine layer not applied: %v", err)
			}
			if _, err := os.Lstat(filepath.Join(rootfs, "usr", "share", "doc", "zlib1g", "changelog.Debian.gz")); err == nil {
				t.Error("whiteout in the second layer not applied")
			}
		})
	}
}

func TestLayerCannotWriteThroughLink(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	first := mkTar(t, false, []ent{{name: "lib", link: outside, typ: tar.TypeSymlink}})
	second := mkTar(t, false, []ent{{name: "lib/evil.so", body: "x", typ: tar.TypeReg}})
	layout := t.TempDir()
	os.WriteFile(filepath.Join(layout, "l1.tar"), first, 0o644)
	os.WriteFile(filepath.Join(layout, "l2.tar"), second, 0o644)
	os.WriteFile(filepath.Join(layout, "manifest.json"), []byte(`[{"Layers":["l1.tar","l2.tar"]}]`), 0o644)
	gaps, err := extract.Flatten(layout, dir, extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(outside, "evil.so")); err == nil {
		t.Fatal("a later layer wrote through an earlier layer's symlink")
	}
	if len(gaps) != 1 || !strings.Contains(gaps[0].Reason, "below a symlink") {
		t.Errorf("gaps = %v", gaps)
	}
}

// TestTarTrailingData checks that data after a tar archive's end (another
// archive appended in the same stream) is a gap, not silently dropped,
// while the zero padding tar writes is not.
func TestTarTrailingData(t *testing.T) {
	one := mkTar(t, true, []ent{{name: "a", body: "x", typ: tar.TypeReg}})
	two := append(bytes.Clone(one), mkTar(t, true, []ent{{name: "b", body: "y", typ: tar.TypeReg}})...)
	for name, c := range map[string]struct {
		data []byte
		gaps int
	}{"one archive": {one, 0}, "two appended": {two, 1}} {
		gaps, err := extract.Tar(bytes.NewReader(c.data), t.TempDir(), extract.DefaultLimits())
		if err != nil || len(gaps) != c.gaps {
			t.Errorf("%s: gaps %+v, %v; want %d", name, gaps, err, c.gaps)
		}
	}
}
