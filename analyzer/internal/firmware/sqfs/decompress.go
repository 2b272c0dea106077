package sqfs

import (
	"errors"
	"fmt"
	"io"

	"github.com/anchore/go-lzo"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/inflate"
)

// decompressor decompresses one squashfs block (data, fragment or
// metadata). Implementations are safe for concurrent use.
type decompressor interface {
	// decompress writes the data of src into dst and returns its length.
	// Output that does not fit in dst is an error.
	decompress(dst, src []byte) (int, error)
}

// errTooLarge reports a block that decompresses to more than it may.
var errTooLarge = errors.New("block decompresses beyond its size")

func newDecompressor(id uint16, blockSize int) decompressor {
	switch id {
	case compGzip:
		return zlibDecompressor{}
	case compLzma:
		return lzmaDecompressor{}
	case compLzo:
		return lzoDecompressor{}
	case compXz:
		return xzDecompressor{}
	case compLz4:
		return lz4Decompressor{}
	case compZstd:
		return newZstdDecompressor(blockSize)
	}
	return nil // parseSuperblock refuses other ids
}

// readAllInto reads r to its end into dst and returns the length; data
// beyond len(dst) is errTooLarge.
func readAllInto(r io.Reader, dst []byte) (int, error) {
	n := 0
	for n < len(dst) {
		k, err := r.Read(dst[n:])
		n += k
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		if k == 0 {
			return n, io.ErrNoProgress
		}
	}
	var one [1]byte
	for range 100 {
		k, err := r.Read(one[:])
		if k > 0 {
			return n, errTooLarge
		}
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, io.ErrNoProgress
}

// zlibDecompressor reads gzip-compressor blocks: zlib streams, the
// header checked and the Adler-32 trailer not (see inflate.Zlib).
type zlibDecompressor struct{}

func (zlibDecompressor) decompress(dst, src []byte) (int, error) {
	n, err := inflate.Zlib(dst, src)
	if errors.Is(err, inflate.ErrTooLarge) {
		err = errTooLarge
	}
	return n, err
}

// lzmaDecompressor reads legacy lzma blocks: "lzma alone" streams with a
// 13-byte header (properties, dictionary size, uncompressed size).
type lzmaDecompressor struct{}

func (lzmaDecompressor) decompress(dst, src []byte) (int, error) {
	return lzmaAloneDecode(dst, src)
}

// lzoDecompressor reads LZO1X blocks.
type lzoDecompressor struct{}

func (lzoDecompressor) decompress(dst, src []byte) (n int, err error) {
	defer func() {
		// Guard against a slice bound the library misses on hostile input.
		if r := recover(); r != nil {
			n, err = 0, fmt.Errorf("lzo: corrupt block (%v)", r)
		}
	}()
	n, err = lzo.Decompress(src, dst)
	if err != nil {
		return n, fmt.Errorf("lzo: %w", err)
	}
	return n, nil
}

// lz4Decompressor reads raw lz4 blocks (not frames).
type lz4Decompressor struct{}

func (lz4Decompressor) decompress(dst, src []byte) (int, error) {
	n, err := lz4.UncompressBlock(src, dst)
	if err != nil {
		return n, fmt.Errorf("lz4: %w", err)
	}
	return n, nil
}

// zstdDecompressor reads zstd frames with one shared, concurrency-safe
// decoder whose output is capped at the destination.
type zstdDecompressor struct {
	d   *zstd.Decoder
	err error
}

func newZstdDecompressor(blockSize int) *zstdDecompressor {
	d, err := zstd.NewReader(nil,
		zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxMemory(uint64(4*blockSize)),
		zstd.WithDecoderMaxWindow(uint64(max(4*blockSize, zstd.MinWindowSize))),
		zstd.WithDecodeAllCapLimit(true))
	return &zstdDecompressor{d: d, err: err}
}

func (z *zstdDecompressor) decompress(dst, src []byte) (int, error) {
	if z.err != nil {
		return 0, fmt.Errorf("zstd: %w", z.err)
	}
	out, err := z.d.DecodeAll(src, dst[:0:len(dst)])
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return 0, errTooLarge
		}
		return 0, fmt.Errorf("zstd: %w", err)
	}
	if len(out) > len(dst) {
		return 0, errTooLarge
	}
	if len(out) > 0 && &out[0] != &dst[0] {
		copy(dst, out)
	}
	return len(out), nil
}
