package ubi

import (
	"bytes"
	"testing"
)

// FuzzOpen opens arbitrary images and reads every volume: it must never
// panic or hang.
func FuzzOpen(f *testing.F) {
	f.Add(fixture(f, "tiny.ubi"))
	f.Add(fixture(f, "small.ubi"))
	verifyCRC = false
	defer func() { verifyCRC = true }()
	f.Fuzz(func(t *testing.T, b []byte) {
		im, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		readAll(im)
	})
}
