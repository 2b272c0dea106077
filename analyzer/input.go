package analyzer

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/oemtrace/oemtrace/analyzer/internal/binmeta"
	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware"
	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
	"github.com/oemtrace/oemtrace/analyzer/internal/verdict"
	"github.com/oemtrace/oemtrace/analyzer/report"
)

// Kinds of input, recognized from content.
const (
	KindSBOM      = "sbom"
	KindDirectory = "directory"
	KindArchive   = "archive"
	KindBinary    = "binary"
	KindFirmware  = "firmware"
)

// kindsWanted says what a non-SBOM input may be.
const kindsWanted = "not an SBOM, directory, tar, tar.gz or zip archive, container image, firmware image, nor a raw image holding any known format at any offset; ELF, PE, jar, apk or dex file"

// knownFile reports whether head starts a non-SBOM file kind oemtrace reads.
func knownFile(head []byte) bool {
	return archiveFormat(head) != "" || binmeta.Sniff(head) != "" || firmware.Detect(head) != ""
}

// archiveFormat recognizes tar (plain or gzip-compressed) and zip from the
// first bytes of a file; "" when it is neither.
func archiveFormat(head []byte) string {
	switch {
	case len(head) >= 4 && string(head[:4]) == "PK\x03\x04":
		return "zip"
	case isTar(head):
		return "tar"
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		zr, err := gzip.NewReader(bytes.NewReader(head))
		if err != nil {
			return ""
		}
		inner := make([]byte, 512)
		n, _ := io.ReadFull(zr, inner)
		if isTar(inner[:n]) {
			return "tar.gz"
		}
	}
	return ""
}

func isTar(b []byte) bool {
	return len(b) >= 262 && (string(b[257:262]) == "ustar")
}

// scanPath scans an input that lives on disk and is not an SBOM: a
// directory, an archive, or a single binary.
func (a *run) scanPath(ctx context.Context, in Input, disk string, head []byte) error {
	fi, err := os.Stat(disk)
	if err != nil {
		return &InputError{Name: in.Name, Err: unwrapPathError(err)}
	}
	at := report.Location{Input: in.Name}
	desc := report.Input{Name: in.Name}
	var dg *digest
	if !fi.IsDir() {
		// Hashed while it is scanned: after the scan, hashing a large
		// image would keep one core busy and the other idle.
		dg = startDigest(ctx, disk)
		defer dg.stop()
	}
	var tr *treeResult
	var nand, pkgExt string
	if !fi.IsDir() {
		nand, pkgExt = firmware.NAND(disk), firmware.PackageExt(head)
	}
	switch {
	case fi.IsDir():
		desc.Kind = KindDirectory
		// The user named this directory; a link to it is followed once,
		// so the walk starts at a real directory.
		if real, rerr := filepath.EvalSymlinks(disk); rerr == nil {
			disk = real
		}
		tr, err = a.scanDir(ctx, disk, at)
	case nand != "":
		// A raw NAND dump: its spare bytes would break every format
		// inside, whatever its first page looks like.
		desc.Kind, desc.Format = KindFirmware, nand
		tr, err = a.scanFirmware(ctx, disk, at)
	case archiveFormat(head) != "" && pkgExt != ".apk":
		// (An Alpine package is tar segments in gzip members, each
		// opened by the firmware reader below.)
		format := archiveFormat(head)
		desc.Kind, desc.Format = KindArchive, format
		tr, err = a.scanArchive(ctx, disk, format, at)
	case binmeta.Sniff(head) != "":
		desc.Kind, desc.Format = KindBinary, binmeta.Sniff(head)
		tr, err = a.scanSingle(disk, filepath.Base(disk), at)
	case firmware.Detect(head) != "":
		desc.Kind, desc.Format = KindFirmware, firmware.Detect(head)
		tr, err = a.scanFirmware(ctx, disk, at)
	default:
		// A raw image (a flash dump, a vendor wrapper) may still hold
		// known formats at any offset: carve it.
		desc.Kind, desc.Format = KindFirmware, "raw"
		tr, err = a.scanFirmware(ctx, disk, at)
		if errors.Is(err, firmware.ErrNotFirmware) {
			return &InputError{Name: in.Name, Err: fmt.Errorf("%w: %s", ErrUnknownKind, kindsWanted)}
		}
	}
	if pkgExt != "" && err == nil {
		// Unpacking shows the package's files; its own identity (name,
		// version, maintainer or vendor) is in its metadata, which Syft
		// reads from the package file itself.
		var pt *treeResult
		if pt, err = a.scanPackageFile(ctx, disk, packageFileName(in.Name, pkgExt), at); err == nil {
			pt.trees = []report.Tree{{Location: at, Kind: packageTree.String(), Files: pt.files, Components: pt.components}}
			tr.add(pt)
		}
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		desc.Size = fi.Size()
		desc.SHA256 = dg.wait()
	} else {
		desc.Size = tr.bytes
	}
	desc.Components = tr.components
	desc.Files = tr.files
	desc.Notes = tr.notes
	desc.Trees = tr.trees
	if c := tr.coverage; c != nil {
		desc.Coverage = &report.Coverage{Unpacked: c.Unpacked, Content: c.Content, Unexamined: c.Unexamined(), Share: 1}
		if c.Size > 0 {
			desc.Coverage.Share = math.Round(float64(c.Size-c.Unexamined())/float64(c.Size)*10000) / 10000
		}
	}
	a.rep.Inputs = append(a.rep.Inputs, desc)
	a.rep.Findings = append(a.rep.Findings, tr.findings...)
	a.rep.Gaps = append(a.rep.Gaps, tr.gaps...)
	return nil
}

