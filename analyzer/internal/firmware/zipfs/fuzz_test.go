package zipfs

import (
	"bytes"
	"io/fs"
	"os"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// FuzzOpen opens arbitrary archives and walks and reads everything in
// them, with Read and ReadAt; it must never panic or hang.
func FuzzOpen(f *testing.F) {
	data, err := os.ReadFile("testdata/tree.zip")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add(makeZip(f,
		entry{name: "a/b.txt", body: "deflated body deflated body", method: 8},
		entry{name: "l", body: "a/b.txt", mode: fs.ModeSymlink},
		entry{name: "dup", body: "x"},
		entry{name: "dup", body: "y"},
	))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys, _, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		imgtest.WalkAll(t, fsys, imgtest.Limits{File: 1 << 20, Total: 8 << 20, Entries: 10000})
	})
}
