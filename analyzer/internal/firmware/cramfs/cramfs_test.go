package cramfs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
)

var fixtures = []string{"rootfs-le.cramfs", "rootfs-be.cramfs", "rootfs-holes.cramfs", "rootfs-pad-be.cramfs", "b16.cramfs"}

// manifestOf names the manifest of a fixture's tree.
func manifestOf(fixture string) string {
	if fixture == "b16.cramfs" {
		return "b16.manifest"
	}
	return "tree.manifest"
}

// readManifest reads a manifest: "type path size sha256 [target]" per
// entry, as make.sh wrote it.
func readManifest(t *testing.T, name string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 {
			t.Fatalf("bad manifest line %q", sc.Text())
		}
		want[fields[1]] = sc.Text()
	}
	return want
}

// describe walks fsys from "." and returns one manifest line per entry,
// reading every regular file and link target.
func describe(fsys fs.FS) (map[string]string, error) {
	got := map[string]string{}
	var walk func(dir string, depth int) error
	walk = func(dir string, depth int) error {
		if depth > 300 {
			return errors.New("walk too deep")
		}
		entries, err := fs.ReadDir(fsys, dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			info, err := e.Info()
			if err != nil {
				return err
			}
			switch mode := info.Mode(); {
			case mode.IsDir():
				got[p] = fmt.Sprintf("d %s 0 -", p)
				if err := walk(p, depth+1); err != nil {
					return err
				}
			case mode&fs.ModeSymlink != 0:
				target, err := fs.ReadLink(fsys, p)
				if err != nil {
					return err
				}
				got[p] = fmt.Sprintf("l %s %d - %s", p, info.Size(), target)
			case mode.IsRegular():
				sum, n, err := hashFile(fsys, p)
				if err != nil {
					return err
				}
				if n != info.Size() {
					return fmt.Errorf("%s: read %d bytes, size %d", p, n, info.Size())
				}
				got[p] = fmt.Sprintf("f %s %d %s", p, n, sum)
			default:
				kind := map[fs.FileMode]string{fs.ModeDevice | fs.ModeCharDevice: "c", fs.ModeDevice: "b",
					fs.ModeNamedPipe: "p", fs.ModeSocket: "s"}[mode.Type()]
				got[p] = fmt.Sprintf("%s %s %d -", kind, p, info.Size())
			}
		}
		return nil
	}
	return got, walk(".", 0)
}

func hashFile(fsys fs.FS, name string) (string, int64, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	return hex.EncodeToString(h.Sum(nil)), n, err
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
			want := readManifest(t, manifestOf(name))
			f, _ := openFixture(t, name)
			got, err := describe(f)
			if err != nil {
				t.Fatal(err)
			}
			for p, line := range want {
				if got[p] != line {
					t.Errorf("got  %q\nwant %q", got[p], line)
				}
			}
			for p, line := range got {
				if _, ok := want[p]; !ok {
					t.Errorf("unexpected entry %q", line)
				}
			}
			if err := f.CheckCRC(); err != nil {
				t.Errorf("CheckCRC: %v", err)
			}
			var files []string
			for p, line := range want {
				if line[0] == 'f' {
					files = append(files, p)
				}
			}
			if err := fstest.TestFS(f, files...); err != nil {
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
			for p, line := range readManifest(t, manifestOf(name)) {
				if line[0] == 'f' {
					checkRandomAccess(t, f, p)
				}
			}
		})
	}
}

