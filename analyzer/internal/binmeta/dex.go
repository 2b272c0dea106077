package binmeta

import (
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf16"
)

const (
	// dexHeaderSize is the size of a dex file header.
	dexHeaderSize = 0x70
	// dexEndianConstant is the endian_tag of a little-endian dex file, the
	// only kind Android writes.
	dexEndianConstant = 0x12345678
)

// readDexFile returns the class names of a dex file on its own. The file
// is read whole, so one larger than Limits.MaxSectionBytes yields no
// classes and is marked truncated.
func readDexFile(s *source) (*Facts, error) {
	f := &Facts{Format: "dex"}
	data, err := s.read(0, s.size, "dex file")
	if err != nil {
		if isTooLarge(err) {
			f.Truncated = true
			return f, nil
		}
		return nil, err
	}
	classes := newNameSet(s.lim.MaxClasses, s.lim)
	err = dexClasses(data, classes)
	classes.into(f, &f.Classes)
	if err != nil && len(f.Classes) == 0 {
		return nil, err
	}
	return f, err
}

// dexClasses records in f.Classes the dotted names of the class types of a
// dex file's type table (type_ids), whose entries index the string table
// (string_ids) of type descriptors ("Lcom/example/Foo;"). Array types count
// as their element class; primitive types are skipped.
func dexClasses(b []byte, classes *nameSet) error {
	if len(b) < dexHeaderSize || !isDexMagic(b) {
		return fmt.Errorf("reading dex header: %d bytes, not a dex file", len(b))
	}
	le := binary.LittleEndian
	if tag := le.Uint32(b[0x28:]); tag != dexEndianConstant {
		return fmt.Errorf("reading dex header: endian tag %#x is not little-endian", tag)
	}
	strCount, strOff := uint64(le.Uint32(b[0x38:])), uint64(le.Uint32(b[0x3c:]))
	typeCount, typeOff := uint64(le.Uint32(b[0x40:])), uint64(le.Uint32(b[0x44:]))
	size := uint64(len(b))
	if strOff > size || strCount > (size-strOff)/4 {
		return fmt.Errorf("reading dex string table: %d entries at offset %d lie beyond the end of the file (%d bytes)", strCount, strOff, size)
	}
	if typeOff > size || typeCount > (size-typeOff)/4 {
		return fmt.Errorf("reading dex type table: %d entries at offset %d lie beyond the end of the file (%d bytes)", typeCount, typeOff, size)
	}
	for i := uint64(0); i < typeCount && !classes.full; i++ {
		idx := uint64(le.Uint32(b[typeOff+4*i:]))
		if idx >= strCount {
			return fmt.Errorf("reading dex type table: type %d names string %d of %d", i, idx, strCount)
		}
		dataOff := uint64(le.Uint32(b[strOff+4*idx:]))
		if dataOff >= size {
			return fmt.Errorf("reading dex string data: string %d at offset %d lies beyond the end of the file (%d bytes)", idx, dataOff, size)
		}
		desc, n := mutf8String(b[dataOff:])
		if !classes.charge(n) {
			break
		}
		if class := classFromDescriptor(desc); class != "" {
			classes.add([]byte(class))
		}
	}
	return nil
}

// classFromDescriptor returns the dotted class name of a type descriptor
// ("Lcom/example/Foo;" and "[[Lcom/example/Foo;" are "com.example.Foo"),
// "" for primitive types and malformed descriptors.
func classFromDescriptor(desc string) string {
	desc = strings.TrimLeft(desc, "[")
	if len(desc) < 3 || desc[0] != 'L' || desc[len(desc)-1] != ';' {
		return ""
	}
	return strings.ReplaceAll(desc[1:len(desc)-1], "/", ".")
}

// mutf8String decodes a dex string_data_item: a ULEB128 length in UTF-16
// code units, then Modified UTF-8 ending in NUL. It decodes at most
// maxNameBytes code units, replaces malformed sequences with U+FFFD, and
// also returns how many bytes it read.
func mutf8String(b []byte) (string, int) {
	start := len(b)
	// Skip the ULEB128 length (at most 5 bytes); the NUL ends the string.
	for i := 0; i < 5 && len(b) > 0; i++ {
		c := b[0]
		b = b[1:]
		if c < 0x80 {
			break
		}
	}
	units := make([]uint16, 0, 64)
	for len(b) > 0 && b[0] != 0 && len(units) < maxNameBytes {
		c := b[0]
		switch {
		case c < 0x80:
			units = append(units, uint16(c))
			b = b[1:]
		case c&0xe0 == 0xc0 && len(b) >= 2 && b[1]&0xc0 == 0x80:
			units = append(units, uint16(c&0x1f)<<6|uint16(b[1]&0x3f))
			b = b[2:]
		case c&0xf0 == 0xe0 && len(b) >= 3 && b[1]&0xc0 == 0x80 && b[2]&0xc0 == 0x80:
			units = append(units, uint16(c&0x0f)<<12|uint16(b[1]&0x3f)<<6|uint16(b[2]&0x3f))
			b = b[3:]
		default:
			units = append(units, 0xfffd)
			b = b[1:]
		}
	}
	return string(utf16.Decode(units)), start - len(b)
}
