package ubifs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"time"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/unixmode"
)

// Inode types of directory entries (UBIFS_ITYPE_*).
var itypeMode = [...]fs.FileMode{
	0,                                 // regular
	fs.ModeDir,                        // directory
	fs.ModeSymlink,                    // symlink
	fs.ModeDevice,                     // block device
	fs.ModeDevice | fs.ModeCharDevice, // character device
	fs.ModeNamedPipe,                  // fifo
	fs.ModeSocket,                     // socket
}

// inode is a parsed inode node.
type inode struct {
	ino   uint32
	size  uint64
	nlink uint32
	uid   uint32
	gid   uint32
	mode  uint32 // Linux st_mode
	flags uint32
	mtime time.Time
	data  []byte // symlink target or device number
}

func (in *inode) fileMode() fs.FileMode { return unixmode.FileMode(in.mode) }

func (in *inode) encrypted() error {
	if in.flags&cryptFlag != 0 {
		return fmt.Errorf("inode %d is encrypted (fscrypt): not supported", in.ino)
	}
	return nil
}

// readInode reads inode ino.
func (f *FS) readInode(ino uint32) (*inode, error) {
	k := makeKey(ino, keyIno, 0)
	l, ok := f.inodes[ino]
	if !ok {
		if err := f.damageIn(k, k); err != nil {
			return nil, fmt.Errorf("inode %d: %w", ino, err)
		}
		return nil, fmt.Errorf("inode %d: not in the index", ino)
	}
	if l.len < inoSize || l.len > inoSize+maxInoData {
		return nil, fmt.Errorf("inode %d: bad node length %d", ino, l.len)
	}
	b, err := f.readNode(l, inoNode)
	if err != nil {
		return nil, fmt.Errorf("inode %d: %w", ino, err)
	}
	if got := parseKey(b[24:]); got != k {
		return nil, fmt.Errorf("inode %d: the index points at the node of key %v", ino, got)
	}
	dataLen := binary.LittleEndian.Uint32(b[112:116])
	if dataLen > maxInoData || inoSize+int(dataLen) > len(b) {
		return nil, fmt.Errorf("inode %d: bad data length %d", ino, dataLen)
	}
	return &inode{
		ino:   ino,
		size:  binary.LittleEndian.Uint64(b[48:56]),
		mtime: time.Unix(int64(binary.LittleEndian.Uint64(b[72:80])), int64(binary.LittleEndian.Uint32(b[88:92])%1e9)).UTC(),
		nlink: binary.LittleEndian.Uint32(b[92:96]),
		uid:   binary.LittleEndian.Uint32(b[96:100]),
		gid:   binary.LittleEndian.Uint32(b[100:104]),
		mode:  binary.LittleEndian.Uint32(b[104:108]),
		flags: binary.LittleEndian.Uint32(b[108:112]),
		data:  b[inoSize : inoSize+dataLen],
	}, nil
}

// dirent is one directory entry.
type dirent struct {
	name string
	ino  uint32
	typ  fs.FileMode
}

// dirList is a directory's entries, sorted by name, and the error that
// kept some from being read.
type dirList struct {
	ents []dirent
	err  error
}

func (d *dirList) find(name string) (dirent, bool) {
	i := sort.Search(len(d.ents), func(i int) bool { return d.ents[i].name >= name })
	if i < len(d.ents) && d.ents[i].name == name {
		return d.ents[i], true
	}
	return dirent{}, false
}

// dir returns directory ino's entries, read once and cached.
func (f *FS) dir(ino uint32) *dirList {
	f.mu.Lock()
	d := f.dirs[ino]
	f.mu.Unlock()
	if d != nil {
		return d
	}
	d = f.readDir(ino)
	f.mu.Lock()
	defer f.mu.Unlock()
	if prev := f.dirs[ino]; prev != nil {
		return prev
	}
	f.dirs[ino] = d
	return d
}

// readDir reads the directory entry nodes of directory ino.
func (f *FS) readDir(ino uint32) *dirList {
	var errs []error
	if err := f.damageIn(makeKey(ino, keyDent, 0), makeKey(ino, keyDent, 0x1fffffff)); err != nil {
		errs = append(errs, err)
	}
	var ents []dirent
	for _, l := range f.dents[ino] {
		e, err := f.readDent(ino, l)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if e.ino != 0 { // inode 0: a deletion entry
			ents = append(ents, e)
		}
	}
	sort.SliceStable(ents, func(a, b int) bool { return ents[a].name < ents[b].name })
	out := ents[:0]
	for i, e := range ents {
		if i > 0 && e.name == ents[i-1].name {
			errs = append(errs, fmt.Errorf("directory inode %d: duplicate entry %q", ino, e.name))
			continue
		}
		out = append(out, e)
	}
	return &dirList{ents: out, err: errors.Join(errs...)}
}

// readDent reads the directory entry node at l of directory ino.
func (f *FS) readDent(ino uint32, l loc) (dirent, error) {
	if l.len < dentSize || l.len > dentSize+maxNameLen+1+8 {
		return dirent{}, fmt.Errorf("directory inode %d: entry at %v: bad length", ino, l)
	}
	b, err := f.readNode(l, dentNode)
	if err != nil {
		return dirent{}, fmt.Errorf("directory inode %d: entry: %w", ino, err)
	}
	if k := parseKey(b[24:]); k.ino() != ino || k.typ() != keyDent {
		return dirent{}, fmt.Errorf("directory inode %d: entry at %v has key %v", ino, l, k)
	}
	inum := binary.LittleEndian.Uint64(b[40:48])
	typ := b[49]
	nlen := int(binary.LittleEndian.Uint16(b[50:52]))
	if nlen == 0 || nlen > maxNameLen || dentSize+nlen > len(b) {
		return dirent{}, fmt.Errorf("directory inode %d: entry at %v: bad name length %d", ino, l, nlen)
	}
	name := string(b[dentSize : dentSize+nlen])
	if name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
		return dirent{}, fmt.Errorf("directory inode %d: bad entry name %q", ino, name)
	}
	if inum > 0xffffffff {
		return dirent{}, fmt.Errorf("directory inode %d: entry %q: bad inode number %d", ino, name, inum)
	}
	if int(typ) >= len(itypeMode) {
		return dirent{}, fmt.Errorf("directory inode %d: entry %q: bad type %d", ino, name, typ)
	}
	return dirent{name: name, ino: uint32(inum), typ: itypeMode[typ]}, nil
}
