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
