package imgtest

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// RefusesForeign checks that a reader takes none of these inputs:
// random bytes, nothing, the extra inputs given, and each fixture of the
// firmware package's testdata (other formats), read from the calling
// package's directory. is, the reader's detector, must say false, and
// open must fail.
func RefusesForeign[T any](t *testing.T, is func([]byte) bool, open func(io.ReaderAt, int64) (T, error), extra ...[]byte) {
	t.Helper()
	junk := make([]byte, 4096)
	r := rand.New(rand.NewPCG(1, 1))
	for i := range junk {
		junk[i] = byte(r.Uint32())
	}
	inputs := append([][]byte{junk, nil}, extra...)
	others, _ := filepath.Glob("../testdata/*")
	for _, p := range others {
		if b, err := os.ReadFile(p); err == nil {
			inputs = append(inputs, b)
		}
	}
	for i, b := range inputs {
		if is(b) {
			t.Errorf("input %d: taken for this format", i)
		}
		if _, err := open(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("input %d: accepted", i)
		}
	}
}
