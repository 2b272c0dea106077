package firmware

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"io/fs"
	"os"
	"reflect"

	"github.com/diskfs/go-diskfs/backend"
	diskfile "github.com/diskfs/go-diskfs/backend/file"
	"github.com/diskfs/go-diskfs/filesystem"
	"github.com/diskfs/go-diskfs/filesystem/fat12"
	"github.com/diskfs/go-diskfs/filesystem/fat16"
	"github.com/diskfs/go-diskfs/filesystem/fat32"
	"github.com/diskfs/go-diskfs/filesystem/iso9660"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

// Disk filesystem images: ext2/3/4 geometry (read by package extfs); ISO
// 9660 and FAT read with go-diskfs, without mounting.

const (
	extSuperblockOff = 1024
	extMagicOff      = extSuperblockOff + 56
	extMagic         = 0xEF53

	isoMagicOff = 0x8001
)

// isExt accepts an ext2/3/4 superblock: the magic and sane geometry.
func isExt(h []byte) bool {
	if len(h) < extSuperblockOff+128 {
		return false
	}
	sb := h[extSuperblockOff:]
	le := binary.LittleEndian
	if le.Uint16(sb[56:]) != extMagic {
		return false
	}
	inodes, blocks := le.Uint32(sb[0:]), le.Uint32(sb[4:])
	firstData, logBlock := le.Uint32(sb[20:]), le.Uint32(sb[24:])
	perGroup, inodesPerGroup := le.Uint32(sb[32:]), le.Uint32(sb[40:])
	rev := le.Uint32(sb[76:])
	return inodes != 0 && blocks != 0 && firstData <= 1 && logBlock <= 6 &&
		perGroup != 0 && inodesPerGroup != 0 && rev <= 1
}

// isISO9660 accepts a volume descriptor with "CD001" at 0x8001 and a
// known descriptor type and version.
func isISO9660(h []byte) bool {
	if len(h) < isoMagicOff+6 {
		return false
	}
	t := h[isoMagicOff-1]
	return string(h[isoMagicOff:isoMagicOff+5]) == "CD001" && h[isoMagicOff+5] == 1 && (t <= 3 || t == 255)
}

// fatKind returns "fat12", "fat16", "fat32" or "" for a FAT boot sector:
// the 0x55AA signature, a plausible BIOS parameter block and the
// filesystem-type text of an extended boot record.
func fatKind(h []byte) string {
	if len(h) < 512 || h[510] != 0x55 || h[511] != 0xaa || (h[0] != 0xeb && h[0] != 0xe9) {
		return ""
	}
	le := binary.LittleEndian
	bps, spc := le.Uint16(h[11:]), h[13]
	if bps < 512 || bps > 4096 || bps&(bps-1) != 0 || spc == 0 || spc&(spc-1) != 0 {
		return ""
	}
	if le.Uint16(h[14:]) == 0 || h[16] == 0 || h[16] > 4 {
		return "" // reserved sectors, number of FATs
	}
	// FAT32 extended boot record: signature at 0x42, type at 0x52.
	if (h[0x42] == 0x28 || h[0x42] == 0x29) && bytes.Equal(h[0x52:0x5a], []byte("FAT32   ")) {
		return "fat32"
	}
	// FAT12/16 extended boot record: signature at 0x26, type at 0x36.
	if h[0x26] == 0x28 || h[0x26] == 0x29 {
		switch string(h[0x36:0x3e]) {
		case "FAT12   ":
			return "fat12"
		case "FAT16   ":
			return "fat16"
		case "FAT     ":
			// Decided by the cluster count, as the specification says.
			sectors := uint32(le.Uint16(h[19:]))
			if sectors == 0 {
				sectors = le.Uint32(h[32:])
			}
			rootSectors := (uint32(le.Uint16(h[17:]))*32 + uint32(bps) - 1) / uint32(bps)
			meta := uint32(le.Uint16(h[14:])) + uint32(h[16])*uint32(le.Uint16(h[22:])) + rootSectors
			if sectors <= meta {
				return ""
			}
			if (sectors-meta)/uint32(spc) < 4085 {
				return "fat12"
			}
			return "fat16"
		}
	}
	return ""
}

// diskFS is what the walk needs from a go-diskfs filesystem.
type diskFS interface {
	ReadDir(p string) ([]fs.DirEntry, error)
	OpenFile(p string, flag int) (filesystem.File, error)
}

