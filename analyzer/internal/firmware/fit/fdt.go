package fit

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Flattened device tree layout (devicetree specification, chapter 5).
const (
	fdtMagic      = 0xd00dfeed
	fdtHeaderSize = 40

	tokBeginNode = 1
	tokEndNode   = 2
	tokProp      = 3
	tokNop       = 4
	tokEnd       = 9

	maxDepth   = 64      // node nesting
	maxStrings = 1 << 20 // strings block read into memory
	maxName    = 1024    // node name
	maxValue   = 4096    // property values read into memory
)

// fdtHeader holds the header fields used here (all big-endian).
type fdtHeader struct {
	totalSize, offStruct, offStrings uint32
	version, lastComp                uint32
	sizeStrings, sizeStruct          uint32
}

// parseHeader checks the header's magic, version and internal
// consistency (blocks inside totalsize); it cannot know the input size.
func parseHeader(b []byte) (fdtHeader, error) {
	if len(b) < fdtHeaderSize {
		return fdtHeader{}, errors.New("header truncated")
	}
	be := binary.BigEndian
	if be.Uint32(b) != fdtMagic {
		return fdtHeader{}, errors.New("bad magic")
	}
	h := fdtHeader{
		totalSize: be.Uint32(b[4:]), offStruct: be.Uint32(b[8:]), offStrings: be.Uint32(b[12:]),
		version: be.Uint32(b[20:]), lastComp: be.Uint32(b[24:]),
		sizeStrings: be.Uint32(b[32:]), sizeStruct: be.Uint32(b[36:]),
	}
	switch {
	case h.version < 16 || h.lastComp > 17 || h.lastComp > h.version:
		return fdtHeader{}, fmt.Errorf("unsupported version %d (compatible with %d)", h.version, h.lastComp)
	case h.totalSize < fdtHeaderSize:
		return fdtHeader{}, fmt.Errorf("total size %d smaller than the header", h.totalSize)
	case h.offStruct < fdtHeaderSize || h.offStruct%4 != 0 || h.offStruct >= h.totalSize:
		return fdtHeader{}, fmt.Errorf("structure block offset 0x%x outside the blob", h.offStruct)
	case h.offStrings < fdtHeaderSize || h.offStrings > h.totalSize || h.sizeStrings > h.totalSize-h.offStrings:
		return fdtHeader{}, fmt.Errorf("strings block [0x%x, +0x%x) outside the blob", h.offStrings, h.sizeStrings)
	case h.version >= 17 && h.sizeStruct > h.totalSize-h.offStruct:
		return fdtHeader{}, fmt.Errorf("structure block [0x%x, +0x%x) outside the blob", h.offStruct, h.sizeStruct)
	}
	return h, nil
}

// structLen returns the length of the structure block: the declared one
// from version 17, else up to the end of the blob (the FDT_END token ends
// the walk earlier).
func (h fdtHeader) structLen() int64 {
	if h.version >= 17 {
		return int64(h.sizeStruct)
	}
	return int64(h.totalSize - h.offStruct)
}

// visitor receives the walk's events. path holds the names of the open
// nodes, root first (the root's name is "").
type visitor interface {
	beginNode(path []string) error
	endNode(path []string) error
	// prop gets a property of the innermost node: its name, its length,
	// its offset from the start of the blob, and its value when the
	// visitor asked for it through want and it is at most maxValue long.
	prop(path []string, name string, size, off int64, value []byte) error
	want(path []string, name string) bool
}

