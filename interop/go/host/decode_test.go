package host

import (
	"errors"
	"io"
	"iter"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental/datasourcetest"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
)

// formats are the two frame encodings a host may ask for.
var formats = []backend.DataFrameFormat{backend.DataFrameFormat_ARROW, backend.DataFrameFormat_JSON}

func formatName(f backend.DataFrameFormat) string {
	if f == backend.DataFrameFormat_JSON {
		return "JSON"
	}
	return "ARROW"
}

// queryData runs req through the Data client and decodes the answer the
// way Grafana does (client_v2.go QueryData → backend.FromProto, which
// decodes each response by its own format), after checking every response
// carries the format that was asked for.
func queryData(t *testing.T, p *runningPlugin, req *backend.QueryDataRequest) *backend.QueryDataResponse {
	t.Helper()
	protoResp, err := p.data.QueryData(callContext(t), backend.ToProto().QueryDataRequest(req))
	if err != nil {
		t.Fatalf("QueryData: %v", err)
	}
	for refID, r := range protoResp.Responses {
		if want := pluginv2.DataFrameFormat(req.Format); len(r.Frames) > 0 && r.Format != want {
			t.Errorf("response %s: format %v, asked for %v", refID, r.Format, want)
		}
	}
	resp, err := backend.FromProto().QueryDataResponse(protoResp)
	if err != nil {
		t.Fatalf("decode QueryData response: %v", err)
	}
	return resp
}

// queryChunked runs req through QueryChunkedData and returns every chunk.
func queryChunked(t *testing.T, p *runningPlugin, req *backend.QueryChunkedDataRequest) []*pluginv2.QueryChunkedDataResponse {
	t.Helper()
	stream, err := p.data.QueryChunkedData(callContext(t), backend.ToProto().QueryChunkedDataRequest(req))
	if err != nil {
		t.Fatalf("QueryChunkedData: %v", err)
	}
	return readAll(t, stream.Recv)
}

// accumulate reassembles chunks by frame id with the Go SDK's own
// consumer (experimental/datasourcetest/chunking.go).
func accumulate(t *testing.T, format backend.DataFrameFormat, chunks []*pluginv2.QueryChunkedDataResponse) *backend.QueryDataResponse {
	t.Helper()
	var seq iter.Seq2[*pluginv2.QueryChunkedDataResponse, error] = func(yield func(*pluginv2.QueryChunkedDataResponse, error) bool) {
		for _, chunk := range chunks {
			if !yield(chunk, nil) {
				return
			}
		}
	}
	accumulateFn := datasourcetest.AccumulateArrow
	if format == backend.DataFrameFormat_JSON {
		accumulateFn = datasourcetest.AccumulateJSON
	}
	resp, err := accumulateFn(seq)
	if err != nil {
		t.Fatalf("accumulate %s chunks: %v", formatName(format), err)
	}
	return resp
}

// callResource sends req and returns every response message, converted as
// Grafana converts them (client_v2.go CallResource).
func callResource(t *testing.T, p *runningPlugin, req *backend.CallResourceRequest) []*backend.CallResourceResponse {
	t.Helper()
	stream, err := p.resource.CallResource(callContext(t), backend.ToProto().CallResourceRequest(req))
	if err != nil {
		t.Fatalf("CallResource: %v", err)
	}
	var out []*backend.CallResourceResponse
	for _, m := range readAll(t, stream.Recv) {
		out = append(out, backend.FromProto().CallResourceResponse(m))
	}
	return out
}

// body joins the bodies of resource response messages.
func body(messages []*backend.CallResourceResponse) string {
	var b strings.Builder
	for _, m := range messages {
		b.Write(m.Body)
	}
	return b.String()
}

// httpHeader is the first message's headers as Grafana writes them into
// its http.ResponseWriter (canonical names).
func httpHeader(m *backend.CallResourceResponse) http.Header {
	h := http.Header{}
	for name, values := range m.Headers {
		for _, v := range values {
			h.Add(name, v)
		}
	}
	return h
}

// runStream returns every packet of a RunStream call.
func runStream(t *testing.T, p *runningPlugin, req *backend.RunStreamRequest) ([]*pluginv2.StreamPacket, error) {
	t.Helper()
	stream, err := p.stream.RunStream(callContext(t), backend.ToProto().RunStreamRequest(req))
	if err != nil {
		return nil, err
	}
	return recvUntilEnd(stream)
}

func recvUntilEnd[T any](stream grpc.ServerStreamingClient[T]) ([]*T, error) {
	var out []*T
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
}

// assertFrames compares frames field by field (names, types, nullability,
// labels, config, meta, values incl. NaN/Inf and nanosecond times) with
// the Go SDK's own comparer.
func assertFrames(t *testing.T, want, got data.Frames) {
	t.Helper()
	if diff := cmp.Diff(want, got, data.FrameTestCompareOptions()...); diff != "" {
		t.Errorf("frames differ (-want +got):\n%s", diff)
	}
}

// collectMetrics checks CollectMetrics answers Prometheus text that Go's
// own parser (prometheus/common/expfmt) reads, and returns the families.
func collectMetrics(t *testing.T, p *runningPlugin) map[string]bool {
	t.Helper()
	resp, err := p.diagnostics.CollectMetrics(callContext(t), &pluginv2.CollectMetricsRequest{})
	if err != nil {
		t.Fatalf("CollectMetrics: %v", err)
	}
	result := backend.FromProto().CollectMetricsResponse(resp)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(string(result.PrometheusMetrics)))
	if err != nil {
		t.Fatalf("metrics are not Prometheus text: %v\n%s", err, result.PrometheusMetrics)
	}
	names := map[string]bool{}
	for name := range families {
		names[name] = true
	}
	return names
}

// doubled is the frame make builds with every row twice: what
// reassembling two chunks of the same frame id, each all of it, yields.
func doubled(make func() *data.Frame) *data.Frame {
	twice := make()
	for i, field := range make().Fields {
		twice.Fields[i].AppendAll(field)
	}
	return twice
}
