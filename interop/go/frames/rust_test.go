package frames

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/example/grafana-plugin-sdk-rs/interop/go/internal/fixtures"
)

// rustFramesVariable names a directory that already holds the Rust
// encoders' files (as `cargo xtask ci` may provide, like
// INTEROP_PLUGIN_DIR for the host tests); when unset the test writes them
// with cargo itself.
const rustFramesVariable = "INTEROP_RUST_FRAMES_DIR"

// rustFrames returns the directory of the files
// crates/plugin-testkit/examples/write_fixture_frames.rs writes: from
// $INTEROP_RUST_FRAMES_DIR, or by running that example into a temporary
// directory from the repository root.
func rustFrames(t *testing.T) string {
	t.Helper()
	if dir := os.Getenv(rustFramesVariable); dir != "" {
		return dir
	}
	dir := t.TempDir()
	// interop/go/frames → the repository root.
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"run", "--quiet", "-p", "plugin-testkit", "--example", "write_fixture_frames", "--", dir}
	cmd := exec.Command("cargo", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s is not set and `cargo %v` failed: %v\n%s", rustFramesVariable, args, err, out)
	}
	return dir
}

func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// frameDiff compares frames with the Go SDK's own test options
// (data/frame.go FrameTestCompareOptions): names, field types and
// nullability (the Go type of each vector), labels, config, meta, values
// with NaN equal to NaN and ±Inf by sign, times to the nanosecond.
func frameDiff(want, got *data.Frame) string {
	return cmp.Diff(want, got, data.FrameTestCompareOptions()...)
}

// TestRustEncodedFramesDecodeInGo decodes every file the Rust encoders
// write for plugin_testkit::fixtures::all_field_types() with the Go SDK's
// decoders and checks each is fixtures.AllFieldTypes().
func TestRustEncodedFramesDecodeInGo(t *testing.T) {
	dir := rustFrames(t)
	want := fixtures.AllFieldTypes()

	t.Run("all_types.arrow", func(t *testing.T) {
		got, err := data.UnmarshalArrowFrame(readFile(t, dir, "all_types.arrow"))
		if err != nil {
			t.Fatalf("data.UnmarshalArrowFrame: %v", err)
		}
		assertFieldByField(t, want, got)
	})

	t.Run("all_types.json", func(t *testing.T) {
		var got data.Frame
		if err := json.Unmarshal(readFile(t, dir, "all_types.json"), &got); err != nil {
			t.Fatalf("json.Unmarshal into data.Frame: %v", err)
		}
		assertFieldByField(t, want, &got)
	})

	// The halves Grafana Live streams separately: the schema alone is the
	// frame without rows; the data half appended to it, as Live does
	// (data/frame_json.go AppendJSONData), is the whole frame.
	t.Run("all_types.schema.json+data.json", func(t *testing.T) {
		var got data.Frame
		if err := json.Unmarshal(readFile(t, dir, "all_types.schema.json"), &got); err != nil {
			t.Fatalf("json.Unmarshal schema into data.Frame: %v", err)
		}
		assertFieldByField(t, withoutRows(fixtures.AllFieldTypes()), &got)
		if err := data.AppendJSONData(&got, readFile(t, dir, "all_types.data.json")); err != nil {
			t.Fatalf("data.AppendJSONData: %v", err)
		}
		assertFieldByField(t, want, &got)
	})
}

// withoutRows is f with every field emptied, keeping names, labels,
// config and meta (Frame.EmptyCopy drops config and meta).
func withoutRows(f *data.Frame) *data.Frame {
	for i, field := range f.Fields {
		empty := data.NewFieldFromFieldType(field.Type(), 0)
		empty.Name, empty.Labels, empty.Config = field.Name, field.Labels, field.Config
		f.Fields[i] = empty
	}
	return f
}

