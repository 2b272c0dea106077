// Package report is oemtrace's result model: what was scanned, which
// signature set judged it, what was found, with the evidence that proves
// each finding, and which parts of the input could not be examined.
//
// A Report is the canonical output. Every other format (table, SARIF,
// CycloneDX, HTML) is rendered from it, and a Report written as JSON can be
// read back with [Read] and rendered again.
//
// Order is deterministic: findings are sorted by class severity, then rule,
// then subject; evidence inside a finding by location. The same input and
// signature set always give the same bytes, apart from Report.Time.
package report

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/oemtrace/oemtrace/signatures"
)

// SchemaVersion is the version of the JSON report layout. It changes when a
// field is renamed or removed; added fields do not change it.
const SchemaVersion = "1"

// Verdict is the overall answer of a scan.
type Verdict string

// Verdicts, from worst to best.
const (
	// Tainted: at least one finding at or above the blocking class.
	Tainted Verdict = "tainted"
	// Incomplete: no blocking finding, but part of the input could not be
	// examined, so the absence of findings proves nothing about that part.
	Incomplete Verdict = "incomplete"
	// Clean: everything was examined and nothing blocking was found.
	Clean Verdict = "clean"
)

// Class and Confidence are the signature set's grades; see package
// signatures.
type (
	Class      = signatures.Class
	Confidence = signatures.Confidence
)

// Report is the result of one scan.
type Report struct {
	// Schema is SchemaVersion at the time of writing.
	Schema string `json:"schema"`
	// Tool names the program and version that produced the report.
	Tool Tool `json:"tool"`
	// Signatures identifies the signature set that judged the input.
	Signatures SignatureSet `json:"signatures"`
	// Time is when the scan finished (UTC). Zero in golden tests.
	Time time.Time `json:"time"`
	// Inputs describes each scanned target, in the order given.
	Inputs []Input `json:"inputs"`
	// Policy records the settings that decide the verdict.
	Policy Policy `json:"policy"`
	// Verdict is the overall answer; see Verdict.
	Verdict Verdict `json:"verdict"`
	// Findings are sorted strongest first. Empty, never null, when nothing
	// was found.
	Findings []Finding `json:"findings"`
	// Gaps lists every part of the input that could not be examined.
	Gaps []Gap `json:"gaps"`
}

// Tool names the program that produced a report.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// SignatureSet identifies a signature set.
type SignatureSet struct {
	// Version is the set's own version (from its manifest).
	Version string `json:"version"`
	// Digest is "sha256:<hex>" over the set's manifest and rule files.
	Digest string `json:"digest"`
	// Rules is the number of rules in the set.
	Rules int `json:"rules"`
	// Source says where the set came from: "embedded" or a bundle path.
	Source string `json:"source"`
}

// Input describes one scanned target.
type Input struct {
	// Name is the target as the user gave it ("-" for stdin).
	Name string `json:"name"`
	// Kind is what the content was recognized as (e.g. "sbom").
	Kind string `json:"kind"`
	// Format is the detected format ("cyclonedx-json") and SpecVersion its
	// version ("1.6"), when the input is a document.
	Format      string `json:"format,omitempty"`
	SpecVersion string `json:"specVersion,omitempty"`
	// SHA256 is the digest of the input bytes as read.
	SHA256 string `json:"sha256,omitempty"`
	// Size is the number of bytes read.
	Size int64 `json:"size"`
	// Components is the number of components (SBOM components, or
	// packages catalogued in a tree) examined.
	Components int `json:"components"`
	// Files is the number of files whose content was scanned.
	Files int `json:"files,omitempty"`
	// Notes records what the reader had to do that a reviewer should know.
	Notes []string `json:"notes,omitempty"`
	// Coverage accounts for the bytes of a firmware image.
	Coverage *Coverage `json:"coverage,omitempty"`
	// Trees lists what a firmware image was found to hold: every
	// filesystem, archive or set of raw regions scanned, in the order
	// scanned.
	Trees []Tree `json:"trees,omitempty"`
}

