// Package ubi reads UBI images: raw NAND/NOR flash dumps of a UBI device
// and ubinize output. An image is a sequence of physical erase blocks
// (PEBs), each starting with an erase counter (EC) header and, when the PEB
// holds data, a volume identifier (VID) header naming the volume and the
// logical erase block (LEB) it carries. Open finds the PEB size, reads every
// header, resolves which PEB holds each LEB and reads the volume table, so
// that each volume's logical content can be read as one io.ReaderAt (for
// example by the ubifs package).
//
// Not supported: fastmap (not needed: every PEB is scanned), the data CRC of
// static volumes is not checked (only used to choose between two copies of a
// LEB), and images whose first PEB is not at offset 0.
package ubi

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"sort"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
)

const (
	ecMagic  = "UBI#"
	vidMagic = "UBI!"
	hdrSize  = 64 // both the EC and the VID header

	// LayoutVolumeID is the volume that holds the volume table.
	LayoutVolumeID   = 0x7fffefff
	internalVolStart = LayoutVolumeID
	maxVolumes       = 128
	vtblRecordSize   = 172
	maxNameLen       = 127

	minPEBSize = 16 << 10
	maxPEBSize = 8 << 20
	// maxLEBs caps a volume's declared LEB count (1 M LEBs of 128 KiB is a
	// 128 GiB device; a larger count is corrupt).
	maxLEBs = 1 << 20
)

// VolumeType tells static volumes from dynamic ones.
type VolumeType uint8

// Volume types, as in the VID header and the volume table.
const (
	Dynamic VolumeType = 1
	Static  VolumeType = 2
)

// String returns "dynamic", "static" or "type N".
func (t VolumeType) String() string {
	switch t {
	case Dynamic:
		return "dynamic"
	case Static:
		return "static"
	}
	return fmt.Sprintf("type %d", uint8(t))
}

// verifyCRC is turned off by the fuzz target only, so that mutated
// inputs reach the parsers behind the checks (a CRC is no defence: hostile
// input carries valid ones).
var verifyCRC = true

// ubiCRC is the CRC-32 UBI and UBIFS use: the IEEE polynomial with an
// initial value of all ones and no final inversion.
func ubiCRC(b []byte) uint32 { return ^crc32.ChecksumIEEE(b) }

// ecHeader holds the fields of an erase counter header that Open uses.
type ecHeader struct {
	version  uint8
	vidOff   uint32
	dataOff  uint32
	imageSeq uint32
}

// parseEC checks an EC header's magic and CRC.
func parseEC(b []byte) (ecHeader, error) {
	if len(b) < hdrSize || string(b[:4]) != ecMagic {
		return ecHeader{}, errors.New("no EC header magic")
	}
	if got, want := ubiCRC(b[:60]), binary.BigEndian.Uint32(b[60:64]); got != want && verifyCRC {
		return ecHeader{}, fmt.Errorf("EC header CRC 0x%08x, want 0x%08x", got, want)
	}
	return ecHeader{
		version:  b[4],
		vidOff:   binary.BigEndian.Uint32(b[16:20]),
		dataOff:  binary.BigEndian.Uint32(b[20:24]),
		imageSeq: binary.BigEndian.Uint32(b[24:28]),
	}, nil
}

// vidHeader holds the fields of a VID header.
type vidHeader struct {
	volType  VolumeType
	copyFlag bool
	volID    uint32
	lnum     uint32
	dataSize uint32
	usedEBs  uint32
	dataPad  uint32
	dataCRC  uint32
	sqnum    uint64
}

