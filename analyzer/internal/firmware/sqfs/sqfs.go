// Package sqfs reads squashfs version 4 images: both byte orders ("hsqs"
// little-endian, "sqsh" big-endian as some vendor tools write it) and every
// compressor (gzip, lzma, lzo, xz with or without BCJ filters, lz4, zstd).
//
// [Open] returns an [FS], a read-only fs.FS over the image that is safe for
// concurrent use. Files stream block by block; large files decompress the
// next few blocks in parallel. Regular files also implement io.ReaderAt and
// io.Seeker, for parsers that read in place. Decompressed metadata blocks,
// directory listings and fragment blocks are kept in small bounded caches.
//
// Speed comes from decoding whole blocks into buffers of known size: the
// package has its own deflate (gzip images) and LZMA/LZMA2 (lzma and xz
// images) decoders that copy matches straight from the output instead of
// through a sliding window. lzo, lz4 and zstd use anchore/go-lzo,
// pierrec/lz4 and klauspost/compress. The LZMA2 decoder also reads whole
// xz streams outside any image ([NewXZReader]), keeping only the
// dictionary and one chunk in memory.
//
// The input is untrusted: every size and offset is checked against the image
// before use, nothing is allocated from a declared size without a bound, and
// corruption inside one file or directory is an error from the call that
// reads it, not a failure of the whole image.
//
// # Limitations
//
// Extended attributes and the NFS export table are ignored. Squashfs
// versions 1 to 3 and vendor variants with other magics are refused with
// [ErrUnsupported]. The xz RISC-V BCJ filter is not implemented; a block
// that uses it is an error from the read of its file.
package sqfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrNotSquashfs reports input that does not start with a squashfs
// superblock.
var ErrNotSquashfs = errors.New("not a squashfs image")

// ErrUnsupported reports a squashfs image this package cannot read: another
// version than 4.0, a vendor variant, or an unknown compressor.
var ErrUnsupported = errors.New("unsupported squashfs variant")

const (
	superblockSize = 96
	metaSize       = 8192 // uncompressed size of a full metadata block
	noFragment     = 0xFFFFFFFF

	// Superblock flags.
	flagCompressorOptions = 0x0400

	// maxDepth bounds path lookups (components and symlink expansions).
	maxDepth = 256
	// maxSymlinkHops bounds symlink expansions in one lookup.
	maxSymlinkHops = 40
)

// Compressor ids of the superblock.
const (
	compGzip = 1
	compLzma = 2
	compLzo  = 3
	compXz   = 4
	compLz4  = 5
	compZstd = 6
)

var compNames = map[uint16]string{
	compGzip: "gzip", compLzma: "lzma", compLzo: "lzo",
	compXz: "xz", compLz4: "lz4", compZstd: "zstd",
}

// Info describes an opened image.
type Info struct {
	// Compression names the compressor: gzip, lzma, lzo, xz, lz4 or zstd.
	Compression string
	// BlockSize is the data block size in bytes (4 KiB to 1 MiB).
	BlockSize uint32
	// BigEndian is true for a "sqsh" (big-endian) image.
	BigEndian bool
	// Inodes is the inode count the superblock declares.
	Inodes uint32
	// BytesUsed is the image size the superblock declares.
	BytesUsed uint64
	// Truncated is true when BytesUsed is larger than the input.
	Truncated bool
	// Flags holds the superblock flags as stored.
	Flags uint16
}

// superblock holds the fields of a version 4 superblock this package uses.
type superblock struct {
	inodes         uint32
	blockSize      uint32
	fragments      uint32
	compressor     uint16
	flags          uint16
	ids            uint16
	rootRef        uint64
	bytesUsed      uint64
	idTable        uint64
	inodeTable     uint64
	directoryTable uint64
	fragmentTable  uint64
}

