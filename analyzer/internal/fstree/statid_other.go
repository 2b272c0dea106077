//go:build !unix

package fstree

// statID knows no file identity on this platform: hard links are read
// once each.
func statID(any) (fileID, bool) { return fileID{}, false }