// parseVID checks a VID header's magic and CRC.
func parseVID(b []byte) (vidHeader, error) {
	if len(b) < hdrSize || string(b[:4]) != vidMagic {
		return vidHeader{}, errors.New("no VID header magic")
	}
	if got, want := ubiCRC(b[:60]), binary.BigEndian.Uint32(b[60:64]); got != want && verifyCRC {
		return vidHeader{}, fmt.Errorf("VID header CRC 0x%08x, want 0x%08x", got, want)
	}
	return vidHeader{
		volType:  VolumeType(b[5]),
		copyFlag: b[6] != 0,
		volID:    binary.BigEndian.Uint32(b[8:12]),
		lnum:     binary.BigEndian.Uint32(b[12:16]),
		dataSize: binary.BigEndian.Uint32(b[20:24]),
		usedEBs:  binary.BigEndian.Uint32(b[24:28]),
		dataPad:  binary.BigEndian.Uint32(b[28:32]),
		dataCRC:  binary.BigEndian.Uint32(b[32:36]),
		sqnum:    binary.BigEndian.Uint64(b[40:48]),
	}, nil
}

// allFF reports whether b is erased flash.
func allFF(b []byte) bool {
	for _, c := range b {
		if c != 0xff {
			return false
		}
	}
	return true
}

// Image is an opened UBI image.
type Image struct {
	r        io.ReaderAt
	size     int64
	pebSize  int64
	vidOff   int64
	dataOff  int64
	pebCount int
	vols     []Volume

	// BadPEBs counts the PEBs that were skipped because a header was
	// corrupt (a bad magic or CRC in the EC or VID header). Their data is
	// missing from the volumes (it reads as 0xff): callers should report a
	// gap when it is not zero.
	BadPEBs int
	// Problems describes each skipped PEB and each other inconsistency
	// found (at most 100 entries).
	Problems []string
}

// PEBSize returns the physical erase block size found.
func (im *Image) PEBSize() int64 { return im.pebSize }

// PEBCount returns the number of PEBs in the image (the last one may be
// truncated).
func (im *Image) PEBCount() int { return im.pebCount }

// Volumes returns the user volumes, ordered by ID. The internal layout
// volume is not listed.
func (im *Image) Volumes() []Volume { return im.vols }

func (im *Image) problem(format string, args ...any) {
	if len(im.Problems) < 100 {
		im.Problems = append(im.Problems, fmt.Sprintf(format, args...))
	}
}

// Volume is one UBI volume.
type Volume struct {
	// Name is the name from the volume table ("volume N" when the image
	// has no readable volume table).
	Name string
	// ID is the volume ID (0..127).
	ID uint32
	// Type is Static or Dynamic.
	Type VolumeType
	// LEBSize is the size of one logical erase block of this volume: the
	// PEB size less the data offset and the volume's alignment padding.
	LEBSize int64
	// LEBs is the volume's LEB count: the reserved PEBs of the volume
	// table for a dynamic volume, the used LEBs for a static one.
	LEBs int64
	// Mapped is the number of LEBs present in the image.
	Mapped int

	im   *Image
	size int64
	lebs map[uint32]int64 // lnum → offset of its data in the image
}

// Size returns the size of the volume's content: LEBs × LEBSize for a
// dynamic volume, the sum of the data sizes for a static one.
func (v Volume) Size() int64 { return v.size }

// ReaderAt returns the volume's logical content: LEB i at i × LEBSize.
// Unmapped LEBs read as 0xff (erased flash). It is safe for concurrent use
// when the image's reader is.
func (v Volume) ReaderAt() io.ReaderAt { return &volReader{v: v} }

// volReader reads a volume's content.
type volReader struct{ v Volume }

