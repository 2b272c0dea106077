package analyzer_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/internal/testutil"
	"github.com/oemtrace/oemtrace/signatures"
)

// TestApplianceFixtures scans every appliance artefact (tar.gz trees,
// container images, a squashfs image) and checks the verdict in
// fixtures/appliance/expect.json: the blocking evidence must cover each
// listed path and include each listed class, and a clean artefact may carry
// only the classes it allows.
func TestApplianceFixtures(t *testing.T) {
	root := testutil.RepoRoot(t)
	dir := filepath.Join(root, "fixtures", "appliance")
	b, err := os.ReadFile(filepath.Join(dir, "expect.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct {
		Fixtures []struct {
			Archive        string   `json:"archive"`
			Verdict        string   `json:"verdict"`
			Classes        []string `json:"classes"`
			AllowedClasses []string `json:"allowed_classes"`
			MinConfidence  string   `json:"min_confidence"`
			Paths          []string `json:"paths"`
			Why            string   `json:"why"`
		} `json:"fixtures"`
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	set, err := signatures.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exp.Fixtures {
		t.Run(e.Archive, func(t *testing.T) {
			rep := analyze(t, filepath.Join(dir, e.Archive), analyzer.Config{})
			if string(rep.Verdict) != e.Verdict {
				t.Fatalf("verdict %s, want %s (%s)%s", rep.Verdict, e.Verdict, e.Why, summary(rep))
			}
			classes := map[string]bool{}
			paths := map[string]bool{}
			confident := e.MinConfidence == ""
			for _, f := range rep.Findings {
				if !f.Blocking {
					continue
				}
				if e.MinConfidence != "" && f.Confidence.Rank() <= signatures.Confidence(e.MinConfidence).Rank() {
					confident = true
				}
				for _, ev := range f.Evidence {
					classes[string(set.Rule(ev.Rule).Class)] = true
					paths[strings.SplitN(ev.Location.Path, "#", 2)[0]] = true
				}
			}
			for _, c := range e.Classes {
				if !classes[c] {
					t.Errorf("no blocking %s evidence%s", c, summary(rep))
				}
			}
			for _, p := range e.Paths {
				if !paths[p] {
					t.Errorf("no blocking evidence at %s%s", p, summary(rep))
				}
			}
			if !confident {
				t.Errorf("no blocking finding of %s confidence%s", e.MinConfidence, summary(rep))
			}
			if e.Verdict == "clean" {
				allowed := map[string]bool{}
				for _, c := range e.AllowedClasses {
					allowed[c] = true
				}
				for _, f := range rep.Findings {
					if !allowed[string(f.Class)] {
						t.Errorf("finding of class %s not allowed here: %s %s", f.Class, f.Rule, f.Subject.Name)
					}
				}
			}
			if len(rep.Inputs) != 1 || rep.Inputs[0].Files == 0 {
				t.Errorf("inputs = %+v, want one input with scanned files", rep.Inputs)
			}
		})
	}
}
