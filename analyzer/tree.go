package analyzer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
	"github.com/anchore/syft/syft/sbom"

	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/firmware"
	"github.com/oemtrace/oemtrace/analyzer/internal/fscan"
	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
	"github.com/oemtrace/oemtrace/analyzer/internal/identity"
	"github.com/oemtrace/oemtrace/analyzer/internal/ingest"
	"github.com/oemtrace/oemtrace/analyzer/internal/inventory"
	"github.com/oemtrace/oemtrace/analyzer/internal/verdict"
	"github.com/oemtrace/oemtrace/analyzer/report"
	"github.com/oemtrace/oemtrace/signatures"
)

// treeResult is what scanning one file tree adds to a report.
type treeResult struct {
	findings   []report.Finding
	gaps       []report.Gap
	components int
	files      int
	bytes      int64
	notes      []string
	coverage   *firmware.Coverage // of a firmware image
	trees      []report.Tree      // of a firmware image
}

// add merges the result of another tree of the same input.
func (t *treeResult) add(o *treeResult) {
	t.findings = append(t.findings, o.findings...)
	t.gaps = append(t.gaps, o.gaps...)
	t.components += o.components
	t.files += o.files
	t.bytes += o.bytes
	t.notes = append(t.notes, o.notes...)
	t.trees = append(t.trees, o.trees...)
}

// subjectGroup collects the evidence about one subject.
type subjectGroup struct {
	subject report.Subject
	matches []verdict.Match
}

// treeKind says where a tree's files lie.
type treeKind int

const (
	diskTree    treeKind = iota // a directory on disk
	imageTree                   // a filesystem image read in place
	rawTree                     // raw regions of a firmware image: content only
	packageTree                 // a package file, catalogued from its metadata; its content is unpacked elsewhere
)

// String names the kind as a report's trees do.
func (k treeKind) String() string {
	switch k {
	case imageTree:
		return "filesystem"
	case rawTree:
		return "raw"
	case packageTree:
		return "package"
	}
	return "archive"
}

// spillMax bounds the copies of binaries kept for Syft per image tree.
const spillMax = 16 << 30

