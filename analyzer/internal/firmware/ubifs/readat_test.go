package ubifs

import (
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// checkRandomAccess checks ReadAt and Seek on the regular file name of
// fsys (see imgtest.CheckRandomAccess) around its block boundaries, where
// its data is cut into separately stored data nodes.
func checkRandomAccess(t *testing.T, fsys *FS, name string) {
	t.Helper()
	info, err := fsys.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	imgtest.CheckRandomAccess(t, fsys, name, imgtest.Boundaries(blockSize, info.Size()))
}
