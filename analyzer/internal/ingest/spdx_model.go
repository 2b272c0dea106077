package ingest

import (
	"errors"
	"fmt"
	"strings"
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
