package sbomout

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/go-cmp/cmp"
	"github.com/oemtrace/oemtrace/internal/testutil"
)

// Fields that differ between runs by design, blanked before comparing.
var (
	jsonSerial    = regexp.MustCompile(`"serialNumber": "urn:uuid:[0-9a-f-]{36}"`)
	jsonTimestamp = regexp.MustCompile(`"timestamp": "[^"]*"`)
	xmlSerial     = regexp.MustCompile(`serialNumber="urn:uuid:[0-9a-f-]{36}"`)
	xmlTimestamp  = regexp.MustCompile(`<timestamp>[^<]*</timestamp>`)
	spdxNamespace = regexp.MustCompile(`"documentNamespace": "[^"]*"`)
	spdxCreated   = regexp.MustCompile(`"created": "[^"]*"`)
)

// normalize blanks what must differ between two runs on the same input:
// the serial number and timestamp of a CycloneDX BOM, the namespace and
// creation time of an SPDX document, and Syft's id for the scanned
// directory, a digest of its (temporary) path.
func normalize(t *testing.T, f Format, doc []byte) []byte {
	t.Helper()
	switch f {
	case CycloneDXJSON, CycloneDXXML:
		ff := cdx.BOMFileFormatJSON
		if f == CycloneDXXML {
			ff = cdx.BOMFileFormatXML
		}
		var bom cdx.BOM
		if err := cdx.NewBOMDecoder(bytes.NewReader(doc), ff).Decode(&bom); err != nil {
			t.Fatal(err)
		}
		if bom.Metadata != nil && bom.Metadata.Component != nil && bom.Metadata.Component.BOMRef != "" {
			doc = bytes.ReplaceAll(doc, []byte(bom.Metadata.Component.BOMRef), []byte("SOURCE-ID"))
		}
		if f == CycloneDXJSON {
			doc = jsonSerial.ReplaceAll(doc, []byte(`"serialNumber": "urn:uuid:SERIAL"`))
			return jsonTimestamp.ReplaceAll(doc, []byte(`"timestamp": "TIME"`))
		}
		doc = xmlSerial.ReplaceAll(doc, []byte(`serialNumber="urn:uuid:SERIAL"`))
		return xmlTimestamp.ReplaceAll(doc, []byte(`<timestamp>TIME</timestamp>`))
	case SPDXJSON:
		doc = spdxNamespace.ReplaceAll(doc, []byte(`"documentNamespace": "NAMESPACE"`))
		return spdxCreated.ReplaceAll(doc, []byte(`"created": "TIME"`))
	}
	t.Fatalf("no normalization for %s", f)
	return nil
}

// TestDeterministic writes every format twice from the same inputs: the
// outputs are equal once the per-document fields are blanked, and those
// fields do differ where they must be unique.
func TestDeterministic(t *testing.T) {
	inv := webui(t)
	rep := testReport(t, inv)
	for _, c := range outputCases {
		t.Run(c.golden, func(t *testing.T) {
			a := encode(t, c.format, c.version, inv.SBOM, rep)
			b := encode(t, c.format, c.version, inv.SBOM, rep)
			if bytes.Equal(a, b) {
				t.Error("two documents are byte-identical: the serial number or namespace is not unique")
			}
			na, nb := normalize(t, c.format, a), normalize(t, c.format, b)
			if diff := cmp.Diff(string(na), string(nb)); diff != "" {
				t.Errorf("output differs between runs (-first +second):\n%s", diff)
			}
		})
	}
}

// TestGolden compares the normalized output with testdata/<case>; run
// "go test ./analyzer/internal/sbomout/ -run TestGolden -update" to rewrite
// the files after an intended change.
func TestGolden(t *testing.T) {
	inv := webui(t)
	rep := testReport(t, inv)
	for _, c := range outputCases {
		t.Run(c.golden, func(t *testing.T) {
			got := normalize(t, c.format, encode(t, c.format, c.version, inv.SBOM, rep))
			path := filepath.Join("testdata", c.golden)
			if *testutil.Update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s differs (-want +got); run with -update if the change is intended:\n%s", path, diff)
			}
			if c.format != CycloneDXXML && !json.Valid(got) {
				t.Errorf("%s: normalized output is not JSON", path)
			}
		})
	}
}
