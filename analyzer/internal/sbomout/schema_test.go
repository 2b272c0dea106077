package sbomout

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The official JSON schemas are read from the module cache copies of
// modules already in go.mod; nothing is copied into the repository:
// CycloneDX 1.6 and 1.7 (with spdx.schema.json and jsf-0.82) from
// cyclonedx-go, SPDX 2.3 from syft.
const (
	cdxModule  = "github.com/CycloneDX/cyclonedx-go"
	syftModule = "github.com/anchore/syft"
	cdxBaseURL = "http://cyclonedx.org/schema/"
)

// skipOrFail skips the test with msg, or fails it when CI=true, where the
// schemas must be available.
func skipOrFail(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " (CI=true: schema validation is required)")
	}
	t.Skip(msg)
}

var (
	modDirMu sync.Mutex
	modDirs  = map[string]string{}

	schemaMu sync.Mutex
	schemas  = map[string]compiledSchema{} // by "cyclonedx-<v>" or "spdx-2.3"
)

// compiledSchema is a schema compiled once per test binary.
type compiledSchema struct {
	s       *jsonschema.Schema
	standIn bool
}

// moduleDir is the module cache directory of mod, or "" when the go
// command cannot tell.
func moduleDir(t *testing.T, mod string) string {
	t.Helper()
	modDirMu.Lock()
	defer modDirMu.Unlock()
	if d, ok := modDirs[mod]; ok {
		return d
	}
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", mod).Output()
	d := strings.TrimSpace(string(out))
	if err != nil {
		t.Logf("go list -m %s: %v", mod, err)
		d = ""
	}
	modDirs[mod] = d
	return d
}

// loadJSON reads a JSON file for the schema compiler.
func loadJSON(t *testing.T, path string) any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// cryptoDefsStandIn replaces cryptography-defs.schema.json when the module
// cache lacks it (cyclonedx-go v0.12.0 does not ship it). bom-1.7 refers
// to it only from cryptoProperties, which validateCycloneDX requires to be
// absent from the document when the stand-in is used, so the validation of
// everything else is exact.
const cryptoDefsStandIn = `{"$schema":"http://json-schema.org/draft-07/schema#","$id":"http://cyclonedx.org/schema/cryptography-defs.schema.json","definitions":{"algorithmFamiliesEnum":{},"ellipticCurvesEnum":{}}}`

