package table_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/analyzer/report/table"
	"github.com/oemtrace/oemtrace/internal/testutil"
)

// TestGolden renders the canonical JSON reports pinned by the analyzer's
// demo test, so every format is tested on the same reports.
func TestGolden(t *testing.T) {
	for _, name := range []string{"acme-threat-shield", "clean-appliance"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("..", "..", "testdata", name+".golden.json"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rep, err := report.Read(f)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := table.Encode(&buf, rep); err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, name+".txt", buf.Bytes())
		})
	}
}

// TestFirmwareInput renders a firmware input's coverage and the trees
// found in it.
func TestFirmwareInput(t *testing.T) {
	rep := &report.Report{
		Verdict: report.Clean,
		Inputs: []report.Input{{
			Name: "fw.bin", Kind: "firmware", Format: "raw", Size: 1000,
			Coverage: &report.Coverage{Unpacked: 900, Content: 100, Share: 1},
			Trees: []report.Tree{
				{Location: report.Location{Input: "fw.bin", Chain: []report.Layer{{Format: "squashfs", Offset: 0x40}}}, Kind: "filesystem", Files: 12, Components: 1},
				{Location: report.Location{Input: "fw.bin"}, Kind: "raw", Files: 1},
			},
		}},
	}
	var buf bytes.Buffer
	if err := table.Encode(&buf, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"  coverage: 100.00% of 1000 bytes examined (900 unpacked, 100 as plain content, 0 not examined)\n",
		"  filesystem: fw.bin!squashfs@0x40 (12 files, 1 package)\n",
		"  raw: fw.bin (1 file, 0 packages)\n",
	} {
		if !bytes.Contains(buf.Bytes(), []byte(want)) {
			t.Errorf("missing %q in\n%s", want, buf.String())
		}
	}
}
