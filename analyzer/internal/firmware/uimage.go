package firmware

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

const (
	uImageHeaderSize = 64
	uImageTypeMulti  = 4
	maxUImageParts   = 64
)

// uImageHeader is the legacy U-Boot image header (all fields big-endian).
type uImageHeader struct {
	size  uint32
	typ   byte
	comp  byte
	name  string
	parts []int64 // sizes of the sub-images of a multi-file image
}

// parseUImage checks the header of the uImage at off in f (size bytes in
// all) and reads the image list of a multi-file image.
func parseUImage(f *os.File, off, size int64) (*uImageHeader, error) {
	b := make([]byte, uImageHeaderSize)
	if _, err := f.ReadAt(b, off); err != nil {
		return nil, fmt.Errorf("header truncated: %w", eofUnexpected(err))
	}
	be := binary.BigEndian
	if be.Uint32(b) != uImageMagic {
		return nil, fmt.Errorf("bad magic 0x%08x", be.Uint32(b))
	}
	want := be.Uint32(b[4:])
	tmp := append([]byte(nil), b...)
	copy(tmp[4:8], []byte{0, 0, 0, 0})
	if got := crc32.ChecksumIEEE(tmp); got != want {
		return nil, fmt.Errorf("header checksum 0x%08x, want 0x%08x", got, want)
	}
	name := b[32:64]
	for i, c := range name {
		if c == 0 {
			name = name[:i]
			break
		}
	}
	h := &uImageHeader{size: be.Uint32(b[12:]), typ: b[30], comp: b[31], name: string(name)}
	if h.typ != uImageTypeMulti {
		return h, nil
	}
	// Multi-file: a zero-terminated list of sizes, then the images, each
	// padded to 4 bytes.
	var w [4]byte
	for p := off + uImageHeaderSize; ; p += 4 {
		if len(h.parts) > maxUImageParts {
			return nil, fmt.Errorf("more than %d sub-images", maxUImageParts)
		}
		if p+4 > size {
			return nil, fmt.Errorf("image list truncated")
		}
		if _, err := f.ReadAt(w[:], p); err != nil {
			return nil, fmt.Errorf("image list: %w", eofUnexpected(err))
		}
		n := be.Uint32(w[:])
		if n == 0 {
			break
		}
		h.parts = append(h.parts, int64(n))
	}
	return h, nil
}

// extractUImage unpacks the payload(s) of the uImage at [off, off+size)
// and returns the bytes the image spans.
func (u *unpacker) extractUImage(f *os.File, off, size int64, depth int) (int64, error) {
	h, err := parseUImage(f, off, size)
	if err != nil {
		return 0, fmt.Errorf("uimage at 0x%x: %w", off, err)
	}
	data := off + uImageHeaderSize
	end := off + size
	if h.typ != uImageTypeMulti {
		n := int64(h.size)
		if data+n > end {
			u.gap("/", fmt.Sprintf("uimage %q truncated: %d of %d payload bytes present", h.name, end-data, n))
			n = end - data
		}
		u.region(f, data, n, depth+1, "/payload.bin")
		return data + n - off, nil
	}
	p := data + 4*int64(len(h.parts)+1)
	for i, n := range h.parts {
		if p >= end {
			u.gap("/", fmt.Sprintf("uimage %q truncated before sub-image %d", h.name, i+1))
			break
		}
		if p+n > end {
			u.gap("/", fmt.Sprintf("uimage %q sub-image %d truncated: %d of %d bytes present", h.name, i+1, end-p, n))
			n = end - p
		}
		u.region(f, p, n, depth+1, fmt.Sprintf("/part%d.bin", i+1))
		p += (n + 3) &^ 3
	}
	return min(p, end) - off, nil
}

// readAtMost reads up to n bytes at off.
func readAtMost(r io.ReaderAt, off, n int64) []byte {
	b := make([]byte, n)
	m, _ := r.ReadAt(b, off)
	return b[:m]
}
