// Package analyzer is oemtrace's library entry point: give it inputs and a
// Config, get back a report.Report that says whether anything in them is
// Kaspersky-derived, with the evidence for every finding.
//
// # Usage
//
//	rep, err := analyzer.Analyze(ctx, []analyzer.Input{analyzer.FileInput("sbom.json")}, analyzer.Config{})
//
// An error means an input could not be read or is not a supported kind; a
// report is then not produced. Parts of an input that could be read but not
// examined become report Gaps, and make the verdict incomplete.
//
// # Inputs
//
// The kind of an input is recognized from its content, never from its file
// name. This build reads SBOMs: CycloneDX JSON and XML 1.2 to 1.7, SPDX 2.2
// and 2.3 JSON and tag-value, and Syft JSON, each optionally gzip-compressed.
//
// # Guarantees
//
// Analyze does not touch the network and does not read os.Stdin or write
// os.Stdout by itself. It writes only below a private temporary directory
// (archives are unpacked there, standard input is spooled there), which it
// removes before returning. For the same inputs and
// signature set the report is the same, apart from its time stamp.
package analyzer

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/fscan"
	"github.com/oemtrace/oemtrace/analyzer/internal/identity"
	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
	"github.com/oemtrace/oemtrace/analyzer/internal/inventory"
	"github.com/oemtrace/oemtrace/analyzer/internal/sbomout"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"

	"github.com/anchore/syft/syft/sbom"
)

// ToolName is the name reports give for the producing program.
const ToolName = "oemtrace"

// Version is the tool version; the build sets it with -ldflags.
var Version = "dev"

// Config controls a scan. The zero value scans with the embedded signature
// set and blocks on any finding stronger than a mention.
type Config struct {
	// Signatures is the set to judge with; nil means signatures.Embedded().
	Signatures *signatures.Set
	// FailOn is the weakest class that blocks; empty means DefaultFailOn.
	FailOn signatures.Class
	// AllowIncomplete keeps gaps from making the verdict incomplete.
	AllowIncomplete bool
	// MaxInputBytes bounds how much of one input (after decompression) is
	// read; 0 means 2 GiB.
	MaxInputBytes int64
	// Now stamps the report; nil means time.Now. Tests fix it.
	Now func() time.Time
	// Limits bound unpacking of archives, images and firmware; zero
	// fields take their defaults.
	Limits Limits
}

// Limits bound how much an archive, image or firmware input may unpack.
// Whatever a limit stops becomes a gap, and the verdict incomplete.
type Limits struct {
	// MaxBytes is the total of unpacked bytes (default: 1000 times the
	// input's size, at least 64 MiB, at most 16 GiB).
	MaxBytes int64
	// MaxEntries is the number of entries (default 2,000,000).
	MaxEntries int
	// MaxFileBytes is the size of one entry (default 4 GiB).
	MaxFileBytes int64
	// MaxDepth is how many nested layers are opened (default 8).
	MaxDepth int
	// MaxRatio bounds decompressed bytes per compressed byte, for the
	// total and for each compression layer (default 1000).
	MaxRatio int64
}

// DefaultFailOn is the weakest blocking class when Config.FailOn is empty:
// every class except mention blocks.
const DefaultFailOn = signatures.ClassService

// Input is one target to scan.
type Input struct {
	// Name is how the user named the target ("-" for standard input); it
	// appears in every location and error.
	Name string
	// Path is the target on disk: a file or a directory. Empty when the
	// target is Reader.
	Path string
	// Reader supplies the target's bytes when it is not on disk.
	Reader io.Reader
}

// FileInput is an Input for a file or directory on disk.
func FileInput(path string) Input { return Input{Name: path, Path: path} }

// ReaderInput is an Input that reads r once (for standard input).
func ReaderInput(name string, r io.Reader) Input { return Input{Name: name, Reader: r} }

// ErrUnknownKind is wrapped by errors for inputs whose content is not a kind
// this build can scan.
var ErrUnknownKind = errors.New("unknown input kind")

// InputError is returned when an input cannot be read or is not a
// supported kind.
type InputError struct {
	Name string
	Err  error
}

