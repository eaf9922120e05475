package host

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/example/grafana-plugin-sdk-rs/interop/go/internal/fixtures"
)

const testPluginID = "acme-interop-test-datasource"

// queryStart is the start of every query's time range.
var queryStart = time.UnixMilli(1_700_000_000_000).UTC()

func testQuery(refID, queryJSON string) backend.DataQuery {
	return backend.DataQuery{
		RefID:         refID,
		QueryType:     "",
		MaxDataPoints: 1000,
		Interval:      time.Second,
		TimeRange:     backend.TimeRange{From: queryStart, To: queryStart.Add(time.Hour)},
		JSON:          json.RawMessage(queryJSON),
	}
}

// rowsFrame is the test plugin's `rows` frame (interop/test-plugin
// src/query.rs): rows from..to of time (one per second plus one
// nanosecond per row), value (i * 0.5) and label (null on every third row).
func rowsFrame(refID string, from, to int) *data.Frame {
	var times []time.Time
	var values []float64
	labels := []*string{}
	for i := from; i < to; i++ {
		times = append(times, queryStart.Add(time.Duration(i)*time.Second+time.Duration(i)))
		values = append(values, float64(i)*0.5)
		if i%3 == 0 {
			labels = append(labels, nil)
		} else {
			label := "row " + strconv.Itoa(i)
			labels = append(labels, &label)
		}
	}
	if times == nil {
		times, values = []time.Time{}, []float64{}
	}
	frame := data.NewFrame("rows",
		data.NewField("time", nil, times),
		data.NewField("value", nil, values),
		data.NewField("label", nil, labels),
	)
	frame.RefID = refID
	return frame
}

// allTypes is the shared fixture with the query's refId.
func allTypes(refID string) *data.Frame {
	f := fixtures.AllFieldTypes()
	f.RefID = refID
	return f
}

