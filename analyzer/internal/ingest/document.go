// Package ingest reads the SBOMs that suppliers hand over (CycloneDX JSON and
// XML 1.2 to 1.7, SPDX 2.2 and 2.3 JSON and tag-value, Syft JSON, each
// optionally gzip-compressed) into one flat, format-neutral Document.
//
// The Document keeps every identity-bearing field of every component together
// with the exact place in the input it came from, so that a finding can point
// at "/components/4/components/0/supplier/name" rather than at a component
// name alone. Nothing is dropped: nested components, metadata.component,
// services, SPDX packages and files all become Components.
//
// Use [Sniff] to learn what a byte stream looks like and [Decode] to read it.
// Decode never panics on hostile input and walks nesting iteratively, so a
// document nested 20,000 levels deep is read without growing the goroutine
// stack. Inputs that are truncated, not an SBOM, of an unsupported version or
// otherwise invalid are refused with a *DecodeError.
package ingest

import "fmt"

// Format names an SBOM serialization.
type Format string

// Formats that Decode reads.
const (
	CycloneDXJSON Format = "cyclonedx-json"
	CycloneDXXML  Format = "cyclonedx-xml"
	SPDXJSON      Format = "spdx-json"
	SPDXTagValue  Format = "spdx-tag-value"
	SyftJSON      Format = "syft-json"
)

// FieldKind says what an identity field means, independent of the format it
// came from. The identity matcher selects fields by kind.
type FieldKind string

// Field kinds. Every format maps its own field names onto these.
const (
	KindName         FieldKind = "name"         // component or package name
	KindGroup        FieldKind = "group"        // CycloneDX group, Maven groupId, npm scope
	KindVersion      FieldKind = "version"      // component version (carried for the subject, not matched)
	KindSupplier     FieldKind = "supplier"     // CycloneDX supplier.name, SPDX PackageSupplier
	KindManufacturer FieldKind = "manufacturer" // CycloneDX manufacturer.name / manufacture.name
	KindAuthor       FieldKind = "author"       // CycloneDX author / authors[].name, Syft npm author, SPDX creator Person/Organization
	KindPublisher    FieldKind = "publisher"    // CycloneDX publisher
	KindOriginator   FieldKind = "originator"   // SPDX PackageOriginator
	KindCopyright    FieldKind = "copyright"    // CycloneDX copyright, SPDX copyrightText
	KindDescription  FieldKind = "description"  // free text: description, summary, comment
	KindPURL         FieldKind = "purl"         // package URL
	KindCPE          FieldKind = "cpe"          // CPE 2.2 URI or 2.3 formatted string
	KindURL          FieldKind = "url"          // external reference, homepage, download location, vcs, email URL
	KindEmail        FieldKind = "email"        // e-mail address of a person or organization
	KindHash         FieldKind = "hash"         // digest; Value is "ALG:hex" with ALG upper-case (SHA-256, SHA-512, ...)
	KindLicense      FieldKind = "license"      // licence id, name or expression
	KindProperty     FieldKind = "property"     // name=value pair from properties/annotations
)

// Field is one identity-bearing value of a component.
type Field struct {
	// Kind is what the value means (supplier, purl, ...).
	Kind FieldKind
	// Qualifier refines Kind where the format says more: the external
	// reference type ("website", "vcs", "advisories"), the hash algorithm,
	// the SPDX external-ref type ("cpe23Type"), or the property name.
	// Empty when the format gives nothing more.
	Qualifier string
	// Value is the field's text exactly as it appears in the document.
	Value string
	// Location is where the value sits in the document: a JSON pointer
	// ("/components/4/supplier/name") for JSON formats, an XPath-like path
	// ("/bom/components/component[5]/supplier/name", 1-based) for XML, and
	// "SPDXRef-Package-x#PackageSupplier" (element id and tag) for SPDX
	// tag-value. In pathologically nested documents, locations longer
	// than 2 KiB keep their start and end and replace middle segments
	// with "/…".
	Location string
}

// Component is anything in the document that can carry identity: a
// CycloneDX component or service, the metadata component, an SPDX package
// or file, a Syft package.
type Component struct {
	// Ref is the document's own identifier: CycloneDX bom-ref, SPDX SPDXID,
	// Syft package id. Empty when the document gives none.
	Ref string
	// Type is the component type as the document states it (library,
	// firmware, service, file, package, ...).
	Type string
	// Name, Version and PURL identify the component in reports.
	Name    string
	Version string
	PURL    string
	// Location is where the component itself sits ("/components/4").
	Location string
	// Fields holds every identity field of the component, in document order.
	Fields []Field
}

// Document is a decoded SBOM.
type Document struct {
	// Format and SpecVersion say what was read ("cyclonedx-json", "1.6").
	Format      Format
	SpecVersion string
	// Name is the document name or serial number, when present.
	Name string
	// Components lists every component at any depth, in document order
	// (depth-first, parents before children).
	Components []Component
	// Notes records anything the decoder had to do that the user should
	// know, such as falling back to the tolerant decoder because the
	// strict library refused a document the standard accepts.
	Notes []string
	// Incomplete lists reasons why the document declares its own
	// inventory incomplete (e.g. CycloneDX compositions with aggregate
	// "incomplete"). Empty when the document makes no such claim.
	Incomplete []string
}

// DecodeError says why an input was refused.
type DecodeError struct {
	// Name is the input's name as given by the caller (a path, or "-").
	Name string
	// Format is the format the input looked like; empty when it looked
	// like no SBOM at all.
	Format Format
	// Where is the position or field at fault: "line 3, column 7",
	// "byte 1234", "/components/2/purl", "specVersion". Empty if unknown.
	Where string
	// Err is the underlying cause.
	Err error
}

// Error formats the error as "name: looks like FORMAT but at WHERE: cause",
// leaving out the parts that are unknown.
func (e *DecodeError) Error() string {
	s := e.Name + ": "
	if e.Format != "" {
		s += "looks like " + string(e.Format) + " but "
	}
	if e.Where != "" {
		s += fmt.Sprintf("at %s: ", e.Where)
	}
	return s + e.Err.Error()
}

// Unwrap returns the underlying cause.
func (e *DecodeError) Unwrap() error { return e.Err }
