package inventory

import (
	"context"
	"strings"
	"testing"

	"github.com/anchore/syft/syft/source"

	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
)

// TestCatalogImage catalogs the tainted appliance image in both archive
// layouts. The images hold the Debian base and the engine, not the web UI.
func TestCatalogImage(t *testing.T) {
	for _, name := range []string{"tainted.docker.tar", "tainted.oci.tar"} {
		t.Run(name, func(t *testing.T) {
			res, err := CatalogImage(context.Background(), fixture(t, name), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := res.SBOM.Source.Metadata.(source.ImageMetadata); !ok {
				t.Errorf("source metadata %T, want ImageMetadata", res.SBOM.Source.Metadata)
			}
			i := findComponent(res, "deb", "busybox")
			if i < 0 {
				t.Fatalf("busybox not found in %d components", len(res.Components))
			}
			c := res.Components[i]
			if c.Location != "/var/lib/dpkg/status" || !strings.HasPrefix(c.PURL, "pkg:deb/debian/busybox@") {
				t.Errorf("busybox: %s at %s", c.PURL, c.Location)
			}
			wantField(t, c, ingest.KindSupplier, "maintainer",
				"Debian Install System Team <debian-boot@lists.debian.org>",
				"/var/lib/dpkg/status#Maintainer (package busybox)")
			if got, ok := res.Owners["/bin/busybox"]; !ok || got != i {
				t.Errorf("Owners[/bin/busybox] = %d, %v; want %d", got, ok, i)
			}
			if findComponent(res, "npm", "@kaspersky/hexa-ui-core") >= 0 {
				t.Error("the image has no web UI, but hexa-ui-core was found")
			}
		})
	}
}
