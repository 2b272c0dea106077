package extract

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// ImageFormat reports whether dir holds an unpacked container image
// archive: "docker-archive" (manifest.json, as docker save writes),
// "oci" (an OCI image layout: oci-layout and index.json), or "".
func ImageFormat(dir string) string {
	if exists(filepath.Join(dir, "oci-layout")) && exists(filepath.Join(dir, "index.json")) {
		return "oci"
	}
	if exists(filepath.Join(dir, "manifest.json")) {
		var m []struct{ Layers []string }
		if readJSON(filepath.Join(dir, "manifest.json"), &m) == nil && len(m) > 0 && len(m[0].Layers) > 0 {
			return "docker-archive"
		}
	}
	return ""
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func readJSON(p string, v any) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return json.NewDecoder(io.LimitReader(f, 16<<20)).Decode(v)
}

// Flatten applies the layers of the first image in the unpacked image
// archive at src, in order and with whiteouts, into dst: the container's
// root filesystem.
func Flatten(src, dst string, lim Limits) ([]Gap, error) {
	layers, err := imageLayers(src)
	if err != nil {
		return nil, err
	}
	var gaps []Gap
	for _, l := range layers {
		p := filepath.Join(src, filepath.FromSlash(l))
		rel, err := filepath.Rel(src, p)
		if err != nil || strings.HasPrefix(rel, "..") {
			return nil, fmt.Errorf("image layer %q is outside the image", l)
		}
		f, err := os.Open(p)
		if err != nil {
			gaps = append(gaps, Gap{Path: "/" + l, Reason: "image layer missing: " + err.Error()})
			continue
		}
		g, err := extractTar(f, dst, lim, true)
		f.Close()
		if err != nil {
			gaps = append(gaps, Gap{Path: "/" + l, Reason: "image layer not readable (only tar and tar+gzip layers are supported): " + err.Error()})
			continue
		}
		gaps = append(gaps, g...)
	}
	return gaps, nil
}

// imageLayers lists the layer files of the first image, relative to src.
func imageLayers(src string) ([]string, error) {
	switch ImageFormat(src) {
	case "docker-archive":
		var m []struct{ Layers []string }
		if err := readJSON(filepath.Join(src, "manifest.json"), &m); err != nil {
			return nil, fmt.Errorf("reading manifest.json: %w", err)
		}
		return m[0].Layers, nil
	case "oci":
		type descriptor struct {
			MediaType string `json:"mediaType"`
			Digest    string `json:"digest"`
		}
		var idx struct{ Manifests []descriptor }
		if err := readJSON(filepath.Join(src, "index.json"), &idx); err != nil {
			return nil, fmt.Errorf("reading index.json: %w", err)
		}
		for depth := 0; depth < 4 && len(idx.Manifests) > 0; depth++ {
			blob, err := blobPath(idx.Manifests[0].Digest)
			if err != nil {
				return nil, err
			}
			var m struct {
				Manifests []descriptor
				Layers    []descriptor
			}
			if err := readJSON(filepath.Join(src, blob), &m); err != nil {
				return nil, fmt.Errorf("reading image manifest: %w", err)
			}
			if len(m.Manifests) > 0 { // a nested index
				idx.Manifests = m.Manifests
				continue
			}
			var out []string
			for _, l := range m.Layers {
				p, err := blobPath(l.Digest)
				if err != nil {
					return nil, err
				}
				out = append(out, p)
			}
			return out, nil
		}
		return nil, fmt.Errorf("OCI index names no image manifest")
	}
	return nil, fmt.Errorf("not a container image archive")
}

func blobPath(digest string) (string, error) {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok || alg == "" || hex == "" || strings.ContainsAny(digest, "/\\.") {
		return "", fmt.Errorf("invalid blob digest %q", digest)
	}
	return "blobs/" + alg + "/" + hex, nil
}
