package sbomout

import (
	"fmt"
	"strconv"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

// Property names oemtrace puts on components and in the BOM metadata.
const (
	propFindingID   = "oemtrace:finding:id"
	propClass       = "oemtrace:class"
	propConfidence  = "oemtrace:confidence"
	propRule        = "oemtrace:rule"
	propBlocking    = "oemtrace:blocking"
	propTitle       = "oemtrace:title"
	propSubjectIn   = "oemtrace:subject:input"
	propSubjectLoc  = "oemtrace:subject:location"
	propVerdict     = "oemtrace:verdict"
	propSigVersion  = "oemtrace:signatures:version"
	propSigDigest   = "oemtrace:signatures:digest"
	propPolicyFail  = "oemtrace:policy:fail-on"
	propGap         = "oemtrace:gap"
	findingRefStem  = "oemtrace:"
	toolRef         = "oemtrace:tool"
	evidenceContent = "content"
)

// subjectKind says what a finding's subject is when it is not a Syft
// package.
type subjectKind int

const (
	// subjectComponent: a component of an input document, or anything
	// that is neither a file nor a folder of the tree.
	subjectComponent subjectKind = iota
	// subjectFile: a single file; every evidence path is the subject.
	subjectFile
	// subjectFolder: a product folder; every evidence path is below it.
	subjectFolder
)

// kindOf classifies the subject of f from where its evidence sits.
func kindOf(f report.Finding) subjectKind {
	name := f.Subject.Name
	if len(f.Evidence) == 0 || !strings.HasPrefix(name, "/") {
		return subjectComponent
	}
	file, folder := true, true
	for _, ev := range f.Evidence {
		p, _, _ := strings.Cut(ev.Location.Path, "#")
		file = file && p == name
		folder = folder && strings.HasPrefix(p, strings.TrimSuffix(name, "/")+"/")
	}
	switch {
	case file:
		return subjectFile
	case folder:
		return subjectFolder
	}
	return subjectComponent
}

// confidenceScore maps an oemtrace confidence to CycloneDX's 0..1 scale.
func confidenceScore(c report.Confidence) float32 {
	switch c {
	case signatures.High:
		return 1.0
	case signatures.Medium:
		return 0.7
	case signatures.Low:
		return 0.4
	}
	return 0
}

// technique is the CycloneDX identity technique that produced ev: content
// matches are binary analysis (a match on the file's path is a filename
// match), identity matches are manifest analysis (a known digest is a hash
// comparison).
func technique(ev report.Evidence) cdx.EvidenceIdentityTechnique {
	if ev.Kind == evidenceContent {
		if ev.Field == "path" {
			return cdx.EvidenceIdentityTechniqueFilename
		}
		return cdx.EvidenceIdentityTechniqueBinaryAnalysis
	}
	if ev.Field == "hash" {
		return cdx.EvidenceIdentityTechniqueHashComparison
	}
	return cdx.EvidenceIdentityTechniqueManifestAnalysis
}

// identityOf is the CycloneDX identity evidence of finding f: the subject's
// purl when it has one (package identity), else its name, concluded with
// the finding's confidence from one method per distinct (technique, value)
// of its evidence.
func identityOf(f report.Finding) cdx.EvidenceIdentity {
	field, value := cdx.EvidenceIdentityFieldTypeName, subjectName(f)
	if f.Subject.PURL != "" {
		field, value = cdx.EvidenceIdentityFieldTypePURL, f.Subject.PURL
	}
	score := confidenceScore(f.Confidence)
	var methods []cdx.EvidenceIdentityMethod
	seen := map[string]bool{}
	for _, ev := range f.Evidence {
		t := technique(ev)
		key := string(t) + "\x00" + ev.Value
		if seen[key] {
			continue
		}
		seen[key] = true
		c := score
		methods = append(methods, cdx.EvidenceIdentityMethod{Technique: t, Confidence: &c, Value: ev.Value})
	}
	id := cdx.EvidenceIdentity{
		Field:          field,
		Confidence:     &score,
		ConcludedValue: value,
		Tools:          &[]cdx.BOMReference{toolRef},
	}
	if len(methods) > 0 {
		id.Methods = &methods
	}
	return id
}

// occurrenceOf is where ev was found: the file (or document) path, the byte
// offset of a content match, the symbol of a symbol match, and the rest of
// the evidence as additional context.
func occurrenceOf(ev report.Evidence) cdx.EvidenceOccurrence {
	o := cdx.EvidenceOccurrence{Location: locationText(ev.Location)}
	if ev.Location.Length > 0 && ev.Location.Offset >= 0 {
		off := int(ev.Location.Offset)
		o.Offset = &off
	}
	if ev.Kind == evidenceContent && ev.Field == "symbol" {
		o.Symbol = ev.Value
	}
	ctx := []string{"rule=" + ev.Rule, "kind=" + ev.Kind, "field=" + ev.Field, "value=" + strconv.Quote(ev.Value)}
	if ev.Matched != "" {
		ctx = append(ctx, "matched="+strconv.Quote(ev.Matched))
	}
	if ev.Location.Length > 0 {
		ctx = append(ctx, "length="+strconv.FormatInt(ev.Location.Length, 10))
	}
	if ev.Location.SHA256 != "" {
		ctx = append(ctx, "sha256="+ev.Location.SHA256)
	}
	if ev.Location.Input != "" {
		ctx = append(ctx, "input="+ev.Location.Input)
	}
	o.AdditionalContext = strings.Join(ctx, "; ")
	return o
}

// locationText renders l in the notation of report.Location.String
// without the input and the match offset: the containers from the input
// down to the file, then the path ("tar:/opt/x/bases.tar:/opt/x/avp.klb"),
// or just the path when the file is not inside a container. It falls back
// to the full location when there is neither.
func locationText(l report.Location) string {
	bare := l
	bare.Input, bare.Length, bare.Offset = "", 0, 0
	s := bare.String()
	if len(l.Chain) > 0 {
		s = strings.TrimPrefix(s, "!")
	} else {
		s = strings.TrimPrefix(s, ":")
	}
	if s == "" {
		s = l.String()
	}
	if s == "" {
		s = "(unknown)"
	}
	return s
}

// occurrenceKey identifies an occurrence by value, to drop duplicates.
func occurrenceKey(o cdx.EvidenceOccurrence) string {
	off := -1
	if o.Offset != nil {
		off = *o.Offset
	}
	return fmt.Sprintf("%s\x00%d\x00%s\x00%s", o.Location, off, o.Symbol, o.AdditionalContext)
}

// findingProperties are the oemtrace:* properties of finding f.
func findingProperties(f report.Finding) []cdx.Property {
	return []cdx.Property{
		{Name: propFindingID, Value: f.ID},
		{Name: propClass, Value: string(f.Class)},
		{Name: propConfidence, Value: string(f.Confidence)},
		{Name: propRule, Value: f.Rule},
		{Name: propBlocking, Value: strconv.FormatBool(f.Blocking)},
		{Name: propTitle, Value: f.Title},
	}
}

// attachFinding adds the identity, occurrences and properties of f to c.
func attachFinding(c *cdx.Component, f report.Finding) {
	if c.Evidence == nil {
		c.Evidence = &cdx.Evidence{}
	}
	ev := c.Evidence
	var ids []cdx.EvidenceIdentity
	if ev.Identity != nil {
		if ev.Identity.Identities != nil {
			ids = *ev.Identity.Identities
		} else if ev.Identity.Identity != nil {
			ids = []cdx.EvidenceIdentity{*ev.Identity.Identity}
		}
	}
	ids = append(ids, identityOf(f))
	ev.Identity = &cdx.EvidenceIdentityChoice{Identities: &ids}

	var occs []cdx.EvidenceOccurrence
	if ev.Occurrences != nil {
		occs = *ev.Occurrences
	}
	seen := map[string]bool{}
	for _, o := range occs {
		seen[occurrenceKey(o)] = true
	}
	for _, e := range f.Evidence {
		o := occurrenceOf(e)
		if k := occurrenceKey(o); !seen[k] {
			seen[k] = true
			occs = append(occs, o)
		}
	}
	if len(occs) > 0 {
		ev.Occurrences = &occs
	}

	var props []cdx.Property
	if c.Properties != nil {
		props = *c.Properties
	}
	props = append(props, findingProperties(f)...)
	c.Properties = &props
}

// subjectName is the name of f's subject, falling back to its location and
// then to the finding id, so that it is never empty.
func subjectName(f report.Finding) string {
	for _, s := range []string{f.Subject.Name, f.Subject.Location, f.ID} {
		if s != "" {
			return s
		}
	}
	return "unknown"
}

// evidenceSummary renders the evidence of f on one line for SPDX comments:
// each item is `<location> <kind>/<field> <rule> "<value>"`, with the
// matched term and file digest when known, separated by "; ".
func evidenceSummary(f report.Finding) string {
	items := make([]string, 0, len(f.Evidence))
	for _, ev := range f.Evidence {
		s := fmt.Sprintf("%s %s/%s %s %s", ev.Location.String(), ev.Kind, ev.Field, ev.Rule, strconv.Quote(ev.Value))
		if ev.Matched != "" {
			s += " matched " + strconv.Quote(ev.Matched)
		}
		if ev.Location.SHA256 != "" {
			s += " sha256:" + ev.Location.SHA256
		}
		items = append(items, s)
	}
	return strings.Join(items, "; ")
}
