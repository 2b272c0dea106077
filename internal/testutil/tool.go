package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// Tool returns the path of the command name, which a test runs to make
// its input with the real tool. Without it the test is skipped, except
// with CI=true, where it fails: .ci/run installs the tools.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		msg := name + " not found: " + err.Error()
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return p
}
