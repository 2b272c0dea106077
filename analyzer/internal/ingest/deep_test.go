package ingest

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
)

// deepDepth is how deeply the generated documents nest components.
const deepDepth = 20000

// deepCycloneDX generates a CycloneDX document whose components nest
// depth levels deep, each the only child of the one before.
func deepCycloneDX(xml bool, depth int) []byte {
	var b bytes.Buffer
	if xml {
		b.WriteString(`<?xml version="1.0"?>` + "\n" + `<bom xmlns="http://cyclonedx.org/schema/bom/1.6" version="1"><components>`)
		for i := 0; i < depth; i++ {
			fmt.Fprintf(&b, `<component type="library"><name>c%d</name><components>`, i)
		}
		for i := 0; i < depth; i++ {
			b.WriteString(`</components></component>`)
		}
		b.WriteString(`</components></bom>`)
		return b.Bytes()
	}
	b.WriteString(`{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "components": [`)
	for i := 0; i < depth; i++ {
		fmt.Fprintf(&b, `{"type": "library", "name": "c%d", "components": [`, i)
	}
	for i := 0; i < depth; i++ {
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// TestDeepNesting decodes CycloneDX JSON and XML documents with components
// nested 20,000 levels deep, far beyond encoding/json's and encoding/xml's
// limit of 10,000, under a small goroutine stack limit: the walkers are
// iterative, so the stack does not grow with the depth.
func TestDeepNesting(t *testing.T) {
	// Not parallel: the stack limit applies to the whole process.
	defer debug.SetMaxStack(debug.SetMaxStack(16 << 20))
	for _, xml := range []bool{false, true} {
		name := "json"
		if xml {
			name = "xml"
		}
		t.Run(name, func(t *testing.T) {
			data := deepCycloneDX(xml, deepDepth)
			doc, err := Decode(context.Background(), "deep."+name, bytes.NewReader(data), Options{})
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if len(doc.Components) != deepDepth {
				t.Fatalf("got %d components, want %d", len(doc.Components), deepDepth)
			}
			for i, c := range doc.Components {
				if want := fmt.Sprintf("c%d", i); c.Name != want {
					t.Fatalf("component %d is %q, want %q", i, c.Name, want)
				}
				if len(c.Location) > maxLocationLen || len(c.Fields) != 1 || len(c.Fields[0].Location) > maxLocationLen {
					t.Fatalf("component %d: location too long or fields wrong: %q, %+v", i, c.Location, c.Fields)
				}
			}
			last := doc.Components[deepDepth-1]
			suffix := "/components/0/name"
			if xml {
				suffix = "/components/component[1]/name"
			}
			if !strings.Contains(last.Fields[0].Location, elided) || !strings.HasSuffix(last.Fields[0].Location, suffix) {
				t.Errorf("deepest field location %q: want an elided path ending in %q", last.Fields[0].Location, suffix)
			}
			if len(doc.Notes) != 1 || !strings.Contains(doc.Notes[0], "iterative tolerant decoder") {
				t.Errorf("Notes = %q, want a note about the tolerant decoder", doc.Notes)
			}
		})
	}
}

// TestShortenLoc checks the shortening of over-long locations.
func TestShortenLoc(t *testing.T) {
	t.Parallel()
	loc := ""
	for i := 0; i < 1000; i++ {
		loc = joinLoc(loc, "/components/"+itoa(i%10))
		if len(loc) > maxLocationLen {
			t.Fatalf("step %d: location is %d bytes long", i, len(loc))
		}
	}
	if !strings.HasPrefix(loc, "/components/0/components/1/") || !strings.Contains(loc, elided+"/") || !strings.HasSuffix(loc, "/components/9") {
		t.Errorf("shortened location %q does not keep its head and tail", loc)
	}
	if got := joinLoc("/a", "/b"); got != "/a/b" {
		t.Errorf("joinLoc(/a, /b) = %q", got)
	}
}
