package inventory

import (
	"strings"

	"github.com/anchore/syft/syft/pkg"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// manifestKind maps a Java manifest attribute to the kind of identity it
// carries; ok is false for attributes that carry none.
func manifestKind(key string) (kind ingest.FieldKind, ok bool) {
	switch key {
	case "Implementation-Vendor", "Implementation-Vendor-Id", "Specification-Vendor", "Bundle-Vendor":
		return ingest.KindSupplier, true
	case "Implementation-URL", "Bundle-DocURL":
		return ingest.KindURL, true
	case "Bundle-SymbolicName", "Automatic-Module-Name", "Implementation-Title", "Specification-Title", "Bundle-Name", "Built-By":
		return ingest.KindProperty, true
	}
	return "", false
}

// javaFields maps a Java archive: its manifest's vendor attributes, and the
// group ids of its pom.properties and pom.xml. Locations name the archive
// (Syft's virtual path "outer.jar:inner.jar" for nested archives), then the
// member and the key: "/opt/a.jar#META-INF/MANIFEST.MF:Implementation-Vendor",
// "/opt/a.jar#META-INF/maven/g/a/pom.properties:groupId".
func javaFields(b *fieldBuilder, m pkg.JavaArchive) {
	archive := b.base
	if m.VirtualPath != "" {
		archive = m.VirtualPath
	}
	at := func(member, key string) string { return archive + "#" + member + ":" + key }
	const mf = "META-INF/MANIFEST.MF"
	if m.Manifest != nil {
		manifestFields(b, m.Manifest.Main, func(k string) string { return at(mf, k) })
		for _, sec := range m.Manifest.Sections {
			name, _ := sec.Get("Name")
			manifestFields(b, sec, func(k string) string { return at(mf+"["+name+"]", k) })
		}
	}
	if pp := m.PomProperties; pp != nil {
		b.addAt(ingest.KindGroup, "groupId", pp.GroupID, at(pp.Path, "groupId"))
		b.addAt(ingest.KindName, "artifactId", pp.ArtifactID, at(pp.Path, "artifactId"))
	}
	if pj := m.PomProject; pj != nil {
		b.addAt(ingest.KindGroup, "groupId", pj.GroupID, at(pj.Path, "groupId"))
		b.addAt(ingest.KindName, "artifactId", pj.ArtifactID, at(pj.Path, "artifactId"))
		if pj.Parent != nil {
			b.addAt(ingest.KindGroup, "parent.groupId", pj.Parent.GroupID, at(pj.Path, "parent/groupId"))
		}
		b.addAt(ingest.KindURL, "url", pj.URL, at(pj.Path, "url"))
		b.addAt(ingest.KindDescription, "", pj.Description, at(pj.Path, "description"))
	}
}

// manifestFields adds the identity attributes of one manifest section.
func manifestFields(b *fieldBuilder, kvs pkg.KeyValues, loc func(key string) string) {
	for _, kv := range kvs {
		if kind, ok := manifestKind(kv.Key); ok {
			b.addAt(kind, kv.Key, strings.TrimSpace(kv.Value), loc(kv.Key))
		}
	}
}