// assertFieldByField reports every difference of got from want: the frame
// as a whole, then each field on its own so a failure names the field.
func assertFieldByField(t *testing.T, want, got *data.Frame) {
	t.Helper()
	if diff := frameDiff(want, got); diff == "" {
		return
	}
	if want.Name != got.Name || want.RefID != got.RefID {
		t.Errorf("frame name/refId = %q/%q, want %q/%q", got.Name, got.RefID, want.Name, want.RefID)
	}
	if diff := cmp.Diff(want.Meta, got.Meta, data.FrameTestCompareOptions()...); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	if len(want.Fields) != len(got.Fields) {
		t.Fatalf("%d fields, want %d", len(got.Fields), len(want.Fields))
	}
	for i, w := range want.Fields {
		g := got.Fields[i]
		if w.Type() != g.Type() {
			t.Errorf("field %d %q: type %s, want %s", i, w.Name, g.Type(), w.Type())
		}
		if diff := cmp.Diff(w, g, data.FrameTestCompareOptions()...); diff != "" {
			t.Errorf("field %d %q (-want +got):\n%s", i, w.Name, diff)
		}
	}
}

// TestFrameComparisonCatchesEachKindOfDifference is the control: the
// comparison above must report a change to any one property the fixture
// exercises, or the tests above could pass on a wrong decoding.
func TestFrameComparisonCatchesEachKindOfDifference(t *testing.T) {
	field := func(f *data.Frame, name string) *data.Field {
		t.Helper()
		field, i := f.FieldByName(name)
		if i < 0 {
			t.Fatalf("no field %q in the fixture", name)
		}
		return field
	}
	changes := map[string]func(f *data.Frame){
		"frame name": func(f *data.Frame) { f.Name += "!" },
		"refId":      func(f *data.Frame) { f.RefID = "B" },
		"field name": func(f *data.Frame) { f.Fields[0].Name = "int8 " },
		"label":      func(f *data.Frame) { field(f, "float64").Labels["site"] = "south" },
		"config":     func(f *data.Frame) { field(f, "float64").Config.Unit = "fahrenheit" },
		"enum config": func(f *data.Frame) {
			field(f, "enum").Config.TypeConfig.Enum.Text[2] = "critical"
		},
		"meta notice": func(f *data.Frame) { f.Meta.Notices[1].Text = "fresh" },
		"meta custom": func(f *data.Frame) { f.Meta.Custom.(map[string]any)["partial"] = false },
		"nullability": func(f *data.Frame) {
			f.Fields[0] = data.NewField("int8", nil, []*int8{ptr[int8](math.MinInt8), ptr[int8](-1), ptr[int8](0), ptr[int8](math.MaxInt8)})
		},
		"field type": func(f *data.Frame) {
			f.Fields[0] = data.NewField("int8", nil, []int16{math.MinInt8, -1, 0, math.MaxInt8})
		},
		"NaN":      func(f *data.Frame) { field(f, "float64").Set(1, 0.0) },
		"+Inf":     func(f *data.Frame) { field(f, "float64").Set(2, math.MaxFloat64) },
		"-Inf":     func(f *data.Frame) { field(f, "float64").Set(3, math.Inf(1)) },
		"float32":  func(f *data.Frame) { field(f, "*float32").Set(0, ptr[float32](0)) },
		"null":     func(f *data.Frame) { field(f, "*string").Set(1, ptr("")) },
		"ns time":  func(f *data.Frame) { tf := field(f, "time.Time"); tf.Set(3, tf.At(3).(time.Time).Add(time.Nanosecond)) },
		"uint64":   func(f *data.Frame) { field(f, "uint64").Set(3, uint64(math.MaxUint64-1)) },
		"json":     func(f *data.Frame) { field(f, "json.RawMessage").Set(1, json.RawMessage(`{}`)) },
		"one row":  func(f *data.Frame) { f.Fields[0].Delete(0) },
		"string":   func(f *data.Frame) { field(f, "string").Set(3, "emoji 🎉\n\"quoted\"\t/") },
		"no field": func(f *data.Frame) { f.Fields = f.Fields[:len(f.Fields)-1] },
	}
	if diff := frameDiff(fixtures.AllFieldTypes(), fixtures.AllFieldTypes()); diff != "" {
		t.Fatalf("the fixture differs from itself:\n%s", diff)
	}
	for name, change := range changes {
		changed := fixtures.AllFieldTypes()
		change(changed)
		if frameDiff(fixtures.AllFieldTypes(), changed) == "" {
			t.Errorf("a changed %s is reported as equal", name)
		}
	}
}

func ptr[T any](v T) *T { return &v }
