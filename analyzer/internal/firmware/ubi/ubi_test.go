package ubi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
)

// fixture returns the gunzipped testdata/name.gz.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	f, err := os.Open("testdata/" + name + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func open(t testing.TB, b []byte) *Image {
	t.Helper()
	im, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// content reads a volume whole.
func content(t testing.TB, v Volume) []byte {
	t.Helper()
	b := make([]byte, v.Size())
	if n, err := v.ReaderAt().ReadAt(b, 0); err != nil || n != len(b) {
		t.Fatalf("volume %q: read %d of %d: %v", v.Name, n, len(b), err)
	}
	return b
}

func volume(t testing.TB, im *Image, name string) Volume {
	t.Helper()
	for _, v := range im.Volumes() {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %q", name)
	return Volume{}
}

// TestVolumes checks every volume of the fixtures against
// testdata/volumes.manifest: name, ID, type, LEB size, size and content
// (the data the volume was made from, then erased flash).
func TestVolumes(t *testing.T) {
	f, err := os.Open("testdata/volumes.manifest")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	images := map[string]*Image{}
	pebSize := map[string]int64{"rootfs.ubi": 128 << 10, "small.ubi": 16 << 10}
	count := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// image id name type lebsize size sha256
		fl := strings.Fields(sc.Text())
		img, name, typ := fl[0], fl[2], fl[3]
		id, _ := strconv.Atoi(fl[1])
		lebSize, _ := strconv.ParseInt(fl[4], 10, 64)
		size, _ := strconv.ParseInt(fl[5], 10, 64)
		im := images[img]
		if im == nil {
			im = open(t, fixture(t, img))
			images[img] = im
			if im.PEBSize() != pebSize[img] || im.BadPEBs != 0 || len(im.Problems) != 0 {
				t.Errorf("%s: PEB size %d, %d bad PEBs, problems %q", img, im.PEBSize(), im.BadPEBs, im.Problems)
			}
		}
		count[img]++
		v := volume(t, im, name)
		if int(v.ID) != id || v.Type.String() != typ || v.LEBSize != lebSize {
			t.Errorf("%s %s: id %d type %s LEB size %d, want %d %s %d", img, name, v.ID, v.Type, v.LEBSize, id, typ, lebSize)
		}
		b := content(t, v)
		if v.Type == Static && v.Size() != size {
			t.Errorf("%s %s: size %d, want %d", img, name, v.Size(), size)
		}
		if v.Type == Dynamic && (v.Size() != v.LEBs*v.LEBSize || v.Size() < size) {
			t.Errorf("%s %s: size %d (%d LEBs), want ≥ %d", img, name, v.Size(), v.LEBs, size)
		}
		sum := sha256.Sum256(b[:min(size, int64(len(b)))])
		if hex.EncodeToString(sum[:]) != fl[6] {
			t.Errorf("%s %s: content differs", img, name)
		}
		if bytes.Count(b[size:], []byte{0xff}) != len(b)-int(size) {
			t.Errorf("%s %s: not erased after the data", img, name)
		}
	}
	for img, im := range images {
		if len(im.Volumes()) != count[img] {
			t.Errorf("%s: %d volumes, want %d", img, len(im.Volumes()), count[img])
		}
	}
	small := images["small.ubi"]
	if v := volume(t, small, "data"); v.LEBs != 3 || v.Mapped != 3 {
		t.Errorf("small.ubi data: %d LEBs, %d mapped, want 3", v.LEBs, v.Mapped)
	}
	if v := volume(t, small, "config"); v.LEBs != 3 || v.Mapped != 1 {
		t.Errorf("small.ubi config: %d LEBs, %d mapped, want 3 and 1", v.LEBs, v.Mapped)
	}
}

// findPEB returns the PEB index holding (vol, lnum).
func findPEB(t *testing.T, b []byte, pebSize int, vol, lnum uint32) int {
	t.Helper()
	vidOff := int(binary.BigEndian.Uint32(b[16:20]))
	for i := 0; i*pebSize < len(b); i++ {
		h := b[i*pebSize+vidOff:]
		if string(h[:4]) == vidMagic && binary.BigEndian.Uint32(h[8:12]) == vol && binary.BigEndian.Uint32(h[12:16]) == lnum {
			return i
		}
	}
	t.Fatalf("no PEB for volume %d LEB %d", vol, lnum)
	return 0
}

func resealVID(b []byte) { binary.BigEndian.PutUint32(b[60:64], ubiCRC(b[:60])) }

