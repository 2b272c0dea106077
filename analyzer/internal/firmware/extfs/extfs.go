// Package extfs reads ext2, ext3 and ext4 filesystem images in pure Go,
// without mounting them and without trusting them.
//
// [Open] checks the superblock and returns an [FS], a read-only
// [fs.FS] that also implements [fs.ReadDirFS], [fs.StatFS] and
// [fs.ReadLinkFS]. It reads revision 0 and 1 superblocks, 32- and 64-bit
// group descriptors (also under flex_bg and meta_bg), block maps (direct,
// single, double and triple indirect), extent trees of any depth, holes and
// uninitialized extents (read as zeros), inline data, fast and slow
// symlinks, and linear or htree-indexed directories (read linearly).
//
// # Limitations
//
// The journal is not replayed: an image that needs recovery is read as it
// stands. Checksums are not verified. Encrypted files and directories and
// e2compr-compressed files are refused with an error from the call that
// meets them. Extended attributes other than inline data are not read.
//
// # Hostile images
//
// Every structure is checked against the image size before it is read or
// allocated; extent trees are bounded in depth, paths in length and
// symlink chains in hops. A directory must name its parent in ".." and
// may not appear twice on a path, so directory loops and shared
// directories are errors, not endless trees. Corruption inside one file or
// directory is an error from that call only. An FS is safe for
// concurrent use.
package extfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgfile"
)

var le = binary.LittleEndian

const (
	superblockOff  = 1024
	superblockSize = 1024
	extMagic       = 0xEF53
	rootIno        = 2
	goodOldInode   = 128 // inode size of revision 0, and the fixed part of every inode
	maxDirCache    = 1 << 18
)

// Feature flags of the superblock.
const (
	compatHasJournal   = 0x4
	compatSparseSuper2 = 0x200

	incompatCompression = 0x1
	incompatFiletype    = 0x2
	incompatRecover     = 0x4
	incompatJournalDev  = 0x8
	incompatMetaBG      = 0x10
	incompatExtents     = 0x40
	incompat64Bit       = 0x80
	incompatMMP         = 0x100
	incompatFlexBG      = 0x200
	incompatEAInode     = 0x400
	incompatDirData     = 0x1000
	incompatCsumSeed    = 0x2000
	incompatLargeDir    = 0x4000
	incompatInlineData  = 0x8000
	incompatEncrypt     = 0x10000
	incompatCasefold    = 0x20000
	incompatKnown       = incompatCompression | incompatFiletype | incompatRecover | incompatJournalDev |
		incompatMetaBG | incompatExtents | incompat64Bit | incompatMMP | incompatFlexBG | incompatEAInode |
		incompatDirData | incompatCsumSeed | incompatLargeDir | incompatInlineData | incompatEncrypt | incompatCasefold
	// incompatExt4 marks an ext4 filesystem (with roCompatExt4).
	incompatExt4 = incompatExtents | incompat64Bit | incompatMMP | incompatFlexBG | incompatEAInode |
		incompatCsumSeed | incompatLargeDir | incompatInlineData | incompatEncrypt | incompatCasefold

	roCompatSparseSuper  = 0x1
	roCompatHugeFile     = 0x8
	roCompatGdtCsum      = 0x10
	roCompatDirNlink     = 0x20
	roCompatExtraIsize   = 0x40
	roCompatBigalloc     = 0x200
	roCompatMetadataCsum = 0x400
	roCompatExt4         = roCompatHugeFile | roCompatGdtCsum | roCompatDirNlink | roCompatExtraIsize |
		roCompatBigalloc | roCompatMetadataCsum
)

// bgInodeUninit marks a block group whose inode table was never
// initialized (uninit_bg, metadata_csum).
const bgInodeUninit = 0x1

// FS is a read-only view of an ext2, ext3 or ext4 image. Its methods are
// safe for concurrent use.
type FS struct {
	r    io.ReaderAt
	size int64 // bytes of r that may be read

	blockSize      int64
	blocks         uint64 // s_blocks_count
	firstDataBlock uint64
	blocksPerGroup uint64
	groups         uint64
	inodes         uint32
	inodesPerGroup uint32
	inodeSize      int64
	descSize       int64
	firstMetaBG    uint64
	backupBGs      [2]uint32
	clusterSize    int64
	compat         uint32
	incompat       uint32
	roCompat       uint32

	root *inode

	mu        sync.Mutex
	groupDesc map[uint64]groupDesc
	dirs      map[uint32]*dirList
	dirCount  int // entries held in dirs
}

// groupDesc is what FS uses of a block group descriptor.
type groupDesc struct {
	inodeTable uint64 // first block of the inode table
	uninit     bool   // inode table never initialized
}

