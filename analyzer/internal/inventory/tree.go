package inventory

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"sort"
	"strings"
	"sync"

	stereofile "github.com/anchore/stereoscope/pkg/file"
	"github.com/anchore/stereoscope/pkg/filetree"
	"github.com/anchore/syft/syft/artifact"
	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/source"
	"github.com/bmatcuk/doublestar/v4"

	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
)

// Types delivers the MIME types of a tree's regular files, and the
// markers (see Markers) each holds, by path, once they are known: the
// content scan reads every file anyway, so the cataloger need not read
// them again to select executables. Catalogers that select files by MIME
// type wait for Set; the others start at once.
type Types struct {
	once  sync.Once
	ready chan struct{}
	m     map[string]string
	marks map[string]uint64
}

// NewTypes returns Types not yet known.
func NewTypes() *Types { return &Types{ready: make(chan struct{})} }

// Set makes the types and marks known (bit i of a file's marks for
// Markers()[i]); later calls do nothing. A caller that cannot learn them
// must still call Set (with nil) so nothing waits.
func (t *Types) Set(m map[string]string, marks map[string]uint64) {
	t.once.Do(func() {
		t.m, t.marks = m, marks
		close(t.ready)
	})
}

// get waits for the types and marks, or for ctx to be done.
func (t *Types) get(ctx context.Context) (map[string]string, map[string]uint64) {
	select {
	case <-t.ready:
		return t.m, t.marks
	case <-ctx.Done():
		return nil, nil
	}
}

// CatalogTree catalogs the listed tree t (a filesystem inside a firmware
// image, say) as an installed system, reading files where they lie, or
// from spill when it holds a copy (spill may be nil). name describes the
// tree in the SBOM; types gives the files' MIME types. Symbolic links
// resolve inside the tree, as if it were "/".
func CatalogTree(ctx context.Context, name string, t *fstree.Tree, types *Types, spill *Spill) (*Result, error) {
	src, err := newTreeSource(ctx, name, t, types, spill)
	if err != nil {
		return nil, fmt.Errorf("cataloging %s: %w", name, err)
	}
	return run(ctx, name, src, sbomConfig(Options{types: types}))
}

// treeSource is a Syft source over a listed tree.
type treeSource struct {
	id   artifact.ID
	name string
	res  *treeResolver
}

func newTreeSource(ctx context.Context, name string, t *fstree.Tree, types *Types, spill *Spill) (*treeSource, error) {
	res, err := newTreeResolver(ctx, t, types, spill)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(name))
	return &treeSource{id: artifact.ID(hex.EncodeToString(sum[:8])), name: name, res: res}, nil
}

func (s *treeSource) ID() artifact.ID { return s.id }

func (s *treeSource) FileResolver(source.Scope) (file.Resolver, error) { return s.res, nil }

func (s *treeSource) Describe() source.Description {
	return source.Description{ID: string(s.id), Name: s.name, Metadata: source.DirectoryMetadata{Path: s.name}}
}

func (s *treeSource) Close() error { return nil }

// treeResolver answers Syft's catalogers from the tree's listing (paths,
// globs and links through stereoscope's file tree) and reads contents
// through the tree.
type treeResolver struct {
	ctx    context.Context
	t      *fstree.Tree
	types  *Types
	spill  *Spill
	tree   *filetree.FileTree
	index  basenameIndex
	search filetree.Searcher
	refs   map[string]stereofile.Reference // regular files, by path
}

var _ file.Resolver = (*treeResolver)(nil)

func newTreeResolver(ctx context.Context, t *fstree.Tree, types *Types, spill *Spill) (*treeResolver, error) {
	r := &treeResolver{ctx: ctx, t: t, types: types, spill: spill, tree: filetree.New(), index: basenameIndex{Index: filetree.NewIndex()}, refs: map[string]stereofile.Reference{}}
	names := map[string]bool{}
	for _, e := range t.Entries {
		if err := r.add(e); err != nil {
			return nil, err
		}
		names[path.Base(e.Path)] = true
	}
	r.index.names = slices.Sorted(maps.Keys(names))
	r.search = filetree.NewSearchContext(r.tree, r.index)
	return r, nil
}

