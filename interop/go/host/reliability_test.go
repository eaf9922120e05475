package host

// Shared by load_test.go, faults_test.go and secrets_test.go: the plugin
// process's resource figures (/proc), the test plugin's diag resource, a
// second connection to a running plugin, and polling for "back to
// baseline" with a deadline.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// procStats are the plugin process's figures from /proc/<pid>.
type procStats struct {
	RSSKiB  int64 // VmRSS: resident now
	PeakKiB int64 // VmHWM: the most ever resident
	Threads int
	FDs     int
}

func (s procStats) String() string {
	return fmt.Sprintf("rss %.1f MiB (peak %.1f MiB), %d threads, %d fds",
		float64(s.RSSKiB)/1024, float64(s.PeakKiB)/1024, s.Threads, s.FDs)
}

// pid is the plugin process's id (go-plugin started p.cmd).
func (p *runningPlugin) pid(t *testing.T) int {
	t.Helper()
	if p.cmd.Process == nil {
		t.Fatal("the plugin process has not started")
	}
	return p.cmd.Process.Pid
}

// stats reads /proc/<pid>/status and counts /proc/<pid>/fd.
func (p *runningPlugin) stats(t *testing.T) procStats {
	t.Helper()
	s, err := readStats(p.pid(t))
	if err != nil {
		t.Fatalf("plugin process: %v", err)
	}
	return s
}

// readStats reads process pid's figures; for goroutines other than the
// test's, which must not call t.Fatal.
func readStats(pid int) (procStats, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	status, err := os.ReadFile(filepath.Join(dir, "status"))
	if err != nil {
		return procStats{}, err
	}
	var s procStats
	for _, line := range strings.Split(string(status), "\n") {
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			continue
		}
		switch key {
		case "VmRSS":
			s.RSSKiB = n
		case "VmHWM":
			s.PeakKiB = n
		case "Threads":
			s.Threads = int(n)
		}
	}
	fds, err := os.ReadDir(filepath.Join(dir, "fd"))
	if err != nil {
		return procStats{}, err
	}
	s.FDs = len(fds)
	return s, nil
}

// diagnostics is the test plugin's `diag` resource
// (interop/test-plugin src/diag.rs).
type diagnostics struct {
	// AliveTasks is the tokio runtime's count of tasks not yet finished,
	// the diag call's own task included.
	AliveTasks int `json:"alive_tasks"`
	// Sleeping is the number of slow queries waiting in the handler.
	Sleeping int `json:"sleeping"`
}

// diag asks the test plugin for its runtime figures.
func (p *runningPlugin) diag(t *testing.T) diagnostics {
	t.Helper()
	messages := callResource(t, p, &backend.CallResourceRequest{
		PluginContext: dataSourceContext(t, testPluginID, "diag-uid", map[string]any{}),
		Path:          "diag",
		Method:        http.MethodGet,
	})
	if len(messages) == 0 || messages[0].Status != http.StatusOK {
		t.Fatalf("diag: %+v", messages)
	}
	var d diagnostics
	if err := json.Unmarshal([]byte(body(messages)), &d); err != nil {
		t.Fatalf("diag: %v (%s)", err, body(messages))
	}
	return d
}

// figures are the numbers the reliability tests compare to a baseline.
type figures struct {
	procStats
	diagnostics
}

func (f figures) String() string {
	return fmt.Sprintf("%v, %d tokio tasks", f.procStats, f.AliveTasks)
}

func (p *runningPlugin) figures(t *testing.T) figures {
	t.Helper()
	return figures{procStats: p.stats(t), diagnostics: p.diag(t)}
}

// settleTimeout bounds the wait for the plugin to return to its baseline
// after a burst. Tasks end within a few scheduler rounds of their streams
// being reset; a thread tokio's blocking pool started ends after 10 s
// idle, so the deadline leaves room for one.
const settleTimeout = 15 * time.Second

