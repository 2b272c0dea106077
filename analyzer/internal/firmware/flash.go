package firmware

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/ubi"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/ubifs"
)

// Flash formats: UBI volumes and the UBIFS filesystems they hold.
const (
	fmtUBI   = "ubi"
	fmtUBIFS = "ubifs"
)

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

// extractUBIFS writes the UBIFS filesystem at [off, off+size) of f
// through w.
func (u *unpacker) extractUBIFS(f *os.File, off, size int64, w *extract.Writer) error {
	fsys, err := protect(func() (*ubifs.FS, error) { return ubifs.Open(io.NewSectionReader(f, off, size), size) })
	if err != nil {
		return fmt.Errorf("ubifs at 0x%x: %w", off, err)
	}
	if fsys.JournalRefs > 0 {
		w.Gap("/", fmt.Sprintf("ubifs: %d journal buds not replayed; files changed after the last commit may differ", fsys.JournalRefs))
	}
	u.walkFS(fmtUBIFS, fsys, w)
	return nil
}
