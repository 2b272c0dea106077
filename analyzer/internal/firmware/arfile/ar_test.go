package arfile

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// manifestEntry is one "name size sha256" line written by make.sh.
type manifestEntry struct {
	name string
	size int64
	sum  string
}

func readManifest(t *testing.T, path string) []manifestEntry {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var m []manifestEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 3 {
			t.Fatalf("%s: bad line %q", path, sc.Text())
		}
		n, err := strconv.ParseInt(fs[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		m = append(m, manifestEntry{fs[0], n, fs[2]})
	}
	return m
}

func sum(r io.ReaderAt, p Part) string {
	h := sha256.New()
	io.Copy(h, io.NewSectionReader(r, p.Offset, p.Size))
	return hex.EncodeToString(h.Sum(nil))
}

func TestFixtures(t *testing.T) {
	wantComp := map[string][2]string{
		"control.tar.xz": {"tar", "xz"}, "data.tar.xz": {"tar", "xz"},
		"control.tar.gz": {"tar", "gzip"}, "data.tar.gz": {"tar", "gzip"},
		"debian-binary": {"", ""}, "odd": {"", ""},
	}
	manifests, _ := filepath.Glob("testdata/*.manifest")
	if len(manifests) != 4 {
		t.Fatalf("found %d manifests, want 4; run testdata/make.sh", len(manifests))
	}
	for _, mf := range manifests {
		t.Run(filepath.Base(mf), func(t *testing.T) {
			want := readManifest(t, mf)
			b, err := os.ReadFile(strings.TrimSuffix(mf, ".manifest"))
			if err != nil {
				t.Fatal(err)
			}
			if !Is(b) {
				t.Error("Is = false")
			}
			r := bytes.NewReader(b)
			parts, err := Parts(r, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) != len(want) {
				t.Fatalf("got %d parts %v, want %d", len(parts), parts, len(want))
			}
			for i, p := range parts {
				w := want[i]
				if p.Name != w.name || p.Size != w.size || sum(r, p) != w.sum {
					t.Errorf("part %d = %+v (sha256 %s), want %+v", i, p, sum(r, p), w)
				}
				if c, ok := wantComp[p.Name]; ok && (p.Type != c[0] || p.Compression != c[1]) {
					t.Errorf("%s: type %q compression %q, want %q %q", p.Name, p.Type, p.Compression, c[0], c[1])
				}
			}
		})
	}
}

// member formats one ar member with a GNU/BSD raw name field.
func member(name string, data []byte) []byte {
	h := fmt.Sprintf("%-16s%-12d%-6d%-6d%-8s%-10d`\n", name, 0, 0, 0, "644", len(data))
	b := append([]byte(h), data...)
	if len(data)%2 == 1 {
		b = append(b, '\n')
	}
	return b
}

func archive(members ...[]byte) []byte {
	return append([]byte(magic), bytes.Join(members, nil)...)
}

func TestNames(t *testing.T) {
	table := []byte("first_long_name.tar.zst/\nsecond/\n")
	b := archive(
		member("/", []byte{0, 0, 0, 0}),
		member("//", table),
		member("/0", []byte("one")),
		member("/25", []byte("two")),
		member("#1/12", []byte("bsd.tar\x00\x00\x00\x00\x00rest")),
		member("plain.tar/", []byte("x")),
		member("__.SYMDEF", []byte("sym")),
	)
	parts, err := Parts(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	want := []Part{
		{Name: "first_long_name.tar.zst", Size: 3, Type: "tar", Compression: "zstd"},
		{Name: "second", Size: 3},
		{Name: "bsd.tar", Size: 4, Type: "tar", Compression: "none"},
		{Name: "plain.tar", Size: 1, Type: "tar", Compression: "none"},
	}
	if len(parts) != len(want) {
		t.Fatalf("parts = %+v", parts)
	}
	for i, p := range parts {
		w := want[i]
		w.Offset = p.Offset
		if p != w {
			t.Errorf("part %d = %+v, want %+v", i, p, w)
		}
	}
	if got := string(b[parts[2].Offset : parts[2].Offset+parts[2].Size]); got != "rest" {
		t.Errorf("BSD member data = %q", got)
	}
}

func TestBadInputs(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    []byte
		n    int // parts still listed
	}{
		{"thin", []byte("!<thin>\n"), 0},
		{"magic", []byte("!<arch>X"), 0},
		{"short", []byte("!<ar"), 0},
		{"terminator", append(archive(member("a", []byte("1"))), []byte("b               0           0     0     644     1         XX1")...), 1},
		{"size", archive([]byte("a               0           0     0     644     1x        `\n")), 0},
		{"ref without table", archive(member("/0", []byte("1"))), 0},
		{"ref out of table", archive(member("//", []byte("ab/\n")), member("/9", []byte("1"))), 0},
		{"bsd name too long", archive(member("#1/9", []byte("abc"))), 0},
		{"nul in name", archive(member("a\x00b", []byte("1"))), 0},
		{"two tables", archive(member("//", []byte("a/\n")), member("//", []byte("a/\n"))), 0},
		{"truncated symbol table", archive(member("/", []byte("1234")))[:70], 0},
		{"truncated header", append(archive(member("a", []byte("1"))), "b    "...), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parts, err := Parts(bytes.NewReader(tc.b), int64(len(tc.b)))
			if err == nil {
				t.Errorf("no error; parts %+v", parts)
			}
			if len(parts) != tc.n {
				t.Errorf("got %d parts, want %d (%v)", len(parts), tc.n, err)
			}
		})
	}
	// Trailing newlines are padding, not a truncated header.
	b := append(archive(member("a", []byte("12"))), '\n')
	if parts, err := Parts(bytes.NewReader(b), int64(len(b))); err != nil || len(parts) != 1 {
		t.Errorf("trailing newline: %v %v", parts, err)
	}
}

