package ingest

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// decodeCycloneDXXML reads CycloneDX XML with cyclonedx-go and falls back to
// the tolerant iterative decoder when cyclonedx-go refuses the document or
// the document nests deeper than maxStrictDepth. ns is the namespace of the
// root element, which carries the version.
func decodeCycloneDXXML(ctx context.Context, name string, data []byte, ns string) (*Document, error) {
	version := strings.TrimPrefix(ns, cdxNSPrefix)
	if err := checkCDXVersion(version); err != nil {
		return nil, &DecodeError{Name: name, Format: CycloneDXXML, Where: "/bom/@xmlns", Err: err}
	}
	if d := xmlMaxDepth(data); d > maxStrictDepth {
		doc, err := decodeCDXXMLTolerant(ctx, name, data)
		if err != nil {
			return nil, err
		}
		doc.Notes = append([]string{fmt.Sprintf("the document nests more than %d elements deep; it was read with the iterative tolerant decoder", maxStrictDepth)}, doc.Notes...)
		return doc, nil
	}
	if cdxXMLNeedsTolerant(data) {
		return decodeCDXXMLTolerant(ctx, name, data)
	}
	doc, err := decodeCDXXMLStrict(ctx, data, version)
	if err == nil {
		return doc, nil
	}
	if ctx.Err() != nil {
		return nil, &DecodeError{Name: name, Format: CycloneDXXML, Err: ctx.Err()}
	}
	// The tolerant decoder reads the same XML tokens: it either succeeds
	// (cyclonedx-go's objection was not about syntax) or fails with a line
	// and column.
	doc, terr := decodeCDXXMLTolerant(ctx, name, data)
	if terr != nil {
		return nil, terr
	}
	doc.Notes = append([]string{fmt.Sprintf("cyclonedx-go refused the document (%v); it was read with the tolerant decoder", err)}, doc.Notes...)
	return doc, nil
}

// cdxXMLNeedsTolerant reports documents that cyclonedx-go reads without
// error but not faithfully enough to locate every field: it reads an
// <expression-detailed> licence without <details> as if it were an
// <expression>, so the XPath of the expression would come out wrong. Such
// documents (CycloneDX 1.7 and later) go to the tolerant decoder directly.
func cdxXMLNeedsTolerant(data []byte) bool {
	return bytes.Contains(data, []byte("expression-detailed"))
}

// decodeCDXXMLStrict decodes with cyclonedx-go and walks the BOM. Its
// errors are cyclonedx-go's, unwrapped, or the context's.
func decodeCDXXMLStrict(ctx context.Context, data []byte, version string) (*Document, error) {
	var bom cdx.BOM
	err := safeCall(func() error {
		return cdx.NewBOMDecoder(bytes.NewReader(data), cdx.BOMFileFormatXML).Decode(&bom)
	})
	if err != nil {
		return nil, err
	}
	p, err := parseCDXBOM(ctx, &bom, CycloneDXXML, version)
	if err != nil {
		return nil, err
	}
	return emitCDX(ctx, p)
}

// xmlMaxDepth estimates how deeply the elements of an XML text nest, with a
// single pass over the bytes that skips comments, CDATA sections,
// processing instructions, declarations and quoted attribute values. It is
// a routing heuristic, not a parser.
func xmlMaxDepth(data []byte) int {
	depth, maxDepth := 0, 0
	i := 0
	skipTo := func(from int, end string) int {
		k := bytes.Index(data[from:], []byte(end))
		if k < 0 {
			return len(data)
		}
		return from + k + len(end)
	}
	for i < len(data) {
		k := bytes.IndexByte(data[i:], '<')
		if k < 0 {
			break
		}
		i += k
		rest := data[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skipTo(i+4, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			i = skipTo(i+9, "]]>")
		case bytes.HasPrefix(rest, []byte("<?")):
			i = skipTo(i+2, "?>")
		case bytes.HasPrefix(rest, []byte("<!")):
			i = skipTo(i+2, ">")
		case bytes.HasPrefix(rest, []byte("</")):
			depth--
			i = skipTo(i+2, ">")
		default:
			j := i + 1
			var quote byte
			for j < len(data) {
				c := data[j]
				if quote != 0 {
					if c == quote {
						quote = 0
					}
				} else if c == '"' || c == '\'' {
					quote = c
				} else if c == '>' {
					break
				}
				j++
			}
			if j >= len(data) {
				return maxDepth
			}
			if data[j-1] != '/' {
				depth++
				if depth > maxDepth {
					maxDepth = depth
				}
			}
			i = j + 1
		}
	}
	return maxDepth
}