// Tree is one file tree found inside an input and scanned.
type Tree struct {
	// Location names the input and the chain of containers down to the
	// tree (Location.String gives "fw.bin!uimage@0x40!squashfs").
	Location Location `json:"location"`
	// Kind is "filesystem" (an image read in place), "archive" (unpacked),
	// "raw" (byte regions no unpacker opened: content only) or "package"
	// (a .deb or .rpm input, catalogued from its own metadata).
	Kind string `json:"kind"`
	// Files is the number of files whose content was scanned.
	Files int `json:"files"`
	// Components is the number of packages catalogued in the tree.
	Components int `json:"components"`
}

// Coverage accounts for every byte of a firmware image: inside a
// container an unpacker opened, examined as plain content (regions no
// unpacker opened, and padding), or neither.
type Coverage struct {
	Unpacked   int64 `json:"unpacked"`
	Content    int64 `json:"content"`
	Unexamined int64 `json:"unexamined"`
	// Share is the examined fraction of the input, (unpacked+content)/size.
	Share float64 `json:"share"`
}

// Policy records the settings that turn findings into a verdict.
type Policy struct {
	// FailOn is the weakest class that blocks.
	FailOn Class `json:"failOn"`
	// AllowIncomplete is true when gaps do not change the verdict.
	AllowIncomplete bool `json:"allowIncomplete"`
}

// Subject is the thing a finding is about.
type Subject struct {
	// Input is the name of the input the subject was found in.
	Input string `json:"input"`
	// Name, Version and PURL identify the component, when known.
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
	PURL    string `json:"purl,omitempty"`
	// Ref is the document's own identifier (bom-ref, SPDXID).
	Ref string `json:"ref,omitempty"`
	// Location is where the subject sits in the input (a JSON pointer to
	// the component, or a file path).
	Location string `json:"location,omitempty"`
}

// Finding is one Kaspersky-derived thing, with the evidence that proves it.
type Finding struct {
	// ID is stable across runs: a digest of rule, input and subject
	// location. Use it to refer to a finding in reviews and waivers.
	ID string `json:"id"`
	// Rule is the id of the rule that decided the class.
	Rule string `json:"rule"`
	// Class and Confidence grade the finding.
	Class      Class      `json:"class"`
	Confidence Confidence `json:"confidence"`
	// Blocking is true when Class is at or above Policy.FailOn.
	Blocking bool `json:"blocking"`
	// Title is a one-line human summary.
	Title string `json:"title"`
	// Subject is what the finding is about.
	Subject Subject `json:"subject"`
	// Evidence lists the matches that support the finding, in location
	// order.
	Evidence []Evidence `json:"evidence"`
	// EvidenceOmitted counts further matches not listed, when there were
	// more than a report keeps.
	EvidenceOmitted int `json:"evidenceOmitted,omitempty"`
}

// Evidence is one match of one rule pattern.
type Evidence struct {
	// Rule is the id of the rule whose pattern matched.
	Rule string `json:"rule"`
	// Kind is "identity" (a document field) or "content" (file bytes).
	Kind string `json:"kind"`
	// Field is the identity field kind that matched (supplier, purl, ...),
	// or the content pattern kind (string, symbol, ...).
	Field string `json:"field"`
	// Value is the matched text, clipped to 200 bytes.
	Value string `json:"value"`
	// Matched is the normalized term of the rule that the value matched.
	Matched string `json:"matched,omitempty"`
	// Location is where the value sits.
	Location Location `json:"location"`
}

// Location points at a value inside an input.
type Location struct {
	// Input is the input's name as given.
	Input string `json:"input"`
	// Path is a document path (JSON pointer, XML path, SPDX id#tag) for
	// documents, or a file path for file systems.
	Path string `json:"path"`
	// Chain lists the containers from the input down to the file, outermost
	// first. Empty for a value read straight from the input.
	Chain []Layer `json:"chain,omitempty"`
	// Offset and Length give the byte range of the match inside the file.
	// Zero Length means the location is a field, not a byte range.
	Offset int64 `json:"offset,omitempty"`
	Length int64 `json:"length,omitempty"`
	// SHA256 is the digest of the file holding the match, when it is a file.
	SHA256 string `json:"sha256,omitempty"`
}

// Layer is one container on the way to a file.
type Layer struct {
	Format string `json:"format"`
	Path   string `json:"path,omitempty"`
	Offset int64  `json:"offset,omitempty"`
}

