// Package frames writes, with the Go SDK's own encoders, the frames the Rust
// tests decode (crates/plugin-data/tests/data/go), and holds the Go tests
// that decode the Rust encoders' output with the Go SDK.
//
// Regenerate the committed files with `go run ./cmd/writeframes` (in
// interop/go); TestCommittedGoFramesAreFresh fails when they are stale.
package frames

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"

	"github.com/example/grafana-plugin-sdk-rs/interop/go/internal/fixtures"
)

// CommittedDir is where the Go-written files live in the repository,
// relative to the Go module (interop/go).
const CommittedDir = "../../crates/plugin-data/tests/data/go"

// WriteFrames writes each frame file: Arrow IPC (frame.MarshalArrow), frame
// JSON (json.Marshal) and, for the all-types frame, the schema-only and
// data-only JSON halves (data.FrameToJSON).
func WriteFrames(dir string) error {
	allTypes := fixtures.AllFieldTypes()
	files := map[string]func() ([]byte, error){
		"all_types.arrow":       allTypes.MarshalArrow,
		"all_types.json":        func() ([]byte, error) { return json.Marshal(allTypes) },
		"all_types.schema.json": func() ([]byte, error) { return data.FrameToJSON(allTypes, data.IncludeSchemaOnly) },
		"all_types.data.json":   func() ([]byte, error) { return data.FrameToJSON(allTypes, data.IncludeDataOnly) },
		"config_edges.arrow":    fixtures.ConfigEdges().MarshalArrow,
		"config_edges.json":     func() ([]byte, error) { return json.Marshal(fixtures.ConfigEdges()) },
		"empty_all_types.arrow": allTypes.EmptyCopy().MarshalArrow,
		"empty_all_types.json":  func() ([]byte, error) { return json.Marshal(allTypes.EmptyCopy()) },
		"no_fields.arrow":       data.NewFrame("no fields").MarshalArrow,
		"no_fields.json":        func() ([]byte, error) { return json.Marshal(data.NewFrame("no fields")) },
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for name, encode := range files {
		b, err := encode()
		if err != nil {
			return fmt.Errorf("encoding %s: %w", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// customMeta is a plugin's own struct as FrameMeta.Custom.
type customMeta struct {
	SomeValue string `json:"someValue,omitempty"`
}

// goldens are the data responses written as golden files, by base name:
// the frames of the Go SDK's experimental/golden_response_checker_test.go
// plus the all-types frame.
func goldens() []struct {
	name      string
	response  *backend.DataResponse
	jsoncOnly bool
} {
	twoFrames := func(meta *data.FrameMeta) *backend.DataResponse {
		one := data.NewFrame("Frame One",
			data.NewField("Single float64", nil, []float64{8.26, 8.7, 14.82, 10.07, 8.52}).
				SetConfig(&data.FieldConfig{Unit: "Percent"}))
		one.Meta = meta
		two := data.NewFrame("Frame Two",
			data.NewField("single string", data.Labels{"a": "b"}, []string{"a", "b", "c"}).
				SetConfig(&data.FieldConfig{DisplayName: "123"}))
		return &backend.DataResponse{Frames: data.Frames{one, two}, Status: backend.StatusOK}
	}
	document := json.RawMessage(`{"a":1,"b":2}`)
	jsonFrame := data.NewFrame("JSON frame",
		data.NewField("json.RawMessage", nil, []json.RawMessage{document}),
		data.NewField("*json.RawMessage", nil, []*json.RawMessage{&document}))
	singleFrame := data.NewFrame("Frame One",
		data.NewField("Single float64", nil, []float64{8.26, 8.7, 14.82, 10.07, 8.52}).
			SetConfig(&data.FieldConfig{Unit: "Percent"}))
	framer := data.Frames{
		data.NewFrame("Frame One", data.NewField("A", nil, []float64{1, 2, 3})),
		data.NewFrame("Frame Two", data.NewField("B", nil, []float64{4})),
	}

	return []struct {
		name      string
		response  *backend.DataResponse
		jsoncOnly bool
	}{
		{name: "frame-no-meta.golden", response: twoFrames(nil)},
		{name: "frame-non-custom-meta.golden", response: twoFrames(&data.FrameMeta{
			ExecutedQueryString: "SELECT * FROM X",
			Notices:             []data.Notice{{Severity: data.NoticeSeverityInfo, Text: "hello"}},
		})},
		{name: "frame-empty-custom-meta.golden", response: twoFrames(&data.FrameMeta{Custom: customMeta{}})},
		{name: "frame-custom-meta.golden", response: twoFrames(&data.FrameMeta{Custom: customMeta{SomeValue: "value"}})},
		{name: "frame-json", response: &backend.DataResponse{Frames: data.Frames{jsonFrame}}},
		{name: "all_types.golden", response: &backend.DataResponse{
			Frames: data.Frames{fixtures.AllFieldTypes()}, Status: backend.StatusOK,
		}},
		{name: "single-json-frame.golden", response: &backend.DataResponse{Frames: data.Frames{singleFrame}}, jsoncOnly: true},
		{name: "single-json-framer.golden", response: &backend.DataResponse{Frames: framer}, jsoncOnly: true},
	}
}

// WriteGoldens writes each golden data response with the Go SDK's own
// golden writers: `<name>.jsonc` with experimental.CheckGoldenJSONResponse
// and `<name>.txt` with experimental.CheckGoldenDataResponse, which write
// the file when it is missing and updateFile is set. The writers only call
// t.Helper() unless writing fails.
func WriteGoldens(t *testing.T, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, golden := range goldens() {
		jsonc := filepath.Join(dir, golden.name+".jsonc")
		if err := os.Remove(jsonc); err != nil && !os.IsNotExist(err) {
			return err
		}
		experimental.CheckGoldenJSONResponse(t, dir, golden.name, golden.response, true)
		if golden.jsoncOnly {
			continue
		}
		txt := filepath.Join(dir, golden.name+".txt")
		if err := os.Remove(txt); err != nil && !os.IsNotExist(err) {
			return err
		}
		// The file is missing, so this writes it and reports the missing file.
		_ = experimental.CheckGoldenDataResponse(txt, golden.response, true)
		if _, err := os.Stat(txt); err != nil {
			return fmt.Errorf("golden writer wrote no %s: %w", txt, err)
		}
	}
	return nil
}

// CheckGoldens reads every golden file in dir back with the Go SDK's golden
// checkers and fails t when one does not hold its response.
func CheckGoldens(t *testing.T, dir string) {
	t.Helper()
	for _, golden := range goldens() {
		experimental.CheckGoldenJSONResponse(t, dir, golden.name, golden.response, false)
		if golden.jsoncOnly {
			continue
		}
		txt := filepath.Join(dir, golden.name+".txt")
		if err := experimental.CheckGoldenDataResponse(txt, golden.response, false); err != nil {
			t.Errorf("%s: %v", txt, err)
		}
	}
}
