package signatures

import (
	"net/url"
	"path"
	"strings"

	"github.com/package-url/packageurl-go"
)

// Hit is one identity pattern of one rule matching one value.
type Hit struct {
	// Rule is the rule whose pattern matched.
	Rule *Rule
	// Term is the pattern term that matched, normalized (an entity name, a
	// glob, a host, a purl or CPE pattern, a digest).
	Term string
}

// fieldValue is one field value with its parsed forms, computed once and
// shared by every pattern that reads it.
type fieldValue struct {
	raw   string
	lower string
	words []string // entityWords(raw), nil until needed
}

func newFieldValue(v string) *fieldValue {
	return &fieldValue{raw: v, lower: strings.ToLower(v)}
}

func (v *fieldValue) entityWords() []string {
	if v.words == nil {
		v.words = entityWords(v.raw)
	}
	return v.words
}

// matchPattern reports the term of p that matches value, or "" when none
// does. kind and qualifier describe the field the value came from.
func (p *IdentityPattern) matchPattern(kind, qualifier string, v *fieldValue) string {
	if !p.reads(kind, qualifier) {
		return ""
	}
	value := v.raw
	switch {
	case len(p.Entities) > 0:
		return p.matchEntity(v)
	case len(p.Globs) > 0:
		return matchGlobs(p.Globs, value)
	case len(p.PURLs) > 0:
		return matchPURL(p.PURLs, value)
	case len(p.CPEs) > 0:
		return matchCPE(p.CPEs, value)
	case len(p.Hosts) > 0:
		return matchHost(p.Hosts, value)
	case len(p.Hashes) > 0:
		return matchHash(p.Hashes, value)
	}
	return ""
}

func (p *IdentityPattern) reads(kind, qualifier string) bool {
	found := false
	for _, f := range p.Fields {
		if f == kind {
			found = true
			break
		}
	}
	if !found {
		return false
	}
	q := strings.ToLower(qualifier)
	if len(p.Qualifiers) > 0 && !containsFold(p.Qualifiers, q) {
		return false
	}
	return !containsFold(p.ExceptQualifiers, q)
}

func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}

// compile prepares the pattern's entity words and the substrings a value
// must contain for any entity to match (a cheap prefilter).
func (p *IdentityPattern) compile() {
	p.entityPats, p.anchors = nil, nil
	seen := map[string]bool{}
	for _, e := range p.Entities {
		pat := patternWords(e)
		p.entityPats = append(p.entityPats, pat)
		if len(pat) == 0 {
			continue
		}
		a := strings.TrimSuffix(pat[0], "*")
		if !seen[a] {
			seen[a] = true
			p.anchors = append(p.anchors, a)
		}
	}
}

// matchEntity returns the longest entity whose words appear in the value.
func (p *IdentityPattern) matchEntity(v *fieldValue) string {
	if p.entityPats == nil {
		p.compile()
	}
	anchored := false
	for _, a := range p.anchors {
		if strings.Contains(v.lower, a) {
			anchored = true
			break
		}
	}
	if !anchored {
		return ""
	}
	ws := v.entityWords()
	best, bestLen := "", 0
	for _, pat := range p.entityPats {
		if findWords(ws, pat) >= 0 && len(pat) > bestLen {
			best, bestLen = strings.Join(pat, " "), len(pat)
		}
	}
	if best == "" {
		return ""
	}
	if p.Sole && !onlyHolder(words(v.raw), p.entityPats) {
		return ""
	}
	return best
}

func matchGlobs(globs []string, value string) string {
	v := strings.ToLower(strings.TrimSpace(value))
	for _, g := range globs {
		if ok, _ := path.Match(strings.ToLower(g), v); ok {
			return g
		}
	}
	return ""
}

func globFold(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	ok, _ := path.Match(strings.ToLower(pattern), strings.ToLower(s))
	return ok
}

func matchPURL(pats []PURLPattern, value string) string {
	pu, err := packageurl.FromString(strings.TrimSpace(value))
	if err != nil {
		return ""
	}
	ns, _ := url.PathUnescape(pu.Namespace)
	name, _ := url.PathUnescape(pu.Name)
	for _, p := range pats {
		if globFold(p.Type, pu.Type) && globFold(p.Namespace, ns) && globFold(p.Name, name) {
			return "pkg:" + nonEmpty(p.Type) + "/" + nonEmpty(p.Namespace) + "/" + nonEmpty(p.Name)
		}
	}
	return ""
}

