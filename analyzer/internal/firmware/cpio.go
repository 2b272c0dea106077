package firmware

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

const (
	newcHeaderSize = 110
	odcHeaderSize  = 76
	binHeaderSize  = 26
	maxNameSize    = 4096
	maxLinkTarget  = 4096
	cpioTrailer    = "TRAILER!!!"
)

// File type bits of a cpio mode.
const (
	modeType    = 0o170000
	modeDir     = 0o040000
	modeRegular = 0o100000
	modeSymlink = 0o120000
	modeChar    = 0o020000
	modeBlock   = 0o060000
	modeFifo    = 0o010000
	modeSocket  = 0o140000
)

// cpioHeader is one parsed cpio entry header.
type cpioHeader struct {
	name  string
	mode  uint32
	nlink uint32
	dev   uint64
	ino   uint64
	size  int64
}

// cpioReader reads newc (070701), crc (070702), odc (070707) and old
// binary cpio archives from a stream, one entry at a time.
type cpioReader struct {
	r      io.Reader
	off    int64 // bytes consumed so far
	remain int64 // unread data of the current entry
	pad    int64 // padding after the current entry's data
}

func newCpioReader(r io.Reader) *cpioReader { return &cpioReader{r: r} }

func (c *cpioReader) readFull(b []byte) error {
	n, err := io.ReadFull(c.r, b)
	c.off += int64(n)
	return err
}

// skip discards n bytes.
func (c *cpioReader) skip(n int64) error {
	m, err := io.CopyN(io.Discard, c.r, n)
	c.off += m
	return err
}

