package sqfs

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// mksquashfs only writes little-endian images. toBigEndian turns one whose
// metadata is stored uncompressed (mksquashfs -noI -noId -noF -no-exports
// -no-xattrs) into the big-endian layout of vendor tools by reversing the
// bytes of every field in place: the superblock, metadata block headers,
// inodes with their block lists and directory indexes, directory listings,
// and the fragment and id tables. Data blocks stay as they are; their
// compressed content does not depend on byte order.
func toBigEndian(le []byte) (out []byte, err error) {
	src, err := Open(bytes.NewReader(le), int64(len(le)))
	if err != nil {
		return nil, err
	}
	c := &beConv{le: le, out: bytes.Clone(le)}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("convert: %v", r)
		}
	}()
	sb := src.sb
	c.superblock()
	if sb.flags&flagCompressorOptions != 0 {
		return nil, errors.New("compressor options not converted")
	}
	inodes := c.table(sb.inodeTable, sb.directoryTable)
	dirs := c.table(sb.directoryTable, c.next(src, sb.directoryTable))
	listings := c.inodes(inodes, int(sb.inodes), uint64(sb.blockSize))
	done := map[int]bool{}
	for _, l := range listings {
		at, ok := dirs.blockAt[int(l.block)]
		if !ok {
			return nil, fmt.Errorf("no directory block at %d", l.block)
		}
		start := at + int(l.offset)
		if l.size > 3 && !done[start] { // an empty listing shares its start
			done[start] = true
			c.listing(dirs, start, int(l.size)-3)
		}
	}
	for i, pos := range src.fragIndex {
		s := c.table(pos, pos+1)
		n := min(int(sb.fragments)-i*512, 512)
		for j := range n {
			l := j * 16
			c.field(s, &l, 8)
			c.field(s, &l, 4)
			c.field(s, &l, 4)
		}
		c.swap(int(sb.fragmentTable)+8*i, 8)
	}
	for i, pos := range src.idIndex {
		s := c.table(pos, pos+1)
		n := min(int(sb.ids)-i*2048, 2048)
		for j := range n {
			l := j * 4
			c.field(s, &l, 4)
		}
		c.swap(int(sb.idTable)+8*i, 8)
	}
	return c.out, nil
}

type beConv struct {
	le, out []byte
}

// stream is a table seen as one byte stream through its metadata blocks.
type stream struct {
	phys    []int       // image offset of each stream byte
	blockAt map[int]int // block position (from the table start) -> stream offset
}

// swap reverses n bytes of out at off.
func (c *beConv) swap(off, n int) {
	b := c.out[off : off+n]
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
}

func (c *beConv) superblock() {
	for off := 0; off < 20; off += 4 {
		c.swap(off, 4)
	}
	for off := 20; off < 32; off += 2 {
		c.swap(off, 2)
	}
	for off := 32; off < 96; off += 8 {
		c.swap(off, 8)
	}
}

// table maps the metadata blocks from start up to end, swapping their
// headers.
func (c *beConv) table(start, end uint64) *stream {
	s := &stream{blockAt: map[int]int{}}
	for p := int(start); p < int(end); {
		hdr := binary.LittleEndian.Uint16(c.le[p:])
		if hdr&0x8000 == 0 {
			panic(fmt.Sprintf("compressed metadata block at %d", p))
		}
		n := int(hdr & 0x7FFF)
		s.blockAt[p-int(start)] = len(s.phys)
		c.swap(p, 2)
		for i := range n {
			s.phys = append(s.phys, p+2+i)
		}
		p += 2 + n
	}
	return s
}

// next returns where the structure after the one at pos starts.
func (c *beConv) next(f *FS, pos uint64) uint64 {
	end := uint64(len(c.le))
	cands := []uint64{f.sb.fragmentTable, f.sb.idTable, f.sb.bytesUsed,
		binary.LittleEndian.Uint64(c.le[56:]), binary.LittleEndian.Uint64(c.le[88:])}
	cands = append(cands, f.fragIndex...)
	cands = append(cands, f.idIndex...)
	for _, v := range cands {
		if v > pos && v < end {
			end = v
		}
	}
	return end
}

// field swaps the size-byte field at stream offset *l, advances *l and
// returns the field's little-endian value.
func (c *beConv) field(s *stream, l *int, size int) uint64 {
	var v uint64
	for i := range size {
		v |= uint64(c.le[s.phys[*l+i]]) << (8 * i)
	}
	for i := range size {
		c.out[s.phys[*l+i]] = byte(v >> (8 * (size - 1 - i)))
	}
	*l += size
	return v
}

type listingRef struct {
	block, offset, size uint64
}

// inodes swaps count inodes from the start of the inode table and returns
// the directory listings they point to.
func (c *beConv) inodes(s *stream, count int, blockSize uint64) []listingRef {
	var dirs []listingRef
	l := 0
	f := func(size int) uint64 { return c.field(s, &l, size) }
	blockList := func(size, frag uint64) {
		n := size / blockSize
		if size%blockSize != 0 && frag == noFragment {
			n++
		}
		for range n {
			f(4)
		}
	}
	for range count {
		typ := f(2)
		f(2)
		f(2)
		f(2)
		f(4)
		f(4)
		switch typ {
		case typeDir:
			block := f(4)
			f(4)
			size := f(2)
			off := f(2)
			f(4)
			dirs = append(dirs, listingRef{block, off, size})
		case typeDir + 7:
			f(4)
			size := f(4)
			block := f(4)
			f(4)
			indexes := f(2)
			off := f(2)
			f(4)
			for range indexes {
				f(4)
				f(4)
				l += int(f(4)) + 1
			}
			dirs = append(dirs, listingRef{block, off, size})
		case typeFile:
			f(4)
			frag := f(4)
			f(4)
			blockList(f(4), frag)
		case typeFile + 7:
			f(8)
			size := f(8)
			f(8)
			f(4)
			frag := f(4)
			f(4)
			f(4)
			blockList(size, frag)
		case typeSymlink, typeSymlink + 7:
			f(4)
			l += int(f(4))
			if typ > 7 {
				f(4)
			}
		case typeBlock, typeChar:
			f(4)
			f(4)
		case typeBlock + 7, typeChar + 7:
			f(4)
			f(4)
			f(4)
		case typeFifo, typeSocket:
			f(4)
		case typeFifo + 7, typeSocket + 7:
			f(4)
			f(4)
		default:
			panic(fmt.Sprintf("inode type %d", typ))
		}
	}
	return dirs
}

