package fscan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/gabriel-vasile/mimetype"

	"github.com/oemtrace/oemtrace/analyzer/internal/binmeta"
	"github.com/oemtrace/oemtrace/analyzer/internal/content"
	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
	"github.com/oemtrace/oemtrace/signatures"
)

// maxOffsets is how many offsets are kept per literal per file.
const maxOffsets = 4

// Scanner scans trees and files with one signature set. It is safe for
// concurrent use.
type Scanner struct {
	set     *signatures.Set
	matcher *content.Matcher
	lits    []signatures.Literal
	markers int
	// idle holds the workers of ScanFile calls between calls: a system's
	// manual pages are tens of thousands of calls, and each worker's
	// buffer is a chunk of the content scan.
	idle sync.Pool
	// Workers is the number of files scanned at once; 0 means GOMAXPROCS.
	Workers int
}

// MaxMarkers is how many markers New takes.
const MaxMarkers = 64

// New compiles the set's literals into one matcher, together with
// markers: byte strings, not evidence, whose presence in each file the
// scan notes in Result.Marks (bit i for markers[i]) at no extra reading.
func New(set *signatures.Set, markers ...[]byte) (*Scanner, error) {
	if len(markers) > MaxMarkers {
		return nil, fmt.Errorf("%d markers, at most %d", len(markers), MaxMarkers)
	}
	lits := set.Literals()
	ps := make([]content.Pattern, 0, len(lits)+len(markers))
	for i, l := range lits {
		ps = append(ps, content.Pattern{ID: i, Bytes: l.Bytes, Fold: l.Fold, AtOffset: l.At})
	}
	for i, b := range markers {
		ps = append(ps, content.Pattern{ID: len(lits) + i, Bytes: b, AtOffset: -1})
	}
	m, err := content.Compile(ps)
	if err != nil {
		return nil, fmt.Errorf("compiling content patterns: %w", err)
	}
	return &Scanner{set: set, matcher: m, lits: lits, markers: len(markers)}, nil
}

// Hit is one rule's content evidence in one file.
type Hit struct {
	Rule *signatures.Rule
	// Kind is string, magic, path, symbol, library or class.
	Kind string
	// Value is the matched value: the bytes as found in the file for
	// string and magic hits, the name for the others.
	Value string
	// Offset and Length locate string and magic hits in the file; Length
	// is 0 for the other kinds.
	Offset, Length int64
}

// File is the result for one file that produced evidence or identity facts.
type File struct {
	// Path is the file's path inside the tree, with a leading "/".
	Path string
	// Size is its size in bytes; SHA256 its digest (hex).
	Size   int64
	SHA256 string
	// Kind is elf, pe, jar, apk, dex, text or binary.
	Kind string
	// Hits are the content hits, in rule order.
	Hits []Hit
	// Facts are the binary's metadata (nil for non-binaries).
	Facts *binmeta.Facts
}

// Result is the outcome of scanning a tree.
type Result struct {
	// Files lists files with evidence or binary facts, sorted by path.
	Files []File
	// Gaps lists what could not be examined, sorted by path.
	Gaps []Gap
	// Scanned and Bytes count the regular files read and their bytes.
	Scanned int
	Bytes   int64
	// MIMETypes maps the path of every regular file read to its MIME type
	// as Syft's indexer would see it ("" for an empty file); only filled
	// when Options.MIMETypes is set.
	MIMETypes map[string]string
	// Nested lists, sorted, the files that Options.Nested took for
	// containers: their content was scanned as it is, and the caller may
	// open them.
	Nested []string
	// Marks maps the path of every file holding one of the scanner's
	// markers to the set of those it holds (bit i for marker i).
	Marks map[string]uint64
}

// Options tunes a scan.
type Options struct {
	// MIMETypes asks for the MIME type of every file read, so a package
	// cataloger reading the same tree needs not read the files again.
	MIMETypes bool
	// Keep, when set, is asked for a Copy of every binary too large to
	// hold in memory, and of the binaries held that Reread selects; the
	// scan writes the binary to it and closes it, so a cataloger can
	// keep a copy instead of reading the file again. The scan reads a
	// binary too large to hold back from its copy to parse its metadata.
	Keep func(path string, size int64) Copy
	// Reread says, by binmeta format and marks, which binaries held in
	// memory a cataloger will read again; nil means none.
	Reread func(format string, marks uint64) bool
	// Nested, when set, is asked about the path and head of every file
	// that is not an executable (a zip is asked too): true lists the file
	// in Result.Nested.
	Nested func(path string, head []byte) bool
}

