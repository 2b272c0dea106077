package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx"
)

// decodeSPDXJSON reads SPDX JSON.
func decodeSPDXJSON(ctx context.Context, name string, data []byte, sn sniffResult) (*Document, error) {
	fail := func(where string, err error) error {
		return &DecodeError{Name: name, Format: SPDXJSON, Where: where, Err: err}
	}
	top := sn.top
	if top == nil {
		top = scanJSONTop(data)
	}
	if sn.spdx3 || top.has("@graph") && !top.has("spdxVersion") {
		return nil, fail("@context", errors.New("SPDX 3 JSON-LD is not supported (supported: SPDX-2.2 and SPDX-2.3)"))
	}
	version, isStr := top.str("spdxVersion")
	if raw, ok := top.values["spdxVersion"]; ok && !isStr {
		return nil, fail("spdxVersion", fmt.Errorf("expected a string, got %s", clip(string(raw), 40)))
	}
	if isStr || top.complete {
		if err := checkSPDXVersion(version); err != nil {
			return nil, fail("spdxVersion", err)
		}
	}
	var (
		m     *spdxModel
		notes []string
	)
	if top.maxDepth > maxStrictDepth {
		notes = append(notes, fmt.Sprintf("the document nests %d levels deep (more than %d); it was read with the tolerant decoder", top.maxDepth, maxStrictDepth))
	} else {
		var err error
		m, err = spdxJSONStrict(data)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fail(posOf(data, int(se.Offset)), errors.New(jsonSyntaxMsg(se.Error())))
		}
		if err != nil {
			notes = append(notes, fmt.Sprintf("tools-golang refused the document (%v); it was read with the tolerant decoder", err))
		}
	}
	if m == nil {
		var err error
		if m, err = spdxJSONTolerant(name, data); err != nil {
			return nil, err
		}
	}
	comps, err := spdxEmitter{}.emit(ctx, m)
	if err != nil {
		return nil, fail("", err)
	}
	return &Document{Format: SPDXJSON, SpecVersion: strings.TrimPrefix(version, "SPDX-"), Name: m.Name, Components: comps, Notes: notes}, nil
}

// spdxJSONStrict reads SPDX JSON with tools-golang. Its errors are
// tools-golang's, unwrapped; a panic becomes an error.
func spdxJSONStrict(data []byte) (*spdxModel, error) {
	var d *spdx.Document
	err := safeCall(func() error {
		var err error
		d, err = spdxjson.Read(bytes.NewReader(data))
		return err
	})
	if err == nil && d == nil {
		err = errors.New("no document")
	}
	if err != nil {
		return nil, err
	}
	return spdxFromTools(d, false, nil), nil
}

// spdxJSONTolerant decodes SPDX JSON into spdxModel with encoding/json.
func spdxJSONTolerant(name string, data []byte) (*spdxModel, error) {
	var m spdxModel
	if err := json.Unmarshal(data, &m); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, &DecodeError{Name: name, Format: SPDXJSON, Where: posOf(data, int(se.Offset)), Err: errors.New(jsonSyntaxMsg(se.Error()))}
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &DecodeError{Name: name, Format: SPDXJSON, Where: posOf(data, int(te.Offset)),
				Err: fmt.Errorf("member %q: expected %s, got JSON %s", te.Field, te.Type, te.Value)}
		}
		return nil, &DecodeError{Name: name, Format: SPDXJSON, Err: err}
	}
	if err := checkSPDXVersion(m.Version); err != nil {
		return nil, &DecodeError{Name: name, Format: SPDXJSON, Where: "spdxVersion", Err: err}
	}
	return &m, nil
}
