package firmware

import (
	"fmt"
	"io"
	"os"
)

// nandGeometry is a NAND flash page layout. A raw dump of such a chip
// (nanddump --oob, a programmer's read-out) carries each page's spare
// (OOB) bytes, which hold the bad-block marker and ECC, right after the
// page; the file systems on it (UBI, JFFS2, squashfs) are written in the
// pages alone.
type nandGeometry struct {
	page, oob int64
	// bbm is where the bad-block marker lies in the spare bytes: 0xff on
	// every page of a good block.
	bbm int
}

// format names the layer, e.g. "nand-2048+64".
func (g nandGeometry) format() string { return fmt.Sprintf("nand-%d+%d", g.page, g.oob) }

// nandGeometries are the common page and spare sizes, small-page first.
var nandGeometries = []nandGeometry{
	{512, 16, 5}, {2048, 64, 0}, {2048, 128, 0}, {4096, 128, 0}, {4096, 224, 0},
	{4096, 256, 0}, {8192, 448, 0}, {8192, 512, 0},
}

// nandSamples is how many pages detectNAND looks at, spread over the dump.
const nandSamples = 512

// detectNAND reports the geometry of f (size bytes) when it is a raw NAND
// dump with spare bytes: a whole number of pages with their spares, whose
// sampled spares nearly all carry a good-block marker, and whose written
// pages carry ECC there. Data that merely has the right size fails, as the
// bytes where the spares would be are the data's own: rarely 0xff at the
// marker, and all 0xff where data is erased.
func detectNAND(f io.ReaderAt, size int64) (nandGeometry, bool) {
	for _, g := range nandGeometries {
		stride := g.page + g.oob
		if size%stride != 0 || size/stride < 64 {
			continue
		}
		pages := size / stride
		n := min(pages, nandSamples)
		head := make([]byte, 16)
		spare := make([]byte, g.oob)
		marked, written, withECC := int64(0), int64(0), int64(0)
		for i := range n {
			p := i * pages / n
			if _, err := f.ReadAt(head, p*stride); err != nil {
				return nandGeometry{}, false
			}
			if _, err := f.ReadAt(spare, p*stride+g.page); err != nil {
				return nandGeometry{}, false
			}
			good := spare[g.bbm] == 0xff
			if good {
				marked++
			}
			if !allFF(head) {
				written++
				if good && !allFF(spare) {
					withECC++
				}
			}
		}
		if marked*100 >= n*95 && written >= 8 && withECC*10 >= written*9 {
			return g, true
		}
	}
	return nandGeometry{}, false
}

func allFF(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

// nand examines a raw NAND dump as the pages alone: it copies them,
// without their spare bytes, to a spool file and unpacks that as a
// region, under a layer that names the geometry. Offsets inside are in
// the pages' data.
func (u *unpacker) nand(f *os.File, size int64, g nandGeometry, name string) int {
	leave := u.push(g.format(), 0)
	defer leave()
	u.covered(f, 0, size)
	return u.spoolReader(&pageReader{r: f, g: g, size: size}, 1, name, true)
}

// pageReader reads the pages of a NAND dump, skipping each one's spare
// bytes.
type pageReader struct {
	r    io.ReaderAt
	g    nandGeometry
	size int64
	off  int64 // in the pages' data
}

func (p *pageReader) Read(b []byte) (int, error) {
	page, in := p.off/p.g.page, p.off%p.g.page
	pos := page*(p.g.page+p.g.oob) + in
	if pos >= p.size {
		return 0, io.EOF
	}
	n, err := p.r.ReadAt(b[:min(int64(len(b)), p.g.page-in)], pos)
	p.off += int64(n)
	if err == io.EOF && n > 0 {
		err = nil
	}
	return n, err
}

// NAND names the geometry of the file at path (e.g. "nand-2048+64") when
// it is a raw NAND dump with spare bytes, which Unpack reads as its pages
// alone; else "".
func NAND(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return ""
	}
	if g, ok := detectNAND(f, fi.Size()); ok {
		return g.format()
	}
	return ""
}
