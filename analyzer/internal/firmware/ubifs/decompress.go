package ubifs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	lzo "github.com/anchore/go-lzo"
	"github.com/klauspost/compress/zstd"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/inflate"
)

// Compression types of data nodes.
const (
	comprNone = 0
	comprLZO  = 1
	comprZlib = 2
	comprZstd = 3
)

// readBlock reads the data node ref of inode ino into buf (blockSize
// bytes): the decompressed data, then zeros. *node is a buffer for the
// node, reused across calls.
func (f *FS) readBlock(ino uint32, ref dataRef, buf []byte, node *[]byte) error {
	if ref.at.len < dataSize || ref.at.len > dataSize+2*blockSize {
		return fmt.Errorf("data node at %v: bad length", ref.at)
	}
	b, err := f.readNodeInto(ref.at, dataNode, *node)
	if err != nil {
		return err
	}
	*node = b
	if got, want := parseKey(b[24:]), makeKey(ino, keyData, ref.block); got != want {
		return fmt.Errorf("data node at %v: key %v, want %v", ref.at, got, want)
	}
	size := binary.LittleEndian.Uint32(b[40:44])
	if size > blockSize {
		return fmt.Errorf("data node at %v: size %d larger than a block", ref.at, size)
	}
	compr := binary.LittleEndian.Uint16(b[44:46])
	if err := decompress(compr, b[dataSize:], buf[:size]); err != nil {
		return fmt.Errorf("data node at %v: %w", ref.at, err)
	}
	clear(buf[size:])
	return nil
}

// decompress fills dst exactly from src compressed with compr.
func decompress(compr uint16, src, dst []byte) (err error) {
	switch compr {
	case comprNone:
		if len(src) != len(dst) {
			return fmt.Errorf("uncompressed data of %d bytes, want %d", len(src), len(dst))
		}
		copy(dst, src)
		return nil
	case comprLZO:
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("lzo: corrupt data (%v)", r)
			}
		}()
		n, err := lzo.Decompress(src, dst)
		if err != nil {
			return err
		}
		if n != len(dst) {
			return fmt.Errorf("lzo: %d bytes, want %d", n, len(dst))
		}
		return nil
	case comprZlib:
		return inflateRaw(src, dst)
	case comprZstd:
		d, err := zstdDecoder()
		if err != nil {
			return err
		}
		out, err := d.DecodeAll(src, dst[:0])
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		if len(out) != len(dst) {
			return fmt.Errorf("zstd: %d bytes, want %d", len(out), len(dst))
		}
		copy(dst, out) // a no-op unless DecodeAll had to grow the slice
		return nil
	}
	return fmt.Errorf("unknown compression type %d", compr)
}

// inflateRaw decompresses raw deflate data (UBIFS "zlib" has no zlib
// header) into exactly dst.
func inflateRaw(src, dst []byte) error {
	n, _, err := inflate.Raw(dst, src)
	switch {
	case errors.Is(err, inflate.ErrTooLarge):
		return errors.New("zlib: more data than the block size")
	case err != nil:
		return fmt.Errorf("zlib: %w", err)
	case n < len(dst):
		return fmt.Errorf("zlib: %d bytes short of the block size", len(dst)-n)
	}
	return nil
}

// zstdDecoder returns the shared zstd decoder (DecodeAll is safe for
// concurrent use); its output is capped well above a block.
var zstdDecoder = sync.OnceValues(func() (*zstd.Decoder, error) {
	return zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(1<<20), zstd.WithDecoderLowmem(true))
})
