package ingest

import (
	"context"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// This file walks a BOM decoded by cyclonedx-go, iteratively, and reduces
// what it finds to the views of cyclonedx_model.go.

// cdxRoot is a cyclonedx-go component or service and its location.
type cdxRoot struct {
	c   *cdx.Component
	s   *cdx.Service
	loc string
}

// collectCDX appends to out the views of root and of everything nested in
// it, depth-first, parents before children, children in the order nested
// components, pedigree ancestors, descendants, variants (services: nested
// services). It walks with an explicit stack and releases each cyclonedx-go
// struct once its view is taken, so memory falls while it walks.
func collectCDX(ctx context.Context, e *cdxEmitter, root cdxRoot, out []cdxPending) ([]cdxPending, error) {
	stack := []cdxRoot{root}
	pushComps := func(list *[]cdx.Component, parent, container string) {
		if list == nil {
			return
		}
		for i := len(*list) - 1; i >= 0; i-- {
			stack = append(stack, cdxRoot{c: &(*list)[i], loc: e.item(parent, container, "component", i)})
		}
	}
	for n := 1; len(stack) > 0; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if s := it.s; s != nil {
			out = append(out, cdxPending{svc: serviceFromCDX(s), loc: it.loc})
			if s.Services != nil {
				for i := len(*s.Services) - 1; i >= 0; i-- {
					stack = append(stack, cdxRoot{s: &(*s.Services)[i], loc: e.item(it.loc, "services", "service", i)})
				}
			}
			*s = cdx.Service{}
			continue
		}
		c := it.c
		out = append(out, cdxPending{comp: componentFromCDX(c), loc: it.loc})
		if p := c.Pedigree; p != nil {
			pl := e.member(it.loc, "pedigree")
			pushComps(p.Variants, pl, "variants")
			pushComps(p.Descendants, pl, "descendants")
			pushComps(p.Ancestors, pl, "ancestors")
		}
		pushComps(c.Components, it.loc, "components")
		*c = cdx.Component{}
	}
	return out, nil
}

// parseCDXBOM reduces a whole cyclonedx-go BOM to views.
func parseCDXBOM(ctx context.Context, bom *cdx.BOM, format Format, version string) (*cdxParsed, error) {
	e := &cdxEmitter{xml: format == CycloneDXXML}
	p := &cdxParsed{format: format, version: version, serial: bom.SerialNumber, meta: metaFromCDX(bom)}
	root := e.root()
	var err error
	if bom.Metadata != nil && bom.Metadata.Component != nil {
		if p.pending, err = collectCDX(ctx, e, cdxRoot{c: bom.Metadata.Component, loc: e.member(e.member(root, "metadata"), "component")}, p.pending); err != nil {
			return nil, err
		}
	}
	if bom.Components != nil {
		for i := range *bom.Components {
			if p.pending, err = collectCDX(ctx, e, cdxRoot{c: &(*bom.Components)[i], loc: e.item(root, "components", "component", i)}, p.pending); err != nil {
				return nil, err
			}
		}
	}
	if bom.Services != nil {
		for i := range *bom.Services {
			if p.pending, err = collectCDX(ctx, e, cdxRoot{s: &(*bom.Services)[i], loc: e.item(root, "services", "service", i)}, p.pending); err != nil {
				return nil, err
			}
		}
	}
	p.aggregates = aggregatesFromCDX(bom.Compositions)
	return p, nil
}

// aggregatesFromCDX lists the aggregates of compositions.
func aggregatesFromCDX(list *[]cdx.Composition) []string {
	if list == nil {
		return nil
	}
	out := make([]string, len(*list))
	for i, c := range *list {
		out[i] = string(c.Aggregate)
	}
	return out
}

// metaFromCDX builds the document view.
func metaFromCDX(bom *cdx.BOM) *cdxMeta {
	m := &cdxMeta{
		BOMExternalReferences: extRefsFromCDX(bom.ExternalReferences),
		BOMProperties:         propsFromCDX(bom.Properties),
	}
	if md := bom.Metadata; md != nil {
		m.Supplier = entityFromCDX(md.Supplier)
		m.Manufacturer = entityFromCDX(md.Manufacturer)
		m.Manufacture = entityFromCDX(md.Manufacture)
		m.Authors = contactsFromCDX(md.Authors)
		m.Licenses = licensesFromCDX(md.Licenses)
		m.Properties = propsFromCDX(md.Properties)
	}
	return m
}

