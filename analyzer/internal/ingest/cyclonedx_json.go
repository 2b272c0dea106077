package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// decodeCycloneDXJSON reads CycloneDX JSON with cyclonedx-go and falls back
// to the tolerant iterative decoder when cyclonedx-go refuses a document
// for any reason other than broken JSON, or when the document nests deeper
// than maxStrictDepth. top is the quick pass over data (nil to compute).
func decodeCycloneDXJSON(ctx context.Context, name string, data []byte, top *jsonTop) (*Document, error) {
	fail := func(where string, err error) error {
		return &DecodeError{Name: name, Format: CycloneDXJSON, Where: where, Err: err}
	}
	if top == nil {
		top = scanJSONTop(data)
	}
	version, err := checkCDXJSONHeader(name, top)
	if err != nil {
		return nil, err
	}
	big := len(data) >= bigInput
	if top.maxDepth > maxStrictDepth {
		doc, err := decodeCDXJSONTolerant(ctx, name, data)
		if err != nil {
			return nil, err
		}
		doc.Notes = append([]string{fmt.Sprintf("the document nests %d levels deep (more than %d); it was read with the iterative tolerant decoder", top.maxDepth, maxStrictDepth)}, doc.Notes...)
		return doc, nil
	}
	parsed, err := parseCDXJSONStrict(ctx, data, version, top)
	if err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) && !strings.Contains(se.Error(), "exceeded max depth") {
			return nil, fail(posOf(data, int(se.Offset)), errors.New(jsonSyntaxMsg(se.Error())))
		}
		if ctx.Err() != nil {
			return nil, fail("", ctx.Err())
		}
		doc, terr := decodeCDXJSONTolerant(ctx, name, data)
		if terr != nil {
			return nil, terr
		}
		doc.Notes = append([]string{fmt.Sprintf("cyclonedx-go refused the document (%v); it was read with the tolerant decoder", err)}, doc.Notes...)
		return doc, nil
	}
	// From here on nothing refers to data. For a large input, collect it
	// now, before the output grows, rather than whenever the heap next
	// doubles: this keeps the peak near max(input + views, output)
	// instead of the sum of all three.
	if big {
		runtime.GC()
	}
	doc, err := emitCDX(ctx, parsed)
	if err != nil {
		return nil, fail("", err)
	}
	return doc, nil
}

// bigInput is the input size from which Decode collects the input's memory
// as soon as it is no longer needed.
const bigInput = 64 << 20

// decodeCDXJSONStrict decodes with cyclonedx-go. Its errors are
// cyclonedx-go's, unwrapped, or the context's.
func decodeCDXJSONStrict(ctx context.Context, data []byte, version string) (*Document, error) {
	p, err := parseCDXJSONStrict(ctx, data, version, scanJSONTop(data))
	if err != nil {
		return nil, err
	}
	return emitCDX(ctx, p)
}

// cdxJSONShell is a cyclonedx-go BOM whose component and service lists are
// kept as raw JSON, to be decoded one top-level entry at a time: a large
// SBOM then never exists as a whole in cyclonedx-go's structs (which take
// several times the size of the JSON) but only as the much smaller views.
// The outer fields shadow the BOM's fields of the same JSON name.
type cdxJSONShell struct {
	cdx.BOM
	Components rawJSON `json:"components"`
	Services   rawJSON `json:"services"`
}

// rawJSON keeps a JSON value without copying it. json.Unmarshal hands
// UnmarshalJSON a slice of the very input it was given, which here is the
// decoder's own, immutable input buffer, so keeping that slice (for the
// duration of the decode) is safe and saves a copy of most of the input.
type rawJSON []byte

// UnmarshalJSON implements json.Unmarshaler.
func (r *rawJSON) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// parseCDXJSONStrict decodes CycloneDX JSON with cyclonedx-go's types and
// reduces it to views. cdx.NewBOMDecoder(r, cdx.BOMFileFormatJSON).Decode
// is io.ReadAll followed by json.Unmarshal into cdx.BOM, which has no
// decoding logic of its own; decoding its members separately, as done here,
// is equivalent, and the input, already in memory, is not copied again.
//
// The component and service lists are decoded one top-level entry at a
// time, so that a large SBOM never exists as a whole in cyclonedx-go's
// structs (several times the size of the JSON) but only as the much smaller
// views. When the quick pass top found the document well-formed at its top
// level, the other members are decoded on their own as well and the input
// is scanned by encoding/json only once; otherwise, or if any part turns out
// malformed, the whole input is unmarshaled, so that a syntax error is
// reported at its exact position.
func parseCDXJSONStrict(ctx context.Context, data []byte, version string, top *jsonTop) (*cdxParsed, error) {
	if top != nil && top.complete && top.errOff < 0 && top.spans != nil && !top.dup && skipSpace(data, top.end) == len(data) {
		p, err := parseCDXJSONSplit(ctx, data, version, top)
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return p, err
		}
	}
	var shell cdxJSONShell
	if err := safeCall(func() error { return json.Unmarshal(data, &shell) }); err != nil {
		return nil, err
	}
	return parseCDXShell(ctx, &shell, version)
}

