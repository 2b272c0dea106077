package cramfs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

var fixtures = []string{"rootfs-le.cramfs", "rootfs-be.cramfs", "rootfs-holes.cramfs", "rootfs-pad-be.cramfs", "b16.cramfs"}

// readManifest reads the manifest of a fixture's tree.
func readManifest(t *testing.T, fixture string) []string {
	t.Helper()
	if fixture == "b16.cramfs" {
		return imgtest.ReadManifest(t, "testdata/b16.manifest")
	}
	return imgtest.ReadManifest(t, "testdata/tree.manifest")
}

func openFixture(t *testing.T, name string) (*FS, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return f, data
}

func TestFixtures(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			want := readManifest(t, name)
			f, _ := openFixture(t, name)
			imgtest.CheckManifest(t, f, "0", want)
			if err := f.CheckCRC(); err != nil {
				t.Errorf("CheckCRC: %v", err)
			}
			if err := fstest.TestFS(f, imgtest.Files(want)...); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRandomAccess checks ReadAt and Seek on every regular file of every
// fixture: plain, big-endian, with holes, after a boot pad, 16 KiB blocks.
func TestRandomAccess(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			f, _ := openFixture(t, name)
			for _, p := range imgtest.Files(readManifest(t, name)) {
				checkRandomAccess(t, f, p)
			}
		})
	}
}

// TestReadAtCache checks that nearby reads reuse the inflated page.
func TestReadAtCache(t *testing.T) {
	_, data := openFixture(t, "rootfs-le.cramfs")
	imgtest.CheckCached(t, Open, data, "usr/lib/libengine.bin")
	_, data = openFixture(t, "b16.cramfs")
	imgtest.CheckCached(t, Open, data, "lib/engine.bin")
}

func TestFollowsLinks(t *testing.T) {
	f, _ := openFixture(t, "rootfs-le.cramfs")
	imgtest.CheckTreeLinks(t, f)
}

func TestConcurrentReads(t *testing.T) {
	f, _ := openFixture(t, "rootfs-be.cramfs")
	imgtest.CheckConcurrentReads(t, f, readManifest(t, "rootfs-be.cramfs"),
		"usr/lib/libengine.bin", "usr/share/sparse.bin", "opt/netwarden/bases/base001.avc")
}

func TestCRCMismatch(t *testing.T) {
	_, data := openFixture(t, "rootfs-le.cramfs")
	data[len(data)/2] ^= 1
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckCRC(); err == nil || !strings.Contains(err.Error(), "CRC mismatch") {
		t.Fatalf("CheckCRC = %v, want a mismatch", err)
	}
}

func TestRefusesOtherData(t *testing.T) {
	imgtest.CheckRefuses(t, Open, imgtest.Foreign(64<<10,
		"../testdata/rootfs-gzip.sqfs", "../testdata/rootfs-ext4.img", "../testdata/initrd-newc.cpio"))
	// A superblock with an unknown feature flag is refused by name.
	_, data := openFixture(t, "rootfs-le.cramfs")
	data[10] |= 0x10 // flags bit 0x100000
	if _, err := Open(bytes.NewReader(data), int64(len(data))); err == nil || !strings.Contains(err.Error(), "unsupported feature") {
		t.Errorf("unknown flag: %v", err)
	}
}

// walkAll walks f, reading up to limit bytes of each file (see
// imgtest.WalkAll), and checks the CRC; it must neither panic nor hang.
func walkAll(t testing.TB, f *FS, limit int64) {
	imgtest.WalkAll(t, f, imgtest.Limits{File: limit})
	f.CheckCRC()
}

func TestTruncated(t *testing.T) {
	for _, name := range fixtures {
		_, data := openFixture(t, name)
		imgtest.WalkCuts(data, truncations(len(data)), Open, func(f *FS) { walkAll(t, f, 1<<30) })
	}
}

// truncations lists cut points: every byte of the first 1 KiB, then a
// stride through the rest.
func truncations(size int) []int {
	var out []int
	for n := 0; n < size; n++ {
		if n < 1024 || n%509 == 0 {
			out = append(out, n)
		}
	}
	return out
}

// TestCorrupted flips every byte of the superblock, the directories and
// the block pointer tables (reading the first pages of each file), and a
// sample of the rest (reading all).
func TestCorrupted(t *testing.T) {
	for _, fx := range []struct {
		name string
		meta [][2]int // ranges of metadata
		xor  byte
	}{
		{"rootfs-le.cramfs", [][2]int{{0, 1024}, {89900, 90100}}, 0xff},
		{"rootfs-pad-be.cramfs", [][2]int{{512, 512 + 1024}}, 0x01},
	} {
		_, orig := openFixture(t, fx.name)
		limit := func(i int) int64 {
			switch {
			case inRanges(i, fx.meta):
				return 3 * pageSize
			case i%509 == 0:
				return 1 << 30
			}
			return 0
		}
		imgtest.WalkFlips(orig, fx.xor, limit, Open, func(f *FS, limit int64) { walkAll(t, f, limit) })
	}
}

func inRanges(i int, ranges [][2]int) bool {
	for _, r := range ranges {
		if i >= r[0] && i < r[1] {
			return true
		}
	}
	return false
}
