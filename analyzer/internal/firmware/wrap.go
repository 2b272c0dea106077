package firmware

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/arfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/fit"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/rpmpkg"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/sparse"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/trx"
)

// Wrapper formats: containers that place payloads at offsets.
const (
	fmtFIT    = "fit"
	fmtTRX    = "trx"
	fmtSparse = "android-sparse"
	fmtRPM    = "rpm"
	fmtAr     = "ar"
	fmtZip    = "zip"
)

// part is a payload of a wrapper, at [off, off+size) of its file.
type part struct {
	name      string
	off, size int64
}

// parts opens the payloads of a wrapper one by one and returns the bytes
// the wrapper spans. A problem the wrapper's parser reports next to the
// parts it could place is a gap.
func (u *unpacker) parts(f *os.File, off int64, ps []part, perr error, depth int) int64 {
	if perr != nil {
		u.gap("/", perr.Error())
	}
	end := off
	for i, p := range ps {
		name := safeName(p.name, i)
		u.region(f, off+p.off, p.size, depth+1, name)
		end = max(end, off+p.off+p.size)
	}
	return end - off
}

// safeName turns a payload name from an untrusted header into a path for
// raw regions: one clean element, or partN when there is none.
func safeName(name string, i int) string {
	name = path.Base(strings.ReplaceAll(strings.ReplaceAll(name, "\\", "/"), "\x00", ""))
	if name == "." || name == "/" || name == ".." || name == "" {
		name = fmt.Sprintf("part%d", i+1)
	}
	return "/" + name
}

// openWrapper opens a wrapper format at [off, off+size) of f and returns
// the bytes it spans.
func (u *unpacker) openWrapper(f *os.File, format string, off, size int64, depth int) (int64, error) {
	r := io.NewSectionReader(f, off, size)
	switch format {
	case fmtFIT:
		fps, err := fit.Parts(r, size)
		if errors.Is(err, fit.ErrNotFIT) {
			return 0, fmt.Errorf("%w: %w", errNotFormat, err)
		}
		if len(fps) == 0 {
			return 0, fmt.Errorf("fit at 0x%x: %w", off, errOr(err, "no images"))
		}
		ps := make([]part, len(fps))
		for i, p := range fps {
			ps[i] = part{p.Name, p.Offset, p.Size}
		}
		n := u.parts(f, off, ps, err, depth)
		if h := readAtMost(f, off, 8); len(h) == 8 {
			n = max(n, min(int64(binary.BigEndian.Uint32(h[4:])), size)) // totalsize
		}
		return n, nil
	case fmtTRX:
		tps, err := trx.Parts(r, size)
		if len(tps) == 0 {
			return 0, fmt.Errorf("trx at 0x%x: %w", off, errOr(err, "no partitions"))
		}
		ps := make([]part, len(tps))
		for i, p := range tps {
			ps[i] = part{p.Name, p.Offset, p.Size}
		}
		return u.parts(f, off, ps, err, depth), nil
	case fmtAr:
		aps, err := arfile.Parts(r, size)
		if len(aps) == 0 {
			return 0, fmt.Errorf("ar at 0x%x: %w", off, errOr(err, "no members"))
		}
		ps := make([]part, len(aps))
		for i, p := range aps {
			ps[i] = part{p.Name, p.Offset, p.Size}
		}
		return u.parts(f, off, ps, err, depth), nil
	case fmtRPM:
		pkg, err := rpmpkg.Open(r, size)
		if err != nil {
			return 0, fmt.Errorf("rpm at 0x%x: %w", off, err)
		}
		p := pkg.Payload
		return u.parts(f, off, []part{{"payload", p.Offset, p.Size}}, nil, depth), nil
	case fmtSparse:
		im, err := sparse.Open(r, size)
		if err != nil {
			return 0, fmt.Errorf("android sparse image at 0x%x: %w", off, err)
		}
		// The expanded image is read through a spool file: the readers of
		// what it holds need a file.
		lr := &limitReader{ctx: u.ctx, r: io.NewSectionReader(im, 0, im.Size()), max: u.maxOut, onLimit: func() {
			u.gap("/", fmt.Sprintf("android sparse image expands past the limit of %d bytes; the rest is not examined", u.maxOut))
		}}
		u.spoolReader(lr, depth+1, "/image.raw", true)
		return size, nil
	case fmtZip:
		dir, chain, err := u.newDir()
		if err != nil {
			return 0, err
		}
		gaps, err := extract.Zip(r, size, dir, u.lim)
		u.res.Gaps = append(u.res.Gaps, withChain(chain, gaps)...)
		if err != nil {
			return 0, fmt.Errorf("zip at 0x%x: %w", off, err)
		}
		return size, nil
	}
	return 0, fmt.Errorf("%s is not a wrapper format", format)
}

// errOr returns err, or an error saying what when err is nil.
func errOr(err error, what string) error {
	if err != nil {
		return err
	}
	return errors.New(what)
}

// isWrapper reports a format opened by openWrapper.
func isWrapper(format string) bool {
	switch format {
	case fmtFIT, fmtTRX, fmtAr, fmtRPM, fmtSparse, fmtZip:
		return true
	}
	return false
}
