package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// DefaultMaxBytes is the input size limit Decode applies when
// Options.MaxBytes is zero: 2 GiB, counted after decompression.
const DefaultMaxBytes int64 = 2 << 30

// maxStrictDepth is the JSON or XML nesting depth above which Decode does
// not hand a document to the strict libraries (whose decoders recurse once
// per level) and reads it with the iterative tolerant decoders instead.
const maxStrictDepth = 200

// Options tunes Decode.
type Options struct {
	// MaxBytes is the largest input Decode accepts, counted after
	// decompression. Zero or negative means DefaultMaxBytes.
	MaxBytes int64
}

// Decode reads a whole SBOM from r and returns every component with its
// identity fields. name is used only in error messages. A gzip-compressed
// input is decompressed transparently; more than Options.MaxBytes of
// (decompressed) input is refused. The format is recognised by content
// (see Sniff), never by name.
//
// Every refusal is a *DecodeError that names the input, what it looked
// like and, where known, the position at fault. Decode does not panic on
// any input; ctx is checked between stages and inside every long loop.
func Decode(ctx context.Context, name string, r io.Reader, opts Options) (doc *Document, err error) {
	defer func() {
		if p := recover(); p != nil {
			doc = nil
			err = &DecodeError{Name: name, Err: fmt.Errorf("internal error (please report it): %v", p)}
		}
	}()
	if err := ctx.Err(); err != nil {
		return nil, &DecodeError{Name: name, Err: err}
	}
	limit := opts.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	data, err := readInput(ctx, r, limit)
	if err != nil {
		return nil, &DecodeError{Name: name, Err: err}
	}
	return decodeBytes(ctx, name, data)
}

// decodeBytes decodes a whole, decompressed input.
func decodeBytes(ctx context.Context, name string, data []byte) (*Document, error) {
	data = data[skipBOM(data):]
	sn := sniffData(data)
	if sn.format == "" {
		return nil, &DecodeError{Name: name, Where: sn.where, Err: errors.New("not an SBOM: " + sn.reason)}
	}
	var (
		doc *Document
		err error
	)
	switch sn.format {
	case CycloneDXJSON:
		doc, err = decodeCycloneDXJSON(ctx, name, data, sn.top)
	case CycloneDXXML:
		doc, err = decodeCycloneDXXML(ctx, name, data, sn.xmlNS)
	case SPDXJSON:
		doc, err = decodeSPDXJSON(ctx, name, data, sn)
	case SPDXTagValue:
		doc, err = decodeSPDXTagValue(ctx, name, data)
	case SyftJSON:
		doc, err = decodeSyftJSON(ctx, name, data)
	}
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			err = &DecodeError{Name: name, Format: sn.format, Err: err}
		}
		return nil, err
	}
	return doc, nil
}

// readInput reads all of r, decompressing gzip, and refuses more than limit
// bytes of content.
func readInput(ctx context.Context, r io.Reader, limit int64) ([]byte, error) {
	hint := sizeHint(r)
	br := bufio.NewReader(r)
	var src io.Reader = br
	gz := false
	if magic, _ := br.Peek(2); isGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading gzip header: %w", err)
		}
		defer zr.Close()
		src, gz, hint = zr, true, 0
	}
	// Read in chunks that double in size, then join them once: for an input
	// of unknown size this copies it once and holds at most twice its size,
	// where growing a single buffer would copy it several times over. When
	// the size is known the first chunk takes all of it.
	size := int64(64 << 10)
	if hint > 0 && hint < limit {
		size = hint + 1
	}
	lr := io.LimitReader(src, limit+1)
	var (
		chunks [][]byte
		total  int64
	)
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		chunk := make([]byte, size)
		n, err := fill(lr, chunk)
		if n > 0 {
			chunks = append(chunks, chunk[:n])
			total += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			if gz {
				return nil, fmt.Errorf("decompressing gzip after %d bytes of content: %w", total, err)
			}
			return nil, fmt.Errorf("reading input after %d bytes: %w", total, err)
		}
		if size < 16<<20 {
			size *= 2
		}
	}
	if total > limit {
		what := "input"
		if gz {
			what = "decompressed input"
		}
		return nil, fmt.Errorf("%s exceeds the limit of %d bytes", what, limit)
	}
	switch len(chunks) {
	case 0:
		return nil, nil
	case 1:
		return chunks[0], nil
	}
	out := make([]byte, 0, total)
	for i, c := range chunks {
		out = append(out, c...)
		chunks[i] = nil
	}
	return out, nil
}

// fill reads into buf until it is full or the reader fails; a clean end of
// input is io.EOF (unlike io.ReadFull, which would turn a reader's own
// io.ErrUnexpectedEOF, as from a truncated gzip stream, into a short read).
func fill(r io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// sizeHint guesses how many bytes r will yield, or 0.
func sizeHint(r io.Reader) int64 {
	switch v := r.(type) {
	case interface{ Len() int }:
		return int64(v.Len())
	case interface{ Stat() (fs.FileInfo, error) }:
		if fi, err := v.Stat(); err == nil && fi.Mode().IsRegular() {
			return fi.Size()
		}
	}
	return 0
}

// posOf describes byte offset off of data as "line L, column C" (both
// 1-based, the column counted in bytes).
func posOf(data []byte, off int) string {
	if off > len(data) {
		off = len(data)
	}
	if off < 0 {
		off = 0
	}
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	col := off - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Sprintf("line %d, column %d", line, col)
}

// checkEvery is how many loop iterations pass between context checks.
const checkEvery = 1024
