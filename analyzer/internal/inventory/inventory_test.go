package inventory

import (
	"context"
	"strings"
	"testing"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/source"
	"github.com/anchore/syft/syft/source/directorysource"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// findComponent returns the index of the component with the given type and
// name, or -1.
func findComponent(r *Result, typ, name string) int {
	for i, c := range r.Components {
		if c.Type == typ && c.Name == name {
			return i
		}
	}
	return -1
}

// fieldsOf returns the fields of c of the given kind and qualifier.
func fieldsOf(c ingest.Component, kind ingest.FieldKind, qualifier string) []ingest.Field {
	var out []ingest.Field
	for _, f := range c.Fields {
		if f.Kind == kind && f.Qualifier == qualifier {
			out = append(out, f)
		}
	}
	return out
}

// wantField fails unless c has a field of kind and qualifier with value at
// location loc.
func wantField(t *testing.T, c ingest.Component, kind ingest.FieldKind, qualifier, value, loc string) {
	t.Helper()
	for _, f := range fieldsOf(c, kind, qualifier) {
		if f.Value == value && f.Location == loc {
			return
		}
	}
	t.Errorf("%s: no %s/%s field %q at %q; fields: %+v", c.Name, kind, qualifier, value, loc, c.Fields)
}

func TestCatalogApplianceTree(t *testing.T) {
	root := extractFixtures(t, "base.tar.gz", "webui.tar.gz")
	res, err := Catalog(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Components {
		t.Logf("%-4s %-24s %-28s %s", c.Type, c.Name, c.Version, c.Location)
	}
	if _, ok := res.SBOM.Source.Metadata.(source.DirectoryMetadata); !ok {
		t.Errorf("source metadata %T, want DirectoryMetadata", res.SBOM.Source.Metadata)
	}

	t.Run("debian", func(t *testing.T) {
		maint := map[string]string{
			"base-files": "Santiago Vila <sanvila@debian.org>",
			"busybox":    "Debian Install System Team <debian-boot@lists.debian.org>",
			"libc6":      "GNU Libc Maintainers <debian-glibc@lists.debian.org>",
			"zlib1g":     "Mark Brown <broonie@debian.org>",
		}
		for name, m := range maint {
			i := findComponent(res, "deb", name)
			if i < 0 {
				t.Errorf("deb %s not found", name)
				continue
			}
			c := res.Components[i]
			if !strings.HasPrefix(c.PURL, "pkg:deb/debian/"+name+"@") {
				t.Errorf("%s: purl %q", name, c.PURL)
			}
			if c.Location != "/var/lib/dpkg/status" {
				t.Errorf("%s: location %q", name, c.Location)
			}
			wantField(t, c, ingest.KindSupplier, "maintainer", m, "/var/lib/dpkg/status#Maintainer (package "+name+")")
			wantField(t, c, ingest.KindName, "", name, "/var/lib/dpkg/status#Package (package "+name+")")
			wantField(t, c, ingest.KindPURL, "", c.PURL, "/var/lib/dpkg/status#purl (package "+name+")")
		}
		bb := res.Components[findComponent(res, "deb", "busybox")]
		wantField(t, bb, ingest.KindEmail, "maintainer", "debian-boot@lists.debian.org", "/var/lib/dpkg/status#Maintainer (package busybox)")
		if bb.Version != "1:1.35.0-4+deb12u1+b1" {
			t.Errorf("busybox version %q", bb.Version)
		}
		if len(fieldsOf(bb, ingest.KindCPE, "syft-generated"))+len(fieldsOf(bb, ingest.KindCPE, "nvd-cpe-dictionary")) == 0 {
			t.Errorf("busybox has no CPE: %+v", bb.Fields)
		}
		zlib := res.Components[findComponent(res, "deb", "zlib1g")]
		wantField(t, zlib, ingest.KindLicense, "declared", "Zlib", "/usr/share/doc/zlib1g/copyright#License")
	})

	t.Run("npm", func(t *testing.T) {
		i := findComponent(res, "npm", "@kaspersky/hexa-ui-core")
		if i < 0 {
			t.Fatal("@kaspersky/hexa-ui-core not found")
		}
		c := res.Components[i]
		const pj = "/usr/share/netwarden-ui/node_modules/@kaspersky/hexa-ui-core/package.json"
		if c.Version != "0.9.12" || c.Location != pj {
			t.Errorf("got %s %s at %s", c.Name, c.Version, c.Location)
		}
		if !strings.HasPrefix(c.PURL, "pkg:npm/%40kaspersky/hexa-ui-core@0.9.12") {
			t.Errorf("purl %q", c.PURL)
		}
		wantField(t, c, ingest.KindAuthor, "author", "AO Kaspersky Lab", pj+"#author")
		wantField(t, c, ingest.KindURL, "homepage", "https://github.com/KasperskyLab/uif#readme", pj+"#homepage")
		wantField(t, c, ingest.KindURL, "vcs", "KasperskyLab/uif", pj+"#repository")
		wantField(t, c, ingest.KindGroup, "scope", "@kaspersky", pj+"#name")
		wantField(t, c, ingest.KindLicense, "declared", "Apache-2.0", pj+"#license")
		wantField(t, c, ingest.KindProperty, "location", pj, pj)
		p := res.SBOM.Artifacts.Packages.Package(artifact.ID(c.Ref))
		if p == nil || p.FoundBy != "javascript-package-cataloger" {
			t.Errorf("package in SBOM: %+v", p)
		}
		if findComponent(res, "npm", "netwarden-ui") < 0 {
			t.Error("the web console's own package.json was not cataloged")
		}
	})

	t.Run("owners", func(t *testing.T) {
		idx := func(typ, name string) int {
			i := findComponent(res, typ, name)
			if i < 0 {
				t.Fatalf("%s %s not found", typ, name)
			}
			return i
		}
		busybox, libc, hexa, ui := idx("deb", "busybox"), idx("deb", "libc6"), idx("npm", "@kaspersky/hexa-ui-core"), idx("npm", "netwarden-ui")
		const hexaDir = "/usr/share/netwarden-ui/node_modules/@kaspersky/hexa-ui-core"
		for p, want := range map[string]int{
			"/bin/busybox":                         busybox, // listed in info/busybox.list
			"/usr/share/doc/busybox/copyright":     busybox,
			"/var/lib/dpkg/info/busybox.md5sums":   busybox, // evidence of busybox only
			"/lib/x86_64-linux-gnu/libc.so.6":      libc,
			"/lib64/ld-linux-x86-64.so.2":          libc, // in libc6:amd64.list only: a symlink
			"/var/lib/dpkg/info/libc6:amd64.list":  libc,
			hexaDir + "/package.json":              hexa,
			hexaDir + "/README.md":                 hexa, // inside the package directory
			hexaDir + "/colors/css/accordion.d.ts": hexa,
			"/usr/share/netwarden-ui/package.json": ui,
		} {
			got, ok := res.Owners[p]
			if !ok || got != want {
				t.Errorf("Owners[%s] = %d, %v; want %d (%s)", p, got, ok, want, res.Components[want].Name)
			}
		}
		if i, ok := res.Owners["/var/lib/dpkg/status"]; ok {
			t.Errorf("/var/lib/dpkg/status is shared evidence but owned by %d", i)
		}
		for p, i := range res.Owners {
			if !strings.HasPrefix(p, "/") || i < 0 || i >= len(res.Components) {
				t.Errorf("bad owner entry %q -> %d", p, i)
			}
		}
	})

	t.Run("fields", func(t *testing.T) {
		for _, c := range res.Components {
			if c.Ref == "" || !strings.HasPrefix(c.Location, "/") {
				t.Errorf("%s: ref %q location %q", c.Name, c.Ref, c.Location)
			}
			for _, f := range c.Fields {
				if !strings.HasPrefix(f.Location, "/") || (f.Kind != ingest.KindProperty && !strings.Contains(f.Location, "#")) {
					t.Errorf("%s: field %+v has an imprecise location", c.Name, f)
				}
			}
		}
	})
}

// catalogDirWith is Catalog with an explicit Syft configuration.
func catalogDirWith(ctx context.Context, root string, cfg *syft.CreateSBOMConfig) (*Result, error) {
	src, err := directorysource.New(directorysource.Config{Path: root, Base: root})
	if err != nil {
		return nil, err
	}
	return run(ctx, root, src, cfg)
}

func TestCatalogDeterministic(t *testing.T) {
	root := extractFixtures(t, "base.tar.gz", "webui.tar.gz")
	a, err := Catalog(context.Background(), root, Options{Parallelism: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Catalog(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Components) != len(b.Components) {
		t.Fatalf("%d vs %d components", len(a.Components), len(b.Components))
	}
	for i := range a.Components {
		ca, cb := a.Components[i], b.Components[i]
		if ca.Ref != cb.Ref || ca.Location != cb.Location || len(ca.Fields) != len(cb.Fields) {
			t.Errorf("component %d differs: %s@%s vs %s@%s", i, ca.Name, ca.Location, cb.Name, cb.Location)
			continue
		}
		for j := range ca.Fields {
			if ca.Fields[j] != cb.Fields[j] {
				t.Errorf("%s field %d: %+v vs %+v", ca.Name, j, ca.Fields[j], cb.Fields[j])
			}
		}
	}
	if len(a.Owners) != len(b.Owners) {
		t.Errorf("owners: %d vs %d", len(a.Owners), len(b.Owners))
	}
	for p, i := range a.Owners {
		if b.Owners[p] != i {
			t.Errorf("Owners[%s]: %d vs %d", p, i, b.Owners[p])
		}
	}
}

// TestImageSelectionFindsInstalledNPM proves why the "image" cataloger
// selection is used for a root filesystem: with Syft's directory defaults
// an installed node_modules package (no lock file) is not found at all.
func TestImageSelectionFindsInstalledNPM(t *testing.T) {
	root := extractFixtures(t, "webui.tar.gz")
	count := func(res *Result) int {
		n := 0
		for _, c := range res.Components {
			if c.Type == string(pkg.NpmPkg) && c.Name == "@kaspersky/hexa-ui-core" {
				n++
			}
		}
		return n
	}
	img, err := Catalog(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dir, err := catalogDirWith(context.Background(), root, sbomConfig(Options{}, "directory"))
	if err != nil {
		t.Fatal(err)
	}
	if count(img) != 1 || count(dir) != 0 {
		t.Errorf("hexa-ui-core found %d times with the image selection (want 1), %d times with the directory defaults (want 0)", count(img), count(dir))
	}
}

func TestCatalogEmptyDir(t *testing.T) {
	res, err := Catalog(context.Background(), t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Components) != 0 || len(res.Owners) != 0 || len(res.Unknowns) != 0 {
		t.Errorf("empty dir: %d components, %d owners, %d unknowns", len(res.Components), len(res.Owners), len(res.Unknowns))
	}
	if res.SBOM == nil {
		t.Error("no SBOM")
	}
}

func TestCatalogErrors(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if _, err := Catalog(ctx, dir+"/missing", Options{}); err == nil || !strings.Contains(err.Error(), "cataloging ") {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := Catalog(ctx, fixture(t, "README.md"), Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("regular file: %v", err)
	}
}

func TestCatalogFiles(t *testing.T) {
	root := extractFixtures(t, "base.tar.gz")
	without, err := Catalog(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	with, err := Catalog(context.Background(), root, Options{Files: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(without.SBOM.Artifacts.FileDigests); n != 0 {
		t.Errorf("Files=false: %d file digests", n)
	}
	if len(with.SBOM.Artifacts.FileDigests) == 0 || len(with.SBOM.Artifacts.Executables) == 0 {
		t.Errorf("Files=true: %d digests, %d executables", len(with.SBOM.Artifacts.FileDigests), len(with.SBOM.Artifacts.Executables))
	}
	if len(with.Components) != len(without.Components) {
		t.Errorf("components: %d with files, %d without", len(with.Components), len(without.Components))
	}
}
