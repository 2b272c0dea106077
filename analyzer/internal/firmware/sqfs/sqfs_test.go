package sqfs

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"
)

// fixtures names every image testdata/make.sh builds, with its compressor.
var fixtures = map[string]string{
	"rootfs-gzip":    "gzip",
	"rootfs-xz":      "xz",
	"rootfs-xzbcj":   "xz",
	"rootfs-lzo":     "lzo",
	"rootfs-lz4":     "lz4",
	"rootfs-zstd":    "zstd",
	"rootfs-lzma":    "lzma",
	"rootfs-nofrag":  "gzip",
	"rootfs-allfrag": "gzip",
	"rootfs-b4096":   "gzip",
	"rootfs-noi":     "gzip",
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFixtureFile(name string) ([]byte, error) {
	return os.ReadFile(filepath.Join("testdata", name))
}

func openBytes(t testing.TB, b []byte) *FS {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// manifest reads testdata/rootfs.manifest: one line per entry, keyed by
// path, as "type perm path size sha256 extra".
func manifest(t *testing.T) map[string]string {
	t.Helper()
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(readFixture(t, "rootfs.manifest")))
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), " ", 6)
		if len(f) != 6 {
			t.Fatalf("bad manifest line %q", sc.Text())
		}
		m[f[2]] = sc.Text()
	}
	return m
}

