package sqfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// fixtureImages returns the names of every image in testdata.
func fixtureImages(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("testdata/*.sqfs")
	if err != nil || len(paths) < len(fixtures) {
		t.Fatalf("%d images, %v", len(paths), err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = filepath.Base(p)
	}
	return names
}

// regularFiles returns the paths of the regular files of fsys with their
// content, read in sequence with Read.
func regularFiles(t *testing.T, fsys *FS) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		files[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// openFile opens p of fsys as a *file.
func openFile(t *testing.T, fsys *FS, p string) *file {
	t.Helper()
	f, err := fsys.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	fl, ok := f.(*file)
	if !ok {
		t.Fatalf("%s: opened as %T", p, f)
	}
	return fl
}

// span is a range to read: n bytes at off.
type span struct{ off, n int64 }

// spans returns the ranges worth reading from a file of size bytes in
// blocks of bs: its ends, both sides of every block boundary, reads across
// boundaries and past the end, the whole file, and random ones from rng.
func spans(size, bs int64, rng *rand.Rand) []span {
	offs := []int64{0, 1, size / 2, size - 1, size, size + 1, size + bs}
	for b := bs; b <= size; b += bs {
		offs = append(offs, b-1, b, b+1)
	}
	for range 20 {
		offs = append(offs, rng.Int64N(size+1))
	}
	out := []span{{0, size}, {0, size + 1}, {1, size}, {size / 2, size}}
	for _, off := range offs {
		if off < 0 { // size-1 of an empty file
			continue
		}
		for _, n := range []int64{0, 1, 7, bs - 1, bs, bs + 1, 2*bs + 3} {
			out = append(out, span{off, n})
		}
		out = append(out, span{off, 1 + rng.Int64N(3*bs)})
	}
	return out
}

// spanBuf returns a buffer large enough for every span of a file of size
// bytes in blocks of bs.
func spanBuf(size, bs int64) []byte { return make([]byte, max(size+1, 3*bs)) }

// checkRange checks that a read of s from content want returned exactly
// what io.ReaderAt promises.
func checkRange(want []byte, s span, got []byte, n int, err error) error {
	size := int64(len(want))
	wantN := max(min(s.n, size-s.off), 0)
	var wantErr error
	if wantN < s.n {
		wantErr = io.EOF
	}
	if int64(n) != wantN || err != wantErr {
		return fmt.Errorf("%d bytes at %d: got %d, %v; want %d, %v", s.n, s.off, n, err, wantN, wantErr)
	}
	if wantN > 0 && !bytes.Equal(got[:n], want[s.off:s.off+wantN]) {
		return fmt.Errorf("%d bytes at %d: content differs", s.n, s.off)
	}
	return nil
}

// blockKinds counts what the ReadAt tests went through, so that they can
// tell that the fixtures cover every way a block is stored.
type blockKinds struct {
	mu                             sync.Mutex
	compressed, uncompressed, zero int
	tails                          int
}

// add counts the blocks fl has indexed and its fragment tail.
func (k *blockKinds) add(fl *file) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, size := range fl.ra.sizes {
		switch {
		case size&^sizeUncompressed == 0:
			k.zero++
		case size&sizeUncompressed != 0:
			k.uncompressed++
		default:
			k.compressed++
		}
	}
	if fl.lay.tail > 0 {
		k.tails++
	}
}

// TestReadAt reads every regular file of every image at many offsets and
// compares with what Read returns in sequence.
func TestReadAt(t *testing.T) {
	var kinds blockKinds
	t.Run("images", func(t *testing.T) {
		for _, name := range fixtureImages(t) {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				fsys := openBytes(t, readFixture(t, name))
				bs := int64(fsys.sb.blockSize)
				rng := rand.New(rand.NewPCG(1, uint64(len(name))))
				for p, want := range regularFiles(t, fsys) {
					fl := openFile(t, fsys, p)
					ss := spans(int64(len(want)), bs, rng)
					buf := spanBuf(int64(len(want)), bs)
					// Forward, then backward: hits and misses of the
					// recent blocks in both orders.
					for k := range 2 * len(ss) {
						s := ss[k%len(ss)]
						if k >= len(ss) {
							s = ss[2*len(ss)-1-k]
						}
						got := buf[:s.n]
						n, err := fl.ReadAt(got, s.off)
						if err := checkRange(want, s, got, n, err); err != nil {
							t.Fatalf("%s: %v", p, err)
						}
					}
					kinds.add(fl)
					if err := fl.Close(); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	})
	if kinds.compressed == 0 || kinds.uncompressed == 0 || kinds.zero == 0 || kinds.tails == 0 {
		t.Errorf("fixtures do not cover every kind of block: %+v", &kinds)
	}
}

// TestSeekRead seeks every regular file of every image to many places, with
// every whence, and compares what Read returns with the content.
func TestSeekRead(t *testing.T) {
	for _, name := range fixtureImages(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fsys := openBytes(t, readFixture(t, name))
			bs := int64(fsys.sb.blockSize)
			rng := rand.New(rand.NewPCG(2, uint64(len(name))))
			for p, want := range regularFiles(t, fsys) {
				fl := openFile(t, fsys, p)
				buf := spanBuf(int64(len(want)), bs)
				for _, s := range spans(int64(len(want)), bs, rng) {
					if err := seekRead(fl, want, s, rng.IntN(3), buf); err != nil {
						t.Fatalf("%s: %v", p, err)
					}
				}
				fl.Close()
			}
		})
	}
}

// seekRead seeks fl to s.off with whence and reads s.n bytes with Read
// into buf.
func seekRead(fl *file, want []byte, s span, whence int, buf []byte) error {
	size := int64(len(want))
	offset := map[int]int64{io.SeekStart: s.off, io.SeekCurrent: s.off - fl.at, io.SeekEnd: s.off - size}[whence]
	pos, err := fl.Seek(offset, whence)
	if err != nil || pos != s.off {
		return fmt.Errorf("seek %d (whence %d) to %d: %d, %v", offset, whence, s.off, pos, err)
	}
	got := buf[:s.n]
	n, err := io.ReadFull(fl, got)
	if err == io.ErrUnexpectedEOF || (err == io.EOF && s.n > 0) {
		err = io.EOF // ReadFull's way of saying the file ended
	}
	if err := checkRange(want, s, got, n, err); err != nil {
		return fmt.Errorf("after seek (whence %d): %w", whence, err)
	}
	if wantAt := s.off + int64(n); fl.at != wantAt {
		return fmt.Errorf("position %d after reading %d bytes at %d", fl.at, n, s.off)
	}
	return nil
}

// TestSeekResumesStream checks that reading goes back to the stream, with
// its read-ahead, when a Seek returns to where streaming stopped, and that
// the content stays right across the switches.
func TestSeekResumesStream(t *testing.T) {
	fsys := openBytes(t, readFixture(t, "rootfs-b4096.sqfs"))
	want, err := fs.ReadFile(fsys, "usr/bin/tool")
	if err != nil {
		t.Fatal(err)
	}
	fl := openFile(t, fsys, "usr/bin/tool")
	defer fl.Close()
	head := make([]byte, 10000)
	if _, err := io.ReadFull(fl, head); err != nil || !bytes.Equal(head, want[:10000]) {
		t.Fatalf("head: %v", err)
	}
	// The way http.ServeContent finds the size.
	if end, err := fl.Seek(0, io.SeekEnd); err != nil || end != int64(len(want)) {
		t.Fatalf("seek to end: %d, %v", end, err)
	}
	if n, err := fl.Read(head); n != 0 || err != io.EOF {
		t.Fatalf("read at end: %d, %v", n, err)
	}
	if _, err := fl.Seek(5000, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	// 5000 bytes through ReadAt end where the stream stopped: the rest
	// streams.
	mid := make([]byte, 5000)
	if _, err := io.ReadFull(fl, mid); err != nil || !bytes.Equal(mid, want[5000:10000]) {
		t.Fatalf("middle: %v", err)
	}
	if fl.at != fl.size-fl.left {
		t.Fatalf("position %d, stream at %d: not streaming", fl.at, fl.size-fl.left)
	}
	rest, err := io.ReadAll(fl)
	if err != nil || !bytes.Equal(rest, want[10000:]) {
		t.Fatalf("rest: %d bytes, %v", len(rest), err)
	}
	if fl.left != 0 {
		t.Errorf("%d bytes left in the stream", fl.left)
	}
}

// TestSeekErrors checks invalid seeks and seeks past the end.
func TestSeekErrors(t *testing.T) {
	fsys := openBytes(t, readFixture(t, "rootfs-gzip.sqfs"))
	fl := openFile(t, fsys, "etc/hostname")
	defer fl.Close()
	for _, c := range []struct {
		offset int64
		whence int
	}{{-1, io.SeekStart}, {-11, io.SeekEnd}, {0, 3}, {-1 << 63, io.SeekCurrent}} {
		if _, err := fl.Seek(c.offset, c.whence); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("seek %d, %d: %v", c.offset, c.whence, err)
		}
	}
	if _, err := fl.Seek(1<<62, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	if _, err := fl.Seek(1<<62, io.SeekCurrent); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("overflowing seek: %v", err)
	}
	if n, err := fl.Read(make([]byte, 4)); n != 0 || err != io.EOF {
		t.Errorf("read past the end: %d, %v", n, err)
	}
	if pos, err := fl.Seek(-10, io.SeekEnd); err != nil || pos != 0 {
		t.Fatalf("seek to start from end: %d, %v", pos, err)
	}
	if b, err := io.ReadAll(fl); err != nil || string(b) != "netwarden\n" {
		t.Errorf("read after seeks: %q, %v", b, err)
	}
}

// TestReadAtErrors checks the errors of ReadAt, Seek and Read around
// invalid offsets and Close.
func TestReadAtErrors(t *testing.T) {
	fsys := openBytes(t, readFixture(t, "rootfs-gzip.sqfs"))
	fl := openFile(t, fsys, "usr/bin/tool")
	if _, err := fl.ReadAt(make([]byte, 1), -1); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("negative offset: %v", err)
	}
	if n, err := fl.ReadAt(nil, fl.size+5); n != 0 || err != nil {
		t.Errorf("empty read past the end: %d, %v", n, err)
	}
	if _, err := fl.ReadAt(make([]byte, 1), 100000); err != nil {
		t.Fatal(err)
	}
	if err := fl.Close(); err != nil {
		t.Fatal(err)
	}
	var pe *fs.PathError
	_, err := fl.ReadAt(make([]byte, 1), 0)
	if !errors.As(err, &pe) || !errors.Is(err, fs.ErrClosed) || pe.Path != "usr/bin/tool" {
		t.Errorf("readat after close: %v", err)
	}
	if _, err := fl.Seek(0, io.SeekStart); !errors.As(err, &pe) || !errors.Is(err, fs.ErrClosed) {
		t.Errorf("seek after close: %v", err)
	}
	if _, err := fl.Read(make([]byte, 1)); !errors.As(err, &pe) || !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after close: %v", err)
	}
	if fl.ra.recent[0].buf != nil || fl.ra.sizes != nil {
		t.Error("close kept the decoded blocks or the index")
	}
}

