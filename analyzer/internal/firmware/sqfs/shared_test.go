package sqfs

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"strings"
	"testing"
)

// TestSharedDirectoryRefused links the directory a/b a second time, as
// /bin, by pointing the root listing's entry for "bin" at a/b's inode (in
// an image whose directory table is stored uncompressed). A walker must
// not see a/b's tree twice: a crafted image could otherwise link one
// directory from many places and list as an endless tree.
func TestSharedDirectoryRefused(t *testing.T) {
	img := readFixture(t, "tiny-noi.sqfs")
	f := openBytes(t, img)
	if !f.parents {
		t.Fatal("mksquashfs records each directory's parent; recordsParents says it does not")
	}
	ab, err := f.lookup("stat", "a/b", false)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := f.lookup("stat", "bin", false)
	if err != nil {
		t.Fatal(err)
	}
	if ab.ref>>16 != bin.ref>>16 {
		t.Skip("a/b and bin lie in different inode blocks")
	}
	// A listing entry: offset u16, inode number delta i16, type u16, name
	// size - 1 u16, name. The root's entry for the directory "bin":
	entry := binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, typeDir), 2)
	i := bytes.Index(img, append(entry, "bin"...))
	if i < 4 || bytes.Count(img, append(entry, "bin"...)) != 1 {
		t.Fatal("the root listing's entry for bin was not found once")
	}
	patched := bytes.Clone(img)
	binary.LittleEndian.PutUint16(patched[i-4:], uint16(ab.ref))

	g := openBytes(t, patched)
	if _, err := g.ReadDir("bin"); err == nil || !strings.Contains(err.Error(), "names inode") {
		t.Errorf("ReadDir(bin) of a directory linked twice: err = %v, want it refused", err)
	}
	if _, err := g.ReadDir("a/b"); err != nil {
		t.Errorf("ReadDir(a/b), its one true place: %v", err)
	}
	// A walk meets a/b/c once.
	seen := 0
	fs.WalkDir(g, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "/c") {
			seen++
		}
		return nil
	})
	if seen != 1 {
		t.Errorf("the walk met a/b/c %d times, want once", seen)
	}
}

// TestDirectoryNamedTwiceRefused points the root's entry for "bin" at the
// directory "a", which the root also lists: each level of a crafted image
// could otherwise multiply the next while every directory still names its
// true parent.
func TestDirectoryNamedTwiceRefused(t *testing.T) {
	img := readFixture(t, "tiny-noi.sqfs")
	f := openBytes(t, img)
	a, err := f.lookup("stat", "a", false)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := f.lookup("stat", "bin", false)
	if err != nil {
		t.Fatal(err)
	}
	if a.ref>>16 != bin.ref>>16 {
		t.Skip("a and bin lie in different inode blocks")
	}
	entry := append(binary.LittleEndian.AppendUint16(binary.LittleEndian.AppendUint16(nil, typeDir), 2), "bin"...)
	i := bytes.Index(img, entry)
	if i < 4 || bytes.Count(img, entry) != 1 {
		t.Fatal("the root listing's entry for bin was not found once")
	}
	patched := bytes.Clone(img)
	binary.LittleEndian.PutUint16(patched[i-4:], uint16(a.ref))

	g := openBytes(t, patched)
	ents, err := g.ReadDir(".")
	if err == nil || !strings.Contains(err.Error(), `"a" and "bin" name one directory`) {
		t.Errorf("ReadDir(.) err = %v, want the second name refused", err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "a etc" {
		t.Errorf("entries %q, want a and etc", names)
	}
}