// describe walks fsys and describes every entry in the manifest's format.
func describe(t *testing.T, fsys *FS) map[string]string {
	t.Helper()
	got := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Mode().Type() != d.Type() {
			t.Errorf("%s: entry type %v, info type %v", p, d.Type(), info.Mode().Type())
		}
		perm := fmt.Sprintf("%o", info.Mode().Perm()|setBits(info.Mode()))
		st := info.Sys().(*Stat)
		var line string
		switch t := d.Type(); {
		case t.IsDir():
			line = fmt.Sprintf("d %s %s - - -", perm, p)
		case t.IsRegular():
			sum, n, err := hashFile(fsys, p)
			if err != nil {
				return err
			}
			if n != info.Size() {
				return fmt.Errorf("%s: read %d bytes, size %d", p, n, info.Size())
			}
			line = fmt.Sprintf("f %s %s %d %s -", perm, p, n, sum)
		case t&fs.ModeSymlink != 0:
			target, err := fsys.ReadLink(p)
			if err != nil {
				return err
			}
			line = fmt.Sprintf("l %s %s %d - %s", perm, p, info.Size(), target)
		case t&fs.ModeCharDevice != 0:
			line = fmt.Sprintf("c %s %s - - %d:%d", perm, p, st.Major(), st.Minor())
		case t&fs.ModeDevice != 0:
			line = fmt.Sprintf("b %s %s - - %d:%d", perm, p, st.Major(), st.Minor())
		case t&fs.ModeNamedPipe != 0:
			line = fmt.Sprintf("p %s %s - - -", perm, p)
		case t&fs.ModeSocket != 0:
			line = fmt.Sprintf("s %s %s - - -", perm, p)
		default:
			return fmt.Errorf("%s: unexpected type %v", p, t)
		}
		got[p] = line
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// setBits returns setuid, setgid and sticky as octal permission bits.
func setBits(m fs.FileMode) fs.FileMode {
	var b fs.FileMode
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}

func hashFile(fsys fs.FS, p string) (string, int64, error) {
	f, err := fsys.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

func compareManifest(t *testing.T, fsys *FS) {
	t.Helper()
	want := manifest(t)
	got := describe(t, fsys)
	var paths []string
	for p := range want {
		paths = append(paths, p)
	}
	for p := range got {
		if _, ok := want[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		if want[p] != got[p] {
			t.Errorf("%s:\n got  %q\n want %q", p, got[p], want[p])
		}
	}
}

func TestFixtures(t *testing.T) {
	for name, comp := range fixtures {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			img := readFixture(t, name+".sqfs")
			// Some blocks must use the x86 BCJ filter: an xz block
			// header's filter list "x86, no properties; LZMA2, 1 byte".
			if bcj := bytes.Count(img, []byte{xzFilterX86, 0, xzFilterLZMA2, 1}); name == "rootfs-xzbcj" && bcj == 0 {
				t.Error("no block uses the x86 BCJ filter")
			}
			fsys := openBytes(t, img)
			if got := fsys.Info().Compression; got != comp {
				t.Errorf("compression %q, want %q", got, comp)
			}
			if fsys.Info().BigEndian || fsys.Info().Truncated {
				t.Errorf("info %+v", fsys.Info())
			}
			compareManifest(t, fsys)
			// Again, from the caches.
			compareManifest(t, fsys)
		})
	}
}

func TestFSTest(t *testing.T) {
	fsys := openBytes(t, readFixture(t, "rootfs-gzip.sqfs"))
	// fstest opens every symlink, so the tree with the dangling one is
	// tested a directory at a time.
	for dir, want := range map[string]string{
		"opt": "netwarden/bases/base001.avc", "a": "b/c/d/deep.txt",
		"usr/bin": "tool", "many": "entry-with-a-fairly-long-name-300",
		"dev": "console", "run": "fifo", "etc": "hostname",
	} {
		sub, err := fs.Sub(fsys, dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := fstest.TestFS(sub, want); err != nil {
			t.Errorf("%s: %v", dir, err)
		}
	}
}

// TestDetails checks what the manifest does not hold: ids, times, hard
// links, extended inodes, and lookups through symlinks.
func TestDetails(t *testing.T) {
	fsys := openBytes(t, readFixture(t, "rootfs-b4096.sqfs"))
	info, err := fsys.Stat("opt/netwarden/bases/base001.avc")
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*Stat)
	if st.UID != 1234 || st.GID != 567 {
		t.Errorf("uid/gid %d/%d, want 1234/567", st.UID, st.GID)
	}
	if want := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC); !info.ModTime().Equal(want) {
		t.Errorf("mtime %v, want %v", info.ModTime(), want)
	}
	a, _ := fsys.Stat("opt/netwarden/bin/appinfo.kli")
	b, _ := fsys.Stat("opt/netwarden/bin/appinfo-link.kli")
	if sa, sb := a.Sys().(*Stat), b.Sys().(*Stat); sa.Inode != sb.Inode || sa.Nlink != 2 {
		t.Errorf("hard link: inodes %d and %d, nlink %d", sa.Inode, sb.Inode, sa.Nlink)
	}
	// One file by its record's place, not by its number; another file is
	// another place.
	other, _ := fsys.Stat("etc/hostname")
	ida, _ := a.Sys().(*Stat).HardLink()
	idb, nb := b.Sys().(*Stat).HardLink()
	ido, _ := other.Sys().(*Stat).HardLink()
	if ida != idb || nb != 2 || ida == ido {
		t.Errorf("hard link identities %d, %d (nlink %d); another file %d", ida, idb, nb, ido)
	}

	// Through symlinks: lib -> usr/lib, usr/lib/hostname-link -> ../../etc/hostname.
	if _, err := fsys.Stat("lib/sub/libfixture.so"); err != nil {
		t.Error(err)
	}
	if b, err := fs.ReadFile(fsys, "lib/hostname-link"); err != nil || string(b) != "netwarden\n" {
		t.Errorf("read through links: %q, %v", b, err)
	}
	if ents, err := fsys.ReadDir("lib/sub"); err != nil || len(ents) != 1 {
		t.Errorf("readdir through link: %v, %v", ents, err)
	}
	if info, err := fsys.Lstat("lib"); err != nil || info.Mode().Type() != fs.ModeSymlink {
		t.Errorf("lstat lib: %v, %v", info, err)
	}
	if info, err := fsys.Stat("lib"); err != nil || !info.IsDir() {
		t.Errorf("stat lib: %v, %v", info, err)
	}
	for name, want := range map[string]error{
		"usr/lib/dangling":     fs.ErrNotExist,
		"nope":                 fs.ErrNotExist,
		"etc/hostname/x":       nil, // not a directory
		"/etc":                 fs.ErrInvalid,
		"etc/../etc/hostname":  fs.ErrInvalid,
		"usr/lib/dangling/sub": fs.ErrNotExist,
	} {
		_, err := fsys.Open(name)
		if err == nil || (want != nil && !errors.Is(err, want)) {
			t.Errorf("open %q: %v, want %v", name, err, want)
		}
	}
	if _, err := fsys.ReadDir("etc/hostname"); err == nil {
		t.Error("readdir of a file succeeded")
	}
	if _, err := fsys.ReadLink("etc/hostname"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("readlink of a file: %v", err)
	}
	f, err := fsys.Open("dev/console")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Errorf("read of a device: %d, %v", n, err)
	}
	f.Close()

	// The listing of "many" spans metadata blocks: an extended directory.
	n, err := fsys.lookup("test", "many", true)
	if err != nil {
		t.Fatal(err)
	}
	if n.typ != typeDir+7 {
		t.Errorf("many: inode type %d, want extended directory", n.typ)
	}
	n, err = fsys.lookup("test", "opt/netwarden/bin/appinfo.kli", true)
	if err != nil {
		t.Fatal(err)
	}
	if n.typ != typeFile+7 {
		t.Errorf("hard-linked file: inode type %d, want extended file", n.typ)
	}
}