// TestReadAtConcurrent reads large files from many goroutines through one
// handle, ReadAt alongside Seek and Read; run it with -race.
func TestReadAtConcurrent(t *testing.T) {
	for _, name := range []string{"rootfs-b4096", "rootfs-xzbcj", "rootfs-zstd", "rootfs-lzo"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fsys := openBytes(t, readFixture(t, name+".sqfs"))
			bs := int64(fsys.sb.blockSize)
			for _, p := range []string{"usr/bin/tool", "opt/netwarden/data/sparse.img", "opt/netwarden/bin/random.bin"} {
				want, err := fs.ReadFile(fsys, p)
				if err != nil {
					t.Fatal(err)
				}
				fl := openFile(t, fsys, p)
				var wg sync.WaitGroup
				for g := range 6 {
					wg.Go(func() {
						rng := rand.New(rand.NewPCG(3, uint64(g)))
						buf := spanBuf(int64(len(want)), bs)
						for _, s := range spans(int64(len(want)), bs, rng) {
							got := buf[:s.n]
							n, err := fl.ReadAt(got, s.off)
							if err := checkRange(want, s, got, n, err); err != nil {
								t.Errorf("%s: %v", p, err)
								return
							}
						}
					})
				}
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(4, 0))
					buf := spanBuf(int64(len(want)), bs)
					for _, s := range spans(int64(len(want)), bs, rng) {
						if err := seekRead(fl, want, s, io.SeekStart, buf); err != nil {
							t.Errorf("%s: %v", p, err)
							return
						}
					}
				})
				wg.Wait()
				fl.Close()
			}
		})
	}
}

