package cramfs

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"io/fs"
	"strings"
	"testing"

	"github.com/klauspost/compress/zlib"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

// image assembles a little-endian cramfs image by hand, for the layouts
// mkfs.cramfs does not write.
type image struct{ b []byte }

func (m *image) align() {
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
}

func (m *image) u32(v uint32) { m.b = binary.LittleEndian.AppendUint32(m.b, v) }

// inode appends an inode and its padded name.
func (m *image) inode(mode uint16, size uint32, name string, offset int) {
	nameLen := (len(name) + 3) / 4
	m.u32(uint32(mode))
	m.u32(size)
	m.u32(uint32(nameLen) | uint32(offset/4)<<6)
	m.b = append(m.b, name...)
	m.align()
}

func deflate(t *testing.T, p []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(p)
	w.Close()
	return buf.Bytes()
}

// TestExtBlockPointers reads files stored with direct and uncompressed
// block pointers (CRAMFS_FLAG_EXT_BLOCK_POINTERS).
func TestExtBlockPointers(t *testing.T) {
	content := make([]byte, 3*pageSize+100)
	for i := range content {
		content[i] = byte(i*7 + i/pageSize)
	}
	const rootAt, fileAt = superSize, 128
	m := &image{b: make([]byte, superSize)}
	// Root directory: one file whose data starts at fileAt.
	m.inode(unixmode.IFREG|0o644, uint32(len(content)), "mixed", fileAt)
	rootSize := len(m.b) - rootAt
	for len(m.b) < fileAt {
		m.b = append(m.b, 0)
	}
	ptrAt := len(m.b)
	m.b = append(m.b, make([]byte, 16)...) // four block pointers, filled below
	ptr := func(i int, v uint32) { binary.LittleEndian.PutUint32(m.b[ptrAt+4*i:], v) }
	// Page 0: direct, uncompressed.
	m.align()
	ptr(0, blkDirect|blkUncompressed|uint32(len(m.b)>>2))
	m.b = append(m.b, content[:pageSize]...)
	// Page 1: direct, compressed, with its length in front.
	m.align()
	z := deflate(t, content[pageSize:2*pageSize])
	ptr(1, blkDirect|uint32(len(m.b)>>2))
	m.b = binary.LittleEndian.AppendUint16(m.b, uint16(len(z)))
	m.b = append(m.b, z...)
	// Page 2: plain pointer after a direct compressed block, uncompressed.
	m.b = append(m.b, content[2*pageSize:3*pageSize]...)
	ptr(2, blkUncompressed|uint32(len(m.b)))
	// Page 3: plain pointer after a plain uncompressed block, compressed.
	m.b = append(m.b, deflate(t, content[3*pageSize:])...)
	ptr(3, uint32(len(m.b)))
	m.align()

	sb := m.b[:superSize]
	binary.LittleEndian.PutUint32(sb[0:], magic)
	binary.LittleEndian.PutUint32(sb[4:], uint32(len(m.b)))
	binary.LittleEndian.PutUint32(sb[8:], flagFSIDv2|flagSortedDirs|flagExtBlockPtrs)
	copy(sb[16:], signature)
	copy(sb[48:], "handmade")
	binary.LittleEndian.PutUint32(sb[64:], unixmode.IFDIR|0o755)
	binary.LittleEndian.PutUint32(sb[68:], uint32(rootSize))
	binary.LittleEndian.PutUint32(sb[72:], uint32(rootAt/4)<<6)
	binary.LittleEndian.PutUint32(sb[crcOffset:], crc32.ChecksumIEEE(m.b))

	f, err := Open(bytes.NewReader(m.b), int64(len(m.b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.CheckCRC(); err != nil {
		t.Error(err)
	}
	got, err := fs.ReadFile(f, "mixed")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		for i := range got {
			if got[i] != content[i] {
				t.Fatalf("content differs at byte %d of %d", i, len(got))
			}
		}
		t.Fatalf("read %d bytes, want %d", len(got), len(content))
	}
	checkRandomAccess(t, f, "mixed")
}

// TestSharedDirectoryRefused builds a root whose entries "a" and "b" name
// the same directory, and one whose entries name a directory that another
// directory lists too: each level of a crafted image could otherwise
// multiply the next.
func TestSharedDirectoryRefused(t *testing.T) {
	build := func(rootEntries func(m *image, xAt int)) *FS {
		t.Helper()
		const xAt = 256
		m := &image{b: make([]byte, superSize)}
		rootEntries(m, xAt)
		rootSize := len(m.b) - superSize
		for len(m.b) < xAt {
			m.b = append(m.b, 0)
		}
		// The shared directory x holds one empty file.
		m.inode(unixmode.IFREG|0o644, 0, "f", 0)
		xSize := len(m.b) - xAt
		sb := m.b[:superSize]
		binary.LittleEndian.PutUint32(sb[0:], magic)
		binary.LittleEndian.PutUint32(sb[4:], uint32(len(m.b)))
		binary.LittleEndian.PutUint32(sb[8:], flagFSIDv2)
		copy(sb[16:], signature)
		binary.LittleEndian.PutUint32(sb[64:], unixmode.IFDIR|0o755)
		binary.LittleEndian.PutUint32(sb[68:], uint32(rootSize))
		binary.LittleEndian.PutUint32(sb[72:], uint32(superSize/4)<<6)
		// Directory sizes are known only now: patch them in.
		for p := superSize; p < superSize+rootSize; {
			if binary.LittleEndian.Uint32(m.b[p:])&unixmode.IFMT == unixmode.IFDIR && binary.LittleEndian.Uint32(m.b[p+8:])>>6 == xAt/4 {
				binary.LittleEndian.PutUint32(m.b[p+4:], uint32(xSize))
			}
			p += 12 + 4*int(binary.LittleEndian.Uint32(m.b[p+8:])&0x3f)
		}
		f, err := Open(bytes.NewReader(m.b), int64(len(m.b)))
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	twice := build(func(m *image, xAt int) {
		m.inode(unixmode.IFDIR|0o755, 0, "a", xAt)
		m.inode(unixmode.IFDIR|0o755, 0, "b", xAt)
	})
	if _, err := twice.ReadDir("."); err == nil || !strings.Contains(err.Error(), `"a" and "b" name the directory`) {
		t.Errorf("ReadDir(.) with two names for one directory: err = %v", err)
	}
	once := build(func(m *image, xAt int) {
		m.inode(unixmode.IFDIR|0o755, 0, "a", xAt)
	})
	if ents, err := once.ReadDir("a"); err != nil || len(ents) != 1 {
		t.Errorf("ReadDir(a) of a directory listed once: %v, %v", ents, err)
	}
}
