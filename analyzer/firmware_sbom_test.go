package analyzer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/internal/testutil"
)

// TestFirmwareSBOMListsEveryFilesystem writes the SBOM of a flash dump
// that holds the same root filesystem twice (at offset 0 and, carved,
// after some erased flash): every package must be listed once, with its
// locations in both filesystems, told apart by their container chains.
func TestFirmwareSBOMListsEveryFilesystem(t *testing.T) {
	img, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "fixtures", "appliance", "tainted.sqfs"))
	if err != nil {
		t.Fatal(err)
	}
	dump := append(append(append([]byte{}, img...), bytes.Repeat([]byte{0xff}, 4097)...), img...)
	p := filepath.Join(t.TempDir(), "dual.bin")
	if err := os.WriteFile(p, dump, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := analyzer.WriteSBOM(context.Background(), &out, analyzer.FileInput(p), "cyclonedx-json", "1.6", analyzer.Config{})
	if err != nil {
		t.Fatal(err)
	}
	single := analyze(t, filepath.Join(testutil.RepoRoot(t), "fixtures", "appliance", "tainted.sqfs"), analyzer.Config{})
	if got, want := rep.Inputs[0].Components, 2*single.Inputs[0].Components; got != want || want == 0 {
		t.Errorf("report counts %d components, want %d (twice the image's)", got, want)
	}
	var doc struct {
		Components []struct {
			Name       string `json:"name"`
			Properties []struct {
				Name  string `json:"name"`
				Value string `json:"value"`
			} `json:"properties"`
		} `json:"components"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	second := fmt.Sprintf("squashfs@0x%x", len(img)+4097)
	found := false
	for _, c := range doc.Components {
		if c.Name != "libc6" {
			continue
		}
		found = true
		var layers []string
		for _, pr := range c.Properties {
			if strings.HasSuffix(pr.Name, ":layerID") {
				layers = append(layers, pr.Value)
			}
		}
		joined := strings.Join(layers, " ")
		if !strings.Contains(" "+joined+" ", " squashfs ") || !strings.Contains(joined, second) {
			t.Errorf("libc6 locations are in %q, want both squashfs and %s", joined, second)
		}
	}
	if !found {
		t.Error("libc6 is not in the SBOM")
	}
}
