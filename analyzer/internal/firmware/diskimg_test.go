package firmware

import (
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

func TestExt4Fixture(t *testing.T) {
	dst, layers, gaps, err := unpackInto(t, "testdata/rootfs-ext4.img", extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) > 0 {
		t.Errorf("gaps: %v", gaps)
	}
	if !reflect.DeepEqual(layers, []string{"ext"}) {
		t.Errorf("layers = %v", layers)
	}
	checkTree(t, dst, true)
	if _, err := os.Lstat(filepath.Join(dst, "lost+found")); err != nil {
		t.Errorf("lost+found: %v", err)
	}
}

// TestExt2 reads an ext2 image (no metadata checksums), which go-diskfs
// refuses, with the package's own ext reader.
func TestExt2(t *testing.T) {
	dst, layers, gaps, err := unpackInto(t, "testdata/rootfs-ext2.img", extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(layers, []string{"ext"}) || len(gaps) != 0 {
		t.Errorf("layers %v gaps %v", layers, gaps)
	}
	checkTree(t, dst, true)
}

// ISO 9660 (Rock Ridge) keeps the whole tree, symlink included.
func TestISO9660Fixture(t *testing.T) {
	dst, layers, gaps, err := unpackInto(t, "testdata/rootfs.iso", extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if len(gaps) > 0 || !reflect.DeepEqual(layers, []string{"iso9660"}) {
		t.Errorf("layers %v gaps %v", layers, gaps)
	}
	checkTree(t, dst, false)
}

// FAT has no symlinks; the files and their contents must come through.
func TestFATFixture(t *testing.T) {
	dst, layers, gaps, err := unpackInto(t, "testdata/rootfs-fat.img", extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(layers, []string{"fat"}) {
		t.Errorf("layers = %v", layers)
	}
	for _, g := range gaps {
		t.Logf("gap %s: %s", g.Path, g.Reason)
	}
	if got := readFile(t, filepath.Join(dst, "opt/netwarden/bases/base001.avc")); got != avcText {
		t.Errorf("base001.avc = %q", got)
	}
	if got := readFile(t, filepath.Join(dst, "etc/hostname")); got != "netwarden\n" {
		t.Errorf("hostname = %q", got)
	}
}

func TestDetectDiskImages(t *testing.T) {
	want := map[string]string{
		"rootfs-ext4.img": "ext", "rootfs-ext2.img": "ext", "rootfs.iso": "iso9660", "rootfs-fat.img": "fat",
	}
	for f, w := range want {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(b[:min(len(b), headSize)]); got != w {
			t.Errorf("Detect(%s) = %q, want %q", f, got, w)
		}
	}
	if k := fatKind(mustRead(t, "testdata/rootfs-fat.img")); k != "fat12" {
		t.Errorf("fatKind = %q, want fat12", k)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestDetectRandomNotDisk: random data, even with the bare magic planted,
// is not claimed as ext, iso9660 or fat.
func TestDetectRandomNotDisk(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	b := make([]byte, 64<<10)
	for i := 0; i < 2000; i++ {
		r.Read(b)
		switch i % 4 {
		case 1:
			b[extMagicOff], b[extMagicOff+1] = 0x53, 0xef
		case 2:
			b[510], b[511] = 0x55, 0xaa
		case 3:
			b[510], b[511] = 0x55, 0xaa
			copy(b[0x36:], "FAT12   ")
		}
		switch got := Detect(b); got {
		case fmtExt, fmtISO9660, fmtFAT:
			t.Fatalf("random data %d detected as %q", i, got)
		}
	}
}
