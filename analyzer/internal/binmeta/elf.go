package binmeta

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
)

const (
	// maxNameBytes caps the length of one symbol, library or class name.
	maxNameBytes = 4096
	// stbGNUUnique is the STB_GNU_UNIQUE binding, which debug/elf does not
	// name: a global symbol unique in the process.
	stbGNUUnique elf.SymBind = 10
)

// elfFile is the part of an ELF file's headers that binmeta reads. The
// headers are parsed here rather than by debug/elf so that every count and
// size is checked against the file and the limits before it is used.
type elfFile struct {
	s        *source
	bo       binary.ByteOrder
	is64     bool
	sections []elfSection
	progs    []elfProg
	// The names gathered for Facts.Needed, Exports and Imports.
	needed, exports, imports *nameSet
}

// elfSection is one section header.
type elfSection struct {
	typ     elf.SectionType
	flags   elf.SectionFlag
	off     uint64
	size    uint64
	link    uint32
	entsize uint64
}

// elfProg is one program header.
type elfProg struct {
	typ    elf.ProgType
	off    uint64
	vaddr  uint64
	filesz uint64
}

// elfDynamic holds the entries of the dynamic section that binmeta uses.
type elfDynamic struct {
	needed    []uint64
	soname    uint64
	hasSoname bool
	// strtab is the string table DT_NEEDED and DT_SONAME point into.
	strtab []byte
	// Addresses and sizes from the dynamic section, zero when absent.
	strtabAddr, strsz, symtabAddr, syment, hashAddr, gnuHashAddr uint64
}

// readELF returns the dynamic linking facts of an ELF file: SONAME, needed
// libraries, and the defined and undefined dynamic symbols. It reads the
// section headers when there are any and falls back to the program headers
// (PT_DYNAMIC and the tables it points at) when they are missing, as in
// files whose section headers were stripped.
func readELF(s *source) (*Facts, error) {
	e, secErr, err := parseELFHeaders(s)
	if err != nil {
		return nil, fmt.Errorf("reading ELF headers: %w", err)
	}
	f := &Facts{Format: "elf"}
	e.needed = newNameSet(s.lim.MaxSymbols, s.lim)
	e.exports = newNameSet(s.lim.MaxSymbols, s.lim)
	e.imports = newNameSet(s.lim.MaxSymbols, s.lim)
	var errs []error
	if secErr != nil {
		if !isTooLarge(secErr) {
			errs = append(errs, fmt.Errorf("reading ELF section headers: %w", secErr))
		}
		f.Truncated = true
	}
	dyn, err := e.dynamic(f)
	if err != nil {
		errs = append(errs, fmt.Errorf("reading ELF dynamic section: %w", err))
	}
	if err := e.symbols(f, dyn); err != nil {
		errs = append(errs, fmt.Errorf("reading ELF dynamic symbols: %w", err))
	}
	e.needed.into(f, &f.Needed)
	e.exports.into(f, &f.Exports)
	e.imports.into(f, &f.Imports)
	return f, errors.Join(errs...)
}

