package sqfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen opens arbitrary bytes as an image and walks and reads
// everything it can: no panic, no hang, no read beyond a file's size.
func FuzzOpen(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.sqfs")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		if filepath.Base(p) == "tiny-noi.sqfs" {
			be, err := toBigEndian(b)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(be)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		walkAll(t, fsys, 1<<20)
	})
}
