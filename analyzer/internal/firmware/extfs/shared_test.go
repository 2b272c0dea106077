package extfs

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDirectoryNamedTwiceRefused points the root's entry "usr" at the
// inode of "etc", which the root also lists: its ".." still names the
// root, but each level of a crafted image could multiply the next.
func TestDirectoryNamedTwiceRefused(t *testing.T) {
	img, err := os.ReadFile(filepath.Join("testdata", "ext4.img"))
	if err != nil {
		t.Fatal(err)
	}
	f := openImage(t, img)
	_, etc, err := f.walk("etc", false)
	if err != nil {
		t.Fatal(err)
	}
	// A directory entry: inode u32, record length u16, name length u8,
	// file type u8 (2: directory), name.
	usr := []byte("\x03\x02usr")
	i := bytes.Index(img, usr)
	if i < 6 || bytes.Count(img, usr) != 1 {
		t.Fatal("the root's entry for usr was not found once")
	}
	patched := bytes.Clone(img)
	binary.LittleEndian.PutUint32(patched[i-6:], etc.ino)

	g := openImage(t, patched)
	ents, err := g.ReadDir(".")
	if err == nil || !strings.Contains(err.Error(), `"etc" and "usr" name one directory`) {
		t.Errorf("ReadDir(.) err = %v, want the second name refused", err)
	}
	for _, e := range ents {
		if e.Name() == "usr" {
			t.Error("usr is still listed")
		}
	}
	if len(ents) < 3 {
		t.Errorf("entries %v, want the others kept", ents)
	}
}
