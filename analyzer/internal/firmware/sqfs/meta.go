package sqfs

import (
	"errors"
	"fmt"
)

// metaBlock is one decompressed metadata block.
type metaBlock struct {
	data []byte // up to 8 KiB; shared, read-only
	next int64  // image position of the following block
}

// metaBlockAt returns the metadata block stored at pos, from the cache when
// it is there.
func (f *FS) metaBlockAt(pos int64) (metaBlock, error) {
	return f.meta.get(uint64(pos), func() (metaBlock, int, error) {
		b, err := f.loadMetaBlock(pos)
		return b, len(b.data) + 64, err
	})
}

// loadMetaBlock reads and decompresses the metadata block at pos: a 2-byte
// header (bit 15 set when stored uncompressed, the stored size below it)
// and at most 8 KiB of data.
func (f *FS) loadMetaBlock(pos int64) (metaBlock, error) {
	var h [2]byte
	if err := f.readAt(h[:], pos); err != nil {
		return metaBlock{}, fmt.Errorf("metadata block at %d: %w", pos, err)
	}
	hdr := f.bo.Uint16(h[:])
	n := int(hdr & 0x7FFF)
	if n == 0 || n > metaSize {
		return metaBlock{}, fmt.Errorf("metadata block at %d: stored size %d", pos, n)
	}
	src := make([]byte, n)
	if err := f.readAt(src, pos+2); err != nil {
		return metaBlock{}, fmt.Errorf("metadata block at %d: %w", pos, err)
	}
	next := pos + 2 + int64(n)
	if hdr&0x8000 != 0 {
		return metaBlock{data: src, next: next}, nil
	}
	dst := make([]byte, metaSize)
	k, err := f.decompress(dst, src)
	if err != nil {
		return metaBlock{}, fmt.Errorf("metadata block at %d: %s: %w", pos, f.info.Compression, err)
	}
	return metaBlock{data: dst[:k:k], next: next}, nil
}

// metaReader reads a byte stream that runs through consecutive metadata
// blocks, as inodes, directory listings and tables do.
type metaReader struct {
	f       *FS
	limit   int64 // blocks must start before this position
	pos     int64 // position of the current block
	block   []byte
	next    int64
	off     int
	scratch []byte // holds values that span two blocks
}

// errMetaEnd reports a metadata stream that runs past its table.
var errMetaEnd = errors.New("metadata runs past the end of its table")

// metaReader starts reading at byte off of the metadata block at pos;
// blocks at or after limit are not read.
func (f *FS) metaReader(pos int64, off int, limit int64) (*metaReader, error) {
	m := &metaReader{f: f, limit: limit}
	if err := m.load(pos); err != nil {
		return nil, err
	}
	if off > len(m.block) {
		return nil, fmt.Errorf("offset %d beyond metadata block at %d (%d bytes)", off, pos, len(m.block))
	}
	m.off = off
	return m, nil
}

func (m *metaReader) load(pos int64) error {
	if pos >= m.limit {
		return errMetaEnd
	}
	b, err := m.f.metaBlockAt(pos)
	if err != nil {
		return err
	}
	m.pos, m.block, m.next, m.off = pos, b.data, b.next, 0
	return nil
}

// bytes returns the next n bytes. The slice is valid until the next call
// and must not be modified.
func (m *metaReader) bytes(n int) ([]byte, error) {
	if m.off+n <= len(m.block) {
		b := m.block[m.off : m.off+n]
		m.off += n
		return b, nil
	}
	if cap(m.scratch) < n {
		m.scratch = make([]byte, n)
	}
	p := m.scratch[:n]
	for done := 0; done < n; {
		if m.off == len(m.block) {
			if err := m.load(m.next); err != nil {
				return nil, err
			}
			continue
		}
		k := copy(p[done:], m.block[m.off:])
		m.off += k
		done += k
	}
	return p, nil
}

// u32 reads one field in the image's byte order.
func (m *metaReader) u32() (uint32, error) {
	b, err := m.bytes(4)
	if err != nil {
		return 0, err
	}
	return m.f.bo.Uint32(b), nil
}
