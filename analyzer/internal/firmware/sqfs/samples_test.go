package sqfs

import "github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"

// samples returns inputs of the shapes squashfs blocks have, the code from
// the xz fixture.
func samples() [][]byte {
	code, _ := readFixtureFile("xz/input.bin")
	return imgtest.Samples(code)
}
