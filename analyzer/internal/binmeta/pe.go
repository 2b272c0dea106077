package binmeta

import (
	"cmp"
	"debug/pe"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
)

// peFile is the part of a PE file's headers that binmeta reads. The headers
// are parsed here rather than by debug/pe, which reads COFF symbols and
// relocations binmeta has no use for and trusts their counts, so that every
// size is checked against the file and the limits before it is used.
type peFile struct {
	s         *source
	f         *Facts
	is64      bool
	imageBase uint64
	headers   uint32 // SizeOfHeaders
	dirs      []pe.DataDirectory
	sections  []peSection
	// cache holds the raw data of the sections read so far; cached counts
	// their bytes against a budget of 4 * Limits.MaxSectionBytes.
	cache  map[int][]byte
	cached int64
	// steps counts the import descriptors and thunks read, against a
	// budget of twice Limits.MaxSymbols.
	steps int
	// The names gathered for Facts.Needed, Exports and Imports.
	needed, exported, imported *nameSet
}

// peSection is one section header.
type peSection struct {
	va, vsize, rawOff, rawSize uint32
}

// readPE returns the identity facts of a PE file: the imported DLLs and
// functions, the exported names and DLL name, the version resource strings
// and the Authenticode certificates.
func readPE(s *source) (*Facts, error) {
	p, err := parsePEHeaders(s)
	if err != nil {
		return nil, fmt.Errorf("reading PE headers: %w", err)
	}
	f := &Facts{Format: "pe"}
	p.f = f
	p.needed = newNameSet(s.lim.MaxSymbols, s.lim)
	p.exported = newNameSet(s.lim.MaxSymbols, s.lim)
	p.imported = newNameSet(s.lim.MaxSymbols, s.lim)
	var errs []error
	for _, part := range []struct {
		what string
		read func() error
	}{
		{"imports", p.imports},
		{"delay-load imports", p.delayImports},
		{"exports", p.exports},
		{"version resource", p.versionInfo},
		{"Authenticode signature", p.signature},
	} {
		if err := part.read(); err != nil {
			if isTooLarge(err) {
				f.Truncated = true
				continue
			}
			errs = append(errs, fmt.Errorf("reading PE %s: %w", part.what, err))
		}
	}
	p.needed.into(f, &f.Needed)
	p.exported.into(f, &f.Exports)
	p.imported.into(f, &f.Imports)
	return f, errors.Join(errs...)
}

// parsePEHeaders reads the COFF and optional headers and the section table.
func parsePEHeaders(s *source) (*peFile, error) {
	dos, err := s.readHeader(0, 0x40, "DOS header")
	if err != nil {
		return nil, err
	}
	off := int64(binary.LittleEndian.Uint32(dos[0x3c:])) + 4
	coff, err := s.readHeader(off, 20, "COFF header")
	if err != nil {
		return nil, err
	}
	nsec := int64(binary.LittleEndian.Uint16(coff[2:]))
	optSize := int64(binary.LittleEndian.Uint16(coff[16:]))
	opt, err := s.readHeader(off+20, optSize, "optional header")
	if err != nil {
		return nil, err
	}
	p := &peFile{s: s, cache: map[int][]byte{}}
	if len(opt) < 2 {
		return nil, fmt.Errorf("optional header: %d bytes, too short", len(opt))
	}
	var dirsAt, countAt int
	switch magic := binary.LittleEndian.Uint16(opt); magic {
	case 0x10b:
		dirsAt, countAt = 96, 92
		if len(opt) >= 32 {
			p.imageBase = uint64(binary.LittleEndian.Uint32(opt[28:]))
		}
	case 0x20b:
		p.is64 = true
		dirsAt, countAt = 112, 108
		if len(opt) >= 32 {
			p.imageBase = binary.LittleEndian.Uint64(opt[24:])
		}
	default:
		return nil, fmt.Errorf("optional header magic %#x is neither PE32 nor PE32+", magic)
	}
	if len(opt) >= 64 {
		p.headers = binary.LittleEndian.Uint32(opt[60:])
	}
	if len(opt) >= countAt+4 {
		n := min(int(binary.LittleEndian.Uint32(opt[countAt:])), 16, (len(opt)-dirsAt)/8)
		for i := 0; i < n; i++ {
			d := opt[dirsAt+8*i:]
			p.dirs = append(p.dirs, pe.DataDirectory{
				VirtualAddress: binary.LittleEndian.Uint32(d),
				Size:           binary.LittleEndian.Uint32(d[4:]),
			})
		}
	}
	tab, err := s.readHeader(off+20+optSize, nsec*40, "section table")
	if err != nil {
		return nil, err
	}
	for i := int64(0); i < nsec; i++ {
		h := tab[40*i:]
		p.sections = append(p.sections, peSection{
			vsize:   binary.LittleEndian.Uint32(h[8:]),
			va:      binary.LittleEndian.Uint32(h[12:]),
			rawSize: binary.LittleEndian.Uint32(h[16:]),
			rawOff:  binary.LittleEndian.Uint32(h[20:]),
		})
	}
	// Sorted by address, a section is found by binary search: a file may
	// have 65,535 of them.
	slices.SortStableFunc(p.sections, func(a, b peSection) int { return cmp.Compare(a.va, b.va) })
	return p, nil
}

