package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/tagvalue"
)

// SPDX tag-value. tools-golang reads the document; a line-oriented reader
// (below) always runs as well, because it records on which line each
// element and each tag sits, and takes over when tools-golang refuses the
// document (it refuses, for example, the SPDX 2.2 specification's own
// example, which has a snippet after a package section).
//
// Locations are "SPDXRef-Package-x#PackageSupplier (line 42)": the
// element's SPDXID, the tag, and the line the value starts on. Annotations
// are located under the element their SPDXREF names.

// tvLine is one tag-value pair and the line its value starts on.
type tvLine struct {
	tag, value string
	line       int
}

// tvError is a tag-value syntax error at a line.
type tvError struct {
	line int
	err  error
}

// Error implements error.
func (e *tvError) Error() string { return fmt.Sprintf("line %d: %v", e.line, e.err) }

// readTagValues splits a tag-value text into pairs the way tools-golang
// does: blank lines and "#" comments are skipped, a value between <text>
// and </text> may span lines, and any other line must have a colon.
func readTagValues(ctx context.Context, data []byte) ([]tvLine, error) {
	var (
		out      []tvLine
		inText   bool
		cur      tvLine
		textBody strings.Builder
	)
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		if lineNo%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		var raw []byte
		if k := bytes.IndexByte(data, '\n'); k >= 0 {
			raw, data = data[:k], data[k+1:]
		} else {
			raw, data = data, nil
		}
		line := strings.TrimSuffix(string(raw), "\r")
		if inText {
			before, _, closed := strings.Cut(line, "</text>")
			if !closed {
				textBody.WriteString(line)
				textBody.WriteByte('\n')
				continue
			}
			textBody.WriteString(before)
			cur.value = textBody.String()
			out = append(out, cur)
			inText = false
			continue
		}
		trimmed := strings.TrimLeft(line, " \t\r\v\f")
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		tag, value, found := strings.Cut(trimmed, ":")
		if !found {
			return nil, &tvError{line: lineNo, err: fmt.Errorf("expected \"Tag: value\", got %q", clip(trimmed, 60))}
		}
		cur = tvLine{tag: strings.TrimSpace(tag), line: lineNo}
		_, afterOpen, hasText := strings.Cut(value, "<text>")
		if !hasText {
			cur.value = strings.TrimSpace(value)
			out = append(out, cur)
			continue
		}
		if inner, _, closed := strings.Cut(afterOpen, "</text>"); closed {
			cur.value = inner
			out = append(out, cur)
			continue
		}
		inText = true
		textBody.Reset()
		textBody.WriteString(afterOpen)
		textBody.WriteByte('\n')
	}
	if inText {
		return nil, &tvError{line: cur.line, err: fmt.Errorf("%s: <text> is never closed by </text> (unexpected end of input)", cur.tag)}
	}
	return out, nil
}

// tvDoc is what the line-oriented reader makes of a tag-value document: the
// model, and where everything is.
type tvDoc struct {
	model *spdxModel
	// lines maps "SPDXID#Tag" to the lines of its values, in order.
	lines map[string][]int
	// elemLine maps an SPDXID to the first line of its element.
	elemLine map[string]int
}

// tvElem is the element whose tags the reader is collecting.
type tvElem struct {
	id    *string
	start int
	tags  []tvLine
}

