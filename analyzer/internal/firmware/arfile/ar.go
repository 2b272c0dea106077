// Package arfile lists the members of Unix ar archives, the container of
// Debian packages (debian-binary, control.tar.*, data.tar.*) and of static
// libraries. It reads the common format ("!<arch>\n" and 60-byte member
// headers) with GNU long names (a "//" table and "/123" references) and BSD
// long names ("#1/len", the name stored before the data). Symbol tables
// ("/", "/SYM64/", "__.SYMDEF*") and the GNU name table are not listed.
// Thin archives ("!<thin>\n"), whose members live in other files, are
// refused.
//
// Parts describes where the members lie; it copies no data.
package arfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Part is one payload inside the container, at [Offset, Offset+Size) of the input.
type Part struct {
	Name         string // member name as stored; untrusted, may contain any byte but NUL
	Offset, Size int64
	// Type is "tar" for a member named *.tar or *.tar.<ext>, else "".
	Type string
	// Compression is guessed from the name's extension: "gzip", "xz",
	// "zstd", "bzip2", "lzma", "lz4", "lzo", "none" for a plain .tar, or
	// "" when unknown.
	Compression string
}

const (
	magic      = "!<arch>\n"
	thinMagic  = "!<thin>\n"
	headerSize = 60
	// MaxParts caps the members listed; an archive with more is reported
	// with ErrTooManyParts after the first MaxParts.
	MaxParts     = 4096
	maxNameTable = 16 << 20 // GNU "//" table
	maxName      = 4096
)

// ErrTooManyParts reports an archive with more than MaxParts members.
var ErrTooManyParts = errors.New("too many members")

// Is reports whether head starts with the ar archive magic.
func Is(head []byte) bool {
	return bytes.HasPrefix(head, []byte(magic))
}

// Parts lists the members of the ar archive in r[0:size), in archive
// order. It fails when the input is not an ar archive. Corruption part way
// (a bad header, an unresolvable name, a member running past the end)
// ends the listing: Parts returns the members found before it together
// with an error saying what and where. A member whose data runs past the
// end of the input is listed clipped to the input, with an error.
func Parts(r io.ReaderAt, size int64) ([]Part, error) {
	var head [len(magic)]byte
	if size < int64(len(head)) {
		return nil, errors.New("ar: not an ar archive: too short")
	}
	if _, err := r.ReadAt(head[:], 0); err != nil {
		return nil, fmt.Errorf("ar: reading magic: %w", err)
	}
	switch string(head[:]) {
	case magic:
	case thinMagic:
		return nil, errors.New("ar: thin archives are not supported")
	default:
		return nil, errors.New("ar: not an ar archive: bad magic")
	}
	var (
		parts []Part
		names []byte // GNU long-name table
		h     [headerSize]byte
	)
	for off := int64(len(magic)); off < size; {
		if size-off < headerSize {
			if isPadding(r, off, size) {
				break
			}
			return parts, fmt.Errorf("ar: member header at 0x%x truncated", off)
		}
		if _, err := r.ReadAt(h[:], off); err != nil {
			return parts, fmt.Errorf("ar: member header at 0x%x: %w", off, err)
		}
		if h[58] != '`' || h[59] != '\n' {
			return parts, fmt.Errorf("ar: member header at 0x%x: bad terminator", off)
		}
		n, ok := parseDecimal(h[48:58])
		if !ok {
			return parts, fmt.Errorf("ar: member header at 0x%x: bad size %q", off, bytes.TrimRight(h[48:58], " "))
		}
		data := off + headerSize
		next := data + n + n&1
		var trunc error
		if n > size-data {
			trunc = fmt.Errorf("ar: member at 0x%x: %d of %d bytes present", off, size-data, n)
			n = size - data
		}
		raw := string(bytes.TrimRight(h[:16], " "))
		var name string
		switch {
		case raw == "/" || raw == "/SYM64/": // GNU symbol table
			if trunc != nil {
				return parts, trunc
			}
			off = next
			continue
		case raw == "//":
			if names != nil {
				return parts, fmt.Errorf("ar: second long-name table at 0x%x", off)
			}
			if n > maxNameTable {
				return parts, fmt.Errorf("ar: long-name table at 0x%x: %d bytes is too large", off, n)
			}
			names = make([]byte, n)
			if _, err := r.ReadAt(names, data); err != nil {
				return parts, fmt.Errorf("ar: long-name table at 0x%x: %w", off, err)
			}
			if trunc != nil {
				return parts, trunc
			}
			off = next
			continue
		case strings.HasPrefix(raw, "#1/"):
			l, ok := parseDecimal([]byte(raw[3:]))
			if !ok || l > n || l > maxName {
				return parts, fmt.Errorf("ar: member at 0x%x: bad BSD name length %q", off, raw[3:])
			}
			b := make([]byte, l)
			if _, err := r.ReadAt(b, data); err != nil {
				return parts, fmt.Errorf("ar: member at 0x%x: name: %w", off, err)
			}
			name = string(bytes.TrimRight(b, "\x00"))
			data += l
			n -= l
		case len(raw) > 1 && raw[0] == '/' && isDigits(raw[1:]):
			var err error
			if name, err = longName(names, raw[1:]); err != nil {
				return parts, fmt.Errorf("ar: member at 0x%x: %w", off, err)
			}
		default:
			name = strings.TrimSuffix(raw, "/") // GNU terminates names with '/'
		}
		if strings.IndexByte(name, 0) >= 0 {
			return parts, fmt.Errorf("ar: member at 0x%x: NUL in name", off)
		}
		if strings.HasPrefix(name, "__.SYMDEF") { // BSD symbol table
			if trunc != nil {
				return parts, trunc
			}
			off = next
			continue
		}
		if len(parts) == MaxParts {
			return parts, fmt.Errorf("ar: %w (more than %d)", ErrTooManyParts, MaxParts)
		}
		typ, comp := classify(name)
		parts = append(parts, Part{Name: name, Offset: data, Size: n, Type: typ, Compression: comp})
		if trunc != nil {
			return parts, trunc
		}
		off = next
	}
	return parts, nil
}

