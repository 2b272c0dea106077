package sbomout

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"time"

	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/format/common/spdxhelpers"
	"github.com/anchore/syft/syft/sbom"
	"github.com/spdx/tools-golang/spdx"
	"github.com/spdx/tools-golang/spdx/v2/common"

	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

// spdxTimeLayout is SPDX's date format, YYYY-MM-DDThh:mm:ssZ.
const spdxTimeLayout = "2006-01-02T15:04:05Z"

// writeSPDX encodes the SPDX 2.3 document of s and rep as indented JSON.
// The packages are Syft's SPDX conversion, the one its spdxjson encoder
// writes; oemtrace adds itself as a creator tool, a document annotation
// with the verdict, signature set, policy and gaps, an annotation on the
// package of each package finding, and a package per other finding. The
// creation and annotation dates are the report's time when it has one.
func writeSPDX(w io.Writer, s *sbom.SBOM, rep *report.Report) error {
	doc, byID, err := spdxBase(s, rep)
	if err != nil {
		return err
	}
	tool := rep.Tool.Name
	if tool == "" {
		tool = "oemtrace"
	}
	if rep.Tool.Version != "" {
		tool += "-" + rep.Tool.Version
	}
	doc.CreationInfo.Creators = append(doc.CreationInfo.Creators, common.Creator{Creator: tool, CreatorType: "Tool"})
	if !rep.Time.IsZero() {
		doc.CreationInfo.Created = rep.Time.UTC().Format(spdxTimeLayout)
	}
	date := doc.CreationInfo.Created
	annotator := common.Annotator{Annotator: tool, AnnotatorType: "Tool"}
	annotate := func(id common.ElementID, comment string) spdx.Annotation {
		return spdx.Annotation{
			Annotator:                annotator,
			AnnotationDate:           date,
			AnnotationType:           "OTHER",
			AnnotationSPDXIdentifier: common.DocElementID{ElementRefID: id},
			AnnotationComment:        comment,
		}
	}
	docAnn := annotate("DOCUMENT", reportSummary(rep))
	doc.Annotations = append(doc.Annotations, &docAnn)

	root := describedRoot(doc)
	for _, f := range rep.Findings {
		comment := findingComment(f)
		if p, ok := byID[artifact.ID(f.Subject.Ref)]; ok && f.Subject.Ref != "" {
			p.Annotations = append(p.Annotations, annotate(p.PackageSPDXIdentifier, comment))
			continue
		}
		p := findingPackage(f)
		p.Annotations = []spdx.Annotation{annotate(p.PackageSPDXIdentifier, comment)}
		doc.Packages = append(doc.Packages, p)
		rel := &spdx.Relationship{
			RefA:         common.DocElementID{ElementRefID: "DOCUMENT"},
			Relationship: common.TypeRelationshipDescribe,
			RefB:         common.DocElementID{ElementRefID: p.PackageSPDXIdentifier},
		}
		if root != "" && len(rep.Inputs) <= 1 {
			// The only input is the tree Syft catalogued: the subject is
			// inside it.
			rel.RefA.ElementRefID, rel.Relationship = root, common.TypeRelationshipContains
		}
		doc.Relationships = append(doc.Relationships, rel)
	}

	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("encoding SPDX 2.3: %w", err)
	}
	if _, err := w.Write(unescapeHTML(buf.Bytes())); err != nil {
		return fmt.Errorf("encoding SPDX 2.3: %w", err)
	}
	return nil
}

