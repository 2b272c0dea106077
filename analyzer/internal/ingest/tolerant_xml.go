package ingest

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// The tolerant CycloneDX XML decoder reads the token stream of encoding/xml
// with an explicit stack of frames, the XML twin of tolerant_json.go. Only
// elements in the document's CycloneDX namespace are considered; foreign
// elements are skipped. Identity elements are read token by token into a
// small tree (readElement) and from there into the views of
// cyclonedx_model.go; xml.Decoder.DecodeElement is not used because it
// refuses elements nested more than 10,000 levels deep in the document.
// Everything else is skipped iteratively.

// txKind says what kind of element a frame stands for.
type txKind uint8

// Frame kinds.
const (
	txRoot     txKind = iota // <bom>
	txMeta                   // <metadata>
	txCompList               // <components>, <ancestors>, <descendants>, <variants>
	txComp                   // <component>
	txPedigree               // <pedigree>
	txServList               // <services>
	txServ                   // <service>
)

// txFrame is one open element; see tjFrame for the meaning of the fields.
type txFrame struct {
	kind      txKind
	node      *cdxNode
	loc       string
	container string
	slot      int
	idx       int
}

// txWalker holds the state of one tolerant XML decode.
type txWalker struct {
	name string
	dec  *xml.Decoder
	ns   string
	e    cdxEmitter

	serial     string
	meta       cdxMeta
	root       cdxNode
	aggregates []string
	stack      []txFrame
}

// decodeCDXXMLTolerant reads CycloneDX XML with the tolerant decoder.
func decodeCDXXMLTolerant(ctx context.Context, name string, data []byte) (*Document, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = charsetReader
	w := &txWalker{name: name, dec: dec, e: cdxEmitter{xml: true}}
	return w.run(ctx)
}

// charsetReader accepts the encodings that need no tables: UTF-8, US-ASCII
// and ISO-8859-1.
func charsetReader(label string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return r, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1":
		return &latin1Reader{r: r}, nil
	}
	return nil, fmt.Errorf("unsupported character encoding %q (supported: UTF-8, US-ASCII, ISO-8859-1)", label)
}

// latin1Reader converts ISO-8859-1 to UTF-8.
type latin1Reader struct {
	r   io.Reader
	buf []byte
	out []byte
}

// Read implements io.Reader.
func (l *latin1Reader) Read(p []byte) (int, error) {
	if len(l.out) == 0 {
		if l.buf == nil {
			l.buf = make([]byte, 4096)
		}
		n, err := l.r.Read(l.buf)
		for _, b := range l.buf[:n] {
			l.out = utf8.AppendRune(l.out, rune(b))
		}
		if n == 0 {
			return 0, err
		}
	}
	n := copy(p, l.out)
	l.out = l.out[n:]
	return n, nil
}

// fail builds a positioned error.
func (w *txWalker) fail(where string, err error) error {
	return &DecodeError{Name: w.name, Format: CycloneDXXML, Where: where, Err: err}
}

// pos is the decoder's current position.
func (w *txWalker) pos() string {
	line, col := w.dec.InputPos()
	return fmt.Sprintf("line %d, column %d", line, col)
}

// syntax turns a tokenizer error into a positioned error.
func (w *txWalker) syntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return w.fail(w.pos(), errors.New("unexpected end of input"))
	}
	var se *xml.SyntaxError
	if errors.As(err, &se) {
		if se.Msg == "unexpected EOF" {
			return w.fail(w.pos(), errors.New("unexpected end of input"))
		}
		return w.fail(w.pos(), errors.New(se.Msg))
	}
	return w.fail(w.pos(), err)
}

// xnode is an element read by readElement: its name, attributes, direct
// character data and child elements.
type xnode struct {
	name     xml.Name
	attrs    []xml.Attr
	text     []byte
	children []*xnode
}

// maxMemberDepth bounds how deeply readElement keeps the elements of an
// identity member; deeper elements are skipped (the views need three
// levels at most).
const maxMemberDepth = 8

