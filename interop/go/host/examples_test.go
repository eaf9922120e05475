package host

// Shared by the example tests (example_*_test.go): every example under
// examples/ is started as Grafana starts it (startPlugin) and every RPC is
// called, those its handlers serve and those they do not.

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// exampleDir is examples/<name> in the repository, seen from this package.
func exampleDir(name string) string {
	return filepath.Join("..", "..", "..", "examples", name)
}

// assertMissingHandler checks the answer to rpc on a plugin that has no
// handler for it and returns which of the two accepted answers it was.
//
// A Go plugin built with datasource.Manage or app.Manage answers gRPC
// Unimplemented for every handler its instance lacks
// (internal/automanagement/manager.go). The Go SDK's bare adapters answer
// some RPCs in band instead: CheckHealth OK without a message
// (backend/diagnostics_adapter.go; the Rust SDK may say "no health
// handler"), QueryChunkedData one chunk of status 501
// (backend/data_adapter.go), CallResource status 501
// (backend/resource_adapter.go). The lead is moving the Rust SDK to
// Unimplemented, so for now both are accepted; inBand says whether the
// call's answer was the in-band one. Anything else fails.
func assertMissingHandler(t *testing.T, rpc string, err error, inBand bool) string {
	t.Helper()
	switch {
	case status.Code(err) == codes.Unimplemented:
		t.Logf("answer: %s without a handler: gRPC Unimplemented (%s)", rpc, status.Convert(err).Message())
		return "Unimplemented"
	case err == nil && inBand:
		t.Logf("answer: %s without a handler: in band, as Go's bare adapter", rpc)
		return "in band"
	default:
		t.Errorf("%s without a handler: error %v (in-band answer: %v), want gRPC Unimplemented or Go's in-band answer", rpc, err, inBand)
		return "wrong"
	}
}

// assertNoHandlers calls each of rpcs, which the plugin has no handler
// for, and checks the answers with assertMissingHandler.
func assertNoHandlers(t *testing.T, p *runningPlugin, pctx backend.PluginContext, rpcs ...string) {
	t.Helper()
	for _, rpc := range rpcs {
		t.Run("no handler/"+rpc, func(t *testing.T) {
			ctx := callContext(t)
			switch rpc {
			case "CheckHealth":
				resp, err := p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(pctx)})
				inBand := err == nil && resp.Status == pluginv2.CheckHealthResponse_OK &&
					(resp.Message == "" || strings.Contains(resp.Message, "no health handler"))
				assertMissingHandler(t, rpc, err, inBand)
			case "QueryData":
				_, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
					PluginContext: pctx,
					Queries:       []backend.DataQuery{testQuery("A", `{}`)},
				}))
				assertMissingHandler(t, rpc, err, false)
			case "QueryChunkedData":
				stream, err := p.data.QueryChunkedData(ctx, backend.ToProto().QueryChunkedDataRequest(&backend.QueryChunkedDataRequest{
					PluginContext: pctx,
					Queries:       []backend.DataQuery{testQuery("A", `{}`)},
				}))
				var chunks []*pluginv2.QueryChunkedDataResponse
				if err == nil {
					chunks, err = recvUntilEnd(stream)
				}
				inBand := len(chunks) == 1 && chunks[0].Status == http.StatusNotImplemented && len(chunks[0].Frame) == 0
				assertMissingHandler(t, rpc, err, inBand)
			case "CallResource":
				stream, err := p.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{
					PluginContext: pctx, Path: "anything", Method: http.MethodGet, URL: "anything",
				}))
				var messages []*pluginv2.CallResourceResponse
				if err == nil {
					messages, err = recvUntilEnd(stream)
				}
				inBand := len(messages) >= 1 && messages[0].Code == http.StatusNotImplemented
				assertMissingHandler(t, rpc, err, inBand)
			case "SubscribeStream":
				_, err := p.stream.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{PluginContext: pctx, Path: "any"}))
				assertMissingHandler(t, rpc, err, false)
			case "PublishStream":
				_, err := p.stream.PublishStream(ctx, backend.ToProto().PublishStreamRequest(&backend.PublishStreamRequest{PluginContext: pctx, Path: "any", Data: json.RawMessage(`{}`)}))
				assertMissingHandler(t, rpc, err, false)
			case "RunStream":
				_, err := runStream(t, p, &backend.RunStreamRequest{PluginContext: pctx, Path: "any"})
				assertMissingHandler(t, rpc, err, false)
			case "ValidateAdmission", "MutateAdmission":
				method := validateAdmissionMethod
				if rpc == "MutateAdmission" {
					method = mutateAdmissionMethod
				}
				_, err := admission(ctx, p, method, admissionRequest{
					pluginContext: pctx, group: "example.grafana.app", version: "v1", kind: "Thing", object: []byte(`{}`),
				})
				assertMissingHandler(t, rpc, err, false)
			case "ConvertObjects":
				_, err := convertObjects(ctx, p, conversionRequest{
					pluginContext: pctx, uid: "c-1", group: "example.grafana.app", version: "v2",
					objects: []rawObject{{Raw: []byte(`{}`), ContentType: "application/json"}},
				})
				assertMissingHandler(t, rpc, err, false)
			default:
				t.Fatalf("no such RPC %q", rpc)
			}
		})
	}
}

