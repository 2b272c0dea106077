// Package ubifs reads UBIFS file systems: the logical content of a UBI
// volume (as the ubi package gives it) or a raw mkfs.ubifs output file,
// which has the same layout (LEB i at i × leb_size).
//
// Open reads the superblock (LEB 0) and the newest valid master node (LEBs
// 1 and 2), then walks the on-flash index (a B+ tree of index nodes) from
// the master node's root and keeps the positions of every leaf node: inode,
// directory entry and data nodes. Inodes, directories and file data are
// then read on demand. Data nodes may be stored uncompressed or compressed
// with LZO, zlib (raw deflate) or zstd; missing data blocks are holes and
// read as zeros. Open, Stat and ReadDir follow symbolic links within the
// file system (an absolute target starts at its root, ".." stops there);
// Lstat, ReadLink and DirEntry.Info do not.
//
// # Limitations
//
// Only the index is read: nodes written to the journal since the last
// commit (the buds of the log) are not replayed; FS.JournalRefs counts
// those buds so that callers can report the gap. mkfs.ubifs output has an
// empty journal; a dump of a device that mounted the file system
// read-write may hold newer versions of files there, which this reader
// does not see. Encrypted (fscrypt) files and directories are
// refused with an error; extended attributes are ignored; authenticated
// images are read without checking their HMACs and hashes.
package ubifs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"sort"
	"sync"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
)

// On-flash constants (fs/ubifs/ubifs-media.h).
const (
	nodeMagic  = 0x06101831
	chSize     = 24 // common header
	sbNodeSize = 4096
	mstSize    = 512
	idxHdrSize = 28
	inoSize    = 160
	dentSize   = 56
	dataSize   = 48
	keyLen     = 8 // the "simple" key format
	blockSize  = 4096
	maxNameLen = 255
	maxInoData = 4096
	rootIno    = 1

	// Node types.
	inoNode  = 0
	dataNode = 1
	dentNode = 2
	padNode  = 5
	sbNode   = 6
	mstNode  = 7
	refNode  = 8
	idxNode  = 9
	csNode   = 10

	paddingByte = 0xce
	logFirstLEB = 3 // the log follows the superblock and the 2 master LEBs
	maxLogLEBs  = 1024

	// Inode flags.
	cryptFlag = 0x40

	// Superblock flags.
	flagAuthentication = 0x20

	minLEBSize = 15 << 10
	maxLEBSize = 32 << 20
	maxLEBCnt  = 1 << 24
	// maxLevels bounds the depth of the index tree (the kernel allows 512
	// levels; a real tree of fanout ≥ 3 is far shallower).
	maxLevels = 64
	// maxDamaged caps the list of unreadable index ranges.
	maxDamaged = 256
)

// Key types: the top 3 bits of a key's second word.
const (
	keyIno  = 0
	keyData = 1
	keyDent = 2
	keyXent = 3
)

// key is a UBIFS key in the simple format: the inode number in the high
// 32 bits, the key type in the next 3 and the block number or name hash in
// the low 29. Keys sort as the kernel compares them.
type key uint64

func makeKey(ino uint32, typ int, value uint32) key {
	return key(uint64(ino)<<32 | uint64(typ)<<29 | uint64(value&0x1fffffff))
}

func parseKey(b []byte) key {
	return key(uint64(binary.LittleEndian.Uint32(b))<<32 | uint64(binary.LittleEndian.Uint32(b[4:])))
}

func (k key) ino() uint32   { return uint32(k >> 32) }
func (k key) typ() int      { return int(k>>29) & 7 }
func (k key) value() uint32 { return uint32(k) & 0x1fffffff }

func (k key) String() string {
	names := [...]string{"inode", "data", "dent", "xent", "type 4", "type 5", "type 6", "type 7"}
	return fmt.Sprintf("(%d, %s, %d)", k.ino(), names[k.typ()], k.value())
}

// loc is the position of a node: LEB, offset and length.
type loc struct{ lnum, offs, len uint32 }

func (l loc) String() string { return fmt.Sprintf("LEB %d:0x%x+%d", l.lnum, l.offs, l.len) }

// dataRef is a data node of a file.
type dataRef struct {
	block uint32
	at    loc
}

// damage is a key range whose index subtree could not be read.
type damage struct {
	lo, hi key
	err    error
}

// superblock holds the superblock fields the reader uses.
type superblock struct {
	keyHash      uint8
	flags        uint32
	minIO        uint32
	lebSize      uint32
	lebCnt       uint32
	logLEBs      uint32
	fmtVersion   uint32
	defaultCompr uint16
	hashLen      int // per-branch hash of authenticated images
}

