package inventory

import (
	"context"

	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/cataloging/pkgcataloging"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/pkg/cataloger/binary"
	"github.com/anchore/syft/syft/pkg/cataloger/dotnet"
	"github.com/anchore/syft/syft/pkg/cataloger/golang"
	"github.com/anchore/syft/syft/pkg/cataloger/java"
	"github.com/anchore/syft/syft/pkg/cataloger/rust"
)

// Five of Syft's catalogers open every executable of a tree, each looking
// for one kind of record that few executables carry: Go build info, a
// cargo-auditable dependency section, a package note, a GraalVM native
// image's embedded SBOM, a .NET single-file bundle. On an image that means
// decompressing every executable five more times. Each record cannot be
// found without certain bytes in the file (a section name, a magic, a
// symbol name), and the content scan, which reads every byte anyway,
// notes which executables hold them (the markers). Each of these
// catalogers is then shown only the executables holding one of its
// markers, and still parses them itself.
type binaryCataloger struct {
	// markers: a file holding none of these has nothing for the cataloger.
	markers []string
	make    func(pkgcataloging.Config) pkg.Cataloger
}

// dotnetBundleSignature is the signature a .NET single-file bundle's
// header offset is found by (what Syft's dotnet-deps-binary-cataloger
// searches every ELF executable for).
const dotnetBundleSignature = "\x8b\x12\x02\xb9\x6a\x61\x20\x38\x72\x7b\x93\x02\x14\xd7\xa0\x32" +
	"\x13\xf5\xb9\xe6\xef\xae\x33\x18\xee\x3b\x2d\xce\x24\xb3\x6a\xae"

var binaryCatalogers = []binaryCataloger{
	// debug/buildinfo finds the build info by this magic; a UPX-packed
	// binary hides it, and Syft unpacks one first.
	{[]string{"\xff Go buildinf:", "UPX!"}, func(c pkgcataloging.Config) pkg.Cataloger {
		return golang.NewGoModuleBinaryCataloger(c.Golang)
	}},
	// Section .dep-v0 (ELF, PE, Mach-O), rdep-v0 (PE), .rust-deps-v0 and
	// rust-deps-v0 (older releases): its name is in the section names.
	{[]string{"dep-v0", "deps-v0"}, func(pkgcataloging.Config) pkg.Cataloger {
		return rust.NewAuditBinaryCataloger()
	}},
	// The section holding the package note.
	{[]string{".note.package"}, func(pkgcataloging.Config) pkg.Cataloger {
		return binary.NewELFPackageCataloger()
	}},
	// The symbol every native image exports (with a leading "_" in
	// Mach-O).
	{[]string{"__svm_version_info"}, func(pkgcataloging.Config) pkg.Cataloger {
		return java.NewNativeImageCataloger()
	}},
	// Only the ELF bundle search goes by MIME type; .NET PE files are
	// found by name and not narrowed.
	{[]string{dotnetBundleSignature}, func(c pkgcataloging.Config) pkg.Cataloger {
		return dotnet.NewDotnetDepsBinaryCataloger(c.Dotnet)
	}},
}

// Markers returns the byte strings the content scan should note per file
// (fscan.New), in the order of the bits Types.Set takes.
func Markers() [][]byte {
	var out [][]byte
	for _, c := range binaryCatalogers {
		for _, m := range c.markers {
			out = append(out, []byte(m))
		}
	}
	return out
}

// Rereads says whether Syft's catalogers will read again a binary of this
// binmeta format holding these markers (bit i for Markers()[i]): the
// narrowed catalogers read the marked ones. Zips (jars) are read again
// too, by the Java cataloger, but it copies each one to a file of its
// own anyway: a spilled copy made a 1.4 GB image no faster, only wrote
// more.
func Rereads(_ string, marks uint64) bool {
	return marks != 0
}

// narrowedCatalogers returns the catalogers above for cfg, each seeing only
// the executables whose marks (from types) hold one of its markers.
func narrowedCatalogers(cfg pkgcataloging.Config, types *Types) []pkg.Cataloger {
	var out []pkg.Cataloger
	bit := 0
	for _, c := range binaryCatalogers {
		var mask uint64
		for range c.markers {
			mask |= 1 << bit
			bit++
		}
		out = append(out, narrowed{Cataloger: c.make(cfg), mask: mask, types: types})
	}
	return out
}

// narrowed is a Syft cataloger that sees, of the files it asks for by
// MIME type, only those holding one of its markers. Its name is the
// cataloger's own, so the SBOM reads as Syft's.
type narrowed struct {
	pkg.Cataloger
	mask  uint64
	types *Types
}

func (n narrowed) Catalog(ctx context.Context, r file.Resolver) ([]pkg.Package, []artifact.Relationship, error) {
	return n.Cataloger.Catalog(ctx, markedResolver{Resolver: r, ctx: ctx, mask: n.mask, types: n.types})
}

// markedResolver is r with FilesByMIMEType narrowed to marked files.
type markedResolver struct {
	file.Resolver
	ctx   context.Context
	mask  uint64
	types *Types
}

func (r markedResolver) FilesByMIMEType(types ...string) ([]file.Location, error) {
	locs, err := r.Resolver.FilesByMIMEType(types...)
	if err != nil {
		return nil, err
	}
	_, marks := r.types.get(r.ctx)
	out := locs[:0]
	for _, l := range locs {
		if marks[l.RealPath]&r.mask != 0 {
			out = append(out, l)
		}
	}
	return out, nil
}
