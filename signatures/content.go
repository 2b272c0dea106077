package signatures

import (
	"bytes"
	"fmt"
	"path"
	"sort"
	"strings"
)

// ContentPattern matches what a scanner observed in one file. Exactly one of
// Strings, Magic, Paths, Symbols, Libraries or Classes is set.
type ContentPattern struct {
	// Strings are literals found anywhere in the file's bytes.
	Strings []string `yaml:"strings,omitempty"`
	// Fold makes Strings ASCII case-insensitive.
	Fold bool `yaml:"fold,omitempty"`
	// Magic are literals that must start exactly at byte offset At.
	Magic []string `yaml:"magic,omitempty"`
	At    int64    `yaml:"at,omitempty"`
	// Paths are globs over the file's path inside the scanned tree, with a
	// leading "/"; "**" matches any number of directories.
	Paths []string `yaml:"paths,omitempty"`
	// Symbols are globs over the dynamic symbols a binary exports or
	// imports (ELF dynsym, PE exports and imports).
	Symbols []string `yaml:"symbols,omitempty"`
	// Libraries are globs over an ELF SONAME and DT_NEEDED entries and PE
	// imported DLL names.
	Libraries []string `yaml:"libraries,omitempty"`
	// Classes are globs over Java/Android class names ("com.kavsdk.*").
	Classes []string `yaml:"classes,omitempty"`
	// MinDistinct is how many distinct values of the list must be seen in
	// one file for the pattern to match (default 1).
	MinDistinct int `yaml:"min_distinct,omitempty"`
	// FileKinds limits the pattern to files of these kinds: elf, pe, jar,
	// apk, dex, text (no NUL bytes in the head), binary (anything else).
	// Empty means every kind.
	FileKinds []string `yaml:"file_kinds,omitempty"`
	// ExceptPaths are globs of files where the pattern does not count:
	// documentation, rule sets, connectors that only name the indicator.
	ExceptPaths []string `yaml:"except_paths,omitempty"`
}

// FileKinds a content pattern may name.
var fileKinds = map[string]bool{"elf": true, "pe": true, "jar": true, "apk": true, "dex": true, "text": true, "binary": true}

// Literal is one byte string a scanner must look for on behalf of the set.
type Literal struct {
	Bytes []byte
	Fold  bool
	// At is the required offset for a magic, or -1 for anywhere.
	At int64
}

// Observation is what a scanner saw in one file.
type Observation struct {
	// Path is the file's path inside the scanned tree, with a leading "/".
	Path string
	// Kind is elf, pe, jar, apk, dex, text or binary.
	Kind string
	// Found maps the index of each literal (in Set.Literals order) that was
	// found to the offsets where it was found (the first few).
	Found map[int][]int64
	// Symbols, Libraries and Classes come from the binary's metadata.
	Symbols, Libraries, Classes []string
}

// ContentHit is one content pattern of one rule matching one file.
type ContentHit struct {
	Rule *Rule
	// Kind says what matched: string, magic, path, symbol, library, class.
	Kind string
	// Values are the distinct matched values (literals, symbol names ...),
	// sorted; Offsets gives, for string and magic hits, the first offset of
	// each value, in the same order.
	Values  []string
	Offsets []int64
}

