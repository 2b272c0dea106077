package firmware

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// TestFlashFilesystems unpacks the UBI, UBIFS (mkfs.ubifs and ubinize,
// committed gzip-compressed), cramfs and JFFS2 fixtures down to the
// fixture tree.
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
		{"cramfs/testdata/rootfs-le.cramfs", []string{"cramfs"}},
		{"cramfs/testdata/rootfs-be.cramfs", []string{"cramfs"}},
		{"cramfs/testdata/rootfs-pad-be.cramfs", []string{"cramfs"}},
		{"cramfs/testdata/rootfs-holes.cramfs", []string{"cramfs"}},
		{"cramfs/testdata/b16.cramfs", []string{"cramfs"}},
		{"jffs2/testdata/rootfs-le.jffs2", []string{"jffs2"}},
		{"jffs2/testdata/rootfs-be.jffs2", []string{"jffs2"}},
		{"jffs2/testdata/rootfs-lzo-be.jffs2", []string{"jffs2"}},
		{"jffs2/testdata/rootfs-rtime.jffs2", []string{"jffs2"}},
		{"jffs2/testdata/rootfs-none.jffs2", []string{"jffs2"}},
		{"jffs2/testdata/rootfs-summary.jffs2", []string{"jffs2"}},
		{"jffs2/testdata/rootfs-nocm-be.jffs2", []string{"jffs2"}},
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
				for _, p := range []string{"opt/netwarden/bases/base001.avc", "base001.avc"} {
					b, err := os.ReadFile(filepath.Join(r.Dir, p))
					if err == nil && string(b) == avcText {
						found = true
					}
				}
			}
			if !found {
				t.Error("base001.avc not unpacked")
			}
		})
	}
}