// parseELFHeaders reads the file header and the program and section header
// tables. A damaged section header table is reported as secErr, with e
// still usable through its program headers.
func parseELFHeaders(s *source) (e *elfFile, secErr, err error) {
	ident, err := s.readHeader(0, min(s.size, 64), "file header")
	if err != nil {
		return nil, nil, err
	}
	if len(ident) < 52 {
		return nil, nil, fmt.Errorf("file header: %d bytes, too short", len(ident))
	}
	e = &elfFile{s: s}
	switch elf.Class(ident[elf.EI_CLASS]) {
	case elf.ELFCLASS32:
	case elf.ELFCLASS64:
		e.is64 = true
		if len(ident) < 64 {
			return nil, nil, fmt.Errorf("file header: %d bytes, too short", len(ident))
		}
	default:
		return nil, nil, fmt.Errorf("unknown ELF class %d", ident[elf.EI_CLASS])
	}
	switch elf.Data(ident[elf.EI_DATA]) {
	case elf.ELFDATA2LSB:
		e.bo = binary.LittleEndian
	case elf.ELFDATA2MSB:
		e.bo = binary.BigEndian
	default:
		return nil, nil, fmt.Errorf("unknown ELF data encoding %d", ident[elf.EI_DATA])
	}
	var phoff, shoff uint64
	var phentsize, phnum, shentsize, shnum uint64
	if e.is64 {
		phoff, shoff = e.bo.Uint64(ident[32:]), e.bo.Uint64(ident[40:])
		phentsize, phnum = uint64(e.bo.Uint16(ident[54:])), uint64(e.bo.Uint16(ident[56:]))
		shentsize, shnum = uint64(e.bo.Uint16(ident[58:])), uint64(e.bo.Uint16(ident[60:]))
	} else {
		phoff, shoff = uint64(e.bo.Uint32(ident[28:])), uint64(e.bo.Uint32(ident[32:]))
		phentsize, phnum = uint64(e.bo.Uint16(ident[42:])), uint64(e.bo.Uint16(ident[44:]))
		shentsize, shnum = uint64(e.bo.Uint16(ident[46:])), uint64(e.bo.Uint16(ident[48:]))
	}
	wantPh, wantSh := uint64(32), uint64(40)
	if e.is64 {
		wantPh, wantSh = 56, 64
	}
	if phnum > 0 {
		if phentsize < wantPh {
			return nil, nil, fmt.Errorf("program header entry size %d, want at least %d", phentsize, wantPh)
		}
		tab, err := e.table(phoff, phnum, phentsize, "program headers")
		if err != nil {
			return nil, nil, err
		}
		for i := uint64(0); i < phnum; i++ {
			e.progs = append(e.progs, e.prog(tab[i*phentsize:]))
		}
	}
	if shoff == 0 {
		return e, nil, nil
	}
	if shentsize < wantSh {
		return e, nil, fmt.Errorf("section header entry size %d, want at least %d", shentsize, wantSh)
	}
	if shnum == 0 {
		// Extended numbering: the count is in section 0's sh_size.
		first, err := e.table(shoff, 1, shentsize, "section header 0")
		if err != nil {
			return e, nil, err
		}
		shnum = e.section(first).size
	}
	tab, err := e.table(shoff, shnum, shentsize, "section headers")
	if err != nil {
		return e, nil, err
	}
	for i := uint64(0); i < shnum; i++ {
		e.sections = append(e.sections, e.section(tab[i*shentsize:]))
	}
	return e, nil, nil
}

// table reads n entries of entsize bytes at off.
func (e *elfFile) table(off, n, entsize uint64, what string) ([]byte, error) {
	if off > uint64(e.s.size) || n > uint64(e.s.size)/entsize {
		return nil, fmt.Errorf("%s: %d entries of %d bytes at offset %d lie beyond the end of the file (%d bytes)",
			what, n, entsize, off, e.s.size)
	}
	return e.s.readHeader(int64(off), int64(n*entsize), what)
}

// prog decodes the program header at the start of b.
func (e *elfFile) prog(b []byte) elfProg {
	if e.is64 {
		return elfProg{typ: elf.ProgType(e.bo.Uint32(b[0:])), off: e.bo.Uint64(b[8:]),
			vaddr: e.bo.Uint64(b[16:]), filesz: e.bo.Uint64(b[32:])}
	}
	return elfProg{typ: elf.ProgType(e.bo.Uint32(b[0:])), off: uint64(e.bo.Uint32(b[4:])),
		vaddr: uint64(e.bo.Uint32(b[8:])), filesz: uint64(e.bo.Uint32(b[16:]))}
}