// countingDecompressor counts the blocks it decompresses, metadata blocks
// aside.
type countingDecompressor struct {
	decompressor
	mu sync.Mutex
	n  int
}

func (d *countingDecompressor) decompress(dst, src []byte) (int, error) {
	if len(dst) != metaSize {
		d.mu.Lock()
		d.n++
		d.mu.Unlock()
	}
	return d.decompressor.decompress(dst, src)
}

// TestReadAtRecentBlocks checks that reads near each other decode each
// block once, with the two most recent blocks kept.
func TestReadAtRecentBlocks(t *testing.T) {
	fsys := openBytes(t, readFixture(t, "rootfs-b4096.sqfs"))
	count := &countingDecompressor{decompressor: fsys.dec}
	fsys.dec = count
	fl := openFile(t, fsys, "usr/bin/tool")
	defer fl.Close()
	buf := make([]byte, 64)
	for _, c := range []struct {
		off   int64
		total int // blocks decoded so far
	}{
		{0, 1}, {64, 1}, {4060, 2}, // the last one spans blocks 0 and 1
		{100, 2}, {5000, 2}, {9000, 3}, {4096, 3}, {10, 4},
	} {
		if _, err := fl.ReadAt(buf, c.off); err != nil {
			t.Fatal(err)
		}
		if count.n != c.total {
			t.Errorf("after reading at %d: %d blocks decoded, want %d", c.off, count.n, c.total)
		}
	}
}

