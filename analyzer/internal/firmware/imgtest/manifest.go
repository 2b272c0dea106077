package imgtest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
)

// maxDepth bounds the directory nesting the walks here follow. The readers
// refuse paths deeper than 256 directories, so a deeper walk means that
// one of them let a directory loop through.
const maxDepth = 300

// ReadManifest reads the manifest at file, as a fixture's make.sh wrote it:
// one line per entry, "type path size sha256 [target]". It returns the
// lines sorted, the order Describe returns them in.
func ReadManifest(t testing.TB, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for _, l := range lines {
		if len(strings.Fields(l)) < 4 {
			t.Fatalf("%s: bad manifest line %q", file, l)
		}
	}
	slices.Sort(lines)
	return lines
}

// Files returns the paths of the regular files of a manifest.
func Files(manifest []string) []string {
	var out []string
	for _, l := range manifest {
		if fields := strings.Fields(l); fields[0] == "f" {
			out = append(out, fields[1])
		}
	}
	return out
}

// CheckManifest describes fsys (see Describe) and reports every line that
// differs from want, a manifest as ReadManifest returns it.
func CheckManifest(t *testing.T, fsys fs.FS, noSize string, want []string) {
	t.Helper()
	got, err := Describe(fsys, noSize)
	if err != nil {
		t.Error(err)
	}
	if slices.Equal(got, want) {
		return
	}
	for _, l := range want {
		if _, found := slices.BinarySearch(got, l); !found {
			t.Errorf("missing    %q", l)
		}
	}
	for _, l := range got {
		if _, found := slices.BinarySearch(want, l); !found {
			t.Errorf("unexpected %q", l)
		}
	}
	if len(slices.Compact(slices.Clone(got))) != len(got) {
		t.Errorf("entries listed twice: %q", got)
	}
}

// Describe walks fsys from "." and returns its manifest, sorted: one line
// per entry in make.sh's format, with noSize ("0" or "-", as the fixture
// script writes it) in the size column of directories and special files.
// It reads every link target and, in parallel, every regular file, and
// fails when what it read disagrees with the entry's FileInfo.
func Describe(fsys fs.FS, noSize string) ([]string, error) {
	d := &describer{fsys: fsys, noSize: noSize}
	err := d.walk(".", 0)
	d.wg.Wait()
	slices.Sort(d.lines)
	return d.lines, errors.Join(append(d.errs, err)...)
}

// kinds are the manifest types of special files.
var kinds = map[fs.FileMode]string{
	fs.ModeDevice | fs.ModeCharDevice: "c", fs.ModeDevice: "b", fs.ModeNamedPipe: "p", fs.ModeSocket: "s",
}

// describer collects manifest lines from the walk and from the goroutines
// that hash regular files.
type describer struct {
	fsys   fs.FS
	noSize string
	wg     sync.WaitGroup

	mu    sync.Mutex
	lines []string
	errs  []error
}

func (d *describer) add(line string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.errs = append(d.errs, err)
		return
	}
	d.lines = append(d.lines, line)
}

// walk describes the entries of dir, depth directories below ".".
func (d *describer) walk(dir string, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%s: walk deeper than %d directories", dir, maxDepth)
	}
	entries, err := fs.ReadDir(d.fsys, dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		p := path.Join(dir, e.Name())
		info, err := e.Info()
		if err != nil {
			return err
		}
		typ := info.Mode().Type()
		if typ != e.Type() {
			return fmt.Errorf("%s: entry type %v, inode type %v", p, e.Type(), typ)
		}
		switch {
		case typ == fs.ModeDir:
			d.add(fmt.Sprintf("d %s %s -", p, d.noSize), nil)
			if err := d.walk(p, depth+1); err != nil {
				return err
			}
		case typ == fs.ModeSymlink:
			d.add(describeLink(d.fsys, p, info))
		case typ == 0:
			// Reading files at once also checks that separate handles
			// share the reader safely (run with -race).
			d.wg.Go(func() { d.add(describeFile(d.fsys, p, info)) })
		case kinds[typ] != "":
			d.add(fmt.Sprintf("%s %s %s -", kinds[typ], p, d.noSize), nil)
		default:
			return fmt.Errorf("%s: unexpected type %v", p, typ)
		}
	}
	return nil
}

func describeLink(fsys fs.FS, p string, info fs.FileInfo) (string, error) {
	target, err := fs.ReadLink(fsys, p)
	if err != nil {
		return "", err
	}
	if info.Size() != int64(len(target)) {
		return "", fmt.Errorf("%s: target of %d bytes, size %d", p, len(target), info.Size())
	}
	return fmt.Sprintf("l %s %d - %s", p, len(target), target), nil
}

func describeFile(fsys fs.FS, p string, info fs.FileInfo) (string, error) {
	sum, n, err := hashFile(fsys, p, make([]byte, 1000)) // not a block multiple
	if err != nil {
		return "", err
	}
	if n != info.Size() {
		return "", fmt.Errorf("%s: read %d bytes, size %d", p, n, info.Size())
	}
	return fmt.Sprintf("f %s %d %s", p, n, sum), nil
}

// hashFile returns the hex SHA-256 of file name and its length, reading
// it with Read calls of len(buf) bytes.
func hashFile(fsys fs.FS, name string, buf []byte) (string, int64, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, f, buf)
	return hex.EncodeToString(h.Sum(nil)), n, err
}

// CheckConcurrentReads reads the regular files names of fsys from several
// goroutines at once (run with -race) and checks each against manifest,
// as ReadManifest returns it.
func CheckConcurrentReads(t *testing.T, fsys fs.FS, manifest []string, names ...string) {
	t.Helper()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			buf := make([]byte, 32<<10)
			for _, p := range names {
				sum, n, err := hashFile(fsys, p, buf)
				line := fmt.Sprintf("f %s %d %s", p, n, sum)
				if _, found := slices.BinarySearch(manifest, line); err != nil || !found {
					t.Errorf("%s: %q, %v", p, line, err)
				}
			}
		})
	}
	wg.Wait()
}

// CheckTreeLinks checks how fsys, an image of the tree that the cramfs and
// jffs2 fixture scripts both build, resolves symbolic links and refuses
// bad names.
func CheckTreeLinks(t *testing.T, fsys fs.FS) {
	t.Helper()
	b, err := fs.ReadFile(fsys, "usr/share/base.link")
	if err != nil || !bytes.HasPrefix(b, []byte("AVP Antiviral Database.")) {
		t.Fatalf("reading through a relative link: %q, %v", b, err)
	}
	if _, err := fs.Stat(fsys, "lib/sub/deeper/deepest/libfixture.so"); err != nil {
		t.Fatalf("stat through a directory link: %v", err)
	}
	if info, err := fs.Lstat(fsys, "lib"); err != nil || info.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("Lstat(lib) = %v, %v", info, err)
	}
	if _, err := fs.ReadLink(fsys, "etc"); err == nil {
		t.Fatal("ReadLink of a directory succeeded")
	}
	for _, bad := range []string{"/etc", "etc/", "../etc", "etc/../etc", "nope", "etc/hostname/x"} {
		if _, err := fsys.Open(bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}
