package cramfs

import (
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// checkRandomAccess checks ReadAt and Seek on the regular file name of f
// (see imgtest.CheckRandomAccess) around its page boundaries, where its
// data is cut into separately compressed blocks.
func checkRandomAccess(t *testing.T, f *FS, name string) {
	t.Helper()
	e, err := f.lookup("open", name, true)
	if err != nil {
		t.Fatal(err)
	}
	pg, err := f.openData(e.ino)
	if err != nil {
		t.Fatal(err)
	}
	imgtest.CheckRandomAccess(t, f, name, imgtest.Boundaries(pg.bs, pg.size))
}