// assertMetrics checks CollectMetrics answers Prometheus text Go parses
// and logs the families.
func assertMetrics(t *testing.T, p *runningPlugin) {
	t.Helper()
	families := collectMetrics(t, p)
	if len(families) == 0 {
		t.Error("no metric families after serving requests")
	}
	t.Logf("answer: CollectMetrics: %d families: %v", len(families), families)
}

// firstPackets reads n packets of a RunStream call, then cancels it as
// Grafana does when the last subscriber leaves, and checks the stream
// ends as cancelled.
func firstPackets(t *testing.T, p *runningPlugin, req *backend.RunStreamRequest, n int) []*pluginv2.StreamPacket {
	t.Helper()
	ctx, cancel := context.WithCancel(callContext(t))
	defer cancel()
	stream, err := p.stream.RunStream(ctx, backend.ToProto().RunStreamRequest(req))
	if err != nil {
		t.Fatalf("RunStream: %v", err)
	}
	var packets []*pluginv2.StreamPacket
	for range n {
		packet, err := stream.Recv()
		if err != nil {
			t.Fatalf("RunStream packet %d: %v", len(packets), err)
		}
		packets = append(packets, packet)
	}
	cancel()
	if _, err := recvUntilEnd(stream); status.Code(err) != codes.Canceled {
		t.Errorf("RunStream after cancel: %v, want Canceled", err)
	}
	return packets
}

// resourceJSON decodes a resource answer's body as JSON.
func resourceJSON(t *testing.T, messages []*backend.CallResourceResponse) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(body(messages)), &v); err != nil {
		t.Fatalf("resource body is not JSON: %v (%q)", err, body(messages))
	}
	return v
}

// assertResource checks one resource answer: a status, JSON body want
// (compared as JSON values) and, when set, the content type.
func assertResource(t *testing.T, messages []*backend.CallResourceResponse, wantStatus int, want any) {
	t.Helper()
	if len(messages) == 0 {
		t.Fatal("no resource response")
	}
	if messages[0].Status != wantStatus {
		t.Errorf("status %d, want %d (body %q)", messages[0].Status, wantStatus, body(messages))
	}
	if want == nil {
		return
	}
	if ct := httpHeader(messages[0]).Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q, want application/json", ct)
	}
	// Round-trip want through JSON so numbers compare as float64.
	raw, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	var wantValue any
	if err := json.Unmarshal(raw, &wantValue); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantValue, resourceJSON(t, messages)); diff != "" {
		t.Errorf("resource body (-want +got):\n%s", diff)
	}
}

// withDataSourceID is pctx for the data source with id: Grafana gives every
// data source its own id, which keys its instance in both SDKs
// (backend/datasource/instance_provider.go).
func withDataSourceID(pctx backend.PluginContext, id int64) backend.PluginContext {
	settings := *pctx.DataSourceInstanceSettings
	settings.ID = id
	pctx.DataSourceInstanceSettings = &settings
	return pctx
}

// jsonString is s as a JSON string literal.
func jsonString(t *testing.T, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