// FS is a read-only view of a UBIFS file system. It implements fs.FS,
// fs.ReadDirFS, fs.StatFS and fs.ReadLinkFS and is safe for concurrent use.
type FS struct {
	// JournalRefs counts the journal buds that were not replayed: the
	// reference nodes written to the log since the last commit. Nodes
	// in those buds (newer files, changes, deletions) are not seen.
	// mkfs.ubifs output has none; when it is not zero, callers should
	// report that recent changes may be missing.
	JournalRefs int

	r          io.ReaderAt
	size       int64
	sb         superblock
	branchSize int
	// Filled by Open, read-only afterwards.
	inodes  map[uint32]loc
	dents   map[uint32][]loc
	data    map[uint32][]dataRef
	damaged []damage

	mu     sync.Mutex
	dirs   map[uint32]*dirList // cache of read directories
	claims map[uint32]claim    // which (parent, name) each directory inode is listed under
}

// Open checks the UBIFS superblock and master node in r[0:size) and reads
// the index. It fails only when the file system cannot be read at all;
// an unreadable part of the index makes the calls that need it fail.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	f := &FS{r: r, size: size}
	if err := f.readSuperblock(); err != nil {
		return nil, fmt.Errorf("ubifs: %w", err)
	}
	root, logLnum, err := f.readMaster()
	if err != nil {
		return nil, fmt.Errorf("ubifs: %w", err)
	}
	f.JournalRefs = f.countJournalRefs(logLnum)
	f.inodes = make(map[uint32]loc)
	f.dents = make(map[uint32][]loc)
	f.data = make(map[uint32][]dataRef)
	w := &walker{f: f, seen: make(map[loc]bool), budget: size}
	w.walk(root, 0, ^key(0), -1, 0)
	if _, ok := f.inodes[rootIno]; !ok && len(f.damaged) == 0 {
		return nil, errors.New("ubifs: the index has no root inode")
	}
	for ino, refs := range f.data {
		sort.SliceStable(refs, func(a, b int) bool { return refs[a].block < refs[b].block })
		f.data[ino] = slices.CompactFunc(refs, func(a, b dataRef) bool { return a.block == b.block })
	}
	f.dirs = make(map[uint32]*dirList)
	f.claims = map[uint32]claim{rootIno: {}}
	return f, nil
}

// verifyCRC is turned off by the fuzz target only, so that mutated
// inputs reach the parsers behind the checks (a CRC is no defence: hostile
// input carries valid ones).
var verifyCRC = true

// ubifsCRC is the node CRC: CRC-32 (IEEE) seeded with all ones, without
// the final inversion.
func ubifsCRC(b []byte) uint32 { return ^crc32.ChecksumIEEE(b) }

// checkNode checks a node's common header: magic, type, length and CRC.
func checkNode(b []byte, typ int) error {
	if len(b) < chSize || binary.LittleEndian.Uint32(b) != nodeMagic {
		return errors.New("no node magic")
	}
	if int(b[20]) != typ {
		return fmt.Errorf("node type %d, want %d", b[20], typ)
	}
	if n := binary.LittleEndian.Uint32(b[16:20]); n != uint32(len(b)) {
		return fmt.Errorf("node length %d, want %d", n, len(b))
	}
	if got, want := ubifsCRC(b[8:]), binary.LittleEndian.Uint32(b[4:8]); got != want && verifyCRC {
		return fmt.Errorf("node CRC 0x%08x, want 0x%08x", got, want)
	}
	return nil
}

// readNode reads and checks the node of type typ at l.
func (f *FS) readNode(l loc, typ int) ([]byte, error) { return f.readNodeInto(l, typ, nil) }

// readNodeInto is readNode reusing buf when it is large enough.
func (f *FS) readNodeInto(l loc, typ int, buf []byte) ([]byte, error) {
	if l.lnum >= f.sb.lebCnt || l.offs%8 != 0 || l.len < chSize || uint64(l.offs)+uint64(l.len) > uint64(f.sb.lebSize) {
		return nil, fmt.Errorf("node at %v: out of bounds", l)
	}
	off := int64(l.lnum)*int64(f.sb.lebSize) + int64(l.offs)
	if off+int64(l.len) > f.size {
		return nil, fmt.Errorf("node at %v: beyond the end of the volume", l)
	}
	b := buf[:0]
	if cap(b) < int(l.len) {
		b = make([]byte, l.len)
	}
	b = b[:l.len]
	if err := imgfile.ReadFull(f.r, b, off); err != nil {
		return nil, fmt.Errorf("node at %v: %w", l, err)
	}
	if err := checkNode(b, typ); err != nil {
		return nil, fmt.Errorf("node at %v: %w", l, err)
	}
	return b, nil
}

