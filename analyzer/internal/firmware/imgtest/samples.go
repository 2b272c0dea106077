package imgtest

import "math/rand/v2"

// Samples returns inputs of the shapes filesystem blocks have for a
// compressor's tests: code, text, runs, random bytes, and mixes of them
// with pieces of code (real machine code, at least 1 KiB), at sizes around
// block boundaries.
func Samples(code []byte) [][]byte {
	r := rand.New(rand.NewPCG(1, 2))
	var out [][]byte
	for _, n := range []int{0, 1, 2, 3, 7, 100, 258, 259, 4096, 32768, 32769, 65536, 131072} {
		text := make([]byte, n)
		words := []string{"squashfs ", "block ", "inode ", "the ", "a ", "fragment\n", "0123456789"}
		for i := 0; i < n; {
			i += copy(text[i:], words[r.IntN(len(words))])
		}
		rnd := make([]byte, n)
		for i := range rnd {
			rnd[i] = byte(r.Uint32())
		}
		runs := make([]byte, n)
		for i := 0; i < n; {
			c, l := byte(r.IntN(4)), 1+r.IntN(300)
			for j := 0; j < l && i < n; j++ {
				runs[i] = c
				i++
			}
		}
		mix := make([]byte, n)
		for i := 0; i < n; {
			switch r.IntN(3) {
			case 0:
				i += copy(mix[i:], code[r.IntN(len(code)/2):][:r.IntN(500)])
			case 1:
				i += copy(mix[i:], rnd[:min(len(rnd), r.IntN(40))])
			default:
				i += copy(mix[i:], text[:min(len(text), r.IntN(2000))])
			}
			if n == 0 {
				break
			}
		}
		out = append(out, text, rnd, runs, mix)
	}
	return out
}
