// Package host starts the Rust SDK's plugin binaries exactly as Grafana
// does and calls every RPC with the Go SDK's generated pluginv2 clients.
//
// The host side is Go's own code: hashicorp/go-plugin's client (handshake,
// health, GRPCController.Shutdown, the 2 s grace in Client.Kill) and
// grafana-plugin-sdk-go's grpcplugin.*GRPCPlugin types, dispensed by the
// same names Grafana uses (pkg/plugins/backendplugin/grpcplugin/client.go,
// client_v2.go in grafana/grafana). Responses are decoded with the Go SDK's
// converters (backend.FromProto) and frames compared with its test options.
package host

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/backend/useragent"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// The plugin binaries under test, as cargo names them.
const (
	testPluginBinary  = "interop-test-plugin"
	benchBinary       = "gpx_bench-datasource"
	csvBinary         = "gpx_csv-datasource"
	notesBinary       = "gpx_notes-app"
	sqlBinary         = "gpx_sql-datasource"
	pluginDirVariable = "INTEROP_PLUGIN_DIR"
)

// cargoPackages are built when INTEROP_PLUGIN_DIR is not set.
var cargoPackages = []string{"interop-test-plugin", "bench-datasource", "csv-datasource", "notes-app", "sql-datasource"}

// pluginDir holds the binaries; set by TestMain.
var pluginDir string

// grafanaVersion is the version the host claims to be, in GF_VERSION and
// the user agent.
const grafanaVersion = "12.3.0"

// TestMain finds the plugin binaries: in $INTEROP_PLUGIN_DIR (cargo xtask
// ci builds them and sets it), else by building them with cargo from the
// repository root, so `go test ./...` works on its own.
func TestMain(m *testing.M) {
	dir, err := findPluginDir()
	if err != nil {
		fmt.Fprintln(os.Stderr, "interop host:", err)
		os.Exit(2)
	}
	pluginDir = dir
	os.Exit(m.Run())
}

func findPluginDir() (string, error) {
	if dir := os.Getenv(pluginDirVariable); dir != "" {
		return filepath.Abs(dir)
	}
	// interop/go/host → the repository root.
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		return "", err
	}
	args := []string{"build", "--quiet"}
	for _, pkg := range cargoPackages {
		args = append(args, "-p", pkg)
	}
	build := exec.Command("cargo", args...)
	build.Dir = root
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("%s is not set and `cargo %s` failed: %w", pluginDirVariable, strings.Join(args, " "), err)
	}
	var metadata struct {
		TargetDirectory string `json:"target_directory"`
	}
	meta := exec.Command("cargo", "metadata", "--format-version", "1", "--no-deps")
	meta.Dir = root
	out, err := meta.Output()
	if err != nil {
		return "", fmt.Errorf("cargo metadata: %w", err)
	}
	if err := json.Unmarshal(out, &metadata); err != nil {
		return "", fmt.Errorf("cargo metadata: %w", err)
	}
	return filepath.Join(metadata.TargetDirectory, "debug"), nil
}

// handshake is Grafana's (grpcplugin/client.go): protocol version 2 and
// the magic cookie grafana_plugin_type=datasource, for apps too.
var handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  grpcplugin.ProtocolVersion,
	MagicCookieKey:   grpcplugin.MagicCookieKey,
	MagicCookieValue: grpcplugin.MagicCookieValue,
}

// connPlugin hands out the client connection itself, for the services the
// Go SDK v0.300.0 no longer generates clients for (AdmissionControl,
// ResourceConversion; see raw_test.go).
type connPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
}

func (connPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("connPlugin is host side only")
}

func (connPlugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	return conn, nil
}

// pluginSet is Grafana's version-2 plugin set (grpcplugin/client.go), plus
// connPlugin.
func pluginSet() map[int]goplugin.PluginSet {
	return map[int]goplugin.PluginSet{
		grpcplugin.ProtocolVersion: {
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
			"data":        &grpcplugin.DataGRPCPlugin{},
			"stream":      &grpcplugin.StreamGRPCPlugin{},
			"conn":        connPlugin{},
		},
	}
}

