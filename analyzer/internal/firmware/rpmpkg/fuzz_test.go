package rpmpkg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func FuzzOpen(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.rpm")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add(build(hdr(map[uint32]string{tagName: "n", tagSummary: "s", tagPayloadCompressor: "xz"}), []byte("payload")))
	f.Fuzz(func(t *testing.T, b []byte) {
		Is(b)
		p, err := Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if pl := p.Payload; pl.Offset <= 0 || pl.Size <= 0 || pl.Offset+pl.Size != int64(len(b)) {
			t.Fatalf("payload %+v in %d bytes", pl, len(b))
		}
	})
}
