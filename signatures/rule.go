// Package signatures holds oemtrace's detection rules as versioned data.
//
// A rule is a YAML file under rules/ that says what to look for (identity
// patterns over SBOM fields today; content patterns over file bytes as the
// set grows), what a match proves (its Class and Confidence), where the fact
// behind it was published (Sources), and examples that must and must not
// match. The examples are test data: a rule whose examples disagree with the
// matcher is refused by Load, so a rule cannot ship unproven.
//
// The set is embedded in the binary ([Embedded]) and identified by the
// version and a sha256 digest over its manifest and rule files, which every
// report records. manifest.yaml lists each rule file with its sha256, so an
// edit that does not update the manifest is caught.
//
// Use [Embedded] for the built-in set, or [Load] on any fs.FS holding the
// same layout (for example a verified offline bundle).
package signatures

import (
	"fmt"
	"strings"
)

// Rule is one detection rule.
type Rule struct {
	// ID is unique in the set and never reused, e.g. "OT-ID-ENTITY".
	ID string `yaml:"id"`
	// Version increases whenever the rule's patterns change.
	Version int `yaml:"version"`
	// Class and Confidence grade what a match proves.
	Class      Class      `yaml:"class"`
	Confidence Confidence `yaml:"confidence"`
	// Title is a one-line summary used as the finding title.
	Title string `yaml:"title"`
	// Description explains what the rule proves and what it does not.
	Description string `yaml:"description"`
	// Sources cite the published facts behind the patterns. A rule without
	// a source is refused.
	Sources []Source `yaml:"sources"`
	// Identity patterns match fields of SBOM components and packages.
	Identity []IdentityPattern `yaml:"identity"`
	// NotIf patterns veto a match: when one matches the same value, the
	// value is not evidence for this rule. Used for known false-positive
	// traps.
	NotIf []IdentityPattern `yaml:"not_if"`
	// Content patterns match what a scanner observes in a file: literals,
	// anchored magics, paths, binary symbols and libraries, Java classes.
	Content []ContentPattern `yaml:"content"`
	// ContentNotIf patterns veto the rule's content hits on a file they
	// match.
	ContentNotIf []ContentPattern `yaml:"content_not_if"`
	// Examples are values that must and must not match. Load checks them.
	Examples Examples `yaml:"examples"`
}

// Source cites where a fact was published.
type Source struct {
	// Ref points at the published fact: a section of the indicator dossier
	// and the primary source it cites (URL, manual, registry).
	Ref string `yaml:"ref"`
	// Fact paraphrases what the source says.
	Fact string `yaml:"fact"`
}

// IdentityPattern matches identity fields of a component. Fields selects
// which field kinds it reads; exactly one of the matcher lists is set.
type IdentityPattern struct {
	// Fields lists the field kinds to read (supplier, purl, url, ...).
	Fields []string `yaml:"fields"`
	// Qualifiers, when set, limits matching to fields whose qualifier (for
	// example the external reference type) is listed.
	Qualifiers []string `yaml:"qualifiers,omitempty"`
	// ExceptQualifiers skips fields whose qualifier is listed.
	ExceptQualifiers []string `yaml:"except_qualifiers,omitempty"`

	// Entities are organization names. Values are normalized (case,
	// punctuation, quotes, legal forms such as AO, ZAO, JSC, Ltd, GmbH,
	// Inc, LLC, ООО) and an entity matches when its words appear in order
	// in the value. A word ending in "*" matches any word with that prefix
	// (for Cyrillic case endings).
	Entities []string `yaml:"entities,omitempty"`
	// Sole, with Entities, requires the entity to be the only holder named
	// in the value: once the entity, years and words such as "copyright"
	// or "all rights reserved" are removed, nothing may remain.
	Sole bool `yaml:"sole,omitempty"`
	// Globs match the whole value, case-insensitively, with path.Match
	// syntax (e.g. "@kaspersky/*", "kasperskyos-*").
	Globs []string `yaml:"globs,omitempty"`
	// PURLs match parsed package URLs; empty members match anything.
	PURLs []PURLPattern `yaml:"purls,omitempty"`
	// CPEs match parsed CPE 2.2 URIs and 2.3 formatted strings.
	CPEs []CPEPattern `yaml:"cpes,omitempty"`
	// Hosts match the host of a URL or e-mail address: "kaspersky.com"
	// matches the domain and every subdomain; "dnl-*.geo.kaspersky.com"
	// is a glob. A pattern with a "/" also matches a path prefix
	// ("github.com/kasperskylab/").
	Hosts []string `yaml:"hosts,omitempty"`
	// Hashes are "ALG:hex" digests (SHA-256, SHA-512, ...).
	Hashes []string `yaml:"hashes,omitempty"`

	entityPats [][]string // compiled Entities; see compile
	anchors    []string   // substrings a value must hold for Entities to match
}

// PURLPattern matches a package URL. Each member is a case-insensitive glob;
// an empty member matches anything.
type PURLPattern struct {
	Type      string `yaml:"type,omitempty"`
	Namespace string `yaml:"namespace,omitempty"`
	Name      string `yaml:"name,omitempty"`
}

// CPEPattern matches a CPE. Each member is a case-insensitive glob; an empty
// member matches anything.
type CPEPattern struct {
	Vendor  string `yaml:"vendor,omitempty"`
	Product string `yaml:"product,omitempty"`
}

