package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// ConformanceDir returns the directory of public SBOM conformance files,
// <repository root>/../shared/conformance (see RepoRoot). Tests read the
// files in place and never copy them into the repository. When the
// directory is absent the test is skipped, except when the environment has
// CI=true, where the test fails instead: CI must run the conformance suite.
func ConformanceDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(RepoRoot(t)), "shared", "conformance")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		msg := "conformance files not found at " + dir + " (expected <repository root>/../shared/conformance)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return dir
}