// minUnpack is the floor of the unpacked-bytes limit for small inputs.
const minUnpack = 64 << 20

// unpackLimits applies the configured limits over extract's defaults; the
// total is capped at the ratio limit times the input's size (at least
// minUnpack), so a small bomb cannot fill the disk.
func unpackLimits(inputSize int64, c Limits) extract.Limits {
	lim := extract.DefaultLimits()
	lim.MaxDepth, lim.MaxRatio = c.MaxDepth, c.MaxRatio
	if c.MaxEntries > 0 {
		lim.MaxEntries = c.MaxEntries
	}
	if c.MaxFileBytes > 0 {
		lim.MaxFileBytes = c.MaxFileBytes
	}
	if c.MaxBytes > 0 {
		lim.MaxBytes = c.MaxBytes
		return lim
	}
	if ratio := lim.Ratio(); inputSize > 0 && inputSize < lim.MaxBytes/ratio {
		lim.MaxBytes = max(inputSize*ratio, minUnpack)
	}
	return lim
}

// scanArchive scans an archive as a tree; the location chain records the
// archive. A zip is read in place, as inside a firmware image; a tar is
// unpacked into a private temporary directory first, and a container
// image in it has its layers applied.
func (a *run) scanArchive(ctx context.Context, disk, format string, at report.Location) (*treeResult, error) {
	if format == "zip" {
		tr, err := a.scanFirmware(ctx, disk, at)
		if err != nil {
			return nil, err
		}
		// A jar or apk is also one binary: its classes and dex tables.
		single, err := a.scanSingle(disk, filepath.Base(at.Input), at)
		if err != nil {
			return nil, err
		}
		tr.findings = append(tr.findings, single.findings...)
		tr.gaps = append(tr.gaps, single.gaps...)
		return tr, nil
	}
	dir, err := os.MkdirTemp("", "oemtrace-")
	if err != nil {
		return nil, fmt.Errorf("creating temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	f, err := os.Open(disk)
	if err != nil {
		return nil, &InputError{Name: at.Input, Err: unwrapPathError(err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &InputError{Name: at.Input, Err: err}
	}
	lim := unpackLimits(fi.Size(), a.cfg.Limits)
	gaps, err := extract.Tar(f, dir, lim)
	if err != nil {
		return nil, &InputError{Name: at.Input, Err: err}
	}
	inner := at
	inner.Chain = append(append([]report.Layer{}, at.Chain...), report.Layer{Format: format})
	root := dir
	if image := extract.ImageFormat(dir); image != "" {
		rootfs, err := os.MkdirTemp("", "oemtrace-rootfs-")
		if err != nil {
			return nil, fmt.Errorf("creating temporary directory: %w", err)
		}
		defer os.RemoveAll(rootfs)
		layerGaps, err := extract.Flatten(dir, rootfs, lim)
		if err != nil {
			return nil, &InputError{Name: at.Input, Err: fmt.Errorf("reading %s image: %w", image, err)}
		}
		gaps = append(gaps, layerGaps...)
		inner.Chain = append(inner.Chain, report.Layer{Format: image})
		root = rootfs
	}
	tr, err := a.scanDir(ctx, root, inner)
	if err != nil {
		return nil, err
	}
	if root != dir {
		tr.notes = append(tr.notes, "container image ("+inner.Chain[len(inner.Chain)-1].Format+"): layers applied in order with whiteouts")
	}
	tr.gaps = appendGaps(tr.gaps, inner, gaps)
	return tr, nil
}

// scanFirmware opens a firmware image and scans each file tree found in
// it as soon as it is found: filesystem images in place, other trees from
// a private temporary directory. Locations carry the chain of containers
// that leads to each tree.
func (a *run) scanFirmware(ctx context.Context, disk string, at report.Location) (*treeResult, error) {
	dir, err := os.MkdirTemp("", "oemtrace-fw-")
	if err != nil {
		return nil, fmt.Errorf("creating temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	fi, err := os.Stat(disk)
	if err != nil {
		return nil, &InputError{Name: at.Input, Err: unwrapPathError(err)}
	}
	out := &treeResult{}
	var failed error
	visit := func(root firmware.Root) {
		if failed != nil {
			return
		}
		rat := chainAt(at, root.Chain)
		if ctx.Err() != nil {
			// Out of time: the trees already scanned keep their findings.
			out.gaps = append(out.gaps, report.Gap{Location: rat, Reason: "not scanned: " + ctx.Err().Error()})
			return
		}
		t, kind := root.Tree, imageTree
		if t == nil {
			kind = diskTree
			if root.Raw {
				kind = rawTree
			}
			if t, err = fstree.Dir(ctx, root.Dir); err != nil {
				failed = err
				return
			}
		}
		tr, err := a.scanTree(ctx, t, rat, kind)
		switch {
		case err != nil && ctx.Err() != nil:
			out.gaps = append(out.gaps, report.Gap{Location: rat, Reason: "not scanned: " + ctx.Err().Error()})
		case err != nil:
			failed = err
		default:
			// The tree first, then the containers nested in it.
			label := kind.String()
			if n := len(root.Chain); n > 0 && root.Chain[n-1].Format == "zip" {
				label = diskTree.String() // an archive, though read in place
			}
			tr.trees = append([]report.Tree{{Location: rat, Kind: label, Files: tr.files, Components: tr.components}}, tr.trees...)
			out.add(tr)
		}
	}
	res, err := firmware.Visit(ctx, disk, dir, unpackLimits(fi.Size(), a.cfg.Limits), visit)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &InputError{Name: at.Input, Err: err}
	}
	if failed != nil {
		return nil, failed
	}
	out.coverage = &res.Coverage
	for _, g := range res.Gaps {
		l := chainAt(at, g.Chain)
		l.Path = g.Path
		out.gaps = append(out.gaps, report.Gap{Location: l, Reason: g.Reason})
	}
	return out, nil
}

// chainAt extends the location at with a chain of firmware containers.
func chainAt(at report.Location, chain []firmware.Layer) report.Location {
	at.Chain = append([]report.Layer(nil), at.Chain...)
	for _, l := range chain {
		at.Chain = append(at.Chain, report.Layer{Format: l.Format, Offset: l.Offset})
	}
	return at
}

// appendGaps records gaps (from unpacking or scanning) under the location
// at, which names the input and its container chain.
func appendGaps(dst []report.Gap, at report.Location, gaps []extract.Gap) []report.Gap {
	for _, g := range gaps {
		l := at
		l.Path = g.Path
		dst = append(dst, report.Gap{Location: l, Reason: g.Reason})
	}
	return dst
}

// scanDir scans the directory at dir as one tree.
func (a *run) scanDir(ctx context.Context, dir string, at report.Location) (*treeResult, error) {
	t, err := fstree.Dir(ctx, dir)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &InputError{Name: at.Input, Err: unwrapPathError(err)}
	}
	return a.scanTree(ctx, t, at, diskTree)
}

// scanSingle scans one binary file.
// packageFileName names a package file input for Syft, whose package-file
// catalogers go by extension: the input's own name when it has ext.
func packageFileName(input, ext string) string {
	name := filepath.Base(input)
	if input == "-" || name == "." || name == "/" {
		name = "package"
	}
	if !strings.HasSuffix(name, ext) {
		name += ext
	}
	return name
}

// scanPackageFile catalogs the package file at disk, as name, with Syft
// (and scans its bytes, which are compressed), for the package's identity.
func (a *run) scanPackageFile(ctx context.Context, disk, name string, at report.Location) (*treeResult, error) {
	t, err := fstree.Single(disk, name)
	if err != nil {
		return nil, &InputError{Name: at.Input, Err: unwrapPathError(err)}
	}
	return a.scanTree(ctx, t, at, packageTree)
}

func (a *run) scanSingle(disk, rel string, at report.Location) (*treeResult, error) {
	t, err := fstree.Single(disk, rel)
	if err != nil {
		return nil, &InputError{Name: at.Input, Err: unwrapPathError(err)}
	}
	f, gap := a.scanner.ScanFile(t, "/"+rel)
	tr := &treeResult{files: 1}
	if gap != nil {
		tr.gaps = appendGaps(tr.gaps, at, []extract.Gap{*gap})
		return tr, nil
	}
	if f == nil {
		return tr, nil
	}
	tr.bytes = f.Size
	subj := report.Subject{Input: at.Input, Name: rel, Location: f.Path}
	if fd, ok := verdict.Combine(subj, fileMatches(a.set, *f, at)); ok {
		tr.findings = append(tr.findings, fd)
	}
	return tr, nil
}

// digest is the SHA-256 of a file, computed in the background.
type digest struct {
	cancel context.CancelFunc
	done   chan struct{}
	sum    string // hex; "" when the file could not be read
}

// startDigest starts hashing the file at p until done or ctx ends.
func startDigest(ctx context.Context, p string) *digest {
	ctx, cancel := context.WithCancel(ctx)
	d := &digest{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(d.done)
		d.sum, _ = fileDigest(ctx, p)
	}()
	return d
}

// wait returns the digest once computed.
func (d *digest) wait() string {
	<-d.done
	return d.sum
}

// stop ends the hashing if still under way and waits for it.
func (d *digest) stop() {
	d.cancel()
	<-d.done
}

func fileDigest(ctx context.Context, p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, firmware.ContextReader(ctx, f), make([]byte, 1<<20)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// spool copies r (standard input, a file inside an image) to a private
// temporary file, at most max bytes, so it can be examined as a file.
// what names r in errors.
func spool(r io.Reader, max int64, what string) (string, func(), error) {
	f, err := os.CreateTemp("", "oemtrace-spool-")
	if err != nil {
		return "", nil, fmt.Errorf("spooling %s: %w", what, err)
	}
	cleanup := func() { os.Remove(f.Name()) }
	n, err := io.Copy(f, io.LimitReader(r, max+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > max {
		err = fmt.Errorf("%s is larger than the limit of %d bytes", what, max)
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("spooling %s: %w", what, err)
	}
	return f.Name(), cleanup, nil
}
