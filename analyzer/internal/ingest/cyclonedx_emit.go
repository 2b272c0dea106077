package ingest

import (
	"context"
	"fmt"
	"strings"
)

// cdxEmitter turns views into Components, spelling locations as JSON
// pointers or, when xml is set, as 1-based XPath-like paths.
//
// The fields of one component are collected in scratch buffers, their
// locations as lists of pieces, and then settled: copied into a slice of
// exactly the right size, with all their locations in one string. A large
// SBOM has millions of fields; this saves an allocation per field.
type cdxEmitter struct {
	xml     bool
	scratch []Field
	locs    []loc
	ends    []int
}

// loc is a location under construction: the concatenation of its pieces.
type loc struct {
	p [8]string
	n int
}

// at starts a location.
func at(base string) loc {
	var l loc
	l.p[0], l.n = base, 1
	return l
}

// plus returns l with pieces appended.
func (l loc) plus(pieces ...string) loc {
	for _, s := range pieces {
		if l.n == len(l.p) {
			l = at(l.String())
		}
		l.p[l.n] = s
		l.n++
	}
	return l
}

// String returns the location, shortened if it is too long.
func (l loc) String() string {
	s := strings.Join(l.p[:l.n], "")
	if len(s) > maxLocationLen {
		return shortenLoc(s)
	}
	return s
}

// root is the location of the document root.
func (e *cdxEmitter) root() string {
	if e.xml {
		return "/bom"
	}
	return ""
}

// item locates element i of a list member: "/components/3" in JSON,
// "/components/component[4]" in XML.
func (e *cdxEmitter) item(parent, container, elem string, i int) string {
	return e.itemLoc(at(parent), container, elem, i).String()
}

// member locates a plain member.
func (e *cdxEmitter) member(parent, name string) string { return joinLoc(parent, "/"+name) }

// itemLoc is item for a location under construction.
func (e *cdxEmitter) itemLoc(parent loc, container, elem string, i int) loc {
	if e.xml {
		return parent.plus("/", container, "/", elem, "[", itoa(i+1), "]")
	}
	return parent.plus("/", container, "/", itoa(i))
}

// repeated locates the i-th of a repeated member without a container:
// "/url/0" in JSON, "/url[1]" in XML.
func (e *cdxEmitter) repeated(parent loc, name string, i int) loc {
	if e.xml {
		return parent.plus("/", name, "[", itoa(i+1), "]")
	}
	return parent.plus("/", name, "/", itoa(i))
}

// attr locates a member that XML carries as an attribute.
func (e *cdxEmitter) attr(parent loc, name string) loc {
	if e.xml {
		return parent.plus("/@", name)
	}
	return parent.plus("/", name)
}

// valueOf locates the value of a hash or property: the element itself in
// XML, its "content"/"value" member in JSON.
func (e *cdxEmitter) valueOf(item loc, jsonMember string) loc {
	if e.xml {
		return item
	}
	return item.plus("/", jsonMember)
}

// add collects a field unless its value is blank.
func (e *cdxEmitter) add(kind FieldKind, qualifier, value string, l loc) {
	if isBlank(value) {
		return
	}
	e.scratch = append(e.scratch, Field{Kind: kind, Qualifier: qualifier, Value: value})
	e.locs = append(e.locs, l)
}

// addHash collects a hash field "ALG:value".
func (e *cdxEmitter) addHash(alg, value string, l loc) {
	if isBlank(value) {
		return
	}
	a := normHashAlg(alg)
	e.scratch = append(e.scratch, Field{Kind: KindHash, Qualifier: a, Value: a + ":" + value})
	e.locs = append(e.locs, l)
}

// settle moves the collected fields into c.
func (e *cdxEmitter) settle(c *Component) {
	defer func() { e.scratch, e.locs = e.scratch[:0], e.locs[:0] }()
	if len(e.scratch) == 0 {
		return
	}
	var long map[int]string
	total := 0
	for i := range e.locs {
		n := 0
		for _, p := range e.locs[i].p[:e.locs[i].n] {
			n += len(p)
		}
		if n > maxLocationLen {
			if long == nil {
				long = map[int]string{}
			}
			long[i] = e.locs[i].String()
			n = len(long[i])
		}
		total += n
	}
	var b strings.Builder
	b.Grow(total)
	ends := e.ends[:0]
	for i := range e.locs {
		if s, ok := long[i]; ok {
			b.WriteString(s)
		} else {
			for _, p := range e.locs[i].p[:e.locs[i].n] {
				b.WriteString(p)
			}
		}
		ends = append(ends, b.Len())
	}
	e.ends = ends
	all := b.String()
	fields := append(make([]Field, 0, len(e.scratch)), e.scratch...)
	start := 0
	for i := range fields {
		fields[i].Location = all[start:ends[i]]
		start = ends[i]
	}
	c.Fields = fields
}

