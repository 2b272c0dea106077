package jffs2

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ulikunitz/xz/lzma"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

// FuzzJFFS2 opens arbitrary images and walks and reads everything in them,
// with Read and ReadAt; it must never panic or hang.
func FuzzJFFS2(f *testing.F) {
	for _, name := range fixtures {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		f.Add(data[:4096]) // the first nodes only: quick to mutate
	}
	// A small hand-made log with every decoder.
	page := bytes.Repeat([]byte("netwarden engine "), 64)
	for _, big := range []bool{false, true} {
		l := &log{big: big}
		l.dirent(rootIno, 1, 2, 8, "f")
		l.dirent(rootIno, 2, 3, 10, "l")
		l.inode(3, 1, unixmode.IFLNK|0o777, 1, 0, comprNone, []byte("f"), 1)
		l.inode(2, 1, unixmode.IFREG|0o644, 5000, 0, comprZlib, zlibCompress(page), len(page))
		l.inode(2, 2, unixmode.IFREG|0o644, 5000, 1000, comprRtime, rtimeCompress(page), len(page))
		l.inode(2, 3, unixmode.IFREG|0o644, 5000, 2000, comprLZMA,
			lzmaCompress(f, page, lzma.Properties{}, lzmaDictSize, false), len(page))
		f.Add(l.b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys, err := Open(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		walkAll(t, fsys, 1<<20)
	})
}

// FuzzDecompress feeds arbitrary node data to every decoder: node CRCs
// keep damaged data from the decoders in an image, but a crafted image can
// carry valid CRCs over hostile data.
func FuzzDecompress(f *testing.F) {
	page := bytes.Repeat([]byte("netwarden engine "), 64)
	f.Add(uint8(comprZlib), zlibCompress(page), uint16(len(page)))
	f.Add(uint8(comprRtime), rtimeCompress(page), uint16(len(page)))
	f.Add(uint8(comprLZMA), lzmaCompress(f, page, lzma.Properties{}, lzmaDictSize, false), uint16(len(page)))
	f.Add(uint8(comprLZMA), lzmaCompress(f, page, lzma.Properties{LC: 3, PB: 2}, 1<<13, true), uint16(len(page)))
	for _, name := range []string{"rootfs-lzo-be.jffs2", "rootfs-le.jffs2"} {
		fsys, _ := openFixture(f, name)
		for _, in := range fsys.inodes {
			for _, n := range in.nodes {
				src := make([]byte, n.csize)
				imgfile.ReadFull(fsys.r, src, n.pos+inodeSize)
				f.Add(n.compr, src, uint16(n.dsize))
			}
		}
	}
	fsys := &FS{}
	f.Fuzz(func(t *testing.T, compr uint8, src []byte, dsize uint16) {
		fsys.decompress(compr, src, make([]byte, dsize))
	})
}