// diskLib adapts a go-diskfs filesystem to the walker.
func diskLib(name string, d diskFS, readlink func(p string, e fs.DirEntry) (string, error), dirID func(fs.DirEntry) (uint64, bool)) *sqfsLib {
	return &sqfsLib{
		name:    name,
		readDir: d.ReadDir,
		open: func(p string) (io.ReadCloser, error) {
			return d.OpenFile(p, os.O_RDONLY)
		},
		readlink: readlink,
		dirID:    dirID,
	}
}

// isoDirID is where an ISO 9660 directory's records lie: its extent.
func isoDirID(e fs.DirEntry) (uint64, bool) {
	info, err := e.Info()
	if err != nil {
		return 0, false
	}
	st, ok := info.Sys().(*iso9660.StatT)
	if !ok || st.Location == 0 {
		return 0, false
	}
	return uint64(st.Location), true
}

// fatDirID is where a FAT directory's entries lie: its first cluster.
// go-diskfs keeps it in an unexported field of its entries, read here by
// reflection; without it (another version) only the entry bound applies.
func fatDirID(e fs.DirEntry) (uint64, bool) {
	v := reflect.ValueOf(e)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return 0, false
	}
	f := v.Elem().FieldByName("clusterLocation")
	if !f.IsValid() || f.Kind() != reflect.Uint32 || f.Uint() < 2 {
		return 0, false
	}
	return f.Uint(), true
}

// walkDisk writes the tree of lib through w.
func (u *unpacker) walkDisk(kind string, lib *sqfsLib, w *extract.Writer, maxEntries int64) {
	s := &sqfsWalk{u: u, w: w, lib: lib, fallback: func() *sqfsLib { return nil }, kind: kind, maxEntries: int(min(maxEntries, 1<<40))}
	s.dir(".", 0)
}

// Directory entries take at least this much of an image: a FAT entry is
// 32 bytes, an ISO 9660 directory record 34 (33 and a name byte).
const (
	fatEntrySize = 32
	isoEntrySize = 34
)

// openDisk opens a filesystem with a go-diskfs reader, turning a panic
// into an error.
func openDisk[T any](read func(backend.Storage, int64, int64, int64) (T, error), f *os.File, off, size int64) (fsys T, err error) {
	return protect(func() (T, error) { return read(diskfile.New(f, true), size, off, 0) })
}

// extractISO9660 writes the ISO 9660 image (with Rock Ridge names and
// symlinks where present) at [off, off+size) of f through w.
func (u *unpacker) extractISO9660(f *os.File, off, size int64, w *extract.Writer) error {
	d, err := openDisk(iso9660.Read, f, off, size)
	if err != nil {
		return fmt.Errorf("iso9660 at 0x%x: cannot open: %w", off, err)
	}
	u.walkDisk("iso9660", diskLib("go-diskfs iso9660", d, isoReadlink, isoDirID), w, size/isoEntrySize)
	return nil
}

// isoReadlink returns a Rock Ridge symlink's target.
func isoReadlink(p string, e fs.DirEntry) (string, error) {
	type linker interface{ ReadLink() (string, bool) }
	if l, ok := e.(linker); ok {
		if t, ok := l.ReadLink(); ok {
			return t, nil
		}
	}
	if info, err := e.Info(); err == nil {
		if l, ok := info.Sys().(linker); ok {
			if t, ok := l.ReadLink(); ok {
				return t, nil
			}
		}
		if l, ok := info.(linker); ok {
			if t, ok := l.ReadLink(); ok {
				return t, nil
			}
		}
	}
	return "", fmt.Errorf("iso9660: no Rock Ridge link target for %s", p)
}

// extractFAT writes the FAT12/16/32 image at [off, off+size) of f through w.
func (u *unpacker) extractFAT(f *os.File, off, size int64, head []byte, w *extract.Writer) error {
	kind := fatKind(head)
	var d diskFS
	var err error
	switch kind {
	case "fat32":
		d, err = openDisk(fat32.Read, f, off, size)
	case "fat16":
		d, err = openDisk(fat16.Read, f, off, size)
	default:
		d, err = openDisk(fat12.Read, f, off, size)
	}
	if err != nil {
		return fmt.Errorf("%s at 0x%x: cannot open: %w", kind, off, err)
	}
	u.walkDisk("fat", diskLib("go-diskfs "+kind, d, func(p string, _ fs.DirEntry) (string, error) {
		return "", fmt.Errorf("%s has no symlinks: %s", kind, p)
	}, fatDirID), w, size/fatEntrySize)
	return nil
}
