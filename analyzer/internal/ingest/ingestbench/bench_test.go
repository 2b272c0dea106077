// Package ingestbench compares ingest's decoder with Syft's on the same
// generated SBOM. It lives apart from package ingest so that ingest's own
// test binary (and its fuzz builds) do not link Syft.
package ingestbench

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/anchore/syft/syft/format"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// benchComponents is the size of the generated benchmark SBOM.
const benchComponents = 200000

// writeBenchBOM writes a CycloneDX 1.6 JSON document with n components
// carrying realistic identity fields: supplier, purl, cpe, hashes, licences,
// external references and properties. Components come in groups of ten, a
// top-level component with three children with two children each, and the
// document lists each group's dependencies.
func writeBenchBOM(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprint(bw, `{
  "bomFormat": "CycloneDX",
  "specVersion": "1.6",
  "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
  "version": 1,
  "metadata": {
    "timestamp": "2025-01-01T00:00:00Z",
    "supplier": {"name": "Example Appliances GmbH", "url": ["https://appliances.example.com"]},
    "component": {"type": "firmware", "bom-ref": "firmware", "name": "gateway-firmware", "version": "4.2.0"}
  },
  "components": [`)
	id := 0
	component := func(indent string, last bool, children func()) {
		i := id
		id++
		vendor := fmt.Sprintf("vendor%d", i%300)
		group := fmt.Sprintf("org.example.g%d", i%500)
		name := fmt.Sprintf("artifact-%d", i)
		version := fmt.Sprintf("1.%d.%d", i%20, i%7)
		purl := fmt.Sprintf("pkg:maven/%s/%s@%s", group, name, version)
		s256 := sha256.Sum256([]byte(name))
		s1 := sha1.Sum([]byte(name))
		fmt.Fprintf(bw, `
%[1]s{
%[1]s  "type": "library",
%[1]s  "bom-ref": %[2]q,
%[1]s  "supplier": {"name": "Vendor %[3]d Inc.", "url": ["https://%[4]s.example.com"]},
%[1]s  "group": %[5]q,
%[1]s  "name": %[6]q,
%[1]s  "version": %[7]q,
%[1]s  "description": "Library %[6]s of %[5]s",
%[1]s  "scope": "required",
%[1]s  "hashes": [
%[1]s    {"alg": "SHA-256", "content": %[8]q},
%[1]s    {"alg": "SHA-1", "content": %[9]q}
%[1]s  ],
%[1]s  "licenses": [{"license": {"id": "Apache-2.0"}}],
%[1]s  "purl": %[2]q,
%[1]s  "cpe": "cpe:2.3:a:%[4]s:%[6]s:%[7]s:*:*:*:*:*:*:*",
%[1]s  "externalReferences": [
%[1]s    {"type": "website", "url": "https://%[4]s.example.com/%[6]s"},
%[1]s    {"type": "vcs", "url": "https://git.%[4]s.example.com/%[6]s.git"}
%[1]s  ],
%[1]s  "properties": [{"name": "syft:package:foundBy", "value": "java-archive-cataloger"}]`,
			indent, purl, i%300, vendor, group, name, version, hex.EncodeToString(s256[:]), hex.EncodeToString(s1[:]))
		if children != nil {
			fmt.Fprintf(bw, ",\n%s  \"components\": [", indent)
			children()
			fmt.Fprintf(bw, "\n%s  ]", indent)
		}
		fmt.Fprintf(bw, "\n%s}", indent)
		if !last {
			bw.WriteString(",")
		}
	}
	groups := n / 10
	for g := 0; g < groups; g++ {
		component("    ", g == groups-1, func() {
			for c := 0; c < 3; c++ {
				component("        ", c == 2, func() {
					component("            ", false, nil)
					component("            ", true, nil)
				})
			}
		})
	}
	bw.WriteString("\n  ],\n  \"dependencies\": [")
	for g := 0; g < groups; g++ {
		if g > 0 {
			bw.WriteString(",")
		}
		first := g * 10
		ref := func(i int) string {
			return fmt.Sprintf("pkg:maven/org.example.g%d/artifact-%d@1.%d.%d", i%500, i, i%20, i%7)
		}
		fmt.Fprintf(bw, "\n    {\"ref\": %q, \"dependsOn\": [%q, %q, %q]}", ref(first), ref(first+1), ref(first+4), ref(first+7))
	}
	bw.WriteString("\n  ],\n  \"compositions\": [{\"aggregate\": \"complete\", \"assemblies\": [\"firmware\"]}]\n}\n")
	return bw.Flush()
}

// BenchmarkIngest decodes a generated 200,000-component CycloneDX 1.6 JSON
// document with Decode, and for comparison with syft's own decoder
// (format.Decode), which builds syft's SBOM model from the same bytes.
// Besides time and allocations it reports the process CPU time per
// operation (cpu-s/op), which, unlike wall time, does not depend on what
// else the machine is doing.
func BenchmarkIngest(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bom.json")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := writeBenchBOM(f, benchComponents); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("oemtrace", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(fi.Size())
		cpu := processCPU()
		defer func() { b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			doc, err := ingest.Decode(context.Background(), path, f, ingest.Options{})
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			// +1 for the document component that carries metadata.supplier
			if got := len(doc.Components); got != benchComponents+2 {
				b.Fatalf("got %d components, want %d", got, benchComponents+2)
			}
		}
	})
	b.Run("syft", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(fi.Size())
		cpu := processCPU()
		defer func() { b.ReportMetric((processCPU()-cpu).Seconds()/float64(b.N), "cpu-s/op") }()
		for b.Loop() {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			s, _, _, err := format.Decode(f)
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
			if s.Artifacts.Packages.PackageCount() == 0 {
				b.Fatal("syft decoded no packages")
			}
		}
	})
}