// TestPartialRead closes large files mid-way, with blocks in flight.
func TestPartialRead(t *testing.T) {
	fsys := openBytes(t, readFixture(t, "rootfs-b4096.sqfs"))
	want, err := fs.ReadFile(fsys, "usr/bin/tool")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 1, 4095, 4096, 4097, 50000, len(want) - 1, len(want)} {
		f, err := fsys.Open("usr/bin/tool")
		if err != nil {
			t.Fatal(err)
		}
		got := make([]byte, n)
		if _, err := io.ReadFull(f, got); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[:n]) {
			t.Errorf("first %d bytes differ", n)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
		if _, err := f.Read(got); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("read after close: %v", err)
		}
	}
	// Without read-ahead the content is the same.
	fsys.readAhead = 1
	got, err := fs.ReadFile(fsys, "usr/bin/tool")
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("without read-ahead: %v", err)
	}
}

// TestConcurrent reads every file of every fixture from many goroutines
// at once, sharing one FS per image.
func TestConcurrent(t *testing.T) {
	for name := range fixtures {
		fsys := openBytes(t, readFixture(t, name+".sqfs"))
		fsys.meta = newCache[metaBlock](16 << 10) // force evictions
		fsys.frags = newCache[[]byte](1)
		fsys.dirs = newCache[[]dirent](1)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				if _, err := readAll(fsys, 3); err != nil {
					t.Errorf("%s: %v", name, err)
				}
			})
		}
		wg.Wait()
	}
}

func TestXzFilters(t *testing.T) {
	want := readFixture(t, "xz/input.bin")
	files, _ := filepath.Glob("testdata/xz/*.xz")
	if len(files) < 10 {
		t.Fatalf("%d xz fixtures", len(files))
	}
	for _, p := range files {
		src, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := make([]byte, len(want))
		n, err := xzDecompressor{}.decompress(dst, src)
		if err != nil || !bytes.Equal(dst[:n], want) {
			t.Errorf("%s: %d bytes, %v; content equal: %v", p, n, err, bytes.Equal(dst[:n], want))
		}
		// One byte short of room is an error, never a panic.
		if _, err := (xzDecompressor{}).decompress(dst[:len(want)-1], src); err == nil {
			t.Errorf("%s: no error with a short buffer", p)
		}
	}
}