// walk reads the structure block of the blob at the start of r and calls v
// for every node and property, checking every bound on the way.
func walk(r io.ReaderAt, h fdtHeader, v visitor) error {
	strs := make([]byte, min(int64(h.sizeStrings), maxStrings))
	if int64(h.sizeStrings) > maxStrings {
		return fmt.Errorf("strings block of %d bytes is too large", h.sizeStrings)
	}
	if _, err := r.ReadAt(strs, int64(h.offStrings)); err != nil {
		return fmt.Errorf("reading strings block: %w", err)
	}
	s := newStructReader(r, int64(h.offStruct), h.structLen())
	var path []string
	for {
		at := s.pos
		tok, err := s.u32()
		if err != nil {
			return fmt.Errorf("token at 0x%x: %w", at, err)
		}
		switch tok {
		case tokBeginNode:
			name, err := s.cstring()
			if err != nil {
				return fmt.Errorf("node name at 0x%x: %w", at, err)
			}
			if len(path) == maxDepth {
				return fmt.Errorf("node at 0x%x: nested more than %d deep", at, maxDepth)
			}
			path = append(path, name)
			if err := v.beginNode(path); err != nil {
				return err
			}
		case tokEndNode:
			if len(path) == 0 {
				return fmt.Errorf("end of node at 0x%x without a node", at)
			}
			if err := v.endNode(path); err != nil {
				return err
			}
			path = path[:len(path)-1]
		case tokProp:
			size, err := s.u32()
			if err != nil {
				return fmt.Errorf("property at 0x%x: %w", at, err)
			}
			nameOff, err := s.u32()
			if err != nil {
				return fmt.Errorf("property at 0x%x: %w", at, err)
			}
			if len(path) == 0 {
				return fmt.Errorf("property at 0x%x outside any node", at)
			}
			name, err := cstringAt(strs, nameOff)
			if err != nil {
				return fmt.Errorf("property at 0x%x: name: %w", at, err)
			}
			valOff := s.pos
			var value []byte
			if size <= maxValue && v.want(path, name) {
				if value, err = s.bytes(int(size)); err != nil {
					return fmt.Errorf("property %q at 0x%x: %w", name, at, err)
				}
			} else if err := s.skip(int64(size)); err != nil {
				return fmt.Errorf("property %q at 0x%x: %w", name, at, err)
			}
			if err := s.align(); err != nil {
				return fmt.Errorf("property %q at 0x%x: %w", name, at, err)
			}
			if err := v.prop(path, name, int64(size), valOff, value); err != nil {
				return err
			}
		case tokNop:
		case tokEnd:
			if len(path) != 0 {
				return fmt.Errorf("end of tree at 0x%x inside %d open nodes", at, len(path))
			}
			return nil
		default:
			return fmt.Errorf("unknown token 0x%x at 0x%x", tok, at)
		}
	}
}

// cstringAt returns the NUL-terminated string at off in the strings block.
func cstringAt(strs []byte, off uint32) (string, error) {
	if int64(off) >= int64(len(strs)) {
		return "", fmt.Errorf("offset %d outside the %d-byte strings block", off, len(strs))
	}
	for i, c := range strs[off:] {
		if c == 0 {
			return string(strs[off : int(off)+i]), nil
		}
	}
	return "", fmt.Errorf("string at %d not terminated", off)
}

// structReader reads the structure block sequentially, keeping track of
// the position (from the start of the blob) and skipping property values
// without reading them.
type structReader struct {
	sr        *io.SectionReader
	br        *bufio.Reader
	base, end int64 // the block, from the start of the blob
	pos       int64
}

func newStructReader(r io.ReaderAt, off, n int64) *structReader {
	sr := io.NewSectionReader(r, off, n)
	return &structReader{sr: sr, br: bufio.NewReaderSize(sr, 16<<10), base: off, end: off + n, pos: off}
}

// truncated turns an early end of the block into a clear error.
func truncated(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("structure block truncated")
	}
	return err
}

func (s *structReader) u32() (uint32, error) {
	var b [4]byte
	if _, err := io.ReadFull(s.br, b[:]); err != nil {
		return 0, truncated(err)
	}
	s.pos += 4
	return binary.BigEndian.Uint32(b[:]), nil
}

func (s *structReader) bytes(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(s.br, b); err != nil {
		return nil, truncated(err)
	}
	s.pos += int64(n)
	return b, nil
}

// skip moves n bytes on, seeking past what is not buffered.
func (s *structReader) skip(n int64) error {
	if n > s.end-s.pos {
		return truncated(io.EOF)
	}
	if n <= int64(s.br.Buffered()) {
		s.br.Discard(int(n))
		s.pos += n
		return nil
	}
	s.pos += n
	if _, err := s.sr.Seek(s.pos-s.base, io.SeekStart); err != nil {
		return err
	}
	s.br.Reset(s.sr)
	return nil
}

// align moves to the next multiple of 4 from the start of the blob (the
// structure block starts at one).
func (s *structReader) align() error {
	return s.skip((4 - s.pos%4) % 4)
}

// cstring reads a NUL-terminated node name and aligns.
func (s *structReader) cstring() (string, error) {
	var name []byte
	for {
		c, err := s.br.ReadByte()
		if err != nil {
			return "", truncated(err)
		}
		s.pos++
		if c == 0 {
			break
		}
		if len(name) == maxName {
			return "", fmt.Errorf("longer than %d bytes", maxName)
		}
		name = append(name, c)
	}
	return string(name), s.align()
}
