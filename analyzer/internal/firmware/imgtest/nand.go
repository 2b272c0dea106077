package imgtest

import "crypto/sha256"

// WithSpares lays out image as a raw dump of small-page NAND flash
// (512-byte pages, 16 spare bytes each) reads, the way nanddump --oob or
// a programmer writes it: each written page is followed by ECC bytes where
// Linux's small-page layout puts them (0-3 and 6-7) and the good-block
// marker 0xff at byte 5; an erased page's spare is erased too. A partial
// last page is dropped.
func WithSpares(image []byte) []byte {
	const page, spare = 512, 16
	out := make([]byte, 0, len(image)/page*(page+spare))
	for off := 0; off+page <= len(image); off += page {
		p := image[off : off+page]
		out = append(out, p...)
		s := make([]byte, spare)
		for i := range s {
			s[i] = 0xff
		}
		erased := true
		for _, c := range p {
			erased = erased && c == 0xff
		}
		if !erased {
			ecc := sha256.Sum256(p)
			copy(s[0:4], ecc[0:4])
			copy(s[6:8], ecc[4:6])
		}
		out = append(out, s...)
	}
	return out
}
