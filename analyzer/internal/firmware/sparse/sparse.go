// Package sparse reads Android sparse images (the format of img2simg and
// fastboot) as the plain image they stand for, without expanding it: RAW
// chunks map to ranges of the input, FILL chunks repeat a 4-byte pattern
// and DONT_CARE chunks read as zeros. CRC32 chunks are accepted but their
// values are not checked, nor is the header's image checksum (checking
// them would mean reading the whole image up front).
//
// All little-endian: a file header (magic 0xed26ff3a, major version 1,
// header and chunk-header sizes, block size, total blocks, total chunks,
// checksum) followed by the chunks, each a header (type, reserved, size
// in output blocks, size in input bytes including the header) and its
// data.
package sparse

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

const (
	magic         = 0xed26ff3a
	fileHeaderLen = 28
	chunkHdrLen   = 12
	maxHeaderLen  = 1024     // a header size larger than this is corrupt
	maxBlockSize  = 64 << 20 // likewise for the block size
	// MaxChunks caps the chunks of an image, bounding Open's memory use
	// (about 40 bytes a chunk).
	MaxChunks = 1 << 20

	chunkRaw      = 0xcac1
	chunkFill     = 0xcac2
	chunkDontCare = 0xcac3
	chunkCRC32    = 0xcac4
)

// extent is a range [start, end) of the expanded image and its source.
type extent struct {
	start, end int64
	kind       uint16
	src        int64   // input offset of the data of a RAW extent
	fill       [4]byte // the pattern of a FILL extent
}

// Image is the expanded view of a sparse image. It is safe for concurrent
// use when the underlying io.ReaderAt is.
type Image struct {
	r         io.ReaderAt
	size      int64
	blockSize int64
	extents   []extent // ordered, covering [0, size) without gaps
}

// Is reports whether head starts with a sparse image header.
func Is(head []byte) bool {
	return len(head) >= fileHeaderLen && binary.LittleEndian.Uint32(head) == magic &&
		binary.LittleEndian.Uint16(head[4:]) == 1
}

