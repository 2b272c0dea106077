package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// The tolerant CycloneDX JSON decoder reads the token stream of
// encoding/json with an explicit stack of frames instead of recursion, so
// it reads documents nested far deeper than encoding/json's limit of 10,000
// levels without growing the goroutine stack, and documents that
// cyclonedx-go refuses for reasons outside the identity fields (such as
// 1.6 attestations). Identity members are decoded into the small views of
// cyclonedx_model.go; everything else is skipped token by token.

// tjKind says what kind of JSON value a frame stands for.
type tjKind uint8

// Frame kinds.
const (
	tjRoot      tjKind = iota // the BOM object
	tjMeta                    // metadata
	tjCompArray               // an array of components
	tjComp                    // a component
	tjPedigree                // a pedigree
	tjServArray               // an array of services
	tjServ                    // a service
)

// tjFrame is one open object or array.
type tjFrame struct {
	kind tjKind
	// node is the component or service itself (tjComp, tjServ) or the
	// node whose children an array or pedigree adds (others).
	node *cdxNode
	// loc is the object's own location, or for arrays the location the
	// array member hangs off.
	loc string
	// container, slot and idx describe an array: its member name, the
	// child slot of its items and the index of the next item.
	container string
	slot      int
	idx       int
}

// cdxJSONLicense is a licence choice as CycloneDX JSON spells it.
type cdxJSONLicense struct {
	License *struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"license"`
	Expression        string          `json:"expression"`
	ExpressionDetails json.RawMessage `json:"expressionDetails"`
}

// tjWalker holds the state of one tolerant JSON decode.
type tjWalker struct {
	name string
	data []byte
	dec  *json.Decoder
	e    cdxEmitter

	bomFormat, specVersion, serial string
	meta                           cdxMeta
	root                           cdxNode
	aggregates                     []string
	stack                          []tjFrame
}

// decodeCDXJSONTolerant reads CycloneDX JSON with the tolerant decoder.
func decodeCDXJSONTolerant(ctx context.Context, name string, data []byte) (*Document, error) {
	w := &tjWalker{name: name, data: data, dec: json.NewDecoder(bytes.NewReader(data))}
	return w.run(ctx)
}

// fail builds a positioned error.
func (w *tjWalker) fail(where string, err error) error {
	return &DecodeError{Name: w.name, Format: CycloneDXJSON, Where: where, Err: err}
}

// syntax turns a tokenizer error into a positioned error.
func (w *tjWalker) syntax(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return w.fail(posOf(w.data, len(w.data)), errors.New("unexpected end of input"))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		off := int(se.Offset)
		if off <= 0 || off > len(w.data) {
			off = int(w.dec.InputOffset())
		}
		return w.fail(posOf(w.data, off), errors.New(jsonSyntaxMsg(se.Error())))
	}
	return w.fail(posOf(w.data, int(w.dec.InputOffset())), err)
}

// value decodes the next value into v; loc names it in errors.
func (w *tjWalker) value(loc string, v any) error {
	if err := w.dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return w.fail(loc, fmt.Errorf("unexpected JSON %s", te.Value))
		}
		return w.syntax(err)
	}
	return nil
}

// skip skips the next value, iteratively.
func (w *tjWalker) skip(ctx context.Context) error {
	depth := 0
	for n := 1; ; n++ {
		if n%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		tok, err := w.dec.Token()
		if err != nil {
			return w.syntax(err)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// open reads the start of the next value, which must be want or null; ok
// is false for null.
func (w *tjWalker) open(want json.Delim, loc string) (ok bool, err error) {
	tok, err := w.dec.Token()
	if err != nil {
		return false, w.syntax(err)
	}
	if tok == nil {
		return false, nil
	}
	if d, isDelim := tok.(json.Delim); isDelim && d == want {
		return true, nil
	}
	what := "an object"
	if want == '[' {
		what = "an array"
	}
	return false, w.fail(loc, fmt.Errorf("expected %s", what))
}

// push opens a frame.
func (w *tjWalker) push(f tjFrame) { w.stack = append(w.stack, f) }

// run decodes the whole document.
func (w *tjWalker) run(ctx context.Context) (*Document, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, w.syntax(err)
	}
	if tok != json.Delim('{') {
		return nil, w.fail("line 1, column 1", errors.New("the top-level value is not an object"))
	}
	root := w.e.root()
	w.push(tjFrame{kind: tjRoot, loc: root})
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
		top := &w.stack[len(w.stack)-1]
		if top.kind == tjCompArray || top.kind == tjServArray {
			if tok == json.Delim(']') {
				w.stack = w.stack[:len(w.stack)-1]
				continue
			}
			elem, kind := "component", tjComp
			if top.kind == tjServArray {
				elem, kind = "service", tjServ
			}
			loc := w.e.item(top.loc, top.container, elem, top.idx)
			top.idx++
			if d, ok := tok.(json.Delim); tok != nil && (!ok || d != '{') {
				return nil, w.fail(loc, errors.New("expected an object"))
			}
			nd := &cdxNode{loc: loc, slot: top.slot}
			if kind == tjComp {
				nd.comp = &cdxComponent{}
			} else {
				nd.svc = &cdxService{}
			}
			top.node.children = append(top.node.children, nd)
			if tok != nil {
				w.push(tjFrame{kind: kind, node: nd, loc: loc})
			}
			continue
		}
		if tok == json.Delim('}') {
			w.stack = w.stack[:len(w.stack)-1]
			continue
		}
		key, ok := tok.(string)
		if !ok {
			return nil, w.fail(posOf(w.data, int(w.dec.InputOffset())), errors.New("expected a member name"))
		}
		if err := w.member(ctx, *top, key); err != nil {
			return nil, err
		}
	}
	if _, err := w.dec.Token(); !errors.Is(err, io.EOF) {
		return nil, w.fail(posOf(w.data, int(w.dec.InputOffset())), errors.New("unexpected data after the top-level object"))
	}
	return w.finish(ctx)
}

// member handles the member key of the object frame f.
func (w *tjWalker) member(ctx context.Context, f tjFrame, key string) error {
	loc := w.e.member(f.loc, key)
	switch f.kind {
	case tjRoot:
		switch key {
		case "bomFormat":
			return w.value(key, &w.bomFormat)
		case "specVersion":
			return w.value(key, &w.specVersion)
		case "serialNumber":
			return w.value(loc, &w.serial)
		case "metadata":
			ok, err := w.open('{', loc)
			if ok {
				w.push(tjFrame{kind: tjMeta, loc: loc})
			}
			return err
		case "components", "services":
			ok, err := w.open('[', loc)
			if ok {
				if key == "components" {
					w.push(tjFrame{kind: tjCompArray, node: &w.root, loc: f.loc, container: key, slot: slotComponents})
				} else {
					w.push(tjFrame{kind: tjServArray, node: &w.root, loc: f.loc, container: key, slot: slotServices})
				}
			}
			return err
		case "externalReferences":
			return w.value(loc, &w.meta.BOMExternalReferences)
		case "properties":
			return w.value(loc, &w.meta.BOMProperties)
		case "compositions":
			var cs []struct {
				Aggregate string `json:"aggregate"`
			}
			if err := w.value(loc, &cs); err != nil {
				return err
			}
			w.aggregates = w.aggregates[:0]
			for _, c := range cs {
				w.aggregates = append(w.aggregates, c.Aggregate)
			}
			return nil
		}
	case tjMeta:
		switch key {
		case "component":
			ok, err := w.open('{', loc)
			if ok {
				nd := &cdxNode{comp: &cdxComponent{}, loc: loc, slot: slotMetaComponent}
				w.root.children = append(w.root.children, nd)
				w.push(tjFrame{kind: tjComp, node: nd, loc: loc})
			}
			return err
		case "supplier":
			return w.value(loc, &w.meta.Supplier)
		case "manufacturer":
			return w.value(loc, &w.meta.Manufacturer)
		case "manufacture":
			return w.value(loc, &w.meta.Manufacture)
		case "authors":
			return w.value(loc, &w.meta.Authors)
		case "licenses":
			return w.licenses(loc, &w.meta.Licenses)
		case "properties":
			return w.value(loc, &w.meta.Properties)
		}
	case tjComp:
		c := f.node.comp
		switch key {
		case "bom-ref":
			return w.value(loc, &c.Ref)
		case "type":
			return w.value(loc, &c.Type)
		case "name":
			return w.value(loc, &c.Name)
		case "group":
			return w.value(loc, &c.Group)
		case "version":
			return w.value(loc, &c.Version)
		case "author":
			return w.value(loc, &c.Author)
		case "publisher":
			return w.value(loc, &c.Publisher)
		case "copyright":
			return w.value(loc, &c.Copyright)
		case "description":
			return w.value(loc, &c.Description)
		case "purl":
			return w.value(loc, &c.PURL)
		case "cpe":
			return w.value(loc, &c.CPE)
		case "supplier":
			return w.value(loc, &c.Supplier)
		case "manufacturer":
			return w.value(loc, &c.Manufacturer)
		case "authors":
			return w.value(loc, &c.Authors)
		case "swid":
			return w.value(loc, &c.SWID)
		case "hashes":
			return w.value(loc, &c.Hashes)
		case "licenses":
			return w.licenses(loc, &c.Licenses)
		case "externalReferences":
			return w.value(loc, &c.ExternalReferences)
		case "properties":
			return w.value(loc, &c.Properties)
		case "components":
			ok, err := w.open('[', loc)
			if ok {
				w.push(tjFrame{kind: tjCompArray, node: f.node, loc: f.loc, container: key, slot: slotNested})
			}
			return err
		case "pedigree":
			ok, err := w.open('{', loc)
			if ok {
				w.push(tjFrame{kind: tjPedigree, node: f.node, loc: loc})
			}
			return err
		}
	case tjPedigree:
		if s, ok := pedigreeSlot(key); ok {
			ok, err := w.open('[', loc)
			if ok {
				w.push(tjFrame{kind: tjCompArray, node: f.node, loc: f.loc, container: key, slot: s})
			}
			return err
		}
	case tjServ:
		s := f.node.svc
		switch key {
		case "bom-ref":
			return w.value(loc, &s.Ref)
		case "name":
			return w.value(loc, &s.Name)
		case "group":
			return w.value(loc, &s.Group)
		case "version":
			return w.value(loc, &s.Version)
		case "description":
			return w.value(loc, &s.Description)
		case "provider":
			return w.value(loc, &s.Provider)
		case "endpoints":
			return w.value(loc, &s.Endpoints)
		case "licenses":
			return w.licenses(loc, &s.Licenses)
		case "externalReferences":
			return w.value(loc, &s.ExternalReferences)
		case "properties":
			return w.value(loc, &s.Properties)
		case "services":
			ok, err := w.open('[', loc)
			if ok {
				w.push(tjFrame{kind: tjServArray, node: f.node, loc: f.loc, container: key, slot: slotNested})
			}
			return err
		}
	}
	return w.skip(ctx)
}

// licenses decodes a licence choice list.
func (w *tjWalker) licenses(loc string, out *[]cdxLicense) error {
	var list []cdxJSONLicense
	if err := w.value(loc, &list); err != nil {
		return err
	}
	*out = (*out)[:0]
	for _, l := range list {
		v := cdxLicense{Expression: l.Expression, Detailed: l.ExpressionDetails != nil}
		if l.License != nil {
			v.License, v.ID, v.Name = true, l.License.ID, l.License.Name
		}
		*out = append(*out, v)
	}
	if len(*out) == 0 {
		*out = nil
	}
	return nil
}

// finish checks the header and lists the components.
func (w *tjWalker) finish(ctx context.Context) (*Document, error) {
	if w.bomFormat != "CycloneDX" {
		return nil, w.fail("bomFormat", fmt.Errorf("expected \"CycloneDX\", got %q", w.bomFormat))
	}
	if err := checkCDXVersion(w.specVersion); err != nil {
		return nil, w.fail("specVersion", err)
	}
	p := &cdxParsed{format: CycloneDXJSON, version: w.specVersion, serial: w.serial, meta: &w.meta, aggregates: w.aggregates}
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
