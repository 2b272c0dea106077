package inventory

import (
	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/cataloging/filecataloging"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg/cataloger/golang"
	"github.com/anchore/syft/syft/pkg/cataloger/java"
	"github.com/anchore/syft/syft/pkg/cataloger/javascript"
	"github.com/anchore/syft/syft/pkg/cataloger/python"
)

// sbomConfig returns the Syft configuration for opts. The package
// catalogers are those Syft selects for container images (tag
// pkgcataloging.ImageTag), whatever the source: a root filesystem is an
// installed system, not a source checkout; and those of package files. Extra default tags may be given
// to compare against other selections in tests.
func sbomConfig(opts Options, defaultTags ...string) *syft.CreateSBOMConfig {
	if len(defaultTags) == 0 {
		defaultTags = []string{pkgcataloging.ImageTag}
	}
	cfg := syft.DefaultCreateSBOMConfig().
		WithParallelism(opts.Parallelism).
		WithPackagesConfig(offlinePackagesConfig()).
		// Unknowns: keep every cataloger error as Syft reports it; do not
		// let Syft drop or synthesize entries.
		WithUnknownsConfig(cataloging.UnknownsConfig{})

	if opts.Files {
		defaultTags = append(defaultTags, filecataloging.FileTag)
		cfg = cfg.WithFilesConfig(filecataloging.DefaultConfig().WithSelection(file.AllFilesSelection))
	} else {
		cfg = cfg.WithoutFiles()
	}
	// Package files shipped in a tree (an update's .deb, .ipk or .rpm)
	// are catalogued too: shipping the package is shipping its software.
	sel := cataloging.NewSelectionRequest().WithDefaults(defaultTags...).
		WithAdditions(packageFileCatalogers...)
	// OpenWrt's tar-framed .ipk files and Alpine's .apk files, which
	// Syft's own catalogers leave out.
	cfg = cfg.WithCatalogers(
		pkgcataloging.NewAlwaysEnabledCatalogerReference(ipkCataloger),
		pkgcataloging.NewAlwaysEnabledCatalogerReference(apkFileCataloger))
	if opts.types != nil {
		// Syft's binary catalogers give way to the same catalogers
		// narrowed to the executables the content scan marked.
		for _, c := range narrowedCatalogers(cfg.Packages, opts.types) {
			sel = sel.WithRemovals(c.Name())
			cfg = cfg.WithCatalogers(pkgcataloging.NewAlwaysEnabledCatalogerReference(c))
		}
	}
	return cfg.WithCatalogerSelection(sel)
}

// packageFileCatalogers read package files (.deb, .ipk, .rpm) rather
// than installed package databases.
var packageFileCatalogers = []string{"deb-archive-cataloger", "rpm-archive-cataloger"}

// offlinePackagesConfig is Syft's default package configuration with every
// option that could use the network, or read the host machine outside the
// scanned tree, turned off.
func offlinePackagesConfig() pkgcataloging.Config {
	c := pkgcataloging.DefaultConfig()
	c.Golang = golang.DefaultCatalogerConfig().
		WithSearchRemoteLicenses(false).
		WithSearchLocalModCacheLicenses(false).
		WithSearchLocalVendorLicenses(false).
		WithUsePackagesLib(false)
	c.JavaArchive = java.DefaultArchiveCatalogerConfig().
		WithUseNetwork(false).
		WithUseMavenLocalRepository(false).
		WithResolveTransitiveDependencies(false)
	c.JavaScript = javascript.DefaultCatalogerConfig().WithSearchRemoteLicenses(false)
	c.Python = python.DefaultCatalogerConfig().WithSearchRemoteLicenses(false)
	return c
}
