package inventory

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureDir is the appliance fixture directory, relative to this package.
const fixtureDir = "../../../fixtures/appliance"

// fixture returns the path of a fixture artefact, skipping the test when it
// is absent.
func fixture(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(fixtureDir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("fixture %s not available: %v", name, err)
	}
	return p
}

// extractFixtures unpacks the named .tar.gz fixtures, in order, into one new
// temporary directory and returns it.
func extractFixtures(tb testing.TB, names ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, n := range names {
		if err := extractTarGz(fixture(tb, n), dir); err != nil {
			tb.Fatalf("extracting %s: %v", n, err)
		}
	}
	return dir
}

// extractTarGz unpacks a gzip-compressed tar into dest. Only directories,
// regular files and symbolic links are accepted. An entry whose name is
// absolute or climbs out of dest is refused, and nothing is ever written
// through a symbolic link: every parent directory must be a real directory
// inside dest, and files are created with O_EXCL. Link targets are stored
// verbatim; absolute targets are meant relative to the root filesystem and
// are resolved inside it by the cataloger.
func extractTarGz(archive, dest string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := extractEntry(tr, h, dest); err != nil {
			return fmt.Errorf("%s: %w", h.Name, err)
		}
	}
}

// extractEntry writes one tar entry below dest.
func extractEntry(r io.Reader, h *tar.Header, dest string) error {
	name := strings.TrimPrefix(filepath.ToSlash(h.Name), "./")
	name = strings.TrimSuffix(name, "/")
	if name == "" || name == "." {
		return nil
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return errors.New("refusing a path outside the destination")
	}
	target := filepath.Join(dest, filepath.FromSlash(name))
	if err := realParents(dest, target); err != nil {
		return err
	}
	switch h.Typeflag {
	case tar.TypeDir:
		if fi, err := os.Lstat(target); err == nil {
			if !fi.IsDir() {
				return errors.New("directory entry over a non-directory")
			}
			return nil
		}
		return os.Mkdir(target, 0o755)
	case tar.TypeReg:
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, os.FileMode(h.Mode)&0o755|0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, r); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	case tar.TypeSymlink:
		return os.Symlink(h.Linkname, target)
	default:
		return fmt.Errorf("unsupported entry type %q", h.Typeflag)
	}
}

// realParents creates the missing parent directories of target below dest
// and checks that none of them is a symbolic link.
func realParents(dest, target string) error {
	rel, err := filepath.Rel(dest, filepath.Dir(target))
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	cur := dest
	for _, part := range strings.Split(rel, string(filepath.Separator)) {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if err := os.Mkdir(cur, 0o755); err != nil {
				return err
			}
		case err != nil:
			return err
		case !fi.IsDir():
			return fmt.Errorf("parent %s is not a directory", cur)
		}
	}
	return nil
}

// TestExtractRefusesEscapes checks the test extractor itself.
func TestExtractRefusesEscapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		hdrs []tar.Header
	}{
		{"dotdot", []tar.Header{{Name: "../evil", Typeflag: tar.TypeReg}}},
		{"absolute", []tar.Header{{Name: "/etc/evil", Typeflag: tar.TypeReg}}},
		{"through symlink", []tar.Header{
			{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/tmp"},
			{Name: "link/evil", Typeflag: tar.TypeReg},
		}},
		{"hardlink", []tar.Header{{Name: "h", Typeflag: tar.TypeLink, Linkname: "x"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest := t.TempDir()
			var err error
			for i := range tc.hdrs {
				if err = extractEntry(strings.NewReader(""), &tc.hdrs[i], dest); err != nil {
					break
				}
			}
			if err == nil {
				t.Fatal("entry accepted")
			}
		})
	}
}