func nonEmpty(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// ParseCPE returns the vendor and product of a CPE 2.2 URI
// ("cpe:/a:vendor:product") or 2.3 formatted string
// ("cpe:2.3:a:vendor:product:..."), unescaped and lower-cased.
func ParseCPE(s string) (vendor, product string, ok bool) {
	s = strings.TrimSpace(s)
	var parts []string
	switch {
	case hasPrefixFold(s, "cpe:2.3:"):
		parts = splitCPE23(s[len("cpe:2.3:"):])
		if len(parts) < 3 {
			return "", "", false
		}
		vendor, product = unescapeCPE23(parts[1]), unescapeCPE23(parts[2])
	case hasPrefixFold(s, "cpe:/"):
		parts = strings.Split(s[len("cpe:/"):], ":")
		if len(parts) < 3 {
			return "", "", false
		}
		v, err1 := url.PathUnescape(parts[1])
		p, err2 := url.PathUnescape(parts[2])
		if err1 != nil || err2 != nil {
			return "", "", false
		}
		vendor, product = v, p
	default:
		return "", "", false
	}
	return strings.ToLower(vendor), strings.ToLower(product), vendor != ""
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// splitCPE23 splits on ':' that are not escaped by a backslash.
func splitCPE23(s string) []string {
	var parts []string
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			b.WriteByte(s[i])
			b.WriteByte(s[i+1])
			i++
		case s[i] == ':':
			parts = append(parts, b.String())
			b.Reset()
		default:
			b.WriteByte(s[i])
		}
	}
	return append(parts, b.String())
}

func unescapeCPE23(s string) string { return strings.ReplaceAll(s, `\`, "") }

func matchCPE(pats []CPEPattern, value string) string {
	vendor, product, ok := ParseCPE(value)
	if !ok {
		return ""
	}
	for _, p := range pats {
		if globFold(p.Vendor, vendor) && globFold(p.Product, product) {
			return "cpe:" + nonEmpty(p.Vendor) + ":" + nonEmpty(p.Product)
		}
	}
	return ""
}

// HostPath extracts "host/path" (lower-cased host) from a URL, a bare
// "host/path", a "git+https://" or "scm:git:" reference, or an e-mail
// address ("user@host"). ok is false when no host can be found.
func HostPath(value string) (host, p string, ok bool) {
	v := strings.TrimSpace(value)
	if i := strings.LastIndex(v, "<"); i >= 0 && strings.HasSuffix(v, ">") {
		v = v[i+1 : len(v)-1] // "Name <user@host>"
	}
	v = strings.TrimPrefix(v, "mailto:")
	if at := strings.LastIndex(v, "@"); at >= 0 && !strings.Contains(v, "/") && !strings.Contains(v, ":") {
		return strings.ToLower(v[at+1:]), "", v[at+1:] != ""
	}
	for _, pre := range []string{"scm:git:", "git+", "svn+", "hg+"} {
		if hasPrefixFold(v, pre) {
			v = v[len(pre):]
		}
	}
	if strings.HasPrefix(v, "git@") { // git@github.com:Org/repo.git
		v = "ssh://" + strings.Replace(v[len("git@"):], ":", "/", 1)
	}
	if !strings.Contains(v, "://") {
		v = "//" + v
	}
	u, err := url.Parse(v)
	if err != nil || u.Hostname() == "" {
		return "", "", false
	}
	return strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), u.Path, true
}

func matchHost(hosts []string, value string) string {
	host, p, ok := HostPath(value)
	if !ok {
		return ""
	}
	for _, h := range hosts {
		hp, pathPrefix, hasPath := strings.Cut(strings.ToLower(h), "/")
		if hasPath && !strings.HasPrefix(strings.ToLower(strings.TrimPrefix(p, "/"))+"/", pathPrefix) {
			continue
		}
		if strings.ContainsAny(hp, "*?[") {
			if ok, _ := path.Match(hp, host); ok {
				return h
			}
			continue
		}
		if host == hp || strings.HasSuffix(host, "."+hp) {
			return h
		}
	}
	return ""
}

// NormalizeHash returns "ALG:hex" with the algorithm upper-cased and its
// dash restored ("sha256" and "SHA256" become "SHA-256") and the digest
// lower-cased.
func NormalizeHash(s string) string {
	alg, hex, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return strings.ToLower(s)
	}
	alg = strings.ToUpper(strings.ReplaceAll(alg, "_", "-"))
	if strings.HasPrefix(alg, "SHA") && !strings.HasPrefix(alg, "SHA-") && !strings.HasPrefix(alg, "SHA3") {
		alg = "SHA-" + alg[3:]
	}
	return alg + ":" + strings.ToLower(strings.TrimSpace(hex))
}

func matchHash(hashes []string, value string) string {
	v := NormalizeHash(value)
	for _, h := range hashes {
		if NormalizeHash(h) == v {
			return h
		}
	}
	return ""
}

// match returns the term of the first identity pattern of r that matches the
// value, unless a NotIf pattern matches it too.
func (r *Rule) match(kind, qualifier string, v *fieldValue) string {
	term := ""
	for i := range r.Identity {
		if t := r.Identity[i].matchPattern(kind, qualifier, v); t != "" {
			term = t
			break
		}
	}
	if term == "" {
		return ""
	}
	for i := range r.NotIf {
		if r.NotIf[i].matchPattern(kind, qualifier, v) != "" {
			return ""
		}
	}
	return term
}
