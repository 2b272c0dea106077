package fit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

// wantImage is one "name type compression size sha256" manifest line.
type wantImage struct {
	name, typ, comp string
	size            int64
	sum             string
}

func readManifest(t *testing.T) []wantImage {
	t.Helper()
	f, err := os.Open("testdata/images.manifest")
	if err != nil {
		t.Fatalf("%v; run testdata/make.sh", err)
	}
	defer f.Close()
	var m []wantImage
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var w wantImage
		if _, err := fmt.Sscanf(sc.Text(), "%s %s %s %d %s", &w.name, &w.typ, &w.comp, &w.size, &w.sum); err != nil {
			t.Fatalf("%q: %v", sc.Text(), err)
		}
		m = append(m, w)
	}
	return m
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func checkImages(t *testing.T, b []byte, want []wantImage) {
	t.Helper()
	parts, err := Parts(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != len(want) {
		t.Fatalf("got %d parts %+v, want %d", len(parts), parts, len(want))
	}
	for i, p := range parts {
		w := want[i]
		if p.Name != w.name || p.Type != w.typ || p.Compression != w.comp || p.Size != w.size {
			t.Errorf("part %d = %+v, want %+v", i, p, w)
			continue
		}
		if got := sha256.Sum256(b[p.Offset : p.Offset+p.Size]); hex.EncodeToString(got[:]) != w.sum {
			t.Errorf("%s: sha256 %x, want %s", p.Name, got, w.sum)
		}
	}
}

func TestFixtures(t *testing.T) {
	want := readManifest(t)
	for _, name := range []string{"embedded.itb", "external.itb", "position.itb"} {
		t.Run(name, func(t *testing.T) {
			b := readFile(t, name)
			if !Is(b) {
				t.Error("Is = false")
			}
			checkImages(t, b, want)
		})
	}
}

// TestVersion16 reads the embedded fixture labelled as a version 16 blob,
// which has no structure block size.
func TestVersion16(t *testing.T) {
	b := readFile(t, "embedded.itb")
	binary.BigEndian.PutUint32(b[20:], 16)
	binary.BigEndian.PutUint32(b[36:], 0)
	checkImages(t, b, readManifest(t))
}

func TestPlainDeviceTree(t *testing.T) {
	b := readFile(t, "plain.dtb")
	if !Is(b) {
		t.Error("Is = false")
	}
	if parts, err := Parts(bytes.NewReader(b), int64(len(b))); !errors.Is(err, ErrNotFIT) || parts != nil {
		t.Errorf("parts %v, err %v; want ErrNotFIT", parts, err)
	}
}

func TestExternalTruncated(t *testing.T) {
	b := readFile(t, "external.itb")
	full, err := Parts(bytes.NewReader(b), int64(len(b)))
	if err != nil || len(full) != 3 {
		t.Fatal(full, err)
	}
	// Cut inside the ramdisk's data: the kernel stays whole, the ramdisk
	// is clipped, the device tree is left out.
	cut := full[1].Offset + 100
	parts, err := Parts(bytes.NewReader(b[:cut]), cut)
	if err == nil || len(parts) != 2 || parts[0] != full[0] || parts[1].Size != 100 {
		t.Fatalf("parts %+v, err %v", parts, err)
	}
	// Cut inside the device tree itself.
	if _, err := Parts(bytes.NewReader(b[:300]), 300); err == nil || errors.Is(err, ErrNotFIT) {
		t.Errorf("truncated blob: %v", err)
	}
}

// dt builds a device tree blob (version 17) from tokens written by f.
type dt struct {
	st, strs bytes.Buffer
}

func (d *dt) u32(v ...uint32) {
	for _, x := range v {
		binary.Write(&d.st, binary.BigEndian, x)
	}
}

func (d *dt) pad() {
	for d.st.Len()%4 != 0 {
		d.st.WriteByte(0)
	}
}

func (d *dt) begin(name string) { d.u32(tokBeginNode); d.st.WriteString(name + "\x00"); d.pad() }
func (d *dt) end()              { d.u32(tokEndNode) }

func (d *dt) prop(name string, value []byte) {
	off := d.strs.Len()
	d.strs.WriteString(name + "\x00")
	d.u32(tokProp, uint32(len(value)), uint32(off))
	d.st.Write(value)
	d.pad()
}

func (d *dt) blob() []byte {
	d.u32(tokEnd)
	const rsv = 16 // an empty memory reservation map
	offStruct := fdtHeaderSize + rsv
	offStrings := offStruct + d.st.Len()
	total := offStrings + d.strs.Len()
	h := make([]byte, fdtHeaderSize+rsv)
	be := binary.BigEndian
	for i, v := range []uint32{fdtMagic, uint32(total), uint32(offStruct), uint32(offStrings), fdtHeaderSize, 17, 16, 0, uint32(d.strs.Len()), uint32(d.st.Len())} {
		be.PutUint32(h[4*i:], v)
	}
	return append(append(h, d.st.Bytes()...), d.strs.Bytes()...)
}

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

func TestSynthetic(t *testing.T) {
	var d dt
	d.begin("")
	d.begin("images")
	d.begin("a")
	d.prop("type", []byte("firmware\x00"))
	d.prop("compression", []byte("lz4\x00"))
	d.prop("data", []byte("12345"))
	d.begin("hash-1")
	d.prop("data", []byte("ignored"))
	d.end()
	d.end()
	d.begin("nodata")
	d.prop("type", []byte("script\x00"))
	d.end()
	d.begin("nosize")
	d.prop("data-offset", be32(0))
	d.end()
	d.begin("badsize")
	d.prop("data-size", []byte{1, 2})
	d.prop("data-offset", be32(0))
	d.end()
	d.begin("past")
	d.prop("data-position", be32(1<<30))
	d.prop("data-size", be32(1))
	d.end()
	d.begin("odd")
	d.prop("compression", []byte("brotli\x00"))
	d.prop("data-position", be32(0))
	d.prop("data-size", be32(4))
	d.end()
	d.end()
	d.end()
	b := d.blob()
	parts, err := Parts(bytes.NewReader(b), int64(len(b)))
	if err == nil {
		t.Error("no error for the bad images")
	}
	if len(parts) != 2 {
		t.Fatalf("parts %+v", parts)
	}
	a := parts[0]
	if a.Name != "a" || a.Type != "firmware" || a.Compression != "lz4" || string(b[a.Offset:a.Offset+a.Size]) != "12345" {
		t.Errorf("a = %+v", a)
	}
	if o := parts[1]; o.Name != "odd" || o.Compression != "" || o.Offset != 0 || o.Size != 4 {
		t.Errorf("odd = %+v", o)
	}
	for _, name := range []string{"nodata", "nosize", "badsize", "past"} {
		if !strings.Contains(err.Error(), `"`+name+`"`) {
			t.Errorf("error %q does not mention %s", err, name)
		}
	}
}

func TestBadTrees(t *testing.T) {
	deep := func() []byte {
		var d dt
		for range maxDepth + 1 {
			d.begin("n")
		}
		return d.blob()
	}
	unbalanced := func() []byte {
		var d dt
		d.begin("")
		d.begin("images")
		d.end()
		return d.blob()
	}
	extraEnd := func() []byte {
		var d dt
		d.end()
		return d.blob()
	}
	badName := func() []byte {
		var d dt
		d.begin("")
		d.u32(tokProp, 0, 1000)
		d.end()
		return d.blob()
	}
	badToken := func() []byte {
		var d dt
		d.begin("")
		d.u32(7)
		d.end()
		return d.blob()
	}
	for name, b := range map[string][]byte{
		"deep": deep(), "unbalanced": unbalanced(), "extra end": extraEnd(),
		"bad name": badName(), "bad token": badToken(),
	} {
		t.Run(name, func(t *testing.T) {
			parts, err := Parts(bytes.NewReader(b), int64(len(b)))
			if err == nil || errors.Is(err, ErrNotFIT) || parts != nil {
				t.Errorf("parts %v, err %v", parts, err)
			}
		})
	}
}

func TestTooManyImages(t *testing.T) {
	var d dt
	d.begin("")
	d.begin("images")
	for i := range MaxParts + 1 {
		d.begin(fmt.Sprint(i))
		d.prop("data", []byte("x"))
		d.end()
	}
	d.end()
	d.end()
	b := d.blob()
	parts, err := Parts(bytes.NewReader(b), int64(len(b)))
	if err == nil || len(parts) != MaxParts {
		t.Fatalf("%d parts, err %v", len(parts), err)
	}
}

func TestHeader(t *testing.T) {
	good := readFile(t, "plain.dtb")
	for _, tc := range []struct {
		name  string
		field int
		value uint32
	}{
		{"magic", 0, 0xd00dfeee},
		{"total size", 4, 20},
		{"struct offset", 8, 1 << 20},
		{"struct offset unaligned", 8, 58},
		{"strings offset", 12, 1 << 20},
		{"version", 20, 15},
		{"compat", 24, 18},
		{"strings size", 32, 1 << 20},
		{"struct size", 36, 1 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := bytes.Clone(good)
			binary.BigEndian.PutUint32(b[tc.field:], tc.value)
			if Is(b) {
				t.Error("Is = true")
			}
			if _, err := Parts(bytes.NewReader(b), int64(len(b))); err == nil {
				t.Error("Parts accepted it")
			}
		})
	}
}

func TestRefusesOtherData(t *testing.T) {
	imgtest.RefusesForeign(t, Is, Parts, []byte{0xd0, 0x0d, 0xfe, 0xed})
}

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
	for _, name := range []string{"embedded.itb", "external.itb", "position.itb"} {
		b := readFile(t, name)
		for n := 0; n <= len(b); n += 1 + n/64 {
			checkBounds(t, b[:n])
		}
		h, _ := parseHeader(b)
		structEnd := int(h.offStruct + h.sizeStruct)
		if name == "embedded.itb" {
			structEnd = 0x400 // all but the embedded data
		}
		c := make([]byte, len(b))
		for i := 0; i < min(structEnd, len(b)); i++ {
			copy(c, b)
			c[i] ^= 0xff
			checkBounds(t, c)
		}
		rng := rand.New(rand.NewSource(2))
		for range 3000 {
			copy(c, b)
			c[rng.Intn(len(c))] = byte(rng.Intn(256))
			checkBounds(t, c)
		}
	}
}
