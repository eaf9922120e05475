package host

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const benchPluginID = "acme-bench-datasource"

// benchStart is the start of the bench queries' time range, the one
// examples/bench-datasource/tests/golden was written for.
var benchStart = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

func benchQuery(refID, queryJSON string) backend.DataQuery {
	q := testQuery(refID, queryJSON)
	q.TimeRange = backend.TimeRange{From: benchStart, To: benchStart.Add(time.Hour)}
	return q
}

// benchFrame is the documented answer to {"rows": n}
// (examples/bench-datasource/src/main.rs): frame `bench` with time (one
// per second from the query's start), value (i * 0.5) and label (nullable,
// null on rows 0, 3, 6…, else "row <i>").
func benchFrame(refID string, rows int) *data.Frame {
	times, values, labels := []time.Time{}, []float64{}, []*string{}
	for i := range rows {
		times = append(times, benchStart.Add(time.Duration(i)*time.Second))
		values = append(values, float64(i)*0.5)
		if i%3 == 0 {
			labels = append(labels, nil)
		} else {
			label := "row " + strconv.Itoa(i)
			labels = append(labels, &label)
		}
	}
	frame := data.NewFrame("bench",
		data.NewField("time", nil, times),
		data.NewField("value", nil, values),
		data.NewField("label", nil, labels))
	frame.RefID = refID
	return frame
}