// panicDecompressor panics on every block but metadata blocks.
type panicDecompressor struct{ decompressor }

func (d panicDecompressor) decompress(dst, src []byte) (int, error) {
	if len(dst) != metaSize {
		panic("hostile block")
	}
	return d.decompressor.decompress(dst, src)
}

// TestReadAtDecoderPanic checks that a decompressor panicking on data and
// fragment blocks gives ReadAt errors, and leaves the handle usable.
func TestReadAtDecoderPanic(t *testing.T) {
	// Small blocks keep the random bytes out of the fragment that holds
	// hostname: that one is compressed.
	fsys := openBytes(t, readFixture(t, "rootfs-b4096.sqfs"))
	fsys.dec = panicDecompressor{fsys.dec}
	for _, p := range []string{"usr/bin/tool", "etc/hostname"} {
		fl := openFile(t, fsys, p)
		for range 2 { // the lock was released: the second call returns too
			if _, err := fl.ReadAt(make([]byte, 4), 0); !errors.Is(err, errDecoderPanic) {
				t.Errorf("%s: %v", p, err)
			}
		}
		if _, err := fl.Read(make([]byte, 4)); !errors.Is(err, errDecoderPanic) {
			t.Errorf("%s: read: %v", p, err)
		}
		fl.Close()
	}
}

// TestReadAtHugeFile gives a file an absurd size in the image: ReadAt
// refuses to index its blocks instead of allocating for them.
func TestReadAtHugeFile(t *testing.T) {
	b := readFixture(t, "rootfs-noi.sqfs") // inodes stored uncompressed
	fsys := openBytes(t, b)
	const p = "opt/netwarden/bin/appinfo.kli" // hard-linked: an extended inode
	n, err := fsys.lookup("test", p, true)
	if err != nil || n.typ != typeFile+7 {
		t.Fatalf("%v, type %d", err, n.typ)
	}
	// The inode lies in the metadata block (ref >> 16) bytes into the inode
	// table, after its 2-byte header; the size is 24 bytes into it.
	at := int(fsys.sb.inodeTable) + int(n.ref>>16) + 2 + int(n.ref&0xFFFF) + 24
	if got := binary.LittleEndian.Uint64(b[at:]); got != n.size {
		t.Fatalf("size field at %d holds %d, want %d", at, got, n.size)
	}
	binary.LittleEndian.PutUint64(b[at:], 1<<50)
	fsys = openBytes(t, b)
	fl := openFile(t, fsys, p)
	defer fl.Close()
	_, err = fl.ReadAt(make([]byte, 16), 1<<49)
	if err == nil || !strings.Contains(err.Error(), "random access indexes at most") {
		t.Errorf("ReadAt of a file of 2^50 bytes: %v", err)
	}
}

// probeRandom reads fl at a few offsets below limit, and at its end, with
// ReadAt and with Read after a Seek, for the hostile tests. seq holds what
// Read returned in sequence from the start.
func probeRandom(t testing.TB, p string, fl *file, seq []byte, limit int64) {
	bs := int64(fl.f.sb.blockSize)
	buf := make([]byte, 100)
	for _, off := range []int64{0, bs - 3, fl.size / 2, fl.size - 5, fl.size} {
		if off < 0 || (off >= limit && off != fl.size) {
			continue
		}
		n, err := fl.ReadAt(buf, off)
		checkProbe(t, p+": readat", off, buf[:n], err, fl.size, seq)
		if _, err := fl.Seek(off, io.SeekStart); err != nil {
			t.Fatalf("%s: seek to %d: %v", p, off, err)
		}
		n, err = io.ReadFull(fl, buf)
		checkProbe(t, p+": seek and read", off, buf[:n], err, fl.size, seq)
	}
}

// checkProbe checks what a read of a file of size bytes at off returned:
// no decoder panic, no bytes past the end, and the bytes of seq wherever
// it got that far.
func checkProbe(t testing.TB, what string, off int64, got []byte, err error, size int64, seq []byte) {
	if errors.Is(err, errDecoderPanic) {
		t.Fatalf("%s at %d: %v", what, off, err)
	}
	if int64(len(got)) > max(size-off, 0) {
		t.Fatalf("%s: %d bytes at %d of a file of %d", what, len(got), off, size)
	}
	if end := off + int64(len(got)); end <= int64(len(seq)) && !bytes.Equal(got, seq[off:end]) {
		t.Fatalf("%s: %d bytes at %d differ from those read in sequence", what, len(got), off)
	}
}
