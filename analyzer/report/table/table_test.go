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
