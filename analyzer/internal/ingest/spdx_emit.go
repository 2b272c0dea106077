package ingest

import (
	"context"
	"strings"
)

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
