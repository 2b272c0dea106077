package firmware

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/extfs"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/sqfs"
)

// unpacker holds the state of one Unpack call.
type unpacker struct {
	ctx    context.Context
	visit  func(Root) // nil: every tree is written below dst
	dst    string
	tmp    string // dst's parent: spool files for formats needing random access
	lim    extract.Limits
	maxOut int64 // decompressed bytes allowed per compression layer
	top    *os.File

	chain []Layer // containers from the input to the layer being read
	res   Result
	raws  map[string]*rawRoot // raw-region trees, by chain
	cover spans               // regions of the input opened by an unpacker
	plain spans               // regions of the input scanned as plain content
}

// rawRoot is the tree collecting the raw regions of one container.
type rawRoot struct {
	w     *extract.Writer
	chain []Layer
	root  int // index in Result.Roots
}

// ErrNotFirmware is returned by Unpack for an input in which no known
// format was found, at its start or anywhere inside it.
var ErrNotFirmware = errors.New("not a recognised firmware format")

// Unpack opens the file at path and unpacks it recursively below dst,
// which exists and is empty. Each filesystem or archive found becomes one
// Root (a directory below dst) with the chain of containers leading to
// it; compression layers are decompressed as streams (bounded by
// lim.MaxBytes and lim.Ratio()) and their payload examined again, up to
// lim.Depth() layers deep. A region that no unpacker opens is searched for
// embedded formats at any offset (carving); each candidate is validated
// before it is opened, and what remains is written as raw regions to scan
// as plain content.
//
// err reports an input that cannot be opened at all: no known format
// anywhere, or a corrupt header of the format at its start. Problems
// inside are gaps, and unpacking goes on where it safely can. When ctx is
// done, Unpack stops, records a gap and returns what it wrote.
func Unpack(ctx context.Context, file, dst string, lim extract.Limits) (*Result, error) {
	return unpack(ctx, file, dst, lim, nil)
}

// Visit unpacks the file at path as Unpack does, but hands each tree to
// visit as soon as it is complete, on the calling goroutine: filesystem
// images (squashfs, ext, cramfs, JFFS2, UBIFS) are not written at all but
// listed (with lim) and read in place through Root.Tree, which is valid
// only during the call; other trees are written below dst and removed
// after their visit. Result.Roots lists every tree visited.
func Visit(ctx context.Context, file, dst string, lim extract.Limits, visit func(Root)) (*Result, error) {
	if visit == nil {
		return nil, errors.New("firmware.Visit: no visitor")
	}
	return unpack(ctx, file, dst, lim, visit)
}

