package inventory

import (
	"context"
	"testing"

	"github.com/anchore/syft/syft"
	"github.com/anchore/syft/syft/cataloging"
)

// BenchmarkCatalog catalogs the extracted base + web UI appliance tree
// (Debian base with dpkg database, one installed npm package with 556
// files, and the console's own package.json). "fresh" is one Catalog call
// as a program makes it; "shared-license-scanner" builds Syft's license
// scanner once on the context, which is how a program cataloging many
// trees saves its start-up cost on every call after the first.
func BenchmarkCatalog(b *testing.B) {
	root := extractFixtures(b, "base.tar.gz", "webui.tar.gz")
	bench := func(b *testing.B, ctx context.Context) {
		b.ReportAllocs()
		for b.Loop() {
			res, err := Catalog(ctx, root, Options{})
			if err != nil {
				b.Fatal(err)
			}
			if len(res.Components) == 0 {
				b.Fatal("no components")
			}
		}
	}
	b.Run("fresh", func(b *testing.B) { bench(b, context.Background()) })
	b.Run("shared-license-scanner", func(b *testing.B) {
		ctx, err := syft.SetContextLicenseScanner(context.Background(), cataloging.DefaultLicenseConfig())
		if err != nil {
			b.Fatal(err)
		}
		bench(b, ctx)
	})
}
