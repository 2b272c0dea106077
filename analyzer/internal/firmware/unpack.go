package firmware

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// unpacker holds the state of one Unpack call.
type unpacker struct {
	ctx    context.Context
	dst    string
	tmp    string // dst's parent: spool files for formats needing random access
	lim    extract.Limits
	maxOut int64 // decompressed bytes allowed per compression layer
	layers []string
	gaps   []extract.Gap
}

// Unpack opens the file at path (of a format Detect recognises) and
// unpacks it recursively into dst, which exists and is empty: compression
// layers are decompressed as streams (bounded by lim.MaxBytes and a
// 1000:1 expansion ratio), and their payload detected again up to lim.Depth() (default 8)
// layers deep; a uImage's payload (or each sub-image of a multi-file
// image) is unpacked in turn; squashfs (go-diskfs, falling back to
// sylabs/squashfs), ext2/3/4 images (go-diskfs, not mounted), cpio and
// tar archives are written as file trees through extract.Writer. ISO 9660
// and FAT images are recognised but only recorded as gaps. A payload of no known format is written as a
// single file ("/payload.bin") so that its content is still scanned.
//
// layers lists the formats opened, outermost first (for example
// ["uimage", "gzip", "cpio"]). err reports an input that cannot be opened
// at all (an unknown format or a corrupt outer header); problems inside
// are gaps, and unpacking goes on where it safely can.
func Unpack(ctx context.Context, path, dst string, lim extract.Limits) (layers []string, gaps []extract.Gap, err error) {
	u := &unpacker{ctx: ctx, dst: dst, tmp: filepath.Dir(filepath.Clean(dst)), lim: lim}
	defer func() {
		if r := recover(); r != nil {
			layers, gaps = u.layers, u.gaps
			err = fmt.Errorf("unpacking %s: internal error: %v", path, r)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("unpacking firmware: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("unpacking firmware: %w", err)
	}
	size := fi.Size()
	u.maxOut = lim.MaxBytes
	if r := size * lim.Ratio(); size < (1<<62)/lim.Ratio() && r < u.maxOut {
		u.maxOut = max(r, 1<<20)
	}
	if Detect(readAtMost(f, 0, headSize)) == "" {
		return nil, nil, fmt.Errorf("unpacking %s: not a recognised firmware format", path)
	}
	err = u.section(f, 0, size, 0, "/payload.bin")
	return u.layers, u.gaps, err
}

// gap records a gap.
func (u *unpacker) gap(p, reason string) {
	u.gaps = append(u.gaps, extract.Gap{Path: p, Reason: reason})
}

// inner records the error of a nested layer as a gap.
func (u *unpacker) inner(err error) {
	if err != nil {
		u.gap("/", err.Error())
	}
}

// layer records the format of the layer at depth when it is on the main
// chain (the first sub-image of a multi-file uImage).
func (u *unpacker) layer(format string, depth int) {
	if len(u.layers) == depth {
		u.layers = append(u.layers, format)
	}
}

// section unpacks [off, off+size) of f, reading it at random when its
// format needs that and as a stream otherwise.
func (u *unpacker) section(f *os.File, off, size int64, depth int, name string) error {
	if err := u.ctx.Err(); err != nil {
		return err
	}
	head := readAtMost(f, off, min(size, headSize))
	switch format := Detect(head); format {
	case fmtSquashfs:
		if depth >= u.lim.Depth() {
			break
		}
		u.layer(format, depth)
		w := extract.NewWriter(u.dst, u.lim)
		err := u.extractSquashfs(f, off, size, head, w)
		u.gaps = append(u.gaps, w.Finish()...)
		return err
	case fmtExt, fmtISO9660, fmtFAT:
		if depth >= u.lim.Depth() {
			break
		}
		u.layer(format, depth)
		w := extract.NewWriter(u.dst, u.lim)
		var err error
		switch format {
		case fmtExt:
			err = u.extractExt(f, off, size, head, w)
		case fmtISO9660:
			err = u.extractISO9660(f, off, size, w)
		default:
			err = u.extractFAT(f, off, size, head, w)
		}
		u.gaps = append(u.gaps, w.Finish()...)
		return err
	case fmtUImage:
		if depth >= u.lim.Depth() {
			break
		}
		u.layer(format, depth)
		return u.extractUImage(f, off, size, depth)
	}
	r := bufio.NewReaderSize(ctxReader{u.ctx, io.NewSectionReader(f, off, size)}, headSize)
	return u.stream(r, off, depth, name)
}

// stream unpacks a layer read from br, which starts at offset off of its
// enclosing layer.
func (u *unpacker) stream(br *bufio.Reader, off int64, depth int, name string) error {
	head := peekHead(br)
	format := Detect(head)
	if format == "" && isTar(head) {
		format = fmtTar
	}
	if format != "" && depth >= u.lim.Depth() {
		u.gap(name, fmt.Sprintf("%s layer nested deeper than %d layers not unpacked; written as is", format, u.lim.Depth()))
		format = ""
	}
	switch {
	case isCompression(format):
		u.layer(format, depth)
		dr, closeFn, err := decompressor(format, br)
		if err != nil {
			return fmt.Errorf("%s at 0x%x: %w", format, off, err)
		}
		defer closeFn()
		lr := &limitReader{ctx: u.ctx, r: dr, max: u.maxOut, onLimit: func() {
			u.gap(name, fmt.Sprintf("%s: decompressed size limit of %d bytes reached; the rest is not examined", format, u.maxOut))
		}}
		inner := bufio.NewReaderSize(lr, headSize)
		u.inner(u.stream(inner, 0, depth+1, name))
		// Read what the payload left, to notice a truncated stream.
		if _, err := io.Copy(io.Discard, inner); err != nil && !lr.hit {
			u.gap(name, fmt.Sprintf("%s stream truncated or corrupt after the payload: %v", format, err))
		}
		return nil
	case format == fmtTar:
		u.layer(format, depth)
		g, err := extract.Tar(br, u.dst, u.lim)
		u.gaps = append(u.gaps, g...)
		if err != nil {
			return fmt.Errorf("tar at 0x%x: %w", off, err)
		}
		return nil
	case format == fmtCpio:
		u.layer(format, depth)
		w := extract.NewWriter(u.dst, u.lim)
		err := extractCpio(u.ctx, br, w)
		u.gaps = append(u.gaps, w.Finish()...)
		if err != nil && off != 0 {
			err = fmt.Errorf("at 0x%x: %w", off, err)
		}
		return err
	case format == fmtSquashfs || format == fmtUImage || isDiskImage(format):
		return u.spool(br, depth, name)
	}
	// Not a known format: keep the content as one file.
	w := extract.NewWriter(u.dst, u.lim)
	if w.Admit(name) {
		w.File(name, br, 0)
	}
	u.gaps = append(u.gaps, w.Finish()...)
	return nil
}

// spool copies a stream whose format needs random access to a temporary
// file next to dst and unpacks that.
func (u *unpacker) spool(br *bufio.Reader, depth int, name string) error {
	t, err := os.CreateTemp(u.tmp, ".firmware-spool-*")
	if err != nil {
		u.gap(name, "cannot create a spool file: "+err.Error())
		return nil
	}
	defer os.Remove(t.Name())
	defer t.Close()
	n, err := io.Copy(t, io.LimitReader(br, u.lim.MaxBytes+1))
	if n > u.lim.MaxBytes {
		u.gap(name, fmt.Sprintf("%v: layer larger than %d bytes not examined", extract.ErrLimit, u.lim.MaxBytes))
		return nil
	}
	if err != nil {
		u.gap(name, "layer truncated or corrupt: "+err.Error())
	}
	return u.section(t, 0, n, depth, name)
}

// isDiskImage reports a filesystem image format read with go-diskfs.
func isDiskImage(format string) bool {
	return format == fmtExt || format == fmtISO9660 || format == fmtFAT
}
