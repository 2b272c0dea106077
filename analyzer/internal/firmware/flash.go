package firmware

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/cramfs"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/jffs2"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/ubi"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/ubifs"
)

// Flash formats: UBI volumes and the UBIFS filesystems they hold.
const (
	fmtUBI    = "ubi"
	fmtUBIFS  = "ubifs"
	fmtCramfs = "cramfs"
	fmtJFFS2  = "jffs2"
)

// cramfsOffset returns where a cramfs superblock starts in h (0, or 512
// after a boot-block pad), or -1: the magic in either byte order and the
// "Compressed ROMFS" signature.
func cramfsOffset(h []byte) int {
	for _, at := range []int{0, 512} {
		if len(h) >= at+32 && string(h[at+16:at+32]) == "Compressed ROMFS" &&
			(string(h[at:at+4]) == "\x45\x3d\xcd\x28" || string(h[at:at+4]) == "\x28\xcd\x3d\x45") {
			return at
		}
	}
	return -1
}

// isJFFS2 accepts a JFFS2 node header in either byte order: the magic, a
// known node type and a matching header CRC.
func isJFFS2(h []byte) bool {
	if len(h) < 12 {
		return false
	}
	var bo binary.ByteOrder
	switch {
	case h[0] == 0x85 && h[1] == 0x19:
		bo = binary.LittleEndian
	case h[0] == 0x19 && h[1] == 0x85:
		bo = binary.BigEndian
	default:
		return false
	}
	switch bo.Uint16(h[2:]) {
	case 0xe001, 0xe002, 0x2003, 0x2004, 0x2006, 0xe008, 0xe009:
	default:
		return false
	}
	return bo.Uint32(h[8:]) == ^crc32.Update(0xffffffff, crc32.IEEETable, h[:8])
}

// isUBI accepts a UBI erase-counter header magic.
func isUBI(h []byte) bool { return len(h) >= 64 && string(h[:4]) == "UBI#" && h[4] == 1 }

// isUBIFS accepts a UBIFS superblock node: the node magic and type 6.
func isUBIFS(h []byte) bool {
	return len(h) >= 24 && binary.LittleEndian.Uint32(h) == 0x06101831 && h[20] == 6
}

// extractUBI opens the UBI image at [off, off+size) of f: each volume is
// examined as a region of its own (a UBIFS, a squashfs, a kernel).
func (u *unpacker) extractUBI(f *os.File, off, size int64, depth int) (int64, error) {
	im, err := protect(func() (*ubi.Image, error) { return ubi.Open(io.NewSectionReader(f, off, size), size) })
	if err != nil {
		return 0, fmt.Errorf("ubi at 0x%x: %w", off, err)
	}
	if im.BadPEBs > 0 {
		u.gap("/", fmt.Sprintf("ubi: %d erase blocks with bad headers not examined: %v", im.BadPEBs, im.Problems))
	}
	for _, v := range im.Volumes() {
		if u.ctx.Err() != nil {
			break
		}
		name := safeName(v.Name, int(v.ID))
		lr := &limitReader{ctx: u.ctx, r: io.NewSectionReader(v.ReaderAt(), 0, v.Size()), max: u.maxOut, onLimit: func() {
			u.gap(name, fmt.Sprintf("ubi volume larger than the limit of %d bytes; the rest is not examined", u.maxOut))
		}}
		u.spoolReader(lr, depth+1, name, true)
	}
	return min(im.PEBSize()*int64(im.PEBCount()), size), nil
}

// openCramfs mounts the cramfs image at [off, off+size) of f.
func (u *unpacker) openCramfs(f *os.File, off, size int64) error {
	fsys, err := protect(func() (*cramfs.FS, error) { return cramfs.Open(io.NewSectionReader(f, off, size), size) })
	if err != nil {
		return fmt.Errorf("cramfs at 0x%x: %w", off, err)
	}
	if err := fsys.CheckCRC(); err != nil && !errors.Is(err, cramfs.ErrNoCRC) {
		u.gap("/", "cramfs: "+err.Error())
	}
	return u.mount(fmtCramfs, fsys)
}

// openJFFS2 mounts the JFFS2 image at [off, off+size) of f.
func (u *unpacker) openJFFS2(f *os.File, off, size int64) error {
	fsys, err := protect(func() (*jffs2.FS, error) { return jffs2.Open(io.NewSectionReader(f, off, size), size) })
	if err != nil {
		return fmt.Errorf("jffs2 at 0x%x: %w", off, err)
	}
	if n := fsys.CorruptNodes(); n > 0 {
		u.gap("/", fmt.Sprintf("jffs2: %d nodes with bad CRCs skipped; data they held is not examined", n))
	}
	return u.mount(fmtJFFS2, fsys)
}

// openUBIFS mounts the UBIFS filesystem at [off, off+size) of f.
func (u *unpacker) openUBIFS(f *os.File, off, size int64) error {
	fsys, err := protect(func() (*ubifs.FS, error) { return ubifs.Open(io.NewSectionReader(f, off, size), size) })
	if err != nil {
		return fmt.Errorf("ubifs at 0x%x: %w", off, err)
	}
	if fsys.JournalRefs > 0 {
		u.gap("/", fmt.Sprintf("ubifs: %d journal buds not replayed; files changed after the last commit may differ", fsys.JournalRefs))
	}
	return u.mount(fmtUBIFS, fsys)
}
