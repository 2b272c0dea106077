package rpmpkg

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/oemtrace/oemtrace/analyzer/internal/firmware/imgtest"
)

func readManifest(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		m[k] = v
	}
	return m
}

func decompress(t *testing.T, comp string, r io.Reader) io.Reader {
	t.Helper()
	var (
		d   io.Reader
		err error
	)
	switch comp {
	case "gzip":
		d, err = gzip.NewReader(r)
	case "zstd":
		var z *zstd.Decoder
		z, err = zstd.NewReader(r)
		if err == nil {
			t.Cleanup(z.Close)
		}
		d = z
	case "xz":
		d, err = xz.NewReader(r)
	default:
		t.Fatalf("no decompressor for %q", comp)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFixtures(t *testing.T) {
	manifests, _ := filepath.Glob("testdata/*.manifest")
	if len(manifests) != 3 {
		t.Fatalf("found %d manifests, want 3; run testdata/make.sh", len(manifests))
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
			p, err := Open(r, int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{
				"name": p.Name, "version": p.Version, "release": p.Release, "arch": p.Arch,
				"vendor": p.Vendor, "packager": p.Packager, "url": p.URL, "license": p.License,
				"summary": p.Summary, "payloadformat": p.PayloadFormat, "payloadcompressor": p.PayloadCompressor,
			}
			for k, v := range got {
				if want[k] != v {
					t.Errorf("%s = %q, want %q", k, v, want[k])
				}
			}
			pl := p.Payload
			if pl.Offset+pl.Size != int64(len(b)) || pl.Type != "cpio" || pl.Compression != want["payloadcompressor"] {
				t.Errorf("payload %+v", pl)
			}
			h := sha256.New()
			n, err := io.Copy(h, decompress(t, pl.Compression, io.NewSectionReader(r, pl.Offset, pl.Size)))
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%d %s", n, hex.EncodeToString(h.Sum(nil))); got != want["payload"] {
				t.Errorf("decompressed payload %s, want %s", got, want["payload"])
			}
		})
	}
}

// hdr builds a header structure holding the given string tags.
func hdr(tags map[uint32]string) []byte {
	be := binary.BigEndian
	var index, data []byte
	for _, tag := range []uint32{tagName, tagVersion, tagRelease, tagArch, tagPayloadCompressor, tagSummary} {
		v, ok := tags[tag]
		if !ok {
			continue
		}
		e := make([]byte, indexSize)
		be.PutUint32(e, tag)
		be.PutUint32(e[4:], typeString)
		if tag == tagSummary {
			be.PutUint32(e[4:], typeI18NString)
		}
		be.PutUint32(e[8:], uint32(len(data)))
		be.PutUint32(e[12:], 1)
		index = append(index, e...)
		data = append(append(data, v...), 0)
	}
	h := make([]byte, 16)
	copy(h, headerMagic)
	be.PutUint32(h[8:], uint32(len(index)/indexSize))
	be.PutUint32(h[12:], uint32(len(data)))
	return append(append(h, index...), data...)
}

// build returns an RPM of the given main header and payload, with an
// empty signature header (16 bytes, already aligned).
func build(main, payload []byte) []byte {
	lead := make([]byte, leadSize)
	copy(lead, leadMagic)
	lead[4] = 3
	binary.BigEndian.PutUint16(lead[78:], headerSigType)
	b := append(lead, hdr(nil)...)
	return append(append(b, main...), payload...)
}

func TestSynthetic(t *testing.T) {
	main := hdr(map[uint32]string{tagName: "n", tagVersion: "1", tagRelease: "2", tagArch: "noarch", tagSummary: "s"})
	b := build(main, []byte("\x1f\x8bpayload"))
	p, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "n" || p.Summary != "s" || p.Payload.Compression != "gzip" || p.Payload.Size != 9 {
		t.Errorf("%+v", p)
	}
	// An unknown compressor is reported as unknown.
	b = build(hdr(map[uint32]string{tagPayloadCompressor: "lzip"}), []byte("x"))
	if p, err := Open(bytes.NewReader(b), int64(len(b))); err != nil || p.Payload.Compression != "" {
		t.Errorf("lzip: %+v %v", p, err)
	}
}

func TestRefused(t *testing.T) {
	good := hdr(map[uint32]string{tagName: "n"})
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"no payload", build(good, nil)},
		{"truncated header", build(good, nil)[:leadSize+16+20]},
		{"short", []byte(leadMagic)},
		{"sig type", func() []byte { b := build(good, []byte("x")); b[79] = 1; return b }()},
		{"lead version", func() []byte { b := build(good, []byte("x")); b[4] = 2; return b }()},
		{"header magic", func() []byte { b := build(good, []byte("x")); b[leadSize+16] = 0; return b }()},
		{"index count", func() []byte {
			b := build(good, []byte("x"))
			binary.BigEndian.PutUint32(b[leadSize+16+8:], maxIndex+1)
			return b
		}()},
		{"data size", func() []byte {
			b := build(good, []byte("x"))
			binary.BigEndian.PutUint32(b[leadSize+16+12:], 1000)
			return b
		}()},
		{"tag offset", func() []byte {
			b := build(good, []byte("x"))
			binary.BigEndian.PutUint32(b[leadSize+16+16+8:], 50)
			return b
		}()},
		{"tag type", func() []byte {
			b := build(good, []byte("x"))
			binary.BigEndian.PutUint32(b[leadSize+16+16+4:], 4)
			return b
		}()},
		{"unterminated", func() []byte {
			m := hdr(map[uint32]string{tagName: "n"})
			m[len(m)-1] = 'x'
			return build(m, []byte("x"))
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := Open(bytes.NewReader(tc.b), int64(len(tc.b))); err == nil {
				t.Errorf("accepted: %+v", p)
			}
		})
	}
}

func TestRefusesOtherData(t *testing.T) {
	imgtest.RefusesForeign(t, Is, Open)
}

func checkBounds(t *testing.T, b []byte) {
	t.Helper()
	p, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	if pl := p.Payload; pl.Offset <= 0 || pl.Size <= 0 || pl.Offset+pl.Size != int64(len(b)) {
		t.Fatalf("payload %+v in %d bytes", pl, len(b))
	}
}

func TestHostile(t *testing.T) {
	b, err := os.ReadFile("testdata/fixture-gzip.rpm")
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n <= len(b); n += 1 + n/64 {
		checkBounds(t, b[:n])
	}
	p, _ := Open(bytes.NewReader(b), int64(len(b)))
	c := make([]byte, len(b))
	for i := 0; i < int(p.Payload.Offset); i++ { // every header byte
		copy(c, b)
		c[i] ^= 0xff
		checkBounds(t, c)
	}
	rng := rand.New(rand.NewSource(2))
	for range 5000 {
		copy(c, b)
		c[rng.Intn(int(p.Payload.Offset))] = byte(rng.Intn(256))
		checkBounds(t, c)
	}
}
