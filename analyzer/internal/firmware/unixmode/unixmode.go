// Package unixmode converts the Unix st_mode stored in filesystem images
// (cramfs, JFFS2, UBIFS) to an fs.FileMode.
package unixmode

import "io/fs"

// File type bits of a Unix mode.
const (
	IFMT   = 0o170000
	IFSOCK = 0o140000
	IFLNK  = 0o120000
	IFREG  = 0o100000
	IFBLK  = 0o060000
	IFDIR  = 0o040000
	IFCHR  = 0o020000
	IFIFO  = 0o010000
)

// FileMode converts a Unix mode to an fs.FileMode: permission bits, type,
// setuid, setgid and sticky; an unknown type is fs.ModeIrregular.
func FileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & IFMT {
	case IFREG:
	case IFDIR:
		mode |= fs.ModeDir
	case IFLNK:
		mode |= fs.ModeSymlink
	case IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case IFBLK:
		mode |= fs.ModeDevice
	case IFIFO:
		mode |= fs.ModeNamedPipe
	case IFSOCK:
		mode |= fs.ModeSocket
	default:
		mode |= fs.ModeIrregular
	}
	if m&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if m&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if m&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}
