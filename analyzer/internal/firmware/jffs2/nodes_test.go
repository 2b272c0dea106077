package jffs2

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zlib"
	"github.com/ulikunitz/xz/lzma"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

// log assembles JFFS2 nodes by hand, with their CRCs.
type log struct {
	big bool
	b   []byte
}

func (l *log) order() binary.ByteOrder {
	if l.big {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// pad aligns the log to 4 bytes.
func (l *log) pad() {
	for len(l.b)%4 != 0 {
		l.b = append(l.b, 0xff)
	}
}

func (l *log) dirent(pino, version, ino uint32, dtype uint8, name string) {
	h := make([]byte, direntSize)
	o := l.order()
	o.PutUint32(h[12:], pino)
	o.PutUint32(h[16:], version)
	o.PutUint32(h[20:], ino)
	h[28], h[29] = byte(len(name)), dtype
	l.header(nodeDirent, h, len(h)+len(name))
	o.PutUint32(h[32:], crc(h[:32]))
	o.PutUint32(h[36:], crc([]byte(name)))
	l.b = append(append(l.b, h...), name...)
	l.pad()
}

// header fills in a node header.
func (l *log) header(typ uint16, h []byte, totlen int) {
	o := l.order()
	o.PutUint16(h[0:], magic)
	o.PutUint16(h[2:], typ)
	o.PutUint32(h[4:], uint32(totlen))
	o.PutUint32(h[8:], crc(h[:8]))
}

// inode appends an inode node holding data (stored as compr) for
// [offset, offset+dsize).
func (l *log) inode(ino, version, mode, isize, offset uint32, compr uint8, stored []byte, dsize int) {
	h := make([]byte, inodeSize)
	o := l.order()
	l.header(nodeInode, h, inodeSize+len(stored))
	o.PutUint32(h[12:], ino)
	o.PutUint32(h[16:], version)
	o.PutUint32(h[20:], mode)
	o.PutUint32(h[28:], isize)
	o.PutUint32(h[44:], offset)
	o.PutUint32(h[48:], uint32(len(stored)))
	o.PutUint32(h[52:], uint32(dsize))
	h[56] = compr
	o.PutUint32(h[60:], crc(stored))
	o.PutUint32(h[64:], crc(h[:60]))
	l.b = append(append(l.b, h...), stored...)
	l.pad()
}

func (l *log) open(t *testing.T) *FS {
	t.Helper()
	f, err := Open(bytes.NewReader(l.b), int64(len(l.b)))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// appendTo starts a log after a fixture image, aligned to 4 bytes.
func appendTo(t *testing.T, name string, big bool) (*log, *FS) {
	f, data := openFixture(t, name)
	l := &log{big: big, b: data}
	l.pad()
	return l, f
}

// inoOf finds the inode number and newest version of a fixture's file.
func inoOf(t *testing.T, f *FS, name string) (uint32, uint32) {
	t.Helper()
	e, err := f.lookup("test", name, false)
	if err != nil {
		t.Fatal(err)
	}
	return e.ino, f.inodes[e.ino].meta.version
}

func readString(t *testing.T, f *FS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNewerNodesWin appends newer nodes to a real image: a rewritten file,
// a partial overwrite, a truncation followed by a hole, a deletion, a
// rename and a node with a bad data CRC, which must be ignored.
func TestNewerNodesWin(t *testing.T) {
	for _, fx := range []struct {
		name string
		big  bool
	}{{"rootfs-le.jffs2", false}, {"rootfs-nocm-be.jffs2", true}} {
		t.Run(fx.name, func(t *testing.T) {
			l, orig := appendTo(t, fx.name, fx.big)
			engine, err := fs.ReadFile(orig, "usr/lib/libengine.bin")
			if err != nil {
				t.Fatal(err)
			}
			host, v := inoOf(t, orig, "etc/hostname")
			l.inode(host, v+1, unixmode.IFREG|0o644, 8, 0, comprNone, []byte("newhost\n"), 8)

			eng, v := inoOf(t, orig, "usr/lib/libengine.bin")
			patch := []byte("PATCHED BYTES")
			l.inode(eng, v+1, unixmode.IFREG|0o755, uint32(len(engine)), 5000, comprNone, patch, len(patch))
			copy(engine[5000:], patch)
			// An older version than the patch: must not show.
			l.inode(eng, v, unixmode.IFREG|0o755, uint32(len(engine)), 5000, comprNone, []byte("stale"), 5)

			base, v := inoOf(t, orig, "opt/netwarden/bases/base001.avc")
			l.inode(base, v+1, unixmode.IFREG|0o644, 10, 0, comprZero, nil, 0) // truncate to 10 bytes,
			const grown = 10 + 3<<20                                           // then grow with a hole
			l.inode(base, v+2, unixmode.IFREG|0o644, grown, 10, comprZero, nil, grown-10)

			root, _ := inoOf(t, orig, "etc")
			l.dirent(root, 1000, 0, 0, "empty.conf")                                     // delete
			l.dirent(root, 1001, host, 8, "hostname.new")                                // link under a new name
			l.dirent(root, 1002, 0, 0, "hostname")                                       // and drop the old one
			l.inode(host, 999, unixmode.IFREG|0o644, 4, 0, comprNone, []byte("bad!"), 4) // newest, but corrupt:
			l.b[len(l.b)-1] ^= 0xff                                                      // bad data CRC

			f := l.open(t)
			if got := readString(t, f, "etc/hostname.new"); got != "newhost\n" {
				t.Errorf("rewritten file reads %q", got)
			}
			if got := readString(t, f, "usr/lib/libengine.bin"); got != string(engine) {
				t.Errorf("patched file differs")
			}
			if got := readString(t, f, "opt/netwarden/bases/base001.avc"); len(got) != grown ||
				got[:10] != "AVP Antivi" || strings.Trim(got[10:], "\x00") != "" {
				t.Errorf("truncated and grown file reads %.20q... (%d bytes)", got, len(got))
			}
			for _, gone := range []string{"etc/empty.conf", "etc/hostname"} {
				if _, err := f.Stat(gone); err == nil {
					t.Errorf("%s still there", gone)
				}
			}
			if f.CorruptNodes() != 1 {
				t.Errorf("CorruptNodes = %d, want 1", f.CorruptNodes())
			}
			// Overlapping nodes and a long hole, read at random.
			checkRandomAccess(t, f, "usr/lib/libengine.bin")
			checkRandomAccess(t, f, "opt/netwarden/bases/base001.avc")
		})
	}
}

// rtimeCompress is the kernel's rtime compressor, to make test data.
func rtimeCompress(in []byte) []byte {
	var last [256]int
	var out []byte
	for pos := 0; pos < len(in); {
		value := in[pos]
		out = append(out, value)
		pos++
		back := last[value]
		last[value] = pos
		run := 0
		for back < pos && pos < len(in) && in[pos] == in[back] && run < 255 {
			pos++
			back++
			run++
		}
		out = append(out, byte(run))
	}
	return out
}

func zlibCompress(in []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(in)
	w.Close()
	return buf.Bytes()
}

// lzmaCompress writes a raw LZMA stream with the given properties; with
// stored set, the 5 property bytes come first.
func lzmaCompress(t testing.TB, in []byte, p lzma.Properties, dict int, stored bool) []byte {
	var buf bytes.Buffer
	w, err := lzma.WriterConfig{Properties: &p, DictCap: dict, Size: int64(len(in))}.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(in)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes() // 13-byte .lzma header: properties, dictionary, size
	if stored {
		return append(b[:5:5], b[13:]...)
	}
	return b[13:]
}

func TestCompressors(t *testing.T) {
	page := []byte(strings.Repeat("abcabcabd netwarden engine ", 150))[:4096]
	cases := []struct {
		name    string
		compr   uint8
		stored  []byte
		wantErr string
	}{
		{"none", comprNone, page, ""},
		{"copy", comprCopy, page, ""},
		{"rtime", comprRtime, rtimeCompress(page), ""},
		{"zlib", comprZlib, zlibCompress(page), ""},
		{"lzma", comprLZMA, lzmaCompress(t, page, lzma.Properties{LC: 0, LP: 0, PB: 0}, lzmaDictSize, false), ""},
		{"lzma-stored-props", comprLZMA, lzmaCompress(t, page, lzma.Properties{LC: 3, LP: 0, PB: 2}, 1<<13, true), ""},
		{"zlib-id-lzma", comprZlib, lzmaCompress(t, page, lzma.Properties{LC: 3, LP: 0, PB: 2}, 1<<13, true), ""},
		{"rubin", comprRubinMIPS, page[:100], "rubin compression not supported"},
		{"dynrubin", comprDynRubin, page[:100], "rubin compression not supported"},
		{"unknown", 42, page[:100], "unknown compression type 42"},
		{"bad-zlib", comprZlib, page[:100], "zlib"},
		{"short-rtime", comprRtime, rtimeCompress(page)[:50], "rtime"},
	}
	for _, big := range []bool{false, true} {
		for _, c := range cases {
			l := &log{big: big}
			l.dirent(rootIno, 1, 2, 8, "f")
			l.inode(2, 1, unixmode.IFREG|0o644, 4096+4096+100, 0, c.compr, c.stored, len(page))
			// A second page of zeros, then a hole, then 100 bytes.
			l.inode(2, 2, unixmode.IFREG|0o644, 4096+4096+100, 4096, comprZero, nil, 2000)
			l.inode(2, 3, unixmode.IFREG|0o644, 4096+4096+100, 8192, comprNone, page[:100], 100)
			f := l.open(t)
			got, err := fs.ReadFile(f, "f")
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Errorf("%s: err = %v, want %q", c.name, err, c.wantErr)
				}
				continue
			}
			want := append(append(bytes.Clone(page), make([]byte, 4096)...), page[:100]...)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s (big %v): %d bytes, %v", c.name, big, len(got), err)
			}
			checkRandomAccess(t, f, "f")
		}
	}
}

// TestFragments checks the newest-node-wins sweep on overlapping ranges.
func TestFragments(t *testing.T) {
	n := func(version, offset, dsize uint32) *node {
		return &node{version: version, offset: offset, dsize: dsize, pos: int64(version)}
	}
	a, b, c, d := n(1, 0, 100), n(3, 20, 10), n(2, 50, 100), n(4, 200, 10)
	got := fragments([]*node{c, a, d, b}, 205)
	want := []frag{{0, 20, a}, {20, 30, b}, {30, 50, a}, {50, 150, c}, {200, 205, d}}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fragment %d = %v, want %v", i, got[i], want[i])
		}
	}
}

// TestDirectoryLoops gives a directory two parents and makes a cycle;
// the tree stays finite and lookups bounded.
func TestDirectoryLoops(t *testing.T) {
	l := &log{}
	l.dirent(rootIno, 1, 2, 4, "a")
	l.dirent(2, 2, 3, 4, "b")
	l.dirent(3, 3, 2, 4, "back") // a inside its own child
	l.dirent(rootIno, 4, 3, 4, "b2")
	l.dirent(3, 5, rootIno, 4, "root")
	l.dirent(3, 6, 3, 4, "self")
	for ino := uint32(2); ino <= 3; ino++ {
		l.inode(ino, 1, unixmode.IFDIR|0o755, 0, 0, comprNone, nil, 0)
	}
	f := l.open(t)
	got, err := imgtest.Describe(f, "0")
	if err != nil {
		t.Fatal(err)
	}
	// b has two parents: it stays under the first in (parent, name) order.
	if want := []string{"d a 0 -", "d b2 0 -"}; !slices.Equal(got, want) {
		t.Errorf("tree = %q, want %q", got, want)
	}
}
