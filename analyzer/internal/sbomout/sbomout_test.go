package sbomout

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/anchore/syft/syft/sbom"
	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"
	"github.com/spdx/tools-golang/spdxlib"

	"github.com/oemtrace/oemtrace/analyzer/internal/inventory"
	"github.com/oemtrace/oemtrace/analyzer/report"
)

// outputCase is one format and version under test.
type outputCase struct {
	golden  string // file name in testdata/
	format  Format
	version string // CycloneDX version
}

var outputCases = []outputCase{
	{"cyclonedx-1.6.json", CycloneDXJSON, "1.6"},
	{"cyclonedx-1.7.json", CycloneDXJSON, "1.7"},
	{"cyclonedx-1.6.xml", CycloneDXXML, "1.6"},
	{"cyclonedx-1.7.xml", CycloneDXXML, "1.7"},
	{"spdx-2.3.json", SPDXJSON, ""},
}

// encode writes s and rep in format f.
func encode(t *testing.T, f Format, version string, s *sbom.SBOM, rep *report.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f, s, rep, Options{CycloneDXVersion: version}); err != nil {
		t.Fatalf("Write %s %s: %v", f, version, err)
	}
	return buf.Bytes()
}

// findings returns the package finding and the folder finding of testReport.
func findings(t *testing.T, rep *report.Report) (pkg, dir report.Finding) {
	t.Helper()
	for _, f := range rep.Findings {
		switch {
		case f.Subject.Ref != "":
			pkg = f
		case f.Subject.Name == "/opt/netwarden":
			dir = f
		}
	}
	if pkg.ID == "" || dir.ID == "" {
		t.Fatalf("test report lacks a finding: %+v", rep.Findings)
	}
	return pkg, dir
}

func TestFormats(t *testing.T) {
	for _, f := range Formats() {
		got, err := ParseFormat(string(f))
		if err != nil || got != f {
			t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
		}
	}
	if _, err := ParseFormat("spdx-tag-value"); err == nil {
		t.Error("ParseFormat accepted an unsupported format")
	}
}

func TestCycloneDXJSON(t *testing.T) {
	inv := webui(t)
	rep := testReport(t, inv)
	for _, v := range []string{"1.6", "1.7"} {
		t.Run(v, func(t *testing.T) {
			out := encode(t, CycloneDXJSON, v, inv.SBOM, rep)
			validateCycloneDX(t, v, out)
			if bytes.Contains(out, []byte(`\u003c`)) || !bytes.Contains(out, []byte(`avp.klb<&>`)) {
				t.Error("JSON output escapes HTML characters")
			}
			var bom cdx.BOM
			if err := cdx.NewBOMDecoder(bytes.NewReader(out), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
				t.Fatalf("cyclonedx-go cannot decode the output: %v", err)
			}
			if bom.SpecVersion.String() != v {
				t.Errorf("specVersion = %s, want %s", bom.SpecVersion, v)
			}
			checkCycloneDX(t, &bom, inv, rep, true)
		})
	}
}

func TestCycloneDXXML(t *testing.T) {
	inv := webui(t)
	rep := testReport(t, inv)
	for _, v := range []string{"1.6", "1.7"} {
		t.Run(v, func(t *testing.T) {
			out := encode(t, CycloneDXXML, v, inv.SBOM, rep)
			checkWellFormed(t, out, "http://cyclonedx.org/schema/bom/"+v)
			var bom cdx.BOM
			if err := cdx.NewBOMDecoder(bytes.NewReader(out), cdx.BOMFileFormatXML).Decode(&bom); err != nil {
				t.Fatalf("cyclonedx-go cannot decode the output: %v", err)
			}
			if bom.SpecVersion.String() != v {
				t.Errorf("specVersion = %s, want %s", bom.SpecVersion, v)
			}
			// cyclonedx-go reads occurrence details as attributes, where
			// the XML schema (and this package) puts child elements, so
			// they are checked in the text instead.
			checkCycloneDX(t, &bom, inv, rep, false)
			for _, want := range []string{
				"<offset>6699</offset>",
				"<offset>0</offset>",
				"<symbol>kav_engine_init</symbol>",
				"<location>tar:/opt/netwarden/bases.tar:/opt/netwarden/bases/avp.klb</location>",
				"<additionalContext>rule=KL-ENGINE-KAVCORE; kind=content; field=string; value=&#34;Kaspersky Anti-Virus Engine&#34;",
			} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("XML output lacks %s", want)
				}
			}
			for _, bad := range []string{` offset="`, ` symbol="`, ` additionalContext="`, ` line="`} {
				if bytes.Contains(out, []byte(bad)) {
					t.Errorf("XML output has the attribute%s…, not valid in the CycloneDX XML schema", bad)
				}
			}
		})
	}
}

