package inventory

import (
	"cmp"
	"slices"

	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// sortedPackages returns the SBOM's packages ordered by name, version, type,
// primary location and finally Syft id, so that component indices are stable
// from run to run.
func sortedPackages(s *sbom.SBOM) []pkg.Package {
	if s.Artifacts.Packages == nil {
		return nil
	}
	pkgs := s.Artifacts.Packages.Sorted()
	slices.SortStableFunc(pkgs, func(a, b pkg.Package) int {
		return cmp.Or(
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Version, b.Version),
			cmp.Compare(a.Type, b.Type),
			cmp.Compare(primaryPath(a), primaryPath(b)),
			cmp.Compare(a.ID(), b.ID()),
		)
	})
	return pkgs
}

// primaryPath is the root-relative path of p's primary evidence file: the
// first (by path) location Syft annotated as primary evidence, or else its
// first location. Empty when p has no location.
func primaryPath(p pkg.Package) string {
	var primary, first string
	for _, l := range p.Locations.ToUnorderedSlice() {
		path := locPath(l)
		if first == "" || path < first {
			first = path
		}
		if l.Annotations[pkg.EvidenceAnnotationKey] == pkg.PrimaryEvidenceAnnotation && (primary == "" || path < primary) {
			primary = path
		}
	}
	if primary != "" {
		return primary
	}
	return first
}

// locPath is the root-relative path of a location: its real path, or for a
// file inside an archive the "!/"-joined path through the archives.
func locPath(l file.Location) string {
	return l.FullNestedPath()
}

// component turns a Syft package into an identity component.
func component(p pkg.Package) ingest.Component {
	loc := primaryPath(p)
	c := ingest.Component{
		Ref:      string(p.ID()),
		Type:     string(p.Type),
		Name:     p.Name,
		Version:  p.Version,
		PURL:     p.PURL,
		Location: loc,
	}
	b := fieldBuilder{c: &c, base: loc, suffix: dbSuffix(p)}
	nameKey, versionKey := identityKeys(p)
	b.add(ingest.KindName, "", p.Name, nameKey)
	b.add(ingest.KindVersion, "", p.Version, versionKey)
	b.add(ingest.KindPURL, "", p.PURL, "purl")
	for _, c := range p.CPEs {
		b.add(ingest.KindCPE, string(c.Source), c.Attributes.String(), "cpe")
	}
	metadataFields(&b, p)
	licenseFields(&b, p)
	for _, l := range p.Locations.ToSlice() {
		b.addAt(ingest.KindProperty, "location", locPath(l), locPath(l))
	}
	return c
}

// licenseFields adds one KindLicense field per license: the SPDX
// expression when Syft could form one, else the raw value. The location is
// the file the license was read from when Syft recorded it.
func licenseFields(b *fieldBuilder, p pkg.Package) {
	for _, l := range p.Licenses.ToSlice() {
		v := l.SPDXExpression
		if v == "" {
			v = l.Value
		}
		if locs := l.Locations.ToSlice(); len(locs) > 0 && locPath(locs[0]) != b.base {
			b.addAt(ingest.KindLicense, string(l.Type), v, locPath(locs[0])+"#"+licenseKey(p))
			continue
		}
		b.add(ingest.KindLicense, string(l.Type), v, licenseKey(p))
	}
}