// Read reads the current entry's data.
func (c *cpioReader) Read(b []byte) (int, error) {
	if c.remain <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > c.remain {
		b = b[:c.remain]
	}
	n, err := c.r.Read(b)
	c.off += int64(n)
	c.remain -= int64(n)
	if err == io.EOF && c.remain > 0 {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// next skips the rest of the current entry and reads the next header. It
// returns io.EOF at the trailer.
func (c *cpioReader) next() (*cpioHeader, error) {
	if err := c.skip(c.remain + c.pad); err != nil {
		return nil, fmt.Errorf("entry data truncated: %w", eofUnexpected(err))
	}
	c.remain, c.pad = 0, 0
	start := c.off
	magic := make([]byte, 6)
	if err := c.readFull(magic[:2]); err != nil {
		return nil, fmt.Errorf("header at 0x%x truncated: %w", start, eofUnexpected(err))
	}
	var h *cpioHeader
	var err error
	var align int64
	if (magic[0] == 0xc7 && magic[1] == 0x71) || (magic[0] == 0x71 && magic[1] == 0xc7) {
		h, err = c.binary(magic[:2])
		align = 2
	} else {
		if err := c.readFull(magic[2:]); err != nil {
			return nil, fmt.Errorf("header at 0x%x truncated: %w", start, eofUnexpected(err))
		}
		switch string(magic) {
		case "070701", "070702":
			h, err = c.newc()
			align = 4
		case "070707":
			h, err = c.odc()
			align = 1
		default:
			return nil, fmt.Errorf("bad header magic %q at 0x%x", magic, start)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("header at 0x%x: %w", start, err)
	}
	if h.name == cpioTrailer {
		return nil, io.EOF
	}
	c.remain = h.size
	c.pad = (align - h.size%align) % align
	return h, nil
}

// readName reads a NUL-terminated name of n bytes and the padding after
// it, so that header plus name end on an align boundary from start.
func (c *cpioReader) readName(n int64, start int64, align int64) (string, error) {
	if n < 1 || n > maxNameSize {
		return "", fmt.Errorf("name size %d out of range", n)
	}
	b := make([]byte, n)
	if err := c.readFull(b); err != nil {
		return "", fmt.Errorf("name truncated: %w", eofUnexpected(err))
	}
	if b[n-1] != 0 {
		return "", errors.New("name is not NUL-terminated")
	}
	if pad := (align - (c.off-start)%align) % align; pad > 0 {
		if err := c.skip(pad); err != nil {
			return "", fmt.Errorf("name padding truncated: %w", eofUnexpected(err))
		}
	}
	return string(b[:n-1]), nil
}

func (c *cpioReader) newc() (*cpioHeader, error) {
	start := c.off - 6
	b := make([]byte, newcHeaderSize-6)
	if err := c.readFull(b); err != nil {
		return nil, fmt.Errorf("truncated: %w", eofUnexpected(err))
	}
	var f [13]uint64
	for i := range f {
		v, err := strconv.ParseUint(string(b[i*8:i*8+8]), 16, 32)
		if err != nil {
			return nil, fmt.Errorf("bad newc field %d: %q", i, b[i*8:i*8+8])
		}
		f[i] = v
	}
	h := &cpioHeader{ino: f[0], mode: uint32(f[1]), nlink: uint32(f[4]), size: int64(f[6]), dev: f[7]<<32 | f[8]}
	name, err := c.readName(int64(f[11]), start, 4)
	if err != nil {
		return nil, err
	}
	h.name = name
	return h, nil
}

func (c *cpioReader) odc() (*cpioHeader, error) {
	start := c.off - 6
	b := make([]byte, odcHeaderSize-6)
	if err := c.readFull(b); err != nil {
		return nil, fmt.Errorf("truncated: %w", eofUnexpected(err))
	}
	// Offsets below are relative to the end of the magic.
	field := func(from, to int) (uint64, error) {
		v, err := strconv.ParseUint(string(b[from:to]), 8, 64)
		if err != nil {
			return 0, fmt.Errorf("bad odc field %q", b[from:to])
		}
		return v, nil
	}
	var vals [6]uint64
	spans := [6][2]int{{0, 6}, {6, 12}, {12, 18}, {30, 36}, {53, 59}, {59, 70}} // dev ino mode nlink namesize filesize
	for i, s := range spans {
		v, err := field(s[0], s[1])
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	h := &cpioHeader{dev: vals[0], ino: vals[1], mode: uint32(vals[2]), nlink: uint32(vals[3]), size: int64(vals[5])}
	name, err := c.readName(int64(vals[4]), start, 1)
	if err != nil {
		return nil, err
	}
	h.name = name
	return h, nil
}

func (c *cpioReader) binary(magic []byte) (*cpioHeader, error) {
	start := c.off - 2
	b := make([]byte, binHeaderSize)
	copy(b, magic)
	if err := c.readFull(b[2:]); err != nil {
		return nil, fmt.Errorf("truncated: %w", eofUnexpected(err))
	}
	var bo binary.ByteOrder = binary.LittleEndian
	if b[0] == 0x71 {
		bo = binary.BigEndian
	}
	u := func(i int) uint64 { return uint64(bo.Uint16(b[i:])) }
	h := &cpioHeader{
		dev: u(2), ino: u(4), mode: uint32(u(6)), nlink: uint32(u(12)),
		size: int64(u(22)<<16 | u(24)),
	}
	name, err := c.readName(int64(u(20)), start, 2)
	if err != nil {
		return nil, err
	}
	h.name = name
	return h, nil
}

func eofUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// extractCpio writes the cpio archive read from r through w. It returns
// an error only when the first header cannot be read; later problems
// become gaps.
func extractCpio(ctx context.Context, r io.Reader, w *extract.Writer) error {
	cr := newCpioReader(r)
	type linkKey struct{ dev, ino uint64 }
	written := map[linkKey]string{}   // hard-link group → name holding the data
	pending := map[linkKey][]string{} // hard links seen before their data
	var order []linkKey
	for n := 0; !w.Stopped(); n++ {
		if err := ctx.Err(); err != nil {
			w.Gap("/", "cpio: "+err.Error())
			break
		}
		h, err := cr.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			if n == 0 {
				return fmt.Errorf("cpio at 0x0: %w", err)
			}
			w.Gap("/", "cpio archive truncated or corrupt after this point: "+err.Error())
			break
		}
		if !w.Admit(h.name) {
			continue
		}
		switch h.mode & modeType {
		case modeDir:
			w.Dir(h.name)
		case modeSymlink:
			if h.size > maxLinkTarget {
				w.Gap(h.name, fmt.Sprintf("symlink target of %d bytes not extracted", h.size))
				continue
			}
			b, err := io.ReadAll(cr)
			if err != nil {
				w.Gap(h.name, "cpio archive truncated in symlink: "+err.Error())
				return nil
			}
			w.Symlink(h.name, string(b))
		case modeRegular:
			key := linkKey{h.dev, h.ino}
			if h.nlink > 1 && h.size == 0 {
				if first, ok := written[key]; ok {
					w.Hardlink(h.name, first)
				} else {
					if _, ok := pending[key]; !ok {
						order = append(order, key)
					}
					pending[key] = append(pending[key], h.name)
				}
				continue
			}
			w.File(h.name, cr, h.size)
			if cr.remain > 0 && !w.Stopped() {
				// The writer refused the entry (per-file limit) or the
				// stream ended: skip the data, or find out it is gone.
				if err := cr.skip(cr.remain); err != nil {
					w.Gap(h.name, "cpio archive truncated in this entry: "+eofUnexpected(err).Error())
					return nil
				}
				cr.remain = 0
			}
			if h.nlink > 1 {
				if _, ok := written[key]; !ok {
					written[key] = h.name
				}
				for _, l := range pending[key] {
					w.Hardlink(l, h.name)
				}
				delete(pending, key)
			}
		case modeChar, modeBlock, modeFifo, modeSocket:
			// Device nodes, pipes and sockets store no content.
		default:
			w.Gap(h.name, fmt.Sprintf("special file (cpio mode %06o) not examined", h.mode))
		}
	}
	// Hard links whose data never came are empty files.
	for _, key := range order {
		for _, l := range pending[key] {
			w.File(l, strings.NewReader(""), 0)
		}
	}
	return nil
}