// buildTagValue turns pairs into a tvDoc.
func buildTagValue(ctx context.Context, pairs []tvLine) (*tvDoc, error) {
	m := &spdxModel{CreationInfo: &spdxCreationInfo{}}
	d := &tvDoc{model: m, lines: map[string][]int{}, elemLine: map[string]int{}}
	var (
		pkg     *spdxPackage
		file    *spdxFile
		snip    *spdxSnippet
		ann     *spdxAnnotation
		annTags []tvLine
		elem    = &tvElem{id: &m.ID, start: 1}
		other   string // a section whose tags are ignored: LicenseID, Reviewer
		files   = map[string]*spdxFile{}
		orphans []*spdxSnippet
	)
	flushAnn := func() {
		if ann == nil {
			return
		}
		for _, t := range annTags {
			key := ann.Target + "#" + t.tag
			d.lines[key] = append(d.lines[key], t.line)
		}
		ann, annTags = nil, nil
	}
	flushElem := func() {
		if elem == nil {
			return
		}
		id := *elem.id
		if _, seen := d.elemLine[id]; !seen {
			d.elemLine[id] = elem.start
		}
		for _, t := range elem.tags {
			key := id + "#" + t.tag
			d.lines[key] = append(d.lines[key], t.line)
		}
		elem = nil
	}
	finishSnippet := func() {
		if snip == nil {
			return
		}
		switch {
		case file != nil:
			file.Snippets = append(file.Snippets, snip)
		case files[snip.FromFile] != nil:
			f := files[snip.FromFile]
			f.Snippets = append(f.Snippets, snip)
		default:
			orphans = append(orphans, snip)
		}
		snip = nil
	}
	for i, p := range pairs {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		switch p.tag {
		case "Annotator":
			flushAnn()
			ann = &spdxAnnotation{Annotator: p.value}
			m.Annotations = append(m.Annotations, ann)
			annTags = append(annTags, p)
			continue
		case "AnnotationDate", "AnnotationType", "SPDXREF", "AnnotationComment":
			if ann == nil {
				ann = &spdxAnnotation{}
				m.Annotations = append(m.Annotations, ann)
			}
			switch p.tag {
			case "AnnotationType":
				ann.Type = p.value
			case "SPDXREF":
				ann.Target = p.value
			case "AnnotationComment":
				ann.Comment = p.value
			}
			annTags = append(annTags, p)
			continue
		case "Relationship", "RelationshipComment":
			continue
		}
		flushAnn()
		switch p.tag {
		case "PackageName":
			finishSnippet()
			flushElem()
			pkg, file, other = &spdxPackage{Name: p.value}, nil, ""
			m.Packages = append(m.Packages, pkg)
			elem = &tvElem{id: &pkg.ID, start: p.line}
		case "FileName":
			finishSnippet()
			flushElem()
			file, other = &spdxFile{Name: p.value}, ""
			if pkg != nil {
				pkg.Files = append(pkg.Files, file)
			} else {
				m.Files = append(m.Files, file)
			}
			elem = &tvElem{id: &file.ID, start: p.line}
		case "SnippetSPDXID":
			finishSnippet()
			flushElem()
			snip, other = &spdxSnippet{ID: p.value}, ""
			elem = &tvElem{id: &snip.ID, start: p.line}
		case "LicenseID", "Reviewer":
			finishSnippet()
			flushElem()
			other = p.tag
		case "SPDXVersion":
			m.Version = p.value
		case "DocumentName":
			m.Name = p.value
		case "Creator":
			m.CreationInfo.Creators = append(m.CreationInfo.Creators, p.value)
		case "DocumentComment":
			m.Comment = p.value
		}
		if other != "" {
			continue
		}
		if elem == nil {
			// tags after an ignored section that start no element
			// belong to no element
			continue
		}
		elem.tags = append(elem.tags, p)
		switch {
		case snip != nil:
			applySnippetTag(snip, p)
		case file != nil:
			applyFileTag(file, p)
			if p.tag == "SPDXID" {
				files[file.ID] = file
			}
		case pkg != nil:
			applyPackageTag(pkg, p)
		default:
			if p.tag == "SPDXID" {
				m.ID = p.value
			}
		}
	}
	flushAnn()
	finishSnippet()
	flushElem()
	m.Snippets = orphans
	m.attachAnnotations()
	return d, nil
}

// applyPackageTag sets a package field from a pair.
func applyPackageTag(p *spdxPackage, t tvLine) {
	switch t.tag {
	case "SPDXID":
		p.ID = t.value
	case "PackageVersion":
		p.Version = t.value
	case "PackageSupplier":
		p.Supplier = t.value
	case "PackageOriginator":
		p.Originator = t.value
	case "PackageDownloadLocation":
		p.DownloadLocation = t.value
	case "PackageHomePage":
		p.Homepage = t.value
	case "PackageChecksum":
		p.Checksums = append(p.Checksums, parseTVChecksum(t.value))
	case "PackageLicenseConcluded":
		p.LicenseConcluded = t.value
	case "PackageLicenseDeclared":
		p.LicenseDeclared = t.value
	case "PackageLicenseInfoFromFiles":
		p.LicenseInfoFromFiles = append(p.LicenseInfoFromFiles, t.value)
	case "PackageCopyrightText":
		p.CopyrightText = t.value
	case "PackageSummary":
		p.Summary = t.value
	case "PackageDescription":
		p.Description = t.value
	case "PackageComment":
		p.Comment = t.value
	case "PrimaryPackagePurpose":
		p.Purpose = t.value
	case "ExternalRef":
		f := strings.Fields(t.value)
		r := &spdxExtRef{}
		if len(f) > 0 {
			r.Category = f[0]
		}
		if len(f) > 1 {
			r.Type = f[1]
		}
		if len(f) > 2 {
			r.Locator = strings.Join(f[2:], " ")
		}
		p.ExternalRefs = append(p.ExternalRefs, r)
	}
}