// longName resolves a GNU "/123" reference into the "//" table: the name
// runs to "/\n" (or "\n" in some writers).
func longName(table []byte, ref string) (string, error) {
	if table == nil {
		return "", fmt.Errorf("long name /%s without a name table", ref)
	}
	i, err := strconv.ParseInt(ref, 10, 64)
	if err != nil || i >= int64(len(table)) {
		return "", fmt.Errorf("long name /%s out of the name table (%d bytes)", ref, len(table))
	}
	rest := table[i:]
	end := bytes.IndexByte(rest, '\n')
	if end < 0 {
		end = len(rest)
	}
	if end > maxName {
		return "", fmt.Errorf("long name /%s too long", ref)
	}
	name := strings.TrimSuffix(string(rest[:end]), "/")
	if name == "" {
		return "", fmt.Errorf("long name /%s is empty", ref)
	}
	return name, nil
}

// isPadding reports whether r[off:size) holds only newlines, which some
// writers leave at the end of an archive.
func isPadding(r io.ReaderAt, off, size int64) bool {
	b := make([]byte, size-off)
	if _, err := r.ReadAt(b, off); err != nil {
		return false
	}
	return len(bytes.Trim(b, "\n")) == 0
}

// parseDecimal parses a space-padded decimal field (at most 10 digits).
func parseDecimal(b []byte) (int64, bool) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || len(b) > 10 || !isDigits(string(b)) {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// compressionExt maps a file name extension to a compression name.
var compressionExt = map[string]string{
	".gz": "gzip", ".xz": "xz", ".zst": "zstd", ".bz2": "bzip2",
	".lzma": "lzma", ".lz4": "lz4", ".lzo": "lzo",
}

// classify guesses a member's content from its name.
func classify(name string) (typ, comp string) {
	base, ext := name, ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		base, ext = name[:i], name[i:]
	}
	switch {
	case ext == ".tar":
		return "tar", "none"
	case strings.HasSuffix(base, ".tar") && compressionExt[ext] != "":
		return "tar", compressionExt[ext]
	}
	return "", compressionExt[ext]
}