// parseCDXJSONSplit decodes the top-level members that are neither
// components nor services as one small object, then the lists.
func parseCDXJSONSplit(ctx context.Context, data []byte, version string, top *jsonTop) (*cdxParsed, error) {
	var rest bytes.Buffer
	rest.WriteByte('{')
	for _, k := range top.order {
		sp := top.spans[k]
		if k == "components" || k == "services" {
			continue
		}
		if rest.Len() > 1 {
			rest.WriteByte(',')
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		rest.Write(kb)
		rest.WriteByte(':')
		rest.Write(data[sp[0]:sp[1]])
	}
	rest.WriteByte('}')
	var shell cdxJSONShell
	if err := safeCall(func() error { return json.Unmarshal(rest.Bytes(), &shell) }); err != nil {
		return nil, err
	}
	if sp, ok := top.spans["components"]; ok {
		shell.Components = data[sp[0]:sp[1]]
	}
	if sp, ok := top.spans["services"]; ok {
		shell.Services = data[sp[0]:sp[1]]
	}
	return parseCDXShell(ctx, &shell, version)
}

// parseCDXShell reduces a decoded shell to views, decoding its component
// and service lists one entry at a time.
func parseCDXShell(ctx context.Context, shell *cdxJSONShell, version string) (*cdxParsed, error) {
	bom := &shell.BOM
	if version == "" {
		version = bom.SpecVersion.String()
	}
	p, err := parseCDXBOM(ctx, bom, CycloneDXJSON, version)
	if err != nil {
		return nil, err
	}
	e := &cdxEmitter{}
	for _, list := range []struct {
		raw     rawJSON
		service bool
	}{{shell.Components, false}, {shell.Services, true}} {
		i := 0
		err := eachJSONElement(list.raw, func(elem []byte) error {
			if i%checkEvery == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			var root cdxRoot
			var err error
			if list.service {
				root = cdxRoot{s: &cdx.Service{}, loc: e.item("", "services", "service", i)}
				err = safeCall(func() error { return json.Unmarshal(elem, root.s) })
			} else {
				root = cdxRoot{c: &cdx.Component{}, loc: e.item("", "components", "component", i)}
				err = safeCall(func() error { return json.Unmarshal(elem, root.c) })
			}
			if err != nil {
				return err
			}
			i++
			p.pending, err = collectCDX(ctx, e, root, p.pending)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

// eachJSONElement calls f with each element of the JSON array raw, checking
// the array's own syntax (its elements are f's business). An absent value
// or null calls f never; any other non-array is a type error.
func eachJSONElement(raw []byte, f func(elem []byte) error) error {
	i := skipSpace(raw, 0)
	if i == len(raw) {
		return nil
	}
	if raw[i] != '[' {
		if bytes.Equal(raw[i:skipJSONScalarEnd(raw, i)], []byte("null")) && skipSpace(raw, skipJSONScalarEnd(raw, i)) == len(raw) {
			return nil
		}
		if err := syntaxErrorOf(raw); err != nil {
			return err
		}
		return &json.UnmarshalTypeError{Value: "non-array value", Type: reflect.TypeFor[[]cdx.Component](), Offset: int64(i)}
	}
	i = skipSpace(raw, i+1)
	if i < len(raw) && raw[i] == ']' {
		return trailing(raw, i+1)
	}
	for {
		end, _, ok := skipJSONValue(raw, i)
		if !ok {
			return malformed(raw)
		}
		if err := f(raw[i:end]); err != nil {
			return err
		}
		i = skipSpace(raw, end)
		switch {
		case i < len(raw) && raw[i] == ',':
			i = skipSpace(raw, i+1)
		case i < len(raw) && raw[i] == ']':
			return trailing(raw, i+1)
		default:
			return malformed(raw)
		}
	}
}

// skipJSONScalarEnd returns the end of the scalar at raw[i].
func skipJSONScalarEnd(raw []byte, i int) int {
	end, _, _ := skipJSONValue(raw, i)
	return end
}

// trailing checks that nothing but blanks follows offset i of raw.
func trailing(raw []byte, i int) error {
	if skipSpace(raw, i) != len(raw) {
		return malformed(raw)
	}
	return nil
}

// malformed returns encoding/json's syntax error for raw, which the caller
// found malformed.
func malformed(raw []byte) error {
	if err := syntaxErrorOf(raw); err != nil {
		return err
	}
	return errors.New("malformed JSON array")
}

// syntaxErrorOf returns encoding/json's syntax error for raw, or nil if raw
// is well-formed.
func syntaxErrorOf(raw []byte) error {
	if json.Valid(raw) {
		return nil
	}
	var v json.RawMessage
	return json.Unmarshal(raw, &v)
}

// checkCDXJSONHeader checks bomFormat and specVersion from the quick pass
// and returns the version.
func checkCDXJSONHeader(name string, top *jsonTop) (string, error) {
	fail := func(where string, err error) error {
		return &DecodeError{Name: name, Format: CycloneDXJSON, Where: where, Err: err}
	}
	if raw, ok := top.values["bomFormat"]; ok {
		s, isStr := top.str("bomFormat")
		if !isStr {
			return "", fail("bomFormat", fmt.Errorf("expected a string, got %s", clip(string(raw), 40)))
		}
		if s != "CycloneDX" {
			return "", fail("bomFormat", fmt.Errorf("expected \"CycloneDX\", got %q", s))
		}
	}
	raw, ok := top.values["specVersion"]
	if !ok {
		if top.complete {
			return "", fail("specVersion", checkCDXVersion(""))
		}
		return "", nil // truncated before specVersion: the decoder says where
	}
	v, isStr := top.str("specVersion")
	if !isStr {
		return "", fail("specVersion", fmt.Errorf("expected a string, got %s", clip(string(raw), 40)))
	}
	if err := checkCDXVersion(v); err != nil {
		return "", fail("specVersion", err)
	}
	return v, nil
}

// jsonSyntaxMsg rewords encoding/json syntax messages.
func jsonSyntaxMsg(msg string) string {
	if msg == "unexpected end of JSON input" {
		return "unexpected end of input"
	}
	return msg
}

// safeCall runs f and turns a panic into an error.
func safeCall(f func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return f()
}
