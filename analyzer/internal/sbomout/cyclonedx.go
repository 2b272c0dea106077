package sbomout

import (
	"bytes"
	"fmt"
	"io"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/format/common/cyclonedxhelpers"
	"github.com/anchore/syft/syft/sbom"

	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

// cdxSpecVersion parses Options.CycloneDXVersion.
func cdxSpecVersion(v string) (cdx.SpecVersion, error) {
	switch v {
	case "", "1.6":
		return cdx.SpecVersion1_6, nil
	case "1.7":
		return cdx.SpecVersion1_7, nil
	}
	return 0, fmt.Errorf("unsupported CycloneDX version %q (supported: 1.6, 1.7)", v)
}

// writeCycloneDX encodes the BOM of s and rep as CycloneDX JSON or XML at
// the version chosen in opts, pretty-printed, without HTML escaping.
func writeCycloneDX(w io.Writer, f Format, s *sbom.SBOM, rep *report.Report, opts Options) error {
	ver, err := cdxSpecVersion(opts.CycloneDXVersion)
	if err != nil {
		return err
	}
	bom, err := buildBOM(s, rep, ver)
	if err != nil {
		return err
	}
	ff := cdx.BOMFileFormatJSON
	if f == CycloneDXXML {
		ff = cdx.BOMFileFormatXML
	}
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, ff)
	enc.SetPretty(true)
	enc.SetEscapeHTML(false)
	// Encode, not EncodeVersion: the BOM is at ver already (see
	// convertBOM), and EncodeVersion's gob copy would drop every pointer to
	// a zero value, such as an occurrence at offset 0.
	if err := enc.Encode(bom); err != nil {
		return fmt.Errorf("encoding CycloneDX %s: %w", ver, err)
	}
	out := buf.Bytes()
	if ff == cdx.BOMFileFormatXML {
		if out, err = fixXMLOccurrences(out); err != nil {
			return fmt.Errorf("encoding CycloneDX %s: %w", ver, err)
		}
	} else {
		out = unescapeHTML(out)
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("encoding CycloneDX %s: %w", ver, err)
	}
	return nil
}

// buildBOM converts s with Syft's own CycloneDX conversion (or starts an
// empty BOM when s is nil) at version ver, then adds oemtrace: the tool,
// the report's verdict, signature set, policy and gaps in the metadata,
// each finding on the component of its package, and a component for every
// finding about something that is not a Syft package. What oemtrace adds is
// valid in CycloneDX 1.6 and 1.7 alike.
func buildBOM(s *sbom.SBOM, rep *report.Report, ver cdx.SpecVersion) (*cdx.BOM, error) {
	var base *cdx.BOM
	byID := map[artifact.ID]int{} // Syft package ID -> index in components
	if s != nil {
		named := withInputName(s, rep)
		base = cyclonedxhelpers.ToFormatModel(named)
		if base == nil {
			return nil, fmt.Errorf("converting Syft SBOM to CycloneDX: no BOM")
		}
		if named.Artifacts.Packages != nil {
			// ToFormatModel writes the packages first, in this order.
			pkgs := named.Artifacts.Packages.Sorted()
			if base.Components == nil || len(*base.Components) < len(pkgs) {
				return nil, fmt.Errorf("converting Syft SBOM to CycloneDX: %d packages but fewer components", len(pkgs))
			}
			for i, p := range pkgs {
				if c := (*base.Components)[i]; c.Name != p.Name || c.Version != p.Version {
					return nil, fmt.Errorf("converting Syft SBOM to CycloneDX: component %d is %s@%s, want package %s@%s", i, c.Name, c.Version, p.Name, p.Version)
				}
				byID[p.ID()] = i
			}
		}
	} else {
		base = cdx.NewBOM()
		serial, err := newUUID()
		if err != nil {
			return nil, fmt.Errorf("building CycloneDX BOM: %w", err)
		}
		base.SerialNumber = "urn:uuid:" + serial
		base.Metadata = &cdx.Metadata{Timestamp: time.Now().UTC().Format(time.RFC3339)}
	}
	bom, err := convertBOM(base, ver)
	if err != nil {
		return nil, err
	}
	if bom.Metadata == nil {
		bom.Metadata = &cdx.Metadata{}
	}
	if !rep.Time.IsZero() {
		bom.Metadata.Timestamp = rep.Time.UTC().Format(time.RFC3339)
	}
	addToolAndReport(bom.Metadata, rep)

	var comps []cdx.Component
	if bom.Components != nil {
		comps = *bom.Components
	}
	for _, f := range rep.Findings {
		if i, ok := byID[artifact.ID(f.Subject.Ref)]; ok && f.Subject.Ref != "" {
			attachFinding(&comps[i], f)
			continue
		}
		comps = append(comps, findingComponent(f))
	}
	if len(comps) > 0 {
		bom.Components = &comps
	}

	if len(rep.Gaps) > 0 {
		comp := cdx.Composition{BOMRef: "oemtrace:composition", Aggregate: cdx.CompositionAggregateIncomplete}
		if bom.Metadata.Component != nil && bom.Metadata.Component.BOMRef != "" {
			comp.Assemblies = &[]cdx.BOMReference{cdx.BOMReference(bom.Metadata.Component.BOMRef)}
		}
		compositions := []cdx.Composition{comp}
		if bom.Compositions != nil {
			compositions = append(*bom.Compositions, comp)
		}
		bom.Compositions = &compositions
	}
	bom.SpecVersion = ver
	bom.JSONSchema = "http://cyclonedx.org/schema/bom-" + ver.String() + ".schema.json"
	bom.XMLNS = "http://cyclonedx.org/schema/bom/" + ver.String()
	return bom, nil
}

