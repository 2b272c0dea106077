package inventory

import (
	"github.com/anchore/syft/syft/pkg"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// peResourceKind maps a PE VS_VERSIONINFO string to the kind of identity it
// carries; ok is false for strings that carry none.
func peResourceKind(key string) (kind ingest.FieldKind, ok bool) {
	switch key {
	case "CompanyName":
		return ingest.KindSupplier, true
	case "LegalCopyright", "LegalTrademarks":
		return ingest.KindCopyright, true
	case "FileDescription", "Comments":
		return ingest.KindDescription, true
	case "ProductName", "InternalName", "OriginalFilename":
		return ingest.KindProperty, true
	}
	return "", false
}

// binaryFields maps metadata read from executables: PE version resources,
// .NET assembly resources, the systemd-style ELF .note.package payload, and
// the classifiers that recognised a binary.
func binaryFields(b *fieldBuilder, p pkg.Package) {
	switch m := p.Metadata.(type) {
	case pkg.PEBinary:
		for _, kv := range m.VersionResources {
			if kind, ok := peResourceKind(kv.Key); ok {
				b.add(kind, kv.Key, kv.Value, "VS_VERSIONINFO:"+kv.Key)
			}
		}
	case pkg.DotnetPortableExecutableEntry:
		b.add(ingest.KindSupplier, "CompanyName", m.CompanyName, "VS_VERSIONINFO:CompanyName")
		b.add(ingest.KindCopyright, "LegalCopyright", m.LegalCopyright, "VS_VERSIONINFO:LegalCopyright")
		b.add(ingest.KindProperty, "ProductName", m.ProductName, "VS_VERSIONINFO:ProductName")
		b.add(ingest.KindProperty, "InternalName", m.InternalName, "VS_VERSIONINFO:InternalName")
		b.add(ingest.KindDescription, "Comments", m.Comments, "VS_VERSIONINFO:Comments")
	case pkg.ELFBinaryPackageNoteJSONPayload:
		const note = ".note.package:"
		b.add(ingest.KindSupplier, "vendor", m.Vendor, note+"vendor")
		b.add(ingest.KindURL, "vcs", m.SourceRepo, note+"sourceRepo")
		b.add(ingest.KindProperty, "os", m.OS, note+"os")
		if !hasField(b, ingest.KindCPE, m.AppCpe) {
			b.add(ingest.KindCPE, "elf-note", m.AppCpe, note+"appCpe")
		}
	case pkg.BinarySignature:
		for _, mt := range m.Matches {
			b.addAt(ingest.KindProperty, "classifier", mt.Classifier, locPath(mt.Location)+"#classifier")
		}
	}
}

// hasField reports whether the component already has a field of kind with
// value v.
func hasField(b *fieldBuilder, kind ingest.FieldKind, v string) bool {
	for _, f := range b.c.Fields {
		if f.Kind == kind && f.Value == v {
			return true
		}
	}
	return false
}