// entity collects an organizational entity found at parent/member.
func (e *cdxEmitter) entity(kind FieldKind, member string, ent *cdxEntity, parent loc) {
	if ent == nil {
		return
	}
	l := parent.plus("/", member)
	e.add(kind, "", ent.Name, l.plus("/name"))
	for i, u := range ent.URL {
		e.add(KindURL, member, u, e.repeated(l, "url", i))
	}
	for i, ct := range ent.Contact {
		cl := e.repeated(l, "contact", i)
		e.add(kind, "contact", ct.Name, cl.plus("/name"))
		e.add(KindEmail, member, ct.Email, cl.plus("/email"))
	}
}

// authors collects an authors list.
func (e *cdxEmitter) authors(authors []cdxContact, parent loc) {
	for i, a := range authors {
		al := e.itemLoc(parent, "authors", "author", i)
		e.add(KindAuthor, "", a.Name, al.plus("/name"))
		e.add(KindEmail, "author", a.Email, al.plus("/email"))
	}
}

// hashes collects a hashes list.
func (e *cdxEmitter) hashes(hashes []cdxHash, parent loc) {
	for i, h := range hashes {
		e.addHash(h.Alg, h.Content, e.valueOf(e.itemLoc(parent, "hashes", "hash", i), "content"))
	}
}

// licenses collects a licence choice list.
func (e *cdxEmitter) licenses(lics []cdxLicense, parent loc) {
	nl, ne, nd := 0, 0, 0
	ll := parent.plus("/licenses")
	for i, l := range lics {
		switch {
		case l.License:
			var base loc
			if e.xml {
				base = e.repeated(ll, "license", nl)
			} else {
				base = ll.plus("/", itoa(i), "/license")
			}
			nl++
			e.add(KindLicense, "id", l.ID, base.plus("/id"))
			e.add(KindLicense, "name", l.Name, base.plus("/name"))
			if !e.xml {
				e.add(KindLicense, "expression", l.Expression, ll.plus("/", itoa(i), "/expression"))
			}
		case e.xml && l.Detailed:
			e.add(KindLicense, "expression", l.Expression, e.attr(e.repeated(ll, "expression-detailed", nd), "expression"))
			nd++
		case e.xml:
			e.add(KindLicense, "expression", l.Expression, e.repeated(ll, "expression", ne))
			ne++
		default:
			e.add(KindLicense, "expression", l.Expression, ll.plus("/", itoa(i), "/expression"))
		}
	}
}

// extRefs collects an external reference list.
func (e *cdxEmitter) extRefs(refs []cdxExtRef, parent loc) {
	for i, r := range refs {
		e.add(KindURL, r.Type, r.URL, e.itemLoc(parent, "externalReferences", "reference", i).plus("/url"))
	}
}

// properties collects a property list.
func (e *cdxEmitter) properties(props []cdxProperty, parent loc) {
	for i, p := range props {
		e.add(KindProperty, p.Name, p.Value, e.valueOf(e.itemLoc(parent, "properties", "property", i), "value"))
	}
}

