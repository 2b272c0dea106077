package sbomout

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// occurrenceChildren are the elements of a CycloneDX XML evidence
// occurrence after <location>, in schema order.
var occurrenceChildren = []string{"line", "offset", "symbol", "additionalContext"}

// fixXMLOccurrences rewrites the evidence occurrences of a CycloneDX XML
// document written by cyclonedx-go v0.12.0, which encodes an occurrence's
// line, offset, symbol and additionalContext as attributes, while the
// CycloneDX 1.6 and 1.7 XML schemas define them as child elements following
// <location>. Every other byte of doc is copied unchanged.
func fixXMLOccurrences(doc []byte) ([]byte, error) {
	dec := xml.NewDecoder(bytes.NewReader(doc))
	var out bytes.Buffer
	copied := 0 // doc[:copied] is already in out
	var names []string
	var lastSpace []byte // the whitespace text seen last, for indentation
	type pending struct {
		depth  int
		values map[string]string
		indent []byte
		done   bool
	}
	var occ *pending
	writeChildren := func(p *pending) {
		for _, n := range occurrenceChildren {
			v, ok := p.values[n]
			if !ok {
				continue
			}
			out.Write(p.indent)
			out.WriteString("<" + n + ">")
			if err := xml.EscapeText(&out, []byte(v)); err != nil {
				panic(err) // bytes.Buffer writes do not fail
			}
			out.WriteString("</" + n + ">")
		}
		p.done = true
	}
	for {
		start := dec.InputOffset()
		tok, err := dec.RawToken()
		if errors.Is(err, io.EOF) {
			if len(names) > 0 {
				return nil, fmt.Errorf("rewriting XML occurrences: <%s> is not closed", names[len(names)-1])
			}
			break
		}
		if err != nil {
			return nil, fmt.Errorf("rewriting XML occurrences: %w", err)
		}
		end := dec.InputOffset()
		switch t := tok.(type) {
		case xml.CharData:
			if len(bytes.TrimSpace(t)) == 0 {
				lastSpace = append(lastSpace[:0], t...)
			}
		case xml.StartElement:
			parent := ""
			if len(names) > 0 {
				parent = names[len(names)-1]
			}
			names = append(names, t.Name.Local)
			if t.Name.Local == "location" && occ != nil && len(names) == occ.depth+1 {
				occ.indent = append([]byte(nil), lastSpace...)
			}
			if t.Name.Local != "occurrence" || parent != "occurrences" || t.Name.Space != "" {
				continue
			}
			p := &pending{depth: len(names), values: map[string]string{}}
			var kept []xml.Attr
			for _, a := range t.Attr {
				if a.Name.Space == "" && isOccurrenceChild(a.Name.Local) {
					p.values[a.Name.Local] = a.Value
				} else {
					kept = append(kept, a)
				}
			}
			if len(p.values) == 0 {
				continue
			}
			out.Write(doc[copied:start])
			out.WriteString("<occurrence")
			for _, a := range kept {
				out.WriteString(" " + qualified(a.Name) + `="`)
				if err := xml.EscapeText(&out, []byte(a.Value)); err != nil {
					panic(err)
				}
				out.WriteString(`"`)
			}
			out.WriteString(">")
			copied = int(end)
			occ = p
			if bytes.HasSuffix(doc[start:end], []byte("/>")) {
				// Self-closing: there is no <location> to follow.
				writeChildren(occ)
				out.WriteString("</occurrence>")
			}
		case xml.EndElement:
			depth := len(names)
			if len(names) > 0 {
				names = names[:len(names)-1]
			}
			if occ == nil {
				continue
			}
			switch {
			case depth == occ.depth+1 && t.Name.Local == "location" && !occ.done:
				out.Write(doc[copied:end])
				copied = int(end)
				writeChildren(occ)
			case depth == occ.depth:
				if !occ.done {
					out.Write(doc[copied:start])
					copied = int(start)
					writeChildren(occ)
				}
				occ = nil
			}
		}
	}
	out.Write(doc[copied:])
	return out.Bytes(), nil
}

// isOccurrenceChild reports whether n is one of occurrenceChildren.
func isOccurrenceChild(n string) bool {
	for _, c := range occurrenceChildren {
		if c == n {
			return true
		}
	}
	return false
}

// qualified renders an attribute name as it appeared (prefix:local).
func qualified(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}
