package host

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"google.golang.org/grpc/metadata"
)

// A W3C traceparent as Grafana's tracing propagates it to a plugin.
const (
	traceID     = "4bf92f3577b34da6a3ce929d0e0e4736"
	traceparent = "00-" + traceID + "-00f067aa0ba902b7-01"
)

// hostLogLine finds the line of the host's log (go-plugin re-logs each
// hclog line of the plugin's stderr with its key-value pairs) whose
// message is message, and returns its fields.
func hostLogLine(t *testing.T, p *runningPlugin, message string) map[string]any {
	t.Helper()
	scanner := bufio.NewScanner(strings.NewReader(p.log.String()))
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		var line map[string]any
		if json.Unmarshal(scanner.Bytes(), &line) != nil {
			continue
		}
		if line["@message"] == message {
			return line
		}
	}
	t.Fatalf("no host log line %q in:\n%s", message, p.log.String())
	return nil
}

// TestHandlerLogLinesCarryGoKeys: a line a handler logs reaches Grafana with
// the keys and values a Go plugin's line has for the same request. A Go
// handler logging through `backend.Logger.FromContext(ctx)` gets, from
// backend/log.go (withContextualLogAttributes): pluginId, pluginVersion,
// endpoint, traceId (from the incoming span context), dsName, dsUid and
// uname for a data source, then the attributes Grafana sent in the call's
// metadata (backend/log/context_grpc.go); Go's logger middleware
// (backend/logger_middleware.go) writes "Plugin Request Completed" with
// status, duration and statusSource.
func TestHandlerLogLinesCarryGoKeys(t *testing.T) {
	p := startPlugin(t, testPluginBinary)

	ctx := log.WithContextualAttributesForOutgoingContext(callContext(t), []any{
		"dashboardUID", "dash-1", "panelID", "7",
	})
	ctx = metadata.AppendToOutgoingContext(ctx, "traceparent", traceparent)
	pluginContext := dataSourceContext(t, testPluginID, "logs-uid", map[string]any{})
	const marker = "handler log line for the Go keys"
	_, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
		PluginContext: pluginContext,
		Queries:       []backend.DataQuery{testQuery("A", `{"scenario":"log","message":"`+marker+`"}`)},
	}))
	if err != nil {
		t.Fatalf("QueryData: %v", err)
	}
	p.stop(t)

	want := map[string]any{
		"pluginId":      testPluginID,
		"pluginVersion": pluginContext.PluginVersion,
		"endpoint":      string(backend.EndpointQueryData),
		"traceId":       traceID,
		"dsName":        pluginContext.DataSourceInstanceSettings.Name,
		"dsUid":         pluginContext.DataSourceInstanceSettings.UID,
		"uname":         pluginContext.User.Name,
		"dashboardUID":  "dash-1",
		"panelID":       "7",
	}
	line := hostLogLine(t, p, marker)
	if line["@level"] != "info" {
		t.Errorf("level %v, want info", line["@level"])
	}
	for key, value := range want {
		if line[key] != value {
			t.Errorf("handler line: %s = %v, want %v", key, line[key], value)
		}
	}
	completed := hostLogLine(t, p, "Plugin Request Completed")
	for key, value := range want {
		if completed[key] != value {
			t.Errorf("completion line: %s = %v, want %v", key, completed[key], value)
		}
	}
	if completed["status"] != "ok" || completed["statusSource"] != "plugin" {
		t.Errorf("completion line: status %v, statusSource %v", completed["status"], completed["statusSource"])
	}
	if _, ok := completed["duration"]; !ok {
		t.Errorf("completion line has no duration: %v", completed)
	}
}
