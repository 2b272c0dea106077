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
func TestMatchPath(t *testing.T) {
	for _, c := range []struct {
		glob, path string
		want       bool
	}{
		{"**", "/a/b", true},
		{"/opt/**", "/opt", true},
		{"/opt/**", "/opt/kaspersky/x.so", true},
		{"/opt/**", "/usr/opt/x", false},
		{"**/bases/*.avc", "/bases/daily.avc", true},
		{"**/bases/*.avc", "/var/opt/bases/daily.avc", true},
		{"**/bases/*.avc", "/var/opt/bases/sub/daily.avc", false},
		{"/usr/**/lib*.so*", "/usr/lib/x86_64/libkav.so.8", true},
		{"/usr/**/lib*.so*", "/usr/libkav.so", true},
		{"/usr/lib/*.so", "/usr/lib/a/b.so", false},
		{"/usr/lib/*.so", "/usr/lib/b.so", true},
		{"/usr/lib/*.so", "/usr/lib", false},
		{"/etc/**/*.conf", "/etc/a/b/c.conf", true},
		{"/etc/**/*.conf", "/etc/a/b/c.conf/d", false},
		{"/a/b", "/a/B", false},
		{"/a/[", "/a/[", false},
	} {
		if got := MatchPath(c.glob, c.path); got != c.want {
			t.Errorf("MatchPath(%q, %q) = %v, want %v", c.glob, c.path, got, c.want)
		}
	}
}
