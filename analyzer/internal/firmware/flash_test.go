package firmware

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// TestFlashFilesystems unpacks the UBI and UBIFS fixtures (mkfs.ubifs and
// ubinize, committed gzip-compressed) down to the fixture tree.
func TestFlashFilesystems(t *testing.T) {
	cases := []struct {
		file   string
		layers []string
	}{
		{"ubi/testdata/rootfs.ubi.gz", []string{"gzip", "ubi", "ubifs"}},
		{"ubifs/testdata/rootfs-lzo.ubifs.gz", []string{"gzip", "ubifs"}},
		{"ubifs/testdata/rootfs-zlib.ubifs.gz", []string{"gzip", "ubifs"}},
		{"ubifs/testdata/rootfs-zstd.ubifs.gz", []string{"gzip", "ubifs"}},
		{"ubifs/testdata/rootfs-none.ubifs.gz", []string{"gzip", "ubifs"}},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.file), func(t *testing.T) {
			res, err := Unpack(context.Background(), c.file, t.TempDir(), extract.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Gaps) > 0 {
				t.Errorf("gaps: %v", res.Gaps)
			}
			if got := res.Layers(); !reflect.DeepEqual(got, c.layers) {
				t.Errorf("layers = %v, want %v", got, c.layers)
			}
			found := false
			for _, r := range res.Roots {
				b, err := os.ReadFile(filepath.Join(r.Dir, "opt/netwarden/bases/base001.avc"))
				if err == nil && string(b) == avcText {
					found = true
				}
			}
			if !found {
				t.Error("base001.avc not unpacked")
			}
		})
	}
}
