package ingest

import (
	"strconv"
	"strings"
)

// maxLocationLen bounds the length of a Location. Only pathologically nested
// documents reach it: a component nested 20,000 levels deep would otherwise
// carry a JSON pointer of a quarter of a megabyte, and every field of every
// component on the way down another one, which is quadratic in the depth.
// Longer locations keep their first quarter and their last half, cut at
// segment boundaries, with the middle replaced by "/…".
const maxLocationLen = 2048

// elided marks the segments shortenLoc removed from a location.
const elided = "/…"

// joinLoc appends suffix (which starts with "/") to the location parent,
// shortening the result if it would exceed maxLocationLen. The result depends
// only on parent and suffix, so every walker that builds the same path gets
// the same string.
func joinLoc(parent, suffix string) string {
	s := parent + suffix
	if len(s) <= maxLocationLen {
		return s
	}
	return shortenLoc(s)
}

// shortenLoc elides middle segments of an over-long location.
func shortenLoc(s string) string {
	h := strings.IndexByte(s[maxLocationLen/4:], '/')
	if h < 0 {
		return s
	}
	h += maxLocationLen / 4
	t := strings.IndexByte(s[len(s)-maxLocationLen/2:], '/')
	if t < 0 {
		return s
	}
	t += len(s) - maxLocationLen/2
	if t <= h {
		return s
	}
	return s[:h] + elided + s[t:]
}

// itoa formats an index.
func itoa(i int) string { return strconv.Itoa(i) }

// isBlank reports whether a value carries nothing worth matching.
func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// addField appends a field to c unless its value is blank.
func addField(c *Component, kind FieldKind, qualifier, value, loc string) {
	if isBlank(value) {
		return
	}
	c.Fields = append(c.Fields, Field{Kind: kind, Qualifier: qualifier, Value: value, Location: loc})
}

// normHashAlg spells a digest algorithm name the way CycloneDX does, upper
// case: "sha256" and "SHA256" become "SHA-256", "sha3_512" becomes
// "SHA3-512", "BLAKE2b-256" becomes "BLAKE2B-256".
func normHashAlg(alg string) string {
	u := strings.ToUpper(strings.TrimSpace(alg))
	u = strings.ReplaceAll(u, "_", "-")
	switch u {
	case "SHA1", "SHA224", "SHA256", "SHA384", "SHA512":
		return "SHA-" + u[3:]
	case "SHA3256", "SHA3384", "SHA3512", "SHA3224":
		return "SHA3-" + u[4:]
	}
	return u
}

// addHash appends a KindHash field "ALG:value".
func addHash(c *Component, alg, value, loc string) {
	if isBlank(value) {
		return
	}
	a := normHashAlg(alg)
	c.Fields = append(c.Fields, Field{Kind: KindHash, Qualifier: a, Value: a + ":" + value, Location: loc})
}
