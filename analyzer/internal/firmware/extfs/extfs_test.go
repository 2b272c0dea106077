package extfs

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// fixtures are the images testdata/make.sh builds, with the kind each
// must report.
var fixtures = []struct{ name, kind string }{
	{"ext2", "ext2"},
	{"ext2-rev0", "ext2"},
	{"ext3", "ext3"},
	{"ext4", "ext4"},
	{"ext4-4k", "ext4"},
	{"ext4-64k", "ext4"},
	{"ext4-inline", "ext4"},
	{"ext4-htree", "ext4"},
	{"ext4-deep", "ext4"},
}

// loadImage reads testdata/NAME.img or, gunzipped, testdata/NAME.img.gz.
func loadImage(t testing.TB, name string) []byte {
	t.Helper()
	p := filepath.Join("testdata", name+".img")
	if _, err := os.Stat(p); err != nil {
		p += ".gz"
	}
	return imgtest.Load(t, p)
}

func openImage(t testing.TB, b []byte) *FS {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// readManifest reads testdata/NAME.manifest.
func readManifest(t *testing.T, name string) []string {
	t.Helper()
	return imgtest.ReadManifest(t, filepath.Join("testdata", name+".manifest"))
}

// TestFixtures compares every file, symlink and directory of each image
// with what make.sh put in.
func TestFixtures(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			img := loadImage(t, fx.name)
			f := openImage(t, img)
			if got := f.Kind(); got != fx.kind {
				t.Errorf("Kind() = %q, want %q", got, fx.kind)
			}
			if f.Size() != int64(len(img)) || f.NeedsRecovery() {
				t.Errorf("Size() = %d for %d bytes, NeedsRecovery() = %v", f.Size(), len(img), f.NeedsRecovery())
			}
			imgtest.CheckManifest(t, f, "-", readManifest(t, fx.name))
		})
	}
}

