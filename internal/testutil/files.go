package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFile writes body to the slash-separated path rel under root,
// creating the directories on the way.
func WriteFile(t testing.TB, root, rel, body string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}