func TestRefused(t *testing.T) {
	gz := readFixture(t, "rootfs-gzip.sqfs")
	v3 := bytes.Clone(gz[:4096])
	v3[28], v3[29] = 3, 0
	be3 := bytes.Clone(v3)
	copy(be3, "sqsh")
	be3[28], be3[29] = 0, 3
	vendor := bytes.Clone(gz[:4096])
	copy(vendor, "shsq")
	badComp := bytes.Clone(gz)
	badComp[20] = 9
	badBlock := bytes.Clone(gz)
	badBlock[12] = 1
	badTables := bytes.Clone(gz)
	for i := 64; i < 80; i++ {
		badTables[i] = 0xFF
	}
	rnd := make([]byte, 1<<16)
	for i := range rnd {
		rnd[i] = byte(i*7919 + i>>8)
	}
	for name, c := range map[string]struct {
		b    []byte
		want error
	}{
		"empty":       {nil, ErrNotSquashfs},
		"short":       {gz[:95], ErrNotSquashfs},
		"random":      {rnd, ErrNotSquashfs},
		"zeros":       {make([]byte, 8192), ErrNotSquashfs},
		"v3":          {v3, ErrUnsupported},
		"v3 be":       {be3, ErrUnsupported},
		"vendor":      {vendor, ErrUnsupported},
		"compressor":  {badComp, ErrUnsupported},
		"block size":  {badBlock, nil},
		"tables":      {badTables, nil},
		"gzip stream": {[]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03" + strings.Repeat("x", 200)), ErrNotSquashfs},
	} {
		_, err := Open(bytes.NewReader(c.b), int64(len(c.b)))
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Other formats from the sibling fixtures.
	others, _ := filepath.Glob("../testdata/*")
	for _, p := range others {
		if strings.HasSuffix(p, ".sqfs") || strings.HasSuffix(p, ".sh") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil || bytes.HasPrefix(b, []byte("hsqs")) || bytes.HasPrefix(b, []byte("sqsh")) {
			continue
		}
		if _, err := Open(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrNotSquashfs) {
			t.Errorf("%s: %v", p, err)
		}
	}
}

// seqBufs holds walkAll's buffers: the hostile tests walk thousands of
// images, which would otherwise each grow one to the read limit.
var seqBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// walkAll walks fsys (up to 5000 entries) and reads up to limit bytes of
// every file, then a few ranges below limit at random (probeRandom), ignoring
// errors: the hostile tests only require no panic, no hang, no more bytes
// from a file than its size, and the same bytes in sequence as at random.
func walkAll(t testing.TB, fsys *FS, limit int64) {
	budget := 5000
	seq := seqBufs.Get().(*bytes.Buffer) // what each file reads in sequence
	defer seqBufs.Put(seq)
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		if depth > 64 {
			return
		}
		ents, _ := fsys.ReadDir(dir)
		for _, e := range ents {
			if budget--; budget < 0 {
				return
			}
			p := joinPath(dir, e.Name())
			info, err := e.Info()
			switch typ := e.Type(); {
			case typ.IsDir():
				walk(p, depth+1)
			case typ&fs.ModeSymlink != 0:
				_, _ = fsys.ReadLink(p)
				_, _ = fsys.Stat(p)
			default:
				f, err2 := fsys.Open(p)
				if err2 != nil {
					continue
				}
				seq.Reset()
				n, err3 := seq.ReadFrom(io.LimitReader(f, limit))
				if errors.Is(err3, errDecoderPanic) {
					t.Fatalf("%s: %v", p, err3)
				}
				if err == nil && n > info.Size() {
					t.Fatalf("%s: read %d bytes, size %d", p, n, info.Size())
				}
				if fl, ok := f.(*file); ok {
					probeRandom(t, p, fl, seq.Bytes(), limit)
				}
				f.Close()
			}
		}
	}
	walk(".", 0)
}

// TestTruncations cuts images at many offsets.
func TestTruncations(t *testing.T) {
	for _, name := range []string{"rootfs-gzip", "rootfs-b4096", "rootfs-noi", "rootfs-xzbcj", "rootfs-lz4"} {
		b := readFixture(t, name+".sqfs")
		step := len(b) / 150
		for cut := 0; cut < len(b); cut += step {
			if fsys, err := Open(bytes.NewReader(b[:cut]), int64(cut)); err == nil {
				walkAll(t, fsys, 1<<20)
			}
		}
	}
}

// TestCorruptions changes single bytes across images: every superblock
// byte, metadata densely, data sparsely.
func TestCorruptions(t *testing.T) {
	// Densely where metadata is plain (noi) or cheap to decompress; the
	// other compressors mostly add decoder coverage.
	for name, stride := range map[string]int{
		"rootfs-gzip": 7, "rootfs-noi": 7, "rootfs-lz4": 11,
		"rootfs-zstd": 29, "rootfs-lzo": 29, "rootfs-xz": 53, "rootfs-lzma": 53,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			orig := readFixture(t, name+".sqfs")
			meta := int(openBytes(t, orig).sb.inodeTable)
			if testing.Short() {
				stride *= 8
			}
			b := bytes.Clone(orig)
			try := func(off int, v byte, limit int64) {
				b[off] = v
				if fsys, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
					walkAll(t, fsys, limit)
				}
				b[off] = orig[off]
			}
			if stride <= 11 { // the superblock does not depend on the compressor
				for off := range superblockSize {
					try(off, orig[off]^0xFF, 1<<16)
					try(off, orig[off]+1, 1<<16)
				}
			}
			for off := meta; off < len(orig); off += stride {
				// Metadata: the first 64 KiB of each file shows whether
				// inodes and block lists hold.
				try(off, orig[off]^0x5A, 1<<16)
			}
			for off := superblockSize; off < meta; off += 31 * stride {
				try(off, orig[off]^0x01, 1<<20)
			}
		})
	}
}

// slowDecompressor wraps a decompressor, slows it down and records how
// many calls ran at once.
type slowDecompressor struct {
	decompressor
	mu        sync.Mutex
	cur, peak int
}

func (s *slowDecompressor) decompress(dst, src []byte) (int, error) {
	s.mu.Lock()
	s.cur++
	s.peak = max(s.peak, s.cur)
	s.mu.Unlock()
	time.Sleep(2 * time.Millisecond)
	n, err := s.decompressor.decompress(dst, src)
	s.mu.Lock()
	s.cur--
	s.mu.Unlock()
	return n, err
}

// TestReadAheadParallel checks that one reader of a large file keeps
// several blocks decompressing at once.
func TestReadAheadParallel(t *testing.T) {
	fsys := openBytes(t, readFixture(t, "rootfs-b4096.sqfs"))
	slow := &slowDecompressor{decompressor: fsys.dec}
	fsys.dec = slow
	fsys.readAhead = 4
	want := manifest(t)["usr/bin/tool"]
	sum, _, err := hashFile(fsys, "usr/bin/tool")
	if err != nil || !strings.Contains(want, sum) {
		t.Fatalf("content: %v", err)
	}
	if slow.peak < 3 {
		t.Errorf("at most %d blocks decompressed at once, want >= 3", slow.peak)
	}
}