// checkWellFormed parses doc completely and checks that its root is a bom
// element in namespace ns.
func checkWellFormed(t *testing.T, doc []byte, ns string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(doc))
	root := true
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("XML output is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && root {
			root = false
			if se.Name.Local != "bom" || se.Name.Space != ns {
				t.Errorf("root element is {%s}%s, want {%s}bom", se.Name.Space, se.Name.Local, ns)
			}
		}
	}
	if root {
		t.Fatal("XML output has no root element")
	}
}

// property returns the values of the properties named name.
func property(props *[]cdx.Property, name string) []string {
	var vs []string
	if props != nil {
		for _, p := range *props {
			if p.Name == name {
				vs = append(vs, p.Value)
			}
		}
	}
	return vs
}

// wantProperty checks that props holds exactly one property name=value.
func wantProperty(t *testing.T, where string, props *[]cdx.Property, name, value string) {
	t.Helper()
	if got := property(props, name); len(got) != 1 || got[0] != value {
		t.Errorf("%s: property %s = %q, want [%q]", where, name, got, value)
	}
}

// checkCycloneDX checks what Write must put into a CycloneDX BOM of the
// webui tree and testReport. occDetail says whether occurrence offsets and
// symbols survived decoding.
func checkCycloneDX(t *testing.T, bom *cdx.BOM, inv *inventory.Result, rep *report.Report, occDetail bool) {
	t.Helper()
	pkgF, dirF := findings(t, rep)
	if bom.SerialNumber == "" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
		t.Errorf("serialNumber = %q", bom.SerialNumber)
	}

	// Metadata: tool, verdict, signature set, policy, gap.
	md := bom.Metadata
	if md == nil {
		t.Fatal("no metadata")
	}
	if md.Timestamp != "2025-01-02T03:04:05Z" {
		t.Errorf("timestamp = %q, want the report time", md.Timestamp)
	}
	foundTool := false
	if md.Tools != nil && md.Tools.Components != nil {
		for _, c := range *md.Tools.Components {
			foundTool = foundTool || (c.Name == "oemtrace" && c.Version == "0.1.0-test" && c.BOMRef == toolRef)
		}
	}
	if !foundTool {
		t.Error("metadata.tools lacks oemtrace 0.1.0-test")
	}
	wantProperty(t, "metadata", md.Properties, "oemtrace:verdict", "tainted")
	wantProperty(t, "metadata", md.Properties, "oemtrace:signatures:version", rep.Signatures.Version)
	wantProperty(t, "metadata", md.Properties, "oemtrace:signatures:digest", rep.Signatures.Digest)
	wantProperty(t, "metadata", md.Properties, "oemtrace:policy:fail-on", "component")
	wantProperty(t, "metadata", md.Properties, "oemtrace:gap", "webui.tar.gz:/usr/share/netwarden-ui/broken.zip: archive is truncated")
	if md.Component == nil || md.Component.Name != testInput {
		t.Errorf("metadata.component = %+v, want it named after the input", md.Component)
	}
	if bom.Compositions == nil || len(*bom.Compositions) != 1 || (*bom.Compositions)[0].Aggregate != cdx.CompositionAggregateIncomplete {
		t.Errorf("compositions = %+v, want one incomplete aggregate", bom.Compositions)
	}

	if bom.Components == nil {
		t.Fatal("no components")
	}
	comps := *bom.Components
	byRef := map[string]*cdx.Component{}
	for i := range comps {
		byRef[comps[i].BOMRef] = &comps[i]
	}

	// Every Syft package is a component, with purl and CPE; only the
	// package of the package finding carries oemtrace evidence.
	var hexa *cdx.Component
	for _, ic := range inv.Components {
		var c *cdx.Component
		for i := range comps {
			if strings.HasSuffix(comps[i].BOMRef, "package-id="+ic.Ref) {
				c = &comps[i]
			}
		}
		if c == nil {
			t.Errorf("no component for Syft package %s (%s)", ic.Name, ic.Ref)
			continue
		}
		if c.Name != ic.Name || c.Version != ic.Version || c.PackageURL != ic.PURL || c.CPE == "" {
			t.Errorf("component %s: name %q version %q purl %q cpe %q, want %q %q %q and a CPE", c.BOMRef, c.Name, c.Version, c.PackageURL, c.CPE, ic.Name, ic.Version, ic.PURL)
		}
		if ic.Ref == pkgF.Subject.Ref {
			hexa = c
		} else if c.Evidence != nil || len(property(c.Properties, "oemtrace:finding:id")) != 0 {
			t.Errorf("component %s has oemtrace evidence but no finding", c.BOMRef)
		}
	}
	if hexa == nil {
		t.Fatal("no component for the package finding")
	}
	if hexa.Licenses == nil || len(*hexa.Licenses) == 0 || (*hexa.Licenses)[0].License == nil || (*hexa.Licenses)[0].License.ID != "Apache-2.0" {
		t.Errorf("%s: licenses = %+v, want Apache-2.0 from package.json", hexaName, hexa.Licenses)
	}
	checkFindingProperties(t, hexa, pkgF)
	ids := identities(t, hexa)
	if len(ids) != 1 {
		t.Fatalf("%s: %d identities, want 1", hexaName, len(ids))
	}
	id := ids[0]
	if id.Field != cdx.EvidenceIdentityFieldTypePURL || id.ConcludedValue != pkgF.Subject.PURL || id.Confidence == nil || *id.Confidence != 1 {
		t.Errorf("%s: identity = field %q value %q confidence %v, want purl %q 1.0", hexaName, id.Field, id.ConcludedValue, id.Confidence, pkgF.Subject.PURL)
	}
	if id.Methods == nil || len(*id.Methods) != 2 {
		t.Fatalf("%s: methods = %+v, want 2", hexaName, id.Methods)
	}
	for _, m := range *id.Methods {
		if m.Technique != cdx.EvidenceIdentityTechniqueManifestAnalysis || m.Confidence == nil || *m.Confidence != 1 {
			t.Errorf("%s: method %+v, want manifest-analysis with confidence 1", hexaName, m)
		}
	}
	if id.Tools == nil || len(*id.Tools) != 1 || (*id.Tools)[0] != toolRef {
		t.Errorf("%s: identity tools = %v, want [%s]", hexaName, id.Tools, toolRef)
	}
	occs := occurrences(t, hexa)
	if len(occs) != 2 {
		t.Fatalf("%s: %d occurrences, want 2", hexaName, len(occs))
	}
	for _, o := range occs {
		if o.Location != pkgF.Subject.Location+"#name" || o.Offset != nil {
			t.Errorf("%s: occurrence %+v, want location %s#name without offset", hexaName, o, pkgF.Subject.Location)
		}
	}

	// The folder finding is a component of its own.
	dir := byRef["oemtrace:"+dirF.ID]
	if dir == nil {
		t.Fatalf("no component oemtrace:%s", dirF.ID)
	}
	if dir.Type != cdx.ComponentTypeLibrary || dir.Name != "/opt/netwarden" {
		t.Errorf("folder component: type %q name %q, want library /opt/netwarden", dir.Type, dir.Name)
	}
	checkFindingProperties(t, dir, dirF)
	ids = identities(t, dir)
	if len(ids) != 1 || ids[0].Field != cdx.EvidenceIdentityFieldTypeName || ids[0].ConcludedValue != "/opt/netwarden" ||
		ids[0].Confidence == nil || *ids[0].Confidence != 0.7 {
		t.Errorf("folder identity = %+v, want name /opt/netwarden at 0.7", ids)
	} else {
		for _, m := range *ids[0].Methods {
			if m.Technique != cdx.EvidenceIdentityTechniqueBinaryAnalysis {
				t.Errorf("folder method %+v, want binary-analysis", m)
			}
		}
	}
	occs = occurrences(t, dir)
	if len(occs) != 3 {
		t.Fatalf("folder: %d occurrences, want 3", len(occs))
	}
	if !occDetail {
		// Only the locations survive decoding.
		want := map[string]int{"/opt/netwarden/lib/libnwscan.so.8": 2, "tar:/opt/netwarden/bases.tar:/opt/netwarden/bases/avp.klb": 1}
		for _, o := range occs {
			want[o.Location]--
		}
		for loc, n := range want {
			if n != 0 {
				t.Errorf("folder occurrences at %s: %d more than expected", loc, -n)
			}
		}
		return
	}
	var offsetOK, symbolOK, chainOK bool
	for _, o := range occs {
		switch o.Location {
		case "/opt/netwarden/lib/libnwscan.so.8":
			if !strings.Contains(o.AdditionalContext, "sha256="+testEngineSHA256) {
				t.Errorf("occurrence %+v lacks the file digest", o)
			}
			if strings.Contains(o.AdditionalContext, "length=27") {
				offsetOK = o.Offset != nil && *o.Offset == 0x1a2b
			}
			if strings.Contains(o.AdditionalContext, "field=symbol") {
				symbolOK = o.Symbol == "kav_engine_init" && o.Offset == nil
			}
		case "tar:/opt/netwarden/bases.tar:/opt/netwarden/bases/avp.klb":
			chainOK = o.Offset != nil && *o.Offset == 0 && strings.Contains(o.AdditionalContext, "length=10")
		default:
			t.Errorf("unexpected occurrence %+v", o)
		}
	}
	if !offsetOK || !symbolOK || !chainOK {
		t.Errorf("folder occurrences lack offset (%v), symbol (%v) or offset 0 in a container (%v): %+v", offsetOK, symbolOK, chainOK, occs)
	}
}

