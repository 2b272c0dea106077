package firmware

import (
	"bufio"
	"compress/bzip2"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/ulikunitz/xz"
	"github.com/ulikunitz/xz/lzma"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/sqfs"
)

// maxLzmaDict bounds the dictionary an lzma or xz stream may ask for
// (xz -9 uses 64 MiB), so a hostile header cannot make us allocate GiBs.
const maxLzmaDict = 64 << 20

// decompressor opens a decompressing reader of the given format over r.
// close releases it.
func decompressor(format string, r io.Reader) (rc io.Reader, closeFn func(), err error) {
	nop := func() {}
	switch format {
	case fmtGzip:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		// One member: what follows it (padding, another image) is
		// examined as the rest of the region.
		zr.Multistream(false)
		return zr, func() { zr.Close() }, nil
	case fmtXz:
		// Our LZMA2 decoder (about twice ulikunitz's speed), or, for
		// BCJ and delta filters, ulikunitz over the same bytes.
		zr, err := sqfs.NewXZReader(r, maxLzmaDict)
		if errors.Is(err, sqfs.ErrXZFilters) {
			zr, err = xz.ReaderConfig{DictCap: maxLzmaDict, SingleStream: true}.NewReader(zr)
		}
		if err != nil {
			return nil, nil, err
		}
		return zr, nop, nil
	case fmtLzma:
		zr, err := lzma.ReaderConfig{DictCap: maxLzmaDict}.NewReader(r)
		if err != nil {
			return nil, nil, err
		}
		return zr, nop, nil
	case fmtBzip2:
		return bzip2.NewReader(r), nop, nil
	case fmtZstd:
		zr, err := zstd.NewReader(r,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(128<<20),
			zstd.WithDecoderMaxMemory(256<<20))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	case fmtLz4:
		return lz4.NewReader(r), nop, nil
	}
	return nil, nil, fmt.Errorf("%s is not a compression format", format)
}

// isCompression reports whether format is a compression stream.
func isCompression(format string) bool {
	switch format {
	case fmtGzip, fmtXz, fmtLzma, fmtBzip2, fmtZstd, fmtLz4:
		return true
	}
	return false
}

// limitReader stops a decompressed stream at max bytes and calls onLimit
// once when it does; it also stops when ctx is done.
type limitReader struct {
	ctx     context.Context
	r       io.Reader
	n, max  int64
	onLimit func()
	hit     bool
}

// errLimit is returned by limitReader once the limit is reached.
type errLimit struct{ max int64 }

func (e errLimit) Error() string {
	return fmt.Sprintf("decompressed size limit of %d bytes reached", e.max)
}

func (l *limitReader) Read(b []byte) (int, error) {
	if err := l.ctx.Err(); err != nil {
		return 0, err
	}
	if l.n >= l.max {
		// Distinguish "exactly max bytes" from "more than max".
		var one [1]byte
		if n, _ := l.r.Read(one[:]); n == 0 {
			return 0, io.EOF
		}
		if !l.hit {
			l.hit = true
			l.onLimit()
		}
		return 0, errLimit{l.max}
	}
	if int64(len(b)) > l.max-l.n {
		b = b[:l.max-l.n]
	}
	n, err := l.r.Read(b)
	l.n += int64(n)
	return n, err
}

// ContextReader returns r, reading nothing more once ctx is done.
func ContextReader(ctx context.Context, r io.Reader) io.Reader { return ctxReader{ctx, r} }

// ctxReader stops reading when ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}

// peekHead returns up to headSize bytes from the start of br without
// consuming them.
func peekHead(br *bufio.Reader) []byte {
	h, _ := br.Peek(headSize)
	return h
}

// headSize is how much of a layer Detect looks at.
const headSize = 64 << 10