// ReadAt implements io.ReaderAt.
func (r *volReader) ReadAt(p []byte, off int64) (int, error) {
	v := r.v
	if off < 0 {
		return 0, fmt.Errorf("volume %q: negative offset", v.Name)
	}
	if off >= v.size {
		return 0, io.EOF
	}
	want := len(p)
	if int64(want) > v.size-off {
		p = p[:v.size-off]
	}
	n := 0
	for n < len(p) {
		lnum := (off + int64(n)) / v.LEBSize
		in := (off + int64(n)) % v.LEBSize
		chunk := p[n:min(len(p), n+int(v.LEBSize-in))]
		start, ok := v.lebs[uint32(lnum)]
		if !ok {
			for i := range chunk {
				chunk[i] = 0xff
			}
			n += len(chunk)
			continue
		}
		if err := imgfile.ReadFull(v.im.r, chunk, start+in); err != nil {
			return n, fmt.Errorf("volume %q LEB %d: PEB at 0x%x: %w", v.Name, lnum, start-v.im.dataOff, err)
		}
		n += len(chunk)
	}
	if n < want {
		return n, io.EOF
	}
	return n, nil
}

// Open reads the UBI image in r[0:size).
func Open(r io.ReaderAt, size int64) (*Image, error) {
	hdr := make([]byte, hdrSize)
	if err := imgfile.ReadFull(r, hdr, 0); err != nil {
		return nil, fmt.Errorf("ubi: reading EC header: %w", err)
	}
	ec, err := parseEC(hdr)
	if err != nil {
		return nil, fmt.Errorf("ubi: not a UBI image: %w", err)
	}
	im := &Image{r: r, size: size, vidOff: int64(ec.vidOff), dataOff: int64(ec.dataOff)}
	if im.vidOff < hdrSize || im.vidOff+hdrSize > im.dataOff || im.dataOff >= maxPEBSize {
		return nil, fmt.Errorf("ubi: bad EC header: VID header offset %d, data offset %d", ec.vidOff, ec.dataOff)
	}
	if im.pebSize, err = findPEBSize(r, size, ec); err != nil {
		return nil, err
	}
	im.pebCount = int((size + im.pebSize - 1) / im.pebSize)
	leb, err := im.scan()
	if err != nil {
		return nil, err
	}
	im.buildVolumes(leb)
	return im, nil
}

// findPEBSize finds the PEB size: the largest candidate size (a power of
// two, 16 KiB to 8 MiB, larger than the data offset) that divides the
// offset of every EC header of this image found at a 16 KiB boundary,
// preferring sizes that also divide the image size.
func findPEBSize(r io.ReaderAt, size int64, ref ecHeader) (int64, error) {
	var offs []int64
	hdr := make([]byte, hdrSize)
	for off := int64(minPEBSize); off+hdrSize <= size; off += minPEBSize {
		if err := imgfile.ReadFull(r, hdr, off); err != nil {
			return 0, fmt.Errorf("ubi: reading at 0x%x: %w", off, err)
		}
		if string(hdr[:4]) != ecMagic {
			continue
		}
		ec, err := parseEC(hdr)
		if err == nil && ec.vidOff == ref.vidOff && ec.dataOff == ref.dataOff && ec.imageSeq == ref.imageSeq {
			offs = append(offs, off)
		}
	}
	fits := func(s int64) bool {
		if s <= int64(ref.dataOff) {
			return false
		}
		for _, o := range offs {
			if o%s != 0 {
				return false
			}
		}
		return true
	}
	for s := int64(maxPEBSize); s >= minPEBSize; s /= 2 {
		if size%s == 0 && size >= s && fits(s) {
			return s, nil
		}
	}
	for s := int64(maxPEBSize); s >= minPEBSize; s /= 2 {
		if fits(s) && (len(offs) > 0 || s <= max(size, minPEBSize)) {
			return s, nil
		}
	}
	return 0, errors.New("ubi: cannot find the PEB size: EC headers at no common power-of-two spacing")
}

// pebRef is one PEB holding a LEB.
type pebRef struct {
	peb int
	vid vidHeader
}