// add puts one entry in the file tree and the index. Special files store
// no content and are left out.
func (r *treeResolver) add(e fstree.Entry) error {
	p := stereofile.Path(e.Path)
	var ref *stereofile.Reference
	var err error
	var typ stereofile.Type
	switch m := e.Mode.Type(); {
	case m.IsDir():
		typ = stereofile.TypeDirectory
		ref, err = r.tree.AddDir(p)
	case m&fs.ModeSymlink != 0:
		typ = stereofile.TypeSymLink
		ref, err = r.tree.AddSymLink(p, stereofile.Path(e.Link))
	case m.IsRegular():
		typ = stereofile.TypeRegular
		ref, err = r.tree.AddFile(p)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("indexing %s: %w", e.Path, err)
	}
	if ref == nil {
		return nil
	}
	info := stereofile.ManualInfo{NameValue: path.Base(e.Path), SizeValue: e.Size, ModeValue: e.Mode}
	r.index.Add(*ref, stereofile.Metadata{FileInfo: info, Path: e.Path, LinkDestination: e.Link, Type: typ})
	if typ == stereofile.TypeRegular {
		r.refs[e.Path] = *ref
	}
	return nil
}

// basenameIndex is stereoscope's index, but answers basename globs from a
// sorted list of the tree's basenames: only those that start with a
// glob's literal prefix are matched against it, where stereoscope matches
// every basename of the tree. Syft's dpkg cataloger asks one such glob per
// package (/var/lib/dpkg/info/NAME.*): on a Debian system of 700 packages
// and 70,000 files, 2 s of CPU. The entries found are the same.
type basenameIndex struct {
	filetree.Index
	names []string // sorted, unique; more than the index holds is harmless
}

func (x basenameIndex) GetByBasenameGlob(globs ...string) ([]filetree.IndexEntry, error) {
	for _, g := range globs {
		if strings.Contains(g, "**") || strings.Contains(g, "/") || !doublestar.ValidatePattern(g) {
			return x.Index.GetByBasenameGlob(globs...) // and its error
		}
	}
	var out []filetree.IndexEntry
	for _, g := range globs {
		prefix := g[:literalPrefix(g)]
		for i := sort.SearchStrings(x.names, prefix); i < len(x.names) && strings.HasPrefix(x.names[i], prefix); i++ {
			if x.names[i] == "/" || !doublestar.MatchUnvalidated(g, x.names[i]) {
				continue
			}
			es, err := x.Index.GetByBasename(x.names[i])
			if err != nil {
				return nil, err
			}
			out = append(out, es...)
		}
	}
	return out, nil
}