// dir returns data directory i, zero when the file has none.
func (p *peFile) dir(i int) pe.DataDirectory {
	if i < len(p.dirs) {
		return p.dirs[i]
	}
	return pe.DataDirectory{}
}

// region returns the file data that holds rva: a section's raw data, or the
// headers, with rva's offset in it, and the size of the region as loaded.
// Of overlapping sections, the one with the highest address is taken.
// Between the data's end and the loaded size the loader fills zeros: a
// section's virtual size past its raw data (.bss), or the whole of a
// section a debug-only image (objcopy --only-keep-debug) keeps without
// its data. A section cut short by the end of the file has no such fill.
func (p *peFile) region(rva uint32) (data []byte, off, loaded uint32, err error) {
	i := sort.Search(len(p.sections), func(i int) bool { return p.sections[i].va > rva }) - 1
	if i >= 0 && rva-p.sections[i].va < max(p.sections[i].vsize, p.sections[i].rawSize) {
		sec := p.sections[i]
		data, ok := p.cache[i]
		if !ok {
			if int64(sec.rawOff) > p.s.size && sec.rawSize > 0 {
				return nil, 0, 0, fmt.Errorf("section %d: raw data at offset %d lies beyond the end of the file (%d bytes)", i, sec.rawOff, p.s.size)
			}
			n := max(0, min(int64(sec.rawSize), p.s.size-int64(sec.rawOff)))
			if p.cached+n > 4*p.s.lim.MaxSectionBytes {
				return nil, 0, 0, &tooLargeError{what: "PE sections read", n: p.cached + n, max: 4 * p.s.lim.MaxSectionBytes}
			}
			var err error
			if data, err = p.s.read(int64(sec.rawOff), n, fmt.Sprintf("section %d", i)); err != nil {
				return nil, 0, 0, err
			}
			p.cache[i], p.cached = data, p.cached+n
		}
		loaded := uint32(len(data))
		if loaded == sec.rawSize {
			loaded = max(sec.vsize, sec.rawSize)
		}
		return data, rva - sec.va, loaded, nil
	}
	if rva < p.headers {
		data, ok := p.cache[-1]
		if !ok {
			var err error
			if data, err = p.s.readHeader(0, min(int64(p.headers), p.s.size, 1<<16), "headers"); err != nil {
				return nil, 0, 0, err
			}
			p.cache[-1] = data
		}
		return data, rva, uint32(len(data)), nil
	}
	return nil, 0, 0, fmt.Errorf("RVA %#x is in no section", rva)
}

// bytesAt returns the n bytes at rva, zeros where the loader fills them.
func (p *peFile) bytesAt(rva, n uint32) ([]byte, error) {
	data, off, loaded, err := p.region(rva)
	if err != nil {
		return nil, err
	}
	end := uint64(off) + uint64(n)
	switch {
	case end <= uint64(len(data)):
		return data[off:end], nil
	case end <= uint64(loaded):
		b := make([]byte, n)
		if off < uint32(len(data)) {
			copy(b, data[off:])
		}
		return b, nil
	}
	return nil, fmt.Errorf("%d bytes at RVA %#x run past the data in the file", n, rva)
}

// nameAt returns the NUL-terminated string at rva, at most maxNameBytes
// long, as a slice of the file's data (empty in the loader's zero fill).
func (p *peFile) nameAt(rva uint32) ([]byte, error) {
	data, off, loaded, err := p.region(rva)
	if err != nil {
		return nil, err
	}
	switch {
	case off < uint32(len(data)):
		return cBytes(data, uint64(off)), nil
	case off < loaded:
		return nil, nil
	}
	return nil, fmt.Errorf("string at RVA %#x is not in the file", rva)
}

// step counts one import descriptor or thunk read, reporting false (and
// marking the facts truncated) when the budget is spent.
func (p *peFile) step() bool {
	p.steps++
	if p.steps > 2*p.s.lim.MaxSymbols+1024 {
		p.f.Truncated = true
		return false
	}
	return true
}

