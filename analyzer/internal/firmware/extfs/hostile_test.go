package extfs

import (
	"bytes"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// exercise opens b and, if it is accepted, walks everything (see
// imgtest.WalkAll) within bounds per file, in total and in entries.
// Errors are expected; panics and hangs are not.
func exercise(t testing.TB, b []byte) {
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	f.Kind()
	imgtest.WalkAll(t, f, imgtest.Limits{File: 1 << 20, Total: 4 << 20, Entries: 5000})
}

// TestTruncations opens each image cut at many lengths.
func TestTruncations(t *testing.T) {
	for _, fx := range fixtures {
		img := loadImage(t, fx.name)
		step := max(len(img)/200, 1)
		for n := 0; n < len(img); n += step {
			exercise(t, img[:n])
		}
		for n := 1000; n < 8192 && n < len(img); n += 24 {
			exercise(t, img[:n])
		}
	}
}

// TestCorruptions changes single bytes of the metadata of small images:
// no panic, no hang.
func TestCorruptions(t *testing.T) {
	stride, budget := 13, 1500*time.Millisecond // per image
	if testing.Short() {
		budget = 300 * time.Millisecond
	}
	for _, name := range []string{"ext2-rev0", "ext4-inline", "ext4", "ext4-deep", "ext4-htree"} {
		img := loadImage(t, name)
		f := openImage(t, img)
		// The superblock, descriptors, bitmaps and inode tables, then
		// directory and extent blocks: the first 64 blocks cover them.
		end := min(len(img), int(64*f.blockSize))
		bad := slices.Clone(img)
		start := time.Now()
		n := 0
		for off := 1024; off < end && time.Since(start) < budget; off += stride {
			n++
			for _, v := range []byte{0x00, 0xff, img[off] ^ 0x81} {
				bad[off] = v
				exercise(t, bad)
			}
			bad[off] = img[off]
		}
		t.Logf("%s: %d of %d offsets in %v", name, n, (end-1024)/stride, time.Since(start))
	}
}

// TestHostileGeometry feeds superblocks with extreme values.
func TestHostileGeometry(t *testing.T) {
	img := loadImage(t, "ext4")
	fields := []int{0x00, 0x04, 0x14, 0x18, 0x1C, 0x20, 0x28, 0x58, 0x5C, 0x60, 0x64, 0xFE, 0x104, 0x150}
	for _, off := range fields {
		for _, v := range []uint32{0, 1, 2, 7, 0x80, 0xffff, 0x10000, 0x7fffffff, 0xffffffff} {
			bad := slices.Clone(img)
			le.PutUint32(bad[superblockOff+off:], v)
			exercise(t, bad)
		}
	}
}

// TestTruncatedImage opens an image cut short: what lies inside reads,
// what lies beyond fails with an error.
func TestTruncatedImage(t *testing.T) {
	img := loadImage(t, "ext4")
	f := openImage(t, img[:96<<10])
	if f.Size() != int64(len(img)) {
		t.Errorf("Size() = %d, want the declared %d", f.Size(), len(img))
	}
	if _, err := f.ReadDir("opt/netwarden/bin"); err != nil {
		t.Fatal(err)
	}
	_, err := fs.ReadFile(f, "opt/netwarden/bin/random.bin")
	if err == nil || !strings.Contains(err.Error(), "beyond the end of the image") {
		t.Errorf("reading past the end: %v", err)
	}
}

// TestSymlinkLoop makes "lib" point at itself.
func TestSymlinkLoop(t *testing.T) {
	img := patchInode(t, loadImage(t, "ext4"), "lib", func(raw []byte) {
		le.PutUint32(raw[0x04:], 3)
		copy(raw[0x28:], "lib\x00")
	})
	f := openImage(t, img)
	if target, err := f.ReadLink("lib"); err != nil || target != "lib" {
		t.Fatalf("ReadLink = %q, %v", target, err)
	}
	if _, err := f.Stat("lib"); err == nil || !strings.Contains(err.Error(), "too many levels") {
		t.Errorf("Stat through a symlink loop: %v", err)
	}
}

// TestDamagedDirectory breaks a record length in the middle of a
// directory: ReadDir returns the entries before it and an error.
func TestDamagedDirectory(t *testing.T) {
	img := loadImage(t, "ext4")
	f := openImage(t, img)
	_, etc, err := f.walk("etc", false)
	if err != nil {
		t.Fatal(err)
	}
	blk := firstBlock(t, f, etc)
	bad := slices.Clone(img)
	i := bytes.Index(bad[blk:blk+f.blockSize], []byte("hostname"))
	if i < 8 {
		t.Fatal("entry for hostname not found")
	}
	le.PutUint16(bad[blk+int64(i)-4:], 3) // record length
	ents, err := openImage(t, bad).ReadDir("etc")
	if err == nil || !strings.Contains(err.Error(), "record length 3") {
		t.Errorf("error %v", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if !slices.Contains(names, "base.link") || slices.Contains(names, "hostname") {
		t.Errorf("entries %q, want those before hostname", names)
	}
}