// checkFindingProperties checks the oemtrace:* properties of finding f on c.
func checkFindingProperties(t *testing.T, c *cdx.Component, f report.Finding) {
	t.Helper()
	wantProperty(t, c.BOMRef, c.Properties, "oemtrace:finding:id", f.ID)
	wantProperty(t, c.BOMRef, c.Properties, "oemtrace:class", string(f.Class))
	wantProperty(t, c.BOMRef, c.Properties, "oemtrace:confidence", string(f.Confidence))
	wantProperty(t, c.BOMRef, c.Properties, "oemtrace:rule", f.Rule)
	wantProperty(t, c.BOMRef, c.Properties, "oemtrace:blocking", "true")
}

// identities returns the identity evidence of c.
func identities(t *testing.T, c *cdx.Component) []cdx.EvidenceIdentity {
	t.Helper()
	if c.Evidence == nil || c.Evidence.Identity == nil || c.Evidence.Identity.Identities == nil {
		t.Fatalf("%s: no evidence.identity array", c.BOMRef)
	}
	return *c.Evidence.Identity.Identities
}

// occurrences returns the evidence occurrences of c.
func occurrences(t *testing.T, c *cdx.Component) []cdx.EvidenceOccurrence {
	t.Helper()
	if c.Evidence == nil || c.Evidence.Occurrences == nil {
		t.Fatalf("%s: no evidence.occurrences", c.BOMRef)
	}
	return *c.Evidence.Occurrences
}

