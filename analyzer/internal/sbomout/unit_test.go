package sbomout

import (
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"

	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

func TestFixXMLOccurrences(t *testing.T) {
	in := `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6">
  <components>
    <component type="library">
      <evidence>
        <occurrences>
          <occurrence bom-ref="o1" offset="12" symbol="a&lt;b" additionalContext="x=&#34;y&#34;">
            <location>/lib/x.so</location>
          </occurrence>
          <occurrence>
            <location>/lib/y.so</location>
          </occurrence>
        </occurrences>
      </evidence>
      <properties><property name="offset">1</property></properties>
    </component>
  </components>
</bom>
`
	want := `<?xml version="1.0" encoding="UTF-8"?>
<bom xmlns="http://cyclonedx.org/schema/bom/1.6">
  <components>
    <component type="library">
      <evidence>
        <occurrences>
          <occurrence bom-ref="o1">
            <location>/lib/x.so</location>
            <offset>12</offset>
            <symbol>a&lt;b</symbol>
            <additionalContext>x=&#34;y&#34;</additionalContext>
          </occurrence>
          <occurrence>
            <location>/lib/y.so</location>
          </occurrence>
        </occurrences>
      </evidence>
      <properties><property name="offset">1</property></properties>
    </component>
  </components>
</bom>
`
	got, err := fixXMLOccurrences([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := fixXMLOccurrences([]byte(`<bom><occurrences>`)); err == nil {
		t.Error("truncated XML accepted")
	}
}

func TestUnescapeHTML(t *testing.T) {
	for in, want := range map[string]string{
		`{"a": "x\u003cy\u003e\u0026z"}`: `{"a": "x<y>&z"}`,
		`{"a": "x\\u003cy"}`:             `{"a": "x\\u003cy"}`,
		`{"a": "x\"\u003c"}`:             `{"a": "x\"<"}`,
		`{"a": "\u00e9\u2028"}`:          `{"a": "\u00e9\u2028"}`,
		`{"a\u0026": 1}`:                 `{"a&": 1}`,
		`{"a": "plain"}`:                 `{"a": "plain"}`,
	} {
		if got := string(unescapeHTML([]byte(in))); got != want {
			t.Errorf("unescapeHTML(%s) = %s, want %s", in, got, want)
		}
	}
}

func TestSubjectKindAndTypes(t *testing.T) {
	ev := func(kind, field, path string) report.Evidence {
		return report.Evidence{Kind: kind, Field: field, Location: report.Location{Path: path}}
	}
	for _, tc := range []struct {
		name    string
		f       report.Finding
		kind    subjectKind
		cdxType cdx.ComponentType
		purpose string
	}{
		{"folder", report.Finding{Class: signatures.ClassEngine, Subject: report.Subject{Name: "/opt/nw"},
			Evidence: []report.Evidence{ev("content", "string", "/opt/nw/lib/a.so"), ev("identity", "supplier", "/opt/nw/a.exe#VERSIONINFO/CompanyName")}},
			subjectFolder, cdx.ComponentTypeLibrary, "LIBRARY"},
		{"file", report.Finding{Class: signatures.ClassService, Subject: report.Subject{Name: "/etc/nw.conf"},
			Evidence: []report.Evidence{ev("content", "string", "/etc/nw.conf")}},
			subjectFile, cdx.ComponentTypeFile, "FILE"},
		{"document component", report.Finding{Class: signatures.ClassComponent, Subject: report.Subject{Name: "kesl"},
			Evidence: []report.Evidence{ev("identity", "purl", "/components/3/purl")}},
			subjectComponent, cdx.ComponentTypeLibrary, "LIBRARY"},
		{"service folder", report.Finding{Class: signatures.ClassService, Subject: report.Subject{Name: "/opt/nw"},
			Evidence: []report.Evidence{ev("content", "string", "/opt/nw/etc/update.cfg")}},
			subjectFolder, cdx.ComponentTypeApplication, "APPLICATION"},
		{"mention", report.Finding{Class: signatures.ClassMention, Subject: report.Subject{Name: "/opt/nw"},
			Evidence: []report.Evidence{ev("content", "string", "/opt/nw/share/names.txt")}},
			subjectFolder, cdx.ComponentTypeData, "OTHER"},
	} {
		k := kindOf(tc.f)
		if k != tc.kind {
			t.Errorf("%s: kind %d, want %d", tc.name, k, tc.kind)
		}
		if got := componentType(tc.f.Class, k); got != tc.cdxType {
			t.Errorf("%s: CycloneDX type %s, want %s", tc.name, got, tc.cdxType)
		}
		if got := packagePurpose(tc.f.Class, k); got != tc.purpose {
			t.Errorf("%s: SPDX purpose %s, want %s", tc.name, got, tc.purpose)
		}
	}
}

func TestTechniqueAndConfidence(t *testing.T) {
	for _, tc := range []struct {
		kind, field string
		want        cdx.EvidenceIdentityTechnique
	}{
		{"content", "string", cdx.EvidenceIdentityTechniqueBinaryAnalysis},
		{"content", "symbol", cdx.EvidenceIdentityTechniqueBinaryAnalysis},
		{"content", "path", cdx.EvidenceIdentityTechniqueFilename},
		{"identity", "supplier", cdx.EvidenceIdentityTechniqueManifestAnalysis},
		{"identity", "purl", cdx.EvidenceIdentityTechniqueManifestAnalysis},
		{"identity", "hash", cdx.EvidenceIdentityTechniqueHashComparison},
	} {
		if got := technique(report.Evidence{Kind: tc.kind, Field: tc.field}); got != tc.want {
			t.Errorf("technique(%s/%s) = %s, want %s", tc.kind, tc.field, got, tc.want)
		}
	}
	for c, want := range map[report.Confidence]float32{signatures.High: 1, signatures.Medium: 0.7, signatures.Low: 0.4} {
		if got := confidenceScore(c); got != want {
			t.Errorf("confidenceScore(%s) = %v, want %v", c, got, want)
		}
	}
}

func TestLocationText(t *testing.T) {
	for _, tc := range []struct {
		l    report.Location
		want string
	}{
		{report.Location{Input: "fw.bin", Path: "/opt/x/a.so", Offset: 16, Length: 4}, "/opt/x/a.so"},
		{report.Location{Input: "fw.bin", Path: "/opt/x/a.so", Chain: []report.Layer{{Format: "squashfs", Offset: 0x40}, {Format: "tar", Path: "/b.tar"}}},
			"squashfs@0x40!tar:/b.tar:/opt/x/a.so"},
		{report.Location{Input: "fw.bin"}, "fw.bin"},
		{report.Location{}, "(unknown)"},
	} {
		if got := locationText(tc.l); got != tc.want {
			t.Errorf("locationText(%+v) = %q, want %q", tc.l, got, tc.want)
		}
	}
}