// FS is an opened squashfs image. It implements fs.FS, fs.ReadDirFS,
// fs.StatFS and fs.ReadLinkFS and is safe for concurrent use.
type FS struct {
	r    io.ReaderAt
	end  int64 // readable bytes of the image
	bo   binary.ByteOrder
	sb   superblock
	info Info
	dec  decompressor

	root    *inode
	parents bool // directories name their parent (see recordsParents)

	meta  *cache[metaBlock] // decompressed metadata blocks by position
	frags *cache[[]byte]    // decompressed fragment blocks by position
	dirs  *cache[[]dirent]  // parsed directory listings by inode reference

	// fragIndex holds the positions of the fragment table's metadata
	// blocks; idIndex those of the id table. Both are read at Open.
	fragIndex []uint64
	idIndex   []uint64

	bufs     sync.Pool // *[]byte of blockSize bytes
	zeroOnce sync.Once
	zero     []byte // blockSize zero bytes for sparse blocks

	readAhead int // blocks decompressed ahead of a reader
}

// Open checks the squashfs superblock at the start of r[0:size) and returns
// a read-only view of the image. It fails only when the image cannot be read
// at all: a bad superblock, tables outside the image, or an unreadable root
// directory.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	if size < superblockSize {
		return nil, fmt.Errorf("%w: %d bytes is shorter than a superblock", ErrNotSquashfs, size)
	}
	var h [superblockSize]byte
	if _, err := r.ReadAt(h[:], 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("reading superblock: %w", err)
	}
	f := &FS{r: r, end: size}
	if err := f.parseSuperblock(h[:]); err != nil {
		return nil, err
	}
	f.dec = newDecompressor(f.sb.compressor, int(f.sb.blockSize))
	f.meta = newCache[metaBlock](8 << 20)
	f.frags = newCache[[]byte](16 << 20)
	f.dirs = newCache[[]dirent](16 << 20)
	f.readAhead = defaultReadAhead()
	if f.sb.flags&flagCompressorOptions != 0 {
		// The options block only tunes the compressor; decoding does not
		// need it, but an lz4 image must declare the legacy format.
		if err := f.checkCompressorOptions(); err != nil {
			return nil, err
		}
	}
	f.fragIndex = f.tableIndex(f.sb.fragmentTable, uint64(f.sb.fragments), 16)
	f.idIndex = f.tableIndex(f.sb.idTable, uint64(f.sb.ids), 4)
	root, err := f.inode(f.sb.rootRef)
	if err != nil {
		return nil, fmt.Errorf("root directory: %w", err)
	}
	if root.kind() != typeDir {
		return nil, fmt.Errorf("root inode is not a directory (type %d)", root.typ)
	}
	f.root = root
	f.parents = f.recordsParents()
	return f, nil
}

// recordsParents reports whether the image's directories name their parent
// (mksquashfs does): a subdirectory of the root names the root. Then
// lookup refuses a directory reached from any other directory, so a
// crafted image cannot link one directory from many places and make a
// small image list as an endless tree.
func (f *FS) recordsParents() bool {
	ents, _ := f.listing(f.root)
	for _, e := range ents {
		if e.typ != typeDir {
			continue
		}
		if n, err := f.inode(e.ref); err == nil && n.kind() == typeDir {
			return n.parent == f.root.number
		}
	}
	return false
}

