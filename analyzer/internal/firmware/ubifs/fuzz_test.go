package ubifs

import (
	"bytes"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// FuzzOpen opens arbitrary images and reads everything in them, with Read
// and ReadAt: it must never panic or hang.
func FuzzOpen(f *testing.F) {
	f.Add(imgtest.Load(f, "testdata/tiny.ubifs.gz"))
	f.Add(imgtest.Load(f, "testdata/tiny-auth.ubifs.gz"))
	verifyCRC = false
	defer func() { verifyCRC = true }()
	f.Fuzz(func(t *testing.T, b []byte) {
		fsys, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		walkAll(t, fsys)
	})
}

// FuzzPatch overwrites a few bytes of the tiny fixture's used parts (its
// nodes, not the erased space) and reads everything: it steers the fuzzer
// to the metadata that whole-image mutations rarely hit.
func FuzzPatch(f *testing.F) {
	img := imgtest.Load(f, "testdata/tiny.ubifs.gz")
	var used []int
	for i, c := range img {
		if c != 0xff {
			used = append(used, i)
		}
	}
	f.Add(uint32(0), []byte{0})
	f.Add(uint32(5000), []byte{1, 2, 3, 4})
	verifyCRC = false
	defer func() { verifyCRC = true }()
	f.Fuzz(func(t *testing.T, at uint32, patch []byte) {
		b := bytes.Clone(img)
		copy(b[used[int(at)%len(used)]:], patch)
		fsys, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		walkAll(t, fsys)
	})
}
