package jffs2

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

var fixtures = []string{"rootfs-le.jffs2", "rootfs-be.jffs2", "rootfs-rtime.jffs2", "rootfs-lzo-be.jffs2",
	"rootfs-none.jffs2", "rootfs-pad.jffs2", "rootfs-nocm-be.jffs2", "rootfs-summary.jffs2"}

// readManifest reads testdata/tree.manifest, the tree of every fixture.
func readManifest(t *testing.T) []string {
	t.Helper()
	return imgtest.ReadManifest(t, "testdata/tree.manifest")
}

func openFixture(t testing.TB, name string) (*FS, []byte) {
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
	want := readManifest(t)
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			f, _ := openFixture(t, name)
			imgtest.CheckManifest(t, f, "0", want)
			if n := f.CorruptNodes(); n != 0 {
				t.Errorf("%d corrupt nodes", n)
			}
			if err := fstest.TestFS(f, "opt/netwarden/bases/base001.avc", "usr/lib/libengine.bin", "lib"); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRandomAccess checks ReadAt and Seek on every regular file of every
// fixture: each compressor, both byte orders, padding and summaries.
func TestRandomAccess(t *testing.T) {
	files := imgtest.Files(readManifest(t))
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			f, _ := openFixture(t, name)
			for _, p := range files {
				checkRandomAccess(t, f, p)
			}
		})
	}
}

// TestReadAtCache checks that nearby reads reuse the decompressed node.
func TestReadAtCache(t *testing.T) {
	for _, name := range []string{"rootfs-le.jffs2", "rootfs-lzo-be.jffs2"} {
		_, data := openFixture(t, name)
		imgtest.CheckCached(t, Open, data, "usr/lib/libengine.bin")
	}
}

func TestFollowsLinks(t *testing.T) {
	f, _ := openFixture(t, "rootfs-le.jffs2")
	imgtest.CheckTreeLinks(t, f)
}

func TestConcurrentReads(t *testing.T) {
	f, _ := openFixture(t, "rootfs-be.jffs2")
	imgtest.CheckConcurrentReads(t, f, readManifest(t),
		"usr/lib/libengine.bin", "usr/share/sparse.bin", "opt/netwarden/bases/base001.avc")
}

func TestRefusesOtherData(t *testing.T) {
	imgtest.CheckRefuses(t, Open, imgtest.Foreign(64<<10,
		"../testdata/rootfs-gzip.sqfs", "../testdata/rootfs-ext4.img", "../testdata/initrd-newc.cpio"))
}

// walkAll walks f, reading up to limit bytes of each file (see
// imgtest.WalkAll); it must neither panic nor hang.
func walkAll(t testing.TB, f *FS, limit int64) {
	imgtest.WalkAll(t, f, imgtest.Limits{File: limit})
}

func TestTruncated(t *testing.T) {
	for _, name := range []string{"rootfs-le.jffs2", "rootfs-lzo-be.jffs2", "rootfs-nocm-be.jffs2", "rootfs-summary.jffs2"} {
		_, data := openFixture(t, name)
		imgtest.WalkCuts(data, truncations(len(data)), Open, func(f *FS) { walkAll(t, f, 1<<30) })
	}
}

// truncations lists cut points: every fourth byte of the first 2 KiB,
// then a stride through the rest.
func truncations(size int) []int {
	var out []int
	for n := 0; n < size; n++ {
		if n < 2048 && n%4 == 1 || n%509 == 0 {
			out = append(out, n)
		}
	}
	return out
}

// TestCorrupted flips bytes through the first nodes (reading the first
// 8 KiB of each file) and a sample of the rest (reading all).
func TestCorrupted(t *testing.T) {
	for _, fx := range []struct {
		name string
		meta int // bytes flipped one by one
		xor  byte
	}{{"rootfs-le.jffs2", 1024, 0xff}, {"rootfs-nocm-be.jffs2", 1024, 0x01}} {
		_, orig := openFixture(t, fx.name)
		limit := func(i int) int64 {
			switch {
			case i < fx.meta:
				return 8 << 10
			case i%509 == 0:
				return 1 << 30
			}
			return 0
		}
		imgtest.WalkFlips(orig, fx.xor, limit, Open, func(f *FS, limit int64) { walkAll(t, f, limit) })
	}
}