func TestClipped(t *testing.T) {
	b := archive(member("a", []byte("hello")), member("b", []byte("world!")))
	b = b[:len(b)-3]
	parts, err := Parts(bytes.NewReader(b), int64(len(b)))
	if err == nil || len(parts) != 2 || parts[1].Size != 3 {
		t.Fatalf("parts %+v, err %v", parts, err)
	}
}

func TestTooManyParts(t *testing.T) {
	m := member("x", nil)
	b := archive(bytes.Repeat(m, MaxParts+1))
	parts, err := Parts(bytes.NewReader(b), int64(len(b)))
	if !errors.Is(err, ErrTooManyParts) || len(parts) != MaxParts {
		t.Fatalf("%d parts, err %v", len(parts), err)
	}
}

func TestRefusesOtherData(t *testing.T) {
	imgtest.RefusesForeign(t, Is, Parts, []byte("!<arch"), bytes.Repeat([]byte{0}, 100))
}

// checkBounds runs Parts and checks every part lies inside the input.
func checkBounds(t *testing.T, b []byte) {
	t.Helper()
	parts, _ := Parts(bytes.NewReader(b), int64(len(b)))
	if len(parts) > MaxParts {
		t.Fatalf("%d parts", len(parts))
	}
	for _, p := range parts {
		if p.Offset < 0 || p.Size < 0 || p.Offset+p.Size > int64(len(b)) {
			t.Fatalf("part %+v outside input of %d bytes", p, len(b))
		}
	}
}

func TestHostile(t *testing.T) {
	files, _ := filepath.Glob("testdata/*[ab]")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n <= len(b); n += 1 + n/64 {
			checkBounds(t, b[:n])
		}
		rng := rand.New(rand.NewSource(2))
		c := make([]byte, len(b))
		for i := 0; i < 2000; i++ {
			copy(c, b)
			c[rng.Intn(len(c))] ^= byte(1 + rng.Intn(255))
			checkBounds(t, c)
		}
		// Every byte of the first headers.
		for i := 0; i < min(len(b), 400); i++ {
			copy(c, b)
			c[i] ^= 0xff
			checkBounds(t, c)
		}
	}
}
