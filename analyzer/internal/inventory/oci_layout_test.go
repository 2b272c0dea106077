package inventory

import (
	"archive/tar"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTar writes entries (name -> content; a trailing "/" makes a
// directory, "->" a symlink) to a new tar file.
func writeTar(t *testing.T, entries [][2]string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "a.tar")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(f)
	for _, e := range entries {
		h := &tar.Header{Name: e[0], Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(e[1]))}
		switch {
		case strings.HasSuffix(e[0], "/"):
			h.Typeflag, h.Size = tar.TypeDir, 0
		case strings.HasPrefix(e[1], "->"):
			h.Typeflag, h.Size, h.Linkname = tar.TypeSymlink, 0, strings.TrimPrefix(e[1], "->")
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e[1])); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

func TestUnpackOCIArchive(t *testing.T) {
	ctx := context.Background()
	good := writeTar(t, [][2]string{
		{"./", ""}, {"./oci-layout", `{"imageLayoutVersion":"1.0.0"}`}, {"./index.json", "{}"},
		{"./blobs/", ""}, {"./blobs/sha256/abc", "x"}, {"./blobs/sha256/link", "->/etc/passwd"}, {"./other", "ignored"},
	})
	dir, err := unpackOCIArchive(ctx, good)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for name, want := range map[string]bool{"oci-layout": true, "index.json": true, "blobs/sha256/abc": true, "blobs/sha256/link": false, "other": false} {
		if _, err := os.Lstat(filepath.Join(dir, name)); (err == nil) != want {
			t.Errorf("%s present=%v, want %v", name, err == nil, want)
		}
	}
	for _, bad := range [][][2]string{
		{{"index.json", "{}"}}, // no oci-layout
		{{"oci-layout", "{}"}, {"../blobs/x", "x"}},
	} {
		if dir, err := unpackOCIArchive(ctx, writeTar(t, bad)); err == nil {
			os.RemoveAll(dir)
			t.Errorf("%v accepted", bad)
		}
	}
}
