package inventory

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"path"
	"strings"

	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
)

// fileCataloger catalogs package files of one kind, one package per file,
// for the framings Syft's own catalogers leave out.
type fileCataloger struct {
	name, glob string
	// read returns the package the file read from r holds (its name,
	// version, type, metadata and licenses), nil when it holds none.
	read func(ctx context.Context, r io.Reader) *pkg.Package
}

func (c fileCataloger) Name() string { return c.name }

func (c fileCataloger) Catalog(ctx context.Context, resolver file.Resolver) ([]pkg.Package, []artifact.Relationship, error) {
	locs, err := resolver.FilesByGlob(c.glob)
	if err != nil {
		return nil, nil, err
	}
	var pkgs []pkg.Package
	for _, loc := range locs {
		if err := ctx.Err(); err != nil {
			return pkgs, nil, err
		}
		rc, err := resolver.FileContentsByLocation(loc)
		if err != nil {
			continue // the content scan reports what cannot be read
		}
		p := c.read(ctx, rc)
		rc.Close()
		if p == nil {
			continue // another framing, or damaged: the content scan sees it
		}
		p.Locations = file.NewLocationSet(loc.WithAnnotation(pkg.EvidenceAnnotationKey, pkg.PrimaryEvidenceAnnotation))
		p.SetID()
		pkgs = append(pkgs, *p)
	}
	return pkgs, nil, nil
}

// ipkCataloger catalogs opkg packages (.ipk) in the gzip'd tar framing
// that OpenWrt's ipkg-build writes: a tar.gz of debian-binary,
// control.tar.gz and data.tar.gz. Syft's deb-archive-cataloger reads only
// ar-framed packages, so an OpenWrt package's control file (name, version,
// maintainer) would otherwise be read as text and never judged as the
// package's identity. The packages are made as Syft makes those of .ipk
// files: type deb, DpkgArchiveEntry metadata, and no PURL (opkg has no
// purl type).
var ipkCataloger = fileCataloger{name: "ipk-tar-archive-cataloger", glob: "**/*.ipk", read: readIPK}

// Bounds on what one package may make us read.
const (
	maxControlArchive = 4 << 20
	maxControlFile    = 256 << 10
)

// readIPK returns the package of a tar-framed .ipk read from r.
func readIPK(ctx context.Context, r io.Reader) *pkg.Package {
	control, err := ipkControl(r)
	if err != nil || control == nil {
		return nil
	}
	m := controlEntry(control)
	if m.Package == "" {
		return nil
	}
	p := &pkg.Package{Name: m.Package, Version: m.Version, Type: pkg.DebPkg, Metadata: m}
	if lic := controlField(control, "License"); lic != "" {
		p.Licenses = pkg.NewLicenseSet(pkg.NewLicensesFromValuesWithContext(ctx, lic)...)
	}
	return p
}

// ipkControl returns the control file of a tar-framed .ipk read from r, or
// nil when r is not one.
func ipkControl(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return nil, nil
	}
	outer, err := gzip.NewReader(br)
	if err != nil {
		return nil, err
	}
	member, err := tarMember(outer, "control.tar.gz", maxControlArchive)
	if err != nil || member == nil {
		return nil, err
	}
	inner, err := gzip.NewReader(bytes.NewReader(member))
	if err != nil {
		return nil, err
	}
	return tarMember(inner, "control", maxControlFile)
}

// tarMember returns the content of the regular file named name (with or
// without a leading "./") in the tar stream r, at most max bytes; nil
// when there is none.
func tarMember(r io.Reader, name string, max int64) ([]byte, error) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg || strings.TrimPrefix(path.Clean("/"+h.Name), "/") != name {
			continue
		}
		if h.Size > max {
			return nil, errors.New(name + " too large")
		}
		return io.ReadAll(io.LimitReader(tr, max))
	}
}

// controlEntry reads the fields of a Debian-style control file that Syft
// keeps for a package file.
func controlEntry(control []byte) pkg.DpkgArchiveEntry {
	split := func(v string) []string {
		var out []string
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
		return out
	}
	return pkg.DpkgArchiveEntry{
		Package:      controlField(control, "Package"),
		Source:       controlField(control, "Source"),
		Version:      controlField(control, "Version"),
		Architecture: controlField(control, "Architecture"),
		Maintainer:   controlField(control, "Maintainer"),
		Description:  controlField(control, "Description"),
		Provides:     split(controlField(control, "Provides")),
		Depends:      split(controlField(control, "Depends")),
		PreDepends:   split(controlField(control, "Pre-Depends")),
	}
}

// controlField returns the value of the field key (case-insensitive) of
// the first stanza of a control file, continuation lines joined by
// newlines; "" when absent.
func controlField(control []byte, key string) string {
	var val []string
	in := false
	for _, line := range strings.Split(string(control), "\n") {
		line = strings.TrimRight(line, "\r")
		switch {
		case line == "":
			if in || len(val) > 0 {
				return strings.Join(val, "\n")
			}
			return ""
		case line[0] == ' ' || line[0] == '\t':
			if in {
				val = append(val, strings.TrimSpace(line))
			}
		default:
			if in {
				return strings.Join(val, "\n")
			}
			k, v, ok := strings.Cut(line, ":")
			if ok && strings.EqualFold(strings.TrimSpace(k), key) {
				in, val = true, []string{strings.TrimSpace(v)}
			}
		}
	}
	return strings.Join(val, "\n")
}