// parseSuperblock checks h and fills f.sb, f.bo, f.info and f.end.
func (f *FS) parseSuperblock(h []byte) error {
	switch string(h[:4]) {
	case "hsqs":
		f.bo = binary.LittleEndian
	case "sqsh":
		f.bo = binary.BigEndian
	case "shsq", "qshs", "sqlz", "hsqt", "tqsh":
		return fmt.Errorf("%w: vendor magic %q", ErrUnsupported, h[:4])
	default:
		return ErrNotSquashfs
	}
	bo := f.bo
	major, minor := bo.Uint16(h[28:]), bo.Uint16(h[30:])
	if major != 4 || minor != 0 {
		// Versions 1-3 keep the version at the same offset.
		return fmt.Errorf("%w: version %d.%d (only 4.0 is read)", ErrUnsupported, major, minor)
	}
	sb := superblock{
		inodes:         bo.Uint32(h[4:]),
		blockSize:      bo.Uint32(h[12:]),
		fragments:      bo.Uint32(h[16:]),
		compressor:     bo.Uint16(h[20:]),
		flags:          bo.Uint16(h[24:]),
		ids:            bo.Uint16(h[26:]),
		rootRef:        bo.Uint64(h[32:]),
		bytesUsed:      bo.Uint64(h[40:]),
		idTable:        bo.Uint64(h[48:]),
		inodeTable:     bo.Uint64(h[64:]),
		directoryTable: bo.Uint64(h[72:]),
		fragmentTable:  bo.Uint64(h[80:]),
	}
	blockLog := bo.Uint16(h[22:])
	if sb.blockSize < 4096 || sb.blockSize > 1<<20 || blockLog > 20 || sb.blockSize != 1<<blockLog {
		return fmt.Errorf("corrupt superblock: block size %d (log %d)", sb.blockSize, blockLog)
	}
	name, ok := compNames[sb.compressor]
	if !ok {
		return fmt.Errorf("%w: compressor id %d", ErrUnsupported, sb.compressor)
	}
	if sb.bytesUsed >= superblockSize && sb.bytesUsed < uint64(f.end) {
		f.end = int64(sb.bytesUsed)
	}
	end := uint64(f.end)
	if sb.inodeTable < superblockSize || sb.inodeTable >= sb.directoryTable || sb.directoryTable >= end {
		return fmt.Errorf("corrupt superblock: inode table at %d, directory table at %d, image end %d",
			sb.inodeTable, sb.directoryTable, end)
	}
	f.sb = sb
	f.info = Info{
		Compression: name,
		BlockSize:   sb.blockSize,
		BigEndian:   string(h[:4]) == "sqsh",
		Inodes:      sb.inodes,
		BytesUsed:   sb.bytesUsed,
		Truncated:   sb.bytesUsed > end,
		Flags:       sb.flags,
	}
	return nil
}

// checkCompressorOptions reads the options metadata block that follows the
// superblock. Only lz4's is checked: it must declare format version 1 (the
// only one there is). An unreadable block is left to fail where it matters.
func (f *FS) checkCompressorOptions() error {
	if f.sb.compressor != compLz4 {
		return nil
	}
	m, err := f.metaReader(superblockSize, 0, f.end)
	if err != nil {
		return nil
	}
	b, err := m.bytes(8)
	if err != nil {
		return nil
	}
	if v := f.bo.Uint32(b); v != 1 {
		return fmt.Errorf("%w: lz4 format version %d", ErrUnsupported, v)
	}
	return nil
}

// tableIndex reads the array of metadata block positions of a table of
// count entries of entSize bytes stored at pos. A table outside the image is
// left empty: lookups in it fail later, one file at a time.
func (f *FS) tableIndex(pos, count, entSize uint64) []uint64 {
	if count == 0 {
		return nil
	}
	n := (count*entSize + metaSize - 1) / metaSize
	if pos > uint64(f.end) || n > (uint64(f.end)-pos)/8 {
		return nil
	}
	b := make([]byte, n*8)
	if err := f.readAt(b, int64(pos)); err != nil {
		return nil
	}
	idx := make([]uint64, n)
	for i := range idx {
		idx[i] = f.bo.Uint64(b[i*8:])
	}
	return idx
}

// Info describes the image.
func (f *FS) Info() Info { return f.info }

// readAt reads len(p) bytes at off, all of which must lie inside the image.
func (f *FS) readAt(p []byte, off int64) error {
	if off < 0 || off > f.end || int64(len(p)) > f.end-off {
		return fmt.Errorf("%d bytes at %d: beyond image end %d", len(p), off, f.end)
	}
	n, err := f.r.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%d bytes at %d: %w", len(p), off, err)
}

// getBuf returns a pooled buffer of blockSize bytes.
func (f *FS) getBuf() *[]byte {
	if b, ok := f.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, f.sb.blockSize)
	return &b
}

func (f *FS) putBuf(b *[]byte) { f.bufs.Put(b) }

// zeros returns blockSize zero bytes, shared and read-only.
func (f *FS) zeros() []byte {
	f.zeroOnce.Do(func() { f.zero = make([]byte, f.sb.blockSize) })
	return f.zero
}