// applyFileTag sets a file field from a pair.
func applyFileTag(f *spdxFile, t tvLine) {
	switch t.tag {
	case "SPDXID":
		f.ID = t.value
	case "FileChecksum":
		f.Checksums = append(f.Checksums, parseTVChecksum(t.value))
	case "LicenseConcluded":
		f.LicenseConcluded = t.value
	case "LicenseInfoInFile":
		f.LicenseInfoInFiles = append(f.LicenseInfoInFiles, t.value)
	case "FileCopyrightText":
		f.CopyrightText = t.value
	case "FileComment":
		f.Comment = t.value
	case "FileNotice":
		f.Notice = t.value
	case "FileContributor":
		f.Contributors = append(f.Contributors, t.value)
	}
}

// applySnippetTag sets a snippet field from a pair.
func applySnippetTag(s *spdxSnippet, t tvLine) {
	switch t.tag {
	case "SnippetFromFileSPDXID":
		s.FromFile = t.value
	case "SnippetName":
		s.Name = t.value
	case "SnippetCopyrightText":
		s.CopyrightText = t.value
	case "SnippetComment":
		s.Comment = t.value
	case "SnippetLicenseConcluded":
		s.LicenseConcluded = t.value
	case "LicenseInfoInSnippet":
		s.LicenseInfoInSnippets = append(s.LicenseInfoInSnippets, t.value)
	}
}

// parseTVChecksum splits "SHA1: abc".
func parseTVChecksum(v string) *spdxChecksum {
	alg, val, found := strings.Cut(v, ":")
	if !found {
		return &spdxChecksum{Value: strings.TrimSpace(v)}
	}
	return &spdxChecksum{Algorithm: strings.TrimSpace(alg), Value: strings.TrimSpace(val)}
}

// decodeSPDXTagValue reads SPDX tag-value.
func decodeSPDXTagValue(ctx context.Context, name string, data []byte) (*Document, error) {
	fail := func(where string, err error) error {
		return &DecodeError{Name: name, Format: SPDXTagValue, Where: where, Err: err}
	}
	pairs, err := readTagValues(ctx, data)
	if err != nil {
		var te *tvError
		if errors.As(err, &te) {
			return nil, fail(fmt.Sprintf("line %d", te.line), te.err)
		}
		return nil, fail("", err)
	}
	tv, err := buildTagValue(ctx, pairs)
	if err != nil {
		return nil, fail("", err)
	}
	version := tv.model.Version
	if err := checkSPDXVersion(version); err != nil {
		where := "SPDXVersion"
		if l := tv.lines[tv.model.ID+"#SPDXVersion"]; len(l) > 0 {
			where = fmt.Sprintf("SPDXVersion (line %d)", l[0])
		}
		return nil, fail(where, err)
	}
	m, err := spdxTVStrict(data, tv.elemLine)
	var notes []string
	if err != nil {
		m = tv.model
		notes = append(notes, fmt.Sprintf("tools-golang refused the document (%v); it was read with the tolerant tag-value reader", err))
	}
	comps, err := spdxEmitter{tv: true}.emit(ctx, m)
	if err != nil {
		return nil, fail("", err)
	}
	resolveTVLines(comps, tv)
	return &Document{Format: SPDXTagValue, SpecVersion: strings.TrimPrefix(version, "SPDX-"), Name: m.Name, Components: comps, Notes: notes}, nil
}

// spdxTVStrict reads SPDX tag-value with tools-golang. Its errors are
// tools-golang's, unwrapped; a panic becomes an error.
func spdxTVStrict(data []byte, elemLine map[string]int) (*spdxModel, error) {
	var d *spdx.Document
	err := safeCall(func() error {
		var err error
		d, err = tagvalue.Read(bytes.NewReader(data))
		return err
	})
	if err == nil && d == nil {
		err = errors.New("no document")
	}
	if err != nil {
		return nil, err
	}
	return spdxFromTools(d, true, elemLine), nil
}

// resolveTVLines adds line numbers to "SPDXID#Tag" locations, taking the
// lines of each key in order. A field that shares its source with the
// field before it (the e-mail address of a supplier) shares its line.
func resolveTVLines(comps []Component, tv *tvDoc) {
	next := map[string]int{}
	for ci := range comps {
		c := &comps[ci]
		if l, ok := tv.elemLine[c.Location]; ok {
			c.Location = fmt.Sprintf("%s (line %d)", c.Location, l)
		}
		prevKey, prevLoc := "", ""
		for fi := range c.Fields {
			f := &c.Fields[fi]
			key := f.Location
			if key == prevKey && f.Kind == KindEmail {
				f.Location = prevLoc
				continue
			}
			lines := tv.lines[key]
			if k := next[key]; k < len(lines) {
				f.Location = fmt.Sprintf("%s (line %d)", key, lines[k])
				next[key] = k + 1
			}
			prevKey, prevLoc = key, f.Location
		}
	}
}
