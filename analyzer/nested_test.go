package analyzer_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/internal/testutil"
	"github.com/oemtrace/oemtrace/signatures"
)

const basesHeader = "AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\n"

func gzipBytes(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipBytes is a zip of files, each deflated, so that no byte of their
// content shows in the zip itself.
func zipBytes(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(body))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestNestedContainers checks that a container found as a file of a
// scanned tree is opened and scanned, with the chain continuing from the
// file, that a compressed document is not unpacked, and that nesting
// stops at the depth limit as a gap.
func TestNestedContainers(t *testing.T) {
	engine := tarGz(t, map[string]string{"./opt/x/bases/base001.avc": basesHeader})
	t.Run("tar.gz in a directory", func(t *testing.T) {
		root := t.TempDir()
		testutil.WriteFile(t, root, "opt/updates/engine.tar.gz", string(engine))
		testutil.WriteFile(t, root, "usr/share/doc/x/changelog.gz", string(gzipBytes(t, []byte("x (1.0) stable; urgency=low\n"))))
		rep := analyze(t, root, analyzer.Config{})
		if rep.Verdict != report.Tainted {
			t.Fatalf("verdict %s; gaps %+v", rep.Verdict, rep.Gaps)
		}
		want := "!dir:/opt/updates/engine.tar.gz!gzip!tar:/opt/x/bases/base001.avc@0x0"
		if !hasEvidenceAt(rep, want) {
			t.Errorf("no evidence at ...%s", want)
		}
		for _, tr := range rep.Inputs[0].Trees {
			if strings.Contains(tr.Location.String(), "changelog") {
				t.Errorf("a compressed document was unpacked: %s", tr.Location)
			}
		}
	})

	t.Run("zip in a squashfs-like tree, and a jar left to Syft", func(t *testing.T) {
		bundle := zipBytes(t, map[string]string{"opt/x/bases/base001.avc": basesHeader + strings.Repeat("\x00", 4096)})
		root := t.TempDir()
		testutil.WriteFile(t, root, "opt/updates/bundle.bin", string(bundle))
		testutil.WriteFile(t, root, "usr/share/java/app.jar", string(bundle))
		rep := analyze(t, root, analyzer.Config{})
		want := "!dir:/opt/updates/bundle.bin!zip:/opt/x/bases/base001.avc@0x0"
		if rep.Verdict != report.Tainted || !hasEvidenceAt(rep, want) {
			t.Fatalf("verdict %s, want tainted with evidence at ...%s; findings %+v", rep.Verdict, want, rep.Findings)
		}
		for _, tr := range rep.Inputs[0].Trees {
			if strings.Contains(tr.Location.String(), "app.jar") {
				t.Errorf("a Java archive was opened as a tree: %s", tr.Location)
			}
		}
	})

	t.Run("compressed text", func(t *testing.T) {
		root := t.TempDir()
		testutil.WriteFile(t, root, "etc/nwguard/updater.ini.gz", string(gzipBytes(t, []byte("[updater]\nUpdateSource=https://dnl-01.geo.kaspersky.com/\n"))))
		// Documentation naming the same host is excluded by the rule,
		// compressed or not: it is only a mention.
		testutil.WriteFile(t, root, "usr/share/doc/acme/changelog.gz", string(gzipBytes(t, []byte("allow dnl-01.geo.kaspersky.com in the firewall\n"))))
		rep := analyze(t, root, analyzer.Config{})
		want := "!dir:/etc/nwguard/updater.ini.gz!gzip:/updater.ini@0x25"
		if rep.Verdict != report.Tainted || !hasEvidenceAt(rep, want) {
			t.Fatalf("verdict %s, want tainted with evidence at ...%s; findings %+v", rep.Verdict, want, rep.Findings)
		}
		for _, f := range rep.Findings {
			for _, e := range f.Evidence {
				if strings.Contains(e.Location.String(), "changelog") && f.Class != signatures.ClassMention {
					t.Errorf("documentation matched as %s: %+v", f.Class, e)
				}
			}
		}
		for _, tr := range rep.Inputs[0].Trees {
			if strings.Contains(tr.Location.String(), ".gz") {
				t.Errorf("a compressed document was unpacked as a tree: %s", tr.Location)
			}
		}
	})

	t.Run("truncated compressed text", func(t *testing.T) {
		root := t.TempDir()
		text := strings.Repeat("UpdateSource=https://example.net/\n", 2000)
		gz := gzipBytes(t, []byte(text))
		testutil.WriteFile(t, root, "etc/acme/updater.ini.gz", string(gz[:len(gz)-200]))
		rep := analyze(t, root, analyzer.Config{})
		if rep.Verdict != report.Incomplete {
			t.Fatalf("verdict %s, want incomplete; gaps %+v", rep.Verdict, rep.Gaps)
		}
	})

	t.Run("compressed kernel module", func(t *testing.T) {
		exe, err := os.ReadFile("/bin/true")
		if err != nil {
			t.Skip("no /bin/true to copy: ", err)
		}
		root := t.TempDir()
		ko := append(exe, "DNL-01.GEO.KASPERSKY.COM"...)
		testutil.WriteFile(t, root, "lib/modules/6.1/extra/klflt.ko.gz", string(gzipBytes(t, ko)))
		rep := analyze(t, root, analyzer.Config{})
		want := fmt.Sprintf("!dir:/lib/modules/6.1/extra/klflt.ko.gz!gzip:/klflt.ko.gz@0x%x", len(exe)+len("DNL-01"))
		if rep.Verdict != report.Tainted || !hasEvidenceAt(rep, want) {
			t.Errorf("verdict %s, want tainted with evidence at ...%s; findings %+v", rep.Verdict, want, rep.Findings)
		}
	})

	t.Run("tar.gz in a tar.gz", func(t *testing.T) {
		root := t.TempDir()
		testutil.WriteFile(t, root, "bundle.tar.gz", string(tarGz(t, map[string]string{"./updates/engine.tar.gz": string(engine)})))
		rep := analyze(t, filepath.Join(root, "bundle.tar.gz"), analyzer.Config{})
		if rep.Verdict != report.Tainted || !hasEvidenceAt(rep, ":/updates/engine.tar.gz!gzip!tar:/opt/x/bases/base001.avc@0x0") {
			t.Errorf("verdict %s, findings %+v", rep.Verdict, rep.Findings)
		}
	})

	t.Run("depth limit", func(t *testing.T) {
		b := engine
		for range 3 {
			b = tarGz(t, map[string]string{"./inner.tar.gz": string(b)})
		}
		root := t.TempDir()
		testutil.WriteFile(t, root, "deep.tar.gz", string(b))
		rep := analyze(t, filepath.Join(root, "deep.tar.gz"), analyzer.Config{Limits: analyzer.Limits{MaxDepth: 4}})
		if rep.Verdict != report.Incomplete {
			t.Fatalf("verdict %s, want incomplete; findings %+v", rep.Verdict, rep.Findings)
		}
		found := false
		for _, g := range rep.Gaps {
			found = found || strings.Contains(g.Reason, "depth limit")
		}
		if !found {
			t.Errorf("gaps %+v, want the depth limit", rep.Gaps)
		}
	})
}

// hasEvidenceAt reports whether some evidence location ends with suffix.
func hasEvidenceAt(rep *report.Report, suffix string) bool {
	for _, f := range rep.Findings {
		for _, e := range f.Evidence {
			if strings.HasSuffix(e.Location.String(), suffix) {
				return true
			}
		}
	}
	return false
}
