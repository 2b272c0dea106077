package ingest

import (
	"bytes"
	"encoding/json"
)

// jsonTop is what a quick, non-validating pass over a JSON text learns about
// its top level: which members the top-level object has, the raw values of
// the few members that tell SBOM formats apart, how deep the text nests, and
// whether the pass reached the end of the object. The pass is iterative and
// allocation-light; it runs over the whole input before any real decoder so
// that format, version and nesting depth are known up front.
type jsonTop struct {
	// isObject is true when the first non-blank byte is '{'.
	isObject bool
	// first is the first non-blank byte (0 for blank input).
	first byte
	// complete is true when the top-level object was closed.
	complete bool
	// keys holds the top-level member names (at most maxTopKeys).
	keys map[string]bool
	// values holds the raw JSON values of the members in topValueKeys.
	values map[string][]byte
	// maxDepth is the deepest nesting of objects and arrays seen.
	maxDepth int
	// errOff is the offset of the first syntax problem, -1 if none; errMsg
	// describes it.
	errOff int
	errMsg string
	// spans holds the byte range of each top-level member value (the last
	// one for a repeated member), and order the member names in document
	// order; end is the offset just past the top-level object. All three
	// are valid when complete is true and errOff is -1.
	spans map[string][2]int
	order []string
	end   int
	// dup is true when a top-level member name repeats.
	dup bool
}

// maxTopKeys bounds how many top-level member names jsonTop remembers.
const maxTopKeys = 4096

// maxTopValue bounds the size of a raw value jsonTop keeps; the values are
// copied so that jsonTop does not keep the whole input alive.
const maxTopValue = 64 << 10

// topValueKeys are the top-level members whose raw values jsonTop keeps.
var topValueKeys = map[string]bool{
	"bomFormat": true, "specVersion": true, "spdxVersion": true,
	"@context": true, "schema": true, "$schema": true, "SPDXID": true,
}

// has reports whether the top-level object has member k.
func (t *jsonTop) has(k string) bool { return t.keys[k] }

// str returns the string value of top-level member k, and whether it is a
// JSON string.
func (t *jsonTop) str(k string) (string, bool) {
	raw, ok := t.values[k]
	if !ok || len(raw) == 0 || raw[0] != '"' {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// isJSONSpace reports JSON insignificant whitespace.
func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the offset of the first non-blank byte at or after i.
func skipSpace(data []byte, i int) int {
	for i < len(data) && isJSONSpace(data[i]) {
		i++
	}
	return i
}

// scanString returns the offset just past the JSON string starting at
// data[i] (which is '"'), or -1 if the input ends first.
func scanString(data []byte, i int) int {
	j := i + 1
	for {
		k := bytes.IndexByte(data[j:], '"')
		if k < 0 {
			return -1
		}
		p := j + k
		n := 0
		for q := p - 1; q > i && data[q] == '\\'; q-- {
			n++
		}
		if n%2 == 0 {
			return p + 1
		}
		j = p + 1
	}
}

// skipJSONValue returns the offset just past the JSON value starting at
// data[i], the nesting depth of that value (0 for scalars), and whether the
// value ended before the input did. It does not validate the value.
func skipJSONValue(data []byte, i int) (end, depth int, ok bool) {
	if i >= len(data) {
		return i, 0, false
	}
	switch data[i] {
	case '"':
		e := scanString(data, i)
		if e < 0 {
			return len(data), 0, false
		}
		return e, 0, true
	case '{', '[':
		d := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				e := scanString(data, i)
				if e < 0 {
					return len(data), depth, false
				}
				i = e
				continue
			case '{', '[':
				d++
				if d > depth {
					depth = d
				}
			case '}', ']':
				d--
				if d == 0 {
					return i + 1, depth, true
				}
			}
			i++
		}
		return len(data), depth, false
	default:
		j := i
		for j < len(data) {
			c := data[j]
			if c == ',' || c == '}' || c == ']' || isJSONSpace(c) {
				break
			}
			j++
		}
		if j == i {
			return i, 0, false
		}
		return j, 0, j < len(data)
	}
}

// scanJSONTop runs the quick pass over data.
func scanJSONTop(data []byte) *jsonTop {
	t := &jsonTop{errOff: -1, keys: map[string]bool{}, values: map[string][]byte{}, spans: map[string][2]int{}}
	i := skipSpace(data, skipBOM(data))
	if i >= len(data) {
		return t
	}
	t.first = data[i]
	if data[i] != '{' {
		return t
	}
	t.isObject = true
	t.maxDepth = 1
	i++
	fail := func(off int, msg string) *jsonTop {
		t.errOff, t.errMsg = off, msg
		return t
	}
	for n := 0; ; n++ {
		i = skipSpace(data, i)
		if i >= len(data) {
			return t
		}
		if data[i] == '}' && n == 0 {
			t.complete = true
			t.end = i + 1
			return t
		}
		if data[i] != '"' {
			return fail(i, "expected a member name")
		}
		e := scanString(data, i)
		if e < 0 {
			return t
		}
		var key string
		if plainString(data[i+1 : e-1]) {
			key = string(data[i+1 : e-1])
		} else if json.Unmarshal(data[i:e], &key) != nil {
			return fail(i, "invalid member name")
		}
		i = skipSpace(data, e)
		if i >= len(data) {
			return t
		}
		if data[i] != ':' {
			return fail(i, "expected ':' after member name")
		}
		i = skipSpace(data, i+1)
		if i >= len(data) {
			return t
		}
		start := i
		end, d, ok := skipJSONValue(data, i)
		if 1+d > t.maxDepth {
			t.maxDepth = 1 + d
		}
		if len(t.keys) < maxTopKeys {
			if t.keys[key] {
				t.dup = true
			} else {
				t.order = append(t.order, key)
			}
			t.keys[key] = true
			t.spans[key] = [2]int{start, end}
		}
		if !ok {
			if end == start {
				return fail(i, "expected a value")
			}
			return t
		}
		if topValueKeys[key] && end-start <= maxTopValue {
			t.values[key] = bytes.Clone(data[start:end])
		}
		i = skipSpace(data, end)
		if i >= len(data) {
			return t
		}
		switch data[i] {
		case ',':
			i++
		case '}':
			t.complete = true
			t.end = i + 1
			if len(t.keys) >= maxTopKeys {
				t.spans, t.order = nil, nil // too many to be useful
			}
			return t
		default:
			return fail(i, "expected ',' or '}' after a member value")
		}
	}
}

// plainString reports whether the body of a JSON string has neither escapes
// nor control characters, so that its bytes are its value.
func plainString(b []byte) bool {
	for _, c := range b {
		if c == '\\' || c < 0x20 {
			return false
		}
	}
	return true
}

// skipBOM returns 3 if data starts with a UTF-8 byte order mark, else 0.
func skipBOM(data []byte) int {
	if bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}) {
		return 3
	}
	return 0
}