// section decodes the section header at the start of b.
func (e *elfFile) section(b []byte) elfSection {
	if e.is64 {
		return elfSection{typ: elf.SectionType(e.bo.Uint32(b[4:])), flags: elf.SectionFlag(e.bo.Uint64(b[8:])),
			off: e.bo.Uint64(b[24:]), size: e.bo.Uint64(b[32:]), link: e.bo.Uint32(b[40:]),
			entsize: e.bo.Uint64(b[56:])}
	}
	return elfSection{typ: elf.SectionType(e.bo.Uint32(b[4:])), flags: elf.SectionFlag(e.bo.Uint32(b[8:])),
		off: uint64(e.bo.Uint32(b[16:])), size: uint64(e.bo.Uint32(b[20:])), link: e.bo.Uint32(b[24:]),
		entsize: uint64(e.bo.Uint32(b[36:]))}
}

// sectionOfType returns the first section of type t.
func (e *elfFile) sectionOfType(t elf.SectionType) (elfSection, bool) {
	for _, sec := range e.sections {
		if sec.typ == t {
			return sec, true
		}
	}
	return elfSection{}, false
}

// readRegion reads size bytes at off, at most Limits.MaxSectionBytes of
// them; a clipped read marks f truncated.
func (e *elfFile) readRegion(f *Facts, off, size uint64, what string) ([]byte, error) {
	if off > uint64(e.s.size) || size > uint64(e.s.size) {
		return nil, fmt.Errorf("%s: %d bytes at offset %d lie beyond the end of the file (%d bytes)", what, size, off, e.s.size)
	}
	b, clipped, err := e.s.readUpTo(int64(off), int64(size), what)
	if clipped {
		f.Truncated = true
	}
	return b, err
}

// readSection reads a section's contents; a compressed or NOBITS section
// reads as empty.
func (e *elfFile) readSection(f *Facts, sec elfSection, what string) ([]byte, error) {
	if sec.typ == elf.SHT_NOBITS || sec.flags&elf.SHF_COMPRESSED != 0 {
		return nil, nil
	}
	return e.readRegion(f, sec.off, sec.size, what)
}

// linkedStrtab reads the string table a section's sh_link names.
func (e *elfFile) linkedStrtab(f *Facts, sec elfSection) ([]byte, error) {
	if sec.link == 0 || uint64(sec.link) >= uint64(len(e.sections)) {
		return nil, fmt.Errorf("string table link %d out of range", sec.link)
	}
	return e.readSection(f, e.sections[sec.link], "string table")
}

// addrToOffset maps a virtual address to a file offset through the PT_LOAD
// segments.
func (e *elfFile) addrToOffset(addr uint64) (uint64, bool) {
	for _, p := range e.progs {
		if p.typ == elf.PT_LOAD && addr >= p.vaddr && addr-p.vaddr < p.filesz {
			return p.off + (addr - p.vaddr), true
		}
	}
	return 0, false
}

// readAddr reads size bytes at virtual address addr.
func (e *elfFile) readAddr(f *Facts, addr, size uint64, what string) ([]byte, error) {
	off, ok := e.addrToOffset(addr)
	if !ok {
		return nil, fmt.Errorf("%s: address %#x is in no loaded segment", what, addr)
	}
	return e.readRegion(f, off, size, what)
}

