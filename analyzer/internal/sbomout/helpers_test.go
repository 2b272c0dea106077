package sbomout

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
	"github.com/oemtrace/oemtrace/analyzer/internal/inventory"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/internal/testutil"
	"github.com/oemtrace/oemtrace/signatures"
)

// hexaName is the Kaspersky npm package in the webui fixture.
const hexaName = "@kaspersky/hexa-ui-core"

var (
	webuiOnce sync.Once
	webuiInv  *inventory.Result
	webuiErr  error
	webuiDir  string
)

// webui catalogs the webui appliance fixture once per test binary.
func webui(t *testing.T) *inventory.Result {
	t.Helper()
	archive := filepath.Join(testutil.RepoRoot(t), "fixtures", "appliance", "webui.tar.gz")
	if _, err := os.Stat(archive); err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	webuiOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sbomout-webui-")
		if err != nil {
			webuiErr = err
			return
		}
		webuiDir = dir
		if gaps, err := extract.TarFile(archive, dir, extract.DefaultLimits()); err != nil || len(gaps) > 0 {
			webuiErr = fmt.Errorf("extracting %s: %v %v", archive, err, gaps)
			return
		}
		webuiInv, webuiErr = inventory.Catalog(context.Background(), dir, inventory.Options{})
	})
	if webuiErr != nil {
		t.Fatal(webuiErr)
	}
	return webuiInv
}

// TestMain removes the shared extraction directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if webuiDir != "" {
		os.RemoveAll(webuiDir)
	}
	os.Exit(code)
}

// component returns the catalogued component named name.
func component(t *testing.T, inv *inventory.Result, name string) *ingest.Component {
	t.Helper()
	for i := range inv.Components {
		if inv.Components[i].Name == name {
			return &inv.Components[i]
		}
	}
	t.Fatalf("no component %s among %d", name, len(inv.Components))
	return nil
}

// testEngineSHA256 is a made-up file digest; testInput names the scanned
// input in every location.
const (
	testEngineSHA256 = "9f2c4d6e8a0b1c3d5e7f9a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f3a5b7c9d"
	testInput        = "webui.tar.gz"
)

// testReport builds by hand the report of a scan of the webui tree: a
// package finding on @kaspersky/hexa-ui-core (identity evidence in its
// package.json), a folder finding on /opt/netwarden (content evidence with
// offset, length and digest) and one gap.
func testReport(t *testing.T, inv *inventory.Result) *report.Report {
	t.Helper()
	hexa := component(t, inv, hexaName)
	if hexa.Ref == "" || hexa.PURL == "" || hexa.Location == "" {
		t.Fatalf("%s: missing ref, purl or location: %+v", hexaName, hexa)
	}
	pkgSubject := report.Subject{Input: testInput, Name: hexa.Name, Version: hexa.Version, PURL: hexa.PURL, Ref: hexa.Ref, Location: hexa.Location}
	pkgFinding := report.Finding{
		ID:         report.FindingID("KL-NPM-SCOPE", pkgSubject),
		Rule:       "KL-NPM-SCOPE",
		Class:      signatures.ClassComponent,
		Confidence: signatures.High,
		Title:      "Kaspersky npm package " + hexa.Name,
		Subject:    pkgSubject,
		Evidence: []report.Evidence{
			{Rule: "KL-NPM-SCOPE", Kind: "identity", Field: "name", Value: hexa.Name, Matched: "@kaspersky",
				Location: report.Location{Input: testInput, Path: hexa.Location + "#name"}},
			{Rule: "KL-NPM-SCOPE", Kind: "identity", Field: "purl", Value: hexa.PURL, Matched: "@kaspersky",
				Location: report.Location{Input: testInput, Path: hexa.Location + "#name"}},
		},
	}
	dirSubject := report.Subject{Input: testInput, Name: "/opt/netwarden", Location: "/opt/netwarden"}
	dirFinding := report.Finding{
		ID:         report.FindingID("KL-ENGINE-KAVCORE", dirSubject),
		Rule:       "KL-ENGINE-KAVCORE",
		Class:      signatures.ClassEngine,
		Confidence: signatures.Medium,
		Title:      "Kaspersky scanning engine in /opt/netwarden",
		Subject:    dirSubject,
		Evidence: []report.Evidence{
			{Rule: "KL-ENGINE-KAVCORE", Kind: "content", Field: "string", Value: "Kaspersky Anti-Virus Engine", Matched: "kaspersky anti-virus engine",
				Location: report.Location{Input: testInput, Path: "/opt/netwarden/lib/libnwscan.so.8", Offset: 0x1a2b, Length: 27, SHA256: testEngineSHA256}},
			{Rule: "KL-ENGINE-KAVCORE", Kind: "content", Field: "symbol", Value: "kav_engine_init",
				Location: report.Location{Input: testInput, Path: "/opt/netwarden/lib/libnwscan.so.8", SHA256: testEngineSHA256}},
			{Rule: "KL-ENGINE-KAVCORE", Kind: "content", Field: "string", Value: "avp.klb<&>",
				Location: report.Location{Input: testInput, Path: "/opt/netwarden/bases/avp.klb", Chain: []report.Layer{{Format: "tar", Path: "/opt/netwarden/bases.tar"}}, Offset: 0, Length: 10}},
		},
	}
	rep := &report.Report{
		Tool:       report.Tool{Name: "oemtrace", Version: "0.1.0-test"},
		Signatures: report.SignatureSet{Version: "2025.01.1", Digest: "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", Rules: 42, Source: "embedded"},
		Time:       time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC),
		Inputs:     []report.Input{{Name: testInput, Kind: "tree", Components: len(inv.Components)}},
		Policy:     report.Policy{FailOn: signatures.ClassComponent},
		Findings:   []report.Finding{pkgFinding, dirFinding},
		Gaps: []report.Gap{{
			Location: report.Location{Input: testInput, Path: "/usr/share/netwarden-ui/broken.zip"},
			Reason:   "archive is truncated",
		}},
	}
	rep.Finish()
	return rep
}
