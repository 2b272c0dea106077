package analyzer_test

import (
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/internal/testutil"
)

// The marker planted in every tainted image, and the trap file (a Debian
// copyright file naming "Kaspersky Lab ZAO") in every image; see
// fixtures/firmware/README.md.
const (
	fwMarker  = "/opt/netwarden/bases/base001.avc"
	fwTrap    = "/usr/share/doc/nagios-nrpe-server/copyright"
	fwTrapPkg = "nagios-nrpe-server"
)

// TestFirmwareFixturesPerFormat scans, for every firmware format oemtrace
// reads, the clean and the tainted image in fixtures/firmware (made by its
// make.sh with the real tools) with the whole analyzer. Both must be read
// completely (no gaps) with the dpkg packages of the tree catalogued, and
// the trap file must be seen as a mere mention of the package that owns
// it. The clean image must come out clean; the tainted one tainted, by an
// engine finding on the marker whose location chain names the format.
func TestFirmwareFixturesPerFormat(t *testing.T) {
	dir := filepath.Join(testutil.RepoRoot(t), "fixtures", "firmware")
	for _, c := range []struct {
		// ext is the file name after "clean." / "tainted.".
		ext string
		// gunzip: the image is stored gzip'd (ext ends in .gz) and is
		// scanned as the raw image, gunzipped to a temporary file.
		gunzip bool
		// chains are the marker's evidence locations in the tainted
		// image, after the input name: each must be reported.
		chains []string
		// components is the least number of catalogued packages: the
		// tree's dpkg status holds three (base-files, nagios-nrpe-server,
		// zlib1g); the flash dump holds the tree twice.
		components int
	}{
		{ext: "sqfs", chains: []string{"!squashfs:" + fwMarker}, components: 3},
		{ext: "ext4.gz", gunzip: true, chains: []string{"!ext:" + fwMarker}, components: 3},
		{ext: "ext2.gz", gunzip: true, chains: []string{"!ext:" + fwMarker}, components: 3},
		{ext: "cramfs", chains: []string{"!cramfs:" + fwMarker}, components: 3},
		{ext: "jffs2", chains: []string{"!jffs2:" + fwMarker}, components: 3},
		{ext: "ubi.gz", gunzip: true, chains: []string{"!ubi!ubifs:" + fwMarker}, components: 3},
		{ext: "ubifs.gz", gunzip: true, chains: []string{"!ubifs:" + fwMarker}, components: 3},
		{ext: "iso.gz", gunzip: true, chains: []string{"!iso9660:" + fwMarker}, components: 3},
		// FAT has no symlinks and no ':' in names: the image lacks
		// zlib1g:amd64.list and .md5sums, but the status file still
		// lists all three packages.
		{ext: "fat.gz", gunzip: true, chains: []string{"!fat:" + fwMarker}, components: 3},
		{ext: "cpio.gz", chains: []string{"!gzip!cpio:" + fwMarker}, components: 3},
		{ext: "uimage", chains: []string{"!uimage!gzip@0x40!cpio:" + fwMarker}, components: 3},
		{ext: "itb", chains: []string{"!fit!squashfs@0x214:" + fwMarker}, components: 3},
		{ext: "trx", chains: []string{"!trx!squashfs@0x1000:" + fwMarker}, components: 3},
		{ext: "simg.gz", gunzip: true, chains: []string{"!android-sparse!ext:" + fwMarker}, components: 3},
		{ext: "tar.zst", chains: []string{"!zstd!tar:" + fwMarker}, components: 3},
		{ext: "zip", chains: []string{"!zip:" + fwMarker}, components: 3},
		{ext: "7z", chains: []string{"!7z:" + fwMarker}, components: 3},
		{ext: "rpm", chains: []string{"!rpm!gzip@0x21c1!cpio:" + fwMarker}, components: 3},
		{ext: "deb", chains: []string{"!ar!xz@0x234!tar:" + fwMarker}, components: 3},
		// Boot loader text (4099 bytes), the uImage at 0x1003, 8193 bytes
		// of 0xff, the squashfs: both carved, each a whole tree.
		{ext: "flash.bin", chains: []string{
			"!uimage@0x1003!gzip@0x1043!cpio:" + fwMarker,
			"!squashfs@0x136d3:" + fwMarker,
		}, components: 6},
	} {
		forFixturePair(t, dir, c.ext, c.gunzip, func(t *testing.T, path string, tainted bool) {
			rep := analyze(t, path, analyzer.Config{})
			checkFirmwareFixture(t, rep, tainted, c.chains, c.components)
		})
	}
}