// hashLen returns the digest size of a kernel hash_algo id.
func hashLen(algo uint16) int {
	switch algo {
	case 1: // md5
		return 16
	case 2: // sha1
		return 20
	case 4: // sha256
		return 32
	case 5: // sha384
		return 48
	case 6: // sha512
		return 64
	case 7: // sha224
		return 28
	}
	return 0
}

// readSuperblock reads and checks the superblock node at LEB 0.
func (f *FS) readSuperblock() error {
	b := make([]byte, sbNodeSize)
	if err := imgfile.ReadFull(f.r, b, 0); err != nil {
		return fmt.Errorf("reading superblock: %w", err)
	}
	if binary.LittleEndian.Uint32(b) != nodeMagic || b[20] != sbNode {
		return errors.New("not a UBIFS volume: no superblock node")
	}
	if err := checkNode(b, sbNode); err != nil {
		return fmt.Errorf("superblock: %w", err)
	}
	sb := superblock{
		keyHash:      b[26],
		flags:        binary.LittleEndian.Uint32(b[28:32]),
		minIO:        binary.LittleEndian.Uint32(b[32:36]),
		lebSize:      binary.LittleEndian.Uint32(b[36:40]),
		lebCnt:       binary.LittleEndian.Uint32(b[40:44]),
		logLEBs:      binary.LittleEndian.Uint32(b[56:60]),
		fmtVersion:   binary.LittleEndian.Uint32(b[80:84]),
		defaultCompr: binary.LittleEndian.Uint16(b[84:86]),
	}
	switch {
	case b[27] != 0:
		return fmt.Errorf("superblock: unknown key format %d", b[27])
	case sb.fmtVersion < 1 || sb.fmtVersion > 5:
		return fmt.Errorf("superblock: unsupported format version %d", sb.fmtVersion)
	case sb.lebSize < minLEBSize || sb.lebSize > maxLEBSize || sb.lebSize%8 != 0:
		return fmt.Errorf("superblock: bad LEB size %d", sb.lebSize)
	case sb.lebCnt < 3 || sb.lebCnt > maxLEBCnt:
		return fmt.Errorf("superblock: bad LEB count %d", sb.lebCnt)
	}
	if sb.flags&flagAuthentication != 0 {
		algo := binary.LittleEndian.Uint16(b[256:258])
		if sb.hashLen = hashLen(algo); sb.hashLen == 0 {
			return fmt.Errorf("superblock: authenticated file system with unknown hash algorithm %d", algo)
		}
	}
	f.sb = sb
	f.branchSize = 12 + keyLen + sb.hashLen
	return nil
}

// readMaster finds the valid master node with the highest sequence number
// in LEBs 1 and 2 and returns the position of the index root and the
// first LEB of the log.
func (f *FS) readMaster() (root loc, logLnum uint32, err error) {
	var best []byte
	var bestSeq uint64
	var errs []error
	for lnum := int64(1); lnum <= 2; lnum++ {
		start := lnum * int64(f.sb.lebSize)
		n := min(int64(f.sb.lebSize), f.size-start)
		if n < mstSize {
			errs = append(errs, fmt.Errorf("master LEB %d beyond the end of the volume", lnum))
			continue
		}
		buf := make([]byte, n)
		if err := imgfile.ReadFull(f.r, buf, start); err != nil {
			errs = append(errs, fmt.Errorf("master LEB %d: %w", lnum, err))
			continue
		}
		for off := 0; off+mstSize <= len(buf); off += 8 {
			node := buf[off : off+mstSize]
			if binary.LittleEndian.Uint32(node) != nodeMagic || node[20] != mstNode {
				continue
			}
			if err := checkNode(node, mstNode); err != nil {
				errs = append(errs, fmt.Errorf("master node at LEB %d:0x%x: %w", lnum, off, err))
				continue
			}
			if seq := binary.LittleEndian.Uint64(node[8:16]); best == nil || seq > bestSeq {
				best, bestSeq = node, seq
			}
		}
	}
	if best == nil {
		if len(errs) == 0 {
			errs = append(errs, errors.New("no master node"))
		}
		return loc{}, 0, errors.Join(errs...)
	}
	return loc{
		lnum: binary.LittleEndian.Uint32(best[48:52]),
		offs: binary.LittleEndian.Uint32(best[52:56]),
		len:  binary.LittleEndian.Uint32(best[56:60]),
	}, binary.LittleEndian.Uint32(best[44:48]), nil
}

