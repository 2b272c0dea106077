package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/oemtrace/oemtrace/internal/testutil"
)

// update rewrites the golden files (go test -update). The flag itself is
// registered by testutil, which this package's tests import; registering
// "update" a second time here would panic.
var update = testutil.Update

// goldenInputs are the hand-made inputs under testdata/ and their formats.
var goldenInputs = []struct {
	file   string
	format Format
}{
	{"cyclonedx-1.6.json", CycloneDXJSON},
	{"cyclonedx-1.5.xml", CycloneDXXML},
	{"spdx-2.3.json", SPDXJSON},
	{"spdx-2.2.spdx", SPDXTagValue},
	{"syft.json", SyftJSON},
}

// TestDecodeGolden decodes each hand-made input and compares the Document
// with testdata/<input>.golden.
func TestDecodeGolden(t *testing.T) {
	for _, in := range goldenInputs {
		t.Run(in.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", in.file))
			if err != nil {
				t.Fatal(err)
			}
			if f, ok := Sniff(data); !ok || f != in.format {
				t.Errorf("Sniff = %q, %v; want %q, true", f, ok, in.format)
			}
			got, err := Decode(context.Background(), in.file, bytes.NewReader(data), Options{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			golden := filepath.Join("testdata", in.file+".golden")
			if *update {
				out, err := json.MarshalIndent(got, "", "  ")
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			raw, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("reading golden file (run with -update to create it): %v", err)
			}
			var want Document
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(&want, got); diff != "" {
				t.Errorf("Decode(%s) mismatch (-want +got), run with -update if intended:\n%s", in.file, diff)
			}
		})
	}
}

// TestStrictTolerantAgree checks, on the hand-made inputs, that the strict
// and the tolerant CycloneDX decoders produce the same Components (the
// conformance suite checks the same on hundreds of files).
func TestStrictTolerantAgree(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		file     string
		strict   func(context.Context, []byte, string) (*Document, error)
		tolerant func(context.Context, string, []byte) (*Document, error)
	}{
		{"cyclonedx-1.6.json", decodeCDXJSONStrict, decodeCDXJSONTolerant},
		{"cyclonedx-1.5.xml", decodeCDXXMLStrict, decodeCDXXMLTolerant},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			strict, err := tc.strict(ctx, data, "")
			if err != nil {
				t.Fatalf("strict: %v", err)
			}
			tolerant, err := tc.tolerant(ctx, tc.file, data)
			if err != nil {
				t.Fatalf("tolerant: %v", err)
			}
			strict.SpecVersion, tolerant.SpecVersion = "", ""
			if diff := cmp.Diff(strict, tolerant); diff != "" {
				t.Errorf("strict and tolerant decoders differ (-strict +tolerant):\n%s", diff)
			}
		})
	}
}