// TestFSConformance runs testing/fstest over each image.
func TestFSConformance(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			f := openImage(t, loadImage(t, fx.name))
			var want []string
			for _, l := range readManifest(t, fx.name) {
				want = append(want, strings.Fields(l)[1])
			}
			if err := fstest.TestFS(f, want...); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestHardLink checks that both names of a hard link share an inode.
func TestHardLink(t *testing.T) {
	f := openImage(t, loadImage(t, "ext4"))
	a, err := f.Stat("opt/netwarden/bin/appinfo.kli")
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Stat("opt/netwarden/bin/appinfo-link.kli")
	if err != nil {
		t.Fatal(err)
	}
	ia, ib := a.Sys().(*Inode), b.Sys().(*Inode)
	if ia.Number != ib.Number || ia.Links != 2 {
		t.Errorf("inodes %+v and %+v, want one inode with 2 links", ia, ib)
	}
}

// TestLayouts checks that the fixtures exercise what they are meant to.
func TestLayouts(t *testing.T) {
	inodeOf := func(t *testing.T, f *FS, p string) *inode {
		t.Helper()
		_, in, err := f.walk(p, false)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	t.Run("rev0", func(t *testing.T) {
		f := openImage(t, loadImage(t, "ext2-rev0"))
		if f.inodeSize != 128 || f.incompat&incompatFiletype != 0 {
			t.Errorf("inode size %d, incompat %#x: not revision 0", f.inodeSize, f.incompat)
		}
	})
	t.Run("ext2 double indirect", func(t *testing.T) {
		f := openImage(t, loadImage(t, "ext2"))
		in := inodeOf(t, f, "opt/netwarden/big.dat")
		if in.flags&flagExtents != 0 || le.Uint32(in.iblock[4*13:]) == 0 {
			t.Error("big.dat does not use a double-indirect block")
		}
	})
	t.Run("64-bit descriptors", func(t *testing.T) {
		f := openImage(t, loadImage(t, "ext4"))
		if f.descSize != 64 {
			t.Errorf("descriptor size %d", f.descSize)
		}
		if f.blockSize != 1024 {
			t.Errorf("block size %d", f.blockSize)
		}
	})
	t.Run("4k blocks", func(t *testing.T) {
		f := openImage(t, loadImage(t, "ext4-4k"))
		if f.blockSize != 4096 || f.descSize != 32 {
			t.Errorf("block size %d, descriptor size %d", f.blockSize, f.descSize)
		}
	})
	t.Run("sparse extents", func(t *testing.T) {
		f := openImage(t, loadImage(t, "ext4"))
		in := inodeOf(t, f, "opt/netwarden/sparse.dat")
		if in.flags&flagExtents == 0 || le.Uint16(in.iblock[6:]) == 0 {
			t.Error("sparse.dat has no extent tree of depth > 0")
		}
	})
	t.Run("deep extents", func(t *testing.T) {
		f := openImage(t, loadImage(t, "ext4-deep"))
		if d := le.Uint16(inodeOf(t, f, "deep.dat").iblock[6:]); d != 2 {
			t.Errorf("extent tree depth %d, want 2", d)
		}
	})
	t.Run("htree and meta_bg", func(t *testing.T) {
		f := openImage(t, loadImage(t, "ext4-htree"))
		if f.incompat&incompatMetaBG == 0 || f.groups <= uint64(f.blockSize/f.descSize) {
			t.Errorf("meta_bg %v with %d groups: descriptors fit one block", f.incompat&incompatMetaBG != 0, f.groups)
		}
		const indexed = 0x1000
		if inodeOf(t, f, "many").flags&indexed == 0 {
			t.Error("many/ is not htree-indexed")
		}
		ents, err := f.ReadDir("many")
		if err != nil {
			t.Fatal(err)
		}
		last := uint32(0)
		for _, e := range ents {
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			last = max(last, info.Sys().(*Inode).Number)
		}
		if g := uint64(last-1) / uint64(f.inodesPerGroup); g < uint64(f.blockSize/f.descSize) {
			t.Errorf("last file in group %d, before the second meta group", g)
		}
	})
	t.Run("inline", func(t *testing.T) {
		f := openImage(t, loadImage(t, "ext4-inline"))
		for _, p := range []string{"inline/tiny", "inline/sixty", "inline/mid", "inline/dir", "inline/middir", "etc/base.link"} {
			if inodeOf(t, f, p).flags&flagInlineData == 0 {
				t.Errorf("%s is not inline", p)
			}
		}
		if v, _ := inodeOf(t, f, "inline/mid").inlineValue(); len(v) == 0 {
			t.Error("inline/mid keeps nothing in system.data")
		}
	})
}

// TestConcurrentReads reads every file of an image from many goroutines.
func TestConcurrentReads(t *testing.T) {
	want := readManifest(t, "ext2")
	imgtest.CheckConcurrentReads(t, openImage(t, loadImage(t, "ext2")), want, imgtest.Files(want)...)
}

// TestRandomAccess checks ReadAt and Seek on every regular file of every
// image: block maps, extent trees of each depth, holes, inline data.
func TestRandomAccess(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.name, func(t *testing.T) {
			t.Parallel()
			f := openImage(t, loadImage(t, fx.name))
			for _, p := range imgtest.Files(readManifest(t, fx.name)) {
				imgtest.CheckRandomAccess(t, f, p, runEnds(t, f, p))
			}
		})
	}
	b, err := fs.ReadFile(openImage(t, loadImage(t, "ext4")), "opt/netwarden/sparse.dat")
	if err != nil || bytes.Count(b, []byte{0}) < len(b)/2 {
		t.Errorf("sparse.dat holes did not read as zeros: %v", err)
	}
}