// convertBOM returns b converted to version ver by cyclonedx-go, as Syft's
// own encoder does, read back through CycloneDX JSON so that no field is
// lost in the copy.
func convertBOM(b *cdx.BOM, ver cdx.SpecVersion) (*cdx.BOM, error) {
	var buf bytes.Buffer
	if err := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON).EncodeVersion(b, ver); err != nil {
		return nil, fmt.Errorf("converting BOM to CycloneDX %s: %w", ver, err)
	}
	var out cdx.BOM
	if err := cdx.NewBOMDecoder(&buf, cdx.BOMFileFormatJSON).Decode(&out); err != nil {
		return nil, fmt.Errorf("converting BOM to CycloneDX %s: %w", ver, err)
	}
	return &out, nil
}

// addToolAndReport names oemtrace among the tools and records the report's
// verdict, signature set, policy and gaps as metadata properties.
func addToolAndReport(md *cdx.Metadata, rep *report.Report) {
	name := rep.Tool.Name
	if name == "" {
		name = "oemtrace"
	}
	tool := cdx.Component{Type: cdx.ComponentTypeApplication, BOMRef: toolRef, Name: name, Version: rep.Tool.Version}
	if md.Tools == nil {
		md.Tools = &cdx.ToolsChoice{}
	}
	var tools []cdx.Component
	if md.Tools.Components != nil {
		tools = *md.Tools.Components
	}
	tools = append(tools, tool)
	md.Tools.Components = &tools

	var props []cdx.Property
	if md.Properties != nil {
		props = *md.Properties
	}
	props = append(props,
		cdx.Property{Name: propVerdict, Value: string(rep.Verdict)},
		cdx.Property{Name: propSigVersion, Value: rep.Signatures.Version},
		cdx.Property{Name: propSigDigest, Value: rep.Signatures.Digest},
		cdx.Property{Name: propPolicyFail, Value: string(rep.Policy.FailOn)},
	)
	for _, g := range rep.Gaps {
		props = append(props, cdx.Property{Name: propGap, Value: gapText(g)})
	}
	md.Properties = &props
}

// gapText renders a gap as "location: reason".
func gapText(g report.Gap) string {
	return g.Location.String() + ": " + g.Reason
}

// findingComponent is the component of a finding whose subject is not a
// Syft package: a file, a product folder, or a component of an input
// document. Its bom-ref is "oemtrace:" + the finding ID.
func findingComponent(f report.Finding) cdx.Component {
	kind := kindOf(f)
	c := cdx.Component{
		BOMRef:     findingRefStem + f.ID,
		Type:       componentType(f.Class, kind),
		Name:       subjectName(f),
		Version:    f.Subject.Version,
		PackageURL: f.Subject.PURL,
	}
	props := []cdx.Property{{Name: propSubjectIn, Value: f.Subject.Input}}
	if f.Subject.Location != "" {
		props = append(props, cdx.Property{Name: propSubjectLoc, Value: f.Subject.Location})
	}
	c.Properties = &props
	attachFinding(&c, f)
	return c
}

// componentType is the CycloneDX type of a finding's own component: a file
// is a file; otherwise engine and component findings are libraries,
// service findings applications (the product that talks to Kaspersky
// infrastructure) and mentions data.
func componentType(c report.Class, k subjectKind) cdx.ComponentType {
	if k == subjectFile {
		return cdx.ComponentTypeFile
	}
	switch c {
	case signatures.ClassEngine, signatures.ClassComponent:
		return cdx.ComponentTypeLibrary
	case signatures.ClassService:
		return cdx.ComponentTypeApplication
	}
	return cdx.ComponentTypeData
}
