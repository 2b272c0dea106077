package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// SniffLen is how much of an input Sniff needs to see to tell the formats
// apart reliably: the first 64 KiB.
const SniffLen = 64 << 10

// cdxNSPrefix starts every CycloneDX XML namespace; the version follows.
const cdxNSPrefix = "http://cyclonedx.org/schema/bom/"

// Sniff reports which SBOM format the start of an input looks like. Give it
// at least the first SniffLen bytes (all of them if the input is shorter).
// It looks at content only, never at a file name. Gzip-compressed input is
// recognised by its magic number and the decompressed head is sniffed
// instead. ok is false when the input does not look like an SBOM at all; an
// SBOM of an unsupported version (CycloneDX 1.1, SPDX 3) still sniffs ok,
// and Decode then refuses it with a message that names the version.
func Sniff(head []byte) (f Format, ok bool) {
	if isGzip(head) {
		head = gunzipHead(head, SniffLen)
		if isGzip(head) {
			return "", false
		}
	}
	r := sniffData(head)
	return r.format, r.format != ""
}

// sniffResult is what sniffData learned about an input.
type sniffResult struct {
	// format is the format the input looks like; empty if none.
	format Format
	// reason says why the input is not an SBOM (format empty), and where
	// at which position it failed, if that is known.
	reason, where string
	// top is the quick JSON pass (JSON inputs only).
	top *jsonTop
	// xmlNS is the namespace of the CycloneDX XML root element.
	xmlNS string
	// spdx3 marks SPDX 3 JSON-LD.
	spdx3 bool
}

// isGzip reports whether data starts with the gzip magic number.
func isGzip(data []byte) bool { return len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b }

// gunzipHead decompresses at most limit bytes from the start of a gzip
// stream that may itself be cut short.
func gunzipHead(head []byte, limit int64) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(head))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(zr, limit)) // a cut-short stream is expected
	return out
}

// notSBOM builds a sniffResult for an input that is no SBOM.
func notSBOM(reason, where string) sniffResult { return sniffResult{reason: reason, where: where} }

// sniffData classifies data, which is either a whole input or its head.
func sniffData(data []byte) sniffResult {
	data = data[skipBOM(data):]
	i := 0
	for i < len(data) && (isJSONSpace(data[i]) || data[i] == '\f' || data[i] == '\v') {
		i++
	}
	if i == len(data) {
		return notSBOM("empty input", "")
	}
	switch {
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}), bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return notSBOM("UTF-16 text; only UTF-8 is supported", "")
	case isGzip(data):
		return notSBOM("gzip-compressed data inside gzip-compressed data", "")
	}
	if off, ok := binaryAt(data); ok {
		return notSBOM("binary data, not text", fmt.Sprintf("byte %d", off))
	}
	switch data[i] {
	case '{':
		return sniffJSON(data)
	case '[':
		return notSBOM("a JSON array, not an SBOM object", posOf(data, i))
	case '<':
		return sniffXML(data)
	default:
		return sniffTagValue(data)
	}
}

// binaryAt looks at the first 8 KiB of data for a NUL byte or invalid UTF-8
// and returns its offset.
func binaryAt(data []byte) (int, bool) {
	w := data
	if len(w) > 8192 {
		w = w[:8192]
	}
	if k := bytes.IndexByte(w, 0); k >= 0 {
		return k, true
	}
	for off := 0; off < len(w); {
		r, n := utf8.DecodeRune(w[off:])
		if r == utf8.RuneError && n <= 1 {
			if len(w) < len(data) && len(w)-off < utf8.UTFMax && !utf8.FullRune(w[off:]) {
				return 0, false // a rune cut by the window
			}
			return off, true
		}
		off += n
	}
	return 0, false
}

// Hints that make a truncated JSON text likely one format or another.
var (
	cdxHints  = []string{"specVersion", "serialNumber", "metadata", "components", "services", "dependencies", "compositions", "vulnerabilities"}
	spdxHints = []string{"SPDXID", "dataLicense", "documentNamespace", "creationInfo", "packages", "relationships", "hasExtractedLicensingInfos", "documentDescribes"}
	syftHints = []string{"artifacts", "artifactRelationships", "source", "distro", "descriptor"}
)