// Open checks the ext2/3/4 superblock of the image in r[0:size) and
// returns a read-only view of it. It fails when the superblock is missing
// or implausible, the filesystem uses features this package cannot read
// at all, or the root directory is unreadable.
func Open(r io.ReaderAt, size int64) (*FS, error) {
	if size < superblockOff+superblockSize {
		return nil, fmt.Errorf("extfs: image of %d bytes too small for a superblock", size)
	}
	sb := make([]byte, superblockSize)
	if _, err := r.ReadAt(sb, superblockOff); err != nil {
		return nil, fmt.Errorf("extfs: reading superblock: %w", err)
	}
	f, err := parseSuperblock(sb, size)
	if err != nil {
		return nil, fmt.Errorf("extfs: superblock: %w", err)
	}
	f.r = r
	f.groupDesc = make(map[uint64]groupDesc)
	f.dirs = make(map[uint32]*dirList)
	root, err := f.readInode(rootIno)
	if err != nil {
		return nil, fmt.Errorf("extfs: root directory: %w", err)
	}
	if !root.isDir() {
		return nil, fmt.Errorf("extfs: root inode is not a directory (mode %#o)", root.mode)
	}
	f.root = root
	return f, nil
}

// parseSuperblock checks the superblock against itself and the image size.
func parseSuperblock(sb []byte, size int64) (*FS, error) {
	if le.Uint16(sb[0x38:]) != extMagic {
		return nil, errors.New("bad magic")
	}
	rev := le.Uint32(sb[0x4C:])
	if rev > 1 {
		return nil, fmt.Errorf("unknown revision %d", rev)
	}
	logBlock := le.Uint32(sb[0x18:])
	if logBlock > 6 {
		return nil, fmt.Errorf("block size 2^(10+%d) out of range", logBlock)
	}
	f := &FS{
		size:           size,
		blockSize:      1024 << logBlock,
		inodes:         le.Uint32(sb[0x00:]),
		blocks:         uint64(le.Uint32(sb[0x04:])),
		firstDataBlock: uint64(le.Uint32(sb[0x14:])),
		blocksPerGroup: uint64(le.Uint32(sb[0x20:])),
		inodesPerGroup: le.Uint32(sb[0x28:]),
		inodeSize:      goodOldInode,
		descSize:       32,
		compat:         le.Uint32(sb[0x5C:]),
		incompat:       le.Uint32(sb[0x60:]),
		roCompat:       le.Uint32(sb[0x64:]),
		firstMetaBG:    uint64(le.Uint32(sb[0x104:])),
		backupBGs:      [2]uint32{le.Uint32(sb[0x24C:]), le.Uint32(sb[0x250:])},
	}
	bs := f.blockSize
	if rev == 0 {
		f.compat, f.incompat, f.roCompat = 0, 0, 0
	} else {
		f.inodeSize = int64(le.Uint16(sb[0x58:]))
	}
	if f.incompat&incompatJournalDev != 0 {
		return nil, errors.New("external journal device, not a filesystem")
	}
	if unknown := f.incompat &^ incompatKnown; unknown != 0 {
		return nil, fmt.Errorf("unknown incompatible features %#x", unknown)
	}
	if f.incompat&incompat64Bit != 0 {
		f.blocks |= uint64(le.Uint32(sb[0x150:])) << 32
		f.descSize = int64(le.Uint16(sb[0xFE:]))
		if f.descSize < 64 || f.descSize > 1024 || f.descSize&(f.descSize-1) != 0 {
			return nil, fmt.Errorf("group descriptor size %d out of range", f.descSize)
		}
	}
	if f.inodeSize < goodOldInode || f.inodeSize > bs || f.inodeSize&(f.inodeSize-1) != 0 {
		return nil, fmt.Errorf("inode size %d out of range", f.inodeSize)
	}
	f.clusterSize = bs
	perGroupMax := uint64(8 * bs)
	if f.roCompat&roCompatBigalloc != 0 {
		logCluster := le.Uint32(sb[0x1C:])
		if logCluster < logBlock || logCluster > 30 {
			return nil, fmt.Errorf("cluster size 2^(10+%d) out of range", logCluster)
		}
		f.clusterSize = 1024 << logCluster
		perGroupMax <<= logCluster - logBlock
	}
	if f.firstDataBlock > 1 || (bs > 1024 && f.firstDataBlock != 0) {
		return nil, fmt.Errorf("first data block %d invalid for block size %d", f.firstDataBlock, bs)
	}
	if f.blocks <= f.firstDataBlock || f.blocks > math.MaxInt64/uint64(bs) {
		return nil, fmt.Errorf("block count %d out of range", f.blocks)
	}
	if f.blocksPerGroup < 8 || f.blocksPerGroup > perGroupMax {
		return nil, fmt.Errorf("blocks per group %d out of range", f.blocksPerGroup)
	}
	if f.inodesPerGroup == 0 || uint64(f.inodesPerGroup) > uint64(8*bs) {
		return nil, fmt.Errorf("inodes per group %d out of range", f.inodesPerGroup)
	}
	f.groups = (f.blocks - f.firstDataBlock + f.blocksPerGroup - 1) / f.blocksPerGroup
	if f.inodes < rootIno || uint64(f.inodes) > f.groups*uint64(f.inodesPerGroup) {
		return nil, fmt.Errorf("inode count %d out of range for %d groups of %d", f.inodes, f.groups, f.inodesPerGroup)
	}
	// Every group has a descriptor, and the descriptors of the first
	// groups follow the superblock: they must be in the image.
	if f.groups > uint64(size)/uint64(f.descSize) {
		return nil, fmt.Errorf("%d block groups cannot fit an image of %d bytes", f.groups, size)
	}
	if (f.superblockBlock()+2)*uint64(bs) > uint64(size) {
		return nil, fmt.Errorf("group descriptors beyond the end of the image (block size %d)", bs)
	}
	return f, nil
}

