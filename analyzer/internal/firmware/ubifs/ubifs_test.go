package ubifs

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/ubi"
)

var compressors = []string{"lzo", "zlib", "zstd", "none", "favor_lzo"}

func fixture(t testing.TB, comp string) []byte {
	return imgtest.Load(t, "testdata/rootfs-"+comp+".ubifs.gz")
}

func openBytes(t testing.TB, b []byte) *FS {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// manifest reads testdata/NAME.manifest.
func manifest(t *testing.T, name string) []string {
	t.Helper()
	return imgtest.ReadManifest(t, "testdata/"+name+".manifest")
}

// TestFixtures reads every mkfs.ubifs fixture and compares every file,
// link and directory with the manifest.
func TestFixtures(t *testing.T) {
	want := manifest(t, "rootfs")
	for _, comp := range compressors {
		t.Run(comp, func(t *testing.T) {
			imgtest.CheckManifest(t, openBytes(t, fixture(t, comp)), "0", want)
		})
	}
	for _, name := range []string{"tiny", "tiny-auth"} {
		t.Run(name, func(t *testing.T) {
			fsys := openBytes(t, imgtest.Load(t, "testdata/"+name+".ubifs.gz"))
			imgtest.CheckManifest(t, fsys, "0", manifest(t, "tiny"))
		})
	}
}

// TestRandomAccess checks ReadAt and Seek on every regular file of every
// fixture: each compressor, holes, authenticated nodes.
func TestRandomAccess(t *testing.T) {
	images := map[string]string{"tiny": "tiny", "tiny-auth": "tiny"}
	for _, comp := range compressors {
		images["rootfs-"+comp] = "rootfs"
	}
	for img, man := range images {
		t.Run(img, func(t *testing.T) {
			fsys := openBytes(t, imgtest.Load(t, "testdata/"+img+".ubifs.gz"))
			for _, p := range imgtest.Files(manifest(t, man)) {
				checkRandomAccess(t, fsys, p)
			}
		})
	}
}

// TestReadAtCache checks that nearby reads reuse the decoded block.
func TestReadAtCache(t *testing.T) {
	for _, comp := range []string{"lzo", "zstd"} {
		imgtest.CheckCached(t, Open, fixture(t, comp), "usr/lib/blob.bin")
	}
}

// TestThroughUBI reads the UBIFS of the UBI fixtures' "rootfs" volumes
// through the ubi package.
func TestThroughUBI(t *testing.T) {
	for img, man := range map[string]string{"rootfs.ubi": "rootfs", "tiny.ubi": "tiny"} {
		b := imgtest.Load(t, "../ubi/testdata/"+img+".gz")
		im, err := ubi.Open(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, v := range im.Volumes() {
			if v.Name != "rootfs" {
				continue
			}
			found = true
			fsys, err := Open(v.ReaderAt(), v.Size())
			if err != nil {
				t.Fatalf("%s: %v", img, err)
			}
			imgtest.CheckManifest(t, fsys, "0", manifest(t, man))
		}
		if !found {
			t.Errorf("%s: no rootfs volume", img)
		}
	}
}

// TestDetails checks stat, hard links, modes and errors of path lookups.
func TestDetails(t *testing.T) {
	fsys := openBytes(t, fixture(t, "lzo"))
	a, err := fsys.Stat("opt/netwarden/bin/appinfo.kli")
	if err != nil {
		t.Fatal(err)
	}
	b, err := fsys.Lstat("opt/netwarden/bin/appinfo-link.kli")
	if err != nil {
		t.Fatal(err)
	}
	ia, ib := a.Sys().(*Inode), b.Sys().(*Inode)
	if ia.Ino != ib.Ino || ia.Nlink != 2 || a.Name() != "appinfo.kli" || a.Mode() != 0o644 {
		t.Errorf("hard link: %+v %+v, name %q mode %v", ia, ib, a.Name(), a.Mode())
	}
	if fi, err := fsys.Lstat("lib"); err != nil || fi.Mode().Type() != fs.ModeSymlink {
		t.Errorf("lstat lib: %v %v", fi, err)
	}
	if fi, err := fsys.Stat("."); err != nil || !fi.IsDir() || fi.Name() != "." {
		t.Errorf("stat .: %v %v", fi, err)
	}
	for _, tc := range []struct {
		op, name string
		want     error
	}{
		{"open", "nope", fs.ErrNotExist},
		{"open", "etc/hostname/x", errNotDir},
		{"open", "/etc", fs.ErrInvalid},
		{"open", "etc/localtime", fs.ErrNotExist}, // dangling
		{"open", "var/loop1", nil},
		{"readlink", "etc/hostname", errNotSymlink},
		{"readdir", "etc/hostname", errNotDir},
	} {
		var err error
		switch tc.op {
		case "open":
			_, err = fsys.Open(tc.name)
		case "readlink":
			_, err = fsys.ReadLink(tc.name)
		case "readdir":
			_, err = fsys.ReadDir(tc.name)
		}
		if tc.want == nil {
			if err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
				t.Errorf("%s %s: %v, want a symlink loop", tc.op, tc.name, err)
			}
		} else if !errors.Is(err, tc.want) {
			t.Errorf("%s %s: %v, want %v", tc.op, tc.name, err, tc.want)
		}
	}
	// Symbolic links are followed by Open, Stat and ReadDir, within the
	// file system.
	for name, want := range map[string]string{
		"lib/sub/libfixture.so": "library fixture\n",
		"var/up":                "netwarden\n",
	} {
		if b, err := fs.ReadFile(fsys, name); err != nil || string(b) != want {
			t.Errorf("read %s: %q, %v", name, b, err)
		}
	}
	if fi, err := fsys.Stat("lib"); err != nil || !fi.IsDir() {
		t.Errorf("stat lib: %v, %v", fi, err)
	}
	if ents, err := fsys.ReadDir("lib"); err != nil || len(ents) != 2 {
		t.Errorf("readdir lib: %v, %v", ents, err)
	}
	d, err := fsys.Open("opt")
	if err != nil {
		t.Fatal(err)
	}
	ents, err := d.(fs.ReadDirFile).ReadDir(1)
	if err != nil || len(ents) != 1 || ents[0].Name() != "netwarden" {
		t.Errorf("ReadDir(1) = %v, %v", ents, err)
	}
	if _, err := d.(fs.ReadDirFile).ReadDir(1); err != io.EOF {
		t.Errorf("second ReadDir(1): %v, want EOF", err)
	}
}

// TestFSConformance runs testing/fstest over the directories of a
// fixture without dangling or looping symbolic links (which fstest
// rejects by design).
func TestFSConformance(t *testing.T) {
	fsys := openBytes(t, fixture(t, "zstd"))
	for dir, file := range map[string]string{"usr": "lib/blob.bin", "a": "b/c/d/deep.txt", "dev": "console", "opt": "netwarden/bin/appinfo.kli"} {
		sub, err := fs.Sub(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := fstest.TestFS(sub, file); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

// TestNotUBIFS checks that Open refuses other data.
func TestNotUBIFS(t *testing.T) {
	others := imgtest.Foreign(1<<20, "../testdata/rootfs-gzip.sqfs", "../testdata/rootfs-ext4.img")
	others["bad superblock CRC"] = fixture(t, "lzo")
	others["bad superblock CRC"][100] ^= 1
	others["no master"] = fixture(t, "lzo")
	lebSize := 126976
	clear(others["no master"][lebSize : 3*lebSize])
	others["ubi"] = imgtest.Load(t, "../ubi/testdata/rootfs.ubi.gz")
	imgtest.CheckRefuses(t, Open, others)
}

// reseal recomputes the CRC of the node at b.
func reseal(b []byte) {
	n := int(uint32(b[16]) | uint32(b[17])<<8 | uint32(b[18])<<16 | uint32(b[19])<<24)
	c := ubifsCRC(b[8:n])
	b[4], b[5], b[6], b[7] = byte(c), byte(c>>8), byte(c>>16), byte(c>>24)
}

// inodeOf returns the image bytes of the inode node of path name.
func inodeOf(t *testing.T, img []byte, name string) []byte {
	t.Helper()
	fsys := openBytes(t, img)
	fi, err := fsys.Lstat(name)
	if err != nil {
		t.Fatal(err)
	}
	l := fsys.inodes[fi.Sys().(*Inode).Ino]
	return img[int(l.lnum)*int(fsys.sb.lebSize)+int(l.offs):]
}

// TestEncrypted marks a file, a directory and a symlink encrypted: each
// call on them fails clearly, the rest still reads.
func TestEncrypted(t *testing.T) {
	img := fixture(t, "zlib")
	for _, name := range []string{"etc/hostname", "usr/lib/sub", "lib"} {
		node := inodeOf(t, img, name)
		node[108] |= cryptFlag
		reseal(node)
	}
	fsys := openBytes(t, img)
	if _, err := fsys.Open("etc/hostname"); err == nil || !strings.Contains(err.Error(), "fscrypt") {
		t.Errorf("open: %v", err)
	}
	if _, err := fsys.ReadDir("usr/lib/sub"); err == nil || !strings.Contains(err.Error(), "fscrypt") {
		t.Errorf("readdir: %v", err)
	}
	if _, err := fsys.ReadLink("lib"); err == nil || !strings.Contains(err.Error(), "fscrypt") {
		t.Errorf("readlink: %v", err)
	}
	if _, err := fsys.Open("opt/netwarden/bases/base001.avc"); err != nil {
		t.Error(err)
	}
}

// TestJournalRefs adds a reference node to the log after the commit start
// node: the file system still opens (from its index) and reports the bud.
func TestJournalRefs(t *testing.T) {
	img := fixture(t, "lzo")
	if n := openBytes(t, img).JournalRefs; n != 0 {
		t.Fatalf("mkfs.ubifs output: %d journal refs", n)
	}
	ref := make([]byte, 64)
	copy(ref, []byte{0x31, 0x18, 0x10, 0x06})
	ref[8] = 0xff // sqnum above the commit start node's
	ref[9] = 0xff
	ref[16] = 64
	ref[20] = refNode
	ref[24] = 12 // bud LEB
	reseal(ref)
	lebSize := 126976
	copy(img[3*lebSize+32:], ref)
	fsys := openBytes(t, img)
	if fsys.JournalRefs != 1 {
		t.Errorf("%d journal refs, want 1", fsys.JournalRefs)
	}
	if _, err := fs.ReadFile(fsys, "etc/hostname"); err != nil {
		t.Error(err)
	}
}

// TestCorruptData breaks one data node of the big file: reading it fails
// at that block, with the node's position; other files read.
func TestCorruptData(t *testing.T) {
	img := fixture(t, "lzo")
	fsys := openBytes(t, img)
	fi, err := fsys.Stat("usr/lib/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	refs := fsys.data[fi.Sys().(*Inode).Ino]
	l := refs[5].at
	img[int(l.lnum)*int(fsys.sb.lebSize)+int(l.offs)+60] ^= 0xff
	fsys = openBytes(t, img)
	f, err := fsys.Open("usr/lib/blob.bin")
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, f)
	if err == nil || n != 5*blockSize || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("read %d bytes, err %v", n, err)
	}
	// ReadAt fails across the broken block and reads past it.
	buf := make([]byte, 100)
	if n, err := f.(io.ReaderAt).ReadAt(buf, 6*blockSize-50); n != 0 || err == nil || !strings.Contains(err.Error(), "CRC") {
		t.Errorf("ReadAt of the broken block: %d bytes, err %v", n, err)
	}
	if n, err := f.(io.ReaderAt).ReadAt(buf, 5*blockSize-50); n != 50 || err == nil {
		t.Errorf("ReadAt into the broken block: %d bytes, err %v", n, err)
	}
	if n, err := f.(io.ReaderAt).ReadAt(buf, 6*blockSize); n != len(buf) || err != nil {
		t.Errorf("ReadAt after the broken block: %d bytes, err %v", n, err)
	}
	if _, err := fs.ReadFile(fsys, "etc/hostname"); err != nil {
		t.Error(err)
	}
}

// TestDamagedIndex breaks an index node below the root: Open succeeds,
// files under it fail with an error naming the index node, and nothing
// reads as silently missing or empty.
func TestDamagedIndex(t *testing.T) {
	img := fixture(t, "none")
	fsys := openBytes(t, img)
	root, _, err := fsys.readMaster()
	if err != nil {
		t.Fatal(err)
	}
	rb, err := fsys.readNode(root, idxNode)
	if err != nil {
		t.Fatal(err)
	}
	if rb[26] == 0 {
		t.Skip("single-level index")
	}
	// The root's second child.
	p := rb[idxHdrSize+fsys.branchSize:]
	lnum := int(p[0]) | int(p[1])<<8
	offs := int(p[4]) | int(p[5])<<8 | int(p[6])<<16
	img[lnum*int(fsys.sb.lebSize)+offs+30] ^= 0xff
	fsys = openBytes(t, img)
	if len(fsys.damaged) != 1 {
		t.Fatalf("damaged ranges: %v", fsys.damaged)
	}
	failed := 0
	_ = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if !strings.Contains(err.Error(), "index node") {
				t.Errorf("%s: %v", p, err)
			}
			failed++
			return nil
		}
		if d.Type().IsRegular() {
			if _, err := fs.ReadFile(fsys, p); err != nil {
				failed++
			}
		}
		return nil
	})
	if failed == 0 {
		t.Error("no call failed")
	}
}