func TestSPDXJSON(t *testing.T) {
	inv := webui(t)
	rep := testReport(t, inv)
	pkgF, dirF := findings(t, rep)
	out := encode(t, SPDXJSON, "", inv.SBOM, rep)
	validateSPDX(t, out)
	doc, err := spdxjson.Read(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("tools-golang cannot read the output: %v", err)
	}
	if err := spdxlib.ValidateDocument(doc); err != nil {
		t.Errorf("spdxlib: %v", err)
	}
	if doc.SPDXVersion != "SPDX-2.3" || doc.DocumentName != testInput {
		t.Errorf("spdxVersion %q name %q, want SPDX-2.3 %s", doc.SPDXVersion, doc.DocumentName, testInput)
	}
	hasCreator := false
	for _, c := range doc.CreationInfo.Creators {
		hasCreator = hasCreator || (c.CreatorType == "Tool" && c.Creator == "oemtrace-0.1.0-test")
	}
	if !hasCreator {
		t.Errorf("creators %v lack Tool: oemtrace-0.1.0-test", doc.CreationInfo.Creators)
	}
	if len(doc.Annotations) != 1 || !strings.HasPrefix(doc.Annotations[0].AnnotationComment, "oemtrace verdict: tainted;") ||
		!strings.Contains(doc.Annotations[0].AnnotationComment, "gap webui.tar.gz:/usr/share/netwarden-ui/broken.zip: archive is truncated") {
		t.Errorf("document annotations = %+v, want the verdict and the gap", doc.Annotations)
	}

	byID := map[common.ElementID]*spdx.Package{}
	for _, p := range doc.Packages {
		byID[p.PackageSPDXIdentifier] = p
	}
	var hexa *spdx.Package
	for _, ic := range inv.Components {
		var found *spdx.Package
		for _, p := range doc.Packages {
			if p.PackageName == ic.Name && p.PackageVersion == ic.Version && strings.HasSuffix(string(p.PackageSPDXIdentifier), ic.Ref) {
				found = p
			}
		}
		switch {
		case found == nil:
			t.Errorf("no SPDX package for Syft package %s (%s)", ic.Name, ic.Ref)
		case ic.Ref == pkgF.Subject.Ref:
			hexa = found
		case len(found.Annotations) != 0:
			t.Errorf("package %s has annotations but no finding", found.PackageSPDXIdentifier)
		}
	}
	if hexa == nil {
		t.Fatal("no SPDX package for the package finding")
	}
	checkAnnotation(t, hexa, pkgF, pkgF.Subject.Location+"#name")

	dir := byID[common.ElementID("oemtrace-"+dirF.ID)]
	if dir == nil {
		t.Fatalf("no package SPDXRef-oemtrace-%s", dirF.ID)
	}
	if dir.PackageName != "/opt/netwarden" || dir.PackageDownloadLocation != "NOASSERTION" || dir.FilesAnalyzed || dir.PrimaryPackagePurpose != "LIBRARY" {
		t.Errorf("folder package = %+v", dir)
	}
	checkAnnotation(t, dir, dirF, "webui.tar.gz:/opt/netwarden/lib/libnwscan.so.8@0x1a2b content/string KL-ENGINE-KAVCORE \"Kaspersky Anti-Virus Engine\"")
	contained := false
	for _, r := range doc.Relationships {
		contained = contained || (r.Relationship == "CONTAINS" && r.RefB.ElementRefID == dir.PackageSPDXIdentifier &&
			strings.HasPrefix(string(r.RefA.ElementRefID), "DocumentRoot-"))
	}
	if !contained {
		t.Error("the root package does not CONTAIN the folder package")
	}
}