// cdxSchema compiles the official CycloneDX JSON schema of version v with
// format assertions on. standIn reports whether cryptography-defs was
// replaced by cryptoDefsStandIn.
func cdxSchema(t *testing.T, v string) (s *jsonschema.Schema, standIn bool) {
	t.Helper()
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if c, ok := schemas["cyclonedx-"+v]; ok {
		return c.s, c.standIn
	}
	dir := moduleDir(t, cdxModule)
	if dir == "" {
		skipOrFail(t, "CycloneDX schemas: module "+cdxModule+" not in the module cache")
	}
	main := filepath.Join(dir, "schema", "bom-"+v+".schema.json")
	if _, err := os.Stat(main); err != nil {
		skipOrFail(t, "CycloneDX "+v+" schema not in the module cache: "+err.Error())
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	res := map[string]string{
		"spdx.schema.json":              "spdx.schema.json",
		"jsf-0.82.schema.json":          "jsf-0.82.schemax.json", // cyclonedx-go's name for it
		"cryptography-defs.schema.json": "cryptography-defs.schema.json",
	}
	for name, file := range res {
		p := filepath.Join(dir, "schema", file)
		if _, err := os.Stat(p); err != nil {
			if name == "cryptography-defs.schema.json" && v != "1.6" {
				doc, err := jsonschema.UnmarshalJSON(strings.NewReader(cryptoDefsStandIn))
				if err != nil {
					t.Fatal(err)
				}
				if err := c.AddResource(cdxBaseURL+name, doc); err != nil {
					t.Fatal(err)
				}
				standIn = true
				continue
			}
			if name == "cryptography-defs.schema.json" {
				continue
			}
			skipOrFail(t, "CycloneDX schema "+file+" not in the module cache: "+err.Error())
		}
		if err := c.AddResource(cdxBaseURL+name, loadJSON(t, p)); err != nil {
			t.Fatal(err)
		}
	}
	url := cdxBaseURL + "bom-" + v + ".schema.json"
	if err := c.AddResource(url, loadJSON(t, main)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("compiling %s: %v", main, err)
	}
	schemas["cyclonedx-"+v] = compiledSchema{s, standIn}
	return s, standIn
}

// validateCycloneDX validates a CycloneDX JSON document against the official
// schema of version v.
func validateCycloneDX(t *testing.T, v string, doc []byte) {
	t.Helper()
	s, standIn := cdxSchema(t, v)
	if standIn {
		if bytes.Contains(doc, []byte(`"cryptoProperties"`)) {
			t.Fatalf("CycloneDX %s: document has cryptoProperties, which cannot be validated without cryptography-defs.schema.json", v)
		}
		t.Logf("CycloneDX %s: cryptography-defs.schema.json is not in the module cache; validated with a permissive stand-in for it (it is referenced only from cryptoProperties, absent here)", v)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("CycloneDX %s output is not JSON: %v", v, err)
	}
	if err := s.Validate(inst); err != nil {
		t.Fatalf("CycloneDX %s output does not validate against bom-%s.schema.json:\n%v", v, v, err)
	}
}

// validateSPDX validates an SPDX 2.3 JSON document against the official
// SPDX 2.3 schema that syft ships.
func validateSPDX(t *testing.T, doc []byte) {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		t.Fatalf("SPDX output is not JSON: %v", err)
	}
	if err := spdxSchema(t).Validate(inst); err != nil {
		t.Fatalf("SPDX output does not validate against spdx-schema-2.3.json:\n%v", err)
	}
}

// spdxSchema compiles the SPDX 2.3 JSON schema with format assertions on.
func spdxSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if c, ok := schemas["spdx-2.3"]; ok {
		return c.s
	}
	dir := moduleDir(t, syftModule)
	if dir == "" {
		skipOrFail(t, "SPDX schema: module "+syftModule+" not in the module cache")
	}
	p := filepath.Join(dir, "schema", "spdx-json", "spdx-schema-2.3.json")
	if _, err := os.Stat(p); err != nil {
		skipOrFail(t, "SPDX 2.3 schema not in the module cache: "+err.Error())
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("file:///spdx-schema-2.3.json", loadJSON(t, p)); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("file:///spdx-schema-2.3.json")
	if err != nil {
		t.Fatalf("compiling %s: %v", p, err)
	}
	schemas["spdx-2.3"] = compiledSchema{s: s}
	return s
}

// TestSchemaValidationIsStrict makes sure the validation above can fail:
// an unknown evidence member, an occurrence without location and a bad
// timestamp are each rejected.
func TestSchemaValidationIsStrict(t *testing.T) {
	inv := webui(t)
	rep := testReport(t, inv)
	good := encode(t, CycloneDXJSON, "1.6", inv.SBOM, rep)
	s, _ := cdxSchema(t, "1.6")
	for name, edit := range map[string]func(string) string{
		"unknown evidence member": func(d string) string {
			return strings.Replace(d, `"evidence": {`, `"evidence": {"oemtrace": true,`, 1)
		},
		"occurrence without location": func(d string) string {
			return strings.Replace(d, `"location": "/opt/netwarden/lib/libnwscan.so.8",`, ``, 1)
		},
		"bad timestamp": func(d string) string {
			return strings.Replace(d, `"timestamp": "2025-01-02T03:04:05Z"`, `"timestamp": "2 Jan 2025"`, 1)
		},
	} {
		bad := edit(string(good))
		if bad == string(good) {
			t.Fatalf("%s: edit did not apply", name)
		}
		inst, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := s.Validate(inst); err == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}
