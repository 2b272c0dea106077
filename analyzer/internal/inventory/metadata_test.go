package inventory

import (
	"slices"
	"testing"

	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// synthetic builds a package with one primary-evidence location.
func synthetic(typ pkg.Type, name, loc string, meta any) pkg.Package {
	p := pkg.Package{
		Name: name, Version: "1.0", Type: typ, Metadata: meta,
		Locations: file.NewLocationSet(file.NewLocation(loc).WithAnnotation(pkg.EvidenceAnnotationKey, pkg.PrimaryEvidenceAnnotation)),
	}
	p.SetID()
	return p
}

func TestMetadataMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    pkg.Package
		want []ingest.Field
	}{
		{"java", synthetic(pkg.JavaPkg, "sdk", "/opt/app/lib/sdk.jar", pkg.JavaArchive{
			VirtualPath: "/opt/app/lib/sdk.jar",
			Manifest: &pkg.JavaManifest{Main: pkg.KeyValues{
				{Key: "Implementation-Vendor", Value: "ACME Corp"},
				{Key: "Bundle-Vendor", Value: "ACME"},
				{Key: "Main-Class", Value: "x.Main"},
			}},
			PomProperties: &pkg.JavaPomProperties{Path: "META-INF/maven/com.acme/sdk/pom.properties", GroupID: "com.acme", ArtifactID: "sdk"},
		}), []ingest.Field{
			{Kind: ingest.KindSupplier, Qualifier: "Implementation-Vendor", Value: "ACME Corp", Location: "/opt/app/lib/sdk.jar#META-INF/MANIFEST.MF:Implementation-Vendor"},
			{Kind: ingest.KindSupplier, Qualifier: "Bundle-Vendor", Value: "ACME", Location: "/opt/app/lib/sdk.jar#META-INF/MANIFEST.MF:Bundle-Vendor"},
			{Kind: ingest.KindGroup, Qualifier: "groupId", Value: "com.acme", Location: "/opt/app/lib/sdk.jar#META-INF/maven/com.acme/sdk/pom.properties:groupId"},
			{Kind: ingest.KindName, Qualifier: "artifactId", Value: "sdk", Location: "/opt/app/lib/sdk.jar#META-INF/maven/com.acme/sdk/pom.properties:artifactId"},
		}},
		{"python", synthetic(pkg.PythonPkg, "acme", "/usr/lib/python3/dist-packages/acme-1.0.dist-info/METADATA", pkg.PythonPackage{
			Author: "ACME Lab", AuthorEmail: "dev@acme.example",
		}), []ingest.Field{
			{Kind: ingest.KindAuthor, Qualifier: "author", Value: "ACME Lab", Location: "/usr/lib/python3/dist-packages/acme-1.0.dist-info/METADATA#Author"},
			{Kind: ingest.KindEmail, Qualifier: "author", Value: "dev@acme.example", Location: "/usr/lib/python3/dist-packages/acme-1.0.dist-info/METADATA#Author-email"},
		}},
		{"rpm", synthetic(pkg.RpmPkg, "acme-av", "/var/lib/rpm/rpmdb.sqlite", pkg.RpmDBEntry{Vendor: "ACME Inc."}), []ingest.Field{
			{Kind: ingest.KindSupplier, Qualifier: "vendor", Value: "ACME Inc.", Location: "/var/lib/rpm/rpmdb.sqlite#Vendor (package acme-av)"},
		}},
		{"apk", synthetic(pkg.ApkPkg, "acme", "/lib/apk/db/installed", pkg.ApkDBEntry{Maintainer: "Jo <jo@acme.example>", URL: "https://acme.example"}), []ingest.Field{
			{Kind: ingest.KindSupplier, Qualifier: "maintainer", Value: "Jo <jo@acme.example>", Location: "/lib/apk/db/installed#m (package acme)"},
			{Kind: ingest.KindEmail, Qualifier: "maintainer", Value: "jo@acme.example", Location: "/lib/apk/db/installed#m (package acme)"},
			{Kind: ingest.KindURL, Qualifier: "url", Value: "https://acme.example", Location: "/lib/apk/db/installed#U (package acme)"},
		}},
		{"pe", synthetic(pkg.BinaryPkg, "scan.exe", "/opt/win/scan.exe", pkg.PEBinary{VersionResources: pkg.KeyValues{
			{Key: "CompanyName", Value: "ACME Lab"}, {Key: "LegalCopyright", Value: "(c) ACME"}, {Key: "FileVersion", Value: "1.0"},
		}}), []ingest.Field{
			{Kind: ingest.KindSupplier, Qualifier: "CompanyName", Value: "ACME Lab", Location: "/opt/win/scan.exe#VS_VERSIONINFO:CompanyName"},
			{Kind: ingest.KindCopyright, Qualifier: "LegalCopyright", Value: "(c) ACME", Location: "/opt/win/scan.exe#VS_VERSIONINFO:LegalCopyright"},
		}},
		{"elf note", synthetic(pkg.BinaryPkg, "libfoo", "/usr/lib/libfoo.so.1", pkg.ELFBinaryPackageNoteJSONPayload{Vendor: "ACME", SourceRepo: "https://git.acme.example/foo"}), []ingest.Field{
			{Kind: ingest.KindSupplier, Qualifier: "vendor", Value: "ACME", Location: "/usr/lib/libfoo.so.1#.note.package:vendor"},
			{Kind: ingest.KindURL, Qualifier: "vcs", Value: "https://git.acme.example/foo", Location: "/usr/lib/libfoo.so.1#.note.package:sourceRepo"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := component(tc.p)
			for _, w := range tc.want {
				if !slices.Contains(c.Fields, w) {
					t.Errorf("missing %+v\nhave %+v", w, c.Fields)
				}
			}
			for _, f := range c.Fields {
				if f.Value == "x.Main" || f.Value == "1.0" && f.Kind != ingest.KindVersion {
					t.Errorf("unexpected field %+v", f)
				}
			}
		})
	}
}

func TestBracketedEmails(t *testing.T) {
	for in, want := range map[string][]string{
		"Jane Doe <jane@example.com> (https://example.com)": {"jane@example.com"},
		"A <a@x.org>, B <b@y.org>":                          {"a@x.org", "b@y.org"},
		"no mail <here>":                                    nil,
		"<broken":                                           nil,
		"<<a@b.c>":                                          {"a@b.c"},
		"AO Kaspersky Lab":                                  nil,
	} {
		if got := bracketedEmails(in); !slices.Equal(got, want) {
			t.Errorf("bracketedEmails(%q) = %q, want %q", in, got, want)
		}
	}
}