func (e *InputError) Error() string {
	var de *ingest.DecodeError
	if errors.As(e.Err, &de) {
		return de.Error() // names the input, the format and the place
	}
	return e.Name + ": " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

// run is one call of Analyze.
type run struct {
	set     *signatures.Set
	scanner *fscan.Scanner
	cfg     Config
	now     func() time.Time
	rep     *report.Report
	// keepSBOM asks scanTree to keep Syft's SBOM of the tree in sbom.
	keepSBOM bool
	sbom     *sbom.SBOM
}

// Analyze scans every input and returns the combined report.
func Analyze(ctx context.Context, inputs []Input, cfg Config) (*report.Report, error) {
	a, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	return a.analyze(ctx, inputs)
}

// WriteSBOM scans one shipped artefact (a directory, an archive, an image or
// a binary, not an SBOM) and writes an SBOM of it in format (cyclonedx-json,
// cyclonedx-xml or spdx-json): the packages Syft catalogued plus every
// finding, with its evidence on the component it concerns and the verdict
// in the document's properties. cdxVersion is "1.6" (default) or "1.7".
// Nothing is written to w when an error is returned.
func WriteSBOM(ctx context.Context, w io.Writer, in Input, format, cdxVersion string, cfg Config) (*report.Report, error) {
	f, err := sbomout.ParseFormat(format)
	if err != nil {
		return nil, err
	}
	a, err := newRun(cfg)
	if err != nil {
		return nil, err
	}
	a.keepSBOM = true
	rep, err := a.analyze(ctx, []Input{in})
	if err != nil {
		return nil, err
	}
	if len(rep.Inputs) == 1 && rep.Inputs[0].Kind == KindSBOM {
		return nil, &InputError{Name: in.Name, Err: errors.New("the input is already an SBOM; oemtrace sbom describes directories, archives, images and binaries (use oemtrace scan to check an SBOM)")}
	}
	if err := sbomout.Write(w, f, a.sbom, rep, sbomout.Options{CycloneDXVersion: cdxVersion}); err != nil {
		return nil, fmt.Errorf("writing %s: %w", format, err)
	}
	return rep, nil
}

// SBOMFormats lists the formats WriteSBOM writes.
func SBOMFormats() []string {
	var out []string
	for _, f := range sbomout.Formats() {
		out = append(out, string(f))
	}
	return out
}

func newRun(cfg Config) (*run, error) {
	set := cfg.Signatures
	if set == nil {
		var err error
		if set, err = signatures.Embedded(); err != nil {
			return nil, fmt.Errorf("loading embedded signatures: %w", err)
		}
	}
	failOn := cfg.FailOn
	if failOn == "" {
		failOn = DefaultFailOn
	}
	if !failOn.IsValid() {
		return nil, fmt.Errorf("fail-on class %q is not valid", failOn)
	}
	if cfg.MaxInputBytes <= 0 {
		cfg.MaxInputBytes = 2 << 30
	}
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	sc, err := fscan.New(set, inventory.Markers()...)
	if err != nil {
		return nil, err
	}
	return &run{set: set, scanner: sc, cfg: cfg, now: now, rep: &report.Report{
		Tool: report.Tool{Name: ToolName, Version: Version},
		Signatures: report.SignatureSet{
			Version: set.Manifest.Version,
			Digest:  set.Digest,
			Rules:   len(set.Rules),
			Source:  set.Source,
		},
		Policy: report.Policy{FailOn: failOn, AllowIncomplete: cfg.AllowIncomplete},
	}}, nil
}

func (a *run) analyze(ctx context.Context, inputs []Input) (*report.Report, error) {
	for _, in := range inputs {
		err := a.analyzeOne(ctx, in)
		if err != nil && ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// Out of time: keep what the finished inputs and trees found;
			// the rest is a gap, so the verdict cannot be clean.
			a.rep.Gaps = append(a.rep.Gaps, report.Gap{
				Location: report.Location{Input: in.Name},
				Reason:   "time limit reached before this input was fully examined",
			})
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	a.rep.Time = a.now().UTC()
	a.rep.Finish()
	return a.rep, nil
}

// openPipe opens the named pipe p for reading. Like any reader of a
// pipe it waits for a writer, but not past ctx: then it connects a writer
// of its own, so that the waiting open returns, and fails with ctx's
// error.
func openPipe(ctx context.Context, p string) (*os.File, error) {
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(p)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
	}
	for {
		// Fails (ENXIO) until the open above is waiting as a reader.
		if w, err := os.OpenFile(p, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		select {
		case o := <-ch:
			if o.f != nil {
				o.f.Close()
			}
			return nil, fmt.Errorf("waiting for a writer: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// modeName names a file type that is not scanned.
func modeName(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	}
	return "special file"
}

// analyzeOne recognizes the input's kind from its content and scans it.
func (a *run) analyzeOne(ctx context.Context, in Input) error {
	var r io.Reader = in.Reader
	stream := in.Path == ""
	if in.Path != "" {
		fi, err := os.Stat(in.Path)
		if err != nil {
			return &InputError{Name: in.Name, Err: unwrapPathError(err)}
		}
		if fi.IsDir() {
			return a.scanPath(ctx, in, in.Path, nil)
		}
		open := os.Open
		switch m := fi.Mode(); {
		case m&fs.ModeNamedPipe != 0:
			// A pipe (process substitution, a named FIFO) is read once,
			// as standard input is.
			open = func(p string) (*os.File, error) { return openPipe(ctx, p) }
			stream = true
		case !m.IsRegular() && (m&fs.ModeDevice == 0 || m&fs.ModeCharDevice != 0):
			return &InputError{Name: in.Name, Err: fmt.Errorf("%w: a %s, not a file", ErrUnknownKind, modeName(m))}
		}
		f, err := open(in.Path)
		if err != nil {
			return &InputError{Name: in.Name, Err: unwrapPathError(err)}
		}
		defer f.Close()
		r = f
	}
	cr := &countingReader{r: r, h: sha256.New()}
	br := bufio.NewReaderSize(cr, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return &InputError{Name: in.Name, Err: unwrapPathError(err)}
	}
	if len(head) == 0 {
		return &InputError{Name: in.Name, Err: fmt.Errorf("%w: input is empty", ErrUnknownKind)}
	}
	if _, ok := ingest.Sniff(head); ok {
		return a.scanSBOM(ctx, in, br, cr)
	}
	if !knownFile(head) && bytes.IndexByte(head, 0) < 0 {
		// Text that is no SBOM: the SBOM reader says best what it lacks.
		if _, err := ingest.Decode(ctx, in.Name, br, ingest.Options{MaxBytes: a.cfg.MaxInputBytes}); err != nil {
			return &InputError{Name: in.Name, Err: fmt.Errorf("%w: %w", ErrUnknownKind, err)}
		}
	}
	disk := in.Path
	if stream {
		// Binary data of no known kind is spooled too: it may be a raw
		// flash dump to carve.
		what := "standard input"
		if in.Path != "" {
			what = in.Path
		}
		p, cleanup, err := spool(br, a.cfg.MaxInputBytes, what)
		if err != nil {
			return &InputError{Name: in.Name, Err: err}
		}
		defer cleanup()
		disk = p
	}
	err = a.scanPath(ctx, in, disk, append([]byte(nil), head...))
	if err != nil && disk != in.Path {
		// Name the input, not its spooled copy.
		err = renamedError{err: err, old: disk, new: in.Name}
	}
	return err
}

// renamedError is err with every mention of old in its text replaced by
// new.
type renamedError struct {
	err      error
	old, new string
}

func (e renamedError) Error() string { return strings.ReplaceAll(e.err.Error(), e.old, e.new) }
func (e renamedError) Unwrap() error { return e.err }

// scanSBOM decodes an SBOM and matches every component's identity.
func (a *run) scanSBOM(ctx context.Context, in Input, br *bufio.Reader, cr *countingReader) error {
	doc, err := ingest.Decode(ctx, in.Name, br, ingest.Options{MaxBytes: a.cfg.MaxInputBytes})
	if err != nil {
		return &InputError{Name: in.Name, Err: err}
	}
	// Drain what the decoder did not need so the digest covers the input.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return &InputError{Name: in.Name, Err: err}
	}
	findings, err := identity.Match(ctx, a.set, in.Name, doc)
	if err != nil {
		return err
	}
	a.rep.Findings = append(a.rep.Findings, findings...)
	for _, why := range doc.Incomplete {
		a.rep.Gaps = append(a.rep.Gaps, report.Gap{
			Location: report.Location{Input: in.Name},
			Reason:   "the SBOM declares its inventory incomplete: " + why,
		})
	}
	a.rep.Inputs = append(a.rep.Inputs, report.Input{
		Name:        in.Name,
		Kind:        KindSBOM,
		Format:      string(doc.Format),
		SpecVersion: doc.SpecVersion,
		SHA256:      hex.EncodeToString(cr.h.Sum(nil)),
		Size:        cr.n,
		Components:  len(doc.Components),
		Notes:       doc.Notes,
	})
	return nil
}

// unwrapPathError drops the *os.PathError wrapper, whose message repeats
// the path that InputError already names, and the name of the system call.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

type countingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	c.h.Write(p[:n])
	return n, err
}
