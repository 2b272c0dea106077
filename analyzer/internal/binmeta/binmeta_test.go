package binmeta

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oemtrace/oemtrace/internal/testutil"
)

// The golden files are rewritten with the repository's one -update flag
// (internal/testutil), which this package's tests share rather than
// register a second "update" flag:
//
//	go test ./analyzer/internal/binmeta/ -update

// fixtures are the binaries of testdata/ (see testdata/make.sh) and the
// format Sniff reports for each.
var fixtures = []struct{ file, sniff string }{
	{"libacmeav.so", "elf"},
	{"scanner.elf", "elf"},
	{"acmeav.dll", "pe"},
	{"scanner.exe", "pe"},
	{"scanner-signed.exe", "pe"},
	// Section headers without their data, the import table among them:
	// read as the loader would see it (zeros, so no imports), not as
	// corrupt.
	{"scanner.exe.debug", "pe"},
	{"scanner.jar", "zip"},
	{"classes.dex", "dex"},
	{"app.apk", "zip"},
}

// readFixture returns the contents of testdata/name.
func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// readBytes is Read on a byte slice.
func readBytes(data []byte, lim Limits) (*Facts, error) {
	return Read(bytes.NewReader(data), int64(len(data)), lim)
}

// TestGolden reads every fixture and compares its Facts with
// testdata/<fixture>.golden.
func TestGolden(t *testing.T) {
	for _, fx := range fixtures {
		t.Run(fx.file, func(t *testing.T) {
			data := readFixture(t, fx.file)
			if len(data) > 100<<10 {
				t.Errorf("fixture is %d bytes, keep it under 100 KiB", len(data))
			}
			if got := Sniff(data); got != fx.sniff {
				t.Errorf("Sniff = %q, want %q", got, fx.sniff)
			}
			facts, err := readBytes(data, DefaultLimits())
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if facts == nil {
				t.Fatal("Read = nil facts")
			}
			checkInvariants(t, facts, DefaultLimits())
			out, err := json.MarshalIndent(facts, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			testutil.Golden(t, fx.file+".golden", append(out, '\n'))
		})
	}
}

// TestKaveSymbolsSurviveStrip checks that the kave* API of the stripped
// fixtures is still read from their dynamic symbols, and under the
// library's SONAME rather than its file name.
func TestKaveSymbolsSurviveStrip(t *testing.T) {
	for _, tc := range []struct {
		file  string
		list  func(*Facts) []string
		other func(*Facts) []string
	}{
		{"libacmeav.so", func(f *Facts) []string { return f.Exports }, func(f *Facts) []string { return []string{f.SOName} }},
		{"scanner.elf", func(f *Facts) []string { return f.Imports }, func(f *Facts) []string { return f.Needed }},
		{"acmeav.dll", func(f *Facts) []string { return f.Exports }, func(f *Facts) []string { return []string{f.SOName} }},
		{"scanner.exe", func(f *Facts) []string { return f.Imports }, func(f *Facts) []string { return f.Needed }},
	} {
		data := readFixture(t, tc.file)
		if ef, err := elf.NewFile(bytes.NewReader(data)); err == nil {
			if _, err := ef.Symbols(); !errors.Is(err, elf.ErrNoSymbols) {
				t.Errorf("%s: has a static symbol table (%v); make.sh should strip it", tc.file, err)
			}
		}
		facts, err := readBytes(data, DefaultLimits())
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		for _, want := range []string{"kaveInitializeEx", "kaveScanFile"} {
			if !slices.Contains(tc.list(facts), want) {
				t.Errorf("%s: %q missing from %q", tc.file, want, tc.list(facts))
			}
		}
		if !slices.ContainsFunc(tc.other(facts), func(s string) bool { return strings.Contains(strings.ToLower(s), "acmeav") }) {
			t.Errorf("%s: library name missing: %q", tc.file, tc.other(facts))
		}
	}
}

// TestELFWithoutSectionHeaders removes the section headers of the ELF
// fixtures, as sstrip does, and checks that the program headers yield the
// same facts.
func TestELFWithoutSectionHeaders(t *testing.T) {
	for _, file := range []string{"libacmeav.so", "scanner.elf"} {
		data := readFixture(t, file)
		want, err := readBytes(data, DefaultLimits())
		if err != nil {
			t.Fatal(err)
		}
		bare := slices.Clone(data)
		binary.LittleEndian.PutUint64(bare[40:], 0) // e_shoff
		binary.LittleEndian.PutUint16(bare[60:], 0) // e_shnum
		binary.LittleEndian.PutUint16(bare[62:], 0) // e_shstrndx
		got, err := readBytes(bare, DefaultLimits())
		if err != nil {
			t.Fatalf("%s without section headers: %v", file, err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s without section headers (-with +without):\n%s", file, diff)
		}
	}
}

// TestSniff checks Sniff on fixtures' heads and on near misses.
func TestSniff(t *testing.T) {
	mz := make([]byte, 0x80)
	copy(mz, "MZ")
	binary.LittleEndian.PutUint32(mz[0x3c:], 0x40)
	copy(mz[0x40:], "PE\x00\x00")
	for _, tc := range []struct {
		head []byte
		want string
	}{
		{[]byte("\x7fELF\x02\x01\x01"), "elf"},
		{mz, "pe"},
		{mz[:0x42], ""}, // signature beyond head
		{[]byte("MZ"), ""},
		{[]byte("PK\x03\x04"), "zip"},
		{[]byte("PK\x05\x06"), ""},
		{[]byte("dex\n035\x00"), "dex"},
		{[]byte("dex\n041\x00"), "dex"},
		{[]byte("dex\n03x\x00"), ""},
		{[]byte("dex\n035"), ""},
		{nil, ""},
		{[]byte("#!/bin/sh\n"), ""},
	} {
		if got := Sniff(tc.head); got != tc.want {
			t.Errorf("Sniff(%q) = %q, want %q", tc.head, got, tc.want)
		}
	}
}

// TestUnsupported checks that files of no supported format yield no facts
// and no error.
func TestUnsupported(t *testing.T) {
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("hello, world\n"),
		"plain zip": buildZip(t, [2]string{"README.txt", "hello"}, [2]string{"lib/libacmeav.so", "x"}),
		"MZ no PE":  append([]byte("MZ"), make([]byte, 200)...),
	} {
		facts, err := readBytes(data, DefaultLimits())
		if facts != nil || err != nil {
			t.Errorf("%s: Read = %+v, %v; want nil, nil", name, facts, err)
		}
	}
}

// TestNestedArchives checks that classes are read from jars inside an
// archive (an aar's classes.jar) and that an aar counts as an apk.
func TestNestedArchives(t *testing.T) {
	jar := readFixture(t, "scanner.jar")
	aar := buildZip(t,
		[2]string{"AndroidManifest.xml", "manifest"},
		[2]string{"classes.jar", string(jar)},
		[2]string{"libs/inner.jar", string(buildZip(t, [2]string{"com/example/deep/Inner.class", "\xca\xfe\xba\xbe"}))},
	)
	facts, err := readBytes(aar, DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"com.example.deep.Inner", "com.example.scan.Scanner", "com.example.scan.Scanner$Result",
		"com.kavsdk.antivirus.AvObjectScanner",
	}
	if facts.Format != "apk" || !slices.Equal(facts.Classes, want) {
		t.Errorf("aar: format %q, classes %q; want apk, %q", facts.Format, facts.Classes, want)
	}
	// A plain zip around a jar is reported as a jar: its classes are the
	// evidence.
	facts, err = readBytes(buildZip(t, [2]string{"sdk/libs/av.jar", string(jar)}), DefaultLimits())
	if err != nil || facts == nil || facts.Format != "jar" || len(facts.Classes) != 3 {
		t.Errorf("zip around a jar: %+v, %v", facts, err)
	}
}

// TestClassFromPath covers the class names derived from entry paths.
func TestClassFromPath(t *testing.T) {
	for in, want := range map[string]string{
		"com/example/Foo.class":                          "com.example.Foo",
		"com/example/Foo$1.class":                        "com.example.Foo$1",
		"META-INF/versions/11/com/example/Foo.class":     "com.example.Foo",
		"BOOT-INF/classes/com/example/App.class":         "com.example.App",
		"WEB-INF/classes/com/example/Servlet.class":      "com.example.Servlet",
		"module-info.class":                              "",
		"com/example/package-info.class":                 "",
		"com/../Foo.class":                               "",
		"com//Foo.class":                                 "",
		"com/example/Foo.bar.class":                      "",
		"Top.class":                                      "Top",
		"META-INF/versions/9/module-info.class":          "",
		"com\\example\\Foo.class":                        "",
		strings.Repeat("a/", maxNameBytes) + "Foo.class": "",
	} {
		if got := classFromPath(in); got != want {
			t.Errorf("classFromPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// panicReader is an io.ReaderAt that panics after a number of reads.
type panicReader struct {
	data  []byte
	reads int
}

// ReadAt implements io.ReaderAt.
func (p *panicReader) ReadAt(b []byte, off int64) (int, error) {
	if p.reads--; p.reads < 0 {
		panic("reader exploded")
	}
	return bytes.NewReader(p.data).ReadAt(b, off)
}

// TestPanicBecomesError checks the last-resort recover: a panic while
// reading becomes an *InternalError, whichever read it strikes.
func TestPanicBecomesError(t *testing.T) {
	for _, fx := range fixtures {
		data := readFixture(t, fx.file)
		for reads := 0; reads < 2; reads++ { // a dex file takes two reads
			facts, err := Read(&panicReader{data: data, reads: reads}, int64(len(data)), DefaultLimits())
			var ie *InternalError
			if facts != nil || !errors.As(err, &ie) || ie.Value != "reader exploded" || len(ie.Stack) == 0 {
				t.Errorf("%s, panic at read %d: Read = %v, %v; want an *InternalError", fx.file, reads, facts, err)
			}
		}
	}
}

// TestDeterministic reads every fixture twice, the second time through a
// fresh copy, and expects equal facts.
func TestDeterministic(t *testing.T) {
	for _, fx := range fixtures {
		data := readFixture(t, fx.file)
		a, errA := readBytes(data, DefaultLimits())
		b, errB := readBytes(slices.Clone(data), DefaultLimits())
		if errA != nil || errB != nil {
			t.Fatalf("%s: %v, %v", fx.file, errA, errB)
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("%s: two reads differ:\n%s", fx.file, diff)
		}
	}
}

// TestCorrupted cuts every fixture at many offsets and flips bytes at many
// places: Read must return facts or an error, quickly, and never panic.
func TestCorrupted(t *testing.T) {
	small := Limits{MaxSymbols: 5, MaxClasses: 5, MaxSectionBytes: 4 << 10}
	for _, fx := range fixtures {
		data := readFixture(t, fx.file)
		rng := rand.New(rand.NewPCG(1, uint64(len(data))))
		var inputs [][]byte
		for cut := 0; cut < len(data); cut += max(1, min(13, len(data)/400)) {
			inputs = append(inputs, data[:cut])
		}
		for range 400 {
			c := slices.Clone(data)
			for range 1 + rng.IntN(4) {
				i := rng.IntN(len(c))
				switch rng.IntN(3) {
				case 0:
					c[i] ^= 0xff
				case 1:
					c[i] = byte(rng.IntN(256))
				default:
					// A large little-endian value where a size or count may be.
					binary.LittleEndian.PutUint32(c[min(i&^3, len(c)-4):], 0xfffffff0>>(rng.IntN(4)*8))
				}
			}
			inputs = append(inputs, c)
		}
		for _, in := range inputs {
			for _, lim := range []Limits{DefaultLimits(), small} {
				start := time.Now()
				facts, err := readBytes(in, lim)
				if d := time.Since(start); d > 2*time.Second {
					t.Errorf("%s (%d bytes): Read took %v", fx.file, len(in), d)
				}
				var ie *InternalError
				if errors.As(err, &ie) {
					t.Fatalf("%s (%d bytes): %v\n%s", fx.file, len(in), ie, ie.Stack)
				}
				if facts != nil {
					checkInvariants(t, facts, lim)
				}
			}
		}
	}
}

// allocated returns how many bytes fn allocates.
func allocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// elfSectionHeader returns the offset of the header of the first section
// of type typ in a 64-bit little-endian ELF file.
func elfSectionHeader(t *testing.T, data []byte, typ elf.SectionType) int {
	t.Helper()
	shoff := int(binary.LittleEndian.Uint64(data[40:]))
	shnum := int(binary.LittleEndian.Uint16(data[60:]))
	for i := range shnum {
		h := shoff + 64*i
		if elf.SectionType(binary.LittleEndian.Uint32(data[h+4:])) == typ {
			return h
		}
	}
	t.Fatalf("no section of type %v", typ)
	return 0
}

// TestLimits checks that hostile sizes and counts cost no more memory than
// the limits allow, and that hitting a limit marks the facts truncated.
func TestLimits(t *testing.T) {
	lib := readFixture(t, "libacmeav.so")

	t.Run("ELF section claims 1 TiB", func(t *testing.T) {
		for _, typ := range []elf.SectionType{elf.SHT_DYNSYM, elf.SHT_DYNAMIC, elf.SHT_STRTAB} {
			c := slices.Clone(lib)
			binary.LittleEndian.PutUint64(c[elfSectionHeader(t, c, typ)+32:], 1<<40)
			var facts *Facts
			var err error
			if n := allocated(func() { facts, err = readBytes(c, DefaultLimits()) }); n > 1<<20 {
				t.Errorf("%v: Read allocated %d bytes", typ, n)
			}
			if err == nil || facts == nil || !facts.Truncated {
				t.Errorf("%v: Read = %+v, %v; want truncated facts and an error", typ, facts, err)
			}
		}
	})

	t.Run("ELF section over MaxSectionBytes", func(t *testing.T) {
		lim := Limits{MaxSectionBytes: 256}
		facts, err := readBytes(lib, lim)
		if err != nil || facts == nil || !facts.Truncated {
			t.Errorf("Read = %+v, %v; want truncated facts", facts, err)
		}
	})

	t.Run("ELF section header count", func(t *testing.T) {
		c := slices.Clone(lib)
		binary.LittleEndian.PutUint16(c[60:], 0) // e_shnum 0: count in section 0
		binary.LittleEndian.PutUint64(c[int(binary.LittleEndian.Uint64(c[40:]))+32:], 1<<62)
		if n := allocated(func() { _, _ = readBytes(c, DefaultLimits()) }); n > 1<<20 {
			t.Errorf("Read allocated %d bytes", n)
		}
	})

	t.Run("MaxSymbols", func(t *testing.T) {
		for _, file := range []string{"libacmeav.so", "scanner.elf", "acmeav.dll", "scanner.exe", "scanner-signed.exe"} {
			facts, err := readBytes(readFixture(t, file), Limits{MaxSymbols: 1})
			if err != nil || !facts.Truncated {
				t.Errorf("%s: Read = %+v, %v; want truncated facts", file, facts, err)
				continue
			}
			checkInvariants(t, facts, Limits{MaxSymbols: 1, MaxClasses: 1 << 30, MaxSectionBytes: 1 << 30})
		}
	})

	t.Run("MaxClasses", func(t *testing.T) {
		for _, file := range []string{"scanner.jar", "classes.dex", "app.apk"} {
			facts, err := readBytes(readFixture(t, file), Limits{MaxClasses: 1})
			if err != nil || !facts.Truncated || len(facts.Classes) != 1 {
				t.Errorf("%s: Read = %+v, %v; want one class, truncated", file, facts, err)
			}
		}
	})

	t.Run("PE section claims 4 GiB", func(t *testing.T) {
		c := slices.Clone(readFixture(t, "acmeav.dll"))
		peOff := int(binary.LittleEndian.Uint32(c[0x3c:]))
		nsec := int(binary.LittleEndian.Uint16(c[peOff+6:]))
		sections := peOff + 24 + int(binary.LittleEndian.Uint16(c[peOff+20:]))
		for i := range nsec {
			binary.LittleEndian.PutUint32(c[sections+40*i+16:], 0xfffffff0) // SizeOfRawData
			binary.LittleEndian.PutUint32(c[sections+40*i+8:], 0xfffffff0)  // VirtualSize
		}
		if n := allocated(func() { _, _ = readBytes(c, Limits{MaxSectionBytes: 4 << 10}) }); n > 1<<20 {
			t.Errorf("Read allocated %d bytes", n)
		}
	})

	t.Run("dex table counts", func(t *testing.T) {
		c := slices.Clone(readFixture(t, "classes.dex"))
		binary.LittleEndian.PutUint32(c[0x38:], 0xfffffff0)
		binary.LittleEndian.PutUint32(c[0x40:], 0xfffffff0)
		var err error
		if n := allocated(func() { _, err = readBytes(c, DefaultLimits()) }); n > 1<<20 {
			t.Errorf("Read allocated %d bytes", n)
		}
		if err == nil {
			t.Error("Read: no error")
		}
	})

	t.Run("zip entry over MaxSectionBytes", func(t *testing.T) {
		big := buildZip(t, [2]string{"AndroidManifest.xml", "m"},
			[2]string{"classes.dex", string(buildDex([]string{"Lcom/example/A;"})) + strings.Repeat("\x00", 1<<20)})
		facts, err := readBytes(big, Limits{MaxSectionBytes: 64 << 10})
		if err != nil || facts == nil || !facts.Truncated || facts.Format != "apk" {
			t.Errorf("Read = %+v, %v; want truncated apk facts", facts, err)
		}
	})
}

// checkInvariants checks what every Facts promises: sorted lists without
// duplicates or empty strings, within the limits.
func checkInvariants(t *testing.T, f *Facts, lim Limits) {
	t.Helper()
	lim = lim.withDefaults()
	for name, list := range map[string][]string{"Needed": f.Needed, "Exports": f.Exports, "Imports": f.Imports, "Classes": f.Classes} {
		if list != nil && len(list) == 0 {
			t.Errorf("%s: empty but not nil", name)
		}
		if !slices.IsSorted(list) || len(slices.Compact(slices.Clone(list))) != len(list) || slices.Contains(list, "") {
			t.Errorf("%s: not a sorted set: %q", name, list)
		}
		max := lim.MaxSymbols
		if name == "Classes" {
			max = lim.MaxClasses
		}
		if len(list) > max {
			t.Errorf("%s: %d entries, limit %d", name, len(list), max)
		}
	}
	if len(f.Signers) > lim.MaxSymbols+maxSignatureDepth*lim.MaxSymbols {
		t.Errorf("Signers: %d entries", len(f.Signers))
	}
	switch f.Format {
	case "elf", "pe", "jar", "apk", "dex":
	default:
		t.Errorf("Format %q", f.Format)
	}
}
