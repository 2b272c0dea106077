package inventory

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"

	"github.com/anchore/syft/syft/pkg"
)

// apkFileCataloger catalogs Alpine package files (.apk: gzip'd tar
// segments of the signature, the .PKGINFO control data and the files, one
// after the other). Syft reads Alpine's installed database only, so a
// package shipped as a file (an update cache, an offline repository) would
// have its .PKGINFO read as text and never judged as the package's
// identity. Android .apk files (zips) are not these and are left alone.
// The packages are made as Syft makes installed ones (type apk, ApkDBEntry
// metadata), without a PURL: a file names no distribution.
var apkFileCataloger = fileCataloger{name: "apk-file-cataloger", glob: "**/*.apk", read: readAPK}

// readAPK returns the package of an Alpine package file read from r.
func readAPK(ctx context.Context, r io.Reader) *pkg.Package {
	info, err := apkPkgInfo(r)
	if err != nil || info == nil {
		return nil
	}
	m := pkgInfoEntry(info)
	if m.Package == "" {
		return nil
	}
	p := &pkg.Package{Name: m.Package, Version: m.Version, Type: pkg.ApkPkg, Metadata: m}
	if lic := pkgInfoValues(info, "license"); len(lic) > 0 {
		p.Licenses = pkg.NewLicenseSet(pkg.NewLicensesFromValuesWithContext(ctx, lic[0])...)
	}
	return p
}

// apkPkgInfo returns the .PKGINFO of an Alpine package read from r, or nil
// when r is not one.
func apkPkgInfo(r io.Reader) ([]byte, error) {
	br := bufio.NewReader(r)
	if magic, err := br.Peek(2); err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return nil, nil
	}
	zr, err := gzip.NewReader(br) // every segment, one stream
	if err != nil {
		return nil, err
	}
	// abuild cuts the end-of-archive blocks off the signature and control
	// segments, so one tar reader reads on into the next; a segment that
	// keeps them (other tools) ends a reader, and the next one starts at
	// the following header.
	var in io.Reader = zr
	for range maxSegments {
		info, err := tarMember(in, ".PKGINFO", maxControlFile)
		if info != nil || err != nil {
			return info, err
		}
		var block [512]byte
		for {
			if _, err := io.ReadFull(zr, block[:]); err != nil {
				return nil, nil // no more segments
			}
			if block != [512]byte{} {
				break
			}
		}
		in = io.MultiReader(bytes.NewReader(block[:]), zr)
	}
	return nil, nil
}

// maxSegments bounds the tar segments read for a .PKGINFO: an Alpine
// package has three.
const maxSegments = 4

// pkgInfoEntry reads the fields of a .PKGINFO that Syft keeps for an
// installed Alpine package.
func pkgInfoEntry(info []byte) pkg.ApkDBEntry {
	first := func(key string) string {
		if v := pkgInfoValues(info, key); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return pkg.ApkDBEntry{
		Package:       first("pkgname"),
		OriginPackage: first("origin"),
		Maintainer:    first("maintainer"),
		Version:       first("pkgver"),
		Architecture:  first("arch"),
		URL:           first("url"),
		Description:   first("pkgdesc"),
		Dependencies:  pkgInfoValues(info, "depend"),
		Provides:      pkgInfoValues(info, "provides"),
		GitCommit:     first("commit"),
	}
}

// pkgInfoValues returns every value of key in a .PKGINFO ("key = value"
// lines; "#" starts a comment line).
func pkgInfoValues(info []byte, key string) []string {
	var out []string
	for _, line := range strings.Split(string(info), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok && strings.TrimSpace(k) == key {
			out = append(out, strings.TrimSpace(v))
		}
	}
	return out
}