// component turns a component view at location l into a Component.
func (e *cdxEmitter) component(v *cdxComponent, l string) Component {
	c := Component{Ref: v.Ref, Type: v.Type, Name: v.Name, Version: v.Version, PURL: v.PURL, Location: l}
	p := at(l)
	e.add(KindName, "", v.Name, p.plus("/name"))
	e.add(KindGroup, "", v.Group, p.plus("/group"))
	e.add(KindVersion, "", v.Version, p.plus("/version"))
	e.entity(KindSupplier, "supplier", v.Supplier, p)
	e.entity(KindManufacturer, "manufacturer", v.Manufacturer, p)
	e.add(KindAuthor, "", v.Author, p.plus("/author"))
	e.authors(v.Authors, p)
	e.add(KindPublisher, "", v.Publisher, p.plus("/publisher"))
	e.add(KindCopyright, "", v.Copyright, p.plus("/copyright"))
	e.add(KindDescription, "description", v.Description, p.plus("/description"))
	e.add(KindPURL, "", v.PURL, p.plus("/purl"))
	e.add(KindCPE, "", v.CPE, p.plus("/cpe"))
	if v.SWID != nil {
		sl := p.plus("/swid")
		e.add(KindProperty, "swid.tagId", v.SWID.TagID, e.attr(sl, "tagId"))
		e.add(KindName, "swid", v.SWID.Name, e.attr(sl, "name"))
	}
	e.hashes(v.Hashes, p)
	e.licenses(v.Licenses, p)
	e.extRefs(v.ExternalReferences, p)
	e.properties(v.Properties, p)
	e.settle(&c)
	return c
}

// service turns a service view at location l into a Component of Type
// "service".
func (e *cdxEmitter) service(v *cdxService, l string) Component {
	c := Component{Ref: v.Ref, Type: "service", Name: v.Name, Version: v.Version, Location: l}
	p := at(l)
	e.add(KindName, "", v.Name, p.plus("/name"))
	e.add(KindGroup, "", v.Group, p.plus("/group"))
	e.add(KindVersion, "", v.Version, p.plus("/version"))
	e.entity(KindSupplier, "provider", v.Provider, p)
	e.add(KindDescription, "description", v.Description, p.plus("/description"))
	for i, u := range v.Endpoints {
		e.add(KindURL, "endpoint", u, e.itemLoc(p, "endpoints", "endpoint", i))
	}
	e.licenses(v.Licenses, p)
	e.extRefs(v.ExternalReferences, p)
	e.properties(v.Properties, p)
	e.settle(&c)
	return c
}

// metadata turns the document view into the synthetic document Component.
// ok is false when it carries no field.
func (e *cdxEmitter) metadata(v *cdxMeta, docName string) (Component, bool) {
	root := at(e.root())
	ml := root.plus("/metadata")
	c := Component{Type: "document", Name: docName, Location: ml.String()}
	e.entity(KindSupplier, "supplier", v.Supplier, ml)
	e.entity(KindManufacturer, "manufacturer", v.Manufacturer, ml)
	e.entity(KindManufacturer, "manufacture", v.Manufacture, ml)
	e.authors(v.Authors, ml)
	e.licenses(v.Licenses, ml)
	e.properties(v.Properties, ml)
	e.extRefs(v.BOMExternalReferences, root)
	e.properties(v.BOMProperties, root)
	e.settle(&c)
	return c, len(c.Fields) > 0
}

// incomplete returns the reason a composition aggregate declares the
// inventory incomplete, or "".
func (e *cdxEmitter) incomplete(aggregate string, i int) string {
	a := strings.TrimSpace(aggregate)
	if a != "unknown" && !strings.HasPrefix(a, "incomplete") {
		return ""
	}
	return fmt.Sprintf("composition at %s declares aggregate %q", e.itemLoc(at(e.root()), "compositions", "composition", i).plus("/aggregate").String(), a)
}

// emitCDX turns a parsed document into a Document, releasing the views as
// it goes.
func emitCDX(ctx context.Context, p *cdxParsed) (*Document, error) {
	e := &cdxEmitter{xml: p.format == CycloneDXXML}
	doc := &Document{Format: p.format, SpecVersion: p.version, Name: p.serial}
	doc.Components = make([]Component, 0, len(p.pending)+1)
	if p.meta != nil {
		if c, ok := e.metadata(p.meta, p.serial); ok {
			doc.Components = append(doc.Components, c)
		}
	}
	for i := range p.pending {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		pd := &p.pending[i]
		if pd.comp != nil {
			doc.Components = append(doc.Components, e.component(pd.comp, pd.loc))
		} else {
			doc.Components = append(doc.Components, e.service(pd.svc, pd.loc))
		}
		*pd = cdxPending{}
	}
	p.pending = nil
	for i, a := range p.aggregates {
		if r := e.incomplete(a, i); r != "" {
			doc.Incomplete = append(doc.Incomplete, r)
		}
	}
	return doc, nil
}
