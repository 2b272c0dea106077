package inventory

import (
	"context"
	"path"
	"slices"

	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"
)

// owners maps root-relative file paths to the index in pkgs of the package
// that owns them. Three sources are used, in order of precedence; within
// each, the package with the lowest index wins a contested path:
//
//  1. file listings: Syft's package-contains-file relationships, the
//     absolute paths of pkg.FileOwner metadata (dpkg md5sums and
//     conffiles, rpm and apk file lists, ...) and of dpkg's info/*.list
//     files, both as listed and with symbolic links resolved;
//  2. a package's own evidence files (info/busybox.list, a jar, a
//     package.json), when no other package has the same file as evidence
//     (/var/lib/dpkg/status describes every deb, so it is left out);
//  3. every other file under the directory of an npm package.json, for the
//     innermost such package.
func owners(ctx context.Context, resolver file.Resolver, s *sbom.SBOM, pkgs []pkg.Package) (map[string]int, error) {
	own := map[string]int{}
	claim := func(p string, i int) {
		if _, taken := own[p]; !taken && p != "" {
			own[p] = i
		}
	}
	for i, paths := range listedFiles(resolver, s, pkgs) {
		for _, p := range paths {
			claim(p, i)
		}
	}
	for i, paths := range uniqueEvidence(pkgs) {
		for _, p := range paths {
			claim(p, i)
		}
	}
	if err := claimNpmDirs(ctx, resolver, pkgs, own); err != nil {
		return nil, err
	}
	return own, nil
}

// listedFiles returns, per package index, the sorted paths its metadata or
// Syft's relationships say it installed.
func listedFiles(resolver file.Resolver, s *sbom.SBOM, pkgs []pkg.Package) [][]string {
	index := make(map[artifact.ID]int, len(pkgs))
	for i, p := range pkgs {
		index[p.ID()] = i
	}
	listed := make([][]string, len(pkgs))
	for _, r := range s.Relationships {
		if r.Type != artifact.ContainsRelationship || r.From == nil || r.To == nil {
			continue
		}
		c, isFile := r.To.(file.Coordinates)
		i, isPkg := index[r.From.ID()]
		if isFile && isPkg {
			listed[i] = append(listed[i], c.FullNestedPath())
		}
	}
	for i, p := range pkgs {
		if m, ok := p.Metadata.(pkg.DpkgDBEntry); ok {
			if files := dpkgListFiles(resolver, p, m); files != nil {
				// the .list file names every file md5sums and conffiles do
				listed[i] = append(listed[i], files...)
				continue
			}
		}
		fo, ok := p.Metadata.(pkg.FileOwner)
		if !ok {
			continue
		}
		for _, f := range fo.OwnedFiles() {
			if !path.IsAbs(f) {
				continue // relative to something Syft knows better (python RECORD); see relationships
			}
			locs, err := resolver.FilesByPath(f)
			if err != nil {
				continue
			}
			for _, l := range locs {
				listed[i] = append(listed[i], path.Clean(f), locPath(l))
			}
		}
	}
	for i := range listed {
		slices.Sort(listed[i])
		listed[i] = slices.Compact(listed[i])
	}
	return listed
}

// uniqueEvidence returns, per package index, the paths of its locations
// that are the location of no other package.
func uniqueEvidence(pkgs []pkg.Package) [][]string {
	count := map[string]int{}
	paths := make([][]string, len(pkgs))
	for i, p := range pkgs {
		for _, l := range p.Locations.ToSlice() {
			lp := locPath(l)
			if !slices.Contains(paths[i], lp) {
				paths[i] = append(paths[i], lp)
				count[lp]++
			}
		}
	}
	for i := range paths {
		paths[i] = slices.DeleteFunc(paths[i], func(p string) bool { return count[p] > 1 })
	}
	return paths
}

// claimNpmDirs gives every unowned non-directory file under the directory
// of an npm package's package.json to the innermost such package.
func claimNpmDirs(ctx context.Context, resolver file.Resolver, pkgs []pkg.Package, own map[string]int) error {
	dirs := map[string]int{}
	for i, p := range pkgs {
		loc := primaryPath(p)
		if p.Type != pkg.NpmPkg || path.Base(loc) != "package.json" {
			continue
		}
		if _, taken := dirs[path.Dir(loc)]; !taken {
			dirs[path.Dir(loc)] = i
		}
	}
	if len(dirs) == 0 {
		return nil
	}
	for l := range resolver.AllLocations(ctx) {
		p := locPath(l)
		if _, taken := own[p]; taken || isDir(resolver, l) {
			continue
		}
		for d := path.Dir(p); ; d = path.Dir(d) {
			if i, ok := dirs[d]; ok {
				own[p] = i
				break
			}
			if d == "/" || d == "." {
				break
			}
		}
	}
	return ctx.Err()
}

// isDir reports whether l is a directory.
func isDir(resolver file.Resolver, l file.Location) bool {
	m, err := resolver.FileMetadataByLocation(l)
	if err != nil {
		return false
	}
	if m.FileInfo != nil {
		return m.IsDir()
	}
	return m.Type.String() == "Directory"
}
