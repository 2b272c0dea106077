package signatures

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"
)

// SchemaVersion is the rule-file layout this package reads. A set whose
// manifest names another schema is refused.
const SchemaVersion = 1

// ManifestName is the manifest's file name inside a set's directory.
const ManifestName = "manifest.yaml"

// Manifest describes a signature set.
type Manifest struct {
	// Schema is the layout version; see SchemaVersion.
	Schema int `yaml:"schema"`
	// Version is the set's release, e.g. "2026.11.23".
	Version string `yaml:"version"`
	// Date is the release date (YYYY-MM-DD).
	Date string `yaml:"date"`
	// Files maps each rule file name to the hex sha256 of its bytes.
	Files map[string]string `yaml:"files"`
}

// Set is a loaded, validated signature set.
type Set struct {
	// Manifest is the set's manifest as read.
	Manifest Manifest
	// Digest is "sha256:<hex>" of the manifest bytes; since the manifest
	// pins every rule file by hash, it identifies the whole set.
	Digest string
	// Source says where the set was loaded from ("embedded" or a path).
	Source string
	// Rules are sorted by ID.
	Rules []*Rule

	byID         map[string]*Rule
	literals     []Literal
	contentRules []*contentRule
}

//go:embed rules/*.yaml
var embedded embed.FS

var (
	embeddedOnce sync.Once
	embeddedSet  *Set
	embeddedErr  error
)

// Embedded returns the signature set built into the binary.
func Embedded() (*Set, error) {
	embeddedOnce.Do(func() {
		sub, err := fs.Sub(embedded, "rules")
		if err != nil {
			embeddedErr = err
			return
		}
		embeddedSet, embeddedErr = Load(sub, "embedded")
	})
	return embeddedSet, embeddedErr
}

// Load reads and validates a set from fsys, which holds manifest.yaml and
// the rule files it lists. source is recorded in the set (for reports).
// Load refuses an unknown schema, a file missing from or not matching the
// manifest, a malformed or unsourced rule, a duplicate id, and a rule whose
// examples the matcher disagrees with.
func Load(fsys fs.FS, source string) (*Set, error) {
	mb, err := fs.ReadFile(fsys, ManifestName)
	if err != nil {
		return nil, fmt.Errorf("reading signature manifest: %w", err)
	}
	var m Manifest
	if err := strictYAML(mb, &m); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", ManifestName, err)
	}
	if m.Schema != SchemaVersion {
		return nil, fmt.Errorf("%s: schema %d is not supported (this build reads schema %d)", ManifestName, m.Schema, SchemaVersion)
	}
	if m.Version == "" {
		return nil, fmt.Errorf("%s: version is empty", ManifestName)
	}
	sum := sha256.Sum256(mb)
	s := &Set{Manifest: m, Digest: "sha256:" + hex.EncodeToString(sum[:]), Source: source, byID: map[string]*Rule{}}

	names, err := fs.Glob(fsys, "*.yaml")
	if err != nil {
		return nil, fmt.Errorf("listing rule files: %w", err)
	}
	for _, name := range names {
		if name == ManifestName {
			continue
		}
		if _, ok := m.Files[name]; !ok {
			return nil, fmt.Errorf("rule file %s is not listed in %s", name, ManifestName)
		}
	}
	files := make([]string, 0, len(m.Files))
	for name := range m.Files {
		files = append(files, name)
	}
	sort.Strings(files)
	for _, name := range files {
		if path.Base(name) != name || !strings.HasSuffix(name, ".yaml") {
			return nil, fmt.Errorf("%s: file name %q must be a plain .yaml name", ManifestName, name)
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("reading rule file: %w", err)
		}
		if got := FileDigest(b); got != m.Files[name] {
			return nil, fmt.Errorf("rule file %s: sha256 %s does not match %s (%s)", name, got, ManifestName, m.Files[name])
		}
		var r Rule
		if err := strictYAML(b, &r); err != nil {
			return nil, fmt.Errorf("rule file %s: %w", name, err)
		}
		if err := r.validate(); err != nil {
			return nil, fmt.Errorf("rule file %s: %w", name, err)
		}
		if strings.TrimSuffix(name, ".yaml") != r.ID {
			return nil, fmt.Errorf("rule file %s: holds rule %s; name the file after the rule", name, r.ID)
		}
		if s.byID[r.ID] != nil {
			return nil, fmt.Errorf("rule file %s: duplicate rule id %s", name, r.ID)
		}
		if err := r.checkExamples(); err != nil {
			return nil, fmt.Errorf("rule file %s: %w", name, err)
		}
		rule := r
		s.byID[r.ID] = &rule
		s.Rules = append(s.Rules, &rule)
	}
	if len(s.Rules) == 0 {
		return nil, fmt.Errorf("signature set has no rules")
	}
	sort.Slice(s.Rules, func(i, j int) bool { return s.Rules[i].ID < s.Rules[j].ID })
	s.indexContent()
	for _, r := range s.Rules {
		if err := s.checkContentExamples(r); err != nil {
			return nil, fmt.Errorf("rule %s: %w", r.ID, err)
		}
	}
	return s, nil
}

// FileDigest is the hex sha256 recorded in the manifest for a rule file.
func FileDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func strictYAML(b []byte, v any) error {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	return dec.Decode(v)
}

// checkExamples runs the rule's own examples through the matcher.
func (r *Rule) checkExamples() error {
	for _, e := range r.Examples.Match {
		if e.isContent() {
			continue
		}
		if r.match(e.Field, e.Qualifier, newFieldValue(e.Value)) == "" {
			return fmt.Errorf("example %s=%q should match but does not", e.Field, e.Value)
		}
	}
	for _, e := range r.Examples.NoMatch {
		if e.isContent() {
			continue
		}
		if t := r.match(e.Field, e.Qualifier, newFieldValue(e.Value)); t != "" {
			return fmt.Errorf("example %s=%q should not match but matches %q", e.Field, e.Value, t)
		}
	}
	return nil
}

// Rule returns the rule with the given id, or nil.
func (s *Set) Rule(id string) *Rule { return s.byID[id] }

// MatchIdentity returns every rule that a field value is evidence for, in
// rule id order. kind is the field kind (supplier, purl, ...) and
// qualifier refines it (an external reference type, a hash algorithm).
func (s *Set) MatchIdentity(kind, qualifier, value string) []Hit {
	if strings.TrimSpace(value) == "" {
		return nil
	}
	var hits []Hit
	v := newFieldValue(value)
	for _, r := range s.Rules {
		if t := r.match(kind, qualifier, v); t != "" {
			hits = append(hits, Hit{Rule: r, Term: t})
		}
	}
	return hits
}