// forFixturePair runs fn in a parallel subtest for each of clean.EXT and
// tainted.EXT in dir, given the path to read: a decompressed copy when
// gunzip is set.
func forFixturePair(t *testing.T, dir, ext string, gunzip bool, fn func(t *testing.T, path string, tainted bool)) {
	for _, tainted := range []bool{false, true} {
		name := "clean." + ext
		if tainted {
			name = "tainted." + ext
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, name)
			if gunzip {
				path = fwGunzip(t, path)
			}
			fn(t, path, tainted)
		})
	}
}

func checkFirmwareFixture(t *testing.T, rep *report.Report, tainted bool, chains []string, components int) {
	t.Helper()
	if len(rep.Inputs) != 1 {
		t.Fatalf("inputs = %+v, want one", rep.Inputs)
	}
	in := rep.Inputs[0]
	if in.Components < components {
		t.Errorf("components = %d, want >= %d (the dpkg packages of the tree)", in.Components, components)
	}
	if in.Files == 0 {
		t.Errorf("no file scanned: %+v", in)
	}
	for _, g := range rep.Gaps {
		t.Errorf("gap at %s: %s", g.Location, g.Reason)
	}
	// The trap: a mention of the package that owns it, never a block.
	trap := false
	for _, f := range rep.Findings {
		if f.Class != "mention" || f.Blocking || f.Subject.Name != fwTrapPkg {
			continue
		}
		for _, ev := range f.Evidence {
			if strings.HasSuffix(fwEvidencePath(ev), fwTrap) {
				trap = true
			}
		}
	}
	if !trap {
		t.Errorf("no non-blocking mention of %s at %s%s", fwTrapPkg, fwTrap, summary(rep))
	}
	if !tainted {
		if rep.Verdict != "clean" {
			t.Errorf("verdict = %s, want clean%s", rep.Verdict, summary(rep))
		}
		for _, f := range rep.Findings {
			if f.Blocking || f.Class != "mention" {
				t.Errorf("finding %s (%s, blocking %v) in a clean image: %s", f.Rule, f.Class, f.Blocking, f.Subject.Name)
			}
		}
		return
	}
	if rep.Verdict != "tainted" {
		t.Errorf("verdict = %s, want tainted%s", rep.Verdict, summary(rep))
	}
	got := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Class != "engine" || !f.Blocking {
			continue
		}
		for _, ev := range f.Evidence {
			if strings.HasSuffix(fwEvidencePath(ev), fwMarker) {
				l := ev.Location
				l.Offset, l.Length = 0, 0 // the match inside the file
				got[strings.TrimPrefix(l.String(), l.Input)] = true
			}
		}
	}
	for _, want := range chains {
		if !got[want] {
			t.Errorf("no blocking engine evidence at %s (engine evidence on the marker: %v)%s", want, fwKeys(got), summary(rep))
		}
	}
}

// fwEvidencePath is the file path of an evidence location, without a
// "#member" suffix.
func fwEvidencePath(ev report.Evidence) string {
	return strings.SplitN(ev.Location.Path, "#", 2)[0]
}

func fwKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// fwGunzip writes the gunzipped content of path (NAME.gz) to a temporary
// NAME and returns its path.
func fwGunzip(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(path), ".gz"))
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := zr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return dst
}
