package inventory

import (
	"strings"

	"github.com/anchore/syft/syft/pkg"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// fieldBuilder appends fields to a component. Field locations are
// "<base>#<key><suffix>": base is the component's evidence file, key the
// name of the value in that file, suffix " (package X)" for files that
// describe many packages (dpkg status, apk and rpm databases).
type fieldBuilder struct {
	c      *ingest.Component
	base   string
	suffix string
}

// add appends a field whose value sits under key in the component's
// evidence file. Blank values are skipped.
func (b *fieldBuilder) add(kind ingest.FieldKind, qualifier, value, key string) {
	b.addAt(kind, qualifier, value, b.base+"#"+key+b.suffix)
}

// addAt appends a field with an explicit location. Blank values are
// skipped.
func (b *fieldBuilder) addAt(kind ingest.FieldKind, qualifier, value, loc string) {
	if strings.TrimSpace(value) == "" {
		return
	}
	b.c.Fields = append(b.c.Fields, ingest.Field{Kind: kind, Qualifier: qualifier, Value: value, Location: loc})
}

// person adds a person string such as "Jane Doe <jane@example.com>
// (https://example.com)" as a field of kind, plus one KindEmail field per
// e-mail address in angle brackets, all at key.
func (b *fieldBuilder) person(kind ingest.FieldKind, qualifier, value, key string) {
	b.add(kind, qualifier, value, key)
	for _, e := range bracketedEmails(value) {
		b.add(ingest.KindEmail, qualifier, e, key)
	}
}

// bracketedEmails returns the e-mail addresses written in angle brackets in
// s ("Jane <jane@example.com>, Joe <joe@example.org>").
func bracketedEmails(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			return out
		}
		s = s[i+1:]
		j := strings.IndexAny(s, "<>")
		if j < 0 {
			return out
		}
		if s[j] == '>' {
			if e := strings.TrimSpace(s[:j]); strings.Contains(e, "@") && !strings.ContainsAny(e, " \t") {
				out = append(out, e)
			}
			s = s[j+1:]
		}
	}
}

// dbSuffix names the package inside a database file that describes many
// packages, so that a field location identifies one stanza.
func dbSuffix(p pkg.Package) string {
	switch p.Type {
	case pkg.DebPkg, pkg.ApkPkg, pkg.RpmPkg:
		return " (package " + p.Name + ")"
	}
	return ""
}

// identityKeys returns the keys under which p's name and version are
// written in its evidence file.
func identityKeys(p pkg.Package) (name, version string) {
	switch p.Metadata.(type) {
	case pkg.DpkgDBEntry:
		return "Package", "Version"
	case pkg.RpmDBEntry:
		return "Name", "Version"
	case pkg.ApkDBEntry:
		return "P", "V"
	case pkg.PythonPackage:
		return "Name", "Version"
	case pkg.AlpmDBEntry:
		return "%NAME%", "%VERSION%"
	}
	return "name", "version"
}

// licenseKey returns the key under which p's license is written.
func licenseKey(p pkg.Package) string {
	switch p.Metadata.(type) {
	case pkg.DpkgDBEntry, pkg.RpmDBEntry:
		return "License"
	case pkg.ApkDBEntry:
		return "L"
	case pkg.PythonPackage:
		return "License"
	case pkg.AlpmDBEntry:
		return "%LICENSE%"
	}
	return "license"
}