// readElement reads the element that start opened, iteratively, into an
// xnode tree. Unlike xml.Decoder.DecodeElement it works at any document
// depth (DecodeElement refuses elements more than 10,000 levels deep).
// Like DecodeElement it keeps only the element's direct character data.
func (w *txWalker) readElement(start *xml.StartElement) (*xnode, error) {
	root := &xnode{name: start.Name, attrs: start.Attr}
	stack := []*xnode{root}
	skipped := 0 // open elements below maxMemberDepth
	for {
		tok, err := w.dec.Token()
		if err != nil {
			return nil, w.syntax(err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if skipped > 0 || len(stack) >= maxMemberDepth {
				skipped++
				continue
			}
			n := &xnode{name: t.Name, attrs: t.Attr}
			parent := stack[len(stack)-1]
			parent.children = append(parent.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			if skipped > 0 {
				skipped--
				continue
			}
			stack = stack[:len(stack)-1]
			if len(stack) == 0 {
				return root, nil
			}
		case xml.CharData:
			if skipped == 0 {
				n := stack[len(stack)-1]
				n.text = append(n.text, t...)
			}
		}
	}
}

// attr returns the value of the first attribute of n named local.
func (n *xnode) attr(local string) string {
	for _, a := range n.attrs {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// each calls f for every child of n named local, in order.
func (n *xnode) each(local string, f func(*xnode)) {
	for _, c := range n.children {
		if c.name.Local == local {
			f(c)
		}
	}
}

// child returns the text of the last child of n named local, as
// encoding/xml does for a string field.
func (n *xnode) child(local string) string {
	s := ""
	n.each(local, func(c *xnode) { s = string(c.text) })
	return s
}

// entity reads an organizational entity.
func (n *xnode) entity() *cdxEntity {
	e := &cdxEntity{Name: n.child("name")}
	n.each("url", func(c *xnode) { e.URL = append(e.URL, string(c.text)) })
	n.each("contact", func(c *xnode) { e.Contact = append(e.Contact, c.contact()) })
	return e
}

// contact reads an organizational contact.
func (n *xnode) contact() cdxContact {
	return cdxContact{Name: n.child("name"), Email: n.child("email")}
}

// contacts reads the children named local as contacts.
func (n *xnode) contacts(local string) []cdxContact {
	var out []cdxContact
	n.each(local, func(c *xnode) { out = append(out, c.contact()) })
	return out
}

// hashes reads <hashes>.
func (n *xnode) hashes() []cdxHash {
	var out []cdxHash
	n.each("hash", func(c *xnode) { out = append(out, cdxHash{Alg: c.attr("alg"), Content: string(c.text)}) })
	return out
}

// refs reads <externalReferences>.
func (n *xnode) refs() []cdxExtRef {
	var out []cdxExtRef
	n.each("reference", func(c *xnode) { out = append(out, cdxExtRef{Type: c.attr("type"), URL: c.child("url")}) })
	return out
}

// props reads <properties>.
func (n *xnode) props() []cdxProperty {
	var out []cdxProperty
	n.each("property", func(c *xnode) { out = append(out, cdxProperty{Name: c.attr("name"), Value: string(c.text)}) })
	return out
}

// texts reads the text of the children named local.
func (n *xnode) texts(local string) []string {
	var out []string
	n.each(local, func(c *xnode) { out = append(out, string(c.text)) })
	return out
}

// licenses reads <licenses>.
func (n *xnode) licenses() []cdxLicense {
	var out []cdxLicense
	for _, c := range n.children {
		switch c.name.Local {
		case "license":
			out = append(out, cdxLicense{License: true, ID: c.child("id"), Name: c.child("name")})
		case "expression":
			out = append(out, cdxLicense{Expression: string(c.text)})
		case "expression-detailed":
			out = append(out, cdxLicense{Expression: c.attr("expression"), Detailed: true})
		}
	}
	return out
}

// attr returns the value of an unqualified attribute.
func (w *txWalker) attr(se *xml.StartElement, local string) string {
	for _, a := range se.Attr {
		if a.Name.Local == local && (a.Name.Space == "" || a.Name.Space == w.ns) {
			return a.Value
		}
	}
	return ""
}

// push opens a frame.
func (w *txWalker) push(f txFrame) { w.stack = append(w.stack, f) }

// run decodes the whole document.
func (w *txWalker) run(ctx context.Context) (*Document, error) {
	var start xml.StartElement
	for {
		tok, err := w.dec.Token()
		if err != nil {
			return nil, w.syntax(err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			start = se
			break
		}
	}
	if start.Name.Local != "bom" || !strings.HasPrefix(start.Name.Space, cdxNSPrefix) {
		return nil, w.fail("/"+start.Name.Local, fmt.Errorf("root element is not a CycloneDX <bom>"))
	}
	w.ns = start.Name.Space
	version := strings.TrimPrefix(w.ns, cdxNSPrefix)
	if err := checkCDXVersion(version); err != nil {
		return nil, w.fail("/bom/@xmlns", err)
	}
	w.serial = w.attr(&start, "serialNumber")
	w.push(txFrame{kind: txRoot, loc: w.e.root()})
	for n := 1; len(w.stack) > 0; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		tok, err := w.dec.Token()
		if err != nil {
			return nil, w.syntax(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			w.stack = w.stack[:len(w.stack)-1]
		case xml.StartElement:
			if t.Name.Space != w.ns {
				if err := w.skip(); err != nil {
					return nil, err
				}
				continue
			}
			if err := w.child(&t); err != nil {
				return nil, err
			}
		}
	}
	p := &cdxParsed{format: CycloneDXXML, version: version, serial: w.serial, meta: &w.meta, aggregates: w.aggregates}
	var err error
	if p.pending, err = flattenTree(ctx, &w.root, nil); err != nil {
		return nil, w.fail("", err)
	}
	doc, err := emitCDX(ctx, p)
	if err != nil {
		return nil, w.fail("", err)
	}
	return doc, nil
}

// skip skips the element just started.
func (w *txWalker) skip() error {
	if err := w.dec.Skip(); err != nil {
		return w.syntax(err)
	}
	return nil
}

// child handles the start of a CycloneDX element inside the top frame.
func (w *txWalker) child(se *xml.StartElement) error {
	f := &w.stack[len(w.stack)-1]
	key := se.Name.Local
	loc := w.e.member(f.loc, key)
	switch f.kind {
	case txRoot:
		switch key {
		case "metadata":
			w.push(txFrame{kind: txMeta, loc: loc})
			return nil
		case "components":
			w.push(txFrame{kind: txCompList, node: &w.root, loc: f.loc, container: key, slot: slotComponents})
			return nil
		case "services":
			w.push(txFrame{kind: txServList, node: &w.root, loc: f.loc, container: key, slot: slotServices})
			return nil
		case "externalReferences", "properties", "compositions":
			n, err := w.readElement(se)
			if err != nil {
				return err
			}
			switch key {
			case "externalReferences":
				w.meta.BOMExternalReferences = n.refs()
			case "properties":
				w.meta.BOMProperties = n.props()
			default:
				w.aggregates = nil
				n.each("composition", func(c *xnode) { w.aggregates = append(w.aggregates, c.child("aggregate")) })
			}
			return nil
		}
	case txMeta:
		switch key {
		case "component":
			nd := &cdxNode{comp: w.newComponent(se), loc: loc, slot: slotMetaComponent}
			w.root.children = append(w.root.children, nd)
			w.push(txFrame{kind: txComp, node: nd, loc: loc})
			return nil
		case "supplier", "manufacturer", "manufacture", "authors", "licenses", "properties":
			n, err := w.readElement(se)
			if err != nil {
				return err
			}
			switch key {
			case "supplier":
				w.meta.Supplier = n.entity()
			case "manufacturer":
				w.meta.Manufacturer = n.entity()
			case "manufacture":
				w.meta.Manufacture = n.entity()
			case "authors":
				w.meta.Authors = n.contacts("author")
			case "licenses":
				w.meta.Licenses = n.licenses()
			default:
				w.meta.Properties = n.props()
			}
			return nil
		}
	case txCompList, txServList:
		elem, kind := "component", txComp
		if f.kind == txServList {
			elem, kind = "service", txServ
		}
		if key != elem {
			break
		}
		loc = w.e.item(f.loc, f.container, elem, f.idx)
		f.idx++
		nd := &cdxNode{loc: loc, slot: f.slot}
		if kind == txComp {
			nd.comp = w.newComponent(se)
		} else {
			nd.svc = &cdxService{Ref: w.attr(se, "bom-ref")}
		}
		f.node.children = append(f.node.children, nd)
		w.push(txFrame{kind: kind, node: nd, loc: loc})
		return nil
	case txComp:
		c := f.node.comp
		switch key {
		case "name", "group", "version", "author", "publisher", "copyright", "description", "purl", "cpe",
			"supplier", "manufacturer", "authors", "swid", "hashes", "licenses", "externalReferences", "properties":
			n, err := w.readElement(se)
			if err != nil {
				return err
			}
			c.set(key, n)
			return nil
		case "components":
			w.push(txFrame{kind: txCompList, node: f.node, loc: f.loc, container: key, slot: slotNested})
			return nil
		case "pedigree":
			w.push(txFrame{kind: txPedigree, node: f.node, loc: loc})
			return nil
		}
	case txPedigree:
		if s, ok := pedigreeSlot(key); ok {
			w.push(txFrame{kind: txCompList, node: f.node, loc: f.loc, container: key, slot: s})
			return nil
		}
	case txServ:
		s := f.node.svc
		switch key {
		case "name", "group", "version", "description", "provider", "endpoints", "licenses", "externalReferences", "properties":
			n, err := w.readElement(se)
			if err != nil {
				return err
			}
			s.set(key, n)
			return nil
		case "services":
			w.push(txFrame{kind: txServList, node: f.node, loc: f.loc, container: key, slot: slotNested})
			return nil
		}
	}
	return w.skip()
}

// newComponent starts a component view from the attributes of <component>.
func (w *txWalker) newComponent(se *xml.StartElement) *cdxComponent {
	return &cdxComponent{Ref: w.attr(se, "bom-ref"), Type: w.attr(se, "type")}
}

// set stores the identity element key of a component.
func (c *cdxComponent) set(key string, n *xnode) {
	text := string(n.text)
	switch key {
	case "name":
		c.Name = text
	case "group":
		c.Group = text
	case "version":
		c.Version = text
	case "author":
		c.Author = text
	case "publisher":
		c.Publisher = text
	case "copyright":
		c.Copyright = text
	case "description":
		c.Description = text
	case "purl":
		c.PURL = text
	case "cpe":
		c.CPE = text
	case "supplier":
		c.Supplier = n.entity()
	case "manufacturer":
		c.Manufacturer = n.entity()
	case "authors":
		c.Authors = n.contacts("author")
	case "swid":
		c.SWID = &cdxSWID{TagID: n.attr("tagId"), Name: n.attr("name")}
	case "hashes":
		c.Hashes = n.hashes()
	case "licenses":
		c.Licenses = n.licenses()
	case "externalReferences":
		c.ExternalReferences = n.refs()
	case "properties":
		c.Properties = n.props()
	}
}

// set stores the identity element key of a service.
func (s *cdxService) set(key string, n *xnode) {
	text := string(n.text)
	switch key {
	case "name":
		s.Name = text
	case "group":
		s.Group = text
	case "version":
		s.Version = text
	case "description":
		s.Description = text
	case "provider":
		s.Provider = n.entity()
	case "endpoints":
		s.Endpoints = n.texts("endpoint")
	case "licenses":
		s.Licenses = n.licenses()
	case "externalReferences":
		s.ExternalReferences = n.refs()
	case "properties":
		s.Properties = n.props()
	}
}
