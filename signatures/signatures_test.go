package signatures_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/oemtrace/oemtrace/signatures"
)

// TestEmbedded loads the shipped set: Load validates every rule, checks its
// sources, and runs every rule's own match and nomatch examples.
func TestEmbedded(t *testing.T) {
	s, err := signatures.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Rules) == 0 || !strings.HasPrefix(s.Digest, "sha256:") || s.Manifest.Version == "" {
		t.Fatalf("embedded set incomplete: %d rules, digest %q, version %q", len(s.Rules), s.Digest, s.Manifest.Version)
	}
	for _, r := range s.Rules {
		if len(r.Examples.Match) == 0 || len(r.Examples.NoMatch) == 0 || len(r.Sources) == 0 {
			t.Errorf("%s: rule without examples or sources was loaded", r.ID)
		}
	}
}

// TestManifestCurrent fails when a rule file changed without the manifest;
// run `make signatures` and bump the set version.
func TestManifestCurrent(t *testing.T) {
	names, err := filepath.Glob("rules/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	manifest, err := os.ReadFile("rules/manifest.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if filepath.Base(n) == signatures.ManifestName {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Base(n) + ": " + signatures.FileDigest(b)
		if !strings.Contains(string(manifest), want) {
			t.Errorf("%s changed but manifest.yaml was not regenerated (run make signatures)", n)
		}
	}
}

func TestLoadRefuses(t *testing.T) {
	rule := "id: X-1\nversion: 1\nclass: component\nconfidence: high\ntitle: t\n" +
		"sources: [{ref: r, fact: f}]\nidentity: [{fields: [supplier], entities: [Acme]}]\n" +
		"examples: {match: [{field: supplier, value: Acme Inc}], nomatch: [{field: supplier, value: Other}]}\n"
	manifest := func(files map[string]string) string {
		s := "schema: 1\nversion: \"1\"\ndate: \"2026-01-01\"\nfiles:\n"
		for n, b := range files {
			s += "  " + n + ": " + signatures.FileDigest([]byte(b)) + "\n"
		}
		return s
	}
	tests := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"ok", map[string]string{"X-1.yaml": rule}, ""},
		{"no source", map[string]string{"X-1.yaml": strings.Replace(rule, "sources: [{ref: r, fact: f}]\n", "", 1)}, "no sources"},
		{"bad class", map[string]string{"X-1.yaml": strings.Replace(rule, "class: component", "class: virus", 1)}, "class"},
		{"no nomatch", map[string]string{"X-1.yaml": strings.Replace(rule, "nomatch: [{field: supplier, value: Other}]", "nomatch: []", 1)}, "nomatch"},
		{"wrong example", map[string]string{"X-1.yaml": strings.Replace(rule, "value: Other", "value: Acme GmbH", 1)}, "should not match"},
		{"unknown key", map[string]string{"X-1.yaml": rule + "colour: red\n"}, "colour"},
		{"unknown field kind", map[string]string{"X-1.yaml": strings.Replace(rule, "fields: [supplier]", "fields: [vendor]", 1)}, "unknown field kind"},
		{"file name", map[string]string{"Y.yaml": rule}, "name the file after the rule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"manifest.yaml": {Data: []byte(manifest(tt.files))}}
			for n, b := range tt.files {
				fsys[n] = &fstest.MapFile{Data: []byte(b)}
			}
			_, err := signatures.Load(fsys, "test")
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Fatalf("Load error = %v, want it to mention %q", err, tt.want)
			}
		})
	}
	t.Run("tampered file", func(t *testing.T) {
		fsys := fstest.MapFS{
			"manifest.yaml": {Data: []byte(manifest(map[string]string{"X-1.yaml": rule}))},
			"X-1.yaml":      {Data: []byte(rule + "# edited\n")},
		}
		if _, err := signatures.Load(fsys, "test"); err == nil || !strings.Contains(err.Error(), "does not match") {
			t.Fatalf("Load error = %v, want digest mismatch", err)
		}
	})
	t.Run("unknown schema", func(t *testing.T) {
		fsys := fstest.MapFS{"manifest.yaml": {Data: []byte("schema: 9\nversion: \"1\"\nfiles: {}\n")}}
		if _, err := signatures.Load(fsys, "test"); err == nil || !strings.Contains(err.Error(), "schema 9") {
			t.Fatalf("Load error = %v, want schema refusal", err)
		}
	})
}

func TestNormalizeEntity(t *testing.T) {
	for in, want := range map[string]string{
		"АО «Лаборатория Касперского»": "лаборатория касперского",
		"Kaspersky Lab, Inc.":  "kaspersky lab",
		"Kaspersky Lab ZAO":    "kaspersky lab",
		"\"AO Kaspersky Lab\"": "kaspersky lab",
		"OOO Kaspersky Group":  "kaspersky group",
	} {
		if got := signatures.NormalizeEntity(in); got != want {
			t.Errorf("NormalizeEntity(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseCPE(t *testing.T) {
	for in, want := range map[string][2]string{
		"cpe:/a:kaspersky_lab:kaspersky_anti-virus":                       {"kaspersky_lab", "kaspersky_anti-virus"},
		"cpe:2.3:a:kaspersky:kaspersky_internet_security:*:*:*:*:*:*:*:*": {"kaspersky", "kaspersky_internet_security"},
		`cpe:2.3:a:acme\:corp:tool:1:*:*:*:*:*:*:*`:                       {"acme:corp", "tool"},
	} {
		v, p, ok := signatures.ParseCPE(in)
		if !ok || v != want[0] || p != want[1] {
			t.Errorf("ParseCPE(%q) = %q, %q, %v; want %q, %q", in, v, p, ok, want[0], want[1])
		}
	}
	if _, _, ok := signatures.ParseCPE("not a cpe"); ok {
		t.Error("ParseCPE accepted garbage")
	}
}

func FuzzMatchIdentity(f *testing.F) {
	s, err := signatures.Embedded()
	if err != nil {
		f.Fatal(err)
	}
	for _, r := range s.Rules {
		for _, e := range append(r.Examples.Match, r.Examples.NoMatch...) {
			f.Add(e.Field, e.Qualifier, e.Value)
		}
	}
	f.Fuzz(func(t *testing.T, kind, qualifier, value string) {
		_ = s.MatchIdentity(kind, qualifier, value)
	})
}
