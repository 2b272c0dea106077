package cramfs

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzCramfs opens arbitrary images and walks and reads everything in
// them, with Read and ReadAt; it must never panic or hang.
func FuzzCramfs(f *testing.F) {
	for _, name := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:2048]) // metadata only: quick to mutate
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		walkAll(t, fsys, 1<<20)
	})
}
