//go:build ignore

// mktrx writes a TRX image: mktrx VERSION OUT FILE... places each FILE in
// its own partition (aligned to 4 KiB, the first right after the header)
// and fills in the length and CRC. An empty FILE name leaves its slot 0.
// It prints one "slot size sha256" manifest line per file.
package main

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"os"
	"strconv"
)

func main() {
	if len(os.Args) < 4 {
		fmt.Fprintln(os.Stderr, "usage: mktrx VERSION OUT FILE...")
		os.Exit(2)
	}
	version, _ := strconv.Atoi(os.Args[1])
	slots := 3
	if version == 2 {
		slots = 4
	}
	files := os.Args[3:]
	if len(files) > slots {
		fmt.Fprintln(os.Stderr, "too many files")
		os.Exit(2)
	}
	img := make([]byte, 16+4*slots)
	le := binary.LittleEndian
	for i, name := range files {
		if name == "" {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		if i > 0 {
			for len(img)%4096 != 0 {
				img = append(img, 0)
			}
		}
		le.PutUint32(img[16+4*i:], uint32(len(img)))
		img = append(img, b...)
		fmt.Printf("%d %d %x\n", i, len(b), sha256.Sum256(b))
	}
	for len(img)%4 != 0 {
		img = append(img, 0)
	}
	copy(img, "HDR0")
	le.PutUint32(img[4:], uint32(len(img)))
	le.PutUint32(img[12:], uint32(version)<<16)
	// Broadcom's CRC: initial value 0xffffffff, no final complement.
	le.PutUint32(img[8:], ^crc32.ChecksumIEEE(img[12:]))
	if err := os.WriteFile(os.Args[2], img, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
