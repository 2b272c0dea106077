package arfile

import (
	"bytes"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func FuzzParts(f *testing.F) {
	files, _ := filepath.Glob("testdata/*[ab]")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(archive(member("//", []byte("long_name.tar.gz/\n")), member("/0", []byte("x")), member("#1/3", []byte("abcd"))))
	f.Fuzz(func(t *testing.T, b []byte) {
		Is(b)
		r := bytes.NewReader(b)
		parts, _ := Parts(r, int64(len(b)))
		for _, p := range parts {
			if p.Offset < 0 || p.Size < 0 || p.Offset+p.Size > int64(len(b)) {
				t.Fatalf("part %+v outside input of %d bytes", p, len(b))
			}
			io.Copy(sha256.New(), io.NewSectionReader(r, p.Offset, p.Size))
		}
	})
}