// scan reads every PEB's headers and returns the PEBs of each (volume,
// LEB), newest first.
func (im *Image) scan() (map[[2]uint32][]pebRef, error) {
	leb := make(map[[2]uint32][]pebRef)
	hdr := make([]byte, hdrSize)
	for i := range im.pebCount {
		base := int64(i) * im.pebSize
		if base+im.dataOff > im.size {
			break // truncated before any data
		}
		if err := imgfile.ReadFull(im.r, hdr, base); err != nil {
			return nil, fmt.Errorf("ubi: PEB %d: %w", i, err)
		}
		if allFF(hdr) {
			continue // erased
		}
		if _, err := parseEC(hdr); err != nil {
			im.BadPEBs++
			im.problem("PEB %d: %v", i, err)
			continue
		}
		if err := imgfile.ReadFull(im.r, hdr, base+im.vidOff); err != nil {
			return nil, fmt.Errorf("ubi: PEB %d: %w", i, err)
		}
		if allFF(hdr) {
			continue // free PEB
		}
		vid, err := parseVID(hdr)
		if err != nil {
			im.BadPEBs++
			im.problem("PEB %d: %v", i, err)
			continue
		}
		if vid.dataPad >= uint32(im.pebSize-im.dataOff) {
			im.BadPEBs++
			im.problem("PEB %d: VID header data padding %d too large", i, vid.dataPad)
			continue
		}
		k := [2]uint32{vid.volID, vid.lnum}
		leb[k] = append(leb[k], pebRef{peb: i, vid: vid})
	}
	for k, refs := range leb {
		sort.SliceStable(refs, func(a, b int) bool { return refs[a].vid.sqnum > refs[b].vid.sqnum })
		leb[k] = im.pickCopy(refs)
	}
	return leb, nil
}

// pickCopy moves to the front the copy of a LEB to use: the one with the
// highest sqnum, unless it was written by wear-levelling (copy flag) and
// its data CRC does not match, in which case the next one.
func (im *Image) pickCopy(refs []pebRef) []pebRef {
	for i, ref := range refs {
		if !ref.vid.copyFlag || i == len(refs)-1 {
			return refs[i:]
		}
		n := int64(ref.vid.dataSize)
		if n > im.pebSize-im.dataOff {
			continue
		}
		buf := make([]byte, n)
		if err := imgfile.ReadFull(im.r, buf, int64(ref.peb)*im.pebSize+im.dataOff); err == nil && ubiCRC(buf) == ref.vid.dataCRC {
			return refs[i:]
		}
		im.problem("PEB %d: copy of volume %d LEB %d has a bad data CRC", ref.peb, ref.vid.volID, ref.vid.lnum)
	}
	return refs
}

// vtblRecord is one volume table record.
type vtblRecord struct {
	reservedPEBs uint32
	alignment    uint32
	dataPad      uint32
	volType      VolumeType
	name         string
}

// readVtbl reads the volume table from the layout volume's LEBs (either
// copy, per record). It returns nil when the image has none.
func (im *Image) readVtbl(leb map[[2]uint32][]pebRef) map[uint32]vtblRecord {
	lebSize := im.pebSize - im.dataOff
	slots := min(maxVolumes, int(lebSize/vtblRecordSize))
	var copies [][]byte
	for l := uint32(0); l < 2; l++ {
		refs := leb[[2]uint32{LayoutVolumeID, l}]
		if len(refs) == 0 {
			continue
		}
		buf := make([]byte, slots*vtblRecordSize)
		if err := imgfile.ReadFull(im.r, buf, int64(refs[0].peb)*im.pebSize+im.dataOff); err != nil {
			im.problem("volume table copy %d: %v", l, err)
			continue
		}
		copies = append(copies, buf)
	}
	if len(copies) == 0 {
		return nil
	}
	table := make(map[uint32]vtblRecord)
	for id := range slots {
		bad := 0
		for _, buf := range copies {
			rec := buf[id*vtblRecordSize : (id+1)*vtblRecordSize]
			if ubiCRC(rec[:168]) != binary.BigEndian.Uint32(rec[168:172]) && verifyCRC {
				bad++
				continue
			}
			reserved := binary.BigEndian.Uint32(rec[0:4])
			if reserved == 0 {
				break // empty slot
			}
			nameLen := int(binary.BigEndian.Uint16(rec[14:16]))
			if nameLen > maxNameLen {
				im.problem("volume table record %d: name length %d", id, nameLen)
				break
			}
			table[uint32(id)] = vtblRecord{
				reservedPEBs: reserved,
				alignment:    binary.BigEndian.Uint32(rec[4:8]),
				dataPad:      binary.BigEndian.Uint32(rec[8:12]),
				volType:      VolumeType(rec[12]),
				name:         string(rec[16 : 16+nameLen]),
			}
			break
		}
		if bad == len(copies) {
			im.problem("volume table record %d: bad CRC in every copy", id)
		}
	}
	return table
}

