// Command gpx_go-datasource is the bench-datasource contract on the Go SDK
// (github.com/grafana/grafana-plugin-sdk-go), written the way Go data source
// plugins usually are: datasource.Manage with an instance factory, frames
// built from slices with data.NewFrame / data.NewField.
//
// The contract is the one examples/bench-datasource (this SDK) and
// benches/compare/peer-datasource (grafana-plugin-sdk 0.5) implement:
//
//   - query {"rows": N}: one frame "bench" of N rows with fields "time" (one
//     per second from the query's start), "value" (float64 i * 0.5) and
//     "label" (nullable string: null on rows 0, 3, 6…, else "row <i>");
//   - resource "echo": POST answers the request body; any other method a JSON
//     description of the request ({"method":…,"url":…});
//   - stream "ticks": a one-row frame (time, value = tick number) every 20 ms,
//     the schema in the first packet only;
//   - health: always OK.
//
// `cargo xtask bench` builds it (never CI) as Grafana's mage build does.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// pluginID is the plugin id in plugin.json.
const pluginID = "acme-bench-datasource"

// maxRows bounds a query: more rows are refused rather than risking the
// host's memory.
const maxRows = 20_000_000

// tickInterval is the time between two packets of the "ticks" stream.
const tickInterval = 20 * time.Millisecond

// benchQuery is a query: how many rows to return.
type benchQuery struct {
	Rows *int `json:"rows"`
}

// benchDatasource keeps no state; the instance manager makes one per
// configured data source.
type benchDatasource struct{}

var (
	_ backend.QueryDataHandler      = (*benchDatasource)(nil)
	_ backend.CallResourceHandler   = (*benchDatasource)(nil)
	_ backend.CheckHealthHandler    = (*benchDatasource)(nil)
	_ backend.StreamHandler         = (*benchDatasource)(nil)
	_ instancemgmt.InstanceDisposer = (*benchDatasource)(nil)
)

func newDatasource(_ context.Context, _ backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	return &benchDatasource{}, nil
}

// Dispose is called when the instance's settings change; there is nothing
// to release.
func (d *benchDatasource) Dispose() {}

// benchFrame is the "bench" frame of rows rows starting at start.
func benchFrame(rows int, start time.Time) *data.Frame {
	times := make([]time.Time, rows)
	values := make([]float64, rows)
	labels := make([]*string, rows)
	for i := range rows {
		times[i] = start.Add(time.Duration(i) * time.Second)
		values[i] = float64(i) * 0.5
		if i%3 != 0 {
			label := fmt.Sprintf("row %d", i)
			labels[i] = &label
		}
	}
	return data.NewFrame("bench",
		data.NewField("time", nil, times),
		data.NewField("value", nil, values),
		data.NewField("label", nil, labels),
	)
}

func answer(query backend.DataQuery) backend.DataResponse {
	var parsed benchQuery
	if err := json.Unmarshal(query.JSON, &parsed); err != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourcePlugin,
			fmt.Sprintf("query JSON: %v", err))
	}
	switch {
	case parsed.Rows == nil:
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourcePlugin,
			"query JSON: missing field `rows`")
	case *parsed.Rows < 0:
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourcePlugin,
			fmt.Sprintf("query JSON: rows is negative (%d)", *parsed.Rows))
	case *parsed.Rows > maxRows:
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourcePlugin,
			fmt.Sprintf("at most %d rows, asked for %d", maxRows, *parsed.Rows))
	}
	return backend.DataResponse{Frames: data.Frames{benchFrame(*parsed.Rows, query.TimeRange.From)}}
}

// QueryData answers every query with its frame; the SDK encodes the frames
// in the format the request asks for (Arrow or JSON).
func (d *benchDatasource) QueryData(_ context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	response := backend.NewQueryDataResponse()
	for _, query := range req.Queries {
		response.Responses[query.RefID] = answer(query)
	}
	return response, nil
}

// CallResource serves the "echo" resource.
func (d *benchDatasource) CallResource(_ context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	if strings.Trim(req.Path, "/") != "echo" {
		return sender.Send(&backend.CallResourceResponse{
			Status: http.StatusNotFound,
			Body:   []byte("no such resource"),
		})
	}
	if req.Method == http.MethodPost {
		return sender.Send(&backend.CallResourceResponse{Status: http.StatusOK, Body: req.Body})
	}
	description, err := json.Marshal(struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	}{req.Method, req.URL})
	if err != nil {
		return err
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  http.StatusOK,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    description,
	})
}

// CheckHealth always reports OK.
func (d *benchDatasource) CheckHealth(_ context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	return &backend.CheckHealthResult{
		Status:  backend.HealthStatusOk,
		Message: "bench data source is ready",
	}, nil
}

// SubscribeStream allows the "ticks" stream only.
func (d *benchDatasource) SubscribeStream(_ context.Context, req *backend.SubscribeStreamRequest) (*backend.SubscribeStreamResponse, error) {
	if req.Path != "ticks" {
		return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusNotFound}, nil
	}
	return &backend.SubscribeStreamResponse{Status: backend.SubscribeStreamStatusOK}, nil
}

// PublishStream refuses every publication.
func (d *benchDatasource) PublishStream(_ context.Context, _ *backend.PublishStreamRequest) (*backend.PublishStreamResponse, error) {
	return &backend.PublishStreamResponse{Status: backend.PublishStreamStatusPermissionDenied}, nil
}

// RunStream sends a tick every tickInterval, the first one at once, until
// Grafana stops listening.
func (d *benchDatasource) RunStream(ctx context.Context, req *backend.RunStreamRequest, sender *backend.StreamSender) error {
	if req.Path != "ticks" {
		return fmt.Errorf("no stream %q", req.Path)
	}
	ticker := time.NewTicker(tickInterval)
	defer ticker.Stop()
	include := data.IncludeAll
	for tick := 0; ; tick++ {
		frame := data.NewFrame("ticks",
			data.NewField("time", nil, []time.Time{time.Now()}),
			data.NewField("value", nil, []float64{float64(tick)}),
		)
		if err := sender.SendFrame(frame, include); err != nil {
			return err
		}
		include = data.IncludeDataOnly
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}

func main() {
	if err := datasource.Manage(pluginID, newDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error(err.Error())
		os.Exit(1)
	}
}
