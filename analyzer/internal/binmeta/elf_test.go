package binmeta

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// byteOrder reads and appends in one byte order.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// buildELF returns a minimal shared library of either class and byte
// order, which the C toolchain here cannot make: one PT_LOAD segment
// mapping the whole file at address 0, a PT_DYNAMIC segment, a dynamic
// symbol table with a DT_HASH table, and, when withSections is set,
// section headers for .dynsym, .dynstr and .dynamic.
func buildELF(is64 bool, bo byteOrder, withSections bool) []byte {
	ehsize, phentsize, shentsize, symsize, dynsize := 52, 32, 40, 16, 8
	class := elf.ELFCLASS32
	if is64 {
		ehsize, phentsize, shentsize, symsize, dynsize = 64, 56, 64, 24, 16
		class = elf.ELFCLASS64
	}
	word := func(b []byte, v uint64) []byte { // an address-sized field
		if is64 {
			return bo.AppendUint64(b, v)
		}
		return bo.AppendUint32(b, uint32(v))
	}
	strtab := []byte("\x00libfoo.so.1\x00libc.so.6\x00kaveScanFile\x00puts\x00hidden_fn\x00local_fn\x00")
	str := func(s string) uint32 {
		for i := 1; i < len(strtab); i++ {
			if string(strtab[i:i+len(s)]) == s && strtab[i+len(s)] == 0 {
				return uint32(i)
			}
		}
		panic(s)
	}
	sym := func(b []byte, name string, info, other byte, shndx uint16) []byte {
		var n uint32
		if name != "" {
			n = str(name)
		}
		if is64 {
			b = bo.AppendUint32(b, n)
			b = append(b, info, other)
			b = bo.AppendUint16(b, shndx)
			return bo.AppendUint64(bo.AppendUint64(b, 0x100), 8)
		}
		b = bo.AppendUint32(bo.AppendUint32(bo.AppendUint32(b, n), 0x100), 8)
		b = append(b, info, other)
		return bo.AppendUint16(b, shndx)
	}
	var syms []byte
	syms = sym(syms, "", 0, 0, 0)
	syms = sym(syms, "kaveScanFile", elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), 0, 1)
	syms = sym(syms, "puts", elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), 0, 0)
	syms = sym(syms, "hidden_fn", elf.ST_INFO(elf.STB_GLOBAL, elf.STT_FUNC), byte(elf.STV_HIDDEN), 1)
	syms = sym(syms, "local_fn", elf.ST_INFO(elf.STB_LOCAL, elf.STT_FUNC), 0, 1)
	nsyms := len(syms) / symsize

	phoff := ehsize
	strOff := phoff + 2*phentsize
	symOff := (strOff + len(strtab) + 7) &^ 7
	hashOff := symOff + len(syms)
	hash := bo.AppendUint32(bo.AppendUint32(nil, 1), uint32(nsyms)) // nbucket, nchain
	hash = append(hash, make([]byte, 4*(1+nsyms))...)
	dynOff := hashOff + len(hash)
	var dyn []byte
	for _, d := range [][2]uint64{
		{uint64(elf.DT_SONAME), uint64(str("libfoo.so.1"))},
		{uint64(elf.DT_NEEDED), uint64(str("libc.so.6"))},
		{uint64(elf.DT_STRTAB), uint64(strOff)},
		{uint64(elf.DT_STRSZ), uint64(len(strtab))},
		{uint64(elf.DT_SYMTAB), uint64(symOff)},
		{uint64(elf.DT_SYMENT), uint64(symsize)},
		{uint64(elf.DT_HASH), uint64(hashOff)},
		{uint64(elf.DT_NULL), 0},
	} {
		dyn = word(word(dyn, d[0]), d[1])
	}
	shoff := dynOff + len(dyn)
	size := shoff
	shnum := 0
	if withSections {
		shnum = 4
		size += shnum * shentsize
	}

	out := []byte{0x7f, 'E', 'L', 'F', byte(class), 0, byte(elf.EV_CURRENT)}
	if bo.String() == binary.BigEndian.String() {
		out[5] = byte(elf.ELFDATA2MSB)
	} else {
		out[5] = byte(elf.ELFDATA2LSB)
	}
	out = append(out, make([]byte, 9)...)
	out = bo.AppendUint16(out, uint16(elf.ET_DYN))
	out = bo.AppendUint16(out, uint16(elf.EM_MIPS))
	out = bo.AppendUint32(out, uint32(elf.EV_CURRENT))
	out = word(out, 0) // entry
	out = word(out, uint64(phoff))
	if withSections {
		out = word(out, uint64(shoff))
	} else {
		out = word(out, 0)
	}
	out = bo.AppendUint32(out, 0) // flags
	out = bo.AppendUint16(out, uint16(ehsize))
	out = bo.AppendUint16(out, uint16(phentsize))
	out = bo.AppendUint16(out, 2)
	out = bo.AppendUint16(out, uint16(shentsize))
	out = bo.AppendUint16(out, uint16(shnum))
	out = bo.AppendUint16(out, 0) // shstrndx: no section names
	prog := func(b []byte, typ elf.ProgType, off, filesz int) []byte {
		if is64 {
			b = bo.AppendUint32(bo.AppendUint32(b, uint32(typ)), uint32(elf.PF_R))
			return word(word(word(word(word(word(b, uint64(off)), uint64(off)), uint64(off)), uint64(filesz)), uint64(filesz)), 8)
		}
		b = bo.AppendUint32(b, uint32(typ))
		b = word(word(word(word(word(b, uint64(off)), uint64(off)), uint64(off)), uint64(filesz)), uint64(filesz))
		return bo.AppendUint32(bo.AppendUint32(b, uint32(elf.PF_R)), 8)
	}
	out = prog(out, elf.PT_LOAD, 0, size)
	out = prog(out, elf.PT_DYNAMIC, dynOff, len(dyn))
	out = append(out, strtab...)
	out = append(out, make([]byte, symOff-len(out))...)
	out = append(out, syms...)
	out = append(out, hash...)
	out = append(out, dyn...)
	if withSections {
		sec := func(b []byte, typ elf.SectionType, off, size int, link uint32, entsize int) []byte {
			b = bo.AppendUint32(bo.AppendUint32(b, 0), uint32(typ))
			b = word(word(word(word(b, uint64(elf.SHF_ALLOC)), uint64(off)), uint64(off)), uint64(size))
			b = bo.AppendUint32(bo.AppendUint32(b, link), 0)
			return word(word(b, 8), uint64(entsize))
		}
		out = sec(out, elf.SHT_NULL, 0, 0, 0, 0)
		out = sec(out, elf.SHT_DYNSYM, symOff, len(syms), 2, symsize)
		out = sec(out, elf.SHT_STRTAB, strOff, len(strtab), 0, 0)
		out = sec(out, elf.SHT_DYNAMIC, dynOff, len(dyn), 2, dynsize)
	}
	return out
}

// TestELFClassesAndByteOrders reads synthetic libraries of both classes
// and byte orders, with and without section headers, and cross-checks
// them with debug/elf.
func TestELFClassesAndByteOrders(t *testing.T) {
	want := &Facts{
		Format:  "elf",
		SOName:  "libfoo.so.1",
		Needed:  []string{"libc.so.6"},
		Exports: []string{"kaveScanFile"},
		Imports: []string{"puts"},
	}
	for _, is64 := range []bool{false, true} {
		for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			for _, withSections := range []bool{true, false} {
				name := fmt.Sprintf("64=%v/%v/sections=%v", is64, bo, withSections)
				data := buildELF(is64, bo, withSections)
				got, err := readBytes(data, DefaultLimits())
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("%s (-want +got):\n%s", name, diff)
				}
				if !withSections {
					continue
				}
				ef, err := elf.NewFile(bytes.NewReader(data))
				if err != nil {
					t.Fatalf("%s: debug/elf: %v", name, err)
				}
				syms, err := ef.DynamicSymbols()
				if err != nil || len(syms) != 4 || syms[0].Name != "kaveScanFile" {
					t.Errorf("%s: debug/elf reads the symbols as %v, %v", name, syms, err)
				}
			}
		}
	}
}