// grafanaEnv is what Grafana adds to a plugin's environment
// (pkg/services/pluginsintegration/pluginconfig/envvars.go): its version
// and edition, the enabled feature toggles and every key of
// `[plugin.<id>]` as GF_PLUGIN_<KEY> (here `interop = yes`). go-plugin adds
// the host's environment, the magic cookie, the port range and the
// protocol versions itself.
func grafanaEnv() []string {
	return []string{
		"GF_VERSION=" + grafanaVersion,
		"GF_EDITION=oss",
		"GF_INSTANCE_FEATURE_TOGGLES_ENABLE=",
		"GF_PLUGIN_INTEROP=yes",
	}
}

// lockedBuffer collects the host's log lines; go-plugin writes from several
// goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runningPlugin is one started plugin process and its dispensed clients.
type runningPlugin struct {
	binary      string
	cmd         *exec.Cmd
	client      *goplugin.Client
	log         *lockedBuffer
	diagnostics grpcplugin.DiagnosticsClient
	resource    grpcplugin.ResourceClient
	data        grpcplugin.DataClient
	stream      grpcplugin.StreamClient
	conn        *grpc.ClientConn
}

// startPlugin starts binary as Grafana does (grpcplugin/client.go
// newClientConfig, grpc_plugin.go Start, client_v2.go newClientV2) and
// dispenses its clients. The process is killed when the test ends, in case
// the test did not stop it itself.
func startPlugin(t *testing.T, binary string) *runningPlugin {
	t.Helper()
	path := filepath.Join(pluginDir, binary)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("plugin binary: %v (set %s or let the test build it)", err, pluginDirVariable)
	}
	logs := &lockedBuffer{}
	cmd := exec.Command(path)
	cmd.Env = grafanaEnv()
	client := goplugin.NewClient(&goplugin.ClientConfig{
		Cmd:              cmd,
		HandshakeConfig:  handshake,
		VersionedPlugins: pluginSet(),
		Logger: hclog.New(&hclog.LoggerOptions{
			Name:       "plugin." + binary,
			Level:      hclog.Trace,
			Output:     logs,
			JSONFormat: true,
		}),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
	})
	p := &runningPlugin{binary: binary, cmd: cmd, client: client, log: logs}
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
	// Grafana refuses anything older (grpc_plugin.go Start).
	if v := client.NegotiatedVersion(); v != grpcplugin.ProtocolVersion {
		t.Fatalf("negotiated protocol version %d, want %d", v, grpcplugin.ProtocolVersion)
	}
	dispenseInto(t, p, rpc)
	return p
}

// dispenseInto dispenses p's clients from rpc under Grafana's names and
// pings the plugin, as go-plugin does before handing out clients.
func dispenseInto(t *testing.T, p *runningPlugin, rpc goplugin.ClientProtocol) {
	t.Helper()
	dispense := func(name string) any {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("dispense %s: %v", name, err)
		}
		return raw
	}
	var ok bool
	if p.diagnostics, ok = dispense("diagnostics").(grpcplugin.DiagnosticsClient); !ok {
		t.Fatal("diagnostics is not a DiagnosticsClient")
	}
	if p.resource, ok = dispense("resource").(grpcplugin.ResourceClient); !ok {
		t.Fatal("resource is not a ResourceClient")
	}
	if p.data, ok = dispense("data").(grpcplugin.DataClient); !ok {
		t.Fatal("data is not a DataClient")
	}
	if p.stream, ok = dispense("stream").(grpcplugin.StreamClient); !ok {
		t.Fatal("stream is not a StreamClient")
	}
	if p.conn, ok = dispense("conn").(*grpc.ClientConn); !ok {
		t.Fatal("conn is not a *grpc.ClientConn")
	}
	if err := rpc.Ping(); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

