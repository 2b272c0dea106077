package firmware

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// fatLoop returns the FAT12/16 image img with eight entries added to the
// directory dir of its root, each naming that directory itself: every
// level of the tree then holds eight copies of the one below.
func fatLoop(t *testing.T, img []byte, dir string) []byte {
	t.Helper()
	b := bytes.Clone(img)
	le16 := func(off int) int { return int(binary.LittleEndian.Uint16(b[off:])) }
	bps, spc, reserved, fats, rootEntries, fatSize := le16(11), int(b[13]), le16(14), int(b[16]), le16(17), le16(22)
	root := (reserved + fats*fatSize) * bps
	data := root + (rootEntries*32+bps-1)/bps*bps
	name := fmt.Sprintf("%-11s", strings.ToUpper(dir))
	cluster := -1
	for e := root; e < root+rootEntries*32; e += 32 {
		if string(b[e:e+11]) == name && b[e+11]&0x10 != 0 {
			cluster = le16(e + 26)
		}
	}
	if cluster < 2 {
		t.Fatalf("no directory %s in the root", dir)
	}
	at := data + (cluster-2)*spc*bps
	added := 0
	for e := at; e < at+spc*bps && added < 8; e += 32 {
		if b[e] != 0 && b[e] != 0xe5 {
			continue
		}
		copy(b[e:e+11], fmt.Sprintf("LOOP%d      ", added))
		b[e+11] = 0x10
		binary.LittleEndian.PutUint16(b[e+26:], uint16(cluster))
		binary.LittleEndian.PutUint32(b[e+28:], 0)
		added++
	}
	if added < 8 {
		t.Fatal("no room in the directory")
	}
	return b
}

// TestFATDirectoryReachedTwice checks that a FAT directory listed as its
// own child, eight times over, is listed once: each repetition is a gap,
// instead of a tree that multiplies at every level (which took minutes).
func TestFATDirectoryReachedTwice(t *testing.T) {
	img, err := os.ReadFile("testdata/rootfs-fat.img")
	if err != nil {
		t.Fatal(err)
	}
	p := writeTemp(t, fatLoop(t, img, "etc"))
	res, err := Unpack(context.Background(), p, t.TempDir(), extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	wantGap(t, res, "directory already listed at /etc")
}

// TestEntryBound checks the bound that holds when a reader names no
// directory identity: an endless tree stops at the entries the image can
// hold, as a gap.
func TestEntryBound(t *testing.T) {
	endless := &sqfsLib{
		name: "endless",
		readDir: func(string) ([]fs.DirEntry, error) {
			return []fs.DirEntry{dirEntry("a"), dirEntry("b")}, nil
		},
	}
	u := &unpacker{ctx: context.Background()}
	w := extract.NewWriter(t.TempDir(), extract.DefaultLimits())
	u.walkDisk("fat", endless, w, 100)
	gaps := w.Finish()
	if len(gaps) == 0 || !strings.Contains(gaps[len(gaps)-1].Reason, "more entries than the image can hold (100)") {
		t.Errorf("gaps %+v, want the entry bound", gaps)
	}
}

// dirEntry is a directory entry named name.
func dirEntry(name string) fs.DirEntry {
	return fs.FileInfoToDirEntry(dirInfo(name))
}

type dirInfo string

func (d dirInfo) Name() string       { return string(d) }
func (d dirInfo) Size() int64        { return 0 }
func (d dirInfo) Mode() fs.FileMode  { return fs.ModeDir | 0o755 }
func (d dirInfo) ModTime() time.Time { return time.Time{} }
func (d dirInfo) IsDir() bool        { return true }
func (d dirInfo) Sys() any           { return nil }

// TestISODirectoryReachedTwice points the directory record of /etc in an
// ISO 9660 image at the root's extent, so that /etc holds the root, /etc
// among it: the walk lists it once and reports the repetition.
func TestISODirectoryReachedTwice(t *testing.T) {
	b, err := os.ReadFile("testdata/rootfs.iso")
	if err != nil {
		t.Fatal(err)
	}
	const sector = 2048
	root := binary.LittleEndian.Uint32(b[16*sector+156+2:])
	dir := int(root) * sector
	patched := false
	for off := dir; off < dir+sector && b[off] != 0; off += int(b[off]) {
		name := string(b[off+33 : off+33+int(b[off+32])])
		if b[off+25]&2 != 0 && strings.HasPrefix(name, "ETC") {
			binary.LittleEndian.PutUint32(b[off+2:], root)
			binary.BigEndian.PutUint32(b[off+6:], root)
			patched = true
		}
	}
	if !patched {
		t.Fatal("no /etc record in the root directory")
	}
	res, err := Unpack(context.Background(), writeTemp(t, b), t.TempDir(), extract.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	wantGap(t, res, "directory already listed at")
}

// wantGap fails the test unless one of res's gaps gives reason.
func wantGap(t *testing.T, res *Result, reason string) {
	t.Helper()
	for _, g := range res.Gaps {
		if strings.Contains(g.Reason, reason) {
			return
		}
	}
	t.Errorf("gaps %+v, want one for %q", res.Gaps, reason)
}
