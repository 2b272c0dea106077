package analyzer_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
	"github.com/oemtrace/oemtrace/internal/testutil"
)

// TestNANDDumpWithSpareBytes reads the UBI fixtures (made by ubinize for
// 512-byte pages and 16 KiB erase blocks) and the JFFS2 ones as a NAND
// programmer or nanddump --oob would read them off the chip, spare bytes
// interleaved:
// the geometry is recognized, the pages are read without their spares, and
// the result is that of the image itself.
func TestNANDDumpWithSpareBytes(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "fixtures", "firmware")
	for _, c := range []struct {
		ext, chain string
	}{
		{"ubi.gz", "!nand-512+16!ubi!ubifs:"},
		{"jffs2", "!nand-512+16!jffs2:"},
	} {
		forFixturePair(t, dir, c.ext, strings.HasSuffix(c.ext, ".gz"), func(t *testing.T, path string, tainted bool) {
			img, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// A dump holds whole pages: pad with erased flash.
			for len(img)%512 != 0 {
				img = append(img, 0xff)
			}
			dump := filepath.Join(t.TempDir(), "nand.bin")
			if err := os.WriteFile(dump, imgtest.WithSpares(img), 0o644); err != nil {
				t.Fatal(err)
			}
			rep := analyze(t, dump, analyzer.Config{})
			if f := rep.Inputs[0].Format; f != "nand-512+16" {
				t.Errorf("input format %q, want nand-512+16", f)
			}
			checkFirmwareFixture(t, rep, tainted, []string{c.chain + fwMarker}, 3)
		})
	}
}
