package binmeta

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
)

// maxArchiveDepth bounds the nesting of archives read: a jar inside an
// apk or an aar, and the jars inside that.
const maxArchiveDepth = 2

// zipScan collects the facts of a zip archive and of the archives nested
// in it.
type zipScan struct {
	s *source
	f *Facts
	// budget is how many more bytes entries may inflate to.
	budget  int64
	classes *nameSet
	isJar   bool
	isApk   bool
	errs    []error
}

// readZip returns the class names of a jar or apk: from the names of its
// .class entries, from the type tables of its root classes*.dex entries,
// and from the jars, aars and apks nested in it. A zip archive with none
// of .class entries, META-INF/, classes*.dex or AndroidManifest.xml is not
// a supported format: readZip returns nil facts for it.
func readZip(s *source) (*Facts, error) {
	zr, err := zip.NewReader(io.NewSectionReader(s.r, 0, s.size), s.size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, fmt.Errorf("reading zip archive: %w", err)
	}
	z := &zipScan{
		s:       s,
		f:       &Facts{},
		budget:  8 * s.lim.MaxSectionBytes,
		classes: newNameSet(s.lim.MaxClasses, s.lim),
	}
	z.archive(zr, 0)
	z.classes.into(z.f, &z.f.Classes)
	switch {
	case z.isApk:
		z.f.Format = "apk"
	case z.isJar || len(z.f.Classes) > 0:
		z.f.Format = "jar"
	default:
		return nil, nil
	}
	return z.f, errors.Join(z.errs...)
}

// archive scans the entries of one archive; depth is 0 for the file Read
// was given.
func (z *zipScan) archive(zr *zip.Reader, depth int) {
	for _, file := range zr.File {
		name := strings.TrimPrefix(file.Name, "/")
		switch {
		case strings.HasSuffix(name, ".class"):
			z.isJar = true
			if class := classFromPath(name); class != "" {
				z.classes.add([]byte(class))
			}
		case depth == 0 && strings.HasPrefix(name, "META-INF/"):
			z.isJar = true
		case depth == 0 && name == "AndroidManifest.xml":
			z.isApk = true
		case isDexName(name):
			if depth == 0 {
				z.isApk = true
			}
			data, err := z.readEntry(file)
			if err != nil {
				z.fail(file.Name, err)
				continue
			}
			if err := dexClasses(data, z.classes); err != nil {
				z.fail(file.Name, err)
			}
		case isArchiveName(name) && depth < maxArchiveDepth:
			data, err := z.readEntry(file)
			if err != nil {
				z.fail(file.Name, err)
				continue
			}
			inner, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
			if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && inner != nil) {
				z.fail(file.Name, fmt.Errorf("reading nested archive: %w", err))
				continue
			}
			z.archive(inner, depth+1)
		}
	}
}

// fail records the error of one entry: an entry over the limits only
// marks the facts truncated.
func (z *zipScan) fail(entry string, err error) {
	z.f.Truncated = true
	if !isTooLarge(err) {
		z.errs = append(z.errs, fmt.Errorf("zip entry %s: %w", entry, err))
	}
}

// readEntry inflates one entry, within Limits.MaxSectionBytes and what is
// left of the archive's budget.
func (z *zipScan) readEntry(file *zip.File) ([]byte, error) {
	limit := min(z.s.lim.MaxSectionBytes, z.budget)
	if file.UncompressedSize64 > uint64(limit) {
		return nil, &tooLargeError{what: "zip entry", n: int64(min(file.UncompressedSize64, 1<<62)), max: limit}
	}
	rc, err := file.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &tooLargeError{what: "zip entry", n: int64(len(data)), max: limit}
	}
	z.budget -= int64(len(data))
	return data, nil
}

// isDexName reports whether an entry is a dex file at the root of an
// archive: classes.dex, classes2.dex and so on.
func isDexName(name string) bool {
	num, ok1 := strings.CutPrefix(name, "classes")
	num, ok2 := strings.CutSuffix(num, ".dex")
	return ok1 && ok2 && strings.Trim(num, "0123456789") == ""
}

// isArchiveName reports whether an entry is a nested Java or Android
// archive.
func isArchiveName(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".jar", ".aar", ".apk", ".war", ".ear":
		return true
	}
	return false
}

// classFromPath returns the dotted class name of a .class entry
// ("com/example/Foo$Bar.class" is "com.example.Foo$Bar"), dropping the
// prefixes of multi-release jars, Spring Boot jars and web archives. It
// returns "" for module-info and package-info and for paths that are no
// class name.
func classFromPath(name string) string {
	name = strings.TrimSuffix(name, ".class")
	if rest, ok := strings.CutPrefix(name, "META-INF/versions/"); ok {
		_, name, _ = strings.Cut(rest, "/")
	}
	for _, prefix := range []string{"BOOT-INF/classes/", "WEB-INF/classes/"} {
		name = strings.TrimPrefix(name, prefix)
	}
	base := path.Base(name)
	if name == "" || base == "module-info" || base == "package-info" || len(name) > maxNameBytes {
		return ""
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." || strings.ContainsAny(part, ".\\") {
			return ""
		}
	}
	return strings.ReplaceAll(name, "/", ".")
}
