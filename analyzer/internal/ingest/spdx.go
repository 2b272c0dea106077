package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
)

// SPDX 2.2 and 2.3, JSON and tag-value. tools-golang reads the documents;
// when it refuses one (or panics, as it does on "packages": [null]) a
// tolerant reader takes over: plain encoding/json into spdxModel for JSON,
// a line-oriented reader for tag-value. Both paths reduce the document to
// spdxModel, which mirrors the SPDX JSON shape, and one emitter turns that
// into Components, so the two paths agree field for field.
//
// Components: a synthetic first Component of Type "document" (Ref
// SPDXRef-DOCUMENT) carries the document creators as author fields, the
// document comment and document-level annotations; then every package in
// order, each followed by its files (tag-value nests files in the package
// they follow) and each file by its snippets; then files outside packages;
// then snippets outside files. The values NOASSERTION and NONE are skipped.

// supportedSPDX lists the SPDX versions Decode reads.
var supportedSPDX = map[string]bool{"SPDX-2.2": true, "SPDX-2.3": true}

// checkSPDXVersion refuses SPDX versions other than 2.2 and 2.3.
func checkSPDXVersion(v string) error {
	if supportedSPDX[v] {
		return nil
	}
	if v == "" {
		return errors.New("missing version (supported: SPDX-2.2 and SPDX-2.3)")
	}
	if strings.HasPrefix(v, "SPDX-3") || strings.HasPrefix(v, "3") {
		return fmt.Errorf("unsupported version %q: SPDX 3 is not supported (supported: SPDX-2.2 and SPDX-2.3)", v)
	}
	return fmt.Errorf("unsupported version %q (supported: SPDX-2.2 and SPDX-2.3)", v)
}

// spdxModel is the identity view of an SPDX document, shaped like SPDX JSON.
type spdxModel struct {
	Version      string            `json:"spdxVersion"`
	ID           string            `json:"SPDXID"`
	Name         string            `json:"name"`
	Comment      string            `json:"comment"`
	CreationInfo *spdxCreationInfo `json:"creationInfo"`
	Packages     []*spdxPackage    `json:"packages"`
	Files        []*spdxFile       `json:"files"`
	Snippets     []*spdxSnippet    `json:"snippets"`
	Annotations  []*spdxAnnotation `json:"annotations"`
}

// spdxCreationInfo holds the document creators.
type spdxCreationInfo struct {
	Creators []string `json:"creators"`
}

// spdxPackage is the identity view of a package.
type spdxPackage struct {
	Name                 string            `json:"name"`
	ID                   string            `json:"SPDXID"`
	Version              string            `json:"versionInfo"`
	Supplier             string            `json:"supplier"`
	Originator           string            `json:"originator"`
	DownloadLocation     string            `json:"downloadLocation"`
	Homepage             string            `json:"homepage"`
	Checksums            []*spdxChecksum   `json:"checksums"`
	LicenseConcluded     string            `json:"licenseConcluded"`
	LicenseDeclared      string            `json:"licenseDeclared"`
	LicenseInfoFromFiles []string          `json:"licenseInfoFromFiles"`
	CopyrightText        string            `json:"copyrightText"`
	Summary              string            `json:"summary"`
	Description          string            `json:"description"`
	Comment              string            `json:"comment"`
	ExternalRefs         []*spdxExtRef     `json:"externalRefs"`
	Purpose              string            `json:"primaryPackagePurpose"`
	Annotations          []*spdxAnnotation `json:"annotations"`
	Files                []*spdxFile       `json:"files"`
}

// spdxChecksum is a checksum.
type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

// spdxExtRef is a package external reference.
type spdxExtRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