// runEnds returns where the runs of file name end (see mapper): its data
// is contiguous on disk, or a hole, between them.
func runEnds(t *testing.T, f *FS, name string) []int64 {
	t.Helper()
	_, in, err := f.walk(name, true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.newContent(in)
	if err != nil {
		t.Fatal(err)
	}
	if c.m == nil { // inline data: one piece
		return nil
	}
	var ends []int64
	bs := uint64(f.blockSize)
	for lblk := uint64(0); lblk*bs < uint64(c.size); {
		r, err := c.m.lookup(lblk)
		if err != nil {
			t.Fatalf("%s: block %d: %v", name, lblk, err)
		}
		lblk = r.lblk + r.n
		ends = append(ends, int64(lblk*bs))
	}
	return ends
}

// TestNotExt checks that Open refuses what is not an ext image.
func TestNotExt(t *testing.T) {
	sqfs, err := os.ReadFile("testdata/not-ext.sqfs")
	if err != nil {
		t.Fatal(err)
	}
	good := loadImage(t, "ext4")
	random := make([]byte, 1<<16)
	for i, x := 0, uint32(1); i < len(random); i++ {
		x = x*1664525 + 1013904223
		random[i] = byte(x >> 24)
	}
	badMagic := slices.Clone(good)
	badMagic[superblockOff+0x38] ^= 0xff
	hugeGroups := slices.Clone(good)
	le.PutUint32(hugeGroups[superblockOff+0x04:], 0xffffffff) // block count
	le.PutUint32(hugeGroups[superblockOff+0x20:], 8)          // blocks per group
	cases := map[string][]byte{
		"empty":                    nil,
		"random":                   random,
		"squashfs":                 sqfs,
		"zeros":                    make([]byte, 1<<16),
		"bad magic":                badMagic,
		"truncated superblock":     good[:superblockOff+100],
		"superblock only":          good[:superblockOff+superblockSize],
		"groups beyond the image":  hugeGroups,
		"no group descriptors yet": good[:superblockOff+superblockSize+10],
	}
	imgtest.CheckRefuses(t, Open, cases)
}

// patchInode returns a copy of img with inode p's raw bytes changed by
// edit (checksums are not updated; the reader ignores them).
func patchInode(t *testing.T, img []byte, p string, edit func(raw []byte)) []byte {
	t.Helper()
	f := openImage(t, img)
	_, in, err := f.walk(p, false)
	if err != nil {
		t.Fatal(err)
	}
	off := inodeOffset(t, f, in.ino)
	out := slices.Clone(img)
	edit(out[off : off+f.inodeSize])
	return out
}

// firstBlock returns the image offset of the first block of in's data.
func firstBlock(t *testing.T, f *FS, in *inode) int64 {
	t.Helper()
	c, err := f.newContent(in)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.m.lookup(0)
	if err != nil {
		t.Fatal(err)
	}
	return int64(r.pblk) * f.blockSize
}

func inodeOffset(t *testing.T, f *FS, ino uint32) int64 {
	t.Helper()
	g := uint64(ino-1) / uint64(f.inodesPerGroup)
	d, err := f.group(g)
	if err != nil {
		t.Fatal(err)
	}
	return int64(d.inodeTable)*f.blockSize + int64(uint64(ino-1)%uint64(f.inodesPerGroup))*f.inodeSize
}

// TestUninitializedExtent marks the extents of a file uninitialized:
// its content must read as zeros.
func TestUninitializedExtent(t *testing.T) {
	img := patchInode(t, loadImage(t, "ext4-4k"), "opt/netwarden/bin/random.bin", func(raw []byte) {
		root := raw[0x28:]
		if le.Uint16(root[6:]) != 0 {
			t.Fatal("random.bin extent tree is not a leaf")
		}
		for i := range int(le.Uint16(root[2:])) {
			e := root[12*(i+1):]
			le.PutUint16(e[4:], le.Uint16(e[4:])+uninitLen)
		}
	})
	b, err := fs.ReadFile(openImage(t, img), "opt/netwarden/bin/random.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 200000 || bytes.Count(b, []byte{0}) != len(b) {
		t.Errorf("read %d bytes, %d zeros", len(b), bytes.Count(b, []byte{0}))
	}
}

// TestRefusedFlags checks the errors for encrypted and compressed files.
func TestRefusedFlags(t *testing.T) {
	for _, tc := range []struct {
		flag uint32
		want string
	}{{flagEncrypt, "encrypted"}, {flagComprBlk, "compressed"}} {
		img := patchInode(t, loadImage(t, "ext4"), "opt/netwarden/bases/base001.avc", func(raw []byte) {
			le.PutUint32(raw[0x20:], le.Uint32(raw[0x20:])|tc.flag)
		})
		_, err := fs.ReadFile(openImage(t, img), "opt/netwarden/bases/base001.avc")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("flag %#x: error %v, want %q", tc.flag, err, tc.want)
		}
		img = patchInode(t, loadImage(t, "ext4"), "opt/netwarden", func(raw []byte) {
			le.PutUint32(raw[0x20:], le.Uint32(raw[0x20:])|flagEncrypt)
		})
		if _, err := openImage(t, img).ReadDir("opt/netwarden"); err == nil || !strings.Contains(err.Error(), "encrypted") {
			t.Errorf("encrypted directory: error %v", err)
		}
	}
}