// literalPrefix is the length of a glob's start that matches only itself.
func literalPrefix(glob string) int {
	if i := strings.IndexAny(glob, `*?[]{}\`); i >= 0 {
		return i
	}
	return len(glob)
}

// HasPath reports whether p (links resolved) exists.
func (r *treeResolver) HasPath(p string) bool {
	return r.tree.HasPath(stereofile.Path(p))
}

// FilesByPath returns the files (not directories) at the given paths,
// links resolved; the access path is the one asked for.
func (r *treeResolver) FilesByPath(paths ...string) ([]file.Location, error) {
	out := make([]file.Location, 0, len(paths))
	for _, p := range paths {
		res, err := r.search.SearchByPath(p, filetree.FollowBasenameLinks)
		if err != nil || res == nil || !res.HasReference() {
			continue
		}
		if r.isDir(*res.Reference) {
			continue
		}
		out = append(out, file.NewVirtualLocationFromDirectory(string(res.RealPath), p, *res.Reference))
	}
	return out, nil
}

// FilesByGlob returns the files matching any pattern, each file once.
func (r *treeResolver) FilesByGlob(patterns ...string) ([]file.Location, error) {
	seen := stereofile.NewFileReferenceSet()
	out := make([]file.Location, 0)
	for _, pattern := range patterns {
		found, err := r.search.SearchByGlob(pattern, filetree.FollowBasenameLinks)
		if err != nil {
			return nil, fmt.Errorf("glob %q: %w", pattern, err)
		}
		for _, res := range found {
			if !res.HasReference() || seen.Contains(*res.Reference) || r.isDir(*res.Reference) {
				continue
			}
			seen.Add(*res.Reference)
			out = append(out, file.NewVirtualLocationFromDirectory(string(res.RealPath), string(res.RequestPath), *res.Reference))
		}
	}
	return out, nil
}

func (r *treeResolver) isDir(ref stereofile.Reference) bool {
	e, err := r.index.Get(ref)
	return err != nil || e.Type == stereofile.TypeDirectory
}

// FilesByMIMEType returns the regular files of the given MIME types, in
// path order, once the content scan has told them.
func (r *treeResolver) FilesByMIMEType(types ...string) ([]file.Location, error) {
	m, _ := r.types.get(r.ctx)
	want := map[string]bool{}
	for _, t := range types {
		want[t] = true
	}
	out := make([]file.Location, 0)
	for _, e := range r.t.Entries {
		ref, ok := r.refs[e.Path]
		if ok && want[m[e.Path]] {
			out = append(out, file.NewVirtualLocationFromDirectory(e.Path, e.Path, ref))
		}
	}
	return out, nil
}

// RelativeFileByPath resolves p as FilesByPath does.
func (r *treeResolver) RelativeFileByPath(_ file.Location, p string) *file.Location {
	locs, err := r.FilesByPath(p)
	if err != nil || len(locs) == 0 {
		return nil
	}
	return &locs[0]
}

// waitAbove is the size from which a file not in the spill is read only
// once the content scan has ended (see FileContentsByLocation).
const waitAbove = 1 << 20

// FileContentsByLocation opens a regular file for reading at any offset:
// its spilled copy when there is one, else where it lies.
func (r *treeResolver) FileContentsByLocation(loc file.Location) (io.ReadCloser, error) {
	if loc.RealPath == "" {
		return nil, errors.New("empty path given")
	}
	e, ok := r.t.Lookup(loc.RealPath)
	if !ok {
		return nil, fmt.Errorf("%s: %w", loc.RealPath, os.ErrNotExist)
	}
	if !e.Mode.IsRegular() {
		return nil, fmt.Errorf("cannot read contents of non-file %q", loc.RealPath)
	}
	sr, ok := r.spill.open(loc.RealPath)
	if !ok && r.spill != nil && r.types != nil && e.Size >= waitAbove {
		// The content scan may not have reached this file yet and is
		// about to keep a copy: wait for it rather than decompress a
		// large file from the image a second time.
		r.types.get(r.ctx)
		sr, ok = r.spill.open(loc.RealPath)
	}
	if ok {
		return &sectionFile{SectionReader: sr, c: io.NopCloser(nil)}, nil
	}
	f, err := r.t.Open(loc.RealPath)
	if err != nil {
		return nil, err
	}
	return &sectionFile{SectionReader: io.NewSectionReader(f, 0, e.Size), c: f}, nil
}

// sectionFile reads a file through a section reader, so Syft's binary
// catalogers seek and read at offsets instead of copying it to memory.
type sectionFile struct {
	*io.SectionReader
	c io.Closer
}

func (s *sectionFile) Close() error { return s.c.Close() }

// AllLocations lists every entry, links not resolved.
func (r *treeResolver) AllLocations(ctx context.Context) <-chan file.Location {
	out := make(chan file.Location)
	go func() {
		defer close(out)
		for _, ref := range r.tree.AllFiles(stereofile.AllTypes()...) {
			select {
			case <-ctx.Done():
				return
			case out <- file.NewLocationFromDirectory(string(ref.RealPath), "", ref):
			}
		}
	}()
	return out
}

// FileMetadataByLocation returns an entry's metadata, with its MIME type
// once the content scan has told it.
func (r *treeResolver) FileMetadataByLocation(loc file.Location) (file.Metadata, error) {
	e, err := r.index.Get(loc.Reference())
	if err != nil {
		return file.Metadata{}, fmt.Errorf("location %s: %w", loc.RealPath, os.ErrNotExist)
	}
	m := e.Metadata
	if m.Type == stereofile.TypeRegular {
		types, _ := r.types.get(r.ctx)
		m.MIMEType = types[m.Path]
	}
	return m, nil
}
