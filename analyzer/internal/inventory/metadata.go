package inventory

import (
	"path"
	"strconv"
	"strings"

	"github.com/anchore/syft/syft/pkg"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// dpkgFields adds the identity-bearing fields of a Debian package's
// control data, installed or in a package file.
func dpkgFields(b *fieldBuilder, m pkg.DpkgDBEntry) {
	b.person(ingest.KindSupplier, "maintainer", m.Maintainer, "Maintainer")
	b.add(ingest.KindProperty, "source", m.Source, "Source")
	b.add(ingest.KindDescription, "", m.Description, "Description")
}

// metadataFields adds the identity-bearing values of p's typed metadata.
// Syft stores metadata by value; types not listed here add nothing.
func metadataFields(b *fieldBuilder, p pkg.Package) {
	switch m := p.Metadata.(type) {
	case pkg.DpkgDBEntry:
		dpkgFields(b, m)
	case pkg.DpkgArchiveEntry: // a .deb or .ipk file
		dpkgFields(b, pkg.DpkgDBEntry(m))
	case pkg.RpmArchive: // an .rpm file
		b.add(ingest.KindSupplier, "vendor", m.Vendor, "Vendor")
		b.add(ingest.KindProperty, "source", m.SourceRpm, "SourceRPM")
	case pkg.ApkDBEntry:
		b.person(ingest.KindSupplier, "maintainer", m.Maintainer, "m")
		b.add(ingest.KindURL, "url", m.URL, "U")
		b.add(ingest.KindProperty, "origin", m.OriginPackage, "o")
		b.add(ingest.KindDescription, "", m.Description, "T")
	case pkg.RpmDBEntry:
		b.add(ingest.KindSupplier, "vendor", m.Vendor, "Vendor")
		b.add(ingest.KindProperty, "source", m.SourceRpm, "SourceRPM")
	case pkg.AlpmDBEntry:
		b.person(ingest.KindSupplier, "maintainer", m.Packager, "%PACKAGER%")
		b.add(ingest.KindURL, "url", m.URL, "%URL%")
		b.add(ingest.KindProperty, "source", m.BasePackage, "%BASE%")
		b.add(ingest.KindDescription, "", m.Description, "%DESC%")
	case pkg.NpmPackage:
		npmFields(b, m)
	case pkg.PythonPackage:
		b.person(ingest.KindAuthor, "author", m.Author, "Author")
		b.person(ingest.KindEmail, "author", m.AuthorEmail, "Author-email")
		if m.DirectURLOrigin != nil {
			b.addAt(ingest.KindURL, "vcs", m.DirectURLOrigin.URL, path.Dir(b.base)+"/direct_url.json#url")
		}
	case pkg.JavaArchive:
		javaFields(b, m)
	case pkg.JavaVMInstallation:
		b.add(ingest.KindSupplier, "vendor", m.Release.Implementor, "IMPLEMENTOR")
		b.add(ingest.KindURL, "vcs", m.Release.SourceRepo, "SOURCE_REPO")
	default:
		otherFields(b, p)
	}
}

// npmFields maps a package.json read by Syft. Syft joins author, authors,
// contributors and maintainers into one Author string and keeps the
// repository URL as URL.
func npmFields(b *fieldBuilder, m pkg.NpmPackage) {
	if scope, _, ok := strings.Cut(m.Name, "/"); ok && strings.HasPrefix(scope, "@") {
		b.add(ingest.KindGroup, "scope", scope, "name")
	}
	b.person(ingest.KindAuthor, "author", m.Author, "author")
	b.add(ingest.KindURL, "homepage", m.Homepage, "homepage")
	b.add(ingest.KindURL, "vcs", m.URL, "repository")
	b.add(ingest.KindDescription, "", m.Description, "description")
}

// otherFields maps the less common metadata types.
func otherFields(b *fieldBuilder, p pkg.Package) {
	switch m := p.Metadata.(type) {
	case pkg.RubyGemspec:
		for i, a := range m.Authors {
			b.person(ingest.KindAuthor, "author", a, "authors["+strconv.Itoa(i)+"]")
		}
		b.add(ingest.KindURL, "homepage", m.Homepage, "homepage")
	case pkg.PhpComposerInstalledEntry:
		composerFields(b, pkg.PhpComposerLockEntry(m))
	case pkg.PhpComposerLockEntry:
		composerFields(b, m)
	case pkg.RDescription:
		b.person(ingest.KindAuthor, "author", m.Author, "Author")
		b.person(ingest.KindSupplier, "maintainer", m.Maintainer, "Maintainer")
		for _, u := range m.URL {
			b.add(ingest.KindURL, "url", u, "URL")
		}
	case pkg.HomebrewFormula:
		b.add(ingest.KindURL, "homepage", m.Homepage, "homepage")
	case pkg.LinuxKernel:
		b.add(ingest.KindAuthor, "author", m.Author, "author")
	case pkg.LinuxKernelModule:
		b.person(ingest.KindAuthor, "author", m.Author, "modinfo:author")
		b.add(ingest.KindDescription, "", m.Description, "modinfo:description")
	default:
		binaryFields(b, p)
	}
}

// composerFields maps a PHP Composer package entry.
func composerFields(b *fieldBuilder, m pkg.PhpComposerLockEntry) {
	for i, a := range m.Authors {
		k := "authors[" + strconv.Itoa(i) + "]."
		b.add(ingest.KindAuthor, "author", a.Name, k+"name")
		b.add(ingest.KindEmail, "author", a.Email, k+"email")
		b.add(ingest.KindURL, "author", a.Homepage, k+"homepage")
	}
	b.add(ingest.KindURL, "homepage", m.Homepage, "homepage")
	b.add(ingest.KindURL, "vcs", m.Source.URL, "source.url")
	b.add(ingest.KindURL, "distribution", m.Dist.URL, "dist.url")
	b.add(ingest.KindDescription, "", m.Description, "description")
}
