package binmeta

import (
	"debug/pe"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

const (
	// rtVersion is the resource type of a version resource (RT_VERSION).
	rtVersion = 16
	// maxVersionInfo is the largest VS_VERSIONINFO: its length is a WORD.
	maxVersionInfo = 1 << 16
)

// isVersionKey reports whether Facts.Version keeps a StringFileInfo key:
// the standard keys of a version resource.
func isVersionKey(key string) bool {
	switch key {
	case "CompanyName", "ProductName", "FileDescription", "LegalCopyright",
		"OriginalFilename", "InternalName", "ProductVersion", "FileVersion",
		"Comments", "LegalTrademarks", "PrivateBuild", "SpecialBuild":
		return true
	}
	return false
}

// versionInfo records the strings of the first string table of the first
// version resource in Facts.Version.
func (p *peFile) versionInfo() error {
	d := p.dir(pe.IMAGE_DIRECTORY_ENTRY_RESOURCE)
	if d.VirtualAddress == 0 {
		return nil
	}
	base := d.VirtualAddress
	// The resource tree has three levels: type, name, language.
	off, found, err := p.resourceEntry(base, 0, func(id uint32) bool { return id == rtVersion }, true)
	if err != nil || !found {
		return err
	}
	if off, found, err = p.resourceEntry(base, off, nil, true); err != nil || !found {
		return err
	}
	if off, found, err = p.resourceEntry(base, off, nil, false); err != nil || !found {
		return err
	}
	entry, err := p.bytesAt(base+off, 16)
	if err != nil {
		return fmt.Errorf("resource data entry: %w", err)
	}
	data, err := p.bytesAt(le32(entry), min(le32(entry[4:]), maxVersionInfo))
	if err != nil {
		return fmt.Errorf("resource data: %w", err)
	}
	strs, err := parseVersionInfo(data)
	if err != nil {
		return err
	}
	for k, v := range strs {
		if isVersionKey(k) {
			if p.f.Version == nil {
				p.f.Version = map[string]string{}
			}
			p.f.Version[k] = v
		}
	}
	return nil
}

// resourceEntry finds, in the resource directory at base+off, the first
// entry whose ID satisfies match (any entry when match is nil) and that
// leads to a subdirectory (dir) or to a data entry (!dir). It returns the
// entry's target as an offset from base.
func (p *peFile) resourceEntry(base, off uint32, match func(id uint32) bool, dir bool) (uint32, bool, error) {
	hdr, err := p.bytesAt(base+off, 16)
	if err != nil {
		return 0, false, fmt.Errorf("resource directory: %w", err)
	}
	n := uint32(binary.LittleEndian.Uint16(hdr[12:])) + uint32(binary.LittleEndian.Uint16(hdr[14:]))
	if n == 0 {
		return 0, false, nil
	}
	entries, err := p.bytesAt(base+off+16, 8*n)
	if err != nil {
		return 0, false, fmt.Errorf("resource directory entries: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		id, target := le32(entries[8*i:]), le32(entries[8*i+4:])
		if match != nil && (id&(1<<31) != 0 || !match(id)) {
			continue
		}
		if (target&(1<<31) != 0) == dir {
			return target &^ (1 << 31), true, nil
		}
	}
	return 0, false, nil
}

// versionNode is one node of a VS_VERSIONINFO tree: a header (length,
// value length, type), a UTF-16 key, a value and child nodes, each part
// aligned to 4 bytes.
type versionNode struct {
	key      string
	value    []byte // for a text node, everything after the key
	children []byte
	size     int // length rounded up to 4: the offset of the next sibling
}

// parseVersionNode parses the node at the start of b.
func parseVersionNode(b []byte) (versionNode, error) {
	if len(b) < 6 {
		return versionNode{}, fmt.Errorf("version node: %d bytes, too short", len(b))
	}
	length := int(binary.LittleEndian.Uint16(b))
	if length < 6 {
		return versionNode{}, fmt.Errorf("version node length %d", length)
	}
	length = min(length, len(b))
	b = b[:length]
	valueLen, typ := int(binary.LittleEndian.Uint16(b[2:])), binary.LittleEndian.Uint16(b[4:])
	pos := 6
	for pos+2 <= len(b) && (b[pos] != 0 || b[pos+1] != 0) {
		pos += 2
	}
	n := versionNode{key: decodeUTF16(b[6:pos]), size: align4(length)}
	pos = min(align4(pos+2), len(b))
	if typ == 1 && valueLen > 0 {
		// Text: the value's length in WORDs is unreliable (some tools
		// count bytes), so take the rest of the node; a String node, the
		// only kind with a text value, has no children.
		n.value = b[pos:]
		return n, nil
	}
	end := min(pos+valueLen, len(b))
	n.value = b[pos:end]
	n.children = b[min(align4(end), len(b)):]
	return n, nil
}

// parseVersionInfo returns the strings of the first string table of the
// StringFileInfo of a VS_VERSIONINFO resource.
func parseVersionInfo(data []byte) (map[string]string, error) {
	root, err := parseVersionNode(data)
	if err != nil {
		return nil, err
	}
	if root.key != "VS_VERSION_INFO" {
		return nil, fmt.Errorf("version resource key %q, want VS_VERSION_INFO", root.key)
	}
	for b := root.children; len(b) >= 6; {
		n, err := parseVersionNode(b)
		if err != nil {
			return nil, err
		}
		b = b[min(n.size, len(b)):]
		if n.key != "StringFileInfo" {
			continue
		}
		// The first string table: one per language and code page.
		if len(n.children) < 6 {
			return nil, nil
		}
		table, err := parseVersionNode(n.children)
		if err != nil {
			return nil, err
		}
		strs := map[string]string{}
		for c := table.children; len(c) >= 6; {
			s, err := parseVersionNode(c)
			if err != nil {
				return strs, err
			}
			c = c[min(s.size, len(c)):]
			strs[s.key] = strings.TrimSpace(decodeUTF16(s.value))
		}
		return strs, nil
	}
	return nil, nil
}

// decodeUTF16 decodes little-endian UTF-16 up to the first NUL, at most
// maxNameBytes code units.
func decodeUTF16(b []byte) string {
	units := make([]uint16, 0, min(len(b)/2, maxNameBytes))
	for i := 0; i+2 <= len(b) && len(units) < maxNameBytes; i += 2 {
		u := binary.LittleEndian.Uint16(b[i:])
		if u == 0 {
			break
		}
		units = append(units, u)
	}
	return string(utf16.Decode(units))
}

// align4 rounds n up to a multiple of 4.
func align4(n int) int { return (n + 3) &^ 3 }
