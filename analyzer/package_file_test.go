package analyzer_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oemtrace/oemtrace/analyzer"
	"github.com/oemtrace/oemtrace/analyzer/report"
)

// tarGz returns a gzip'd tar of the given files (path -> content).
func tarGz(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for name, body := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// debFile builds a Debian binary package the way dpkg-deb lays it out: an
// ar archive of debian-binary, control.tar.gz and data.tar.gz.
func debFile(t *testing.T, control string, data map[string]string) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		body []byte
	}{
		{"debian-binary", []byte("2.0\n")},
		{"control.tar.gz", tarGz(t, map[string]string{"./control": control})},
		{"data.tar.gz", tarGz(t, data)},
	} {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, 1577836800, 0, 0, "100644", len(m.body))
		b.Write(m.body)
		if len(m.body)%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// ipkFile builds an opkg package the way OpenWrt's ipkg-build lays it
// out: a gzip'd tar of debian-binary, data.tar.gz and control.tar.gz.
func ipkFile(t *testing.T, control string, data map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, m := range []struct {
		name string
		body []byte
	}{
		{"./debian-binary", []byte("2.0\n")},
		{"./data.tar.gz", tarGz(t, data)},
		{"./control.tar.gz", tarGz(t, map[string]string{"./control": control})},
	} {
		if err := tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write(m.body)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	return buf.Bytes()
}

// apkFile builds an Alpine package the way abuild lays it out: gzip
// members of a signature segment and a .PKGINFO segment (tar cut before
// its end blocks) and a data tar.
func apkFile(t *testing.T, pkginfo string, data map[string]string) []byte {
	t.Helper()
	var out bytes.Buffer
	segment := func(name, body string) {
		zw := gzip.NewWriter(&out)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
		tw.Flush() // no end blocks: the next segment continues the tar
		zw.Close()
	}
	segment(".SIGN.RSA.builder.rsa.pub", "signature")
	segment(".PKGINFO", pkginfo)
	out.Write(tarGz(t, data))
	return out.Bytes()
}

// TestPackageFileIdentity scans Debian, opkg and Alpine package files,
// alone and inside an archive: the package's own identity (its maintainer, its name) is
// judged, not only the files it holds, so a vendor's package of the
// engine is found even when its files are renamed.
func TestPackageFileIdentity(t *testing.T) {
	dir := t.TempDir()
	kesl := debFile(t, "Package: kesl\nVersion: 11.4.0-1234\nArchitecture: amd64\n"+
		"Maintainer: AO Kaspersky Lab <support@kaspersky.com>\nDescription: endpoint agent\n",
		map[string]string{"./opt/acme/bin/agent": "#!/bin/sh\n"})
	clean := debFile(t, "Package: netwarden-ui\nVersion: 2.1\nArchitecture: all\n"+
		"Maintainer: Acme Networks <dev@acme.example>\nDescription: web console\n",
		map[string]string{"./opt/acme/www/index.html": "<html></html>\n"})
	keslIPK := ipkFile(t, "Package: kesl\nVersion: 11.4.0-1234\nArchitecture: mipsel_24kc\n"+
		"Maintainer: AO Kaspersky Lab <support@kaspersky.com>\nDescription: endpoint agent\n",
		map[string]string{"./opt/acme/bin/agent": "#!/bin/sh\n"})
	cleanIPK := ipkFile(t, "Package: netwarden-ui\nVersion: 2.1\nArchitecture: all\n"+
		"Maintainer: Acme Networks <dev@acme.example>\nLicense: GPL-2.0-only\nDescription: web console\n",
		map[string]string{"./opt/acme/www/index.html": "<html></html>\n"})
	keslAPK := apkFile(t, "pkgname = kesl\npkgver = 11.4.0-r0\narch = x86_64\n"+
		"maintainer = AO Kaspersky Lab <support@kaspersky.com>\n",
		map[string]string{"opt/acme/bin/agent": "#!/bin/sh\n"})
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name    string
		path    string
		verdict report.Verdict
		where   string // a location the maintainer evidence must carry
	}{
		{"deb", write("agent.deb", kesl), report.Tainted, "agent.deb:/agent.deb#Maintainer"},
		{"deb named otherwise", write("update.bin", kesl), report.Tainted, "update.bin:/update.bin.deb#Maintainer"},
		{"clean deb", write("ui.deb", clean), report.Clean, ""},
		{"deb inside an archive", write("bundle.tar.gz", tarGz(t, map[string]string{"updates/agent.deb": string(kesl)})), report.Tainted, "bundle.tar.gz!tar.gz:/updates/agent.deb#Maintainer"},
		// OpenWrt's tar framing, which Syft's own cataloger does not read.
		{"ipk", write("agent.ipk", keslIPK), report.Tainted, "agent.ipk:/agent.ipk#Maintainer"},
		{"clean ipk", write("ui.ipk", cleanIPK), report.Clean, ""},
		{"ipk inside an archive", write("feed.tar.gz", tarGz(t, map[string]string{"updates/agent.ipk": string(keslIPK)})), report.Tainted, "feed.tar.gz!tar.gz:/updates/agent.ipk#Maintainer"},
		// Alpine: Syft reads only the installed database.
		{"apk", write("agent.apk", keslAPK), report.Tainted, "agent.apk:/agent.apk#m"},
		{"apk inside an archive", write("cache.tar.gz", tarGz(t, map[string]string{"var/cache/apk/agent.apk": string(keslAPK)})), report.Tainted, "cache.tar.gz!tar.gz:/var/cache/apk/agent.apk#m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep := analyze(t, c.path, analyzer.Config{})
			if rep.Verdict != c.verdict {
				t.Fatalf("verdict %s, want %s; findings %+v gaps %+v", rep.Verdict, c.verdict, rep.Findings, rep.Gaps)
			}
			if c.where == "" {
				if rep.Inputs[0].Components == 0 {
					t.Error("the clean package was not catalogued")
				}
				return
			}
			if !strings.HasSuffix(c.path, ".tar.gz") {
				var pkgTree *report.Tree
				for i, tr := range rep.Inputs[0].Trees {
					if tr.Kind == "package" {
						pkgTree = &rep.Inputs[0].Trees[i]
					}
				}
				if pkgTree == nil || pkgTree.Components != 1 {
					t.Errorf("trees %+v, want the package file with its one package", rep.Inputs[0].Trees)
				}
			}
			var found []string
			for _, f := range rep.Findings {
				for _, e := range f.Evidence {
					found = append(found, e.Location.String())
					if f.Blocking && f.Subject.Name == "kesl" && strings.Contains(e.Location.String(), c.where+" ") && e.Rule == "OT-ID-ENTITY" {
						return
					}
				}
			}
			t.Errorf("no blocking OT-ID-ENTITY evidence on the kesl package at %s; evidence at %q", c.where, found)
		})
	}
}