// scanTree catalogs the packages of the tree t with Syft and scans every
// file's content, then grades one finding per subject: a catalogued
// package when it owns the file, otherwise the product folder the file
// sits in (see groupOf). at carries the input name and container chain. A
// raw tree (byte regions of a firmware image, no filesystem) is only
// scanned. Both read files where they lie; the content scan tells Syft
// the MIME types, so no file is read twice to pick executables.
func (a *run) scanTree(ctx context.Context, t *fstree.Tree, at report.Location, kind treeKind) (*treeResult, error) {
	raw := kind == rawTree
	set, sc := a.set, a.scanner
	// Syft stops early when the content scan fails.
	invCtx, stop := context.WithCancel(ctx)
	defer stop()
	var inv *inventory.Result
	var invErr error
	var wg sync.WaitGroup
	types := inventory.NewTypes()
	opts := fscan.Options{MIMETypes: !raw}
	if !raw && kind != packageTree {
		opts.Nested = nestedContainer
	}
	var spill *inventory.Spill
	if kind == imageTree {
		// Binaries read from an image are kept for Syft's catalogers;
		// where no spill file can be made they read the image again.
		var err error
		if spill, err = inventory.NewSpill("", spillMax); err == nil {
			defer spill.Close()
			opts.Keep = func(p string, n int64) fscan.Copy { return spill.Writer(p, n) }
			opts.Reread = inventory.Rereads
		}
	}
	if raw {
		inv = &inventory.Result{}
	} else {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The license scanner is built (once per process, about a
			// second of CPU) while the content scan already runs.
			lctx, err := inventory.ShareLicenseScanner(invCtx)
			if err != nil {
				invErr = err
				return
			}
			inv, invErr = inventory.CatalogTree(lctx, at.String(), t, types, spill)
		}()
	}
	res, err := sc.Scan(ctx, t, opts)
	if err != nil {
		types.Set(nil, nil)
		stop()
	} else {
		types.Set(res.MIMETypes, res.Marks)
	}
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	out := &treeResult{files: res.Scanned, bytes: res.Bytes}
	groups := map[string]*subjectGroup{}
	get := func(key string, s report.Subject) *subjectGroup {
		g := groups[key]
		if g == nil {
			g = &subjectGroup{subject: s}
			groups[key] = g
		}
		return g
	}
	if invErr != nil {
		out.gaps = append(out.gaps, report.Gap{Location: at, Reason: "package cataloging failed: " + invErr.Error()})
		inv = &inventory.Result{}
	}
	out.components = len(inv.Components)
	if a.keepSBOM && !raw && inv.SBOM != nil {
		a.keep(inv.SBOM, at.Chain)
	}
	for i := range inv.Components {
		c := &inv.Components[i]
		if ms := identity.Matches(set, at, c.Fields); len(ms) > 0 {
			g := get(packageGroup(i, c, at))
			g.matches = append(g.matches, ms...)
		}
	}
	for _, f := range res.Files {
		key, subj := groupOf(f.Path, inv, at)
		if ms := fileMatches(set, f, at); len(ms) > 0 {
			g := get(key, subj)
			g.matches = append(g.matches, ms...)
		}
	}
	var containers []string
	for i, d := range a.nestedDocuments(t, res.Nested, at) {
		p := res.Nested[i]
		out.gaps = append(out.gaps, d.gaps...)
		if d.container {
			containers = append(containers, p)
		} else if len(d.ms) > 0 {
			g := get(groupOf(p, inv, at))
			g.matches = append(g.matches, d.ms...)
		}
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if f, ok := verdict.Combine(groups[k].subject, groups[k].matches); ok {
			out.findings = append(out.findings, f)
		}
	}
	out.gaps = appendGaps(out.gaps, at, res.Gaps)
	for _, p := range containers {
		if err := a.scanNested(ctx, t, p, at, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// scanNested opens a container found as a file of a tree (a tar.gz in an
// update folder, a squashfs inside a squashfs) and scans what it holds as
// a firmware input of its own, its location chain continuing from the
// file's: "fw.bin!squashfs:/opt/updates/engine.tar.gz!gzip!tar:/x". What
// cannot be opened is a gap; only a failing context is an error.
func (a *run) scanNested(ctx context.Context, t *fstree.Tree, p string, at report.Location, out *treeResult) error {
	nat := nestedAt(at, p)
	gap := func(reason string) {
		out.gaps = append(out.gaps, report.Gap{Location: nat, Reason: reason})
	}
	depth := extract.Limits{MaxDepth: a.cfg.Limits.MaxDepth}.Depth()
	if len(at.Chain) >= depth {
		gap("nested container not opened: depth limit reached")
		return nil
	}
	e, _ := t.Lookup(p)
	f, err := t.Open(p)
	if err != nil {
		gap("nested container not opened: " + unwrapPathError(err).Error())
		return nil
	}
	tmp, cleanup, err := spool(io.NewSectionReader(f, 0, e.Size), unpackLimits(0, a.cfg.Limits).MaxFileBytes, "the nested container")
	f.Close()
	if err != nil {
		gap("nested container not opened: " + err.Error())
		return nil
	}
	defer cleanup()
	// The unpackers name a stream's content after its file: give the
	// spooled copy the file's own name.
	dir, err := os.MkdirTemp("", "oemtrace-nested-")
	if err != nil {
		return fmt.Errorf("creating temporary directory: %w", err)
	}
	defer os.RemoveAll(dir)
	named := filepath.Join(dir, path.Base(p))
	if err := os.Rename(tmp, named); err != nil {
		return fmt.Errorf("naming the nested container: %w", err)
	}
	tr, err := a.scanFirmware(ctx, named, nat)
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, firmware.ErrNotFirmware):
		// Not a container after all: its content was scanned as a file.
	case err != nil:
		// Name the file, not its temporary copy.
		gap("nested container could not be read: " + strings.ReplaceAll(unwrapPathError(err).Error(), named, p))
	default:
		out.add(tr)
	}
	return nil
}

// javaArchiveExts are the names Syft's Java archive cataloger reads (its
// own globs, case and all).
var javaArchiveExts = []string{".jar", ".war", ".ear", ".par", ".sar", ".nar", ".jpi", ".hpi", ".kar", ".far", ".lpkg"}

// nestedContainer says which files of a tree are opened as containers:
// those firmware.Nested takes for one, except Java archives. Syft's Java
// cataloger reads those, their nested archives included, and the content
// scan reads their class lists; opening each one again as a tree of its
// own would double the work on a JVM image for no new evidence kind.
func nestedContainer(p string, head []byte) bool {
	if !firmware.Nested(head) {
		return false
	}
	for _, ext := range javaArchiveExts {
		if strings.HasSuffix(p, ext) {
			return false
		}
	}
	return true
}

// maxDocument bounds how much of a compressed document is decompressed.
const maxDocument = 64 << 20

// document is what nestedDocument found in one file.
type document struct {
	container bool
	ms        []verdict.Match
	gaps      []report.Gap
}

// nestedDocuments runs nestedDocument on each of paths, on every core (a
// system's manual pages are tens of thousands of small streams), and
// returns the results in the order of paths.
func (a *run) nestedDocuments(t *fstree.Tree, paths []string, at report.Location) []document {
	out := make([]document, len(paths))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(paths)) {
		wg.Go(func() {
			for i := range next {
				d := &out[i]
				d.container, d.ms, d.gaps = a.nestedDocument(t, paths[i], at)
			}
		})
	}
	for i := range paths {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// nestedDocument looks again at the file p of the tree, which the content
// scan took for a container by its first bytes, and returns true when it
// is one. A compression stream that holds text (a gzip'd changelog, update
// index or configuration file) is a document instead: it is decompressed
// in memory, up to maxDocument bytes, and its text matched as a file's
// would be, located in the stream ("…:/etc/x.conf.gz!gzip:/x.conf.gz@0x1f").
// Unpacking it as a container would cost a tree of its own per file of a
// system's documentation.
func (a *run) nestedDocument(t *fstree.Tree, p string, at report.Location) (container bool, ms []verdict.Match, gaps []report.Gap) {
	e, _ := t.Lookup(p)
	f, err := t.Open(p)
	if err != nil {
		return true, nil, nil // scanNested reports it
	}
	defer f.Close()
	head := make([]byte, min(3072, e.Size)) // as much as the content scan sniffs
	n, _ := f.ReadAt(head, 0)
	text := firmware.CompressedText(head[:n], io.NewSectionReader(f, 0, e.Size), maxDocument)
	if text == nil {
		return true, nil, nil
	}
	loc := nestedAt(at, p)
	loc.Chain = append(loc.Chain, report.Layer{Format: text.Format})
	gap := func(reason string) { gaps = append(gaps, report.Gap{Location: loc, Reason: reason}) }
	switch {
	case text.Err != nil:
		gap("compressed document decompressed only in part: " + text.Err.Error())
	case text.More:
		gap(fmt.Sprintf("compressed document decompresses to more than %d bytes; the rest is not examined", maxDocument))
	}
	// Rules see the document under the name it decompresses to, so that
	// their path exceptions (documentation, rule sets) hold for it; its
	// path hits were the compressed file's.
	name := strings.TrimSuffix(p, path.Ext(p))
	if !compressedExts[strings.ToLower(path.Ext(p))] {
		name = p
	}
	file, g := a.scanner.ScanFile(fstree.Memory(name, text.Data), name)
	if g != nil {
		gap(g.Reason)
	}
	if file != nil {
		file.Path = "/" + path.Base(name)
		file.Hits = slices.DeleteFunc(file.Hits, func(h fscan.Hit) bool { return h.Length == 0 })
		ms = fileMatches(a.set, *file, loc)
	}
	return false, ms, gaps
}

// compressedExts are the file name extensions of compression streams.
var compressedExts = map[string]bool{".gz": true, ".xz": true, ".bz2": true, ".zst": true, ".lz4": true, ".lzma": true, ".z": true}

// nestedAt is the location of the file p of the tree at, as the start of
// a chain: the tree's last layer names the file (a directory input gets a
// "dir" layer).
func nestedAt(at report.Location, p string) report.Location {
	chain := append([]report.Layer(nil), at.Chain...)
	if len(chain) == 0 || chain[len(chain)-1].Path != "" {
		chain = append(chain, report.Layer{Format: "dir"})
	}
	chain[len(chain)-1].Path = p
	at.Chain, at.Path = chain, ""
	return at
}

// fileMatches is the evidence found in one file: its content hits and the
// identity facts of a binary.
func fileMatches(set *signatures.Set, f fscan.File, at report.Location) []verdict.Match {
	var ms []verdict.Match
	loc := at
	loc.Path, loc.SHA256 = f.Path, f.SHA256
	for _, h := range f.Hits {
		l := loc
		l.Offset, l.Length = h.Offset, h.Length
		ms = append(ms, verdict.Match{Rule: h.Rule, Evidence: report.Evidence{
			Rule:     h.Rule.ID,
			Kind:     "content",
			Field:    h.Kind,
			Value:    identity.Clip(printable(h.Value), 200),
			Location: l,
		}})
	}
	return append(ms, identity.Matches(set, loc, binaryFields(f))...)
}

// withInput places subject s in the input and container chain of at.
func withInput(s report.Subject, at report.Location) report.Subject {
	s.Input = at.Input
	if len(at.Chain) > 0 {
		s.Location = at.String() + "!" + s.Location
	}
	return s
}

// packageGroup is the group key and subject of catalogued package i.
func packageGroup(i int, c *ingest.Component, at report.Location) (string, report.Subject) {
	return fmt.Sprintf("pkg#%d", i), withInput(identity.Subject(at.Input, c), at)
}

// groupOf picks the subject that content evidence in file p belongs to: the
// catalogued package that owns the file, else the product folder — the
// first level below /opt, /srv, /home, /usr/local, /var/opt, /etc/opt,
// /etc, /usr/share, /usr/lib, /usr/libexec and /var/lib (so
// /opt/netwarden/lib/libnwscan.so.8 belongs to /opt/netwarden) — else the
// file itself.
func groupOf(p string, inv *inventory.Result, at report.Location) (string, report.Subject) {
	if i, ok := inv.Owners[p]; ok && i < len(inv.Components) {
		return packageGroup(i, &inv.Components[i], at)
	}
	dir := productDir(p)
	return "dir#" + dir, withInput(report.Subject{Name: dir, Location: dir}, at)
}

var productRoots = []string{"/usr/local", "/var/opt", "/etc/opt", "/usr/share", "/usr/lib", "/usr/libexec", "/var/lib", "/opt", "/srv", "/home", "/etc"}

func productDir(p string) string {
	for _, r := range productRoots {
		rest, ok := strings.CutPrefix(p, r+"/")
		if !ok {
			continue
		}
		first, _, nested := strings.Cut(rest, "/")
		if nested {
			return r + "/" + first
		}
		return p
	}
	return p
}

// binaryFields turns a binary's version resource and signers into identity
// fields, so that entity rules judge them like SBOM suppliers.
func binaryFields(f fscan.File) []ingest.Field {
	if f.Facts == nil {
		return nil
	}
	var out []ingest.Field
	add := func(kind ingest.FieldKind, q, v, where string) {
		if strings.TrimSpace(v) != "" {
			out = append(out, ingest.Field{Kind: kind, Qualifier: q, Value: v, Location: f.Path + "#" + where})
		}
	}
	v := f.Facts.Version
	add(ingest.KindSupplier, "pe-version", v["CompanyName"], "VERSIONINFO/CompanyName")
	add(ingest.KindCopyright, "pe-version", v["LegalCopyright"], "VERSIONINFO/LegalCopyright")
	add(ingest.KindName, "pe-version", v["ProductName"], "VERSIONINFO/ProductName")
	for i, s := range f.Facts.Signers {
		if s.Signer {
			add(ingest.KindSupplier, "authenticode", s.Organization, fmt.Sprintf("Authenticode/certificate[%d]/O", i))
			add(ingest.KindSupplier, "authenticode", s.CommonName, fmt.Sprintf("Authenticode/certificate[%d]/CN", i))
		}
	}
	return out
}

// printable keeps matched bytes readable in reports: control bytes become
// \xNN escapes.
func printable(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			fmt.Fprintf(&b, `\x%02x`, c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// keep adds the SBOM of one tree to the run's SBOM. The packages of a tree
// inside a firmware image have their locations marked with the chain of
// containers that leads to it (Syft's file system id, written as the
// location's layer), so the trees of one image stay apart.
func (a *run) keep(s *sbom.SBOM, chain []report.Layer) {
	if len(chain) > 0 {
		id := chainID(chain)
		pkgs := pkg.NewCollection()
		for _, p := range s.Artifacts.Packages.Sorted() {
			locs := file.NewLocationSet()
			for _, l := range p.Locations.ToSlice() {
				l.FileSystemID = id
				locs.Add(l)
			}
			p.Locations = locs
			pkgs.Add(p)
		}
		cp := *s
		cp.Artifacts.Packages = pkgs
		s = &cp
	}
	if a.sbom == nil {
		a.sbom = s
		return
	}
	for _, p := range s.Artifacts.Packages.Sorted() {
		a.sbom.Artifacts.Packages.Add(p)
	}
	a.sbom.Relationships = append(a.sbom.Relationships, s.Relationships...)
}

// chainID renders a container chain: "uimage@0x40!gzip!squashfs".
func chainID(chain []report.Layer) string {
	return strings.TrimPrefix(report.Location{Chain: chain}.String(), "!")
}
