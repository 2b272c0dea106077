package inventory

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// unpackOCIArchive copies the OCI image layout held in the tar file archive
// (oci-layout, index.json and blobs/...) into a new temporary directory and
// returns it; the caller removes it. It exists because stereoscope's
// oci-archive reader refuses archives that carry a "./" root entry, which is
// what "tar -C layout -cf image.tar ." writes. Only regular files and
// directories are copied; any other entry (links included) is skipped and
// names that are absolute or climb out of the archive are refused. The
// archive is plain tar, so the copy is no larger than the archive itself.
// It fails when the archive holds no oci-layout file.
func unpackOCIArchive(ctx context.Context, archive string) (dir string, err error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	dir, err = os.MkdirTemp("", "oemtrace-oci-")
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(dir)
			dir = ""
		}
	}()
	tr := tar.NewReader(f)
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", err
		}
		if err := copyLayoutEntry(tr, h, dir); err != nil {
			return "", fmt.Errorf("%s: %w", h.Name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "oci-layout")); err != nil {
		return "", errors.New("not an OCI image layout archive (no oci-layout file)")
	}
	return dir, nil
}

// copyLayoutEntry writes one entry of an OCI layout tar below dir. Only the
// layout's own members are kept: oci-layout, index.json and blobs/**.
func copyLayoutEntry(r io.Reader, h *tar.Header, dir string) error {
	name := path.Clean(strings.TrimPrefix(filepath.ToSlash(h.Name), "./"))
	if name == "." || name == "/" {
		return nil
	}
	if !filepath.IsLocal(filepath.FromSlash(name)) {
		return errors.New("refusing a path outside the archive root")
	}
	if name != "oci-layout" && name != "index.json" && name != "blobs" && !strings.HasPrefix(name, "blobs/") {
		return nil
	}
	target := filepath.Join(dir, filepath.FromSlash(name))
	switch h.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(target, 0o700)
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		out, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, r); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
	return nil
}
