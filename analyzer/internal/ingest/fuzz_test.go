package ingest

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// The fuzz targets feed arbitrary bytes to Sniff and Decode. The invariant
// is that they return, without panicking: Sniff anything, Decode either a
// Document or a *DecodeError. Each Decode target is seeded with the
// hand-made inputs of its format and a few conformance-style variations;
// inputs found by fuzzing are kept under testdata/fuzz/<target>/.

// fuzzSeeds adds the testdata files with the given names to f.
func fuzzSeeds(f *testing.F, names ...string) {
	f.Helper()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		if len(data) > 10 {
			f.Add(data[:len(data)/2])
		}
	}
}

// fuzzDecode checks the invariant of Decode for one input.
func fuzzDecode(t *testing.T, data []byte) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	doc, err := Decode(ctx, "fuzz", bytes.NewReader(data), Options{MaxBytes: 4 << 20})
	if err != nil {
		var de *DecodeError
		if !errors.As(err, &de) {
			t.Fatalf("error is %T, not *DecodeError: %v", err, err)
		}
		if de.Name != "fuzz" {
			t.Fatalf("DecodeError.Name = %q", de.Name)
		}
		return
	}
	if doc == nil {
		t.Fatal("Decode returned neither a Document nor an error")
	}
	for _, c := range doc.Components {
		for _, fl := range c.Fields {
			if isBlank(fl.Value) {
				t.Fatalf("blank field %+v", fl)
			}
		}
	}
}

// FuzzSniff checks that Sniff accepts any input.
func FuzzSniff(f *testing.F) {
	for _, in := range goldenInputs {
		fuzzSeeds(f, in.file)
	}
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00})
	f.Fuzz(func(t *testing.T, head []byte) {
		format, ok := Sniff(head)
		if ok == (format == "") {
			t.Fatalf("Sniff = %q, %v", format, ok)
		}
	})
}

// FuzzDecodeCycloneDXJSON fuzzes Decode with CycloneDX JSON seeds.
func FuzzDecodeCycloneDXJSON(f *testing.F) {
	fuzzSeeds(f, "cyclonedx-1.6.json")
	f.Add(deepCycloneDX(false, 300))
	f.Add([]byte(`{"bomFormat":"CycloneDX","specVersion":"1.4","components":[null,{"name":"x","components":[{}]}]}`))
	f.Fuzz(fuzzDecode)
}

// FuzzDecodeCycloneDXXML fuzzes Decode with CycloneDX XML seeds.
func FuzzDecodeCycloneDXXML(f *testing.F) {
	fuzzSeeds(f, "cyclonedx-1.5.xml")
	f.Add(deepCycloneDX(true, 300))
	f.Add([]byte(`<bom xmlns="http://cyclonedx.org/schema/bom/1.7"><components><component><licenses><expression-detailed expression="MIT"/></licenses></component></components></bom>`))
	f.Fuzz(fuzzDecode)
}

// FuzzDecodeSPDXJSON fuzzes Decode with SPDX JSON seeds.
func FuzzDecodeSPDXJSON(f *testing.F) {
	fuzzSeeds(f, "spdx-2.3.json")
	f.Add([]byte(`{"spdxVersion":"SPDX-2.2","packages":[null]}`))
	f.Fuzz(fuzzDecode)
}

// FuzzDecodeSPDXTagValue fuzzes Decode with SPDX tag-value seeds.
func FuzzDecodeSPDXTagValue(f *testing.F) {
	fuzzSeeds(f, "spdx-2.2.spdx")
	f.Add([]byte("SPDXVersion: SPDX-2.3\nPackageName: p\nSnippetSPDXID: SPDXRef-s\nPackageCopyrightText: <text>a\nb</text>\n"))
	f.Fuzz(fuzzDecode)
}

// FuzzDecodeSyftJSON fuzzes Decode with Syft JSON seeds.
func FuzzDecodeSyftJSON(f *testing.F) {
	fuzzSeeds(f, "syft.json")
	f.Fuzz(fuzzDecode)
}