// checkAnnotation checks that p has the one annotation of finding f and
// that it names the evidence in want.
func checkAnnotation(t *testing.T, p *spdx.Package, f report.Finding, want string) {
	t.Helper()
	if len(p.Annotations) != 1 {
		t.Fatalf("%s: %d annotations, want 1", p.PackageSPDXIdentifier, len(p.Annotations))
	}
	a := p.Annotations[0]
	prefix := "oemtrace finding " + f.ID + " " + string(f.Class) + " " + string(f.Confidence) + " " + f.Rule + ": " + f.Title + ";"
	if a.Annotator.Annotator != "oemtrace-0.1.0-test" || a.Annotator.AnnotatorType != "Tool" || a.AnnotationType != "OTHER" ||
		a.AnnotationDate != "2025-01-02T03:04:05Z" || !strings.HasPrefix(a.AnnotationComment, prefix) || !strings.Contains(a.AnnotationComment, want) {
		t.Errorf("%s: annotation = %+v\nwant comment %q… containing %q", p.PackageSPDXIdentifier, a, prefix, want)
	}
}

// TestNilSBOM writes only oemtrace's own components when there is no Syft
// SBOM.
func TestNilSBOM(t *testing.T) {
	inv := webui(t)
	rep := testReport(t, inv)
	for _, c := range outputCases {
		t.Run(c.golden, func(t *testing.T) {
			out := encode(t, c.format, c.version, nil, rep)
			switch c.format {
			case CycloneDXJSON:
				validateCycloneDX(t, c.version, out)
				var bom cdx.BOM
				if err := cdx.NewBOMDecoder(bytes.NewReader(out), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
					t.Fatal(err)
				}
				if bom.Components == nil || len(*bom.Components) != len(rep.Findings) {
					t.Fatalf("components = %+v, want one per finding", bom.Components)
				}
				for _, comp := range *bom.Components {
					if !strings.HasPrefix(comp.BOMRef, "oemtrace:OT-") || comp.Evidence == nil {
						t.Errorf("component %+v is not an oemtrace finding", comp)
					}
				}
				wantProperty(t, "metadata", bom.Metadata.Properties, "oemtrace:verdict", "tainted")
			case CycloneDXXML:
				checkWellFormed(t, out, "http://cyclonedx.org/schema/bom/"+c.version)
			case SPDXJSON:
				validateSPDX(t, out)
				doc, err := spdxjson.Read(bytes.NewReader(out))
				if err != nil {
					t.Fatal(err)
				}
				if err := spdxlib.ValidateDocument(doc); err != nil {
					t.Error(err)
				}
				if len(doc.Packages) != len(rep.Findings) {
					t.Errorf("%d packages, want one per finding", len(doc.Packages))
				}
				described, err := spdxlib.GetDescribedPackageIDs(doc)
				if err != nil || len(described) != len(rep.Findings) {
					t.Errorf("described packages = %v, %v; want one per finding", described, err)
				}
			}
		})
	}
}