// Kind names the filesystem: "ext4" when it uses any ext4 feature, else
// "ext3" when it has a journal, else "ext2".
func (f *FS) Kind() string {
	switch {
	case f.incompat&incompatExt4 != 0 || f.roCompat&roCompatExt4 != 0:
		return "ext4"
	case f.compat&compatHasJournal != 0:
		return "ext3"
	}
	return "ext2"
}

// Size returns the size in bytes the superblock declares (block count
// times block size). It may exceed the size given to [Open] when the
// image is truncated; reads beyond the image then fail.
func (f *FS) Size() int64 { return int64(f.blocks) * f.blockSize }

// NeedsRecovery reports whether the journal holds updates that were not
// replayed; this package reads the image as it stands.
func (f *FS) NeedsRecovery() bool { return f.incompat&incompatRecover != 0 }

// readFull reads len(b) bytes at off, failing when any of them lies
// outside the image.
func (f *FS) readFull(b []byte, off int64) error {
	if off < 0 || off > f.size || int64(len(b)) > f.size-off {
		return fmt.Errorf("%d bytes at offset %d beyond the end of the image (%d bytes)", len(b), off, f.size)
	}
	if err := imgfile.ReadFull(f.r, b, off); err != nil {
		return fmt.Errorf("reading %d bytes at offset %d: %w", len(b), off, err)
	}
	return nil
}

// readBlock reads block n into b (len(b) ≤ block size).
func (f *FS) readBlock(b []byte, n uint64) error {
	if n >= f.blocks {
		return fmt.Errorf("block %d beyond the block count %d", n, f.blocks)
	}
	return f.readFull(b, int64(n)*f.blockSize)
}

// hasSuper reports whether block group g holds a superblock backup (and
// so, under meta_bg, shifts its descriptor block by one).
func (f *FS) hasSuper(g uint64) bool {
	switch {
	case g == 0:
		return true
	case f.compat&compatSparseSuper2 != 0:
		return g == uint64(f.backupBGs[0]) || g == uint64(f.backupBGs[1])
	case g == 1 || f.roCompat&roCompatSparseSuper == 0:
		return true
	}
	for _, base := range []uint64{3, 5, 7} {
		p := base
		for p < g {
			p *= base
		}
		if p == g {
			return true
		}
	}
	return false
}

// superblockBlock is the block holding the primary superblock: 1 with
// 1 KiB blocks, else 0.
func (f *FS) superblockBlock() uint64 { return uint64(superblockOff / f.blockSize) }

// descLocation returns the byte offset of group g's descriptor.
func (f *FS) descLocation(g uint64) uint64 {
	perBlock := uint64(f.blockSize / f.descSize)
	bs := uint64(f.blockSize)
	within := (g % perBlock) * uint64(f.descSize)
	metaGroup := g / perBlock
	if f.incompat&incompatMetaBG == 0 || metaGroup < f.firstMetaBG {
		return (f.superblockBlock()+1+metaGroup)*bs + within
	}
	// meta_bg: the descriptor block of each run of perBlock groups sits
	// in the first group of the run, after its superblock backup if any.
	first := metaGroup * perBlock
	blk := f.firstDataBlock + first*f.blocksPerGroup
	if f.hasSuper(first) {
		blk++
	}
	if bs == 1024 && first == 0 && f.firstDataBlock == 0 {
		blk++ // 1 KiB blocks starting at block 0 (bigalloc): superblock in block 1
	}
	return blk*bs + within
}

// group returns the descriptor of block group g.
func (f *FS) group(g uint64) (groupDesc, error) {
	f.mu.Lock()
	d, ok := f.groupDesc[g]
	f.mu.Unlock()
	if ok {
		return d, nil
	}
	if g >= f.groups {
		return d, fmt.Errorf("block group %d beyond the group count %d", g, f.groups)
	}
	off := f.descLocation(g)
	if off > math.MaxInt64 {
		return d, fmt.Errorf("block group %d descriptor beyond the end of the image", g)
	}
	b := make([]byte, f.descSize)
	if err := f.readFull(b, int64(off)); err != nil {
		return d, fmt.Errorf("block group %d descriptor: %w", g, err)
	}
	d.inodeTable = uint64(le.Uint32(b[0x08:]))
	if f.descSize >= 64 {
		d.inodeTable |= uint64(le.Uint32(b[0x28:])) << 32
	}
	d.uninit = le.Uint16(b[0x12:])&bgInodeUninit != 0 && f.roCompat&(roCompatGdtCsum|roCompatMetadataCsum) != 0
	f.mu.Lock()
	if len(f.groupDesc) < maxDirCache {
		f.groupDesc[g] = d
	}
	f.mu.Unlock()
	return d, nil
}
