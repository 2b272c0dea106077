package sqfs

import (
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
)

const (
	maxListing    = 32 << 20 // bytes of one directory listing
	maxDirEntries = 1 << 18  // entries of one directory
	maxDirCount   = 256      // entries under one listing header
	maxNameLen    = 256
)

// dirent is one entry of a directory listing.
type dirent struct {
	name string
	ref  uint64 // inode reference
	typ  uint16 // basic inode type the entry declares
}

// listing returns the entries of directory n sorted by name, parsed once and
// cached. With an error it also returns the entries read before it, and the
// valid ones when some names are invalid.
func (f *FS) listing(n *inode) ([]dirent, error) {
	return f.dirs.get(n.ref, func() ([]dirent, int, error) {
		ents, err := f.readListing(n)
		cost := 64
		for _, e := range ents {
			cost += len(e.name) + 48
		}
		return ents, cost, err
	})
}

// readListing parses the listing of directory n: runs of entries, each run
// led by a header with the inode table block of its entries.
func (f *FS) readListing(n *inode) ([]dirent, error) {
	if n.dirSize < 3 {
		return nil, fmt.Errorf("directory inode %d: listing size %d", n.number, n.dirSize)
	}
	left := int64(n.dirSize) - 3 // the size counts "." and ".." as 3 bytes
	if left == 0 {
		return nil, nil
	}
	if left > maxListing {
		return nil, fmt.Errorf("directory inode %d: listing of %d bytes is too large", n.number, left)
	}
	pos := f.sb.directoryTable + uint64(n.dirBlock)
	if pos >= uint64(f.end) {
		return nil, fmt.Errorf("directory inode %d: listing outside the image", n.number)
	}
	m, err := f.metaReader(int64(pos), int(n.dirOffset), f.end)
	if err != nil {
		return nil, fmt.Errorf("directory inode %d: %w", n.number, err)
	}
	ents, bad, err := f.parseListing(m, left)
	if err != nil {
		err = fmt.Errorf("directory inode %d: %w", n.number, err)
	}
	if !slices.IsSortedFunc(ents, cmpDirent) {
		slices.SortStableFunc(ents, cmpDirent)
	}
	if bad != "" && err == nil {
		err = fmt.Errorf("directory inode %d: invalid entry name %q skipped", n.number, bad)
	}
	return ents, err
}

func cmpDirent(a, b dirent) int { return strings.Compare(a.name, b.name) }

// parseListing reads left bytes of listing from m. Entries with names that
// are not valid path elements are skipped; bad returns the first of them.
func (f *FS) parseListing(m *metaReader, left int64) (ents []dirent, bad string, err error) {
	bo := f.bo
	for left > 0 {
		if left < 12 {
			return ents, bad, errors.New("listing ends inside a header")
		}
		h, err := m.bytes(12)
		if err != nil {
			return ents, bad, err
		}
		left -= 12
		count := int64(bo.Uint32(h)) + 1
		start := uint64(bo.Uint32(h[4:]))
		if count > maxDirCount {
			return ents, bad, fmt.Errorf("listing header with %d entries", count)
		}
		for range count {
			if left < 9 {
				return ents, bad, errors.New("listing ends inside an entry")
			}
			e, err := m.bytes(8)
			if err != nil {
				return ents, bad, err
			}
			off, typ := bo.Uint16(e), bo.Uint16(e[4:])
			nameLen := int64(bo.Uint16(e[6:])) + 1
			left -= 8
			if nameLen > maxNameLen || nameLen > left {
				return ents, bad, fmt.Errorf("entry name of %d bytes", nameLen)
			}
			b, err := m.bytes(int(nameLen))
			if err != nil {
				return ents, bad, err
			}
			left -= nameLen
			name := string(b)
			if !validName(name) {
				if bad == "" {
					bad = name
				}
				continue
			}
			if typ == 0 || typ > 14 {
				return ents, bad, fmt.Errorf("entry %q: unknown type %d", name, typ)
			}
			if typ > 7 {
				typ -= 7
			}
			if len(ents) == maxDirEntries {
				return ents, bad, fmt.Errorf("more than %d entries", maxDirEntries)
			}
			ents = append(ents, dirent{name: name, ref: start<<16 | uint64(off), typ: typ})
		}
	}
	return ents, bad, nil
}

// validName reports whether name can be a path element of an fs.FS.
func validName(name string) bool {
	return name != "" && name != "." && name != ".." && !strings.ContainsAny(name, "/\x00")
}

// child looks name up in directory dir.
func (f *FS) child(dir *inode, name string) (*inode, error) {
	ents, err := f.listing(dir)
	i, found := slices.BinarySearchFunc(ents, name, func(e dirent, name string) int {
		return strings.Compare(e.name, name)
	})
	if !found {
		if err != nil {
			return nil, err
		}
		return nil, errNotFound
	}
	return f.inode(ents[i].ref)
}

var errNotFound = fs.ErrNotExist
