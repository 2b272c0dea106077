package ingest

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// gz compresses data.
func gz(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// readTestdata reads a file under testdata/.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDecodeErrors checks that inputs that are no SBOM, of an unsupported
// version, or cut short are refused with a *DecodeError whose message
// names the input, what it looked like and where it failed.
func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	cdx := string(readTestdata(t, "cyclonedx-1.6.json"))
	cdxXML := string(readTestdata(t, "cyclonedx-1.5.xml"))
	spdxJSON := string(readTestdata(t, "spdx-2.3.json"))
	spdxTV := string(readTestdata(t, "spdx-2.2.spdx"))
	syft := string(readTestdata(t, "syft.json"))
	cut := func(s, marker string) string { return s[:strings.Index(s, marker)] }
	tests := []struct {
		name, file, input string
		want              string
		format            Format
	}{
		{
			name: "package.json", file: "x.json",
			input: `{"name": "left-pad", "version": "1.3.0", "scripts": {"test": "node test"}, "dependencies": {}}`,
			want:  `x.json: not an SBOM: JSON object has no "bomFormat", "spdxVersion" or "artifacts"+"schema" members`,
		},
		{
			name: "random JSON", file: "r.json", input: `{"a": [1, 2, {"b": null}], "c": true}`,
			want: `r.json: not an SBOM: JSON object has no "bomFormat", "spdxVersion" or "artifacts"+"schema" members`,
		},
		{
			name: "JSON array", file: "a.json", input: "\n  [1, 2]",
			want: `a.json: at line 2, column 3: not an SBOM: a JSON array, not an SBOM object`,
		},
		{
			name: "invalid JSON", file: "bad.json", input: `{"name" "x"}`,
			want: `bad.json: at line 1, column 9: not an SBOM: invalid JSON: expected ':' after member name`,
		},
		{
			name: "random XML", file: "pom.xml", input: `<?xml version="1.0"?><project><modelVersion>4.0.0</modelVersion></project>`,
			want: `pom.xml: not an SBOM: XML root element <project> is not a CycloneDX <bom>`,
		},
		{
			name: "XML bom in another namespace", file: "b.xml", input: `<bom xmlns="urn:other"/>`,
			want: `b.xml: at /bom: not an SBOM: XML root element <bom> is not in a CycloneDX namespace (xmlns "urn:other")`,
		},
		{name: "empty", file: "e.json", input: "", want: `e.json: not an SBOM: empty input`},
		{name: "blank", file: "e.json", input: " \n\t\n", want: `e.json: not an SBOM: empty input`},
		{
			name: "binary", file: "fw.bin", input: "\x7fELF\x02\x01\x01\x00\x00\x00",
			want: `fw.bin: at byte 7: not an SBOM: binary data, not text`,
		},
		{
			name: "plain text", file: "notes.txt", input: "hello world\nsecond line\n",
			want: `notes.txt: at line 1: not an SBOM: text that is not JSON, XML or SPDX tag-value (it starts "hello world")`,
		},
		{
			name: "CycloneDX 1.8", file: "bom.json", format: CycloneDXJSON,
			input: strings.Replace(cdx, `"specVersion": "1.6"`, `"specVersion": "1.8"`, 1),
			want:  `bom.json: looks like cyclonedx-json but at specVersion: unsupported version "1.8" (supported: 1.2 to 1.7)`,
		},
		{
			name: "CycloneDX 1.1", file: "bom.json", format: CycloneDXJSON,
			input: strings.Replace(cdx, `"specVersion": "1.6"`, `"specVersion": "1.1"`, 1),
			want:  `bom.json: looks like cyclonedx-json but at specVersion: unsupported version "1.1" (supported: 1.2 to 1.7)`,
		},
		{
			name: "CycloneDX without specVersion", file: "bom.json", format: CycloneDXJSON,
			input: `{"bomFormat": "CycloneDX", "components": []}`,
			want:  `bom.json: looks like cyclonedx-json but at specVersion: missing version (supported: 1.2 to 1.7)`,
		},
		{
			name: "CycloneDX XML 1.1", file: "bom.xml", format: CycloneDXXML,
			input: strings.Replace(cdxXML, "schema/bom/1.5", "schema/bom/1.1", 1),
			want:  `bom.xml: looks like cyclonedx-xml but at /bom/@xmlns: unsupported version "1.1" (supported: 1.2 to 1.7)`,
		},
		{
			name: "CycloneDX JSON truncated", file: "bom.json", format: CycloneDXJSON,
			input: cut(cdx, `"copyright"`),
			want:  `bom.json: looks like cyclonedx-json but at line 47, column 7: unexpected end of input`,
		},
		{
			name: "CycloneDX XML truncated", file: "bom.xml", format: CycloneDXXML,
			input: cut(cdxXML, "<copyright>"),
			want:  `bom.xml: looks like cyclonedx-xml but at line 33, column 7: unexpected end of input`,
		},
		{
			name: "CycloneDX name is a number", file: "bom.json", format: CycloneDXJSON,
			input: `{"bomFormat": "CycloneDX", "specVersion": "1.5", "components": [{"type": "library", "name": 42}]}`,
			want:  `bom.json: looks like cyclonedx-json but at /components/0/name: unexpected JSON number`,
		},
		{
			name: "SPDX 2.1 JSON", file: "doc.spdx.json", format: SPDXJSON,
			input: strings.Replace(spdxJSON, "SPDX-2.3", "SPDX-2.1", 1),
			want:  `doc.spdx.json: looks like spdx-json but at spdxVersion: unsupported version "SPDX-2.1" (supported: SPDX-2.2 and SPDX-2.3)`,
		},
		{
			name: "SPDX 3 JSON-LD", file: "doc.spdx3.json", format: SPDXJSON,
			input: `{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": [{"type": "CreationInfo"}]}`,
			want:  `doc.spdx3.json: looks like spdx-json but at @context: SPDX 3 JSON-LD is not supported (supported: SPDX-2.2 and SPDX-2.3)`,
		},
		{
			name: "SPDX JSON truncated", file: "doc.spdx.json", format: SPDXJSON,
			input: cut(spdxJSON, `"files"`),
			want:  `doc.spdx.json: looks like spdx-json but at line 48, column 3: unexpected end of input`,
		},
		{
			name: "SPDX 2.1 tag-value", file: "doc.spdx", format: SPDXTagValue,
			input: strings.Replace(spdxTV, "SPDX-2.2", "SPDX-2.1", 1),
			want:  `doc.spdx: looks like spdx-tag-value but at SPDXVersion (line 1): unsupported version "SPDX-2.1" (supported: SPDX-2.2 and SPDX-2.3)`,
		},
		{
			name: "SPDX tag-value truncated in text", file: "doc.spdx", format: SPDXTagValue,
			input: cut(spdxTV, "Engine Vendor Ltd</text>"),
			want:  `doc.spdx: looks like spdx-tag-value but at line 25: PackageCopyrightText: <text> is never closed by </text> (unexpected end of input)`,
		},
		{
			name: "SPDX tag-value line without colon", file: "doc.spdx", format: SPDXTagValue,
			input: strings.Replace(spdxTV, "FilesAnalyzed: true", "FilesAnalyzed true", 1),
			want:  `doc.spdx: looks like spdx-tag-value but at line 18: expected "Tag: value", got "FilesAnalyzed true"`,
		},
		{
			name: "Syft JSON truncated", file: "syft.json", format: SyftJSON,
			input: cut(syft, `"artifactRelationships"`),
			want:  `syft.json: looks like syft-json but at line 49, column 3: unexpected end of input`,
		},
		{
			name: "gzip inside gzip", file: "x.gz",
			input: string(gz(t, gz(t, []byte(cdx)))),
			want:  `x.gz: not an SBOM: gzip-compressed data inside gzip-compressed data`,
		},
		{
			name: "truncated gzip", file: "x.gz",
			input: string(gz(t, []byte(cdx))[:200]),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Decode(context.Background(), tc.file, strings.NewReader(tc.input), Options{})
			if err == nil {
				t.Fatalf("Decode succeeded (%d components), want an error", len(doc.Components))
			}
			var de *DecodeError
			if !errors.As(err, &de) {
				t.Fatalf("error is %T, not *DecodeError: %v", err, err)
			}
			if de.Name != tc.file {
				t.Errorf("DecodeError.Name = %q, want %q", de.Name, tc.file)
			}
			if de.Format != tc.format {
				t.Errorf("DecodeError.Format = %q, want %q", de.Format, tc.format)
			}
			if tc.want != "" {
				if diff := cmp.Diff(tc.want, err.Error()); diff != "" {
					t.Errorf("error message mismatch (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// TestDecodeGzip checks that gzip is decompressed transparently and that
// the decompressed size is bounded.
func TestDecodeGzip(t *testing.T) {
	t.Parallel()
	plain := readTestdata(t, "cyclonedx-1.6.json")
	want, err := Decode(context.Background(), "bom.json", bytes.NewReader(plain), Options{})
	if err != nil {
		t.Fatal(err)
	}
	compressed := gz(t, plain)
	if f, ok := Sniff(compressed[:min(len(compressed), 300)]); !ok || f != CycloneDXJSON {
		t.Errorf("Sniff(gzip head) = %q, %v; want %q, true", f, ok, CycloneDXJSON)
	}
	got, err := Decode(context.Background(), "bom.json.gz", bytes.NewReader(compressed), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("gzip-compressed input decodes differently (-plain +gzip):\n%s", diff)
	}
	bomb := gz(t, bytes.Repeat([]byte(" "), 1<<20))
	_, err = Decode(context.Background(), "bomb.gz", bytes.NewReader(bomb), Options{MaxBytes: 64 << 10})
	if err == nil || !strings.Contains(err.Error(), "decompressed input exceeds the limit of 65536 bytes") {
		t.Errorf("Decode(bomb) error = %v, want the decompressed size limit", err)
	}
	_, err = Decode(context.Background(), "big.json", bytes.NewReader(plain), Options{MaxBytes: 100})
	if err == nil || !strings.Contains(err.Error(), "big.json: input exceeds the limit of 100 bytes") {
		t.Errorf("Decode(big) error = %v, want the size limit", err)
	}
}

// TestDecodeCanceled checks that a canceled context stops Decode.
func TestDecodeCanceled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Decode(ctx, "bom.json", bytes.NewReader(readTestdata(t, "cyclonedx-1.6.json")), Options{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Decode error = %v, want context.Canceled", err)
	}
}

// TestDecodeNotes checks the notes that tell the user what the decoder had
// to do.
func TestDecodeNotes(t *testing.T) {
	t.Parallel()
	syft := strings.Replace(string(readTestdata(t, "syft.json")), `"version": "16.1.13"`, `"version": "15.0.0"`, 1)
	tests := []struct {
		name, input string
		want        []string
	}{
		{
			name:  "Syft schema 15",
			input: syft,
			want:  []string{`Syft JSON schema version "15.0.0" is not 16.x; the document was read on a best-effort basis`},
		},
		{
			name:  "SPDX null package",
			input: `{"spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "n", "creationInfo": {"creators": ["Tool: x"]}, "packages": [null, {"name": "p", "SPDXID": "SPDXRef-p"}]}`,
			want:  []string{"tools-golang refused the document (panic: runtime error: invalid memory address or nil pointer dereference); it was read with the tolerant decoder"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := Decode(context.Background(), "in", strings.NewReader(tc.input), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, doc.Notes); diff != "" {
				t.Errorf("Notes mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSniff checks format recognition on heads of inputs.
func TestSniff(t *testing.T) {
	t.Parallel()
	cdx := readTestdata(t, "cyclonedx-1.6.json")
	spdxJSON := readTestdata(t, "spdx-2.3.json")
	syft := readTestdata(t, "syft.json")
	tests := []struct {
		name   string
		head   []byte
		format Format
		ok     bool
	}{
		{"CycloneDX JSON", cdx, CycloneDXJSON, true},
		{"CycloneDX JSON head", cdx[:40], CycloneDXJSON, true},
		{"CycloneDX JSON with BOM", append([]byte("\xEF\xBB\xBF"), cdx...), CycloneDXJSON, true},
		{"CycloneDX XML", readTestdata(t, "cyclonedx-1.5.xml"), CycloneDXXML, true},
		{"SPDX JSON", spdxJSON, SPDXJSON, true},
		{"SPDX JSON, keys sorted, head", []byte(`{"SPDXID": "SPDXRef-DOCUMENT", "creationInfo": {"creators": []}, "dataLicense": "CC0-1.0", "packages": [{"name": "a"`), SPDXJSON, true},
		{"SPDX tag-value", readTestdata(t, "spdx-2.2.spdx"), SPDXTagValue, true},
		{"Syft JSON", syft, SyftJSON, true},
		{"Syft JSON head without schema", syft[:300], SyftJSON, true},
		{"SPDX 3", []byte(`{"@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": []}`), SPDXJSON, true},
		{"gzip CycloneDX", gz(t, cdx), CycloneDXJSON, true},
		{"package.json", []byte(`{"name": "x", "version": "1.0.0"}`), "", false},
		{"artifacts without schema", []byte(`{"artifacts": []}`), "", false},
		{"random XML", []byte(`<html><body/></html>`), "", false},
		{"empty", nil, "", false},
		{"binary", []byte{0x7f, 'E', 'L', 'F', 0, 0, 0}, "", false},
		{"text", []byte("just some words\n"), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, ok := Sniff(tc.head)
			if f != tc.format || ok != tc.ok {
				t.Errorf("Sniff = %q, %v; want %q, %v", f, ok, tc.format, tc.ok)
			}
		})
	}
}

// TestDecodeUnknownSize checks that an input whose size Decode cannot know
// in advance (read in chunks) decodes as the same bytes in memory do.
func TestDecodeUnknownSize(t *testing.T) {
	t.Parallel()
	data := deepCycloneDX(false, 5000) // a few hundred KiB: several chunks
	want, err := Decode(context.Background(), "deep.json", bytes.NewReader(data), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(context.Background(), "deep.json", iotest.HalfReader(bytes.NewReader(data)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("chunked read decodes differently (-known size +unknown size):\n%s", diff)
	}
	_, err = Decode(context.Background(), "deep.json", iotest.TimeoutReader(bytes.NewReader(data)), Options{})
	if err == nil || !strings.Contains(err.Error(), "deep.json: reading input after") {
		t.Errorf("Decode(failing reader) error = %v, want a read error", err)
	}
}