// spdxBase is Syft's SPDX document of s with a map from Syft package ID to
// its SPDX package, or an empty document named after the report when s is
// nil.
func spdxBase(s *sbom.SBOM, rep *report.Report) (*spdx.Document, map[artifact.ID]*spdx.Package, error) {
	byID := map[artifact.ID]*spdx.Package{}
	if s == nil {
		uuid, err := newUUID()
		if err != nil {
			return nil, nil, fmt.Errorf("building SPDX document: %w", err)
		}
		name := "oemtrace"
		if len(rep.Inputs) == 1 && rep.Inputs[0].Name != "" {
			name = rep.Inputs[0].Name
		}
		return &spdx.Document{
			SPDXVersion:       spdx.Version,
			DataLicense:       spdx.DataLicense,
			SPDXIdentifier:    "DOCUMENT",
			DocumentName:      name,
			DocumentNamespace: "https://spdx.org/spdxdocs/oemtrace-" + uuid,
			CreationInfo:      &spdx.CreationInfo{Created: time.Now().UTC().Format(spdxTimeLayout)},
		}, byID, nil
	}
	named := withInputName(s, rep)
	doc := spdxhelpers.ToFormatModel(named)
	if doc == nil || doc.CreationInfo == nil {
		return nil, nil, fmt.Errorf("converting Syft SBOM to SPDX: no document")
	}
	if named.Artifacts.Packages != nil {
		// ToFormatModel writes the packages first, in this order.
		pkgs := named.Artifacts.Packages.Sorted()
		if len(doc.Packages) < len(pkgs) {
			return nil, nil, fmt.Errorf("converting Syft SBOM to SPDX: %d packages but %d SPDX packages", len(pkgs), len(doc.Packages))
		}
		for i, p := range pkgs {
			sp := doc.Packages[i]
			if sp.PackageName != p.Name || sp.PackageVersion != p.Version {
				return nil, nil, fmt.Errorf("converting Syft SBOM to SPDX: package %d is %s@%s, want %s@%s", i, sp.PackageName, sp.PackageVersion, p.Name, p.Version)
			}
			byID[p.ID()] = sp
		}
	}
	return doc, byID, nil
}

// describedRoot is the element the document DESCRIBES other than the
// document itself (Syft's package for the scanned source), or "".
func describedRoot(doc *spdx.Document) common.ElementID {
	for _, r := range doc.Relationships {
		if r.Relationship == common.TypeRelationshipDescribe && r.RefA.ElementRefID == "DOCUMENT" &&
			r.RefA.DocumentRefID == "" && r.RefB.DocumentRefID == "" && r.RefB.ElementRefID != "DOCUMENT" {
			return r.RefB.ElementRefID
		}
	}
	return ""
}

// idUnsafe matches what an SPDX id may not contain.
var idUnsafe = regexp.MustCompile(`[^A-Za-z0-9.-]+`)

// findingPackage is the SPDX package of a finding whose subject is not a
// Syft package: SPDXID "SPDXRef-oemtrace-<finding id>", no download
// location, files not analyzed.
func findingPackage(f report.Finding) *spdx.Package {
	p := &spdx.Package{
		PackageName:               subjectName(f),
		PackageSPDXIdentifier:     common.ElementID("oemtrace-" + idUnsafe.ReplaceAllString(f.ID, "-")),
		PackageVersion:            f.Subject.Version,
		PackageDownloadLocation:   "NOASSERTION",
		FilesAnalyzed:             false,
		IsFilesAnalyzedTagPresent: true,
		PrimaryPackagePurpose:     packagePurpose(f.Class, kindOf(f)),
		PackageComment:            fmt.Sprintf("Found by oemtrace in %s at %s.", f.Subject.Input, f.Subject.Location),
	}
	if f.Subject.PURL != "" {
		p.PackageExternalReferences = []*spdx.PackageExternalReference{{
			Category: common.CategoryPackageManager,
			RefType:  common.TypePackageManagerPURL,
			Locator:  f.Subject.PURL,
		}}
	}
	return p
}

// packagePurpose mirrors componentType for SPDX's primaryPackagePurpose.
func packagePurpose(c report.Class, k subjectKind) string {
	if k == subjectFile {
		return "FILE"
	}
	switch c {
	case signatures.ClassEngine, signatures.ClassComponent:
		return "LIBRARY"
	case signatures.ClassService:
		return "APPLICATION"
	}
	return "OTHER"
}

// findingComment is the annotation comment of a finding:
// "oemtrace finding <id> <class> <confidence> <rule>: <title>; blocking:
// <bool>; evidence: <location> <kind>/<field> <rule> "<value>"; ...".
func findingComment(f report.Finding) string {
	return fmt.Sprintf("oemtrace finding %s %s %s %s: %s; blocking: %t; evidence: %s",
		f.ID, f.Class, f.Confidence, f.Rule, f.Title, f.Blocking, evidenceSummary(f))
}

// reportSummary is the document annotation comment: verdict, signature
// set, policy and every gap.
func reportSummary(rep *report.Report) string {
	s := fmt.Sprintf("oemtrace verdict: %s; signatures: %s %s; policy fail-on: %s; findings: %d; gaps: %d",
		rep.Verdict, rep.Signatures.Version, rep.Signatures.Digest, rep.Policy.FailOn, len(rep.Findings), len(rep.Gaps))
	for _, g := range rep.Gaps {
		s += "; gap " + gapText(g)
	}
	return s
}
