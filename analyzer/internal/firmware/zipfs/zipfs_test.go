package zipfs

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// open is Open with the shape imgtest's helpers take; refused entries are
// checked by the tests that make them.
func open(r io.ReaderAt, size int64) (*FS, error) {
	fsys, _, err := Open(r, size)
	return fsys, err
}

func openFixture(t *testing.T) (*FS, []byte) {
	t.Helper()
	data, err := os.ReadFile("testdata/tree.zip")
	if err != nil {
		t.Fatal(err)
	}
	fsys, refused, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil || len(refused) > 0 {
		t.Fatalf("Open = %v, refused %+v", err, refused)
	}
	return fsys, data
}

// TestFixture reads the archive the real zip wrote: every entry as the
// source tree had it, stored and deflated files, links resolved inside
// the archive, and the fs.FS contract.
func TestFixture(t *testing.T) {
	fsys, _ := openFixture(t)
	want := imgtest.ReadManifest(t, "testdata/tree.manifest")
	imgtest.CheckManifest(t, fsys, "0", want)
	if err := fstest.TestFS(fsys, imgtest.Files(want)...); err != nil {
		t.Error(err)
	}
	imgtest.CheckTreeLinks(t, fsys)
	imgtest.CheckConcurrentReads(t, fsys, want, "usr/lib/libengine.bin", "opt/netwarden/bases/base001.avc")
	for _, p := range imgtest.Files(want) {
		imgtest.CheckRandomAccess(t, fsys, p, imgtest.Boundaries(16<<10, 200000))
	}
}

// entry is one entry of a zip that a test writes.
type entry struct {
	name   string
	body   string
	mode   fs.FileMode // 0 for a regular file
	method uint16
	flags  uint16
	size   uint64 // declared uncompressed size, when not len(body)
	crc    uint32 // declared CRC, when not 0
}

// makeZip writes entries as they are, hostile ones included.
func makeZip(t testing.TB, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		h := &zip.FileHeader{Name: e.name, Method: e.method, Flags: e.flags}
		h.SetMode(e.mode | 0o644)
		if e.mode.IsDir() {
			h.SetMode(e.mode | 0o755)
		}
		if e.method == zip.Deflate && e.size == 0 && e.crc == 0 {
			w, err := zw.CreateHeader(h)
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(w, e.body)
			continue
		}
		// Raw: the declared size and CRC are the test's.
		h.CompressedSize64 = uint64(len(e.body))
		h.UncompressedSize64 = cmpOr(e.size, uint64(len(e.body)))
		h.CRC32 = cmpOr(e.crc, crc32.ChecksumIEEE([]byte(e.body)))
		w, err := zw.CreateRaw(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func cmpOr[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// TestRefused checks that what an extractor could not write faithfully
// is refused with its reason, and that the rest is read.
func TestRefused(t *testing.T) {
	data := makeZip(t,
		entry{name: "ok/a.txt", body: "kept", method: zip.Deflate},
		entry{name: "../evil", body: "x"},
		entry{name: "ok/../../evil2", body: "x"},
		entry{name: "nul\x00name", body: "x"},
		entry{name: "sealed.bin", body: "x", flags: 1},
		entry{name: "bzip2.bin", body: "x", method: 12},
		entry{name: "dup.so", body: "first", method: zip.Deflate},
		entry{name: "dup.so", body: "second", method: zip.Deflate},
		entry{name: "file", body: "x"},
		entry{name: "file/under", body: "x"},
		entry{name: "long.link", body: strings.Repeat("a/", 3000), mode: fs.ModeSymlink},
		entry{name: "fifo", mode: fs.ModeNamedPipe},
		entry{name: "/abs/path.txt", body: "rooted"},
		entry{name: `win\dir\file.txt`, body: "backslashes"},
	)
	fsys, refused, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, r := range refused {
		reasons[r.Path] += r.Reason
	}
	for p, want := range map[string]string{
		"/../evil":        "unsafe entry name",
		"/ok/../../evil2": "unsafe entry name",
		"/nul?name":       "unsafe entry name",
		"/sealed.bin":     "encrypted",
		"/bzip2.bin":      "compression method 12",
		"/dup.so":         "shadowed by a later entry",
		"/file/under":     "parent directory is a file",
		"/long.link":      "symbolic link target too long",
		"/fifo":           "special entry",
	} {
		if !strings.Contains(reasons[p], want) {
			t.Errorf("%s: refused for %q, want %q", p, reasons[p], want)
		}
	}
	if len(refused) != 9 {
		t.Errorf("%d refused, want 9: %+v", len(refused), refused)
	}
	for p, want := range map[string]string{
		"ok/a.txt": "kept", "dup.so": "second", "file": "x",
		"abs/path.txt": "rooted", "win/dir/file.txt": "backslashes",
	} {
		if b, err := fs.ReadFile(fsys, p); err != nil || string(b) != want {
			t.Errorf("%s = %q, %v; want %q", p, b, err, want)
		}
	}
	var names []string
	fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		names = append(names, p)
		return err
	})
	want := []string{".", "abs", "abs/path.txt", "dup.so", "file", "ok", "ok/a.txt", "win", "win/dir", "win/dir/file.txt"}
	if !slices.Equal(names, want) {
		t.Errorf("tree %q, want %q", names, want)
	}
}

// TestBadData checks that an entry whose data disagrees with its header
// fails to read instead of yielding other bytes than it declares.
func TestBadData(t *testing.T) {
	var deflated bytes.Buffer
	{
		zw := zip.NewWriter(&deflated)
		w, _ := zw.Create("x")
		io.WriteString(w, strings.Repeat("payload ", 1000))
		zw.Close()
	}
	raw := deflated.Bytes()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"stored, declared longer", makeZip(t, entry{name: "a", body: "abc", size: 10}), "stored zip entry"},
		{"deflated, CRC wrong", corruptCRC(t, raw), "checksum"},
		{"deflated, declared longer", setSize(t, raw, 9000), "shorter than its declared size"},
		{"deflated, declared shorter", setSize(t, raw, 7000), "longer than its declared size"},
	} {
		fsys, _, err := Open(bytes.NewReader(c.data), int64(len(c.data)))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		var p string
		fs.WalkDir(fsys, ".", func(q string, d fs.DirEntry, _ error) error {
			if d != nil && d.Type().IsRegular() {
				p = q
			}
			return nil
		})
		if _, err := fs.ReadFile(fsys, p); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: read error %v, want %q", c.name, err, c.want)
		}
	}
}