// TestWriteDoesNotModifyInputs checks that neither the SBOM nor the report
// changes when written.
func TestWriteDoesNotModifyInputs(t *testing.T) {
	inv := webui(t)
	rep := testReport(t, inv)
	var before, after bytes.Buffer
	if err := report.WriteJSON(&before, rep); err != nil {
		t.Fatal(err)
	}
	name := inv.SBOM.Source.Name
	for _, c := range outputCases {
		encode(t, c.format, c.version, inv.SBOM, rep)
	}
	if err := report.WriteJSON(&after, rep); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before.Bytes(), after.Bytes()) {
		t.Error("Write modified the report")
	}
	if inv.SBOM.Source.Name != name {
		t.Errorf("Write renamed the SBOM source from %q to %q", name, inv.SBOM.Source.Name)
	}
}

// failWriter fails every write.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return 0, errors.New("disk full")
}

func TestWriteErrors(t *testing.T) {
	rep := &report.Report{Tool: report.Tool{Name: "oemtrace", Version: "0"}}
	rep.Finish()
	var buf bytes.Buffer
	for _, tc := range []struct {
		name string
		f    Format
		rep  *report.Report
		opts Options
		want string
	}{
		{"unknown format", "cyclonedx-protobuf", rep, Options{}, "unknown format"},
		{"old CycloneDX", CycloneDXJSON, rep, Options{CycloneDXVersion: "1.5"}, `unsupported CycloneDX version "1.5"`},
		{"no report", SPDXJSON, nil, Options{}, "no report"},
	} {
		buf.Reset()
		err := Write(&buf, tc.f, nil, tc.rep, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want %q", tc.name, err, tc.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written despite the error", tc.name, buf.Len())
		}
	}
	w := &failWriter{}
	if err := Write(w, CycloneDXJSON, nil, rep, Options{}); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("failing writer: err = %v", err)
	}
}
