// Package table renders a report as plain text for people: a verdict line,
// then one block per finding with its evidence, then gaps.
package table

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/oemtrace/oemtrace/analyzer/report"
)

// Encode writes r as text.
func Encode(w io.Writer, r *report.Report) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "%s %s · signatures %s (%s, %d rules)\n", r.Tool.Name, r.Tool.Version,
		r.Signatures.Version, short(r.Signatures.Digest), r.Signatures.Rules)
	for _, in := range r.Inputs {
		desc := in.Kind
		if in.Format != "" {
			desc = strings.TrimSpace(in.Format + " " + in.SpecVersion)
		}
		fmt.Fprintf(ew, "input: %s (%s, %d components)\n", in.Name, desc, in.Components)
		if c := in.Coverage; c != nil {
			fmt.Fprintf(ew, "  coverage: %.2f%% of %d bytes examined (%d unpacked, %d as plain content, %d not examined)\n",
				c.Share*100, in.Size, c.Unpacked, c.Content, c.Unexamined)
		}
		for _, t := range in.Trees {
			fmt.Fprintf(ew, "  %s: %s (%s, %s)\n", t.Kind, t.Location, count(t.Files, "file"), count(t.Components, "package"))
		}
		for _, n := range in.Notes {
			fmt.Fprintf(ew, "  note: %s\n", n)
		}
	}
	blocking, mentions := 0, 0
	for _, f := range r.Findings {
		if f.Blocking {
			blocking++
		} else {
			mentions++
		}
	}
	fmt.Fprintf(ew, "\nverdict: %s (%d blocking, %d non-blocking, %d gaps; fail-on %s)\n",
		strings.ToUpper(string(r.Verdict)), blocking, mentions, len(r.Gaps), r.Policy.FailOn)
	if len(r.Findings) > 0 {
		fmt.Fprintln(ew)
		tw := tabwriter.NewWriter(ew, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLASS\tCONFIDENCE\tSUBJECT\tRULE\tID")
		for _, f := range r.Findings {
			class := string(f.Class)
			if f.Blocking {
				class += " !"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", class, f.Confidence, subject(f.Subject), f.Rule, f.ID)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, f := range r.Findings {
			fmt.Fprintf(ew, "\n%s %s: %s\n", f.ID, f.Class, f.Title)
			fmt.Fprintf(ew, "  subject: %s", subject(f.Subject))
			if f.Subject.Location != "" {
				fmt.Fprintf(ew, " at %s", f.Subject.Location)
			}
			fmt.Fprintln(ew)
			for _, e := range f.Evidence {
				fmt.Fprintf(ew, "  - %s %s %q at %s\n", e.Rule, e.Field, e.Value, e.Location)
			}
			if f.EvidenceOmitted > 0 {
				fmt.Fprintf(ew, "  - … and %d more (see the JSON report)\n", f.EvidenceOmitted)
			}
		}
	}
	if len(r.Gaps) > 0 {
		fmt.Fprintln(ew, "\ngaps (not examined):")
		for _, g := range r.Gaps {
			fmt.Fprintf(ew, "  - %s: %s\n", g.Location, g.Reason)
		}
	}
	return ew.err
}

func subject(s report.Subject) string {
	name := s.Name
	if name == "" {
		name = s.Ref
	}
	if name == "" {
		name = "(unnamed)"
	}
	if s.Version != "" {
		name += " " + s.Version
	}
	return name
}

func short(digest string) string {
	if len(digest) > len("sha256:")+12 {
		return digest[:len("sha256:")+12]
	}
	return digest
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// count writes n with its noun, in the plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
