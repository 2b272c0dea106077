package ingest

import (
	"context"
	"fmt"
	"sort"
)

// The CycloneDX decoders (strict via cyclonedx-go, tolerant via token
// streams; JSON and XML each) all reduce a component to the small views
// below and hand them to one emitter, so that the Fields and Locations they
// produce are identical by construction.
//
// Field order within a component is canonical rather than textual: name,
// group, version, supplier, manufacturer, author, authors, publisher,
// copyright, description, purl, cpe, swid, hashes, licenses, external
// references, properties (services: name, group, version, provider,
// description, endpoints, licenses, external references, properties).
// Repeated members keep document order. Components are listed depth-first,
// parents before children, children in the order: nested components,
// pedigree ancestors, descendants, variants.
//
// Document-level identity (metadata.supplier, metadata.manufacturer,
// metadata.manufacture, metadata.authors, metadata.licenses,
// metadata.properties, and the BOM's own externalReferences and properties)
// becomes the fields of a synthetic first Component of Type "document" at
// Location "/metadata" ("/bom/metadata" in XML). metadata.component stays a
// component of its own, listed next. Not read: metadata.tools (the tools
// that wrote the SBOM are not part of the product), component evidence,
// formulation, declarations, vulnerabilities, dependencies.

// supportedCDX lists the CycloneDX versions Decode reads.
var supportedCDX = map[string]bool{"1.2": true, "1.3": true, "1.4": true, "1.5": true, "1.6": true, "1.7": true}

// checkCDXVersion refuses CycloneDX versions other than 1.2 to 1.7.
func checkCDXVersion(v string) error {
	if supportedCDX[v] {
		return nil
	}
	if v == "" {
		return fmt.Errorf("missing version (supported: 1.2 to 1.7)")
	}
	return fmt.Errorf("unsupported version %q (supported: 1.2 to 1.7)", v)
}

// cdxEntity is an organizational entity: supplier, manufacturer, provider.
type cdxEntity struct {
	Name    string       `json:"name" xml:"name"`
	URL     []string     `json:"url" xml:"url"`
	Contact []cdxContact `json:"contact" xml:"contact"`
}

// cdxContact is an organizational contact or author.
type cdxContact struct {
	Name  string `json:"name" xml:"name"`
	Email string `json:"email" xml:"email"`
}

// cdxHash is a hash.
type cdxHash struct {
	Alg     string `json:"alg" xml:"alg,attr"`
	Content string `json:"content" xml:",chardata"`
}

// cdxLicense is one licence choice: a licence (id or name) or an expression.
type cdxLicense struct {
	// License is set when the choice is a licence object / <license>.
	License  bool
	ID, Name string
	// Expression is the SPDX expression of an expression choice.
	Expression string
	// Detailed marks an XML <expression-detailed> element.
	Detailed bool
}

// cdxExtRef is an external reference.
type cdxExtRef struct {
	Type string `json:"type" xml:"type,attr"`
	URL  string `json:"url" xml:"url"`
}

// cdxProperty is a name/value property.
type cdxProperty struct {
	Name  string `json:"name" xml:"name,attr"`
	Value string `json:"value" xml:",chardata"`
}

// cdxSWID is the identity part of a SWID tag.
type cdxSWID struct {
	TagID string `json:"tagId" xml:"tagId,attr"`
	Name  string `json:"name" xml:"name,attr"`
}

// cdxComponent is the identity view of a component.
type cdxComponent struct {
	Ref, Type, Name, Group, Version           string
	Author, Publisher, Copyright, Description string
	PURL, CPE                                 string
	Supplier, Manufacturer                    *cdxEntity
	Authors                                   []cdxContact
	SWID                                      *cdxSWID
	Hashes                                    []cdxHash
	Licenses                                  []cdxLicense
	ExternalReferences                        []cdxExtRef
	Properties                                []cdxProperty
}

// cdxService is the identity view of a service.
type cdxService struct {
	Ref, Name, Group, Version, Description string
	Provider                               *cdxEntity
	Endpoints                              []string
	Licenses                               []cdxLicense
	ExternalReferences                     []cdxExtRef
	Properties                             []cdxProperty
}

// cdxMeta is the identity view of the document itself.
type cdxMeta struct {
	Supplier, Manufacturer, Manufacture *cdxEntity
	Authors                             []cdxContact
	Licenses                            []cdxLicense
	Properties                          []cdxProperty
	BOMExternalReferences               []cdxExtRef
	BOMProperties                       []cdxProperty
}

// Child slots order the children of a tolerant-walker node: at the root,
// the document's metadata component, then components, then services; in a
// component, nested components, then pedigree ancestors, descendants and
// variants.
const (
	slotMetaComponent = 1
	slotComponents    = 2
	slotServices      = 3

	slotNested      = 0
	slotAncestors   = 1
	slotDescendants = 2
	slotVariants    = 3
)

// pedigreeSlot returns the child slot of a pedigree member.
func pedigreeSlot(key string) (int, bool) {
	switch key {
	case "ancestors":
		return slotAncestors, true
	case "descendants":
		return slotDescendants, true
	case "variants":
		return slotVariants, true
	}
	return 0, false
}

// cdxNode is a component or service found by a tolerant walker, with its
// children in the order they were found.
type cdxNode struct {
	comp     *cdxComponent
	svc      *cdxService
	loc      string
	slot     int
	children []*cdxNode
}

// cdxPending is a component or service reduced to its view and located,
// waiting to be emitted.
type cdxPending struct {
	comp *cdxComponent
	svc  *cdxService
	loc  string
}

// cdxParsed is a CycloneDX document reduced to views: all that emitCDX
// needs. The decoders fill it; nothing in it refers to the input bytes.
type cdxParsed struct {
	format     Format
	version    string
	serial     string
	meta       *cdxMeta
	pending    []cdxPending // depth-first, parents before children
	aggregates []string
}

// flattenTree appends the nodes below root to out depth-first, parents
// before children and children in slot order, without recursion.
func flattenTree(ctx context.Context, root *cdxNode, out []cdxPending) ([]cdxPending, error) {
	stack := []*cdxNode{root}
	for n := 0; len(stack) > 0; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		nd := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if nd.comp != nil || nd.svc != nil {
			out = append(out, cdxPending{comp: nd.comp, svc: nd.svc, loc: nd.loc})
		}
		sort.SliceStable(nd.children, func(i, j int) bool { return nd.children[i].slot < nd.children[j].slot })
		for i := len(nd.children) - 1; i >= 0; i-- {
			stack = append(stack, nd.children[i])
		}
		nd.children = nil
	}
	return out, nil
}