// Gap is a part of the input that could not be examined.
type Gap struct {
	// Location is the part that was skipped.
	Location Location `json:"location"`
	// Reason says why, in words a reviewer can act on.
	Reason string `json:"reason"`
}

// String renders a location compactly: input!layer!layer!path@offset.
func (l Location) String() string {
	var b strings.Builder
	b.WriteString(l.Input)
	for _, c := range l.Chain {
		b.WriteString("!")
		b.WriteString(c.Format)
		if c.Offset != 0 {
			fmt.Fprintf(&b, "@0x%x", c.Offset)
		}
		if c.Path != "" {
			b.WriteString(":" + c.Path)
		}
	}
	if l.Path != "" {
		b.WriteString(":" + l.Path)
	}
	if l.Length != 0 {
		fmt.Fprintf(&b, "@0x%x", l.Offset)
	}
	return b.String()
}

// FindingID derives a stable finding id from the rule and subject.
func FindingID(rule string, s Subject) string {
	h := sha256.New()
	for _, p := range []string{rule, s.Input, s.Location, s.Ref, s.PURL, s.Name, s.Version} {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "OT-" + strings.ToUpper(hex.EncodeToString(h.Sum(nil))[:12])
}

// Finish fills the derived fields of r: blocking flags, verdict and a
// deterministic order. Call it once all findings and gaps are in.
func (r *Report) Finish() {
	if r.Schema == "" {
		r.Schema = SchemaVersion
	}
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	if r.Gaps == nil {
		r.Gaps = []Gap{}
	}
	blocking := false
	for i := range r.Findings {
		f := &r.Findings[i]
		f.Blocking = f.Class.AtLeast(r.Policy.FailOn)
		blocking = blocking || f.Blocking
		SortEvidence(f.Evidence)
	}
	sort.SliceStable(r.Findings, func(a, b int) bool { return findingLess(r.Findings[a], r.Findings[b]) })
	sort.SliceStable(r.Gaps, func(a, b int) bool {
		return r.Gaps[a].Location.String() < r.Gaps[b].Location.String()
	})
	switch {
	case blocking:
		r.Verdict = Tainted
	case len(r.Gaps) > 0 && !r.Policy.AllowIncomplete:
		r.Verdict = Incomplete
	default:
		r.Verdict = Clean
	}
}

// SortEvidence puts evidence in its report order: by input, path, offset,
// rule and value.
func SortEvidence(ev []Evidence) {
	sort.SliceStable(ev, func(a, b int) bool { return evidenceLess(ev[a], ev[b]) })
}

func findingLess(a, b Finding) bool {
	if a.Class.Rank() != b.Class.Rank() {
		return a.Class.Rank() < b.Class.Rank()
	}
	if a.Confidence.Rank() != b.Confidence.Rank() {
		return a.Confidence.Rank() < b.Confidence.Rank()
	}
	if a.Subject.Input != b.Subject.Input {
		return a.Subject.Input < b.Subject.Input
	}
	if a.Subject.Location != b.Subject.Location {
		return locationLess(a.Subject.Location, b.Subject.Location)
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	return a.ID < b.ID
}

func evidenceLess(a, b Evidence) bool {
	if a.Location.Input != b.Location.Input {
		return a.Location.Input < b.Location.Input
	}
	if a.Location.Path != b.Location.Path {
		return locationLess(a.Location.Path, b.Location.Path)
	}
	if a.Location.Offset != b.Location.Offset {
		return a.Location.Offset < b.Location.Offset
	}
	if a.Rule != b.Rule {
		return a.Rule < b.Rule
	}
	return a.Value < b.Value
}

// locationLess orders document paths so that /components/10 sorts after
// /components/9: runs of digits compare by value.
func locationLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitRun(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// WriteJSON writes r as indented JSON, the canonical form.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	return nil
}

// Read decodes a report written by WriteJSON. It refuses reports of another
// schema version.
func Read(r io.Reader) (*Report, error) {
	var rep Report
	dec := json.NewDecoder(io.LimitReader(r, 1<<30))
	if err := dec.Decode(&rep); err != nil {
		return nil, fmt.Errorf("decoding report: %w", err)
	}
	if rep.Schema != SchemaVersion {
		return nil, fmt.Errorf("decoding report: schema %q is not supported (want %q)", rep.Schema, SchemaVersion)
	}
	return &rep, nil
}
