package inventory

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
	"github.com/anchore/syft/syft/sbom"
	"github.com/anchore/syft/syft/source"
	"github.com/anchore/syft/syft/source/directorysource"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// Options tunes a cataloging run. The zero value is the recommended setting.
type Options struct {
	// Parallelism for syft (0 = syft default).
	Parallelism int
	// Files: when true, syft's file catalogers (digests, executables) run for all files; default false (oemtrace reads file content itself).
	Files bool
	// types, when set, narrows Syft's binary catalogers to the files
	// holding their markers (see narrow.go).
	types *Types
}

// Result is the inventory of one root filesystem or image.
type Result struct {
	// Components: one per Syft package, in a deterministic order (by name,
	// version, type, location, then Syft id). Each has Name, Version, PURL,
	// Type (the Syft package type, e.g. "deb", "npm"), Ref (the Syft package
	// id) and Location, the root-relative path with a leading "/" of the
	// package's primary evidence file ("/var/lib/dpkg/status",
	// "/usr/share/netwarden-ui/node_modules/@kaspersky/hexa-ui-core/package.json").
	// Fields hold the name, version, purl, every CPE, the identity-bearing
	// values of Syft's typed metadata (authors, maintainers, vendors, URLs,
	// Java group ids, ...), licenses and every location path, each with a
	// Location "<file>#<key>" precise enough to find the value in that file.
	Components []ingest.Component
	// Owners maps a root-relative file path ("/usr/lib/x.so") to the index in
	// Components of the package that owns it: files listed by the package
	// manager (dpkg info/*.list, md5sums and conffiles, rpm and apk file
	// lists, python RECORD via Syft's relationships, ...), the
	// evidence files of a package that no other package shares, and every
	// file inside an npm package's directory (the innermost package wins).
	// Used to group content evidence by package.
	Owners map[string]int
	// SBOM is Syft's SBOM, for writing CycloneDX/SPDX later.
	SBOM *sbom.SBOM
	// Unknowns: cataloger errors and files syft could not read, as (path,
	// reason), sorted, so the caller can report them as gaps.
	Unknowns []Unknown
}

// Unknown is a file Syft could not fully catalog.
type Unknown struct {
	// Path is the root-relative path of the file ("/var/lib/dpkg/status").
	Path string
	// Reason is Syft's explanation, prefixed with the cataloger name.
	Reason string
}

// Catalog catalogs the root filesystem unpacked at root as an installed
// system (see the package documentation). Only the directory itself is read;
// symbolic links are resolved inside root, as if root were "/".
//
// Syft builds a license scanner for every call unless ctx already carries
// one, and that dominates the cost on small trees (about 1 s of CPU). A
// program that catalogs several trees should build it once with
// syft.SetContextLicenseScanner and pass the returned context. The same
// holds for every Catalog call of a run.
func Catalog(ctx context.Context, root string, opts Options) (*Result, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("cataloging %s: %w", root, err)
	}
	fi, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("cataloging %s: %w", root, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("cataloging %s: not a directory", root)
	}
	// Built directly rather than through syft.GetSource, so no other source
	// provider (image archives, registries, daemons) is ever consulted. Base
	// makes absolute symlinks resolve inside the tree.
	src, err := directorysource.New(directorysource.Config{Path: abs, Base: abs})
	if err != nil {
		return nil, fmt.Errorf("cataloging %s: %w", root, err)
	}
	return run(ctx, root, src, sbomConfig(opts))
}

// run catalogs src with cfg and builds the Result. It closes src.
func run(ctx context.Context, name string, src source.Source, cfg *syft.CreateSBOMConfig) (res *Result, err error) {
	defer func() {
		if cerr := src.Close(); cerr != nil && err == nil {
			res, err = nil, fmt.Errorf("cataloging %s: closing source: %w", name, cerr)
		}
	}()
	s, err := syft.CreateSBOM(ctx, src, cfg)
	if err != nil {
		return nil, fmt.Errorf("cataloging %s: %w", name, err)
	}
	resolver, err := src.FileResolver(source.SquashedScope)
	if err != nil {
		return nil, fmt.Errorf("cataloging %s: %w", name, err)
	}
	pkgs := sortedPackages(s)
	comps := make([]ingest.Component, len(pkgs))
	for i, p := range pkgs {
		comps[i] = component(p)
	}
	own, err := owners(ctx, resolver, s, pkgs)
	if err != nil {
		return nil, fmt.Errorf("cataloging %s: %w", name, err)
	}
	return &Result{Components: comps, Owners: own, SBOM: s, Unknowns: unknowns(s)}, nil
}

// ShareLicenseScanner returns a context carrying Syft's license scanner,
// for every Catalog call made with it. The scanner is built once per
// process (about 1 s of CPU) and shared, as Syft shares it between its
// parallel catalogers; the returned context is cancelled with ctx.
func ShareLicenseScanner(ctx context.Context) (context.Context, error) {
	shared.once.Do(func() {
		shared.ctx, shared.err = syft.SetContextLicenseScanner(context.Background(), cataloging.DefaultLicenseConfig())
	})
	if shared.err != nil {
		return ctx, fmt.Errorf("building license scanner: %w", shared.err)
	}
	return withValues{Context: ctx, values: shared.ctx}, nil
}

// shared holds the process's license scanner, in a context's values.
var shared struct {
	once sync.Once
	ctx  context.Context
	err  error
}

// withValues is a context cancelled with its own, whose values come from
// it or else from values.
type withValues struct {
	context.Context
	values context.Context
}

func (w withValues) Value(key any) any {
	if v := w.Context.Value(key); v != nil {
		return v
	}
	return w.values.Value(key)
}