// spdxFile is the identity view of a file.
type spdxFile struct {
	Name               string            `json:"fileName"`
	ID                 string            `json:"SPDXID"`
	Checksums          []*spdxChecksum   `json:"checksums"`
	LicenseConcluded   string            `json:"licenseConcluded"`
	LicenseInfoInFiles []string          `json:"licenseInfoInFiles"`
	CopyrightText      string            `json:"copyrightText"`
	Comment            string            `json:"comment"`
	Notice             string            `json:"noticeText"`
	Contributors       []string          `json:"fileContributors"`
	Annotations        []*spdxAnnotation `json:"annotations"`
	// Snippets are the snippets of a tag-value file section.
	Snippets []*spdxSnippet `json:"-"`
}

// spdxSnippet is the identity view of a snippet.
type spdxSnippet struct {
	ID                    string   `json:"SPDXID"`
	Name                  string   `json:"name"`
	FromFile              string   `json:"snippetFromFile"`
	CopyrightText         string   `json:"copyrightText"`
	Comment               string   `json:"comment"`
	LicenseConcluded      string   `json:"licenseConcluded"`
	LicenseInfoInSnippets []string `json:"licenseInfoInSnippets"`
	// Annotations are tag-value annotations that name the snippet.
	Annotations []*spdxAnnotation `json:"-"`
}

// spdxAnnotation is an annotation.
type spdxAnnotation struct {
	Annotator string `json:"annotator"`
	Type      string `json:"annotationType"`
	Comment   string `json:"comment"`
	// Target is the SPDXREF of a tag-value annotation.
	Target string `json:"-"`
}

// decodeSPDXJSON reads SPDX JSON.
func decodeSPDXJSON(ctx context.Context, name string, data []byte, sn sniffResult) (*Document, error) {
	fail := func(where string, err error) error {
		return &DecodeError{Name: name, Format: SPDXJSON, Where: where, Err: err}
	}
	top := sn.top
	if top == nil {
		top = scanJSONTop(data)
	}
	if sn.spdx3 || top.has("@graph") && !top.has("spdxVersion") {
		return nil, fail("@context", errors.New("SPDX 3 JSON-LD is not supported (supported: SPDX-2.2 and SPDX-2.3)"))
	}
	version, isStr := top.str("spdxVersion")
	if raw, ok := top.values["spdxVersion"]; ok && !isStr {
		return nil, fail("spdxVersion", fmt.Errorf("expected a string, got %s", clip(string(raw), 40)))
	}
	if isStr || top.complete {
		if err := checkSPDXVersion(version); err != nil {
			return nil, fail("spdxVersion", err)
		}
	}
	var (
		m     *spdxModel
		notes []string
	)
	if top.maxDepth > maxStrictDepth {
		notes = append(notes, fmt.Sprintf("the document nests %d levels deep (more than %d); it was read with the tolerant decoder", top.maxDepth, maxStrictDepth))
	} else {
		var err error
		m, err = spdxJSONStrict(data)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fail(posOf(data, int(se.Offset)), errors.New(jsonSyntaxMsg(se.Error())))
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("tools-golang refused the document (%v); it was read with the tolerant decoder", err))
		}
	}
	if m == nil {
		var err error
		if m, err = spdxJSONTolerant(name, data); err != nil {
			return nil, err
		}
	}
	comps, err := spdxEmitter{}.emit(ctx, m)
	if err != nil {
		return nil, fail("", err)
	}
	return &Document{Format: SPDXJSON, SpecVersion: strings.TrimPrefix(version, "SPDX-"), Name: m.Name, Components: comps, Notes: notes}, nil
}

// spdxJSONStrict reads SPDX JSON with tools-golang. Its errors are
// tools-golang's, unwrapped; a panic becomes an error.
func spdxJSONStrict(data []byte) (*spdxModel, error) {
	var d *spdx.Document
	err := safeCall(func() error {
		var err error
		d, err = spdxjson.Read(bytes.NewReader(data))
		return err
	})
	if err == nil && d == nil {
		err = errors.New("no document")
	}
	if err != nil {
		return nil, err
	}
	return spdxFromTools(d, false, nil), nil
}