// Examples hold values that must (Match) and must not (NoMatch) be evidence
// for the rule.
type Examples struct {
	Match   []Example `yaml:"match"`
	NoMatch []Example `yaml:"nomatch"`
}

// Example is either one identity field value (Field set) or one file as a
// scanner would observe it (Field empty).
type Example struct {
	Field     string `yaml:"field,omitempty"`
	Qualifier string `yaml:"qualifier,omitempty"`
	Value     string `yaml:"value,omitempty"`

	// Path, Kind and Content describe a file for content rules; Content
	// is its text ("\x00" escapes allowed in YAML double quotes).
	Path      string   `yaml:"path,omitempty"`
	Kind      string   `yaml:"kind,omitempty"`
	Content   string   `yaml:"content,omitempty"`
	Symbols   []string `yaml:"symbols,omitempty"`
	Libraries []string `yaml:"libraries,omitempty"`
	Classes   []string `yaml:"classes,omitempty"`
}

func (e Example) isContent() bool { return e.Field == "" }

func (e Example) describe() string {
	if !e.isContent() {
		return fmt.Sprintf("%s=%q", e.Field, e.Value)
	}
	d := fmt.Sprintf("file %s", e.Path)
	if e.Content != "" {
		d += fmt.Sprintf(" content %q", clipExample(e.Content))
	}
	for _, l := range [][]string{e.Symbols, e.Libraries, e.Classes} {
		if len(l) > 0 {
			d += fmt.Sprintf(" %v", l)
		}
	}
	return d
}

func clipExample(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// kinds lists the identity field kinds a pattern may name. It mirrors the
// ingest package's FieldKind values.
var kinds = map[string]bool{
	"name": true, "group": true, "supplier": true, "manufacturer": true,
	"author": true, "publisher": true, "originator": true, "copyright": true,
	"description": true, "purl": true, "cpe": true, "url": true,
	"email": true, "hash": true, "license": true, "property": true,
}

// validate checks a rule's shape; Load also runs its examples.
func (r *Rule) validate() error {
	switch {
	case r.ID == "" || strings.TrimSpace(r.ID) != r.ID || strings.ContainsAny(r.ID, " /\\"):
		return fmt.Errorf("rule id %q: must be non-empty without spaces or slashes", r.ID)
	case r.Version < 1:
		return fmt.Errorf("version must be 1 or more")
	case !r.Class.IsValid():
		return fmt.Errorf("class %q is not one of engine, component, service, mention", r.Class)
	case !r.Confidence.IsValid():
		return fmt.Errorf("confidence %q is not one of high, medium, low", r.Confidence)
	case r.Title == "":
		return fmt.Errorf("title is empty")
	case len(r.Sources) == 0:
		return fmt.Errorf("no sources: every rule must cite the published fact it rests on")
	case len(r.Identity) == 0 && len(r.Content) == 0:
		return fmt.Errorf("no patterns")
	case len(r.Examples.Match) == 0 || len(r.Examples.NoMatch) == 0:
		return fmt.Errorf("needs at least one match and one nomatch example")
	}
	for i, s := range r.Sources {
		if s.Ref == "" || s.Fact == "" {
			return fmt.Errorf("sources[%d]: ref and fact are both required", i)
		}
	}
	for i := range r.Identity {
		if err := r.Identity[i].validate(); err != nil {
			return fmt.Errorf("identity[%d]: %w", i, err)
		}
		r.Identity[i].compile()
	}
	for i := range r.NotIf {
		if err := r.NotIf[i].validate(); err != nil {
			return fmt.Errorf("not_if[%d]: %w", i, err)
		}
		r.NotIf[i].compile()
	}
	for i := range r.Content {
		if err := r.Content[i].validate(); err != nil {
			return fmt.Errorf("content[%d]: %w", i, err)
		}
	}
	for i := range r.ContentNotIf {
		if err := r.ContentNotIf[i].validate(); err != nil {
			return fmt.Errorf("content_not_if[%d]: %w", i, err)
		}
	}
	for _, e := range append(append([]Example{}, r.Examples.Match...), r.Examples.NoMatch...) {
		switch {
		case !e.isContent() && len(r.Identity) == 0:
			return fmt.Errorf("example %s: rule has no identity patterns", e.describe())
		case e.isContent() && len(r.Content) == 0:
			return fmt.Errorf("example %s: rule has no content patterns", e.describe())
		case e.isContent() && e.Kind != "" && !fileKinds[e.Kind]:
			return fmt.Errorf("example %s: unknown file kind %q", e.describe(), e.Kind)
		}
	}
	return nil
}

func (p *IdentityPattern) validate() error {
	if len(p.Fields) == 0 {
		return fmt.Errorf("fields is empty")
	}
	for _, f := range p.Fields {
		if !kinds[f] {
			return fmt.Errorf("unknown field kind %q", f)
		}
	}
	n := 0
	for _, l := range []int{len(p.Entities), len(p.Globs), len(p.PURLs), len(p.CPEs), len(p.Hosts), len(p.Hashes)} {
		if l > 0 {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("exactly one of entities, globs, purls, cpes, hosts, hashes must be set (have %d)", n)
	}
	if p.Sole && len(p.Entities) == 0 {
		return fmt.Errorf("sole applies to entities only")
	}
	for _, h := range p.Hashes {
		alg, hex, ok := strings.Cut(h, ":")
		if !ok || alg == "" || hex == "" {
			return fmt.Errorf("hash %q: want ALG:hex", h)
		}
	}
	return nil
}
