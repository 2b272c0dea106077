//go:build unix

package fstree

import "syscall"

// statID returns the identity of a file on disk with more than one link.
func statID(sys any) (fileID, bool) {
	s, ok := sys.(*syscall.Stat_t)
	if !ok || s.Nlink <= 1 {
		return fileID{}, false
	}
	return fileID{dev: uint64(s.Dev), ino: uint64(s.Ino)}, true
}
