package inventory

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
)

// TestNarrowedCatalogersSeeMarkedFilesOnly catalogs a tree holding a Go
// binary (this test's own) twice: unmarked, Syft's Go cataloger is not
// shown it and finds nothing; marked with the Go build info marker, it
// finds the binary's modules as Syft's own cataloger names them.
func TestNarrowedCatalogersSeeMarkedFilesOnly(t *testing.T) {
	root := t.TempDir()
	body := addGoTool(t, root)
	ctx := context.Background()
	tree, err := fstree.Dir(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	goBit := slices.IndexFunc(Markers(), func(m []byte) bool { return bytes.Equal(m, []byte("\xff Go buildinf:")) })
	if goBit < 0 || !bytes.Contains(body, Markers()[goBit]) {
		t.Fatalf("marker %d: the Go binary must hold the Go marker", goBit)
	}
	mimes := map[string]string{"/usr/bin/gotool": "application/x-executable"}
	catalog := func(marks map[string]uint64) string {
		types := NewTypes()
		types.Set(mimes, marks)
		res, err := CatalogTree(ctx, "t", tree, types, nil)
		if err != nil {
			t.Fatal(err)
		}
		var found []string
		for _, p := range res.SBOM.Artifacts.Packages.Sorted() {
			found = append(found, p.FoundBy+" "+p.Name)
		}
		return strings.Join(found, "\n")
	}
	if got := catalog(nil); got != "" {
		t.Errorf("unmarked binary catalogued:\n%s", got)
	}
	got := catalog(map[string]uint64{"/usr/bin/gotool": 1 << goBit})
	if !strings.Contains(got, "go-module-binary-cataloger stdlib") {
		t.Errorf("marked Go binary: packages\n%s\nwant its standard library, found by go-module-binary-cataloger", got)
	}
	// Another cataloger's marker shows the file to that cataloger only.
	if got := catalog(map[string]uint64{"/usr/bin/gotool": 1 << (goBit + 2)}); strings.Contains(got, "go-module") {
		t.Errorf("binary marked for another cataloger reached the Go cataloger:\n%s", got)
	}
}

// addGoTool copies this test's own executable, a Go binary, to
// usr/bin/gotool under root and returns its bytes.
func addGoTool(t *testing.T, root string) []byte {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(root, "usr", "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "usr", "bin", "gotool"), body, 0o755); err != nil {
		t.Fatal(err)
	}
	return body
}
