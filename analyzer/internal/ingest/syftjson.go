package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Syft JSON: the native format of github.com/anchore/syft (top-level
// "artifacts", "source", "distro", "descriptor", "schema"). It is decoded
// with encoding/json into the small local structs below; package metadata,
// whose shape depends on the package type, is read member by member.
//
// Each artifact becomes a Component (Ref = id, Type = type). A synthetic
// first Component of Type "document" at "/source" carries the scanned
// source's name, version and supplier and the detected distribution.

// syftDoc is the identity view of a Syft JSON document.
type syftDoc struct {
	Artifacts []*syftPackage `json:"artifacts"`
	Source    *struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Supplier string `json:"supplier"`
		Type     string `json:"type"`
	} `json:"source"`
	Distro *struct {
		PrettyName   string `json:"prettyName"`
		Name         string `json:"name"`
		ID           string `json:"id"`
		VersionID    string `json:"versionID"`
		HomeURL      string `json:"homeURL"`
		SupportURL   string `json:"supportURL"`
		BugReportURL string `json:"bugReportURL"`
	} `json:"distro"`
	Schema *struct {
		Version string `json:"version"`
	} `json:"schema"`
}

// syftPackage is the identity view of a Syft package.
type syftPackage struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Version   string `json:"version"`
	Type      string `json:"type"`
	FoundBy   string `json:"foundBy"`
	PURL      string `json:"purl"`
	Locations []*struct {
		Path string `json:"path"`
	} `json:"locations"`
	Licenses []json.RawMessage          `json:"licenses"`
	CPEs     []json.RawMessage          `json:"cpes"`
	Metadata map[string]json.RawMessage `json:"metadata"`
}

// syftMetaKey maps a package metadata member to a field kind.
type syftMetaKey struct {
	key  string
	kind FieldKind
}

// syftMetaKeys lists, in emission order, the package metadata members that
// carry identity, across Syft's package types (npm, dpkg, apk, rpm, alpm,
// python, gem, php composer, R, dotnet, binary, wordpress, ...).
var syftMetaKeys = []syftMetaKey{
	{"author", KindAuthor}, {"authors", KindAuthor}, {"authorEmail", KindEmail},
	{"maintainer", KindSupplier}, {"maintainers", KindSupplier}, {"maintainerEmail", KindEmail},
	{"packager", KindSupplier}, {"packagerEmail", KindEmail},
	{"vendor", KindSupplier}, {"companyName", KindSupplier}, {"supplier", KindSupplier},
	{"publisher", KindPublisher},
	{"homepage", KindURL}, {"url", KindURL}, {"authorUri", KindURL}, {"vcs_url", KindURL}, {"hosted_url", KindURL},
	{"legalCopyright", KindCopyright}, {"copyright", KindCopyright},
	{"description", KindDescription},
}

// javaManifestKeys maps Java manifest attributes to field kinds.
var javaManifestKeys = map[string]FieldKind{
	"Implementation-Vendor": KindSupplier, "Implementation-Vendor-Id": KindSupplier,
	"Specification-Vendor": KindSupplier, "Bundle-Vendor": KindSupplier,
	"Implementation-URL": KindURL, "Bundle-DocURL": KindURL,
}

// decodeSyftJSON reads Syft JSON.
func decodeSyftJSON(ctx context.Context, name string, data []byte) (*Document, error) {
	fail := func(where string, err error) error {
		return &DecodeError{Name: name, Format: SyftJSON, Where: where, Err: err}
	}
	var d syftDoc
	if err := json.Unmarshal(data, &d); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fail(posOf(data, int(se.Offset)), errors.New(jsonSyntaxMsg(se.Error())))
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, fail(posOf(data, int(te.Offset)), fmt.Errorf("member %q: expected %s, got JSON %s", te.Field, te.Type, te.Value))
		}
		return nil, fail("", err)
	}
	if d.Schema == nil {
		return nil, fail("schema", errors.New(`no "schema" member; not a Syft JSON document`))
	}
	doc := &Document{Format: SyftJSON, SpecVersion: d.Schema.Version}
	if !strings.HasPrefix(d.Schema.Version, "16.") {
		doc.Notes = append(doc.Notes, fmt.Sprintf("Syft JSON schema version %q is not 16.x; the document was read on a best-effort basis", d.Schema.Version))
	}
	src := Component{Type: "document", Location: "/source"}
	if s := d.Source; s != nil {
		doc.Name = s.Name
		src.Ref, src.Name, src.Version = s.ID, s.Name, s.Version
		addField(&src, KindName, "", s.Name, "/source/name")
		addField(&src, KindVersion, "", s.Version, "/source/version")
		addField(&src, KindSupplier, "", s.Supplier, "/source/supplier")
	}
	if ds := d.Distro; ds != nil {
		addField(&src, KindProperty, "distro", ds.PrettyName, "/distro/prettyName")
		addField(&src, KindProperty, "distro", ds.Name, "/distro/name")
		addField(&src, KindProperty, "distro", ds.ID, "/distro/id")
		addField(&src, KindURL, "distro.homeURL", ds.HomeURL, "/distro/homeURL")
		addField(&src, KindURL, "distro.supportURL", ds.SupportURL, "/distro/supportURL")
		addField(&src, KindURL, "distro.bugReportURL", ds.BugReportURL, "/distro/bugReportURL")
	}
	if len(src.Fields) > 0 {
		doc.Components = append(doc.Components, src)
	}
	for i, p := range d.Artifacts {
		if i%checkEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fail("", err)
			}
		}
		if p == nil {
			continue
		}
		doc.Components = append(doc.Components, syftComponent(p, "/artifacts/"+itoa(i)))
	}
	return doc, nil
}

