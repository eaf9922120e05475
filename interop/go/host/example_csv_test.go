package host

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const csvPluginID = "acme-csv-datasource"

// roomsCSV is the CSV file of the tests: a time column, a number column with
// an empty cell and a text column with a quoted comma.
const roomsCSV = "time,temperature,room\n" +
	"2026-11-21T10:00:00Z,21.5,kitchen\n" +
	"2026-11-21T10:01:00Z,,hall\n" +
	"2026-11-21T10:02:00Z,19.5,\"bedroom, upstairs\"\n"

// roomsTimes are roomsCSV's time column.
var roomsTimes = []time.Time{
	time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC),
	time.Date(2026, 11, 21, 10, 1, 0, 0, time.UTC),
	time.Date(2026, 11, 21, 10, 2, 0, 0, time.UTC),
}

// roomsFrame is the documented `table` answer
// (examples/csv-datasource/src/csv.rs): the file's rows, a `time` column
// as times, numbers as float64, empty cells as nulls (so nullable), the
// frame named after the file.
func roomsFrame(refID string) *data.Frame {
	f := data.NewFrame("rooms.csv",
		data.NewField("time", nil, roomsTimes),
		data.NewField("temperature", nil, []*float64{valuePtr(21.5), nil, valuePtr(19.5)}),
		data.NewField("room", nil, []string{"kitchen", "hall", "bedroom, upstairs"}))
	f.RefID = refID
	return f
}

func valuePtr[T any](v T) *T { return &v }

