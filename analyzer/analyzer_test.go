package analyzer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/internal/testutil"
)

var fixed = func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }

func analyze(t *testing.T, path string, cfg analyzer.Config) *report.Report {
	t.Helper()
	cfg.Now = fixed
	rep, err := analyzer.Analyze(context.Background(), []analyzer.Input{analyzer.FileInput(path)}, cfg)
	if err != nil {
		t.Fatalf("Analyze(%s): %v", path, err)
	}
	return rep
}

type expectation struct {
	File     string `json:"file"`
	Verdict  string `json:"verdict"`
	Why      string `json:"why"`
	Evidence []struct {
		Field    string `json:"field"`
		Location string `json:"location"`
	} `json:"evidence"`
}

// TestFixtures checks every SBOM fixture against fixtures/sbom/expect.json:
// the verdict, and for tainted ones that a blocking finding carries
// evidence from the named field at the named location.
func TestFixtures(t *testing.T) {
	root := testutil.RepoRoot(t)
	b, err := os.ReadFile(filepath.Join(root, "fixtures", "sbom", "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Fixtures []expectation `json:"fixtures"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Fixtures) == 0 {
		t.Fatal("expect.json lists no fixtures")
	}
	for _, e := range exp.Fixtures {
		t.Run(e.File, func(t *testing.T) {
			t.Parallel()
			rep := analyze(t, filepath.Join(root, "fixtures", "sbom", e.File), analyzer.Config{})
			if string(rep.Verdict) != e.Verdict {
				t.Fatalf("verdict = %s, want %s (%s)\nfindings: %s", rep.Verdict, e.Verdict, e.Why, summary(rep))
			}
			for _, want := range e.Evidence {
				if !hasEvidence(rep, want.Field, want.Location) {
					t.Errorf("no blocking evidence %s at %s\nfindings: %s", want.Field, want.Location, summary(rep))
				}
			}
		})
	}
}

func hasEvidence(rep *report.Report, field, loc string) bool {
	for _, f := range rep.Findings {
		if !f.Blocking {
			continue
		}
		for _, e := range f.Evidence {
			if e.Field == field && (e.Location.Path == loc || strings.HasPrefix(e.Location.Path, loc+" ")) {
				return true
			}
		}
	}
	return false
}

func summary(rep *report.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("\n  " + string(f.Class) + " " + f.Rule + " " + f.Subject.Name)
		for _, e := range f.Evidence {
			b.WriteString("\n    " + e.Rule + " " + e.Field + "=" + e.Value + " @ " + e.Location.Path)
		}
	}
	return b.String()
}

// TestConformanceNeverBlocks scans every public CycloneDX and SPDX test file:
// none names Kaspersky, so none may raise a blocking finding. Files the
// standards call valid must be read; invalid ones may be refused, but only
// with an input error, never a panic.
func TestConformanceNeverBlocks(t *testing.T) {
	dir := testutil.ConformanceDir(t)
	var files []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasSuffix(p, ".md") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 700 {
		t.Fatalf("found %d conformance files, want about 734", len(files))
	}
	for _, p := range files {
		rel, _ := filepath.Rel(dir, p)
		t.Run(rel, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			rep, err := analyzer.Analyze(ctx, []analyzer.Input{analyzer.FileInput(p)}, analyzer.Config{Now: fixed})
			invalid := strings.Contains(filepath.Base(p), "invalid")
			var ie *analyzer.InputError
			switch {
			case err != nil && invalid && errors.As(err, &ie):
				return // refused with a clear error, as it should be
			case err != nil:
				t.Fatalf("Analyze: %v", err)
			}
			for _, f := range rep.Findings {
				if f.Blocking {
					t.Errorf("blocking finding %s %s on %s", f.Rule, f.Subject.Name, rel)
				}
			}
		})
	}
}

// TestDemoGolden pins the canonical JSON report of the bundled demo, and
// checks that it reads back to the same bytes. The input is named by a
// relative path, so the report does not depend on the checkout location.
func TestDemoGolden(t *testing.T) {
	for _, name := range []string{"acme-threat-shield.cdx.json", "clean-appliance.cdx.json"} {
		t.Run(name, func(t *testing.T) {
			rep := analyze(t, filepath.Join("..", "fixtures", "demo", name), analyzer.Config{})
			rep.Tool.Version = "test"
			var buf bytes.Buffer
			if err := report.WriteJSON(&buf, rep); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, strings.TrimSuffix(name, ".cdx.json")+".golden.json", buf.Bytes())
			back, err := report.Read(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			var again bytes.Buffer
			if err := report.WriteJSON(&again, back); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), again.Bytes()) {
				t.Error("JSON report does not round-trip")
			}
		})
	}
}