// spdxJSONTolerant decodes SPDX JSON into spdxModel with encoding/json.
func spdxJSONTolerant(name string, data []byte) (*spdxModel, error) {
	var m spdxModel
	if err := json.Unmarshal(data, &m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &DecodeError{Name: name, Format: SPDXJSON, Where: posOf(data, int(se.Offset)), Err: errors.New(jsonSyntaxMsg(se.Error()))}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &DecodeError{Name: name, Format: SPDXJSON, Where: posOf(data, int(te.Offset)),
				Err: fmt.Errorf("member %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)}
		}
		return nil, &DecodeError{Name: name, Format: SPDXJSON, Err: err}
	}
	if err := checkSPDXVersion(m.Version); err != nil {
		return nil, &DecodeError{Name: name, Format: SPDXJSON, Where: "spdxVersion", Err: err}
	}
	return &m, nil
}

// spdxFromTools converts a tools-golang document. tv says it was read from
// tag-value; JSON strings that tools-golang keeps escaped are unescaped
// otherwise. elemLine gives the first line of each tag-value element and
// orders the snippets, which tools-golang keeps in a map.
func spdxFromTools(d *spdx.Document, tv bool, elemLine map[string]int) *spdxModel {
	unesc := func(s string) string {
		if tv || !strings.Contains(s, `\`) {
			return s
		}
		var out string
		if json.Unmarshal([]byte(`"`+s+`"`), &out) != nil {
			return s
		}
		return out
	}
	id := func(e spdx.ElementID) string {
		if e == "" {
			return ""
		}
		return "SPDXRef-" + unesc(string(e))
	}
	agent := func(kind, name string) string {
		if name == "NOASSERTION" || kind == "" {
			return unesc(name)
		}
		return unesc(kind + ": " + name)
	}
	checksums := func(list []spdx.Checksum) []*spdxChecksum {
		var out []*spdxChecksum
		for _, c := range list {
			out = append(out, &spdxChecksum{Algorithm: string(c.Algorithm), Value: c.Value})
		}
		return out
	}
	annotations := func(list []spdx.Annotation) []*spdxAnnotation {
		var out []*spdxAnnotation
		for _, a := range list {
			out = append(out, &spdxAnnotation{Annotator: agent(a.Annotator.AnnotatorType, a.Annotator.Annotator), Type: a.AnnotationType, Comment: a.AnnotationComment})
		}
		return out
	}
	file := func(f *spdx.File) *spdxFile {
		if f == nil {
			return nil
		}
		v := &spdxFile{
			Name: f.FileName, ID: id(f.FileSPDXIdentifier), Checksums: checksums(f.Checksums),
			LicenseConcluded: f.LicenseConcluded, LicenseInfoInFiles: f.LicenseInfoInFiles,
			CopyrightText: f.FileCopyrightText, Comment: f.FileComment, Notice: f.FileNotice,
			Contributors: f.FileContributors, Annotations: annotations(f.Annotations),
		}
		for _, s := range f.Snippets {
			v.Snippets = append(v.Snippets, snippetFromTools(s, id))
		}
		sort.SliceStable(v.Snippets, func(i, j int) bool {
			a, b := v.Snippets[i], v.Snippets[j]
			if la, lb := elemLine[a.ID], elemLine[b.ID]; la != lb {
				return la < lb
			}
			return a.ID < b.ID
		})
		return v
	}
	m := &spdxModel{Version: d.SPDXVersion, ID: id(d.SPDXIdentifier), Name: d.DocumentName, Comment: d.DocumentComment}
	if d.CreationInfo != nil {
		m.CreationInfo = &spdxCreationInfo{}
		for _, c := range d.CreationInfo.Creators {
			m.CreationInfo.Creators = append(m.CreationInfo.Creators, agent(c.CreatorType, c.Creator))
		}
	}
	for _, p := range d.Packages {
		if p == nil {
			m.Packages = append(m.Packages, nil)
			continue
		}
		v := &spdxPackage{
			Name: p.PackageName, ID: id(p.PackageSPDXIdentifier), Version: p.PackageVersion,
			DownloadLocation: p.PackageDownloadLocation, Homepage: p.PackageHomePage,
			Checksums:        checksums(p.PackageChecksums),
			LicenseConcluded: p.PackageLicenseConcluded, LicenseDeclared: p.PackageLicenseDeclared,
			LicenseInfoFromFiles: p.PackageLicenseInfoFromFiles, CopyrightText: p.PackageCopyrightText,
			Summary: p.PackageSummary, Description: p.PackageDescription, Comment: p.PackageComment,
			Purpose: p.PrimaryPackagePurpose, Annotations: annotations(p.Annotations),
		}
		if s := p.PackageSupplier; s != nil {
			v.Supplier = agent(s.SupplierType, s.Supplier)
		}
		if o := p.PackageOriginator; o != nil {
			v.Originator = agent(o.OriginatorType, o.Originator)
		}
		for _, r := range p.PackageExternalReferences {
			if r == nil {
				v.ExternalRefs = append(v.ExternalRefs, nil)
				continue
			}
			v.ExternalRefs = append(v.ExternalRefs, &spdxExtRef{Category: r.Category, Type: r.RefType, Locator: r.Locator})
		}
		for _, f := range p.Files {
			v.Files = append(v.Files, file(f))
		}
		m.Packages = append(m.Packages, v)
	}
	for _, f := range d.Files {
		m.Files = append(m.Files, file(f))
	}
	for i := range d.Snippets {
		m.Snippets = append(m.Snippets, snippetFromTools(&d.Snippets[i], id))
	}
	for _, a := range d.Annotations {
		if a == nil {
			continue
		}
		v := &spdxAnnotation{Annotator: agent(a.Annotator.AnnotatorType, a.Annotator.Annotator), Type: a.AnnotationType, Comment: a.AnnotationComment}
		if tv {
			v.Target = renderDocElementID(a.AnnotationSPDXIdentifier)
		}
		m.Annotations = append(m.Annotations, v)
	}
	if tv {
		m.attachAnnotations()
	}
	return m
}

// snippetFromTools converts a tools-golang snippet.
func snippetFromTools(s *spdx.Snippet, id func(spdx.ElementID) string) *spdxSnippet {
	return &spdxSnippet{
		ID: id(s.SnippetSPDXIdentifier), Name: s.SnippetName, FromFile: id(s.SnippetFromFileSPDXIdentifier),
		CopyrightText: s.SnippetCopyrightText, Comment: s.SnippetComment,
		LicenseConcluded: s.SnippetLicenseConcluded, LicenseInfoInSnippets: s.LicenseInfoInSnippet,
	}
}

// renderDocElementID spells a tools-golang element reference as tag-value
// does.
func renderDocElementID(d spdx.DocElementID) string {
	if d.SpecialID != "" {
		return d.SpecialID
	}
	s := "SPDXRef-" + string(d.ElementRefID)
	if d.DocumentRefID != "" {
		s = "DocumentRef-" + string(d.DocumentRefID) + ":" + s
	}
	return s
}

// attachAnnotations moves tag-value annotations from the document to the
// package, file or snippet their SPDXREF names; the rest stay with the
// document.
func (m *spdxModel) attachAnnotations() {
	targets := map[string]*[]*spdxAnnotation{}
	addFile := func(f *spdxFile) {
		if f == nil {
			return
		}
		if _, dup := targets[f.ID]; !dup && f.ID != "" {
			targets[f.ID] = &f.Annotations
		}
		for _, s := range f.Snippets {
			if _, dup := targets[s.ID]; !dup && s.ID != "" {
				targets[s.ID] = &s.Annotations
			}
		}
	}
	for _, p := range m.Packages {
		if p == nil {
			continue
		}
		if _, dup := targets[p.ID]; !dup && p.ID != "" {
			targets[p.ID] = &p.Annotations
		}
		for _, f := range p.Files {
			addFile(f)
		}
	}
	for _, f := range m.Files {
		addFile(f)
	}
	for _, s := range m.Snippets {
		if _, dup := targets[s.ID]; !dup && s.ID != "" {
			targets[s.ID] = &s.Annotations
		}
	}
	var rest []*spdxAnnotation
	for _, a := range m.Annotations {
		if t, ok := targets[a.Target]; ok && a.Target != m.ID {
			*t = append(*t, a)
			continue
		}
		rest = append(rest, a)
	}
	m.Annotations = rest
}

// spdxEmitter turns spdxModel into Components. Locations are JSON pointers,
// or for tag-value "SPDXID#Tag", to which resolveTVLines adds line numbers.
type spdxEmitter struct{ tv bool }

// spdxSkip reports SPDX values that mean "nothing".
func spdxSkip(v string) bool {
	v = strings.TrimSpace(v)
	return v == "" || strings.EqualFold(v, "NOASSERTION") || strings.EqualFold(v, "NONE")
}

// spdxScope builds the locations of one element.
type spdxScope struct {
	tv      bool
	jsonLoc string // JSON pointer of the element
	id      string // SPDXID of the element
}

// at locates a member: the JSON pointer jsonLoc+"/"+member, or "id#tag".
func (s spdxScope) at(member, tag string) string {
	if s.tv {
		return s.id + "#" + tag
	}
	return joinLoc(s.jsonLoc, "/"+member)
}

// atIndex locates item i of a list member.
func (s spdxScope) atIndex(member string, i int, sub, tag string) string {
	if s.tv {
		return s.id + "#" + tag
	}
	l := joinLoc(s.jsonLoc, "/"+member+"/"+itoa(i))
	if sub != "" {
		l = joinLoc(l, "/"+sub)
	}
	return l
}

// add appends a field unless the value means nothing.
func spdxAdd(c *Component, kind FieldKind, qualifier, value, loc string) {
	if spdxSkip(value) {
		return
	}
	addField(c, kind, qualifier, value, loc)
}

// addAgent appends a "Person: name (email)" style value: kind with the
// agent type as qualifier and the name as value, and the e-mail address,
// if any, as a KindEmail field.
func addAgent(c *Component, kind FieldKind, role, value, loc string) {
	if spdxSkip(value) {
		return
	}
	typ, rest, found := strings.Cut(value, ":")
	typ = strings.TrimSpace(typ)
	if !found || (typ != "Person" && typ != "Organization" && typ != "Tool") {
		addField(c, kind, "", strings.TrimSpace(value), loc)
		return
	}
	name, email := splitEmail(strings.TrimSpace(rest))
	if spdxSkip(name) {
		name = ""
	}
	addField(c, kind, typ, name, loc)
	addField(c, KindEmail, role, email, loc)
}

// splitEmail splits "Name (email)" into name and email.
func splitEmail(s string) (name, email string) {
	if !strings.HasSuffix(s, ")") {
		return s, ""
	}
	open := strings.LastIndexByte(s, '(')
	if open < 0 {
		return s, ""
	}
	inner := strings.TrimSpace(s[open+1 : len(s)-1])
	if inner != "" && !strings.Contains(inner, "@") {
		return s, ""
	}
	return strings.TrimSpace(s[:open]), inner
}

// checksums appends checksum fields.
func (s spdxScope) checksums(c *Component, list []*spdxChecksum, tag string) {
	for i, h := range list {
		if h == nil || spdxSkip(h.Value) {
			continue
		}
		addHash(c, h.Algorithm, h.Value, s.atIndex("checksums", i, "checksumValue", tag))
	}
}

// annotations appends annotation fields.
func (s spdxScope) annotations(c *Component, list []*spdxAnnotation) {
	for i, a := range list {
		if a == nil {
			continue
		}
		spdxAdd(c, KindProperty, "annotation", a.Comment, s.atIndex("annotations", i, "comment", "AnnotationComment"))
		spdxAdd(c, KindProperty, "annotator", a.Annotator, s.atIndex("annotations", i, "annotator", "Annotator"))
	}
}

// list appends one field per string of a list member.
func (s spdxScope) list(c *Component, kind FieldKind, qualifier string, list []string, member, tag string) {
	for i, v := range list {
		spdxAdd(c, kind, qualifier, v, s.atIndex(member, i, "", tag))
	}
}

// emit lists the components of m.
func (e spdxEmitter) emit(ctx context.Context, m *spdxModel) ([]Component, error) {
	var out []Component
	docID := m.ID
	if docID == "" {
		docID = "SPDXRef-DOCUMENT"
	}
	ds := spdxScope{tv: e.tv, jsonLoc: "", id: docID}
	doc := Component{Ref: docID, Type: "document", Name: m.Name, Location: "/creationInfo"}
	if e.tv {
		doc.Location = docID
	}
	if m.CreationInfo != nil {
		for i, cr := range m.CreationInfo.Creators {
			addAgent(&doc, KindAuthor, "creator", cr, ds.atIndex("creationInfo/creators", i, "", "Creator"))
		}
	}
	spdxAdd(&doc, KindDescription, "comment", m.Comment, ds.at("comment", "DocumentComment"))
	ds.annotations(&doc, m.Annotations)
	out = append(out, doc)

	n := 0
	check := func() error {
		n++
		if n%checkEvery == 0 {
			return ctx.Err()
		}
		return nil
	}
	emitFile := func(f *spdxFile, loc string) {
		fs := spdxScope{tv: e.tv, jsonLoc: loc, id: f.ID}
		c := Component{Ref: f.ID, Type: "file", Name: f.Name, Location: loc}
		if e.tv {
			c.Location = f.ID
		}
		spdxAdd(&c, KindName, "", f.Name, fs.at("fileName", "FileName"))
		fs.checksums(&c, f.Checksums, "FileChecksum")
		spdxAdd(&c, KindCopyright, "", f.CopyrightText, fs.at("copyrightText", "FileCopyrightText"))
		fs.list(&c, KindAuthor, "contributor", f.Contributors, "fileContributors", "FileContributor")
		spdxAdd(&c, KindDescription, "comment", f.Comment, fs.at("comment", "FileComment"))
		spdxAdd(&c, KindDescription, "notice", f.Notice, fs.at("noticeText", "FileNotice"))
		spdxAdd(&c, KindLicense, "concluded", f.LicenseConcluded, fs.at("licenseConcluded", "LicenseConcluded"))
		fs.list(&c, KindLicense, "infoInFile", f.LicenseInfoInFiles, "licenseInfoInFiles", "LicenseInfoInFile")
		fs.annotations(&c, f.Annotations)
		out = append(out, c)
	}
	emitSnippet := func(s *spdxSnippet, loc string) {
		ss := spdxScope{tv: e.tv, jsonLoc: loc, id: s.ID}
		c := Component{Ref: s.ID, Type: "snippet", Name: s.Name, Location: loc}
		if e.tv {
			c.Location = s.ID
		}
		spdxAdd(&c, KindName, "", s.Name, ss.at("name", "SnippetName"))
		spdxAdd(&c, KindCopyright, "", s.CopyrightText, ss.at("copyrightText", "SnippetCopyrightText"))
		spdxAdd(&c, KindDescription, "comment", s.Comment, ss.at("comment", "SnippetComment"))
		spdxAdd(&c, KindLicense, "concluded", s.LicenseConcluded, ss.at("licenseConcluded", "SnippetLicenseConcluded"))
		ss.list(&c, KindLicense, "infoInSnippet", s.LicenseInfoInSnippets, "licenseInfoInSnippets", "LicenseInfoInSnippet")
		ss.annotations(&c, s.Annotations)
		out = append(out, c)
	}
	files := func(list []*spdxFile, parent string) error {
		for i, f := range list {
			if err := check(); err != nil {
				return err
			}
			if f == nil {
				continue
			}
			loc := joinLoc(parent, "/files/"+itoa(i))
			emitFile(f, loc)
			for j, s := range f.Snippets {
				if s != nil {
					emitSnippet(s, joinLoc(loc, "/snippets/"+itoa(j)))
				}
			}
		}
		return nil
	}
	for i, p := range m.Packages {
		if err := check(); err != nil {
			return nil, err
		}
		if p == nil {
			continue
		}
		loc := "/packages/" + itoa(i)
		ps := spdxScope{tv: e.tv, jsonLoc: loc, id: p.ID}
		typ := strings.ToLower(strings.TrimSpace(p.Purpose))
		if typ == "" {
			typ = "package"
		}
		c := Component{Ref: p.ID, Type: typ, Name: p.Name, Version: p.Version, Location: loc}
		if e.tv {
			c.Location = p.ID
		}
		spdxAdd(&c, KindName, "", p.Name, ps.at("name", "PackageName"))
		spdxAdd(&c, KindVersion, "", p.Version, ps.at("versionInfo", "PackageVersion"))
		addAgent(&c, KindSupplier, "supplier", p.Supplier, ps.at("supplier", "PackageSupplier"))
		addAgent(&c, KindOriginator, "originator", p.Originator, ps.at("originator", "PackageOriginator"))
		spdxAdd(&c, KindCopyright, "", p.CopyrightText, ps.at("copyrightText", "PackageCopyrightText"))
		spdxAdd(&c, KindDescription, "summary", p.Summary, ps.at("summary", "PackageSummary"))
		spdxAdd(&c, KindDescription, "description", p.Description, ps.at("description", "PackageDescription"))
		spdxAdd(&c, KindDescription, "comment", p.Comment, ps.at("comment", "PackageComment"))
		spdxAdd(&c, KindURL, "downloadLocation", p.DownloadLocation, ps.at("downloadLocation", "PackageDownloadLocation"))
		spdxAdd(&c, KindURL, "homepage", p.Homepage, ps.at("homepage", "PackageHomePage"))
		ps.checksums(&c, p.Checksums, "PackageChecksum")
		for j, r := range p.ExternalRefs {
			if r == nil || spdxSkip(r.Locator) {
				continue
			}
			loc := ps.atIndex("externalRefs", j, "referenceLocator", "ExternalRef")
			typ := strings.TrimSpace(r.Type)
			switch {
			case typ == "purl":
				addField(&c, KindPURL, typ, r.Locator, loc)
				if c.PURL == "" {
					c.PURL = r.Locator
				}
			case typ == "cpe22Type" || typ == "cpe23Type":
				addField(&c, KindCPE, typ, r.Locator, loc)
			case strings.Contains(r.Locator, "://"):
				addField(&c, KindURL, typ, r.Locator, loc)
			default:
				addField(&c, KindProperty, typ, r.Locator, loc)
			}
		}
		spdxAdd(&c, KindLicense, "concluded", p.LicenseConcluded, ps.at("licenseConcluded", "PackageLicenseConcluded"))
		spdxAdd(&c, KindLicense, "declared", p.LicenseDeclared, ps.at("licenseDeclared", "PackageLicenseDeclared"))
		ps.list(&c, KindLicense, "infoFromFiles", p.LicenseInfoFromFiles, "licenseInfoFromFiles", "PackageLicenseInfoFromFiles")
		ps.annotations(&c, p.Annotations)
		out = append(out, c)
		if err := files(p.Files, loc); err != nil {
			return nil, err
		}
	}
	if err := files(m.Files, ""); err != nil {
		return nil, err
	}
	for i, s := range m.Snippets {
		if err := check(); err != nil {
			return nil, err
		}
		if s != nil {
			emitSnippet(s, "/snippets/"+itoa(i))
		}
	}
	return out, nil
}
