package inventory

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// fixtureDir is the appliance fixture directory, relative to this package.
const fixtureDir = "../../../fixtures/appliance"

// fixture returns the path of a fixture artefact, skipping the test when it
// is absent.
func fixture(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(fixtureDir, name)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("fixture %s not available: %v", name, err)
	}
	return p
}

// extractFixtures unpacks the named .tar.gz fixtures, in order, into one new
// temporary directory and returns it.
func extractFixtures(tb testing.TB, names ...string) string {
	tb.Helper()
	dir := tb.TempDir()
	for _, n := range names {
		gaps, err := extract.TarFile(fixture(tb, n), dir, extract.DefaultLimits())
		if err != nil || len(gaps) > 0 {
			tb.Fatalf("extracting %s: %v %v", n, err, gaps)
		}
	}
	return dir
}
