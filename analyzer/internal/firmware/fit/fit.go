// Package fit lists the images inside U-Boot FIT (Flattened Image Tree,
// .itb) files: a flattened device tree whose /images node has one child
// per image (kernel, ramdisk, device tree, firmware…), each with a "type",
// a "compression" and its data.
//
// The data is either embedded, in the node's "data" property, or external
// (mkimage -E): "data-size" bytes at "data-offset" from the end of the
// device tree blob (its totalsize rounded up to 4 bytes), or at the
// absolute "data-position" (mkimage -p). When several are present,
// data-position wins over data-offset, which wins over data, as in
// U-Boot. Hashes and signatures are not checked; configurations are not
// read.
//
// The device tree parser is minimal but bounded: header sanity, every
// token and offset checked against the blob, nesting at most 64 deep,
// property values read only when small and wanted.
package fit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Part is one payload inside the container, at [Offset, Offset+Size) of the input.
type Part struct {
	Name         string // the image node's name, e.g. "kernel-1"
	Offset, Size int64
	// Type is the image's "type" property as written: "kernel",
	// "ramdisk", "flat_dt", "filesystem", "firmware", "standalone"…
	Type string
	// Compression is "none", "gzip", "bzip2", "lzma", "lzo", "lz4" or
	// "zstd" from the "compression" property, or "" when it is absent or
	// not one of these.
	Compression string
}

// MaxParts caps the images listed.
const MaxParts = 4096

// ErrNotFIT reports a well-formed device tree without an /images node: a
// plain device tree blob, not a FIT.
var ErrNotFIT = errors.New("fit: device tree has no /images node")

// Is reports whether head starts with a sane flattened device tree
// header (magic 0xd00dfeed, version 16 or later, blocks inside its total
// size). Whether it is a FIT is only known once Parts has found /images.
func Is(head []byte) bool {
	_, err := parseHeader(head)
	return err == nil
}

// Parts lists the images of the FIT in r[0:size), in tree order. It fails
// when the input does not start with a device tree that fits in it, and
// returns ErrNotFIT for a device tree without /images.
//
// A problem with one image (no data, a missing data-size, data starting
// past the end of the input) leaves it out; data running past the end of
// the input is listed clipped to it. A corrupt structure block ends the
// walk. In these cases Parts returns the images it could place together
// with an error (errors.Join of all problems).
func Parts(r io.ReaderAt, size int64) ([]Part, error) {
	head := make([]byte, fdtHeaderSize)
	if size < fdtHeaderSize {
		return nil, errors.New("fit: not a device tree: too short")
	}
	if _, err := r.ReadAt(head, 0); err != nil {
		return nil, fmt.Errorf("fit: reading header: %w", err)
	}
	h, err := parseHeader(head)
	if err != nil {
		return nil, fmt.Errorf("fit: not a device tree: %w", err)
	}
	if int64(h.totalSize) > size {
		return nil, fmt.Errorf("fit: device tree truncated: %d of %d bytes present", size, h.totalSize)
	}
	v := &imageVisitor{size: size, extBase: (int64(h.totalSize) + 3) &^ 3}
	if err := walk(r, h, v); err != nil {
		v.errs = append(v.errs, fmt.Errorf("fit: %w", err))
	} else if !v.sawImages {
		return nil, ErrNotFIT
	}
	return v.parts, errors.Join(v.errs...)
}

// image gathers the properties of one /images child.
type image struct {
	name, typ, comp        string
	dataOff, dataSize      int64
	hasData                bool
	extOff, extPos, extLen uint32
	hasOff, hasPos, hasLen bool
	err                    error // the first bad property
}

// imageVisitor collects the children of /images.
type imageVisitor struct {
	size      int64 // of the input
	extBase   int64 // where external data starts
	sawImages bool
	cur       *image
	parts     []Part
	errs      []error
}

// isImage reports whether path is a child of /images.
func isImage(path []string) bool {
	return len(path) == 3 && path[1] == "images"
}

func (v *imageVisitor) beginNode(path []string) error {
	if len(path) == 2 && path[1] == "images" {
		v.sawImages = true
	}
	if isImage(path) {
		v.cur = &image{name: path[2]}
	}
	return nil
}

func (v *imageVisitor) want(path []string, name string) bool {
	if !isImage(path) {
		return false
	}
	switch name {
	case "type", "compression", "data-offset", "data-position", "data-size":
		return true
	}
	return false
}

func (v *imageVisitor) prop(path []string, name string, size, off int64, value []byte) error {
	if !isImage(path) || v.cur == nil {
		return nil
	}
	im := v.cur
	u32 := func(dst *uint32, has *bool) {
		if len(value) != 4 {
			if im.err == nil {
				im.err = fmt.Errorf("property %q is %d bytes, want 4", name, size)
			}
			return
		}
		*dst, *has = binary.BigEndian.Uint32(value), true
	}
	switch name {
	case "type":
		im.typ = cstring(value)
	case "compression":
		im.comp = compression(cstring(value))
	case "data":
		im.dataOff, im.dataSize, im.hasData = off, size, true
	case "data-offset":
		u32(&im.extOff, &im.hasOff)
	case "data-position":
		u32(&im.extPos, &im.hasPos)
	case "data-size":
		u32(&im.extLen, &im.hasLen)
	}
	return nil
}

func (v *imageVisitor) endNode(path []string) error {
	if !isImage(path) || v.cur == nil {
		return nil
	}
	im := v.cur
	v.cur = nil
	if len(v.parts) == MaxParts {
		return fmt.Errorf("more than %d images", MaxParts)
	}
	p, err := im.part(v.size, v.extBase)
	if err != nil {
		v.errs = append(v.errs, fmt.Errorf("fit: image %q: %w", im.name, err))
	}
	if p != nil {
		v.parts = append(v.parts, *p)
	}
	return nil
}

// part places the image's data in the input of the given size. It
// returns a clipped part and an error for data running past the end.
func (im *image) part(size, extBase int64) (*Part, error) {
	if im.err != nil {
		return nil, im.err
	}
	p := &Part{Name: im.name, Type: im.typ, Compression: im.comp}
	switch {
	case im.hasPos || im.hasOff:
		if !im.hasLen {
			return nil, errors.New("external data without data-size")
		}
		p.Offset, p.Size = int64(im.extPos), int64(im.extLen)
		if !im.hasPos {
			p.Offset = extBase + int64(im.extOff)
		}
	case im.hasData:
		p.Offset, p.Size = im.dataOff, im.dataSize
	default:
		return nil, errors.New("no data")
	}
	if p.Offset > size || (p.Offset == size && p.Size > 0) {
		return nil, fmt.Errorf("data at 0x%x starts past the end of the input (0x%x)", p.Offset, size)
	}
	if p.Size > size-p.Offset {
		err := fmt.Errorf("data at 0x%x truncated: %d of %d bytes present", p.Offset, size-p.Offset, p.Size)
		p.Size = size - p.Offset
		return p, err
	}
	return p, nil
}

// cstring returns a property's string value up to its first NUL.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// compression maps a FIT compression name to the names Part uses.
func compression(c string) string {
	switch c {
	case "none", "gzip", "bzip2", "lzma", "lzo", "lz4", "zstd":
		return c
	}
	return ""
}