// TestNewestCopyWins appends a second copy of a LEB with a higher sqnum
// and checks that it replaces the first, unless it is a wear-levelling
// copy whose data CRC is wrong.
func TestNewestCopyWins(t *testing.T) {
	orig := fixture(t, "small.ubi")
	const peb = 16 << 10
	i := findPEB(t, orig, peb, 3, 0)
	dataOff := int(binary.BigEndian.Uint32(orig[20:24]))
	vidOff := int(binary.BigEndian.Uint32(orig[16:20]))
	for _, tc := range []struct {
		name     string
		copyFlag byte
		goodCRC  bool
		want     byte
	}{
		{"newer", 0, false, 'N'},
		{"copy with good CRC", 1, true, 'N'},
		{"copy with bad CRC", 1, false, orig[i*peb+dataOff]},
	} {
		b := append(bytes.Clone(orig), orig[i*peb:(i+1)*peb]...)
		newer := b[len(orig):]
		for j := dataOff; j < dataOff+3000; j++ {
			newer[j] = 'N'
		}
		vid := newer[vidOff:]
		binary.BigEndian.PutUint64(vid[40:48], binary.BigEndian.Uint64(vid[40:48])+100)
		vid[6] = tc.copyFlag
		binary.BigEndian.PutUint32(vid[20:24], 3000)
		if tc.goodCRC {
			binary.BigEndian.PutUint32(vid[32:36], ubiCRC(newer[dataOff:dataOff+3000]))
		}
		resealVID(vid)
		v := volume(t, open(t, b), "config")
		if got := content(t, v)[0]; got != tc.want {
			t.Errorf("%s: first byte %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestBadPEB corrupts the headers of the PEBs of a static volume's LEBs:
// Open still succeeds, counts them, and the LEBs read as erased flash.
func TestBadPEB(t *testing.T) {
	const peb = 16 << 10
	for _, tc := range []struct {
		name string
		at   func(b []byte, i int) []byte // the byte to corrupt
	}{
		{"EC header", func(b []byte, i int) []byte { return b[i*peb+10:] }},
		{"VID header", func(b []byte, i int) []byte { return b[i*peb+int(binary.BigEndian.Uint32(b[16:20]))+14:] }},
	} {
		b := fixture(t, "small.ubi")
		i := findPEB(t, b, peb, 0, 1)
		tc.at(b, i)[0] ^= 0x40
		im := open(t, b)
		v := volume(t, im, "data")
		if im.BadPEBs != 1 || len(im.Problems) != 1 || v.Mapped != 2 || v.LEBs != 3 {
			t.Fatalf("%s: %d bad PEBs, problems %q, %d of %d LEBs mapped", tc.name, im.BadPEBs, im.Problems, v.Mapped, v.LEBs)
		}
		c := content(t, v)
		if bytes.Count(c[v.LEBSize:2*v.LEBSize], []byte{0xff}) != int(v.LEBSize) {
			t.Errorf("%s: missing LEB does not read as 0xff", tc.name)
		}
	}
}

// eofReader returns io.EOF with a read that reaches the end of the data,
// as io.ReaderAt allows.
type eofReader struct{ b []byte }

func (r eofReader) ReadAt(p []byte, off int64) (int, error) {
	n, err := bytes.NewReader(r.b).ReadAt(p, off)
	if err == nil && off+int64(n) == int64(len(r.b)) {
		err = io.EOF
	}
	return n, err
}

// TestEOFAtEnd reads the fixture through a reader that reports io.EOF
// with the last bytes.
func TestEOFAtEnd(t *testing.T) {
	b := fixture(t, "small.ubi")
	im, err := Open(eofReader{b}, int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if im.BadPEBs != 0 || len(im.Problems) != 0 {
		t.Errorf("%d bad PEBs, problems %q", im.BadPEBs, im.Problems)
	}
	for _, v := range im.Volumes() {
		content(t, v)
	}
}

// TestNotUBI checks that Open refuses other data.
func TestNotUBI(t *testing.T) {
	rnd := make([]byte, 1<<20)
	for i := range rnd {
		rnd[i] = byte(rand.Uint32())
	}
	ff := bytes.Repeat([]byte{0xff}, 256<<10)
	badCRC := fixture(t, "small.ubi")
	badCRC[5] ^= 1
	for name, b := range map[string][]byte{
		"empty": nil, "random": rnd, "erased": ff, "zeros": make([]byte, 256<<10),
		"bad EC CRC": badCRC, "short": []byte("UBI#"),
	} {
		if _, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// readAll reads every mapped LEB of every volume and the end of each
// volume; errors are fine, panics and hangs are not.
func readAll(im *Image) {
	for _, v := range im.Volumes() {
		r := v.ReaderAt()
		buf := make([]byte, v.LEBSize+10)
		for lnum := range v.lebs {
			_, _ = r.ReadAt(buf, int64(lnum)*v.LEBSize-5)
		}
		_, _ = r.ReadAt(buf[:100], v.Size()-50)
	}
}

// TestHostile truncates the fixtures at many offsets and flips bytes all
// over them: Open and reading must never panic.
func TestHostile(t *testing.T) {
	for _, name := range []string{"small.ubi", "rootfs.ubi"} {
		orig := fixture(t, name)
		step := max(len(orig)/200, 1)
		for n := 0; n < len(orig); n += step {
			if im, err := Open(bytes.NewReader(orig[:n]), int64(n)); err == nil {
				readAll(im)
			}
		}
		rng := rand.New(rand.NewPCG(1, 2))
		for range 300 {
			b := bytes.Clone(orig)
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] = byte(rng.Uint32())
			}
			if im, err := Open(bytes.NewReader(b), int64(len(b))); err == nil {
				readAll(im)
			}
		}
	}
}
