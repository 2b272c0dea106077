package firmware

import (
	"github.com/oemtrace/oemtrace/analyzer/internal/extract"
	"github.com/oemtrace/oemtrace/analyzer/internal/fstree"
)

// Layer is one container on the way from the input to a file tree.
type Layer struct {
	// Format names the container ("uimage", "gzip", "squashfs", ...).
	Format string
	// Offset is where the container starts inside the bytes that hold it:
	// the input, or the decompressed content of the enclosing stream.
	Offset int64
}

// Root is one file tree: the content of one filesystem or archive, or the
// raw regions of a layer that no unpacker opened.
type Root struct {
	// Dir is the directory holding the tree, written below the
	// destination directory; "" for a tree read in place.
	Dir string
	// Tree is a filesystem image read in place (Visit only), listed with
	// the unpacking limits. Its files can be read only during the visit.
	Tree *fstree.Tree
	// Chain lists the containers from the input down to this tree,
	// outermost first.
	Chain []Layer
	// Raw is true for a tree of raw byte regions (no filesystem): their
	// content is worth scanning, but they hold no packages to catalogue.
	Raw bool
}

// Gap is a part of the input that could not be examined.
type Gap struct {
	// Chain is the container the gap lies in.
	Chain []Layer
	// Path is the file or region inside that container ("/" for the
	// container as a whole).
	Path   string
	Reason string
}

// Coverage accounts for the bytes of the input.
type Coverage struct {
	// Size is the input's size.
	Size int64
	// Unpacked counts bytes inside containers an unpacker opened.
	Unpacked int64
	// Content counts bytes examined as plain content (raw regions no
	// unpacker opened, and padding).
	Content int64
}

// Unexamined is the number of bytes neither unpacked nor scanned.
func (c Coverage) Unexamined() int64 { return max(c.Size-c.Unpacked-c.Content, 0) }

// Result is what Unpack found and wrote.
type Result struct {
	Roots    []Root
	Gaps     []Gap
	Coverage Coverage
}

// Layers returns the formats of the first filesystem or archive root's
// chain (or else the first root's), the main path through the image, for
// example ["uimage", "gzip", "cpio"].
func (r *Result) Layers() []string {
	if len(r.Roots) == 0 {
		return nil
	}
	main := r.Roots[0]
	for _, root := range r.Roots {
		if !root.Raw {
			main = root
			break
		}
	}
	var out []string
	for _, l := range main.Chain {
		out = append(out, l.Format)
	}
	return out
}

// withChain turns extraction gaps into gaps of a container.
func withChain(chain []Layer, gaps []extract.Gap) []Gap {
	out := make([]Gap, 0, len(gaps))
	for _, g := range gaps {
		out = append(out, Gap{Chain: chain, Path: g.Path, Reason: g.Reason})
	}
	return out
}
