package inventory

import (
	"cmp"
	"slices"

	"github.com/anchore/syft/syft/sbom"
)

// unknowns lists the files Syft could not catalog, one entry per reason,
// sorted by path and reason.
func unknowns(s *sbom.SBOM) []Unknown {
	var out []Unknown
	for coords, reasons := range s.Artifacts.Unknowns {
		for _, r := range reasons {
			out = append(out, Unknown{Path: coords.FullNestedPath(), Reason: r})
		}
	}
	slices.SortFunc(out, func(a, b Unknown) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Reason, b.Reason))
	})
	return out
}
