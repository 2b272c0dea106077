package ingest

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/spdx/tools-golang/spdx"
)

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
