package host

// Secrets: a decrypted secure JSON value sent in the plugin context of
// every call, successful and failing, at the most verbose log level, must
// appear in nothing the plugin emits: its log lines (as go-plugin re-logs
// them and as written raw to stderr), its stdout, its metrics, its error
// messages.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"github.com/hashicorp/go-plugin/runner"
)

// capturedOutput is everything a plugin process wrote.
type capturedOutput struct {
	stdout *lockedBuffer // every byte of stdout, the handshake line included
	stderr *lockedBuffer // every byte of stderr, before go-plugin parses it
}

// teeRunner runs the plugin as go-plugin's own command runner does
// (internal/cmdrunner/cmd_runner.go: the command with pipes for stdout and
// stderr) and keeps a copy of stdout, which go-plugin discards after the
// handshake line (client.go Start: `for range linesCh {}`).
type teeRunner struct {
	cmd    *exec.Cmd
	stdout io.ReadCloser
	stderr io.ReadCloser
}

type teeReadCloser struct {
	io.Reader
	io.Closer
}

func newTeeRunner(cmd *exec.Cmd, out capturedOutput) (*teeRunner, error) {
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	return &teeRunner{
		cmd:    cmd,
		stdout: teeReadCloser{io.TeeReader(stdout, out.stdout), stdout},
		stderr: stderr,
	}, nil
}

func (r *teeRunner) Start(context.Context) error     { return r.cmd.Start() }
func (r *teeRunner) Wait(context.Context) error      { return r.cmd.Wait() }
func (r *teeRunner) Diagnose(context.Context) string { return "" }
func (r *teeRunner) Stdout() io.ReadCloser           { return r.stdout }
func (r *teeRunner) Stderr() io.ReadCloser           { return r.stderr }
func (r *teeRunner) Name() string                    { return r.cmd.Path }
func (r *teeRunner) ID() string                      { return fmt.Sprint(r.cmd.Process.Pid) }
func (r *teeRunner) Kill(context.Context) error {
	if err := r.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	return nil
}

func (r *teeRunner) PluginToHost(network, addr string) (string, string, error) {
	return network, addr, nil
}

func (r *teeRunner) HostToPlugin(network, addr string) (string, string, error) {
	return network, addr, nil
}

var _ runner.Runner = (*teeRunner)(nil)