func TestExampleBenchDataSource(t *testing.T) {
	p := startPlugin(t, benchBinary)
	pctx := dataSourceContext(t, benchPluginID, "bench-1", map[string]any{})

	t.Run("CheckHealth", func(t *testing.T) {
		resp, err := p.diagnostics.CheckHealth(callContext(t), &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pctx)})
		if err != nil {
			t.Fatal(err)
		}
		result := backend.FromProto().CheckHealthResponse(resp)
		if result.Status != backend.HealthStatusOk || result.Message != "bench data source is ready" {
			t.Errorf("health = %v %q", result.Status, result.Message)
		}
		t.Logf("answer: CheckHealth: %v %q details %q", result.Status, result.Message, result.JSONDetails)
	})

	for _, format := range formats {
		t.Run("QueryData/"+formatName(format), func(t *testing.T) {
			resp := queryData(t, p, &backend.QueryDataRequest{
				PluginContext: pctx,
				Format:        format,
				Queries: []backend.DataQuery{
					benchQuery("A", `{"rows": 7}`),
					benchQuery("B", `{"rows": 0}`),
					benchQuery("C", `{"rows": 1}`),
					benchQuery("bad", `{"rows": "many"}`),
					benchQuery("huge", `{"rows": 30000000}`),
				},
			})
			if len(resp.Responses) != 5 {
				t.Fatalf("%d responses, want 5", len(resp.Responses))
			}
			for refID, rows := range map[string]int{"A": 7, "B": 0, "C": 1} {
				r := resp.Responses[refID]
				if r.Error != nil || r.Status != backend.StatusOK {
					t.Errorf("%s: status %v error %v", refID, r.Status, r.Error)
				}
				assertFrames(t, data.Frames{benchFrame(refID, rows)}, r.Frames)
			}
			// The example's own golden files, written by the Rust SDK's golden
			// writer, read with the Go SDK's checkers
			// (experimental/golden_response_checker.go).
			golden := resp.Responses["A"]
			dir := filepath.Join(exampleDir("bench-datasource"), "tests", "golden")
			if err := experimental.CheckGoldenDataResponse(filepath.Join(dir, "seven-rows.golden.txt"), &golden, false); err != nil {
				t.Errorf("golden .txt: %v", err)
			}
			experimental.CheckGoldenJSONResponse(t, dir, "seven-rows.golden", &golden, false)

			for refID, message := range map[string]string{"bad": "invalid", "huge": "at most 20000000 rows, asked for 30000000"} {
				r := resp.Responses[refID]
				if r.Error == nil || !strings.Contains(r.Error.Error(), message) || len(r.Frames) != 0 {
					t.Errorf("%s: error %v, %d frames; want an error containing %q and no frames", refID, r.Error, len(r.Frames), message)
				}
				t.Logf("answer: QueryData %s: status %d source %q error %q", refID, r.Status, r.ErrorSource, r.Error)
			}
			// Errors the plugin made without a status or source: the Go SDK
			// sends 500 and source plugin (backend/convert_to_protobuf.go,
			// error_source_middleware.go).
			if r := resp.Responses["huge"]; r.Status != backend.StatusInternal || r.ErrorSource != backend.ErrorSourcePlugin {
				t.Errorf("huge: status %d source %q, want 500 plugin", r.Status, r.ErrorSource)
			}
		})
	}

	t.Run("CallResource", func(t *testing.T) {
		echoed := callResource(t, p, &backend.CallResourceRequest{
			PluginContext: pctx, Path: "echo", Method: http.MethodPost, URL: "echo", Body: []byte("ping"),
		})
		if len(echoed) == 0 || echoed[0].Status != http.StatusOK || body(echoed) != "ping" {
			t.Errorf("POST echo: %+v", echoed)
		}
		described := callResource(t, p, &backend.CallResourceRequest{
			PluginContext: pctx, Path: "echo", Method: http.MethodGet, URL: "echo?x=1",
		})
		assertResource(t, described, http.StatusOK, map[string]any{"method": "GET", "url": "echo?x=1"})
		missing := callResource(t, p, &backend.CallResourceRequest{PluginContext: pctx, Path: "nope", Method: http.MethodGet, URL: "nope"})
		if len(missing) == 0 || missing[0].Status != http.StatusNotFound || body(missing) != "no such resource" {
			t.Errorf("GET nope: %+v", missing)
		}
		t.Logf("answer: CallResource: POST echo %d %q; GET echo %d %s; GET nope %d %q",
			echoed[0].Status, body(echoed), described[0].Status, body(described), missing[0].Status, body(missing))
	})

	t.Run("Streams", func(t *testing.T) {
		subscribe := func(path string) backend.SubscribeStreamStatus {
			resp, err := p.stream.SubscribeStream(callContext(t), backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{PluginContext: pctx, Path: path}))
			if err != nil {
				t.Fatalf("SubscribeStream %s: %v", path, err)
			}
			return backend.FromProto().SubscribeStreamResponse(resp).Status
		}
		if s := subscribe("ticks"); s != backend.SubscribeStreamStatusOK {
			t.Errorf("subscribe ticks: %v", s)
		}
		if s := subscribe("other"); s != backend.SubscribeStreamStatusNotFound {
			t.Errorf("subscribe other: %v", s)
		}
		published, err := p.stream.PublishStream(callContext(t), backend.ToProto().PublishStreamRequest(&backend.PublishStreamRequest{
			PluginContext: pctx, Path: "ticks", Data: json.RawMessage(`{"x":1}`),
		}))
		if err != nil {
			t.Fatal(err)
		}
		if s := backend.FromProto().PublishStreamResponse(published).Status; s != backend.PublishStreamStatusPermissionDenied {
			t.Errorf("publish ticks: %v", s)
		}

		// A one-row frame per tick: the schema in the first packet, data
		// only after, which Grafana Live appends (data.AppendJSONData).
		packets := firstPackets(t, p, &backend.RunStreamRequest{PluginContext: pctx, Path: "ticks"}, 3)
		var frame data.Frame
		if err := json.Unmarshal(packets[0].Data, &frame); err != nil {
			t.Fatalf("packet 0: %v (%s)", err, packets[0].Data)
		}
		if frame.Name != "ticks" || frame.Rows() != 1 {
			t.Errorf("packet 0: frame %q of %d rows", frame.Name, frame.Rows())
		}
		for i, packet := range packets[1:] {
			if strings.Contains(string(packet.Data), `"schema"`) {
				t.Errorf("packet %d has a schema: %s", i+1, packet.Data)
			}
			if err := data.AppendJSONData(&frame, packet.Data); err != nil {
				t.Fatalf("packet %d: %v (%s)", i+1, err, packet.Data)
			}
		}
		if len(frame.Fields) != 2 || frame.Fields[0].Name != "time" || frame.Fields[0].Type() != data.FieldTypeTime {
			t.Fatalf("ticks fields: %v", frame.Fields)
		}
		value, i := frame.FieldByName("value")
		if i < 0 {
			t.Fatal("no value field")
		}
		var ticks []float64
		for i := range value.Len() {
			ticks = append(ticks, value.At(i).(float64))
		}
		if diff := cmp.Diff([]float64{0, 1, 2}, ticks); diff != "" {
			t.Errorf("tick values (-want +got):\n%s", diff)
		}
		t.Logf("answer: RunStream ticks: packets %s | %s | %s", packets[0].Data, packets[1].Data, packets[2].Data)

		_, err = runStream(t, p, &backend.RunStreamRequest{PluginContext: pctx, Path: "other"})
		if status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), `no stream "other"`) {
			t.Errorf("RunStream other: %v, want Unknown naming the path", err)
		}
		t.Logf("answer: RunStream other: %v", err)
	})

	// A cancelled stream leaves the plugin serving.
	t.Run("CheckHealth after cancel", func(t *testing.T) {
		resp, err := p.diagnostics.CheckHealth(callContext(t), &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pctx)})
		if err != nil || resp.Status != pluginv2.CheckHealthResponse_OK {
			t.Errorf("health after a cancelled stream: %v %v", resp, err)
		}
	})

	assertNoHandlers(t, p, pctx, "QueryChunkedData", "ValidateAdmission", "MutateAdmission", "ConvertObjects")
	t.Run("CollectMetrics", func(t *testing.T) { assertMetrics(t, p) })
	p.stop(t)
}