// TestDirectoryLoop adds a directory entry pointing back at an ancestor:
// ReadDir leaves it out with an error, and lookups through it fail.
func TestDirectoryLoop(t *testing.T) {
	img := fixture(t, "lzo")
	fsys := openBytes(t, img)
	fi, _ := fsys.Stat("a/b/c")
	c := fi.Sys().(*Inode).Ino
	fi, _ = fsys.Stat("a")
	a := fi.Sys().(*Inode).Ino
	// Write a dent node "up" → a in c into the free space at the end of the
	// last LEB.
	name := "up"
	node := make([]byte, dentSize+len(name)+1)
	put32 := func(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }
	put32(node, nodeMagic)
	put32(node[16:], uint32(len(node)))
	node[20] = dentNode
	k := makeKey(c, keyDent, 12345)
	put32(node[24:], k.ino())
	put32(node[28:], uint32(k))
	put32(node[40:], a)
	node[49] = 1 // directory
	node[50] = byte(len(name))
	copy(node[dentSize:], name)
	reseal(node)
	lnum := uint32(len(img)/int(fsys.sb.lebSize) - 1)
	offs := fsys.sb.lebSize - 512
	copy(img[int(lnum)*int(fsys.sb.lebSize)+int(offs):], node)
	fsys = openBytes(t, img)
	fsys.dents[c] = append(fsys.dents[c], loc{lnum: lnum, offs: offs, len: uint32(len(node))})
	if _, err := fsys.ReadDir("."); err != nil {
		t.Fatal(err)
	}
	if _, err := fsys.ReadDir("a"); err != nil {
		t.Fatal(err)
	}
	ents, err := fsys.ReadDir("a/b/c")
	if !errors.Is(err, errLoop) || len(ents) != 1 || ents[0].Name() != "d" {
		t.Errorf("ReadDir: %v, %v", ents, err)
	}
	if _, err := fsys.ReadDir("a/b/c/up/b"); !errors.Is(err, errLoop) {
		t.Errorf("lookup through the loop: %v", err)
	}
}

// walkAll walks fsys, reading up to 1 MiB of each file (see
// imgtest.WalkAll); it must neither panic nor hang.
func walkAll(t testing.TB, fsys *FS) {
	imgtest.WalkAll(t, fsys, imgtest.Limits{File: 1 << 20})
}

// TestHostile truncates a fixture at many offsets and flips bytes in its
// nodes: nothing may panic or hang.
func TestHostile(t *testing.T) {
	for _, comp := range []string{"lzo", "zlib", "zstd"} {
		orig := fixture(t, comp)
		// The used part of each LEB, where flips matter.
		var used []int
		for i, c := range orig {
			if c != 0xff {
				used = append(used, i)
			}
		}
		for n := 0; n < len(orig); n += len(orig) / 150 {
			if fsys, err := Open(bytes.NewReader(orig[:n]), int64(n)); err == nil {
				walkAll(t, fsys)
			}
		}
		rng := rand.New(rand.NewPCG(3, 4))
		for range 300 {
			b := bytes.Clone(orig)
			for range 1 + rng.IntN(3) {
				b[used[rng.IntN(len(used))]] ^= byte(1 + rng.IntN(255))
			}
			if fsys, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
				walkAll(t, fsys)
			}
		}
	}
}