// imports records the DLLs and functions of the import directory.
func (p *peFile) imports() error {
	d := p.dir(pe.IMAGE_DIRECTORY_ENTRY_IMPORT)
	if d.VirtualAddress == 0 {
		return nil
	}
	for i := uint32(0); p.step(); i++ {
		desc, err := p.bytesAt(d.VirtualAddress+20*i, 20)
		if err != nil {
			return err
		}
		lookup, nameRVA, iat := le32(desc), le32(desc[12:]), le32(desc[16:])
		if nameRVA == 0 && iat == 0 {
			return nil
		}
		dll, err := p.nameAt(nameRVA)
		if err != nil {
			return fmt.Errorf("DLL name: %w", err)
		}
		p.needed.add(dll)
		if lookup == 0 {
			lookup = iat
		}
		if err := p.thunks(lookup, 0); err != nil {
			return fmt.Errorf("functions imported from %s: %w", dll, err)
		}
	}
	return nil
}

// thunks records the names of an import lookup table at rva, whose entries
// hold name RVAs less bias (the image base for old delay-load tables).
func (p *peFile) thunks(rva uint32, bias uint64) error {
	if rva == 0 {
		return nil
	}
	size := uint32(4)
	if p.is64 {
		size = 8
	}
	for i := uint32(0); p.step(); i++ {
		b, err := p.bytesAt(rva+size*i, size)
		if err != nil {
			return err
		}
		var v uint64
		var byOrdinal bool
		if p.is64 {
			v = binary.LittleEndian.Uint64(b)
			byOrdinal = v&(1<<63) != 0
		} else {
			v = uint64(le32(b))
			byOrdinal = v&(1<<31) != 0
		}
		if v == 0 {
			return nil
		}
		if byOrdinal {
			continue
		}
		hint := uint32(v-bias) & 0x7fffffff
		name, err := p.nameAt(hint + 2)
		if err != nil {
			return err
		}
		if !p.imported.add(name) {
			return nil
		}
	}
	return nil
}

// delayImports records the DLLs and functions of the delay-load import
// directory.
func (p *peFile) delayImports() error {
	d := p.dir(pe.IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT)
	if d.VirtualAddress == 0 {
		return nil
	}
	for i := uint32(0); p.step(); i++ {
		desc, err := p.bytesAt(d.VirtualAddress+32*i, 32)
		if err != nil {
			return err
		}
		attrs, nameRVA, names := le32(desc), le32(desc[4:]), le32(desc[16:])
		if nameRVA == 0 {
			return nil
		}
		// Version 1 tables (attribute bit 0) hold RVAs, version 0 hold VAs.
		var bias uint64
		if attrs&1 == 0 {
			bias = p.imageBase
			nameRVA -= uint32(bias)
			names -= uint32(bias)
		}
		dll, err := p.nameAt(nameRVA)
		if err != nil {
			return fmt.Errorf("DLL name: %w", err)
		}
		p.needed.add(dll)
		if names != 0 {
			if err := p.thunks(names, bias); err != nil {
				return fmt.Errorf("functions imported from %s: %w", dll, err)
			}
		}
	}
	return nil
}

// exports records the names and the DLL name of the export directory.
func (p *peFile) exports() error {
	d := p.dir(pe.IMAGE_DIRECTORY_ENTRY_EXPORT)
	if d.VirtualAddress == 0 {
		return nil
	}
	dir, err := p.bytesAt(d.VirtualAddress, 40)
	if err != nil {
		return err
	}
	if nameRVA := le32(dir[12:]); nameRVA != 0 {
		name, err := p.nameAt(nameRVA)
		if err != nil {
			return fmt.Errorf("DLL name: %w", err)
		}
		p.f.SOName = string(name)
	}
	n, namesRVA := le32(dir[24:]), le32(dir[32:])
	if int64(n) > int64(min(p.s.lim.MaxSymbols, 1<<28)) {
		n = uint32(min(p.s.lim.MaxSymbols, 1<<28))
		p.f.Truncated = true
	}
	if n == 0 {
		return nil
	}
	names, err := p.bytesAt(namesRVA, 4*n)
	if err != nil {
		return fmt.Errorf("name table: %w", err)
	}
	for i := uint32(0); i < n; i++ {
		name, err := p.nameAt(le32(names[4*i:]))
		if err != nil {
			return err
		}
		if !p.exported.add(name) {
			return nil
		}
	}
	return nil
}

// le32 decodes a little-endian uint32.
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
