// Package verdict turns evidence into findings: it groups the evidence of one
// subject, grades the finding by its strongest rule, and raises confidence
// when independent rules agree.
package verdict

import (
	"fmt"

	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

// Match is one piece of evidence together with the rule that produced it.
type Match struct {
	Rule     *signatures.Rule
	Evidence report.Evidence
}

// Combine builds the finding for one subject from all its matches. It
// returns false when there are no matches.
//
// The finding takes its class from the strongest class among the rules that
// matched, and its rule, title and base confidence from the most confident of
// those rules (rule id breaks ties, so the result is deterministic). When two
// or more distinct rules of a blocking-capable class (anything but mention)
// agree, confidence is raised one step: independent fields that each point at
// Kaspersky are stronger together than alone. Every match's evidence is kept.
func Combine(subject report.Subject, matches []Match) (report.Finding, bool) {
	if len(matches) == 0 {
		return report.Finding{}, false
	}
	lead := matches[0].Rule
	strong := map[string]bool{}
	for _, m := range matches {
		r := m.Rule
		if better(r, lead) {
			lead = r
		}
		if r.Class != signatures.ClassMention {
			strong[r.ID] = true
		}
	}
	conf := lead.Confidence
	if lead.Class != signatures.ClassMention && len(strong) >= 2 && conf.Rank() > 0 {
		conf = signatures.Confidences[conf.Rank()-1]
	}
	title := lead.Title
	if len(strong) >= 2 {
		title = fmt.Sprintf("%s (and %d more independent %s)", title, len(strong)-1, plural(len(strong)-1, "trait", "traits"))
	}
	f := report.Finding{
		Rule:       lead.ID,
		Class:      lead.Class,
		Confidence: conf,
		Title:      title,
		Subject:    subject,
	}
	type key struct {
		rule, field, value, loc string
		offset                  int64
	}
	// Inside a finding stronger than a mention, mentions add nothing.
	seen := map[key]bool{}
	for _, m := range matches {
		e := m.Evidence
		if m.Rule.Class == signatures.ClassMention && lead.Class != signatures.ClassMention {
			continue
		}
		k := key{e.Rule, e.Field, e.Value, e.Location.String(), e.Location.Offset}
		if !seen[k] {
			seen[k] = true
			f.Evidence = append(f.Evidence, e)
		}
	}
	if len(f.Evidence) > MaxEvidence {
		report.SortEvidence(f.Evidence)
		f.EvidenceOmitted = len(f.Evidence) - MaxEvidence
		f.Evidence = f.Evidence[:MaxEvidence]
	}
	f.ID = report.FindingID(f.Rule, subject)
	return f, true
}

// MaxEvidence is how many evidence entries one finding lists; the rest are
// counted in Finding.EvidenceOmitted.
const MaxEvidence = 100

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// better reports whether rule a should lead a finding over rule b.
func better(a, b *signatures.Rule) bool {
	if a.Class.Rank() != b.Class.Rank() {
		return a.Class.Rank() < b.Class.Rank()
	}
	if a.Confidence.Rank() != b.Confidence.Rank() {
		return a.Confidence.Rank() < b.Confidence.Rank()
	}
	return a.ID < b.ID
}