// TestDirectoryLoops points directory entries at the root and at the
// directory itself: walks must report errors, not loop.
func TestDirectoryLoops(t *testing.T) {
	img := loadImage(t, "ext4")
	f := openImage(t, img)
	_, sub, err := f.walk("usr/lib/sub", false)
	if err != nil {
		t.Fatal(err)
	}
	_, deeper, err := f.walk("usr/lib/sub/deeper", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, target := range []uint32{rootIno, sub.ino} {
		// Find the "deeper" entry in sub's directory block and retarget it.
		blk := firstBlock(t, f, sub)
		bad := slices.Clone(img)
		i := bytes.Index(bad[blk:blk+f.blockSize], []byte("deeper"))
		if i < 8 || le.Uint32(bad[blk+int64(i)-8:]) != deeper.ino {
			t.Fatal("entry for deeper not found")
		}
		le.PutUint32(bad[blk+int64(i)-8:], target)
		bf := openImage(t, bad)
		n := 0
		err = fs.WalkDir(bf, ".", func(p string, d fs.DirEntry, err error) error {
			if n++; n > 1000 {
				return errors.New("walk does not end")
			}
			return nil
		})
		if err != nil {
			t.Errorf("target %d: %v", target, err)
		}
		if _, err := bf.ReadDir("usr/lib/sub/deeper"); err == nil {
			t.Errorf("target %d: ReadDir through the loop succeeded", target)
		}
	}
}

// TestInlineDirAttribute parses an inline directory whose entries
// continue in the system.data attribute (mke2fs never writes one).
func TestInlineDirAttribute(t *testing.T) {
	f := openImage(t, loadImage(t, "ext4-inline"))
	dirent := func(ino uint32, name string, recLen int) []byte {
		b := make([]byte, recLen)
		le.PutUint32(b, ino)
		le.PutUint16(b[4:], uint16(recLen))
		b[6], b[7] = byte(len(name)), 1
		copy(b[8:], name)
		return b
	}
	iblock := le.AppendUint32(nil, rootIno)
	iblock = append(iblock, dirent(12, "a", 12)...)
	iblock = append(iblock, dirent(13, "b", 44)...)
	value := append(dirent(14, "c", 12), dirent(15, "d", 24)...)
	xattrs := make([]byte, 100)
	xattrs[0], xattrs[1] = 4, xattrIndexSystem
	le.PutUint16(xattrs[2:], 40)
	le.PutUint32(xattrs[8:], uint32(len(value)))
	copy(xattrs[16:], "data")
	copy(xattrs[40:], value)
	in := &inode{ino: 99, mode: modeDir | 0o755, links: 2, flags: flagInlineData, iblock: iblock, xattrs: xattrs}
	d, err := f.readDirList(in)
	if err != nil || d.err != nil {
		t.Fatal(err, d.err)
	}
	var names []string
	for _, e := range d.ents {
		names = append(names, fmt.Sprint(e.name, e.ino))
	}
	if got := strings.Join(names, " "); got != "a12 b13 c14 d15" || d.parent != rootIno {
		t.Errorf("entries %q, parent %d", got, d.parent)
	}
}
