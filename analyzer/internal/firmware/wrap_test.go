package firmware

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// TestWrappers unpacks the wrapper fixtures of the sibling packages (made
// by their testdata/make.sh with mkimage, rpmbuild, dpkg-deb, img2simg)
// down to the fixture tree.
func TestWrappers(t *testing.T) {
	cases := []struct {
		file   string
		layers []string
	}{
		{"fit/testdata/embedded.itb", []string{"fit", "gzip", "cpio"}},
		{"fit/testdata/external.itb", []string{"fit", "gzip", "cpio"}},
		{"trx/testdata/v1.trx", []string{"trx", "squashfs"}},
		{"trx/testdata/v2.trx", []string{"trx", "squashfs"}},
		{"sparse/testdata/ext4-4k.simg", []string{"android-sparse", "ext"}},
		{"sparse/testdata/ext4-1k.simg", []string{"android-sparse", "ext"}},
		{"rpmpkg/testdata/fixture-gzip.rpm", []string{"rpm", "gzip", "cpio"}},
		{"rpmpkg/testdata/fixture-zstd.rpm", []string{"rpm", "zstd", "cpio"}},
		{"rpmpkg/testdata/fixture-xz.rpm", []string{"rpm", "xz", "cpio"}},
		{"arfile/testdata/fixture-xz.deb", []string{"ar", "xz", "tar"}},
		{"arfile/testdata/fixture-gzip.deb", []string{"ar", "gzip", "tar"}},
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
			if res.Coverage.Unexamined() != 0 {
				t.Errorf("coverage %+v", res.Coverage)
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

// TestPlainDeviceTree: a device tree that is not a FIT is no firmware of
// its own, and no gap either when carved out of a larger image.
func TestPlainDeviceTree(t *testing.T) {
	_, err := Unpack(context.Background(), "fit/testdata/plain.dtb", t.TempDir(), extract.DefaultLimits())
	if !errors.Is(err, ErrNotFirmware) {
		t.Errorf("err = %v, want ErrNotFirmware", err)
	}
	dtb, _ := os.ReadFile("fit/testdata/plain.dtb")
	ui, _ := os.ReadFile("testdata/uinitrd.img")
	res, err := Unpack(context.Background(), writeTemp(t, append(append([]byte("x"), dtb...), ui...)), t.TempDir(), extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) > 0 || !reflect.DeepEqual(res.Layers(), []string{"uimage", "gzip", "cpio"}) {
		t.Errorf("layers %v gaps %v", res.Layers(), res.Gaps)
	}
}

// TestTRXBadCRC: a TRX whose CRC does not match is still unpacked, and the
// mismatch is a gap.
func TestTRXBadCRC(t *testing.T) {
	b, err := os.ReadFile("trx/testdata/v1.trx")
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0xff
	res, err := Unpack(context.Background(), writeTemp(t, b), t.TempDir(), extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Gaps) == 0 || !reflect.DeepEqual(res.Layers(), []string{"trx", "squashfs"}) {
		t.Errorf("layers %v gaps %v", res.Layers(), res.Gaps)
	}
}

func Test7z(t *testing.T) {
	dst, layers, gaps, err := unpackInto(t, "testdata/rootfs.7z", extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) > 0 || !reflect.DeepEqual(layers, []string{"7z"}) {
		t.Errorf("layers %v gaps %v", layers, gaps)
	}
	checkTree(t, dst, true)
}