func unpack(ctx context.Context, file, dst string, lim extract.Limits, visit func(Root)) (res *Result, err error) {
	u := &unpacker{ctx: ctx, visit: visit, dst: dst, tmp: filepath.Dir(filepath.Clean(dst)), lim: lim, raws: map[string]*rawRoot{}}
	defer func() {
		if r := recover(); r != nil {
			res, err = &u.res, fmt.Errorf("unpacking %s: internal error: %v", file, r)
		}
	}()
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("unpacking firmware: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("unpacking firmware: %w", err)
	}
	size := fi.Size()
	u.top = f
	u.maxOut = lim.MaxBytes
	if r := size * lim.Ratio(); size < (1<<62)/lim.Ratio() && r < u.maxOut {
		u.maxOut = max(r, 1<<20)
	}
	var found int
	if g, ok := detectNAND(f, size); ok {
		found = u.nand(f, size, g, "/"+filepath.Base(file))
	} else {
		found, err = u.region(f, 0, size, 0, "/"+filepath.Base(file))
	}
	for _, key := range sortedKeys(u.raws) {
		r := u.raws[key]
		u.res.Gaps = append(u.res.Gaps, withChain(r.chain, r.w.Finish())...)
		u.finished(r.root)
	}
	if err == nil && found == 0 {
		err = ErrNotFirmware
	}
	if err != nil {
		return &u.res, fmt.Errorf("unpacking %s: %w", file, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		u.gap("/", "unpacking stopped: "+cerr.Error()+"; the rest of the input is not examined")
	}
	u.res.Coverage = Coverage{Size: size, Unpacked: u.cover.total(), Content: u.plain.minus(u.cover)}
	return &u.res, nil
}

// gap records a gap in the current container.
func (u *unpacker) gap(p, reason string) {
	u.res.Gaps = append(u.res.Gaps, Gap{Chain: u.current(), Path: p, Reason: reason})
}

// current returns a copy of the chain.
func (u *unpacker) current() []Layer { return append([]Layer(nil), u.chain...) }

// push enters a container; the returned func leaves it.
func (u *unpacker) push(format string, off int64) func() {
	u.chain = append(u.chain, Layer{Format: format, Offset: off})
	n := len(u.chain) - 1
	return func() { u.chain = u.chain[:n] }
}

// newDir creates the directory of a new root for the container on top
// of the chain and returns it with the root's index.
func (u *unpacker) newDir(raw bool) (string, int, error) {
	dir := filepath.Join(u.dst, fmt.Sprintf("%03d", len(u.res.Roots)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", 0, fmt.Errorf("creating a tree directory: %w", err)
	}
	u.res.Roots = append(u.res.Roots, Root{Dir: dir, Chain: u.current(), Raw: raw})
	return dir, len(u.res.Roots) - 1, nil
}

// finished hands the written root i to the visitor, then removes it.
func (u *unpacker) finished(i int) {
	if u.visit == nil {
		return
	}
	u.visit(u.res.Roots[i])
	os.RemoveAll(u.res.Roots[i].Dir)
}

// tree runs fill on a new root's writer, records its gaps and hands the
// tree to the visitor.
func (u *unpacker) tree(fill func(w *extract.Writer) error) error {
	dir, i, err := u.newDir(false)
	if err != nil {
		return err
	}
	w := extract.NewWriter(dir, u.lim)
	err = fill(w)
	u.res.Gaps = append(u.res.Gaps, withChain(u.res.Roots[i].Chain, w.Finish())...)
	u.finished(i)
	return err
}

// sortedKeys returns the keys of m in order, so raw trees are visited in
// the same order on every run.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// region unpacks [off, off+size) of f: the format at its start when there
// is one, then every validated candidate found by carving the rest, and
// writes the bytes between them as raw content. It returns how many
// containers it opened. An error means the format at the start of the
// region is corrupt at the top level (depth 0) and nothing else was found.
func (u *unpacker) region(f *os.File, off, size int64, depth int, name string) (int, error) {
	end := off + size
	rawFrom, pos, found := off, off, 0
	var failed []error
	for pos < end && u.ctx.Err() == nil {
		c, ok := u.nextCandidate(f, pos, end, pos == off)
		if !ok {
			break
		}
		if depth >= u.lim.Depth() {
			u.gap(name, fmt.Sprintf("%s layer at 0x%x nested deeper than %d layers not unpacked; scanned as plain content", c.format, c.off, u.lim.Depth()))
			break
		}
		if c.off > rawFrom {
			u.raw(f, rawFrom, c.off, off, end, name)
		}
		n, err := u.open(f, c, end, depth, name)
		if errors.Is(err, errNotFormat) {
			// Not the format after all (a device tree that is no FIT):
			// plain content, no gap.
			pos = c.off + 1
			continue
		}
		if err != nil {
			// A rejected container's bytes stay raw content; one of known
			// extent is not searched inside.
			failed = append(failed, err)
			rawFrom = max(rawFrom, c.off)
			pos = c.off + max(n, 1)
			continue
		}
		found++
		n = max(n, 1)
		u.covered(f, c.off, n)
		rawFrom, pos = c.off+n, c.off+n
	}
	if rawFrom < end {
		u.raw(f, rawFrom, end, off, end, name)
	}
	if found == 0 && depth == 0 && len(failed) > 0 {
		return 0, failed[0]
	}
	for _, err := range failed {
		u.gap(name, err.Error())
	}
	return found, nil
}

// covered records an opened region of the input.
func (u *unpacker) covered(f *os.File, off, n int64) {
	if f == u.top {
		u.cover.add(off, off+n)
	}
}

// raw writes [from, to) of the region [base, end) of f as a plain-content
// file of the current container, unless it is padding (all 0x00 or all
// 0xff). The file is named after the region, with the offset inside it
// when it is only part of it.
func (u *unpacker) raw(f *os.File, from, to, base, end int64, name string) {
	if f == u.top {
		u.plain.add(from, to)
	}
	if isPadding(f, from, to) {
		return
	}
	key := fmt.Sprint(u.chain)
	r := u.raws[key]
	if r == nil {
		dir, i, err := u.newDir(true)
		if err != nil {
			u.gap(name, err.Error())
			return
		}
		r = &rawRoot{w: extract.NewWriter(dir, u.lim), chain: u.res.Roots[i].Chain, root: i}
		u.raws[key] = r
	}
	size := to - from
	p := name
	if from != base || to != end {
		ext := path.Ext(name)
		p = fmt.Sprintf("%s@0x%x%s", strings.TrimSuffix(name, ext), from-base, ext)
	}
	if r.w.Admit(p) {
		r.w.File(p, ctxReader{u.ctx, io.NewSectionReader(f, from, size)}, size)
	}
}

// open unpacks the candidate c of f (which may run to end) and returns
// how many bytes of f it spans.
func (u *unpacker) open(f *os.File, c candidate, end int64, depth int, name string) (int64, error) {
	size := end - c.off
	head := readAtMost(f, c.off, min(size, headSize))
	leave := u.push(c.format, c.off)
	defer leave()
	switch c.format {
	case fmtSquashfs:
		n, err := squashfsExtent(head, size)
		if err != nil {
			return 0, fmt.Errorf("squashfs at 0x%x: bad superblock: %w", c.off, err)
		}
		// Our own reader (every compressor, both byte orders, files read
		// in parallel); the libraries only if it cannot open it.
		fsys, err := protect(func() (*sqfs.FS, error) { return sqfs.Open(io.NewSectionReader(f, c.off, n), n) })
		if err == nil {
			return n, u.mount(fmtSquashfs, fsys)
		}
		return n, u.tree(func(w *extract.Writer) error { return u.extractSquashfs(f, c.off, n, head, w) })
	case fmtExt, fmtISO9660, fmtFAT:
		n := min(diskExtent(c.format, head), size)
		if n <= 0 {
			n = size
		}
		if c.format == fmtExt {
			// Our own reader only: go-diskfs's ext4 reader can hang on
			// real images.
			fsys, err := protect(func() (*extfs.FS, error) { return extfs.Open(io.NewSectionReader(f, c.off, n), n) })
			if err != nil {
				return n, fmt.Errorf("ext at 0x%x: %w", c.off, err)
			}
			return n, u.mount(fmtExt, fsys)
		}
		return n, u.tree(func(w *extract.Writer) error {
			if c.format == fmtISO9660 {
				return u.extractISO9660(f, c.off, n, w)
			}
			return u.extractFAT(f, c.off, n, head, w)
		})
	case fmtUImage:
		return u.extractUImage(f, c.off, size, depth)
	case fmtUBI:
		return u.extractUBI(f, c.off, size, depth)
	case fmtUBIFS:
		return size, u.openUBIFS(f, c.off, size)
	case fmtCramfs:
		n := size
		if at := cramfsOffset(head); at >= 0 && len(head) >= at+8 {
			bo := binary.ByteOrder(binary.LittleEndian)
			if head[at] == 0x28 {
				bo = binary.BigEndian
			}
			if declared := int64(bo.Uint32(head[at+4:])); declared > 0 && declared <= size {
				n = declared
			}
		}
		return n, u.openCramfs(f, c.off, n)
	case fmtJFFS2:
		return size, u.openJFFS2(f, c.off, size)
	}
	if isWrapper(c.format) {
		return u.openWrapper(f, c.format, c.off, size, depth)
	}
	// Stream formats: compression, tar, cpio.
	cr := &countReader{r: io.NewSectionReader(f, c.off, size)}
	br := bufio.NewReaderSize(ctxReader{u.ctx, cr}, headSize)
	if err := u.stream(br, c.format, depth, name, c.carved); err != nil {
		return 0, fmt.Errorf("%s at 0x%x: %w", c.format, c.off, err)
	}
	return max(cr.n-int64(br.Buffered()), 1), nil
}

// stream unpacks a layer of the given format read from br.
func (u *unpacker) stream(br *bufio.Reader, format string, depth int, name string, carved bool) error {
	switch {
	case isCompression(format):
		dr, closeFn, err := decompressor(format, br)
		if err != nil {
			return err
		}
		defer closeFn()
		lr := &limitReader{ctx: u.ctx, r: dr, max: u.maxOut, onLimit: func() {
			u.gap(name, fmt.Sprintf("%s: decompressed size limit of %d bytes reached; the rest is not examined", format, u.maxOut))
		}}
		inner := bufio.NewReaderSize(lr, headSize)
		u.payload(inner, depth+1, name)
		// Read what the payload left, to notice a truncated stream.
		if _, err := io.Copy(io.Discard, inner); err != nil && !lr.hit && (!carved || lr.n == 0) {
			u.gap(name, fmt.Sprintf("%s stream truncated or corrupt after the payload: %v", format, err))
		}
		return nil
	case format == fmtTar:
		dir, i, err := u.newDir(false)
		if err != nil {
			return err
		}
		gaps, err := extract.Tar(br, dir, u.lim)
		u.res.Gaps = append(u.res.Gaps, withChain(u.res.Roots[i].Chain, gaps)...)
		u.finished(i)
		return err
	case format == fmtCpio:
		return u.tree(func(w *extract.Writer) error { return extractCpio(u.ctx, br, w) })
	}
	return fmt.Errorf("%s is not a stream format", format)
}

// payload examines the decompressed content of a stream: a stream format
// at its start is read on the fly; anything else is spooled to a file
// and examined as a region.
func (u *unpacker) payload(br *bufio.Reader, depth int, name string) {
	head := peekHead(br)
	format := Detect(head)
	if format == "" && isTar(head) {
		format = fmtTar
	}
	if format != "" && (isCompression(format) || format == fmtTar || format == fmtCpio) && depth < u.lim.Depth() {
		leave := u.push(format, 0)
		defer leave()
		if err := u.stream(br, format, depth, name, false); err != nil {
			u.gap(name, fmt.Sprintf("%s: %v", format, err))
		}
		return
	}
	u.spoolReader(br, depth, name, false)
}

// errNotFormat marks a candidate that turned out not to be its format.
var errNotFormat = errors.New("not this format")

// spoolReader copies r to a temporary file next to dst and examines it as
// a region, returning how many containers it found there. report records
// a read error as a gap; otherwise the caller reports it.
func (u *unpacker) spoolReader(br io.Reader, depth int, name string, report bool) int {
	t, err := os.CreateTemp(u.tmp, ".firmware-spool-*")
	if err != nil {
		u.gap(name, "cannot create a spool file: "+err.Error())
		return 0
	}
	defer os.Remove(t.Name())
	defer t.Close()
	n, err := io.Copy(t, io.LimitReader(br, u.lim.MaxBytes+1))
	if n > u.lim.MaxBytes {
		u.gap(name, fmt.Sprintf("%v: layer larger than %d bytes not examined", extract.ErrLimit, u.lim.MaxBytes))
		return 0
	}
	if err != nil && report && !errors.As(err, new(errLimit)) {
		u.gap(name, "layer truncated or corrupt: "+err.Error())
	}
	found, err := u.region(t, 0, n, depth, name)
	if err != nil {
		u.gap(name, err.Error())
	}
	return found
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	return n, err
}

// isPadding reports whether [from, to) of f holds only 0x00 or only 0xff.
func isPadding(f *os.File, from, to int64) bool {
	buf := make([]byte, 64<<10)
	var fill byte
	for p := from; p < to; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-p)], p)
		if n == 0 {
			return err == nil
		}
		if p == from {
			fill = buf[0]
			if fill != 0 && fill != 0xff {
				return false
			}
		}
		for _, b := range buf[:n] {
			if b != fill {
				return false
			}
		}
		p += int64(n)
	}
	return true
}
