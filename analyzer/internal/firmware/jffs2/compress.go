package jffs2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/anchore/go-lzo"
	"github.com/ulikunitz/xz/lzma"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/inflate"
)

// Compression types of inode nodes (include/uapi/linux/jffs2.h).
const (
	comprNone      = 0
	comprZero      = 1
	comprRtime     = 2
	comprRubinMIPS = 3
	comprCopy      = 4
	comprDynRubin  = 5
	comprZlib      = 6
	comprLZO       = 7
	comprLZMA      = 8
)

// The parameters of the LZMA compressor in the kernel patches that add it
// (OpenWrt, U-Boot): no properties are stored with the data.
const (
	lzmaProps    = 0 // (pb*5+lp)*9+lc with lc=0, lp=0, pb=0
	lzmaDictSize = 0x2000
	// lzmaStoredProps is the properties byte (lc=3, lp=0, pb=2) of the
	// variant that stores its 5 property bytes in front of the data.
	lzmaStoredProps = 0x5d
)

// decompress fills dst, the node's data, from src, its stored bytes.
func (f *FS) decompress(compr uint8, src, dst []byte) error {
	switch compr {
	case comprNone, comprCopy:
		if len(src) < len(dst) {
			return fmt.Errorf("%d stored bytes for %d of data", len(src), len(dst))
		}
		copy(dst, src)
		return nil
	case comprZero:
		clear(dst)
		return nil
	case comprRtime:
		return rtime(src, dst)
	case comprZlib:
		if len(src) > lzmaPropsLen && src[0] == lzmaStoredProps {
			return unlzma(src[lzmaPropsLen:], src[:lzmaPropsLen], dst)
		}
		return f.inflate(src, dst)
	case comprLZO:
		n, err := lzo.Decompress(src, dst)
		if err != nil {
			return fmt.Errorf("lzo: %w", err)
		}
		if n != len(dst) {
			return fmt.Errorf("lzo: %d of %d bytes", n, len(dst))
		}
		return nil
	case comprLZMA:
		if len(src) > lzmaPropsLen && src[0] == lzmaStoredProps {
			return unlzma(src[lzmaPropsLen:], src[:lzmaPropsLen], dst)
		}
		var props [lzmaPropsLen]byte
		props[0] = lzmaProps
		binary.LittleEndian.PutUint32(props[1:], lzmaDictSize)
		return unlzma(src, props[:], dst)
	case comprRubinMIPS, comprDynRubin:
		return errors.New("rubin compression not supported")
	}
	return fmt.Errorf("unknown compression type %d", compr)
}

// rtime decodes the kernel's "rtime" run-length scheme: pairs of a literal
// byte and a count of bytes to copy from just after the previous
// occurrence of that byte value.
func rtime(src, dst []byte) error {
	var last [256]int // where each byte value was last written, plus one
	out, in := 0, 0
	for out < len(dst) {
		if in+2 > len(src) {
			return errors.New("rtime: data ends early")
		}
		value, repeat := src[in], int(src[in+1])
		in += 2
		dst[out] = value
		out++
		back := last[value]
		last[value] = out
		if out+repeat > len(dst) {
			return errors.New("rtime: run past the end of the data")
		}
		for range repeat { // byte by byte: the runs may overlap
			dst[out] = dst[back]
			out++
			back++
		}
	}
	return nil
}

// inflate decodes a zlib stream as the kernel does: the two header bytes
// are checked and skipped, the trailing Adler-32 is not checked, and
// output past the node's size is dropped.
func (f *FS) inflate(src, dst []byte) error {
	n, err := inflate.Zlib(dst, src)
	switch {
	case errors.Is(err, inflate.ErrTooLarge):
		return nil
	case err != nil:
		return fmt.Errorf("zlib: %w", err)
	case n < len(dst):
		return fmt.Errorf("zlib: %d bytes short of the node's size", len(dst)-n)
	}
	return nil
}

const lzmaPropsLen = 5

// unlzma decodes a raw LZMA stream with the given 5 property bytes into
// dst.
func unlzma(src, props, dst []byte) error {
	var hdr [lzmaPropsLen + 8]byte
	copy(hdr[:], props)
	binary.LittleEndian.PutUint64(hdr[lzmaPropsLen:], uint64(len(dst)))
	zr, err := lzma.ReaderConfig{DictCap: maxData}.NewReader(io.MultiReader(bytes.NewReader(hdr[:]), bytes.NewReader(src)))
	if err != nil {
		return fmt.Errorf("lzma: %w", err)
	}
	if _, err := io.ReadFull(zr, dst); err != nil {
		return fmt.Errorf("lzma: %w", err)
	}
	return nil
}
