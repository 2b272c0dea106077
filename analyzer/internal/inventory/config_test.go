package inventory

import (
	"slices"
	"testing"

	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/file"
)

// TestConfigIsOffline pins the settings that keep Syft off the network and
// out of the host's own caches.
func TestConfigIsOffline(t *testing.T) {
	for _, opts := range []Options{{}, {Files: true, Parallelism: 3}} {
		cfg := sbomConfig(opts)
		p := cfg.Packages
		switch {
		case p.Golang.SearchRemoteLicenses, p.Golang.SearchLocalModCacheLicenses, p.Golang.SearchLocalVendorLicenses, p.Golang.UsePackagesLib:
			t.Errorf("golang cataloger may leave the tree: %+v", p.Golang)
		case p.JavaArchive.UseNetwork, p.JavaArchive.UseMavenLocalRepository, p.JavaArchive.ResolveTransitiveDependencies:
			t.Errorf("java cataloger may leave the tree: %+v", p.JavaArchive)
		case p.JavaScript.SearchRemoteLicenses:
			t.Error("javascript cataloger searches remote licenses")
		case p.Python.SearchRemoteLicenses:
			t.Error("python cataloger searches remote licenses")
		}
		if cfg.Parallelism != opts.Parallelism {
			t.Errorf("parallelism %d, want %d", cfg.Parallelism, opts.Parallelism)
		}
		sel := cfg.CatalogerSelection.DefaultNamesOrTags
		if !slices.Contains(sel, pkgcataloging.ImageTag) || slices.Contains(sel, pkgcataloging.DirectoryTag) {
			t.Errorf("cataloger defaults %v", sel)
		}
		wantFiles := file.NoFilesSelection
		if opts.Files {
			wantFiles = file.AllFilesSelection
		}
		if cfg.Files.Selection != wantFiles || slices.Contains(sel, "file") != opts.Files {
			t.Errorf("Files=%v: selection %q, defaults %v", opts.Files, cfg.Files.Selection, sel)
		}
	}
}