// dynamic reads the dynamic section (or PT_DYNAMIC segment) and records
// SOName and Needed in f. It returns nil when the file has neither.
func (e *elfFile) dynamic(f *Facts) (*elfDynamic, error) {
	var data []byte
	var err error
	sec, fromSection := e.sectionOfType(elf.SHT_DYNAMIC)
	if fromSection {
		data, err = e.readSection(f, sec, "dynamic section")
	} else {
		found := false
		for _, p := range e.progs {
			if p.typ == elf.PT_DYNAMIC {
				data, err = e.readRegion(f, p.off, p.filesz, "dynamic segment")
				found = true
				break
			}
		}
		if !found {
			return nil, nil
		}
	}
	if err != nil {
		return nil, e.soften(f, err)
	}
	d := &elfDynamic{}
	entsize := 8
	if e.is64 {
		entsize = 16
	}
	for ; len(data) >= entsize; data = data[entsize:] {
		var tag elf.DynTag
		var val uint64
		if e.is64 {
			tag, val = elf.DynTag(e.bo.Uint64(data)), e.bo.Uint64(data[8:])
		} else {
			tag, val = elf.DynTag(int32(e.bo.Uint32(data))), uint64(e.bo.Uint32(data[4:]))
		}
		if tag == elf.DT_NULL {
			break
		}
		switch tag {
		case elf.DT_NEEDED:
			if len(d.needed) <= e.s.lim.MaxSymbols {
				d.needed = append(d.needed, val)
			}
		case elf.DT_SONAME:
			d.soname, d.hasSoname = val, true
		case elf.DT_STRTAB:
			d.strtabAddr = val
		case elf.DT_STRSZ:
			d.strsz = val
		case elf.DT_SYMTAB:
			d.symtabAddr = val
		case elf.DT_SYMENT:
			d.syment = val
		case elf.DT_HASH:
			d.hashAddr = val
		case elf.DT_GNU_HASH:
			d.gnuHashAddr = val
		}
	}
	if fromSection {
		d.strtab, err = e.linkedStrtab(f, sec)
	}
	if !fromSection || err != nil {
		if d.strtabAddr == 0 {
			return d, e.soften(f, err)
		}
		d.strtab, err = e.readAddr(f, d.strtabAddr, d.strsz, "dynamic string table")
	}
	if err != nil {
		return d, e.soften(f, err)
	}
	if d.hasSoname {
		f.SOName = cString(d.strtab, d.soname)
	}
	for _, off := range d.needed {
		if !e.needed.add(cBytes(d.strtab, off)) {
			break
		}
	}
	return d, nil
}

// soften turns an over-limit error into a truncation mark.
func (e *elfFile) soften(f *Facts, err error) error {
	if err != nil && isTooLarge(err) {
		f.Truncated = true
		return nil
	}
	return err
}

// symbols reads the dynamic symbol table, from the .dynsym section or,
// without section headers, from DT_SYMTAB, and records Exports and Imports
// in f.
func (e *elfFile) symbols(f *Facts, dyn *elfDynamic) error {
	minEnt := uint64(16)
	if e.is64 {
		minEnt = 24
	}
	var syms, strtab []byte
	entsize := minEnt
	if sec, ok := e.sectionOfType(elf.SHT_DYNSYM); ok {
		var err error
		if syms, err = e.readSection(f, sec, "dynamic symbol table"); err != nil {
			return e.soften(f, err)
		}
		if strtab, err = e.linkedStrtab(f, sec); err != nil {
			return e.soften(f, err)
		}
		entsize = max(sec.entsize, minEnt)
	} else if dyn != nil && dyn.symtabAddr != 0 && dyn.strtab != nil {
		if dyn.syment >= minEnt && dyn.syment <= 1024 {
			entsize = dyn.syment
		}
		n, err := e.symbolCount(f, dyn)
		if err != nil {
			return e.soften(f, err)
		}
		if n > uint64(e.s.size)/entsize {
			return fmt.Errorf("%d dynamic symbols do not fit in the file", n)
		}
		if syms, err = e.readAddr(f, dyn.symtabAddr, n*entsize, "dynamic symbol table"); err != nil {
			return e.soften(f, err)
		}
		strtab = dyn.strtab
	} else {
		return nil
	}
	for ; uint64(len(syms)) >= entsize && !(e.exports.full && e.imports.full); syms = syms[entsize:] {
		var name uint32
		var info, other byte
		var shndx elf.SectionIndex
		name = e.bo.Uint32(syms)
		if e.is64 {
			info, other, shndx = syms[4], syms[5], elf.SectionIndex(e.bo.Uint16(syms[6:]))
		} else {
			info, other, shndx = syms[12], syms[13], elf.SectionIndex(e.bo.Uint16(syms[14:]))
		}
		switch elf.ST_BIND(info) {
		case elf.STB_GLOBAL, elf.STB_WEAK, stbGNUUnique:
		default:
			continue
		}
		typ := elf.ST_TYPE(info)
		if typ == elf.STT_SECTION || typ == elf.STT_FILE {
			continue
		}
		if shndx == elf.SHN_UNDEF {
			if !e.imports.full {
				e.imports.add(cBytes(strtab, uint64(name)))
			}
			continue
		}
		if shndx == elf.SHN_ABS {
			continue
		}
		switch elf.ST_VISIBILITY(other) {
		case elf.STV_HIDDEN, elf.STV_INTERNAL:
			continue
		}
		switch typ {
		case elf.STT_FUNC, elf.STT_OBJECT, elf.STT_GNU_IFUNC:
			if !e.exports.full {
				e.exports.add(cBytes(strtab, uint64(name)))
			}
		}
	}
	return nil
}

