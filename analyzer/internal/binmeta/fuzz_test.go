package binmeta

import (
	"encoding/binary"
	"errors"
	"testing"
)

// FuzzRead feeds Read arbitrary bytes, seeded with every fixture of
// testdata/ and the synthetic ELF files of buildELF, under the default
// limits and under tiny ones. Read must not panic (a recovered panic
// surfaces as *InternalError, which fails the target) and its facts must
// keep their promises. Crashers found are kept in testdata/fuzz/FuzzRead/.
//
//	go test -run '^$' -fuzz FuzzRead -fuzztime 60s -fuzzminimizetime 200x ./analyzer/internal/binmeta/
//
// The seeds are real binaries of up to 48 KB, and minimizing each new
// interesting input of that size takes the default -fuzzminimizetime
// (60s) whole: without the flag a short run spends its time minimizing.
func FuzzRead(f *testing.F) {
	for _, fx := range fixtures {
		f.Add(readFixture(f, fx.file))
	}
	for _, is64 := range []bool{false, true} {
		f.Add(buildELF(is64, binary.BigEndian, false))
		f.Add(buildELF(is64, binary.LittleEndian, true))
	}
	small := Limits{MaxSymbols: 3, MaxClasses: 3, MaxSectionBytes: 512}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range []Limits{DefaultLimits(), small} {
			facts, err := readBytes(data, lim)
			var ie *InternalError
			if errors.As(err, &ie) {
				t.Fatalf("%v\n%s", ie, ie.Stack)
			}
			if facts != nil {
				checkInvariants(t, facts, lim)
			} else if err == nil && Sniff(data) != "" && Sniff(data) != "zip" {
				t.Fatalf("Read = nil, nil for a file Sniff calls %q", Sniff(data))
			}
		}
	})
}