// Copy receives a binary as the scan reads it.
type Copy interface {
	io.WriteCloser
	// Kept returns a reader of the copy once Close has kept it whole,
	// else nil.
	Kept() io.ReaderAt
}

// ScanTree scans every regular file under the directory root.
func (s *Scanner) ScanTree(ctx context.Context, root string) (*Result, error) {
	t, err := fstree.Dir(ctx, root)
	if err != nil {
		return nil, fmt.Errorf("walking %w", err)
	}
	return s.Scan(ctx, t, Options{})
}

// Scan scans every regular file of t where it lies.
func (s *Scanner) Scan(ctx context.Context, t *fstree.Tree, opts Options) (*Result, error) {
	files, gaps := plan(t)
	res := &Result{Gaps: gaps}
	if opts.MIMETypes {
		res.MIMETypes = make(map[string]string, len(files))
	}
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Hard links are not read: each takes the result of the file it
	// links (see copyHardLinks).
	var links []entry
	linked := map[string]bool{} // paths read for links, whether read
	files = slices.DeleteFunc(files, func(e entry) bool {
		if e.same != "" {
			links = append(links, e)
			linked[e.same] = false
		}
		return e.same != ""
	})
	jobs := make(chan entry)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := &worker{sc: content.NewScanner(s.matcher)}
			w.keep, w.reread, w.nested, w.mime = opts.Keep, opts.Reread, opts.Nested, opts.MIMETypes
			for e := range jobs {
				r := s.scanFile(w, t, e)
				mu.Lock()
				if _, ok := linked[e.rel]; ok {
					linked[e.rel] = r.read
				}
				if r.read {
					if res.MIMETypes != nil {
						res.MIMETypes[e.rel] = r.mime
					}
					res.Scanned++
					res.Bytes += e.size
				}
				if r.gap != nil {
					res.Gaps = append(res.Gaps, *r.gap)
				}
				if r.nested {
					res.Nested = append(res.Nested, e.rel)
				}
				if r.file != nil {
					res.Files = append(res.Files, *r.file)
				}
				if r.marks != 0 {
					if res.Marks == nil {
						res.Marks = map[string]uint64{}
					}
					res.Marks[e.rel] = r.marks
				}
				mu.Unlock()
			}
		}()
	}
	var cerr error
	for _, e := range files {
		if cerr = ctx.Err(); cerr != nil {
			break
		}
		jobs <- e
	}
	close(jobs)
	wg.Wait()
	if cerr != nil {
		return nil, cerr
	}
	res.copyHardLinks(links, linked)
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	sort.Slice(res.Gaps, func(i, j int) bool { return res.Gaps[i].Path < res.Gaps[j].Path })
	sort.Strings(res.Nested)
	return res, nil
}

// copyHardLinks gives each hard link the result of the file it links,
// which was read in its stead: a system's hard links (Mesa's 13 drivers,
// a busybox's applets) are one file, read once as unsquashfs writes them
// once. A container is opened at its first path only.
func (res *Result) copyHardLinks(links []entry, read map[string]bool) {
	if len(links) == 0 {
		return
	}
	files := map[string]*File{}
	for i := range res.Files {
		files[res.Files[i].Path] = &res.Files[i]
	}
	gaps := map[string]string{}
	for _, g := range res.Gaps {
		gaps[g.Path] = g.Reason
	}
	for _, e := range links {
		if reason, ok := gaps[e.same]; ok {
			res.Gaps = append(res.Gaps, Gap{Path: e.rel, Reason: reason})
		}
		if !read[e.same] {
			continue
		}
		if res.MIMETypes != nil {
			res.MIMETypes[e.rel] = res.MIMETypes[e.same]
		}
		if f := files[e.same]; f != nil {
			c := *f
			c.Path, c.Hits = e.rel, slices.Clone(f.Hits)
			res.Files = append(res.Files, c)
		}
		if m := res.Marks[e.same]; m != 0 {
			res.Marks[e.rel] = m // not nil: it holds e.same
		}
		res.Scanned++
		res.Bytes += e.size
	}
}