// syftComponent turns one artifact at loc into a Component.
func syftComponent(p *syftPackage, loc string) Component {
	c := Component{Ref: p.ID, Type: p.Type, Name: p.Name, Version: p.Version, PURL: p.PURL, Location: loc}
	addField(&c, KindName, "", p.Name, loc+"/name")
	addField(&c, KindVersion, "", p.Version, loc+"/version")
	addField(&c, KindProperty, "type", p.Type, loc+"/type")
	addField(&c, KindProperty, "foundBy", p.FoundBy, loc+"/foundBy")
	addField(&c, KindPURL, "", p.PURL, loc+"/purl")
	for i, raw := range p.CPEs {
		l := loc + "/cpes/" + itoa(i)
		if s, ok := rawString(raw); ok {
			addField(&c, KindCPE, "", s, l)
			continue
		}
		var v struct {
			CPE string `json:"cpe"`
		}
		if json.Unmarshal(raw, &v) == nil {
			addField(&c, KindCPE, "", v.CPE, l+"/cpe")
		}
	}
	for i, raw := range p.Licenses {
		l := loc + "/licenses/" + itoa(i)
		if s, ok := rawString(raw); ok {
			addField(&c, KindLicense, "", s, l)
			continue
		}
		var v struct {
			Value          string `json:"value"`
			SPDXExpression string `json:"spdxExpression"`
		}
		if json.Unmarshal(raw, &v) == nil {
			addField(&c, KindLicense, "value", v.Value, l+"/value")
			if v.SPDXExpression != v.Value {
				addField(&c, KindLicense, "expression", v.SPDXExpression, l+"/spdxExpression")
			}
		}
	}
	for i, l := range p.Locations {
		if l != nil {
			addField(&c, KindProperty, "location", l.Path, loc+"/locations/"+itoa(i)+"/path")
		}
	}
	ml := loc + "/metadata"
	for _, k := range syftMetaKeys {
		if raw, ok := p.Metadata[k.key]; ok {
			syftMetaValue(&c, k.kind, k.key, raw, ml+"/"+pointerEscape(k.key))
		}
	}
	if raw, ok := p.Metadata["manifest"]; ok {
		syftManifest(&c, raw, ml+"/manifest")
	}
	for _, member := range []string{"pomProperties", "pomProject"} {
		var v struct {
			GroupID string `json:"groupId"`
			URL     string `json:"url"`
		}
		if raw, ok := p.Metadata[member]; ok && json.Unmarshal(raw, &v) == nil {
			addField(&c, KindGroup, "", v.GroupID, ml+"/"+member+"/groupId")
			addField(&c, KindURL, member+".url", v.URL, ml+"/"+member+"/url")
		}
	}
	return c
}

// syftMetaValue adds a metadata member that is a string, a list of strings,
// or a person object ({"name", "email", "homepage"/"url"}) or a list of
// them.
func syftMetaValue(c *Component, kind FieldKind, key string, raw json.RawMessage, loc string) {
	qual := key
	if s, ok := rawString(raw); ok {
		addField(c, kind, qual, s, loc)
		return
	}
	person := func(raw json.RawMessage, loc string) {
		var v struct {
			Name     string `json:"name"`
			Email    string `json:"email"`
			Homepage string `json:"homepage"`
			URL      string `json:"url"`
		}
		if json.Unmarshal(raw, &v) != nil {
			return
		}
		addField(c, kind, qual, v.Name, loc+"/name")
		addField(c, KindEmail, key, v.Email, loc+"/email")
		addField(c, KindURL, key, v.Homepage, loc+"/homepage")
		addField(c, KindURL, key, v.URL, loc+"/url")
	}
	var list []json.RawMessage
	if json.Unmarshal(raw, &list) == nil {
		for i, item := range list {
			l := loc + "/" + itoa(i)
			if s, ok := rawString(item); ok {
				addField(c, kind, qual, s, l)
			} else {
				person(item, l)
			}
		}
		return
	}
	person(raw, loc)
}

// syftManifest adds the vendor and URL attributes of a Java manifest, whose
// "main" section Syft writes as a list of {"key", "value"} pairs (older
// schemas: an object).
func syftManifest(c *Component, raw json.RawMessage, loc string) {
	var m struct {
		Main json.RawMessage `json:"main"`
	}
	if json.Unmarshal(raw, &m) != nil || len(m.Main) == 0 {
		return
	}
	var pairs []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	}
	if json.Unmarshal(m.Main, &pairs) == nil {
		for i, kv := range pairs {
			if kind, ok := javaManifestKeys[kv.Key]; ok {
				addField(c, kind, kv.Key, kv.Value, loc+"/main/"+itoa(i)+"/value")
			}
		}
		return
	}
	var obj map[string]string
	if json.Unmarshal(m.Main, &obj) == nil {
		for _, k := range []string{"Implementation-Vendor", "Implementation-Vendor-Id", "Specification-Vendor", "Bundle-Vendor", "Implementation-URL", "Bundle-DocURL"} {
			if v, ok := obj[k]; ok {
				addField(c, javaManifestKeys[k], k, v, loc+"/main/"+pointerEscape(k))
			}
		}
	}
}

// rawString decodes raw as a JSON string.
func rawString(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// pointerEscape escapes a JSON pointer segment.
func pointerEscape(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