func TestInteropTestPlugin(t *testing.T) {
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "interop-uid", map[string]any{"anything": true})

	t.Run("CheckHealth", func(t *testing.T) {
		resp, err := p.diagnostics.CheckHealth(callContext(t), &pluginv2.CheckHealthRequest{
			PluginContext: backend.ToProto().PluginContext(pctx),
			Headers:       map[string]string{"X-Check": "1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		result := backend.FromProto().CheckHealthResponse(resp)
		if result.Status != backend.HealthStatusOk || result.Message != "interop test plugin is healthy" {
			t.Errorf("health = %v %q", result.Status, result.Message)
		}
		var details map[string]any
		if err := json.Unmarshal(result.JSONDetails, &details); err != nil {
			t.Fatalf("jsonDetails: %v (%s)", err, result.JSONDetails)
		}
		want := map[string]any{
			"pluginId": testPluginID,
			"orgId":    float64(1),
			"uid":      "interop-uid",
			"name":     "Interop interop-uid",
			"user":     "admin",
			"headers":  map[string]any{"X-Check": "1"},
			"env": map[string]any{
				"GF_VERSION":        grafanaVersion,
				"GF_EDITION":        "oss",
				"GF_PLUGIN_INTEROP": "yes",
			},
		}
		if diff := cmp.Diff(want, details); diff != "" {
			t.Errorf("jsonDetails (-want +got):\n%s", diff)
		}
	})

	for _, format := range formats {
		t.Run("QueryData/"+formatName(format), func(t *testing.T) {
			resp := queryData(t, p, &backend.QueryDataRequest{
				PluginContext: pctx,
				Headers:       map[string]string{"X-Query": "1"},
				Format:        format,
				Queries: []backend.DataQuery{
					testQuery("A", `{"scenario":"all_types"}`),
					testQuery("B", `{"scenario":"rows","rows":7}`),
					testQuery("C", `{"scenario":"rows","rows":0}`),
					testQuery("D", `{"scenario":"error","status":418,"errorSource":"downstream","message":"teapot"}`),
					testQuery("E", `{"scenario":"error","status":400,"message":"no source"}`),
					testQuery("F", `{"scenario":"no such scenario"}`),
				},
			})
			if len(resp.Responses) != 6 {
				t.Fatalf("%d responses, want 6", len(resp.Responses))
			}
			ok := func(refID string, want ...*data.Frame) {
				t.Helper()
				r := resp.Responses[refID]
				if r.Error != nil || r.Status != backend.StatusOK {
					t.Errorf("%s: status %v, error %v", refID, r.Status, r.Error)
				}
				assertFrames(t, want, r.Frames)
			}
			ok("A", allTypes("A"))
			ok("B", rowsFrame("B", 0, 7))
			ok("C", rowsFrame("C", 0, 0))
			failed := func(refID string, wantStatus backend.Status, wantSource backend.ErrorSource, wantMessage string) {
				t.Helper()
				r := resp.Responses[refID]
				if r.Error == nil || !strings.Contains(r.Error.Error(), wantMessage) {
					t.Errorf("%s: error %v, want one containing %q", refID, r.Error, wantMessage)
				}
				if r.Status != wantStatus || r.ErrorSource != wantSource {
					t.Errorf("%s: status %v source %q, want %v %q", refID, r.Status, r.ErrorSource, wantStatus, wantSource)
				}
				if len(r.Frames) != 0 {
					t.Errorf("%s: %d frames, want none", refID, len(r.Frames))
				}
			}
			failed("D", 418, backend.ErrorSourceDownstream, "teapot")
			// An error without a source is the plugin's
			// (backend/error_source_middleware.go).
			failed("E", 400, backend.ErrorSourcePlugin, "no source")
			// A query the plugin cannot parse is its own error: 500, as the
			// Go SDK guesses for an error without a status
			// (backend/convert_to_protobuf.go).
			failed("F", backend.StatusInternal, backend.ErrorSourcePlugin, "no such scenario")
		})
	}

	t.Run("QueryData/RequestError", func(t *testing.T) {
		_, err := p.data.QueryData(callContext(t), backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
			PluginContext: pctx,
			Queries:       []backend.DataQuery{testQuery("A", `{"scenario":"request_error","message":"upstream is down"}`)},
		}))
		if err == nil {
			t.Fatal("QueryData succeeded, want an error")
		}
		// backend/data_adapter.go enrichWithErrorSourceInfo: Unknown with
		// an ErrorInfo detail that Grafana reads back (client_v2.go).
		if status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), "upstream is down") {
			t.Errorf("error %v, want Unknown with the message", err)
		}
		source, ok := backend.ErrorSourceFromGrpcStatusError(callContext(t), err)
		if !ok || source != backend.ErrorSourceDownstream {
			t.Errorf("error source %q (found %v), want downstream", source, ok)
		}
	})

	for _, format := range formats {
		t.Run("QueryChunkedData/"+formatName(format), func(t *testing.T) {
			chunks := queryChunked(t, p, &backend.QueryChunkedDataRequest{
				PluginContext: pctx,
				Format:        format,
				Queries: []backend.DataQuery{
					testQuery("A", `{"scenario":"rows","rows":10,"chunkRows":4}`),
					testQuery("B", `{"scenario":"all_types"}`),
				},
			})
			// A: rows 0-3, 4-7, 8-9 of frame "rows", then "rows-2" whole;
			// B: the fixture twice as frame "all".
			wantIDs := []string{"A/rows", "A/rows", "A/rows", "A/rows-2", "B/all", "B/all"}
			var gotIDs []string
			for _, c := range chunks {
				gotIDs = append(gotIDs, c.RefId+"/"+c.FrameId)
				if c.Status != http.StatusOK || c.Error != "" || c.Format != pluginv2.DataFrameFormat(format) {
					t.Errorf("chunk %s/%s: status %d error %q format %v", c.RefId, c.FrameId, c.Status, c.Error, c.Format)
				}
			}
			if diff := cmp.Diff(wantIDs, gotIDs); diff != "" {
				t.Fatalf("chunks (-want +got):\n%s", diff)
			}
			if format == backend.DataFrameFormat_JSON {
				// backend/chunked.go: the first JSON chunk of a frame has
				// the schema, later ones data only.
				for i, c := range chunks {
					hasSchema := strings.Contains(string(c.Frame), `"schema"`)
					first := i == 0 || gotIDs[i-1] != gotIDs[i]
					if hasSchema != first {
						t.Errorf("chunk %d (%s): schema present %v, want %v", i, gotIDs[i], hasSchema, first)
					}
				}
			}
			resp := accumulate(t, format, chunks)
			assertFrames(t, data.Frames{rowsFrame("A", 0, 10), rowsFrame("A", 0, 10)}, resp.Responses["A"].Frames)
			assertFrames(t, data.Frames{doubled(func() *data.Frame { return allTypes("B") })}, resp.Responses["B"].Frames)
		})
	}

	t.Run("QueryChunkedData/Error", func(t *testing.T) {
		chunks := queryChunked(t, p, &backend.QueryChunkedDataRequest{
			PluginContext: pctx,
			Queries:       []backend.DataQuery{testQuery("A", `{"scenario":"error","status":503,"errorSource":"downstream","message":"busy"}`)},
		})
		if len(chunks) != 1 {
			t.Fatalf("%d chunks, want 1", len(chunks))
		}
		c := chunks[0]
		if c.RefId != "A" || c.Status != 503 || c.Error != "busy" || c.ErrorSource != "downstream" || len(c.Frame) != 0 {
			t.Errorf("error chunk = %+v", c)
		}
	})

	t.Run("CallResource", func(t *testing.T) {
		reqBody := "hello, chunked world!" // 21 bytes: 5 chunks of at most 5
		messages := callResource(t, p, &backend.CallResourceRequest{
			PluginContext: pctx,
			Path:          "echo",
			Method:        http.MethodPost,
			URL:           "/api/datasources/uid/interop-uid/resources/echo?x=1&y=2",
			Headers: map[string][]string{
				"X-Multi":      {"one", "two"},
				"X-Chunk-Size": {"5"},
				"Content-Type": {"text/plain"},
			},
			Body: []byte(reqBody),
		})
		if len(messages) != 6 {
			t.Fatalf("%d messages, want 1 head and 5 body chunks", len(messages))
		}
		head := messages[0]
		if head.Status != http.StatusOK || len(head.Body) != 0 {
			t.Errorf("head: status %d, body %q", head.Status, head.Body)
		}
		h := httpHeader(head)
		want := http.Header{
			"Content-Type":               {"application/octet-stream"},
			"X-Echo-Method":              {"POST"},
			"X-Echo-Path":                {"echo"},
			"X-Echo-Url":                 {"/api/datasources/uid/interop-uid/resources/echo?x=1&y=2"},
			"X-Echo-Header-X-Multi":      {"one", "two"},
			"X-Echo-Header-X-Chunk-Size": {"5"},
			"X-Echo-Header-Content-Type": {"text/plain"},
		}
		if diff := cmp.Diff(want, h); diff != "" {
			t.Errorf("headers (-want +got):\n%s", diff)
		}
		for i, m := range messages[1:] {
			if m.Status != 0 || len(m.Headers) != 0 {
				t.Errorf("body chunk %d: status %d headers %v", i, m.Status, m.Headers)
			}
			if len(m.Body) == 0 || len(m.Body) > 5 {
				t.Errorf("body chunk %d: %d bytes", i, len(m.Body))
			}
		}
		if got := body(messages); got != reqBody {
			t.Errorf("body %q, want %q", got, reqBody)
		}

		missing := callResource(t, p, &backend.CallResourceRequest{PluginContext: pctx, Path: "nope", Method: http.MethodGet})
		if len(missing) != 1 || missing[0].Status != http.StatusNotFound || body(missing) != "no such resource" {
			t.Errorf("unknown path: %+v", missing)
		}
	})

	t.Run("Streams", func(t *testing.T) {
		sub := func(path string) *backend.SubscribeStreamResponse {
			t.Helper()
			resp, err := p.stream.SubscribeStream(callContext(t), backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{
				PluginContext: pctx, Path: path,
			}))
			if err != nil {
				t.Fatalf("SubscribeStream %s: %v", path, err)
			}
			return backend.FromProto().SubscribeStreamResponse(resp)
		}
		ok := sub("count/3")
		if ok.Status != backend.SubscribeStreamStatusOK {
			t.Errorf("subscribe count/3: %v", ok.Status)
		}
		var schema data.Frame
		if err := json.Unmarshal(ok.InitialData.Data(), &schema); err != nil {
			t.Fatalf("initial data: %v (%s)", err, ok.InitialData.Data())
		}
		assertFrames(t, data.Frames{data.NewFrame("count",
			data.NewField("n", nil, []int64{}), data.NewField("text", nil, []string{}))}, data.Frames{&schema})
		if s := sub("denied").Status; s != backend.SubscribeStreamStatusPermissionDenied {
			t.Errorf("subscribe denied: %v", s)
		}
		if s := sub("nope").Status; s != backend.SubscribeStreamStatusNotFound {
			t.Errorf("subscribe nope: %v", s)
		}

		pub := func(path string, payload string) *backend.PublishStreamResponse {
			t.Helper()
			resp, err := p.stream.PublishStream(callContext(t), backend.ToProto().PublishStreamRequest(&backend.PublishStreamRequest{
				PluginContext: pctx, Path: path, Data: json.RawMessage(payload),
			}))
			if err != nil {
				t.Fatalf("PublishStream %s: %v", path, err)
			}
			return backend.FromProto().PublishStreamResponse(resp)
		}
		if r := pub("echo", `{"x":1}`); r.Status != backend.PublishStreamStatusOK || string(r.Data) != `{"x":1}` {
			t.Errorf("publish echo: %v %s", r.Status, r.Data)
		}
		if r := pub("other", `{}`); r.Status != backend.PublishStreamStatusPermissionDenied {
			t.Errorf("publish other: %v", r.Status)
		}

		packets, err := runStream(t, p, &backend.RunStreamRequest{PluginContext: pctx, Path: "count/3"})
		if err != nil {
			t.Fatalf("RunStream: %v", err)
		}
		if len(packets) != 3 {
			t.Fatalf("%d packets, want 3", len(packets))
		}
		// The first packet is a whole frame, later ones data only, which
		// Grafana Live appends to the schema it keeps (data.AppendJSONData).
		var frame data.Frame
		if err := json.Unmarshal(packets[0].Data, &frame); err != nil {
			t.Fatalf("packet 0: %v (%s)", err, packets[0].Data)
		}
		for i, packet := range packets[1:] {
			if strings.Contains(string(packet.Data), `"schema"`) {
				t.Errorf("packet %d has a schema: %s", i+1, packet.Data)
			}
			if err := data.AppendJSONData(&frame, packet.Data); err != nil {
				t.Fatalf("packet %d: %v (%s)", i+1, err, packet.Data)
			}
		}
		assertFrames(t, data.Frames{data.NewFrame("count",
			data.NewField("n", nil, []int64{0, 1, 2}),
			data.NewField("text", nil, []string{"packet 0", "packet 1", "packet 2"}))}, data.Frames{&frame})

		_, err = runStream(t, p, &backend.RunStreamRequest{PluginContext: pctx, Path: "bogus"})
		if status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), "bogus") {
			t.Errorf("RunStream bogus: %v, want Unknown naming the path", err)
		}
	})

	t.Run("Admission", func(t *testing.T) {
		req := admissionRequest{
			pluginContext: pctx, operation: 1, group: "example.grafana.app", version: "v1", kind: "Thing",
			object: []byte(`{"valid":true,"name":"a"}`), oldObject: []byte(`{"valid":true}`),
		}
		valid, err := admission(callContext(t), p, validateAdmissionMethod, req)
		if err != nil {
			t.Fatal(err)
		}
		want := &admissionResponse{Allowed: true, Warnings: []string{"UPDATE example.grafana.app/v1 Thing"}}
		if diff := cmp.Diff(want, valid); diff != "" {
			t.Errorf("validate valid (-want +got):\n%s", diff)
		}
		req.object = []byte(`{"valid":false}`)
		invalid, err := admission(callContext(t), p, validateAdmissionMethod, req)
		if err != nil {
			t.Fatal(err)
		}
		want = &admissionResponse{
			Result:   &statusResult{Status: "Failure", Message: "object is not valid", Code: 400},
			Warnings: []string{"UPDATE example.grafana.app/v1 Thing"},
		}
		if diff := cmp.Diff(want, invalid); diff != "" {
			t.Errorf("validate invalid (-want +got):\n%s", diff)
		}

		req.operation, req.object = 0, []byte(`{"name":"a"}`)
		mutated, err := admission(callContext(t), p, mutateAdmissionMethod, req)
		if err != nil {
			t.Fatal(err)
		}
		if !mutated.Allowed || mutated.Result != nil {
			t.Errorf("mutate: %+v", mutated)
		}
		var object map[string]any
		if err := json.Unmarshal(mutated.Object, &object); err != nil {
			t.Fatalf("mutated object: %v (%s)", err, mutated.Object)
		}
		if diff := cmp.Diff(map[string]any{"name": "a", "mutated": true, "operation": "CREATE"}, object); diff != "" {
			t.Errorf("mutated object (-want +got):\n%s", diff)
		}
	})

	t.Run("ConvertObjects", func(t *testing.T) {
		resp, err := convertObjects(callContext(t), p, conversionRequest{
			pluginContext: pctx, uid: "conversion-1", group: "example.grafana.app", version: "v2",
			objects: []rawObject{
				{Raw: []byte(`{"apiVersion":"example.grafana.app/v1","spec":{"a":1}}`), ContentType: "application/json"},
				{Raw: []byte(`{"kind":"Thing"}`), ContentType: "application/json"},
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if resp.UID != "conversion-1" || resp.Result != nil || len(resp.Objects) != 2 {
			t.Fatalf("conversion: %+v", resp)
		}
		wantObjects := []map[string]any{
			{"apiVersion": "example.grafana.app/v2", "spec": map[string]any{"a": float64(1)}},
			{"apiVersion": "example.grafana.app/v2", "kind": "Thing"},
		}
		for i, o := range resp.Objects {
			var got map[string]any
			if err := json.Unmarshal(o.Raw, &got); err != nil {
				t.Fatalf("object %d: %v", i, err)
			}
			if diff := cmp.Diff(wantObjects[i], got); diff != "" || o.ContentType != "application/json" {
				t.Errorf("object %d (%s) (-want +got):\n%s", i, o.ContentType, diff)
			}
		}
	})

	t.Run("CollectMetrics", func(t *testing.T) {
		families := collectMetrics(t, p)
		if len(families) == 0 {
			t.Error("no metric families after serving requests")
		}
		t.Logf("metric families: %v", families)
	})

	p.stop(t)
}
