// Package sbomout writes an SBOM of what Syft catalogued in a file tree,
// with oemtrace's findings attached to the components they are about.
//
// Every Syft package becomes a component (CycloneDX) or package (SPDX)
// exactly as Syft's own encoders write it. A finding whose subject is one of
// those packages (Subject.Ref is its Syft package ID) is attached to it: in
// CycloneDX as evidence.identity, evidence.occurrences and oemtrace:*
// properties, in SPDX as a package annotation. A finding about anything else
// (a product folder such as /opt/netwarden, a single file, a component of a
// supplier SBOM) becomes a component or package of its own. The report's
// verdict, signature set, policy and gaps go into the document metadata.
//
// Output is deterministic for the same SBOM and report, apart from the
// fields that must be unique per document (CycloneDX serialNumber, SPDX
// documentNamespace) and the creation time when the report has none.
package sbomout

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"

	"github.com/oemtrace/oemtrace/analyzer/report"
)

// Format names an SBOM output format.
type Format string

// The supported formats.
const (
	// CycloneDXJSON is CycloneDX JSON (1.6 or 1.7, see Options).
	CycloneDXJSON Format = "cyclonedx-json"
	// CycloneDXXML is CycloneDX XML (1.6 or 1.7, see Options).
	CycloneDXXML Format = "cyclonedx-xml"
	// SPDXJSON is SPDX 2.3 JSON.
	SPDXJSON Format = "spdx-json"
)

// Formats lists the supported formats (for flag help/validation).
func Formats() []Format {
	return []Format{CycloneDXJSON, CycloneDXXML, SPDXJSON}
}

// ParseFormat returns the format named s, or an error listing the
// supported formats.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown SBOM format %q (supported: %v)", s, Formats())
}

// Options tunes the output. The zero value is the recommended setting.
type Options struct {
	// CycloneDXVersion is the CycloneDX specification version: "1.6" (the
	// default when empty) or "1.7". SPDX output is always SPDX 2.3.
	CycloneDXVersion string
}

// Write encodes s (may be nil: then only oemtrace's own components) plus the
// findings of rep into w. s is not modified. Nothing is written to w when
// encoding fails.
func Write(w io.Writer, f Format, s *sbom.SBOM, rep *report.Report, opts Options) error {
	if rep == nil {
		return errors.New("writing SBOM: no report")
	}
	var buf bytes.Buffer
	var err error
	switch f {
	case CycloneDXJSON, CycloneDXXML:
		err = writeCycloneDX(&buf, f, s, rep, opts)
	case SPDXJSON:
		err = writeSPDX(&buf, s, rep)
	default:
		return fmt.Errorf("writing SBOM: unknown format %q (supported: %v)", f, Formats())
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("writing %s: %w", f, err)
	}
	return nil
}

// withInputName returns a shallow copy of s named after the report's only
// input when Syft named the source after the directory or file it read
// (the default, and often a temporary extraction directory). A name given
// to Syft explicitly, or a report with several inputs, leaves it alone.
func withInputName(s *sbom.SBOM, rep *report.Report) sbom.SBOM {
	cp := *s
	if len(rep.Inputs) != 1 || rep.Inputs[0].Name == "" || rep.Inputs[0].Name == "-" {
		return cp
	}
	var path string
	switch m := cp.Source.Metadata.(type) {
	case source.DirectoryMetadata:
		path = m.Path
	case source.FileMetadata:
		path = m.Path
	}
	if cp.Source.Name == "" || (path != "" && filepath.Clean(cp.Source.Name) == filepath.Clean(path)) {
		cp.Source.Name = rep.Inputs[0].Name
	}
	return cp
}

// unescapeHTML undoes the \u003c, \u003e and \u0026 escapes that
// encoding/json writes for <, > and & inside JSON strings. Types with their
// own MarshalJSON (cyclonedx-go's evidence identity, SPDX's annotators) call
// json.Marshal, which escapes HTML whatever the outer encoder is told. An
// escaped backslash followed by "u003c" is left alone.
func unescapeHTML(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u00`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case !inString:
			inString = c == '"'
		case c == '"':
			inString = false
		case c == '\\' && i+1 < len(b):
			if b[i+1] == 'u' && i+5 < len(b) {
				switch strings.ToLower(string(b[i+2 : i+6])) {
				case "003c":
					out, i = append(out, '<'), i+5
					continue
				case "003e":
					out, i = append(out, '>'), i+5
					continue
				case "0026":
					out, i = append(out, '&'), i+5
					continue
				}
			}
			out = append(out, c, b[i+1])
			i++
			continue
		}
		out = append(out, c)
	}
	return out
}

// newUUID returns a random (version 4) UUID in its canonical form.
func newUUID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating UUID: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}
