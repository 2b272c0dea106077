package firmware

import (
	"bytes"
	"math/rand/v2"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// TestDetectNAND checks that a dump with spare bytes is recognized by its
// geometry, and that data of the same size is not: random bytes, erased
// flash, and the image itself.
func TestDetectNAND(t *testing.T) {
	img := imgtest.Load(t, "ubi/testdata/rootfs.ubi.gz")
	img = img[:len(img)/512*512]
	dump := imgtest.WithSpares(img)
	if g, ok := detectNAND(bytes.NewReader(dump), int64(len(dump))); !ok || g.format() != "nand-512+16" {
		t.Errorf("dump: %+v, %v; want nand-512+16", g, ok)
	}
	rnd := make([]byte, len(dump))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	erased := bytes.Repeat([]byte{0xff}, len(dump))
	for name, b := range map[string][]byte{"random": rnd, "erased": erased, "image": img, "empty": nil} {
		if g, ok := detectNAND(bytes.NewReader(b), int64(len(b))); ok {
			t.Errorf("%s: taken for a NAND dump (%s)", name, g.format())
		}
	}
}
