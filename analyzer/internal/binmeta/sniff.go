package binmeta

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Sniff reports the format of a file from its first bytes: "elf" for the ELF
// magic, "pe" for an MZ header whose e_lfanew points at a "PE\0\0"
// signature within head, "zip" for a local file header ("PK\x03\x04"; [Read]
// tells a jar from an apk from neither), "dex" for a dex header ("dex\n"
// followed by a three-digit version and NUL). It returns "" for anything
// else. head should hold the first KiB or so of the file: a PE signature
// beyond head goes unseen.
func Sniff(head []byte) string {
	switch {
	case bytes.HasPrefix(head, []byte("\x7fELF")):
		return "elf"
	case bytes.HasPrefix(head, []byte("MZ")):
		if len(head) < 0x40 {
			return ""
		}
		off := int64(binary.LittleEndian.Uint32(head[0x3c:]))
		if off+4 <= int64(len(head)) && bytes.Equal(head[off:off+4], []byte("PE\x00\x00")) {
			return "pe"
		}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return "zip"
	case isDexMagic(head):
		return "dex"
	}
	return ""
}

// isDexMagic reports whether b starts with "dex\n", three digits and NUL.
func isDexMagic(b []byte) bool {
	if len(b) < 8 || !bytes.HasPrefix(b, []byte("dex\n")) || b[7] != 0 {
		return false
	}
	for _, c := range b[4:7] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// sniffAt is Sniff on a whole file: it also finds a PE signature that lies
// beyond the first bytes.
func sniffAt(s *source) (string, error) {
	n := min(s.size, 1024)
	head, err := s.readHeader(0, n, "file header")
	if err != nil {
		return "", fmt.Errorf("binmeta: %w", err)
	}
	if f := Sniff(head); f != "" || !bytes.HasPrefix(head, []byte("MZ")) || len(head) < 0x40 {
		return f, nil
	}
	off := int64(binary.LittleEndian.Uint32(head[0x3c:]))
	if off+4 > s.size {
		return "", nil
	}
	sig, err := s.readHeader(off, 4, "PE signature")
	if err != nil {
		return "", fmt.Errorf("binmeta: %w", err)
	}
	if bytes.Equal(sig, []byte("PE\x00\x00")) {
		return "pe", nil
	}
	return "", nil
}