// startCapturing starts binary as startPlugin does, with extra environment
// and every byte of its stdout and stderr kept.
func startCapturing(t *testing.T, binary string, extraEnv ...string) (*runningPlugin, capturedOutput) {
	t.Helper()
	out := capturedOutput{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	logs := &lockedBuffer{}
	var cmd *exec.Cmd
	client := goplugin.NewClient(&goplugin.ClientConfig{
		// go-plugin hands the runner a command carrying the environment
		// it built (the host's, the magic cookie, the socket dir); run
		// the plugin binary with it.
		RunnerFunc: func(_ hclog.Logger, spec *exec.Cmd, _ string) (runner.Runner, error) {
			cmd = exec.Command(filepath.Join(pluginDir, binary))
			cmd.Env = append(append(grafanaEnv(), extraEnv...), spec.Env...)
			return newTeeRunner(cmd, out)
		},
		HandshakeConfig:  handshake,
		VersionedPlugins: pluginSet(),
		Logger: hclog.New(&hclog.LoggerOptions{
			Name: "plugin." + binary, Level: hclog.Trace, Output: logs, JSONFormat: true,
		}),
		Stderr:           out.stderr,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
	})
	p := &runningPlugin{binary: binary, client: client, log: logs}
	t.Cleanup(func() {
		client.Kill()
		if t.Failed() {
			t.Logf("host log of %s:\n%s", binary, logs.String())
		}
	})
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("start %s: %v\nhost log:\n%s", binary, err, logs.String())
	}
	p.cmd = cmd
	dispenseInto(t, p, rpc)
	return p, out
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// secretsLogFilter is the most verbose filter: every SDK event at trace,
// and the HTTP/2 and gRPC stack, which plugin-serve caps at info unless
// the filter names it (crates/plugin-serve src/log.rs), named.
const secretsLogFilter = "trace,h2=trace,hyper=trace,hyper_util=trace,tonic=trace,tower=trace"

// texts collects every string the plugin sent back that is not a reflection
// of the request by design (the echo resource's headers, the health
// check's jsonDetails), labelled by where it came from.
type texts map[string]string

func (x texts) add(where string, text string) {
	if text != "" {
		x[where] += text + "\n"
	}
}

// TestSecretsNeverLeave sends a decrypted secure JSON value (and an
// Authorization header) through every endpoint, in calls that succeed and
// calls that fail in the handler, in the plugin's parsing of the request
// and in the SDK's conversion of it, with trace logging on, and checks the
// value appears in none of the plugin's output.
func TestSecretsNeverLeave(t *testing.T) {
	secret := "sekrit-" + randomHex(t)
	headerSecret := "hdrsekrit-" + randomHex(t)
	marker := "marker-" + randomHex(t) // logged on purpose: a positive control
	p, out := startCapturing(t, testPluginBinary, "GF_PLUGIN_LOG_LEVEL="+secretsLogFilter)
	pctx := dataSourceContext(t, testPluginID, "secrets-uid", map[string]any{"url": "http://upstream.invalid"})
	pctx.DataSourceInstanceSettings.DecryptedSecureJSONData = map[string]string{
		"token": secret, "password": secret, "basicAuthPassword": secret,
	}
	pctx.DataSourceInstanceSettings.BasicAuthEnabled = true
	pctx.DataSourceInstanceSettings.BasicAuthUser = "basic-user"
	// The same context with what the SDK's converter refuses (a role
	// Grafana does not have) and with settings JSON that is not JSON.
	badRole := pctx
	badUser := *user
	badUser.Role = "Overlord"
	badRole.User = &badUser
	badJSON := pctx
	badSettings := *pctx.DataSourceInstanceSettings
	badSettings.JSONData = json.RawMessage(`{"url": "http://upstream.invalid", "token": `)
	badJSON.DataSourceInstanceSettings = &badSettings
	// And the same secrets in a data source whose every call panics in
	// the test plugin (src/diag.rs).
	panics := pctx
	panicSettings := *pctx.DataSourceInstanceSettings
	panicSettings.UID = "panic"
	panics.DataSourceInstanceSettings = &panicSettings
	contexts := []backend.PluginContext{pctx, badRole, badJSON, panics}
	headers := map[string]string{"Authorization": "Bearer " + headerSecret}
	got := texts{}
	failures := 0
	grpcError := func(where string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s: succeeded, want an error", where)
			return
		}
		failures++
		got.add(where, err.Error())
	}

	for _, c := range contexts {
		resp, err := p.diagnostics.CheckHealth(callContext(t), &pluginv2.CheckHealthRequest{
			PluginContext: backend.ToProto().PluginContext(c), Headers: headers,
		})
		if err != nil {
			grpcError("CheckHealth", err)
		} else {
			got.add("CheckHealth message", resp.Message)
		}
	}

	queries := []backend.DataQuery{
		testQuery("A", `{"scenario":"all_types"}`),
		testQuery("B", `{"scenario":"rows","rows":3}`),
		testQuery("C", `{"scenario":"error","status":502,"errorSource":"downstream","message":"`+marker+`"}`),
		testQuery("D", `{"scenario":"no such scenario"}`),
		testQuery("E", `{"scenario":`),
		testQuery("F", `{"scenario":"rows","rows":-1}`),
	}
	for _, format := range formats {
		resp, err := p.data.QueryData(callContext(t), backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
			PluginContext: pctx, Headers: headers, Format: format, Queries: queries,
		}))
		if err != nil {
			t.Fatalf("QueryData: %v", err)
		}
		for refID, r := range resp.Responses {
			if r.Error != "" {
				failures++
			}
			got.add("QueryData "+refID+" error", r.Error)
		}
	}
	for _, c := range contexts {
		_, err := p.data.QueryData(callContext(t), backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
			PluginContext: c, Headers: headers,
			Queries: []backend.DataQuery{testQuery("A", `{"scenario":"request_error","message":"upstream is down"}`)},
		}))
		grpcError("QueryData request_error", err)
	}

	// A slow query the host gives up on (src/diag.rs sleepMillis): the
	// plugin logs the cancellation.
	slowCtx, cancelSlow := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err := p.data.QueryData(slowCtx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
		PluginContext: pctx, Headers: headers,
		Queries: []backend.DataQuery{testQuery("S", `{"scenario":"rows","rows":1,"sleepMillis":5000}`)},
	}))
	cancelSlow()
	grpcError("QueryData abandoned", err)

	for _, c := range contexts {
		stream, err := p.data.QueryChunkedData(callContext(t), backend.ToProto().QueryChunkedDataRequest(&backend.QueryChunkedDataRequest{
			PluginContext: c, Headers: headers, Queries: queries[1:],
		}))
		if err != nil {
			grpcError("QueryChunkedData", err)
			continue
		}
		chunks, err := recvUntilEnd(stream)
		for _, chunk := range chunks {
			got.add("QueryChunkedData chunk error", chunk.Error)
		}
		if err != nil {
			grpcError("QueryChunkedData", err)
		}
	}

	resourceCall := func(c backend.PluginContext, path string, h map[string][]string) {
		t.Helper()
		h["Authorization"] = []string{"Bearer " + headerSecret}
		stream, err := p.resource.CallResource(callContext(t), backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{
			PluginContext: c, Path: path, Method: http.MethodPost, Headers: h, Body: []byte("body"),
		}))
		if err != nil {
			grpcError("CallResource "+path, err)
			return
		}
		messages, err := recvUntilEnd(stream)
		if err != nil {
			grpcError("CallResource "+path, err)
		}
		if len(messages) > 0 && messages[0].Code >= 400 {
			failures++
			for _, m := range messages {
				got.add("CallResource "+path+" body", string(m.Body))
			}
		}
	}
	resourceCall(pctx, "echo", map[string][]string{})
	resourceCall(pctx, "nope", map[string][]string{})
	resourceCall(pctx, "echo", map[string][]string{"X-Chunk-Size": {"zero"}})
	resourceCall(badRole, "echo", map[string][]string{})
	resourceCall(badJSON, "echo", map[string][]string{})
	resourceCall(panics, "echo", map[string][]string{})
	resourceCall(pctx, "panic-midway", map[string][]string{})

	for _, c := range contexts {
		for _, path := range []string{"count/1", "denied", "nope"} {
			_, err := p.stream.SubscribeStream(callContext(t), backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{
				PluginContext: c, Path: path,
			}))
			if err != nil {
				grpcError("SubscribeStream "+path, err)
			}
		}
		for _, path := range []string{"echo", "other"} {
			_, err := p.stream.PublishStream(callContext(t), backend.ToProto().PublishStreamRequest(&backend.PublishStreamRequest{
				PluginContext: c, Path: path, Data: json.RawMessage(`{}`),
			}))
			if err != nil {
				grpcError("PublishStream "+path, err)
			}
		}
		for _, path := range []string{"count/2", "bogus"} {
			_, err := runStream(t, p, &backend.RunStreamRequest{PluginContext: c, Path: path})
			if err != nil {
				grpcError("RunStream "+path, err)
			}
		}
	}

	for _, c := range contexts {
		for _, object := range []string{`{"valid":true}`, `{"valid":false}`, `not json`} {
			req := admissionRequest{
				pluginContext: c, operation: 0, group: "example.grafana.app", version: "v1", kind: "Thing",
				object: []byte(object),
			}
			for _, method := range []string{validateAdmissionMethod, mutateAdmissionMethod} {
				resp, err := admission(callContext(t), p, method, req)
				if err != nil {
					grpcError(method, err)
				} else if resp.Result != nil {
					failures++
					got.add(method+" result", resp.Result.Message)
				}
			}
		}
		resp, err := convertObjects(callContext(t), p, conversionRequest{
			pluginContext: c, uid: "c1", group: "example.grafana.app", version: "v2",
			objects: []rawObject{{Raw: []byte(`not json`), ContentType: "application/json"}},
		})
		if err != nil {
			grpcError("ConvertObjects", err)
		} else if resp.Result != nil {
			failures++
			got.add("ConvertObjects result", resp.Result.Message)
		}
	}

	metrics, err := p.diagnostics.CollectMetrics(callContext(t), &pluginv2.CollectMetricsRequest{})
	if err != nil {
		t.Fatalf("CollectMetrics: %v", err)
	}
	got.add("CollectMetrics", string(metrics.Metrics.GetPrometheus()))
	p.stop(t)

	got.add("host log (go-plugin's re-logged plugin stderr)", p.log.String())
	got.add("raw plugin stderr", out.stderr.String())
	got.add("plugin stdout", out.stdout.String())

	// The checks could fail: the capture sees what the plugin writes (the
	// handshake on stdout, trace events and the logged error carrying the
	// marker on stderr), and calls did fail.
	if !strings.HasPrefix(out.stdout.String(), "1|2|unix|") {
		t.Errorf("stdout capture: %q, want the handshake line", out.stdout.String())
	}
	for _, want := range []string{marker, `"@level":"trace"`, `"Plugin Request Started"`, "secrets-uid", `"handler panicked"`} {
		if !strings.Contains(out.stderr.String(), want) || !strings.Contains(p.log.String(), want) {
			t.Errorf("the plugin's log lacks %q: the capture or the log level does not work", want)
		}
	}
	if failures < 20 {
		t.Errorf("only %d calls failed; the test means to make the plugin report errors", failures)
	}

	for where, text := range got {
		for _, leak := range []string{secret, headerSecret} {
			if i := strings.Index(text, leak); i >= 0 {
				from, to := max(0, i-300), min(len(text), i+len(leak)+100)
				t.Errorf("a secret leaked into %s: …%s…", where, text[from:to])
			}
		}
	}
	t.Logf("checked %d bytes of plugin output from %d places (%d failing calls) for the secrets",
		func() (n int) {
			for _, text := range got {
				n += len(text)
			}
			return
		}(), len(got), failures)
}