// componentFromCDX builds a component view.
func componentFromCDX(c *cdx.Component) *cdxComponent {
	v := &cdxComponent{
		Ref: c.BOMRef, Type: string(c.Type), Name: c.Name, Group: c.Group, Version: c.Version,
		Author: c.Author, Publisher: c.Publisher, Copyright: c.Copyright, Description: c.Description,
		PURL: c.PackageURL, CPE: c.CPE,
		Supplier:           entityFromCDX(c.Supplier),
		Manufacturer:       entityFromCDX(c.Manufacturer),
		Authors:            contactsFromCDX(c.Authors),
		Hashes:             hashesFromCDX(c.Hashes),
		Licenses:           licensesFromCDX(c.Licenses),
		ExternalReferences: extRefsFromCDX(c.ExternalReferences),
		Properties:         propsFromCDX(c.Properties),
	}
	if c.SWID != nil {
		v.SWID = &cdxSWID{TagID: c.SWID.TagID, Name: c.SWID.Name}
	}
	return v
}

// serviceFromCDX builds a service view.
func serviceFromCDX(s *cdx.Service) *cdxService {
	v := &cdxService{
		Ref: s.BOMRef, Name: s.Name, Group: s.Group, Version: s.Version, Description: s.Description,
		Provider:           entityFromCDX(s.Provider),
		Licenses:           licensesFromCDX(s.Licenses),
		ExternalReferences: extRefsFromCDX(s.ExternalReferences),
		Properties:         propsFromCDX(s.Properties),
	}
	if s.Endpoints != nil {
		v.Endpoints = *s.Endpoints
	}
	return v
}

// entityFromCDX converts an organizational entity.
func entityFromCDX(o *cdx.OrganizationalEntity) *cdxEntity {
	if o == nil {
		return nil
	}
	e := &cdxEntity{Name: o.Name}
	if o.URL != nil {
		e.URL = *o.URL
	}
	if o.Contact != nil {
		e.Contact = contactsFromCDX(o.Contact)
	}
	return e
}

// contactsFromCDX converts organizational contacts.
func contactsFromCDX(list *[]cdx.OrganizationalContact) []cdxContact {
	if list == nil || len(*list) == 0 {
		return nil
	}
	out := make([]cdxContact, len(*list))
	for i, c := range *list {
		out[i] = cdxContact{Name: c.Name, Email: c.Email}
	}
	return out
}

// hashesFromCDX converts hashes.
func hashesFromCDX(list *[]cdx.Hash) []cdxHash {
	if list == nil || len(*list) == 0 {
		return nil
	}
	out := make([]cdxHash, len(*list))
	for i, h := range *list {
		out[i] = cdxHash{Alg: string(h.Algorithm), Content: h.Value}
	}
	return out
}

// licensesFromCDX converts licence choices.
func licensesFromCDX(list *cdx.Licenses) []cdxLicense {
	if list == nil || len(*list) == 0 {
		return nil
	}
	out := make([]cdxLicense, len(*list))
	for i, l := range *list {
		v := cdxLicense{Expression: l.Expression, Detailed: l.ExpressionDetails != nil}
		if l.License != nil {
			v.License, v.ID, v.Name = true, l.License.ID, l.License.Name
		}
		out[i] = v
	}
	return out
}

// extRefsFromCDX converts external references.
func extRefsFromCDX(list *[]cdx.ExternalReference) []cdxExtRef {
	if list == nil || len(*list) == 0 {
		return nil
	}
	out := make([]cdxExtRef, len(*list))
	for i, r := range *list {
		out[i] = cdxExtRef{Type: string(r.Type), URL: r.URL}
	}
	return out
}

// propsFromCDX converts properties.
func propsFromCDX(list *[]cdx.Property) []cdxProperty {
	if list == nil || len(*list) == 0 {
		return nil
	}
	out := make([]cdxProperty, len(*list))
	for i, p := range *list {
		out[i] = cdxProperty{Name: p.Name, Value: p.Value}
	}
	return out
}