// TestReadAtCache checks that nearby reads reuse the inflated page.
func TestReadAtCache(t *testing.T) {
	for _, name := range []string{"rootfs-le.cramfs", "b16.cramfs"} {
		_, data := openFixture(t, name)
		reads := &countingReaderAt{r: bytes.NewReader(data)}
		f, err := Open(reads, int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		file := "usr/lib/libengine.bin"
		if name == "b16.cramfs" {
			file = "lib/engine.bin"
		}
		checkCached(t, f, reads, file)
	}
}

func TestFollowsLinks(t *testing.T) {
	f, _ := openFixture(t, "rootfs-le.cramfs")
	b, err := fs.ReadFile(f, "usr/share/base.link")
	if err != nil || !bytes.HasPrefix(b, []byte("AVP Antiviral Database.")) {
		t.Fatalf("reading through a relative link: %q, %v", b, err)
	}
	if _, err := fs.Stat(f, "lib/sub/deeper/deepest/libfixture.so"); err != nil {
		t.Fatalf("stat through a directory link: %v", err)
	}
	if info, err := f.Lstat("lib"); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("Lstat(lib) = %v, %v", info, err)
	}
	if _, err := f.ReadLink("etc"); err == nil {
		t.Fatal("ReadLink of a directory succeeded")
	}
	for _, bad := range []string{"/etc", "etc/", "../etc", "etc/../etc", "nope", "etc/hostname/x"} {
		if _, err := f.Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestConcurrentReads(t *testing.T) {
	f, _ := openFixture(t, "rootfs-be.cramfs")
	want := readManifest(t, "tree.manifest")
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for _, p := range []string{"usr/lib/libengine.bin", "usr/share/sparse.bin", "opt/netwarden/bases/base001.avc"} {
				sum, n, err := hashFile(f, p)
				if line := fmt.Sprintf("f %s %d %s", p, n, sum); err != nil || line != want[p] {
					t.Errorf("%s: %q, %v", p, line, err)
				}
			}
		})
	}
	wg.Wait()
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
	rnd := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range rnd {
		rnd[i] = byte(r.Uint32())
	}
	inputs := map[string][]byte{
		"empty":  nil,
		"zeros":  make([]byte, 8192),
		"random": rnd,
	}
	for _, other := range []string{"../testdata/rootfs-gzip.sqfs", "../testdata/rootfs-ext4.img", "../testdata/initrd-newc.cpio"} {
		if b, err := os.ReadFile(other); err == nil {
			inputs[other] = b
		}
	}
	for name, b := range inputs {
		if _, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
	// A superblock with an unknown feature flag is refused by name.
	_, data := openFixture(t, "rootfs-le.cramfs")
	data[10] |= 0x10 // flags bit 0x100000
	if _, err := Open(bytes.NewReader(data), int64(len(data))); err == nil || !strings.Contains(err.Error(), "unsupported feature") {
		t.Errorf("unknown flag: %v", err)
	}
}

// walkAll opens everything in f and reads up to limit bytes of each file,
// then probes it with ReadAt (see probeReadAt). Read errors are expected;
// it must neither panic nor hang.
func walkAll(t testing.TB, f *FS, limit int64) {
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > 300 {
			panic("walk deeper than the reader allows")
		}
		entries, err := f.ReadDir(dir)
		if err != nil {
			return
		}
		for _, e := range entries {
			p := path.Join(dir, e.Name())
			switch {
			case e.IsDir():
				walk(p, depth+1)
			case e.Type()&fs.ModeSymlink != 0:
				f.ReadLink(p)
				f.Stat(p)
			default:
				if fl, err := f.Open(p); err == nil {
					head := make([]byte, min(limit, 8192))
					n, _ := io.ReadFull(fl, head)
					io.CopyN(io.Discard, fl, limit-int64(n))
					probeReadAt(t, fl, head[:n])
					fl.Close()
				}
			}
		}
	}
	walk(".", 0)
	f.CheckCRC()
}

func TestTruncated(t *testing.T) {
	for _, name := range fixtures {
		_, data := openFixture(t, name)
		for _, n := range truncations(len(data)) {
			f, err := Open(bytes.NewReader(data[:n]), int64(n))
			if err != nil {
				continue
			}
			walkAll(t, f, 1<<30)
		}
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
		data := make([]byte, len(orig))
		for i := range orig {
			limit := int64(1 << 30)
			if inRanges(i, fx.meta) {
				limit = 3 * pageSize
			} else if i%509 != 0 {
				continue
			}
			copy(data, orig)
			data[i] ^= fx.xor
			if f, err := Open(bytes.NewReader(data), int64(len(data))); err == nil {
				walkAll(t, f, limit)
			}
		}
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