// ScanFile scans the one file at the "/"-rooted path rel of t.
func (s *Scanner) ScanFile(t *fstree.Tree, rel string) (*File, *Gap) {
	e, ok := t.Lookup(rel)
	if !ok || !e.Mode.IsRegular() {
		return nil, &Gap{Path: rel, Reason: "not a regular file of the tree"}
	}
	w, _ := s.idle.Get().(*worker)
	if w == nil {
		w = &worker{sc: content.NewScanner(s.matcher)}
	}
	r := s.scanFile(w, t, entry{rel: rel, size: e.Size})
	s.idle.Put(w)
	return r.file, r.gap
}

// headSize is how much of a file decides its kind: what Syft's MIME
// detection reads.
const headSize = 3072

// maxHeld is the largest binary a worker holds in memory while scanning
// it, so that parsing its metadata reads no compressed block twice.
const maxHeld = 16 << 20

// worker is the state of one scanning goroutine.
type worker struct {
	sc     *content.Scanner
	buf    []byte // holds the binary being scanned, reused
	keep   func(path string, size int64) Copy
	reread func(format string, marks uint64) bool
	nested func(path string, head []byte) bool
	mime   bool // the MIME type of each file is wanted
}

// hold reads a whole binary from r into the worker's buffer.
func (w *worker) hold(r io.Reader, size int64) ([]byte, error) {
	if int64(cap(w.buf)) < size {
		w.buf = make([]byte, size)
	}
	b := w.buf[:size]
	n, err := io.ReadFull(r, b)
	if err == io.ErrUnexpectedEOF {
		err = io.EOF // shorter than declared: scan what is there
	}
	return b[:n], err
}

// scanned is what scanning one file gives.
type scanned struct {
	file *File // its evidence; nil without any
	gap  *Gap  // what of it could not be examined
	read bool  // its whole content was scanned
	mime string
	// nested: Options.Nested took it for a container
	nested bool
	marks  uint64 // the markers it holds
}

