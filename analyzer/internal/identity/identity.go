// Package identity matches the identity fields of SBOM components and
// catalogued packages against the identity patterns of a signature set.
package identity

import (
	"context"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
	"github.com/oemtrace/oemtrace/analyzer/internal/verdict"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

// maxValue is how much of a matched value a report keeps.
const maxValue = 200

// Match returns the findings for every component of doc, in document order.
// input is the input's name as the user gave it; it goes into every
// location. Match stops early, returning ctx.Err(), when ctx is done.
func Match(ctx context.Context, set *signatures.Set, input string, doc *ingest.Document) ([]report.Finding, error) {
	var findings []report.Finding
	for i := range doc.Components {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		c := &doc.Components[i]
		if f, ok := verdict.Combine(Subject(input, c), Matches(set, report.Location{Input: input}, c.Fields)); ok {
			findings = append(findings, f)
		}
	}
	return findings, nil
}

// Subject describes component c of input.
func Subject(input string, c *ingest.Component) report.Subject {
	return report.Subject{
		Input:    input,
		Name:     c.Name,
		Version:  c.Version,
		PURL:     c.PURL,
		Ref:      c.Ref,
		Location: c.Location,
	}
}

// Matches returns the evidence in fields. at is the location every
// evidence starts from (input and container chain); each field's own
// location becomes its path.
func Matches(set *signatures.Set, at report.Location, fields []ingest.Field) []verdict.Match {
	var matches []verdict.Match
	for _, fl := range fields {
		for _, h := range set.MatchIdentity(string(fl.Kind), fl.Qualifier, fl.Value) {
			loc := at
			loc.Path = fl.Location
			matches = append(matches, verdict.Match{Rule: h.Rule, Evidence: report.Evidence{
				Rule:     h.Rule.ID,
				Kind:     "identity",
				Field:    string(fl.Kind),
				Value:    Clip(fl.Value, maxValue),
				Matched:  h.Term,
				Location: loc,
			}})
		}
	}
	return matches
}

// Clip shortens s to at most n bytes without splitting a UTF-8 sequence,
// marking the cut with "…".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
