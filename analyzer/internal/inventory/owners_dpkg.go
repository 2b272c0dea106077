package inventory

import (
	"bufio"
	"path"
	"strings"

	"github.com/anchore/syft/syft/file"
	"github.com/anchore/syft/syft/pkg"
)

// maxListLines bounds how many lines of one dpkg .list file are read.
const maxListLines = 1 << 20

// dpkgListFiles returns the paths named by the dpkg info .list file of a
// deb package (info/NAME:ARCH.list for Multi-Arch: same packages, else
// info/NAME.list, next to the status file), with symbolic links resolved
// inside the tree, followed by the path of the .list file itself. Syft
// builds its own file list from md5sums and conffiles only, which leaves out
// symbolic links and files without a checksum; the .list file is dpkg's
// complete record. Directories are skipped. Nil when there is no .list file.
func dpkgListFiles(resolver file.Resolver, p pkg.Package, m pkg.DpkgDBEntry) []string {
	db := primaryPath(p)
	if path.Base(db) != "status" {
		return nil // status.d layouts (distroless) have no info directory
	}
	info := path.Join(path.Dir(db), "info")
	var lists []file.Location
	for _, name := range []string{m.Package + ":" + m.Architecture, m.Package} {
		if locs, err := resolver.FilesByPath(path.Join(info, name+".list")); err == nil && len(locs) > 0 {
			lists = locs
			break
		}
	}
	if len(lists) == 0 {
		return nil
	}
	rc, err := resolver.FileContentsByLocation(lists[0])
	if err != nil {
		return nil
	}
	defer rc.Close()
	var out []string
	sc := bufio.NewScanner(rc)
	for n := 0; sc.Scan() && n < maxListLines; n++ {
		f := strings.TrimSpace(sc.Text())
		if !path.IsAbs(f) {
			continue
		}
		locs, err := resolver.FilesByPath(f)
		if err != nil {
			continue
		}
		for _, l := range locs {
			out = append(out, path.Clean(f), locPath(l))
		}
	}
	return append(out, locPath(lists[0]))
}