// scanFile scans one file: its evidence, the gap when it (or its binary
// metadata) cannot be read, and its MIME type. Content hits are kept
// when only the metadata is corrupt, so a damaged import table cannot
// hide what the bytes show.
func (s *Scanner) scanFile(w *worker, t *fstree.Tree, e entry) scanned {
	f, err := t.Open(e.rel)
	if err != nil {
		return scanned{gap: &Gap{Path: e.rel, Reason: "cannot open: " + describeErr(err)}}
	}
	defer f.Close()
	// The declared size bounds every read: a reader of a corrupt image
	// must not make a file longer than its listing says. The content is
	// streamed (readers decompress ahead for Read); binary metadata and
	// exact bytes are read at their offsets, from memory for a binary
	// small enough to hold.
	r := io.LimitReader(f, e.size)
	var ra io.ReaderAt = io.NewSectionReader(f, 0, e.size)
	head := make([]byte, min(headSize, e.size))
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return scanned{gap: &Gap{Path: e.rel, Reason: "cannot read: " + describeErr(err)}}
	}
	head = head[:n]
	var mime string
	if w.mime {
		mime = mimeType(head)
	}
	format := binmeta.Sniff(head)
	var body io.Reader = io.MultiReader(bytes.NewReader(head), r)
	held := format != "" && e.size <= maxHeld
	var copied Copy
	if format != "" && !held && w.keep != nil {
		copied = w.keep(e.rel, e.size)
		defer func() {
			if copied != nil {
				copied.Close()
			}
		}()
		body = io.TeeReader(body, copied)
	}
	var b []byte
	if held {
		b, err = w.hold(body, e.size)
		if err != nil && err != io.EOF {
			return scanned{gap: &Gap{Path: e.rel, Reason: "cannot read: " + describeErr(err)}, mime: mime}
		}
		ra, err = bytes.NewReader(b), nil // what there is is scanned
	}
	obs := &signatures.Observation{Path: e.rel, Kind: fileKind(format, head), Found: map[int][]int64{}}
	var marks uint64
	found := func(m content.Match) bool {
		if m.ID >= len(s.lits) {
			marks |= 1 << (m.ID - len(s.lits))
		} else if offs := obs.Found[m.ID]; len(offs) < maxOffsets {
			obs.Found[m.ID] = append(offs, m.Offset)
		}
		return true
	}
	if held {
		s.matcher.ScanBytes(b, found) // in place, not copied in chunks
	} else {
		_, err = w.sc.Scan(body, found)
	}
	if err != nil {
		return scanned{gap: &Gap{Path: e.rel, Reason: "cannot read: " + describeErr(err)}, mime: mime}
	}
	res := scanned{read: true, mime: mime, nested: (format == "" || format == "zip") && w.nested != nil && w.nested(e.rel, head), marks: marks}
	if copied != nil {
		// The scan has read the whole binary: a large one is parsed from
		// its copy, not decompressed from an image a second time.
		c := copied
		copied = nil
		if c.Close() == nil {
			if kept := c.Kept(); kept != nil {
				ra = kept
			}
		}
	} else if held && w.keep != nil && w.reread != nil && w.reread(format, marks) {
		// A copy that fails only means the cataloger reads the file
		// where it lies.
		c := w.keep(e.rel, e.size)
		_, _ = c.Write(b)
		_ = c.Close()
	}
	var facts *binmeta.Facts
	if format != "" {
		facts, err = binmeta.Read(ra, e.size, binmeta.DefaultLimits())
		if err != nil {
			// What was read of the metadata still counts.
			res.gap = &Gap{Path: e.rel, Reason: fmt.Sprintf("content scanned, but the %s metadata is corrupt: %v", format, err)}
		}
		if facts != nil {
			obs.Kind = facts.Format
			obs.Symbols = append(append([]string{}, facts.Exports...), facts.Imports...)
			obs.Libraries = append([]string{}, facts.Needed...)
			if facts.SOName != "" {
				obs.Libraries = append(obs.Libraries, facts.SOName)
			}
			obs.Classes = facts.Classes
		}
	}
	hits := s.set.MatchContent(obs)
	if len(hits) == 0 && !hasIdentity(facts) {
		return res
	}
	out := &File{Path: e.rel, Size: e.size, Kind: obs.Kind, Facts: facts}
	sum := sha256.New()
	if _, err := io.Copy(sum, io.NewSectionReader(ra, 0, e.size)); err == nil {
		out.SHA256 = hex.EncodeToString(sum.Sum(nil))
	}
	for _, h := range hits {
		if h.Kind != "string" && h.Kind != "magic" {
			for _, v := range h.Values {
				out.Hits = append(out.Hits, Hit{Rule: h.Rule, Kind: h.Kind, Value: v})
			}
			continue
		}
		for i, v := range h.Values {
			got := exactBytes(ra, h.Offsets[i], len(v))
			if got == "" {
				got = v
			}
			out.Hits = append(out.Hits, Hit{Rule: h.Rule, Kind: h.Kind, Value: got, Offset: h.Offsets[i], Length: int64(len(v))})
		}
	}
	res.file = out
	return res
}

// mimeType is the MIME type of a file with this head, without parameters,
// as Syft's indexer records it ("" for an empty file).
func mimeType(head []byte) string {
	if len(head) == 0 {
		return ""
	}
	return strings.SplitN(mimetype.Detect(head).String(), ";", 2)[0]
}

// exactBytes reads the n bytes at off, as found (a case-folded literal
// may differ in case from the file).
func exactBytes(r io.ReaderAt, off int64, n int) string {
	b := make([]byte, n)
	if _, err := r.ReadAt(b, off); err != nil {
		return ""
	}
	return string(b)
}

func hasIdentity(f *binmeta.Facts) bool {
	return f != nil && (len(f.Version) > 0 || len(f.Signers) > 0)
}

// fileKind classifies a file: its binmeta format when it has one, else
// text (no NUL byte in the head) or binary.
func fileKind(format string, head []byte) string {
	if format != "" {
		return format
	}
	if bytes.IndexByte(head, 0) >= 0 {
		return "binary"
	}
	return "text"
}
