package inventory

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"slices"
	"testing"
)

func TestControlEntry(t *testing.T) {
	control := []byte("Package: nwguard-av\r\nVersion: 8.9.1-2\nmaintainer: AO Kaspersky Lab\n <oem@kaspersky.com>\n" +
		"Depends: libc, libpthread (>= 1.0) ,\nDescription: scanner\n long text\n\nPackage: second\n")
	m := controlEntry(control)
	if m.Package != "nwguard-av" || m.Version != "8.9.1-2" || m.Maintainer != "AO Kaspersky Lab\n<oem@kaspersky.com>" {
		t.Errorf("entry %+v", m)
	}
	if !slices.Equal(m.Depends, []string{"libc", "libpthread (>= 1.0)"}) || m.Description != "scanner\nlong text" {
		t.Errorf("depends %q, description %q", m.Depends, m.Description)
	}
	if controlField(control, "Source") != "" {
		t.Error("an absent field has a value")
	}
}

func TestIPKControl(t *testing.T) {
	tgz := func(files ...string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		for i := 0; i < len(files); i += 2 {
			tw.WriteHeader(&tar.Header{Name: files[i], Mode: 0o644, Size: int64(len(files[i+1])), Typeflag: tar.TypeReg})
			tw.Write([]byte(files[i+1]))
		}
		tw.Close()
		zw.Close()
		return buf.Bytes()
	}
	ipk := tgz("./debian-binary", "2.0\n", "./control.tar.gz", string(tgz("./control", "Package: x\n")))
	if c, err := ipkControl(bytes.NewReader(ipk)); err != nil || string(c) != "Package: x\n" {
		t.Errorf("control %q, %v", c, err)
	}
	for name, b := range map[string][]byte{
		"ar-framed":  []byte("!<arch>\ndebian-binary   "),
		"no control": tgz("./debian-binary", "2.0\n"),
		"empty":      nil,
	} {
		if c, _ := ipkControl(bytes.NewReader(b)); c != nil {
			t.Errorf("%s: control %q", name, c)
		}
	}
	if _, err := ipkControl(bytes.NewReader(ipk[:len(ipk)/2])); err == nil {
		t.Error("a truncated package read whole")
	}
}

// FuzzIPKControl reads arbitrary package files as opkg and Alpine ones:
// no panic, no hang, and nothing larger than the bounds.
func FuzzIPKControl(f *testing.F) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "./control.tar.gz", Mode: 0o644, Size: 3, Typeflag: tar.TypeReg})
	tw.Write([]byte("abc"))
	tw.Close()
	zw.Close()
	f.Add(buf.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		c, _ := ipkControl(bytes.NewReader(b))
		if len(c) > maxControlFile {
			t.Fatalf("control of %d bytes", len(c))
		}
		controlEntry(c)
		info, _ := apkPkgInfo(bytes.NewReader(b))
		if len(info) > maxControlFile {
			t.Fatalf(".PKGINFO of %d bytes", len(info))
		}
		pkgInfoEntry(info)
	})
}

func TestAPKPkgInfo(t *testing.T) {
	// segment is one gzip member of a tar; cut leaves out the end blocks,
	// as abuild does for all but the data segment.
	segment := func(cut bool, name, body string) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		tw := tar.NewWriter(zw)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg})
		tw.Write([]byte(body))
		if cut {
			tw.Flush()
		} else {
			tw.Close()
		}
		zw.Close()
		return buf.Bytes()
	}
	info := "# generated\npkgname = nwguard-av\npkgver = 8.9.1-r2\nmaintainer = AO Kaspersky Lab <oem@kaspersky.com>\ndepend = so:libc.musl-x86_64.so.1\ndepend = busybox\n"
	for _, cut := range []bool{true, false} {
		apk := append(append(segment(cut, ".SIGN.RSA.k.rsa.pub", "sig"), segment(cut, ".PKGINFO", info)...), segment(false, "usr/bin/x", "#!/bin/sh\n")...)
		got, err := apkPkgInfo(bytes.NewReader(apk))
		if err != nil || string(got) != info {
			t.Fatalf("cut %v: .PKGINFO %q, %v", cut, got, err)
		}
	}
	m := pkgInfoEntry([]byte(info))
	if m.Package != "nwguard-av" || m.Version != "8.9.1-r2" || m.Maintainer != "AO Kaspersky Lab <oem@kaspersky.com>" ||
		!slices.Equal(m.Dependencies, []string{"so:libc.musl-x86_64.so.1", "busybox"}) {
		t.Errorf("entry %+v", m)
	}
	if got, _ := apkPkgInfo(bytes.NewReader([]byte("PK\x03\x04 an Android package"))); got != nil {
		t.Errorf("an Android package read as Alpine: %q", got)
	}
}