// buildVolumes turns the LEB map and the volume table into volumes.
func (im *Image) buildVolumes(leb map[[2]uint32][]pebRef) {
	table := im.readVtbl(leb)
	byID := make(map[uint32]*Volume)
	dataSize := make(map[[2]uint32]int64) // static volumes: bytes in each LEB
	usedEBs := make(map[uint32]int64)     // static volumes: LEBs in use
	get := func(id uint32) *Volume {
		if v := byID[id]; v != nil {
			return v
		}
		v := &Volume{ID: id, im: im, lebs: make(map[uint32]int64), LEBSize: im.pebSize - im.dataOff}
		if rec, ok := table[id]; ok {
			v.Name, v.Type = rec.name, rec.volType
			if rec.dataPad < uint32(v.LEBSize) {
				v.LEBSize -= int64(rec.dataPad)
			}
			v.LEBs = int64(min(rec.reservedPEBs, maxLEBs))
		} else {
			v.Name = fmt.Sprintf("volume %d", id)
		}
		byID[id] = v
		return v
	}
	for id := range table {
		get(id)
	}
	for k, refs := range leb {
		id, lnum := k[0], k[1]
		if id >= internalVolStart {
			continue
		}
		if _, ok := table[id]; table != nil && !ok {
			im.problem("volume %d LEB %d: volume not in the volume table", id, lnum)
			continue
		}
		if lnum >= maxLEBs {
			im.problem("volume %d LEB %d: LEB number too large", id, lnum)
			continue
		}
		v := get(id)
		vid := refs[0].vid
		if v.Type == 0 {
			v.Type = vid.volType
		}
		if table == nil {
			v.LEBs = max(v.LEBs, int64(lnum)+1)
		}
		v.lebs[lnum] = int64(refs[0].peb)*im.pebSize + im.dataOff
		dataSize[k] = min(int64(vid.dataSize), v.LEBSize)
		usedEBs[id] = max(usedEBs[id], int64(min(vid.usedEBs, maxLEBs)))
	}
	for _, v := range byID {
		if v.Type == Static {
			// A static volume holds its used LEBs, each up to its data size.
			if table == nil || usedEBs[v.ID] < v.LEBs {
				v.LEBs = usedEBs[v.ID]
			}
		}
		for lnum := range v.lebs {
			if int64(lnum) >= v.LEBs {
				im.problem("volume %d LEB %d: beyond the volume's %d LEBs", v.ID, lnum, v.LEBs)
				delete(v.lebs, lnum)
			}
		}
		v.Mapped = len(v.lebs)
		v.size = v.LEBs * v.LEBSize
		if v.Type == Static {
			// A missing LEB (a bad PEB) counts in full: its part reads as 0xff.
			v.size = (v.LEBs - int64(v.Mapped)) * v.LEBSize
			for lnum := range v.lebs {
				v.size += dataSize[[2]uint32{v.ID, lnum}]
			}
		}
		im.vols = append(im.vols, *v)
	}
	sort.Slice(im.vols, func(a, b int) bool { return im.vols[a].ID < im.vols[b].ID })
}