// listing swaps size bytes of directory listing at stream offset l.
func (c *beConv) listing(s *stream, l, size int) {
	end := l + size
	f := func(size int) uint64 { return c.field(s, &l, size) }
	for l < end {
		count := f(4) + 1
		f(4)
		f(4)
		for range count {
			f(2)
			f(2)
			f(2)
			l += int(f(2)) + 1
		}
	}
}

func TestBigEndian(t *testing.T) {
	le := readFixture(t, "rootfs-noi.sqfs")
	be, err := toBigEndian(le)
	if err != nil {
		t.Fatal(err)
	}
	if string(be[:4]) != "sqsh" {
		t.Fatalf("magic %q", be[:4])
	}
	lefs, befs := openBytes(t, le), openBytes(t, be)
	if !befs.Info().BigEndian {
		t.Error("Info().BigEndian is false")
	}
	if befs.sb != lefs.sb {
		t.Errorf("superblocks differ:\n be %+v\n le %+v", befs.sb, lefs.sb)
	}
	if befs.bo != binary.ByteOrder(binary.BigEndian) {
		t.Errorf("byte order %v", befs.bo)
	}
	// Metadata level: the same block decodes to the same bytes.
	for _, pos := range []uint64{lefs.sb.inodeTable, lefs.sb.directoryTable} {
		a, err1 := lefs.loadMetaBlock(int64(pos))
		b, err2 := befs.loadMetaBlock(int64(pos))
		if err1 != nil || err2 != nil || a.next != b.next || len(a.data) != len(b.data) {
			t.Errorf("metadata block at %d: %v, %v", pos, err1, err2)
		}
	}
	compareManifest(t, befs)
	st, err := befs.Stat("dev/console")
	if err != nil {
		t.Fatal(err)
	}
	if s := st.Sys().(*Stat); s.Major() != 5 || s.Minor() != 1 {
		t.Errorf("dev/console %d:%d", s.Major(), s.Minor())
	}
	// Hostile input in this byte order too.
	for cut := 0; cut < len(be); cut += len(be) / 40 {
		if fsys, err := Open(bytes.NewReader(be[:cut]), int64(cut)); err == nil {
			walkAll(t, fsys, 1<<16)
		}
	}
}

// TestBigEndianCompressedMeta checks a big-endian metadata block header
// with the compressed bit clear: the block is read through the
// decompressor.
func TestBigEndianCompressedMeta(t *testing.T) {
	gz := readFixture(t, "rootfs-gzip.sqfs")
	lefs := openBytes(t, gz)
	pos := int64(lefs.sb.inodeTable)
	want, err := lefs.loadMetaBlock(pos)
	if err != nil {
		t.Fatal(err)
	}
	// Byte-swap only the header of the first inode table block and read
	// it with a big-endian FS view.
	img := bytes.Clone(gz)
	img[pos], img[pos+1] = img[pos+1], img[pos]
	befs := &FS{r: bytes.NewReader(img), end: int64(len(img)), bo: binary.BigEndian, sb: lefs.sb,
		info: lefs.info, dec: lefs.dec, meta: newCache[metaBlock](1 << 20)}
	got, err := befs.loadMetaBlock(pos)
	if err != nil || !bytes.Equal(got.data, want.data) || got.next != want.next {
		t.Errorf("big-endian compressed block: %v", err)
	}
}

// TestDirectoryLoop points an entry of a/b/c at directory a: walking it
// must end with a loop error, not recurse.
func TestDirectoryLoop(t *testing.T) {
	img := readFixture(t, "rootfs-noi.sqfs")
	fsys := openBytes(t, img)
	a, err := fsys.lookup("test", "a", true)
	if err != nil {
		t.Fatal(err)
	}
	c, err := fsys.lookup("test", "a/b/c", true)
	if err != nil {
		t.Fatal(err)
	}
	// The listing of a/b/c: one header and the entry "d", in one
	// uncompressed metadata block.
	blk := int(fsys.sb.directoryTable) + int(c.dirBlock)
	if n := int(binary.LittleEndian.Uint16(img[blk:]) & 0x7FFF); int(c.dirOffset)+20 > n {
		t.Fatalf("listing crosses a block")
	}
	at := blk + 2 + int(c.dirOffset)
	binary.LittleEndian.PutUint32(img[at+4:], uint32(a.ref>>16))
	binary.LittleEndian.PutUint16(img[at+12:], uint16(a.ref))
	fsys = openBytes(t, img)
	ents, err := fsys.ReadDir("a/b/c")
	if err != nil || len(ents) != 1 || !ents[0].IsDir() {
		t.Fatalf("a/b/c: %v, %v", ents, err)
	}
	_, err = fsys.ReadDir("a/b/c/d")
	if err == nil || !strings.Contains(err.Error(), "directory loop") {
		t.Errorf("readdir a/b/c/d: %v", err)
	}
	n := 0
	err = fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		n++
		return nil
	})
	if err != nil || n > 1000 {
		t.Errorf("walk: %d entries, %v", n, err)
	}
}