// Open checks the sparse image in r[0:size) and maps its chunks. It fails
// on anything inconsistent: an unknown chunk type, a chunk whose sizes
// disagree with its type, chunk data past the end of the input (a
// truncated image is refused rather than padded), or block counts that do
// not add up to the header's total.
func Open(r io.ReaderAt, size int64) (*Image, error) {
	var h [fileHeaderLen]byte
	if size < fileHeaderLen {
		return nil, errors.New("sparse: not a sparse image: too short")
	}
	if _, err := r.ReadAt(h[:], 0); err != nil {
		return nil, fmt.Errorf("sparse: reading header: %w", err)
	}
	le := binary.LittleEndian
	if le.Uint32(h[:]) != magic {
		return nil, errors.New("sparse: not a sparse image: bad magic")
	}
	if v := le.Uint16(h[4:]); v != 1 {
		return nil, fmt.Errorf("sparse: unsupported major version %d", v)
	}
	fileHdr := int64(le.Uint16(h[8:]))
	chunkHdr := int64(le.Uint16(h[10:]))
	blockSize := int64(le.Uint32(h[12:]))
	totalBlocks := int64(le.Uint32(h[16:]))
	totalChunks := int64(le.Uint32(h[20:]))
	switch {
	case fileHdr < fileHeaderLen || fileHdr > maxHeaderLen:
		return nil, fmt.Errorf("sparse: bad file header size %d", fileHdr)
	case chunkHdr < chunkHdrLen || chunkHdr > maxHeaderLen:
		return nil, fmt.Errorf("sparse: bad chunk header size %d", chunkHdr)
	case blockSize == 0 || blockSize%4 != 0 || blockSize > maxBlockSize:
		return nil, fmt.Errorf("sparse: bad block size %d", blockSize)
	case totalChunks > MaxChunks:
		return nil, fmt.Errorf("sparse: %d chunks, more than the %d allowed", totalChunks, MaxChunks)
	case totalChunks > (size-fileHdr)/chunkHdr:
		return nil, fmt.Errorf("sparse: %d chunks cannot fit in %d bytes", totalChunks, size)
	}
	m := &Image{r: r, size: totalBlocks * blockSize, blockSize: blockSize}
	hdr := make([]byte, chunkHdr+4)
	off, block := fileHdr, int64(0)
	for i := range totalChunks {
		if _, err := r.ReadAt(hdr[:chunkHdr], off); err != nil {
			return nil, fmt.Errorf("sparse: chunk %d at 0x%x: %w", i, off, err)
		}
		typ := le.Uint16(hdr)
		blocks := int64(le.Uint32(hdr[4:]))
		total := int64(le.Uint32(hdr[8:]))
		if total < chunkHdr || total > size-off {
			return nil, fmt.Errorf("sparse: chunk %d at 0x%x: size %d outside the input", i, off, total)
		}
		data := total - chunkHdr
		e := extent{start: block * blockSize, kind: typ}
		switch typ {
		case chunkRaw:
			if data != blocks*blockSize {
				return nil, fmt.Errorf("sparse: raw chunk %d at 0x%x: %d data bytes for %d blocks", i, off, data, blocks)
			}
			e.src = off + chunkHdr
		case chunkFill:
			if data != 4 {
				return nil, fmt.Errorf("sparse: fill chunk %d at 0x%x: %d data bytes, want 4", i, off, data)
			}
			if _, err := r.ReadAt(e.fill[:], off+chunkHdr); err != nil {
				return nil, fmt.Errorf("sparse: fill chunk %d at 0x%x: %w", i, off, err)
			}
		case chunkDontCare:
			if data != 0 {
				return nil, fmt.Errorf("sparse: don't-care chunk %d at 0x%x: %d data bytes, want 0", i, off, data)
			}
		case chunkCRC32:
			if data != 4 {
				return nil, fmt.Errorf("sparse: CRC32 chunk %d at 0x%x: %d data bytes, want 4", i, off, data)
			}
			blocks = 0 // a checksum covers no blocks of its own
		default:
			return nil, fmt.Errorf("sparse: chunk %d at 0x%x: unknown type 0x%04x", i, off, typ)
		}
		if blocks > totalBlocks-block {
			return nil, fmt.Errorf("sparse: chunk %d at 0x%x: blocks run past the %d of the image", i, off, totalBlocks)
		}
		block += blocks
		off += total
		if blocks > 0 {
			e.end = block * blockSize
			m.extents = append(m.extents, e)
		}
	}
	if block != totalBlocks {
		return nil, fmt.Errorf("sparse: chunks cover %d blocks, header says %d", block, totalBlocks)
	}
	return m, nil
}

// Size returns the size of the expanded image.
func (m *Image) Size() int64 { return m.size }

// BlockSize returns the image's block size.
func (m *Image) BlockSize() int64 { return m.blockSize }

// ReadAt reads the expanded image at off, following io.ReaderAt.
func (m *Image) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("sparse: negative offset %d", off)
	}
	if off >= m.size {
		return 0, io.EOF
	}
	i := sort.Search(len(m.extents), func(i int) bool { return m.extents[i].end > off })
	n := 0
	for n < len(p) && i < len(m.extents) {
		e := &m.extents[i]
		pos := off + int64(n)
		k := int(min(int64(len(p)-n), e.end-pos))
		dst := p[n : n+k]
		switch e.kind {
		case chunkRaw:
			got, err := m.r.ReadAt(dst, e.src+pos-e.start)
			if got < k {
				if err == nil || err == io.EOF {
					err = io.ErrUnexpectedEOF
				}
				return n + got, fmt.Errorf("sparse: reading raw data at 0x%x: %w", e.src+pos-e.start, err)
			}
		case chunkFill:
			phase := int((pos - e.start) & 3)
			for j := range dst {
				dst[j] = e.fill[(phase+j)&3]
			}
		default:
			clear(dst)
		}
		n += k
		i++
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
