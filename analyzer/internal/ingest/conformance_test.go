package ingest

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/oemtrace/oemtrace/internal/testutil"
)

// confFile is one conformance file and what it must get.
type confFile struct {
	rel   string // path below the conformance directory
	path  string
	group string // "valid", "invalid", "bom-examples", "spdx"
}

// conformanceFiles lists the conformance files by group.
func conformanceFiles(t *testing.T) []confFile {
	t.Helper()
	dir := testutil.ConformanceDir(t)
	var files []confFile
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".md") {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		base := filepath.Base(p)
		f := confFile{rel: filepath.ToSlash(rel), path: p}
		switch {
		case strings.HasPrefix(rel, "bom-examples"):
			f.group = "bom-examples"
		case strings.HasPrefix(rel, "spdx-examples"), strings.HasPrefix(rel, "tools-golang"):
			f.group = "spdx"
		case strings.HasPrefix(base, "valid-"):
			f.group = "valid"
		case strings.Contains(base, "invalid-"):
			f.group = "invalid"
		default:
			t.Errorf("conformance file %s fits no group", rel)
			return nil
		}
		files = append(files, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no conformance files")
	}
	return files
}

// wantFormat is the format a conformance file must decode as.
func wantFormat(f confFile) Format {
	switch {
	case f.group == "spdx" && strings.HasSuffix(f.rel, ".json"):
		return SPDXJSON
	case f.group == "spdx":
		return SPDXTagValue
	case strings.HasSuffix(f.rel, ".xml"):
		return CycloneDXXML
	}
	return CycloneDXJSON
}

// TestConformance decodes every conformance file: valid CycloneDX files,
// bom-examples and SPDX examples must decode; invalid ones must return a
// Document or a *DecodeError, never panic or hang (each runs under a
// deadline). No file may yield a field that names Kaspersky.
func TestConformance(t *testing.T) {
	files := conformanceFiles(t)
	type tally struct{ ok, refused, tolerant int }
	var (
		mu     sync.Mutex
		counts = map[string]*tally{}
		notes  []string
	)
	t.Cleanup(func() {
		groups := make([]string, 0, len(counts))
		for g := range counts {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		for _, g := range groups {
			c := counts[g]
			t.Logf("%-13s %3d decoded (%d via a tolerant path), %3d refused", g, c.ok, c.tolerant, c.refused)
		}
		sort.Strings(notes)
		for _, n := range notes {
			t.Log(n)
		}
	})
	for _, f := range files {
		t.Run(f.rel, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			doc, err := Decode(ctx, f.rel, bytes.NewReader(data), Options{})
			mu.Lock()
			c := counts[f.group]
			if c == nil {
				c = &tally{}
				counts[f.group] = c
			}
			if err != nil {
				c.refused++
			} else {
				c.ok++
				if len(doc.Notes) > 0 {
					c.tolerant++
					notes = append(notes, f.rel+": "+strings.Join(doc.Notes, "; "))
				}
			}
			mu.Unlock()
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("error is %T, not *DecodeError: %v", err, err)
				}
				if ctx.Err() != nil {
					t.Fatalf("deadline exceeded: %v", err)
				}
				if f.group != "invalid" {
					t.Fatalf("Decode: %v", err)
				}
				t.Logf("refused: %v", err)
				return
			}
			if doc.Format != wantFormat(f) {
				t.Errorf("Format = %q, want %q", doc.Format, wantFormat(f))
			}
			for _, comp := range doc.Components {
				for _, fl := range comp.Fields {
					v := strings.ToLower(fl.Value)
					if strings.Contains(v, "kaspersk") || strings.Contains(v, "касперск") {
						t.Errorf("field %+v names Kaspersky", fl)
					}
					if fl.Location == "" {
						t.Errorf("field %+v has no location", fl)
					}
				}
				if comp.Location == "" {
					t.Errorf("component %q has no location", comp.Name)
				}
			}
		})
	}
}

// TestConformanceDifferential checks that the strict and the tolerant
// decoders of each format produce identical Components (and Incomplete
// reasons) for every conformance file both accept.
func TestConformanceDifferential(t *testing.T) {
	files := conformanceFiles(t)
	var (
		mu       sync.Mutex
		compared = map[Format]int{}
	)
	t.Cleanup(func() {
		for _, f := range []Format{CycloneDXJSON, CycloneDXXML, SPDXJSON, SPDXTagValue} {
			t.Logf("%s: %d files compared", f, compared[f])
		}
	})
	ctx := context.Background()
	for _, f := range files {
		t.Run(f.rel, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(f.path)
			if err != nil {
				t.Fatal(err)
			}
			format := wantFormat(f)
			var strict, tolerant *Document
			var serr, terr error
			switch format {
			case CycloneDXJSON:
				strict, serr = decodeCDXJSONStrict(ctx, data, "")
				tolerant, terr = decodeCDXJSONTolerant(ctx, f.rel, data)
			case CycloneDXXML:
				if cdxXMLNeedsTolerant(data) {
					t.Skip("read with the tolerant decoder only")
				}
				strict, serr = decodeCDXXMLStrict(ctx, data, "")
				tolerant, terr = decodeCDXXMLTolerant(ctx, f.rel, data)
			case SPDXJSON:
				sm, err := spdxJSONStrict(data)
				strict, serr = spdxDocFromModel(ctx, false, sm, err)
				tm, err := spdxJSONTolerant(f.rel, data)
				tolerant, terr = spdxDocFromModel(ctx, false, tm, err)
			case SPDXTagValue:
				pairs, err := readTagValues(ctx, data)
				if err != nil {
					t.Fatal(err)
				}
				tv, err := buildTagValue(ctx, pairs)
				if err != nil {
					t.Fatal(err)
				}
				sm, err := spdxTVStrict(data, tv.elemLine)
				strict, serr = spdxDocFromModel(ctx, true, sm, err)
				if serr == nil {
					resolveTVLines(strict.Components, tv)
				}
				tolerant, terr = spdxDocFromModel(ctx, true, tv.model, nil)
				resolveTVLines(tolerant.Components, tv)
			}
			if serr != nil || terr != nil {
				if f.group != "invalid" {
					t.Logf("not compared: strict: %v; tolerant: %v", serr, terr)
				}
				return
			}
			mu.Lock()
			compared[format]++
			mu.Unlock()
			type view struct {
				Components []Component
				Incomplete []string
			}
			if diff := cmp.Diff(view{strict.Components, strict.Incomplete}, view{tolerant.Components, tolerant.Incomplete}); diff != "" {
				t.Errorf("strict and tolerant decoders differ (-strict +tolerant):\n%s", diff)
			}
		})
	}
}

// spdxDocFromModel emits an SPDX model as a Document (tag-value locations
// still unresolved).
func spdxDocFromModel(ctx context.Context, tv bool, m *spdxModel, err error) (*Document, error) {
	if err != nil {
		return nil, err
	}
	comps, err := spdxEmitter{tv: tv}.emit(ctx, m)
	if err != nil {
		return nil, err
	}
	return &Document{Components: comps}, nil
}