// countJournalRefs counts the reference nodes of the log written after
// its commit start node (which starts LEB logLnum): each names a bud, a
// LEB of nodes written since the last commit. The log is read from
// logLnum through the log area (wrapping), up to an empty LEB.
func (f *FS) countJournalRefs(logLnum uint32) int {
	first, n := uint32(logFirstLEB), min(f.sb.logLEBs, f.sb.lebCnt-logFirstLEB, maxLogLEBs)
	if logLnum < first || logLnum >= first+n {
		return 0
	}
	refs := 0
	var csSeq uint64
	for i := range n {
		lnum := first + (logLnum-first+i)%n
		start := int64(lnum) * int64(f.sb.lebSize)
		size := min(int64(f.sb.lebSize), f.size-start)
		if size < chSize {
			break
		}
		buf := make([]byte, size)
		if imgfile.ReadFull(f.r, buf, start) != nil {
			break
		}
		nodes := 0
		for off := 0; off+chSize <= len(buf); {
			b := buf[off:]
			if binary.LittleEndian.Uint32(b) != nodeMagic {
				if b[0] == paddingByte {
					off += 8
					continue
				}
				break
			}
			ln := int(binary.LittleEndian.Uint32(b[16:20]))
			if ln < chSize || ln > len(b) || checkNode(b[:ln], int(b[20])) != nil {
				break
			}
			seq := binary.LittleEndian.Uint64(b[8:16])
			switch b[20] {
			case csNode:
				if i == 0 && off == 0 {
					csSeq = seq
				}
			case refNode:
				if seq > csSeq {
					refs++
				}
			case padNode:
				if ln >= chSize+4 {
					ln += int(binary.LittleEndian.Uint32(b[24:28]))
				}
			}
			nodes++
			off += (ln + 7) &^ 7
		}
		if nodes == 0 {
			break // the end of the log
		}
	}
	return refs
}

// walker walks the index.
type walker struct {
	f      *FS
	seen   map[loc]bool
	budget int64 // index bytes left to read: the index cannot exceed the volume
}

// walk reads the index node at l, which covers keys lo..hi, and its
// subtree. level is the level the node must have (-1 for the root). A
// subtree that cannot be read is recorded as damaged.
func (w *walker) walk(l loc, lo, hi key, level, depth int) {
	f := w.f
	fail := func(err error) {
		err = fmt.Errorf("index node at %v: %w", l, err)
		if n := len(f.damaged); n >= maxDamaged {
			// Too many: widen the last range to cover this one as well.
			f.damaged[n-1].lo = min(f.damaged[n-1].lo, lo)
			f.damaged[n-1].hi = max(f.damaged[n-1].hi, hi)
			return
		}
		f.damaged = append(f.damaged, damage{lo: lo, hi: hi, err: err})
	}
	if depth > maxLevels {
		fail(errors.New("index deeper than 64 levels"))
		return
	}
	if w.seen[l] {
		fail(errors.New("index node reached twice"))
		return
	}
	w.seen[l] = true
	if w.budget -= int64(l.len); w.budget < 0 {
		fail(errors.New("index larger than the volume"))
		return
	}
	b, err := f.readNode(l, idxNode)
	if err != nil {
		fail(err)
		return
	}
	if len(b) < idxHdrSize {
		fail(errors.New("index node truncated"))
		return
	}
	cnt := int(binary.LittleEndian.Uint16(b[24:26]))
	lvl := int(binary.LittleEndian.Uint16(b[26:28]))
	switch {
	case cnt == 0 || idxHdrSize+cnt*f.branchSize > len(b):
		fail(fmt.Errorf("bad child count %d", cnt))
		return
	case level >= 0 && lvl != level:
		fail(fmt.Errorf("level %d, want %d", lvl, level))
		return
	case lvl > maxLevels:
		fail(fmt.Errorf("level %d too deep", lvl))
		return
	}
	branch := func(i int) (loc, key) {
		p := b[idxHdrSize+i*f.branchSize:]
		return loc{
			lnum: binary.LittleEndian.Uint32(p),
			offs: binary.LittleEndian.Uint32(p[4:]),
			len:  binary.LittleEndian.Uint32(p[8:]),
		}, parseKey(p[12:])
	}
	for i := range cnt {
		cl, k := branch(i)
		if lvl > 0 {
			chi := hi
			if i+1 < cnt {
				_, chi = branch(i + 1)
			}
			w.walk(cl, max(k, lo), max(chi, lo), lvl-1, depth+1)
			continue
		}
		switch k.typ() {
		case keyIno:
			if _, dup := f.inodes[k.ino()]; !dup {
				f.inodes[k.ino()] = cl
			}
		case keyData:
			f.data[k.ino()] = append(f.data[k.ino()], dataRef{block: k.value(), at: cl})
		case keyDent:
			f.dents[k.ino()] = append(f.dents[k.ino()], cl)
		}
	}
}

// damageIn returns the error of a damaged index range overlapping lo..hi,
// or nil.
func (f *FS) damageIn(lo, hi key) error {
	for _, d := range f.damaged {
		if d.lo <= hi && lo <= d.hi {
			return d.err
		}
	}
	return nil
}
