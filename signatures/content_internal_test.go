package signatures

import (
	"path"
	"slices"
	"testing"
)

// TestMatchNames checks the prefix pre-filter against path.Match alone.
func TestMatchNames(t *testing.T) {
	globs := []string{"kaveScanFile", "libkavsdk.so*", "*Kasper*", "kav?Init", "[kK]lav*", `esc\*aped`, "com.kavsdk.*"}
	names := []string{
		"kaveScanFile", "kaveScanFileEx", "libkavsdk.so", "libkavsdk.so.2", "xlibkavsdk.so",
		"MyKasperskyThing", "kavXInit", "kavInit", "klavEngine", "KlavEngine", "LlavEngine",
		"esc*aped", "escXaped", "com.kavsdk.antivirus.Scanner", "com.kavita.Main", "",
	}
	var want []string
	for _, n := range names {
		for _, g := range globs {
			if ok, _ := path.Match(g, n); ok {
				want = append(want, n)
				break
			}
		}
	}
	slices.Sort(want)
	got := matchNames(globs, names)
	if !slices.Equal(got, want) {
		t.Errorf("matchNames = %q, want %q", got, want)
	}
	if len(want) != 9 {
		t.Errorf("the reference matched %d names, want 9: %q", len(want), want)
	}
}
