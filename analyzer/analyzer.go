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
// Analyze does not write files, does not touch the network, and does not
// read os.Stdin or write os.Stdout by itself. For the same inputs and
// signature set the report is the same, apart from its time stamp.
package analyzer

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/identity"
	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
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
}

// DefaultFailOn is the weakest blocking class when Config.FailOn is empty:
// every class except mention blocks.
const DefaultFailOn = signatures.ClassService

// Input is one target to scan.
type Input struct {
	// Name is how the user named the target ("-" for standard input); it
	// appears in every location and error.
	Name string
	// Open returns the target's bytes. Analyze closes what it returns.
	Open func() (io.ReadCloser, error)
}

// FileInput is an Input that reads the named file.
func FileInput(path string) Input {
	return Input{Name: path, Open: func() (io.ReadCloser, error) { return os.Open(path) }}
}

// ReaderInput is an Input that reads r once (for standard input).
func ReaderInput(name string, r io.Reader) Input {
	return Input{Name: name, Open: func() (io.ReadCloser, error) { return io.NopCloser(r), nil }}
}

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
		return e.Err.Error() // already names the input
	}
	return e.Name + ": " + e.Err.Error()
}

func (e *InputError) Unwrap() error { return e.Err }

// Analyze scans every input and returns the combined report.
func Analyze(ctx context.Context, inputs []Input, cfg Config) (*report.Report, error) {
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
	now := time.Now
	if cfg.Now != nil {
		now = cfg.Now
	}
	rep := &report.Report{
		Tool: report.Tool{Name: ToolName, Version: Version},
		Signatures: report.SignatureSet{
			Version: set.Manifest.Version,
			Digest:  set.Digest,
			Rules:   len(set.Rules),
			Source:  set.Source,
		},
		Policy: report.Policy{FailOn: failOn, AllowIncomplete: cfg.AllowIncomplete},
	}
	for _, in := range inputs {
		if err := analyzeOne(ctx, set, in, cfg, rep); err != nil {
			return nil, err
		}
	}
	rep.Time = now().UTC()
	rep.Finish()
	return rep, nil
}

func analyzeOne(ctx context.Context, set *signatures.Set, in Input, cfg Config, rep *report.Report) error {
	rc, err := in.Open()
	if err != nil {
		return &InputError{Name: in.Name, Err: unwrapPathError(err)}
	}
	defer rc.Close()
	if fi, ok := rc.(interface{ Stat() (os.FileInfo, error) }); ok {
		if st, err := fi.Stat(); err == nil && st.IsDir() {
			return &InputError{Name: in.Name, Err: fmt.Errorf("%w: is a directory; this build scans SBOM documents", ErrUnknownKind)}
		}
	}
	cr := &countingReader{r: rc, h: sha256.New()}
	br := bufio.NewReaderSize(cr, 64<<10)
	head, err := br.Peek(64 << 10)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return &InputError{Name: in.Name, Err: unwrapPathError(err)}
	}
	if len(head) == 0 {
		return &InputError{Name: in.Name, Err: fmt.Errorf("%w: input is empty", ErrUnknownKind)}
	}
	if _, ok := ingest.Sniff(head); !ok {
		return &InputError{Name: in.Name, Err: fmt.Errorf("%w: not a CycloneDX, SPDX or Syft JSON SBOM (this build scans SBOM documents)", ErrUnknownKind)}
	}
	doc, err := ingest.Decode(ctx, in.Name, br, ingest.Options{MaxBytes: cfg.MaxInputBytes})
	if err != nil {
		return &InputError{Name: in.Name, Err: err}
	}
	// Drain what the decoder did not need so the digest covers the input.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return &InputError{Name: in.Name, Err: err}
	}
	findings, err := identity.Match(ctx, set, in.Name, doc)
	if err != nil {
		return err
	}
	rep.Findings = append(rep.Findings, findings...)
	for _, why := range doc.Incomplete {
		rep.Gaps = append(rep.Gaps, report.Gap{
			Location: report.Location{Input: in.Name},
			Reason:   "the SBOM declares its inventory incomplete: " + why,
		})
	}
	rep.Inputs = append(rep.Inputs, report.Input{
		Name:        in.Name,
		Kind:        "sbom",
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
// the path that InputError already names.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
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