// stop ends the plugin as Grafana does (grpc_plugin.go Stop → Client.Kill:
// GRPCController.Shutdown, then up to 2 s for the process to exit before a
// SIGKILL) and asserts the process exited by itself, with status 0, within
// that grace.
func (p *runningPlugin) stop(t *testing.T) {
	t.Helper()
	p.client.Kill()
	if !p.client.Exited() {
		t.Fatal("Client.Kill returned but the plugin has not exited")
	}
	// Kill waits for the goroutine that waits for the process, so the state
	// is set by now.
	state := p.cmd.ProcessState
	if state == nil {
		t.Fatal("no process state after Kill")
	}
	if !state.Exited() || state.ExitCode() != 0 {
		t.Errorf("plugin did not exit cleanly after Shutdown: %v", state)
	}
	log := p.log.String()
	// go-plugin client.go Kill logs this before it SIGKILLs.
	if strings.Contains(log, "plugin failed to exit gracefully") {
		t.Errorf("go-plugin killed the plugin after the 2 s grace:\n%s", log)
	}
	if !strings.Contains(log, `"plugin exited"`) {
		t.Errorf("go-plugin did not see a graceful exit:\n%s", log)
	}
}

// callContext bounds one RPC.
func callContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// user is the signed-in user of every request.
var user = &backend.User{Login: "admin", Name: "Ada Admin", Email: "admin@example.com", Role: "Admin"}

// grafanaConfig is the per-request config Grafana sends
// (pluginconfig/request.go).
func grafanaConfig() *backend.GrafanaCfg {
	return backend.NewGrafanaCfg(map[string]string{
		"GF_APP_URL":                "http://localhost:3000/",
		"GF_CONCURRENT_QUERY_COUNT": "4",
		"GF_SQL_ROW_LIMIT":          "100000",
	})
}

func userAgent(t *testing.T) *useragent.UserAgent {
	t.Helper()
	ua, err := useragent.New(grafanaVersion, "linux", "amd64")
	if err != nil {
		t.Fatal(err)
	}
	return ua
}

// dataSourceContext is the plugin context of data source uid in org 1,
// with jsonData settings.
func dataSourceContext(t *testing.T, pluginID, uid string, jsonData any) backend.PluginContext {
	t.Helper()
	raw, err := json.Marshal(jsonData)
	if err != nil {
		t.Fatal(err)
	}
	return backend.PluginContext{
		OrgID:         1,
		PluginID:      pluginID,
		PluginVersion: "0.1.0",
		User:          user,
		DataSourceInstanceSettings: &backend.DataSourceInstanceSettings{
			ID:       7,
			UID:      uid,
			Type:     pluginID,
			Name:     "Interop " + uid,
			URL:      "http://upstream.invalid",
			JSONData: raw,
			DecryptedSecureJSONData: map[string]string{
				"token": "s3cr3t",
			},
			Updated:    time.UnixMilli(1_700_000_000_000),
			APIVersion: "v0alpha1",
		},
		GrafanaConfig: grafanaConfig(),
		UserAgent:     userAgent(t),
		APIVersion:    "v0alpha1",
	}
}

// appContext is the plugin context of app pluginID in org orgID.
func appContext(t *testing.T, pluginID string, orgID int64, jsonData any) backend.PluginContext {
	t.Helper()
	raw, err := json.Marshal(jsonData)
	if err != nil {
		t.Fatal(err)
	}
	return backend.PluginContext{
		OrgID:         orgID,
		PluginID:      pluginID,
		PluginVersion: "0.1.0",
		User:          user,
		AppInstanceSettings: &backend.AppInstanceSettings{
			JSONData:                raw,
			DecryptedSecureJSONData: map[string]string{},
			Updated:                 time.UnixMilli(1_700_000_000_000),
		},
		GrafanaConfig: grafanaConfig(),
		UserAgent:     userAgent(t),
	}
}

// readAll drains a server stream.
func readAll[T any](t *testing.T, recv func() (T, error)) []T {
	t.Helper()
	var out []T
	for {
		message, err := recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		out = append(out, message)
	}
}
