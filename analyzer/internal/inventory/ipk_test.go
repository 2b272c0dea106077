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

// FuzzIPKControl reads arbitrary package files: no panic, no hang, and
// nothing larger than the bounds.
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
	})
}
