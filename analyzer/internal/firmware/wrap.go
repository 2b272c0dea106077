package firmware

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/bodgit/sevenzip"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/arfile"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/fit"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/rpmpkg"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/sparse"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/trx"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/zipfs"
)

// Wrapper formats: containers that place payloads at offsets.
const (
	fmtFIT    = "fit"
	fmtTRX    = "trx"
	fmtSparse = "android-sparse"
	fmtRPM    = "rpm"
	fmtAr     = "ar"
	fmtZip    = "zip"
	fmt7z     = "7z"
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
	case fmt7z:
		return size, u.tree(func(w *extract.Writer) error { return u.extract7z(r, size, off, w) })
	case fmtZip:
		// Read in place, as the filesystem images are: writing out the
		// tens of thousands of small files of a source or symbol archive
		// costs far more than scanning them.
		type opened struct {
			fsys    *zipfs.FS
			refused []zipfs.Refused
		}
		z, err := protect(func() (opened, error) {
			fsys, refused, err := zipfs.Open(r, size)
			return opened{fsys, refused}, err
		})
		if err != nil {
			return 0, fmt.Errorf("zip at 0x%x: %w", off, err)
		}
		for _, e := range z.refused {
			u.gap(e.Path, e.Reason)
		}
		return size, u.mount(fmtZip, z.fsys)
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
	case fmtFIT, fmtTRX, fmtAr, fmtRPM, fmtSparse, fmtZip, fmt7z:
		return true
	}
	return false
}

// max7zSymlink bounds a symlink target read from a 7z archive.
const max7zSymlink = 4096

// extract7z writes the 7z archive in r through w (with
// github.com/bodgit/sevenzip; encrypted entries are gaps).
func (u *unpacker) extract7z(r io.ReaderAt, size, off int64, w *extract.Writer) error {
	z, err := protect(func() (*sevenzip.Reader, error) { return sevenzip.NewReader(r, size) })
	if err != nil {
		return fmt.Errorf("7z at 0x%x: %w", off, err)
	}
	for _, f := range z.File {
		if w.Stopped() {
			break
		}
		if err := u.ctx.Err(); err != nil {
			w.Gap("/", "7z: "+err.Error())
			break
		}
		if !w.Admit(f.Name) {
			continue
		}
		mode := f.Mode()
		switch {
		case mode.IsDir():
			w.Dir(f.Name)
		case mode&fs.ModeSymlink != 0:
			b, err := read7z(f, max7zSymlink)
			if err != nil {
				w.Gap(f.Name, "7z: cannot read symlink: "+err.Error())
				continue
			}
			w.Symlink(f.Name, string(b))
		case mode.IsRegular():
			rc, err := protect(f.Open)
			if err != nil {
				w.Gap(f.Name, "7z: cannot open entry: "+err.Error())
				continue
			}
			n := int64(min(f.UncompressedSize, 1<<62))
			w.File(f.Name, &kindReader{kind: "7z", r: ctxReader{u.ctx, rc}}, n)
			rc.Close()
		case noContent(mode):
		default:
			w.Gap(f.Name, fmt.Sprintf("7z: special file (%v) not examined", mode))
		}
	}
	return nil
}

// read7z reads at most max bytes of a 7z entry.
func read7z(f *sevenzip.File, max int64) ([]byte, error) {
	rc, err := protect(f.Open)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return protect(func() ([]byte, error) { return io.ReadAll(io.LimitReader(rc, max)) })
}
