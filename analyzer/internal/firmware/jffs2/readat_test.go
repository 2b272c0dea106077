package jffs2

import (
	"slices"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// checkRandomAccess checks ReadAt and Seek on the regular file name of f
// (see imgtest.CheckRandomAccess) around the ends of its fragments (nodes,
// zero nodes and holes), where its data is cut into separately stored
// pieces.
func checkRandomAccess(t *testing.T, f *FS, name string) {
	t.Helper()
	e, err := f.lookup("open", name, true)
	if err != nil {
		t.Fatal(err)
	}
	var splits []int64
	for _, fr := range f.openData(e).frags {
		splits = append(splits, fr.start, fr.end)
	}
	// A fragment often starts where the last ended.
	imgtest.CheckRandomAccess(t, f, name, slices.Compact(splits))
}