// setSize rewrites the declared uncompressed size of the only entry of a
// zip, in its local and central headers.
func setSize(t *testing.T, data []byte, size uint32) []byte {
	t.Helper()
	out := bytes.Clone(data)
	patched := 0
	for i := 0; i+4 <= len(out); i++ {
		switch string(out[i : i+4]) {
		case "PK\x03\x04":
			binary.LittleEndian.PutUint32(out[i+22:], size)
			patched++
		case "PK\x01\x02":
			binary.LittleEndian.PutUint32(out[i+24:], size)
			patched++
		case "PK\x07\x08":
			binary.LittleEndian.PutUint32(out[i+12:], size)
		}
	}
	if patched != 2 {
		t.Fatalf("patched %d headers", patched)
	}
	return out
}

// corruptCRC flips a bit of the only entry's CRC in its central header
// and data descriptor.
func corruptCRC(t *testing.T, data []byte) []byte {
	t.Helper()
	out := bytes.Clone(data)
	for i := 0; i+4 <= len(out); i++ {
		switch string(out[i : i+4]) {
		case "PK\x01\x02":
			out[i+16] ^= 1
		case "PK\x07\x08":
			out[i+4] ^= 1
		}
	}
	return out
}

func TestRefusesOtherData(t *testing.T) {
	imgtest.CheckRefuses(t, open, imgtest.Foreign(64<<10, "../testdata/rootfs-gzip.sqfs", "../testdata/initrd-newc.cpio"))
}

// TestTruncatedAndCorrupted cuts the fixture at every byte of its
// central directory and a stride through the rest, and flips every byte
// of the central directory and of the local headers: opening and reading
// must neither panic nor hang.
func TestTruncatedAndCorrupted(t *testing.T) {
	_, data := openFixture(t)
	cd := bytes.Index(data, []byte("PK\x01\x02"))
	var cuts []int
	for n := range len(data) + 1 {
		if n >= cd || n%97 == 0 {
			cuts = append(cuts, n)
		}
	}
	walk := func(f *FS, limit int64) { imgtest.WalkAll(t, f, imgtest.Limits{File: limit}) }
	imgtest.WalkCuts(data, cuts, open, func(f *FS) { walk(f, 1<<30) })
	local := map[int]bool{}
	for i := 0; i+4 <= len(data); i++ {
		if string(data[i:i+4]) == "PK\x03\x04" {
			for j := i; j < i+30; j++ {
				local[j] = true
			}
		}
	}
	imgtest.WalkFlips(data, 0xff, func(i int) int64 {
		if i >= cd || local[i] {
			return 1 << 30
		}
		return 0
	}, open, walk)
}