// sniffJSON classifies a JSON object by its top-level members.
func sniffJSON(data []byte) sniffResult {
	t := scanJSONTop(data)
	r := sniffResult{top: t}
	switch {
	case t.has("bomFormat"):
		r.format = CycloneDXJSON
		return r
	case t.has("spdxVersion"):
		r.format = SPDXJSON
		return r
	case t.has("@context") || t.has("@graph"):
		if bytes.Contains(bytes.ToLower(t.values["@context"]), []byte("spdx")) {
			r.format, r.spdx3 = SPDXJSON, true
			return r
		}
		if t.complete {
			return notSBOM("JSON-LD document that is not SPDX", "")
		}
	case t.has("artifacts") && t.has("schema"):
		r.format = SyftJSON
		return r
	}
	if !t.complete {
		if s, ok := t.str("$schema"); ok && strings.Contains(strings.ToLower(s), "cyclonedx") {
			r.format = CycloneDXJSON
			return r
		}
		count := func(hints []string) int {
			n := 0
			for _, h := range hints {
				if t.has(h) {
					n++
				}
			}
			return n
		}
		c, s, y := count(cdxHints), count(spdxHints), count(syftHints)
		switch {
		case c > s && c > y:
			r.format = CycloneDXJSON
		case s > c && s > y:
			r.format = SPDXJSON
		case y > c && y > s && t.has("artifacts"):
			r.format = SyftJSON
		}
		if r.format != "" {
			return r
		}
		if t.errOff >= 0 {
			return notSBOM("invalid JSON: "+t.errMsg, posOf(data, t.errOff))
		}
		return notSBOM(`JSON text ends before its top-level object does, and has no "bomFormat", "spdxVersion" or "artifacts"+"schema" members`, posOf(data, len(data)))
	}
	return notSBOM(`JSON object has no "bomFormat", "spdxVersion" or "artifacts"+"schema" members`, "")
}

// sniffXML classifies an XML document by its root element.
func sniffXML(data []byte) sniffResult {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		tok, err := dec.Token()
		if err != nil {
			line, col := dec.InputPos()
			if errors.Is(err, io.EOF) {
				return notSBOM("XML text without a root element", "")
			}
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				return notSBOM("invalid XML: "+se.Msg, fmt.Sprintf("line %d, column %d", line, col))
			}
			return notSBOM("invalid XML: "+err.Error(), fmt.Sprintf("line %d, column %d", line, col))
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case se.Name.Local == "bom" && strings.HasPrefix(se.Name.Space, cdxNSPrefix):
			return sniffResult{format: CycloneDXXML, xmlNS: se.Name.Space}
		case se.Name.Local == "bom":
			return notSBOM(fmt.Sprintf("XML root element <bom> is not in a CycloneDX namespace (xmlns %q)", se.Name.Space), "/bom")
		case se.Name.Local == "RDF" && strings.Contains(strings.ToLower(string(data[:min(len(data), SniffLen)])), "spdx.org/rdf"):
			return notSBOM("SPDX RDF/XML, which is not supported (use SPDX JSON or tag-value)", "")
		default:
			return notSBOM(fmt.Sprintf("XML root element <%s> is not a CycloneDX <bom>", se.Name.Local), "")
		}
	}
}

// spdxTVHints are tag names typical of an SPDX tag-value document header.
var spdxTVHints = map[string]bool{
	"DataLicense": true, "DocumentNamespace": true, "DocumentName": true, "SPDXID": true,
	"Creator": true, "Created": true, "LicenseListVersion": true, "PackageName": true,
}

// sniffTagValue classifies plain text by its first tag-value lines.
func sniffTagValue(data []byte) sniffResult {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), SniffLen)
	line, seen, hints := 0, 0, 0
	for sc.Scan() && seen < 100 {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		seen++
		tag, _, found := strings.Cut(s, ":")
		if !found || !isTagName(tag) {
			if seen == 1 {
				return notSBOM(fmt.Sprintf("text that is not JSON, XML or SPDX tag-value (it starts %q)", clip(s, 40)), fmt.Sprintf("line %d", line))
			}
			continue
		}
		if tag == "SPDXVersion" {
			return sniffResult{format: SPDXTagValue}
		}
		if spdxTVHints[tag] {
			hints++
		}
	}
	if hints >= 2 {
		return sniffResult{format: SPDXTagValue}
	}
	return notSBOM("text that is not JSON, XML or SPDX tag-value (no SPDXVersion tag)", "")
}

// isTagName reports whether s looks like an SPDX tag name.
func isTagName(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && (c >= '0' && c <= '9' || c == '_' || c == '-')) {
			return false
		}
	}
	return true
}

// clip shortens s to at most n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