func (p *ContentPattern) validate() error {
	n := 0
	for _, l := range []int{len(p.Strings), len(p.Magic), len(p.Paths), len(p.Symbols), len(p.Libraries), len(p.Classes)} {
		if l > 0 {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("exactly one of strings, magic, paths, symbols, libraries, classes must be set (have %d)", n)
	}
	for _, k := range p.FileKinds {
		if !fileKinds[k] {
			return fmt.Errorf("unknown file kind %q", k)
		}
	}
	for _, s := range append(append([]string{}, p.Strings...), p.Magic...) {
		if s == "" || len(s) > 255 {
			return fmt.Errorf("literal %q: must be 1 to 255 bytes", s)
		}
	}
	if p.At < 0 {
		return fmt.Errorf("at must not be negative")
	}
	if p.At != 0 && len(p.Magic) == 0 {
		return fmt.Errorf("at applies to magic only")
	}
	if p.MinDistinct < 0 {
		return fmt.Errorf("min_distinct must not be negative")
	}
	for _, g := range append(append(append(append([]string{}, p.Paths...), p.ExceptPaths...), p.Symbols...), p.Classes...) {
		if _, err := path.Match(strings.ReplaceAll(g, "**", "*"), ""); err != nil {
			return fmt.Errorf("glob %q: %w", g, err)
		}
	}
	return nil
}

// literals returns the pattern's literals.
func (p *ContentPattern) literals() []Literal {
	var out []Literal
	for _, s := range p.Strings {
		out = append(out, Literal{Bytes: []byte(s), Fold: p.Fold, At: -1})
	}
	for _, s := range p.Magic {
		out = append(out, Literal{Bytes: []byte(s), At: p.At})
	}
	return out
}

// MatchPath reports whether a "/"-rooted path matches a glob in which "**"
// matches any number of path elements (including none) and every other
// element is a path.Match pattern. Matching is case-sensitive.
func MatchPath(glob, p string) bool {
	return matchSegments(strings.Trim(glob, "/"), strings.Trim(p, "/"))
}

// matchSegments matches the glob's "/"-separated segments against the
// path's, cutting both as it goes (it runs for every file of a tree).
func matchSegments(g, p string) bool {
	for g != "" {
		gs, grest, _ := strings.Cut(g, "/")
		if gs == "**" {
			if grest == "" {
				return true
			}
			for {
				if matchSegments(grest, p) {
					return true
				}
				if p == "" {
					return false
				}
				_, p, _ = strings.Cut(p, "/")
			}
		}
		if p == "" {
			return false
		}
		ps, prest, _ := strings.Cut(p, "/")
		if ok, _ := path.Match(gs, ps); !ok {
			return false
		}
		g, p = grest, prest
	}
	return p == ""
}

func anyPath(globs []string, p string) bool {
	for _, g := range globs {
		if MatchPath(g, p) {
			return true
		}
	}
	return false
}

// matchContent evaluates one pattern against an observation. litBase is the
// index in the set's literal table of the pattern's first literal.
func (p *ContentPattern) matchContent(o *Observation, litBase int) (ContentHit, bool) {
	if len(p.FileKinds) > 0 && !containsFold(p.FileKinds, o.Kind) {
		return ContentHit{}, false
	}
	var h ContentHit
	switch {
	case len(p.Strings) > 0 || len(p.Magic) > 0:
		h.Kind = "string"
		lits := p.Strings
		if len(p.Magic) > 0 {
			h.Kind, lits = "magic", p.Magic
		}
		for i, s := range lits {
			if offs := o.Found[litBase+i]; len(offs) > 0 {
				h.Values = append(h.Values, s)
				h.Offsets = append(h.Offsets, offs[0])
			}
		}
	case len(p.Paths) > 0:
		h.Kind = "path"
		if anyPath(p.Paths, o.Path) {
			h.Values = []string{o.Path}
		}
	case len(p.Symbols) > 0:
		h.Kind, h.Values = "symbol", matchNames(p.Symbols, o.Symbols)
	case len(p.Libraries) > 0:
		h.Kind, h.Values = "library", matchNames(p.Libraries, o.Libraries)
	case len(p.Classes) > 0:
		h.Kind, h.Values = "class", matchNames(p.Classes, o.Classes)
	}
	if len(h.Values) < max(p.MinDistinct, 1) || anyPath(p.ExceptPaths, o.Path) {
		return ContentHit{}, false
	}
	return h, true
}

// matchNames returns the names that match any glob, sorted. A binary has
// thousands of symbols, so each glob's literal prefix (the text before its
// first wildcard) rejects most names before path.Match runs.
func matchNames(globs, names []string) []string {
	prefixes := make([]string, len(globs))
	for i, g := range globs {
		prefixes[i] = g
		if j := strings.IndexAny(g, `*?[\`); j >= 0 {
			prefixes[i] = g[:j]
		}
	}
	var out []string
	for _, n := range names {
		for i, g := range globs {
			if !strings.HasPrefix(n, prefixes[i]) {
				continue
			}
			if ok, _ := path.Match(g, n); ok {
				out = append(out, n)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// observe builds an observation for a rule example by searching its content
// naively; it is the reference the real scanner is tested against.
func (s *Set) observe(e Example) *Observation {
	o := &Observation{Path: e.Path, Kind: e.Kind, Found: map[int][]int64{}, Symbols: e.Symbols, Libraries: e.Libraries, Classes: e.Classes}
	if o.Path == "" {
		o.Path = "/example"
	}
	if o.Kind == "" {
		o.Kind = "binary"
		if e.Content != "" && !strings.ContainsRune(e.Content, 0) {
			o.Kind = "text"
		}
	}
	data := []byte(e.Content)
	for i, l := range s.literals {
		hay, needle := data, l.Bytes
		if l.Fold {
			hay, needle = bytes.ToLower(hay), bytes.ToLower(needle)
		}
		if l.At >= 0 {
			if int64(len(hay)) >= l.At+int64(len(needle)) && bytes.Equal(hay[l.At:l.At+int64(len(needle))], needle) {
				o.Found[i] = []int64{l.At}
			}
			continue
		}
		if j := bytes.Index(hay, needle); j >= 0 {
			o.Found[i] = []int64{int64(j)}
		}
	}
	return o
}

// Literals returns every literal the set's content patterns need, in a
// fixed order; Observation.Found is indexed by position in this list.
func (s *Set) Literals() []Literal { return s.literals }

// HasContent reports whether any rule has content patterns.
func (s *Set) HasContent() bool { return len(s.contentRules) > 0 }

// MatchContent returns every content hit for one file's observation, in rule
// id order. A rule's NotIf content patterns veto its hits on the same file.
func (s *Set) MatchContent(o *Observation) []ContentHit {
	var hits []ContentHit
	for _, cr := range s.contentRules {
		if cr.vetoed(o) {
			continue
		}
		for i := range cr.rule.Content {
			if h, ok := cr.rule.Content[i].matchContent(o, cr.base[i]); ok {
				h.Rule = cr.rule
				hits = append(hits, h)
			}
		}
	}
	return hits
}

// contentRule is a rule with content patterns and the index of each
// pattern's first literal in the set's literal table.
type contentRule struct {
	rule     *Rule
	base     []int
	notIfBas []int
}

func (cr *contentRule) vetoed(o *Observation) bool {
	for i := range cr.rule.ContentNotIf {
		if _, ok := cr.rule.ContentNotIf[i].matchContent(o, cr.notIfBas[i]); ok {
			return true
		}
	}
	return false
}

// indexContent assigns literal slots to every content pattern of the set.
func (s *Set) indexContent() {
	for _, r := range s.Rules {
		if len(r.Content) == 0 {
			continue
		}
		cr := &contentRule{rule: r}
		for i := range r.Content {
			cr.base = append(cr.base, len(s.literals))
			s.literals = append(s.literals, r.Content[i].literals()...)
		}
		for i := range r.ContentNotIf {
			cr.notIfBas = append(cr.notIfBas, len(s.literals))
			s.literals = append(s.literals, r.ContentNotIf[i].literals()...)
		}
		s.contentRules = append(s.contentRules, cr)
	}
}

// checkContentExamples runs a content rule's examples through the reference
// observer.
func (s *Set) checkContentExamples(r *Rule) error {
	matches := func(e Example) bool {
		for _, h := range s.MatchContent(s.observe(e)) {
			if h.Rule == r {
				return true
			}
		}
		return false
	}
	for _, e := range r.Examples.Match {
		if e.isContent() && !matches(e) {
			return fmt.Errorf("content example %s should match but does not", e.describe())
		}
	}
	for _, e := range r.Examples.NoMatch {
		if e.isContent() && matches(e) {
			return fmt.Errorf("content example %s should not match but does", e.describe())
		}
	}
	return nil
}
