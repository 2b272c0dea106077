package fscan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"sync"

	"github.com/oemtrace/oemtrace/analyzer/internal/binmeta"
	"github.com/oemtrace/oemtrace/analyzer/internal/content"
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
	// Workers is the number of files scanned at once; 0 means GOMAXPROCS.
	Workers int
}

// New compiles the set's literals into one matcher.
func New(set *signatures.Set) (*Scanner, error) {
	lits := set.Literals()
	ps := make([]content.Pattern, len(lits))
	for i, l := range lits {
		ps[i] = content.Pattern{ID: i, Bytes: l.Bytes, Fold: l.Fold, AtOffset: l.At}
	}
	m, err := content.Compile(ps)
	if err != nil {
		return nil, fmt.Errorf("compiling content patterns: %w", err)
	}
	return &Scanner{set: set, matcher: m, lits: lits}, nil
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
}

// ScanTree scans every regular file under root.
func (s *Scanner) ScanTree(ctx context.Context, root string) (*Result, error) {
	files, gaps, err := walk(ctx, root)
	if err != nil {
		return nil, err
	}
	res := &Result{Gaps: gaps}
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	jobs := make(chan entry)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := content.NewScanner(s.matcher)
			for e := range jobs {
				f, gap := s.scanFile(sc, e)
				mu.Lock()
				if gap != nil {
					res.Gaps = append(res.Gaps, *gap)
				} else {
					res.Scanned++
					res.Bytes += e.size
				}
				if f != nil {
					res.Files = append(res.Files, *f)
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
	sort.Slice(res.Files, func(i, j int) bool { return res.Files[i].Path < res.Files[j].Path })
	sort.Slice(res.Gaps, func(i, j int) bool { return res.Gaps[i].Path < res.Gaps[j].Path })
	return res, nil
}

// ScanFile scans one file on disk, presented at path rel.
func (s *Scanner) ScanFile(abs, rel string) (*File, *Gap) {
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, &Gap{Path: rel, Reason: "cannot stat: " + describeErr(err)}
	}
	return s.scanFile(content.NewScanner(s.matcher), entry{rel: rel, abs: abs, size: fi.Size()})
}

// headSize is how much of a file decides its kind.
const headSize = 512

func (s *Scanner) scanFile(sc *content.Scanner, e entry) (*File, *Gap) {
	f, err := os.Open(e.abs)
	if err != nil {
		return nil, &Gap{Path: e.rel, Reason: "cannot open: " + describeErr(err)}
	}
	defer f.Close()
	head := make([]byte, headSize)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, &Gap{Path: e.rel, Reason: "cannot read: " + describeErr(err)}
	}
	head = head[:n]
	format := binmeta.Sniff(head)
	obs := &signatures.Observation{Path: e.rel, Kind: fileKind(format, head), Found: map[int][]int64{}}
	_, err = sc.Scan(io.MultiReader(bytes.NewReader(head), f), func(m content.Match) bool {
		if offs := obs.Found[m.ID]; len(offs) < maxOffsets {
			obs.Found[m.ID] = append(offs, m.Offset)
		}
		return true
	})
	if err != nil {
		return nil, &Gap{Path: e.rel, Reason: "cannot read: " + describeErr(err)}
	}
	var facts *binmeta.Facts
	if format != "" {
		facts, err = binmeta.Read(f, e.size, binmeta.DefaultLimits())
		if err != nil {
			return nil, &Gap{Path: e.rel, Reason: fmt.Sprintf("corrupt %s: %v", format, err)}
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
		return nil, nil
	}
	out := &File{Path: e.rel, Size: e.size, Kind: obs.Kind, Facts: facts}
	sum := sha256.New()
	if _, err := f.Seek(0, io.SeekStart); err == nil {
		if _, err := io.Copy(sum, f); err == nil {
			out.SHA256 = hex.EncodeToString(sum.Sum(nil))
		}
	}
	for _, h := range hits {
		if h.Kind != "string" && h.Kind != "magic" {
			for _, v := range h.Values {
				out.Hits = append(out.Hits, Hit{Rule: h.Rule, Kind: h.Kind, Value: v})
			}
			continue
		}
		for i, v := range h.Values {
			got := exactBytes(f, h.Offsets[i], len(v))
			if got == "" {
				got = v
			}
			out.Hits = append(out.Hits, Hit{Rule: h.Rule, Kind: h.Kind, Value: got, Offset: h.Offsets[i], Length: int64(len(v))})
		}
	}
	return out, nil
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