// symbolCount returns the number of entries of the dynamic symbol table of
// a file without section headers, from DT_HASH, DT_GNU_HASH, or the gap
// between DT_SYMTAB and DT_STRTAB.
func (e *elfFile) symbolCount(f *Facts, dyn *elfDynamic) (uint64, error) {
	if dyn.hashAddr != 0 {
		b, err := e.readAddr(f, dyn.hashAddr, 8, "hash table")
		if err != nil {
			return 0, err
		}
		return uint64(e.bo.Uint32(b[4:])), nil
	}
	if dyn.gnuHashAddr != 0 {
		return e.gnuHashCount(f, dyn.gnuHashAddr)
	}
	if dyn.strtabAddr > dyn.symtabAddr {
		ent := uint64(24)
		if !e.is64 {
			ent = 16
		}
		return (dyn.strtabAddr - dyn.symtabAddr) / ent, nil
	}
	return 0, nil
}

// gnuHashCount counts the symbols of a DT_GNU_HASH table: one past the
// highest index its buckets and chains reach.
func (e *elfFile) gnuHashCount(f *Facts, addr uint64) (uint64, error) {
	hdr, err := e.readAddr(f, addr, 16, "GNU hash table")
	if err != nil {
		return 0, err
	}
	nbuckets, symoffset, bloomSize := uint64(e.bo.Uint32(hdr)), uint64(e.bo.Uint32(hdr[4:])), uint64(e.bo.Uint32(hdr[8:]))
	word := uint64(4)
	if e.is64 {
		word = 8
	}
	bucketsAddr := addr + 16 + bloomSize*word
	buckets, err := e.readAddr(f, bucketsAddr, nbuckets*4, "GNU hash buckets")
	if err != nil {
		return 0, err
	}
	last := uint64(0)
	for i := 0; i+4 <= len(buckets); i += 4 {
		last = max(last, uint64(e.bo.Uint32(buckets[i:])))
	}
	if last < symoffset {
		return symoffset, nil
	}
	// Walk the chain of the last bucket to its end, reading the chain
	// words a page at a time.
	off, ok := e.addrToOffset(bucketsAddr + nbuckets*4 + (last-symoffset)*4)
	if !ok {
		return 0, fmt.Errorf("GNU hash chain for symbol %d is in no loaded segment", last)
	}
	limit := uint64(e.s.lim.MaxSymbols)
	for i := last; ; {
		if off >= uint64(e.s.size) {
			return 0, fmt.Errorf("GNU hash chain runs past the end of the file")
		}
		page, err := e.s.read(int64(off), min(4096, e.s.size-int64(off))&^3, "GNU hash chain")
		if err != nil {
			return 0, err
		}
		if len(page) == 0 {
			return 0, fmt.Errorf("GNU hash chain runs past the end of the file")
		}
		off += uint64(len(page))
		for ; len(page) >= 4; page, i = page[4:], i+1 {
			if e.bo.Uint32(page)&1 != 0 {
				return i + 1, nil
			}
			if i-last > limit {
				f.Truncated = true
				return i, nil
			}
		}
	}
}

// cString returns the NUL-terminated string at off in tab, at most
// maxNameBytes long; "" when off is outside tab.
func cString(tab []byte, off uint64) string { return string(cBytes(tab, off)) }

// cBytes is cString without the copy: a slice of tab.
func cBytes(tab []byte, off uint64) []byte {
	if off >= uint64(len(tab)) {
		return nil
	}
	b := tab[off:min(uint64(len(tab)), off+maxNameBytes)]
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return b[:i]
	}
	return b
}
