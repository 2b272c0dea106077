package firmware

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
)

const avcText = "AVP Antiviral Database. (c)Kaspersky Lab 1997-2015.\nbase001 fixture\n"

// unpackInto unpacks a fixture into a fresh directory below a parent it
// also returns, so tests can check nothing escaped into the parent.
func unpackInto(t *testing.T, path string, lim extract.Limits) (dst string, layers []string, gaps []extract.Gap, err error) {
	t.Helper()
	parent := t.TempDir()
	dst = filepath.Join(parent, "out")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Unpack(context.Background(), path, dst, lim)
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		if e.Name() != "out" {
			t.Errorf("unpacking %s left %q next to dst", path, e.Name())
		}
	}
	if res == nil {
		return dst, nil, nil, err
	}
	for _, g := range res.Gaps {
		gaps = append(gaps, extract.Gap{Path: g.Path, Reason: g.Reason})
	}
	tree := dst
	for _, r := range res.Roots {
		if !r.Raw {
			tree = r.Dir
			break
		}
	}
	return tree, res.Layers(), gaps, err
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Errorf("reading %s: %v", p, err)
	}
	return string(b)
}

// checkTree asserts the fixture tree from testdata/make.sh.
func checkTree(t *testing.T, dst string, hardlink bool) {
	t.Helper()
	want := map[string]string{
		"opt/netwarden/bases/base001.avc": avcText,
		"opt/netwarden/bin/appinfo.kli":   "KLI appinfo fixture\n",
		"etc/hostname":                    "netwarden\n",
		"usr/lib/sub/libfixture.so":       "library fixture\n",
	}
	if hardlink {
		want["opt/netwarden/bin/appinfo-link.kli"] = "KLI appinfo fixture\n"
	}
	for p, c := range want {
		if got := readFile(t, filepath.Join(dst, p)); got != c {
			t.Errorf("%s = %q, want %q", p, got, c)
		}
	}
	fi, err := os.Lstat(filepath.Join(dst, "lib"))
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("lib is not a symlink: %v %v", fi, err)
	}
	if target, _ := os.Readlink(filepath.Join(dst, "lib")); target != "usr/lib" {
		t.Errorf("lib -> %q, want usr/lib", target)
	}
}

func TestFixtures(t *testing.T) {
	cases := []struct {
		file   string
		layers []string
	}{
		{"rootfs-gzip.sqfs", []string{"squashfs"}},
		{"rootfs-xz.sqfs", []string{"squashfs"}},
		{"rootfs-xzbcj.sqfs", []string{"squashfs"}},
		{"rootfs-zstd.sqfs", []string{"squashfs"}},
		{"rootfs-lzo.sqfs", []string{"squashfs"}},
		{"rootfs-lz4.sqfs", []string{"squashfs"}},
		{"initrd-newc.cpio", []string{"cpio"}},
		{"initrd-crc.cpio", []string{"cpio"}},
		{"initrd-odc.cpio", []string{"cpio"}},
		{"initrd.cpio.gz", []string{"gzip", "cpio"}},
		{"initrd.cpio.xz", []string{"xz", "cpio"}},
		{"uinitrd.img", []string{"uimage", "gzip", "cpio"}},
		{"rootfs.tar.zst", []string{"zstd", "tar"}},
		{"rootfs.tar.lz4", []string{"lz4", "tar"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			dst, layers, gaps, err := unpackInto(t, filepath.Join("testdata", c.file), extract.DefaultLimits())
			if err != nil {
				t.Fatal(err)
			}
			if len(gaps) > 0 {
				t.Errorf("gaps: %v", gaps)
			}
			if !reflect.DeepEqual(layers, c.layers) {
				t.Errorf("layers = %v, want %v", layers, c.layers)
			}
			checkTree(t, dst, true)
		})
	}
}

func TestDetectFixtures(t *testing.T) {
	want := map[string]string{
		"rootfs-gzip.sqfs": "squashfs", "initrd-newc.cpio": "cpio", "initrd-crc.cpio": "cpio",
		"initrd-odc.cpio": "cpio", "initrd.cpio.gz": "gzip", "initrd.cpio.xz": "xz",
		"uinitrd.img": "uimage", "rootfs.tar.zst": "zstd", "rootfs.tar.lz4": "lz4", "make.sh": "",
	}
	for f, w := range want {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if got := Detect(b); got != w {
			t.Errorf("Detect(%s) = %q, want %q", f, got, w)
		}
	}
	if got := Detect([]byte("BZh91AY&SY")); got != "bzip2" {
		t.Errorf("bzip2: %q", got)
	}
	lzma := []byte{0x5d, 0, 0, 0x80, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0}
	if got := Detect(lzma); got != "lzma" {
		t.Errorf("lzma: %q", got)
	}
	if got := Detect(bytes.Repeat([]byte{0x5d}, 20)); got != "" {
		t.Errorf("insane lzma header detected as %q", got)
	}
}

func hasGap(gaps []extract.Gap, substr string) bool {
	for _, g := range gaps {
		if strings.Contains(g.Reason, substr) {
			return true
		}
	}
	return false
}