// csvDirectory is a data directory with rooms.csv and a file that is not
// a CSV file.
func csvDirectory(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "rooms.csv"), []byte(roomsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a CSV file"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExampleCSVDataSource(t *testing.T) {
	dir := csvDirectory(t)
	p := startPlugin(t, csvBinary)
	pctx := dataSourceContext(t, csvPluginID, "csv-1", map[string]any{"directory": dir})

	health := func(t *testing.T, pctx backend.PluginContext) *backend.CheckHealthResult {
		t.Helper()
		resp, err := p.diagnostics.CheckHealth(callContext(t), &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pctx)})
		if err != nil {
			t.Fatalf("CheckHealth: %v", err)
		}
		result := backend.FromProto().CheckHealthResponse(resp)
		t.Logf("answer: CheckHealth: %v %q details %s", result.Status, result.Message, result.JSONDetails)
		return result
	}

	t.Run("CheckHealth", func(t *testing.T) {
		ok := health(t, pctx)
		if ok.Status != backend.HealthStatusOk || ok.Message != "1 CSV files in "+dir {
			t.Errorf("health = %v %q", ok.Status, ok.Message)
		}
		var details map[string]any
		if err := json.Unmarshal(ok.JSONDetails, &details); err != nil || !cmp.Equal(details, map[string]any{"files": float64(1)}) {
			t.Errorf("jsonDetails %s (%v), want {\"files\":1}", ok.JSONDetails, err)
		}

		gone := withDataSourceID(dataSourceContext(t, csvPluginID, "csv-gone", map[string]any{"directory": filepath.Join(dir, "gone")}), 8)
		if bad := health(t, gone); bad.Status != backend.HealthStatusError || !strings.Contains(bad.Message, "cannot read") {
			t.Errorf("health of a missing directory = %v %q", bad.Status, bad.Message)
		}
		// An instance the factory cannot build: Go's instance manager
		// answers the health check with the error
		// (internal/automanagement/manager.go CheckHealth).
		misconfigured := withDataSourceID(dataSourceContext(t, csvPluginID, "csv-misconfigured", map[string]any{}), 9)
		if bad := health(t, misconfigured); bad.Status != backend.HealthStatusError || !strings.Contains(bad.Message, "directory") {
			t.Errorf("health without a directory setting = %v %q", bad.Status, bad.Message)
		}
	})

	for _, format := range formats {
		t.Run("QueryData/"+formatName(format), func(t *testing.T) {
			file := `{"file": "rooms.csv"}`
			typed := func(refID, queryType, queryJSON string) backend.DataQuery {
				q := testQuery(refID, queryJSON)
				q.QueryType = queryType
				return q
			}
			resp := queryData(t, p, &backend.QueryDataRequest{
				PluginContext: pctx,
				Format:        format,
				Queries: []backend.DataQuery{
					typed("table", "table", file),
					typed("default", "", file),
					typed("summary", "summary", file),
					// Unregistered query types go to the fallback, as with the Go
					// SDK's datasource.QueryTypeMux (backend/datasource/query_type_mux.go).
					typed("unknown", "pivot", file),
					typed("escape", "", `{"file": "../etc/passwd.csv"}`),
					typed("missing", "", `{"file": "absent.csv"}`),
				},
			})
			if len(resp.Responses) != 6 {
				t.Fatalf("%d responses, want 6", len(resp.Responses))
			}
			for _, refID := range []string{"table", "default", "unknown"} {
				r := resp.Responses[refID]
				if r.Error != nil || r.Status != backend.StatusOK {
					t.Errorf("%s: status %v error %v", refID, r.Status, r.Error)
				}
				assertFrames(t, data.Frames{roomsFrame(refID)}, r.Frames)
			}
			summary := data.NewFrame("rooms.csv summary",
				data.NewField("column", nil, []string{"temperature"}),
				data.NewField("min", nil, []*float64{valuePtr(19.5)}),
				data.NewField("max", nil, []*float64{valuePtr(21.5)}),
				data.NewField("mean", nil, []*float64{valuePtr(20.5)}),
				data.NewField("count", nil, []int64{2}))
			summary.RefID = "summary"
			assertFrames(t, data.Frames{summary}, resp.Responses["summary"].Frames)

			for refID, message := range map[string]string{
				"escape":  `"../etc/passwd.csv" is not the name of a CSV file`,
				"missing": "absent.csv: ",
			} {
				r := resp.Responses[refID]
				if r.Error == nil || !strings.Contains(r.Error.Error(), message) || len(r.Frames) != 0 {
					t.Errorf("%s: error %v, %d frames; want an error containing %q and no frames", refID, r.Error, len(r.Frames), message)
				}
				if r.Status != backend.StatusInternal || r.ErrorSource != backend.ErrorSourcePlugin {
					t.Errorf("%s: status %d source %q, want 500 plugin", refID, r.Status, r.ErrorSource)
				}
				t.Logf("answer: QueryData %s: status %d source %q error %q", refID, r.Status, r.ErrorSource, r.Error)
			}
		})
	}

	t.Run("QueryData/misconfigured", func(t *testing.T) {
		// The instance factory fails. A Go plugin answers the request with
		// that error (internal/automanagement/manager.go QueryData: a gRPC
		// error, or the first query's error when it carries a source).
		misconfigured := withDataSourceID(dataSourceContext(t, csvPluginID, "csv-misconfigured", map[string]any{}), 9)
		protoResp, err := p.data.QueryData(callContext(t), backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
			PluginContext: misconfigured,
			Queries:       []backend.DataQuery{testQuery("A", `{"file": "rooms.csv"}`)},
		}))
		if err != nil {
			if !strings.Contains(err.Error(), "directory") {
				t.Errorf("error %v, want one naming the missing setting", err)
			}
			t.Logf("answer: QueryData misconfigured: gRPC %v %q", status.Code(err), status.Convert(err).Message())
			return
		}
		resp, err := backend.FromProto().QueryDataResponse(protoResp)
		if err != nil {
			t.Fatal(err)
		}
		r := resp.Responses["A"]
		if r.Error == nil || !strings.Contains(r.Error.Error(), "directory") {
			t.Errorf("response %+v, want an error naming the missing setting", r)
		}
		t.Logf("answer: QueryData misconfigured: response A status %d source %q error %q", r.Status, r.ErrorSource, r.Error)
	})

	t.Run("CallResource", func(t *testing.T) {
		get := func(path string) []*backend.CallResourceResponse {
			return callResource(t, p, &backend.CallResourceRequest{PluginContext: pctx, Path: path, Method: http.MethodGet, URL: path})
		}
		listed := get("files")
		assertResource(t, listed, http.StatusOK, map[string]any{"files": []any{map[string]any{"name": "rooms.csv", "bytes": len(roomsCSV)}}})
		described := get("files/rooms.csv")
		assertResource(t, described, http.StatusOK, map[string]any{
			"name": "rooms.csv",
			"rows": 3,
			"columns": []any{
				map[string]any{"name": "time", "type": "time"},
				map[string]any{"name": "temperature", "type": "number"},
				map[string]any{"name": "room", "type": "string"},
			},
		})
		bad := get("files/notes.txt")
		assertResource(t, bad, http.StatusBadRequest, nil)
		absent := get("files/absent.csv")
		assertResource(t, absent, http.StatusNotFound, nil)
		unrouted := get("nowhere")
		assertResource(t, unrouted, http.StatusNotFound, nil)
		post := callResource(t, p, &backend.CallResourceRequest{PluginContext: pctx, Path: "files", Method: http.MethodPost, URL: "files"})
		assertResource(t, post, http.StatusMethodNotAllowed, nil)
		t.Logf("answer: CallResource: files %d %s; files/rooms.csv %d %s; files/notes.txt %d %q; files/absent.csv %d %q; nowhere %d %q; POST files %d",
			listed[0].Status, body(listed), described[0].Status, body(described), bad[0].Status, body(bad),
			absent[0].Status, body(absent), unrouted[0].Status, body(unrouted), post[0].Status)
	})

	t.Run("Streams", func(t *testing.T) {
		subscribe := func(path string) backend.SubscribeStreamStatus {
			resp, err := p.stream.SubscribeStream(callContext(t), backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{PluginContext: pctx, Path: path}))
			if err != nil {
				t.Fatalf("SubscribeStream %s: %v", path, err)
			}
			return backend.FromProto().SubscribeStreamResponse(resp).Status
		}
		for path, want := range map[string]backend.SubscribeStreamStatus{
			"replay/rooms.csv":  backend.SubscribeStreamStatusOK,
			"replay/absent.csv": backend.SubscribeStreamStatusNotFound,
			"replay/notes.txt":  backend.SubscribeStreamStatusNotFound,
			"other":             backend.SubscribeStreamStatusNotFound,
		} {
			if got := subscribe(path); got != want {
				t.Errorf("subscribe %s: %v, want %v", path, got, want)
			}
		}
		published, err := p.stream.PublishStream(callContext(t), backend.ToProto().PublishStreamRequest(&backend.PublishStreamRequest{
			PluginContext: pctx, Path: "replay/rooms.csv", Data: json.RawMessage(`{}`),
		}))
		if err != nil {
			t.Fatal(err)
		}
		if s := backend.FromProto().PublishStreamResponse(published).Status; s != backend.PublishStreamStatusPermissionDenied {
			t.Errorf("publish: %v", s)
		}

		// One row per packet, then the stream ends by itself.
		packets, err := runStream(t, p, &backend.RunStreamRequest{PluginContext: pctx, Path: "replay/rooms.csv"})
		if err != nil {
			t.Fatalf("RunStream: %v", err)
		}
		if len(packets) != 3 {
			t.Fatalf("%d packets, want 3", len(packets))
		}
		var got []string
		for i, packet := range packets {
			got = append(got, string(packet.Data))
			// Each packet on its own is the row's frame: the schema with the
			// first, data only after (backend/stream.go SendFrame with
			// data.IncludeAll, then data.IncludeDataOnly).
			if hasSchema := strings.Contains(string(packet.Data), `"schema"`); hasSchema != (i == 0) {
				t.Errorf("packet %d: schema present %v", i, hasSchema)
			}
		}
		t.Logf("answer: RunStream replay/rooms.csv: %s", strings.Join(got, " | "))
		// Grafana Live keeps the first packet's frame and appends each later
		// packet's data to it (data.AppendJSONData).
		var frame data.Frame
		if err := json.Unmarshal(packets[0].Data, &frame); err != nil {
			t.Fatalf("packet 0: %v", err)
		}
		for i, packet := range packets[1:] {
			if err := data.AppendJSONData(&frame, packet.Data); err != nil {
				t.Fatalf("packet %d: %v (%s)", i+1, err, packet.Data)
			}
		}
		if frame.Name != "rooms.csv" || len(frame.Fields) != 3 || frame.Rows() != 3 {
			t.Fatalf("replayed frame %q: %d fields, %d rows", frame.Name, len(frame.Fields), frame.Rows())
		}
		column := func(i int) []any {
			var values []any
			for row := range frame.Rows() {
				values = append(values, frame.Fields[i].At(row))
			}
			return values
		}
		if diff := cmp.Diff([]any{roomsTimes[0], roomsTimes[1], roomsTimes[2]}, column(0)); diff != "" {
			t.Errorf("replayed times (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]any{"kitchen", "hall", "bedroom, upstairs"}, column(2)); diff != "" {
			t.Errorf("replayed roomsCSV (-want +got):\n%s", diff)
		}
		// Every packet carries the whole column's nullability, so the empty
		// row 1 stays null once Live appends it to the first packet's frame
		// (a non-nullable schema would make Go read it as 0:
		// data/frame_json.gen.go readFloat64VectorJSON skips nulls).
		if diff := cmp.Diff([]any{valuePtr(21.5), (*float64)(nil), valuePtr(19.5)}, column(1)); diff != "" {
			t.Errorf("replayed temperatures (-want +got):\n%s", diff)
		}

		_, err = runStream(t, p, &backend.RunStreamRequest{PluginContext: pctx, Path: "other"})
		if status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), "unknown stream") {
			t.Errorf("RunStream other: %v, want Unknown", err)
		}
		t.Logf("answer: RunStream other: %v", err)
	})

	assertNoHandlers(t, p, pctx, "QueryChunkedData", "ValidateAdmission", "MutateAdmission", "ConvertObjects")
	t.Run("CollectMetrics", func(t *testing.T) { assertMetrics(t, p) })
	p.stop(t)
}