// settle polls the plugin's figures until its fds and tokio tasks are back
// to base plus the stated slack and its threads back to base, or the
// deadline passes (an error), and returns the last figures.
func (p *runningPlugin) settle(t *testing.T, base figures, fdSlack, taskSlack int) figures {
	t.Helper()
	deadline := time.Now().Add(settleTimeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		now := p.figures(t)
		if now.FDs <= base.FDs+fdSlack && now.AliveTasks <= base.AliveTasks+taskSlack && now.Threads <= base.Threads {
			return now
		}
		if time.Now().After(deadline) {
			t.Errorf("not back to baseline after %v:\n  base %v\n  now  %v", settleTimeout, base, now)
			return now
		}
		<-tick.C
	}
}

// waitUntil polls cond (a short tick between polls, not a sleep standing
// for an event) until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		<-tick.C
	}
}

// extraConn is a second connection to a running plugin, on the socket
// go-plugin dialled, so a test can drop it (a crashing Grafana) while the
// go-plugin connection stays. Its socket counts the bytes read and can be
// cut after a given number of them.
type extraConn struct {
	*grpc.ClientConn
	data     pluginv2.DataClient
	resource pluginv2.ResourceClient
	stream   pluginv2.StreamClient
	sock     *cuttableConn
}

// cuttableConn counts the bytes read from the plugin and, once armed,
// acts when a given number of them have arrived: it cancels a call, or
// closes the socket the way a host that dies mid-answer disappears (no
// RST_STREAM, no GOAWAY). Acting inside Read makes "mid-answer" exact.
type cuttableConn struct {
	net.Conn
	read  atomic.Int64
	mu    sync.Mutex
	at    int64 // act once read exceeds this; 0: not armed
	act   func()
	close bool
	fired chan struct{}
}

func (c *cuttableConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	total := c.read.Add(int64(n))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at > 0 && total > c.at {
		c.at = 0
		if c.act != nil {
			c.act()
		}
		close(c.fired)
		if c.close {
			_ = c.Conn.Close()
			return 0, net.ErrClosed
		}
	}
	return n, err
}

// closeAfter arms the socket to close once n more bytes have arrived.
func (c *cuttableConn) closeAfter(n int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.act, c.close = c.read.Load()+n, nil, true
}

// cancelAfter arms the socket to call cancel once n more bytes have
// arrived.
func (c *cuttableConn) cancelAfter(n int64, cancel func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.at, c.act, c.close = c.read.Load()+n, cancel, false
}

// maxMessage lets the extra connection receive the large answers the fault
// tests ask for (gRPC's default is 4 MiB).
const maxMessage = 256 << 20

// dialExtra opens a second connection to p's socket, with opts added.
func dialExtra(t *testing.T, p *runningPlugin, opts ...grpc.DialOption) *extraConn {
	t.Helper()
	reattach := p.client.ReattachConfig()
	if reattach == nil || reattach.Addr == nil {
		t.Fatal("no plugin address")
	}
	addr := reattach.Addr
	var sock atomic.Pointer[cuttableConn]
	dialed := make(chan struct{})
	conn, err := grpc.NewClient("passthrough:///plugin", append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMessage)),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
			if sock.Load() != nil {
				// One socket per extraConn: a redial after a cut would hide
				// the cut from the test.
				return nil, errors.New("extra connection already dialled once")
			}
			var d net.Dialer
			raw, err := d.DialContext(ctx, addr.Network(), addr.String())
			if err != nil {
				return nil, err
			}
			c := &cuttableConn{Conn: raw, fired: make(chan struct{})}
			sock.Store(c)
			close(dialed)
			return c, nil
		}),
	}, opts...)...)
	if err != nil {
		t.Fatalf("dial %v: %v", addr, err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	conn.Connect()
	select {
	case <-dialed:
	case <-time.After(10 * time.Second):
		t.Fatalf("extra connection to %v not dialled", addr)
	}
	return &extraConn{
		ClientConn: conn,
		data:       pluginv2.NewDataClient(conn),
		resource:   pluginv2.NewResourceClient(conn),
		stream:     pluginv2.NewStreamClient(conn),
		sock:       sock.Load(),
	}
}
