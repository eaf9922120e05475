package host

// Faults: a host that disappears mid-answer, handlers that panic, and a
// shutdown with calls in flight. After each, the plugin must still answer
// (or, for the shutdown, have exited cleanly) and hold no task or fd for
// the calls that went away.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// bigRows is the largest rows query the test plugin answers
// (interop/test-plugin src/query.rs MAX_ROWS): about 26 MB of Arrow.
const bigRows = 1_000_000

// deepInto is how far into a large answer the host disappears: past the
// host's first HTTP/2 flow-control window (64 KiB), so the plugin is in
// the middle of sending, and well before the end.
const deepInto = 2 << 20

// stillAnswers checks the plugin answers on go-plugin's connection.
func stillAnswers(t *testing.T, p *runningPlugin, pctx backend.PluginContext) {
	t.Helper()
	if err := queryOnce(callContext(t), p, pctx, 7); err != nil {
		t.Fatalf("the plugin no longer answers: %v", err)
	}
}

// A midAnswer fault starts a call with a large answer on conn, calls arm
// once the call is under way (for a stream: its first message has
// arrived) and returns, leaving the rest in flight; arm makes the socket
// cut the connection or cancel ctx `after` bytes later.
type midAnswer struct {
	name string
	// after is how many bytes of the answer arrive before the host goes.
	after int64
	start func(ctx context.Context, conn *extraConn, pctx backend.PluginContext, arm func()) (<-chan error, error)
}

// consume reads a server stream until it fails or ends, reporting on done.
func consume[T any](stream grpc.ServerStreamingClient[T], done chan<- error) {
	for {
		if _, err := stream.Recv(); err != nil {
			done <- err
			return
		}
	}
}

var midAnswers = []midAnswer{
	{"QueryData of 1M rows", deepInto, func(ctx context.Context, conn *extraConn, pctx backend.PluginContext, arm func()) (<-chan error, error) {
		done := make(chan error, 1)
		arm()
		go func() {
			_, err := conn.data.QueryData(ctx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
				PluginContext: pctx,
				Queries:       []backend.DataQuery{testQuery("A", `{"scenario":"rows","rows":`+strconv.Itoa(bigRows)+`}`)},
			}))
			done <- err
		}()
		return done, nil
	}},
	{"QueryChunkedData of 1M rows in 1000-row chunks", deepInto, func(ctx context.Context, conn *extraConn, pctx backend.PluginContext, arm func()) (<-chan error, error) {
		stream, err := conn.data.QueryChunkedData(ctx, backend.ToProto().QueryChunkedDataRequest(&backend.QueryChunkedDataRequest{
			PluginContext: pctx,
			Queries:       []backend.DataQuery{testQuery("A", `{"scenario":"rows","rows":`+strconv.Itoa(bigRows)+`,"chunkRows":1000}`)},
		}))
		if err != nil {
			return nil, err
		}
		if _, err := stream.Recv(); err != nil {
			return nil, err
		}
		arm()
		done := make(chan error, 1)
		go consume(stream, done)
		return done, nil
	}},
	{"CallResource streaming 8 MiB in 1 KiB chunks", deepInto, func(ctx context.Context, conn *extraConn, pctx backend.PluginContext, arm func()) (<-chan error, error) {
		stream, err := conn.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{
			PluginContext: pctx,
			Path:          "echo",
			Method:        http.MethodPost,
			Headers:       map[string][]string{"X-Chunk-Size": {"1024"}},
			Body:          make([]byte, 8<<20),
		}))
		if err != nil {
			return nil, err
		}
		if _, err := stream.Recv(); err != nil {
			return nil, err
		}
		arm()
		done := make(chan error, 1)
		go consume(stream, done)
		return done, nil
	}},
	{"RunStream of 10 000 packets", 16 << 10, func(ctx context.Context, conn *extraConn, pctx backend.PluginContext, arm func()) (<-chan error, error) {
		stream, err := conn.stream.RunStream(ctx, backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{
			PluginContext: pctx, Path: "count/10000",
		}))
		if err != nil {
			return nil, err
		}
		if _, err := stream.Recv(); err != nil {
			return nil, err
		}
		arm()
		done := make(chan error, 1)
		go consume(stream, done)
		return done, nil
	}},
}

// TestFaultHostGoneMidAnswer drops the host in the middle of large
// answers, two ways: the socket closes (Grafana crashed: no RST_STREAM,
// no GOAWAY) and the call is cancelled (the dashboard was closed: an
// RST_STREAM on a connection that stays). Each time the plugin must go on
// answering and return to its baseline of fds and tokio tasks: the
// handler's task ends, its connection's fd is closed.
func TestFaultHostGoneMidAnswer(t *testing.T) {
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "faults-uid", map[string]any{})
	warmUp(t, p, pctx)
	base := p.figures(t)
	t.Logf("baseline: %v", base)

	for _, fault := range midAnswers {
		t.Run("SocketClosed/"+fault.name, func(t *testing.T) {
			conn := dialExtra(t, p)
			done, err := fault.start(context.Background(), conn, pctx, func() { conn.sock.closeAfter(fault.after) })
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			err = waitDone(t, conn, done)
			if status.Code(err) != codes.Unavailable {
				t.Errorf("host side: %v, want Unavailable (the connection is gone)", err)
			}
			stillAnswers(t, p, pctx)
			// The extra connection's socket is closed on both sides.
			t.Logf("after: %v", p.settle(t, base, 0, 0))
		})
		t.Run("Cancelled/"+fault.name, func(t *testing.T) {
			conn := dialExtra(t, p)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done, err := fault.start(ctx, conn, pctx, func() { conn.sock.cancelAfter(fault.after, cancel) })
			if err != nil {
				t.Fatalf("start: %v", err)
			}
			if err := waitDone(t, conn, done); status.Code(err) != codes.Canceled {
				t.Errorf("host side: %v, want Canceled", err)
			}
			stillAnswers(t, p, pctx)
			// The extra connection stays open: one fd and the task serving
			// it (crates/plugin-serve src/http2.rs) more than the baseline.
			t.Logf("after: %v", p.settle(t, base, 1, 1))
			_ = conn.Close()
			t.Logf("after closing the connection: %v", p.settle(t, base, 0, 0))
		})
	}
	p.stop(t)
}

// waitDone waits for a call whose host goes away mid-answer to end, and
// fails the test if it ended before the host went.
func waitDone(t *testing.T, conn *extraConn, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		select {
		case <-conn.sock.fired:
		default:
			t.Fatalf("the call ended (%v) after %d bytes, before the host went away: the answer is too small",
				err, conn.sock.read.Load())
		}
		return err
	case <-time.After(2 * time.Minute):
		t.Fatal("the call did not end")
		return nil
	}
}

// cleanEnd says whether err is how a call may end when the host kills the
// plugin under it: go-plugin's Kill closes the client connection
// (grpc_client.go Close: Shutdown, then Conn.Close), so the host sees
// Canceled, or Unavailable when the plugin's side of the connection went
// first.
func cleanEnd(err error) bool {
	switch status.Code(err) {
	case codes.Canceled, codes.Unavailable:
		return true
	}
	return false
}

// TestFaultKillUnderLoad calls go-plugin's Client.Kill, as Grafana does to
// stop a plugin, while queries, streamed resource answers and long streams
// are in flight. Every call must end within the grace, with a correct
// answer or a clean Canceled/Unavailable (never a wrong or truncated
// answer), the process must exit by itself with status 0 before
// go-plugin's 2 s grace runs out, and new calls must be refused.
func TestFaultKillUnderLoad(t *testing.T) {
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "kill-uid", map[string]any{})
	warmUp(t, p, pctx)

	var (
		mu        sync.Mutex
		completed int
		ended     = map[codes.Code]int{}
		errs      errorList
		wg        sync.WaitGroup
	)
	// Work until the plugin is gone.
	record := func(kind string, err error) bool {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err == nil:
			completed++
			return true
		case cleanEnd(err):
			ended[status.Code(err)]++
		default:
			errs.add(fmt.Errorf("%s: %w", kind, err))
		}
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	streamsRunning := make(chan struct{}, 64)
	spawn := func(workers int, kind string, call func(i int) error) {
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; record(kind, call(i)); i += workers {
				}
			}()
		}
	}
	spawn(32, "QueryData", func(i int) error { return queryOnce(ctx, p, pctx, i) })
	spawn(8, "QueryData of 100 000 rows", func(i int) error {
		resp, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
			PluginContext: pctx,
			Queries:       []backend.DataQuery{testQuery("big", `{"scenario":"rows","rows":100000}`)},
		}))
		if err != nil {
			return err
		}
		if r := resp.Responses["big"]; r == nil || r.Error != "" || len(r.Frames) != 1 {
			return fmt.Errorf("a wrong answer: %v", r)
		}
		return nil
	})
	spawn(8, "CallResource of 1 MiB", func(int) error { return resourceOnce(ctx, p, pctx, make([]byte, 1<<20), 4096) })
	spawn(8, "RunStream of 10 000 packets", func(int) error {
		stream, err := p.stream.RunStream(ctx, backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{
			PluginContext: pctx, Path: "count/10000",
		}))
		if err != nil {
			return err
		}
		if _, err := stream.Recv(); err != nil {
			return err
		}
		select {
		case streamsRunning <- struct{}{}:
		default:
		}
		packets, err := recvUntilEnd(stream)
		if err == nil && 1+len(packets) != 10000 {
			return fmt.Errorf("the stream ended cleanly after %d of 10000 packets", 1+len(packets))
		}
		return err
	})
	// Kill once the load is in full swing: calls have completed and a
	// stream has delivered packets.
	waitUntil(t, time.Minute, "calls to complete", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return completed >= 200
	})
	select {
	case <-streamsRunning:
	case <-time.After(time.Minute):
		t.Fatal("no stream delivered packets")
	}
	mu.Lock()
	before := completed
	mu.Unlock()
	addr := p.client.ReattachConfig().Addr

	start := time.Now()
	p.stop(t) // Client.Kill, then: exited by itself, status 0, within the grace
	killed := time.Since(start)
	allEnded := make(chan struct{})
	go func() { wg.Wait(); close(allEnded) }()
	select {
	case <-allEnded:
	case <-time.After(5 * time.Second):
		t.Fatal("calls still running 5 s after Kill returned")
	}
	errs.check(t, completed)
	if killed > 2*time.Second {
		t.Errorf("Kill took %v, more than go-plugin's 2 s grace", killed)
	}
	t.Logf("Kill with calls in flight: %v; %d calls completed before it, %d in all; ended cleanly: %v",
		killed.Round(time.Millisecond), before, completed, ended)

	// New calls are refused: go-plugin's connection is closed, and nothing
	// listens on the socket any more.
	if _, err := p.data.QueryData(callContext(t), backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
		PluginContext: pctx, Queries: []backend.DataQuery{testQuery("A", `{"scenario":"rows","rows":1}`)},
	})); err == nil {
		t.Error("a call after Kill succeeded")
	}
	if conn, err := net.Dial(addr.Network(), addr.String()); err == nil {
		_ = conn.Close()
		t.Errorf("the killed plugin's socket %v still accepts connections", addr)
	}
}

// panicContext is the plugin context whose every call panics in the test
// plugin (interop/test-plugin src/diag.rs: data source uid `panic`).
func panicContext(t *testing.T) backend.PluginContext {
	return dataSourceContext(t, testPluginID, "panic", map[string]any{})
}

// panicked checks err is the SDK's answer to a panic in endpoint: gRPC
// Unknown, "panic triggered: …", as the Go SDK's recovery answers
// (backend/serve.go handlePanic).
func panicked(t *testing.T, endpoint string, err error) {
	t.Helper()
	want := "panic triggered: the test plugin panics in " + endpoint
	if status.Code(err) != codes.Unknown || !strings.Contains(status.Convert(err).Message(), want) {
		t.Errorf("%s: %v, want Unknown %q", endpoint, err, want)
	}
}

// TestFaultPanics makes the test plugin panic in every endpoint that has
// a plugin context, at once and part-way through a streamed answer. Each
// panic must reach the host as the Go SDK's panic error, the process must
// live and answer, every panicking call's task must end, and the plugin
// must log each panic once.
func TestFaultPanics(t *testing.T) {
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "faults-uid", map[string]any{})
	warmUp(t, p, pctx)
	base := p.figures(t)
	panics := panicContext(t)
	ctx := callContext(t)
	queries := []backend.DataQuery{testQuery("A", `{"scenario":"rows","rows":1}`)}

	calls := []struct {
		endpoint string
		call     func() error
	}{
		{"queryData", func() error {
			_, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{PluginContext: panics, Queries: queries}))
			return err
		}},
		{"queryChunkedData", func() error {
			stream, err := p.data.QueryChunkedData(ctx, backend.ToProto().QueryChunkedDataRequest(&backend.QueryChunkedDataRequest{PluginContext: panics, Queries: queries}))
			if err != nil {
				return err
			}
			_, err = recvUntilEnd(stream)
			return err
		}},
		{"callResource", func() error {
			stream, err := p.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{PluginContext: panics, Path: "echo", Method: http.MethodGet}))
			if err != nil {
				return err
			}
			_, err = recvUntilEnd(stream)
			return err
		}},
		{"checkHealth", func() error {
			_, err := p.diagnostics.CheckHealth(ctx, &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(panics)})
			return err
		}},
		{"subscribeStream", func() error {
			_, err := p.stream.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{PluginContext: panics, Path: "count/1"}))
			return err
		}},
		{"publishStream", func() error {
			_, err := p.stream.PublishStream(ctx, backend.ToProto().PublishStreamRequest(&backend.PublishStreamRequest{PluginContext: panics, Path: "echo"}))
			return err
		}},
		{"runStream", func() error {
			_, err := runStream(t, p, &backend.RunStreamRequest{PluginContext: panics, Path: "count/1"})
			return err
		}},
		{"validateAdmission", func() error {
			_, err := admission(ctx, p, validateAdmissionMethod, admissionRequest{pluginContext: panics, object: []byte(`{}`)})
			return err
		}},
		{"mutateAdmission", func() error {
			_, err := admission(ctx, p, mutateAdmissionMethod, admissionRequest{pluginContext: panics, object: []byte(`{}`)})
			return err
		}},
		{"convertObjects", func() error {
			_, err := convertObjects(ctx, p, conversionRequest{pluginContext: panics, uid: "c", group: "g", version: "v"})
			return err
		}},
	}
	for _, c := range calls {
		t.Run("AtOnce/"+c.endpoint, func(t *testing.T) {
			panicked(t, c.endpoint, c.call())
			stillAnswers(t, p, pctx)
		})
	}

	t.Run("MidAnswer/callResource", func(t *testing.T) {
		stream, err := p.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{
			PluginContext: pctx, Path: "panic-midway", Method: http.MethodGet,
		}))
		if err != nil {
			t.Fatal(err)
		}
		messages, err := recvUntilEnd(stream)
		if len(messages) != 2 || messages[0].Code != http.StatusOK || string(messages[1].Body) != "before the panic" {
			t.Errorf("before the panic: %v", messages)
		}
		panicked(t, "callResource after the head", err)
		stillAnswers(t, p, pctx)
	})
	t.Run("MidAnswer/runStream", func(t *testing.T) {
		packets, err := runStream(t, p, &backend.RunStreamRequest{PluginContext: pctx, Path: "panic-midway"})
		if len(packets) != 2 {
			t.Errorf("%d packets before the panic, want 2", len(packets))
		}
		panicked(t, "runStream after two packets", err)
		stillAnswers(t, p, pctx)
	})
	t.Run("MidAnswer/queryChunkedData", func(t *testing.T) {
		stream, err := p.data.QueryChunkedData(ctx, backend.ToProto().QueryChunkedDataRequest(&backend.QueryChunkedDataRequest{
			PluginContext: pctx, Queries: []backend.DataQuery{testQuery("panic-midway", `{}`)},
		}))
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := recvUntilEnd(stream)
		if len(chunks) != 1 || chunks[0].RefId != "panic-midway" {
			t.Errorf("chunks before the panic: %v", chunks)
		}
		panicked(t, "queryChunkedData after one frame", err)
		stillAnswers(t, p, pctx)
	})

	after := p.settle(t, base, 0, 0)
	t.Logf("after %d panics: %v (baseline %v)", len(calls)+3, after, base)
	p.stop(t)
	// plugin-backend middleware/panic.rs logs each panic once at ERROR.
	if n := strings.Count(p.log.String(), `"handler panicked"`); n != len(calls)+3 {
		t.Errorf("%d panics logged, want %d", n, len(calls)+3)
	}
}

// shutdownMethod is go-plugin's GRPCController/Shutdown, the call
// Client.Kill makes first (grpc_client.go Close).
const shutdownMethod = "/plugin.GRPCController/Shutdown"

// exitedWithin waits for the plugin process to exit and checks it did so
// by itself, with status 0.
func exitedWithin(t *testing.T, p *runningPlugin, timeout time.Duration) {
	t.Helper()
	waitUntil(t, timeout, "the plugin to exit", p.client.Exited)
	if state := p.cmd.ProcessState; state == nil || !state.Exited() || state.ExitCode() != 0 {
		t.Errorf("plugin exit: %v, want status 0", state)
	}
}

// TestFaultShutdownDrainsSlowQueries asks the plugin to shut down, as
// go-plugin does first in Kill, while slow queries are in its handler.
// The queries must complete with their answers, the socket must stop
// accepting at once, the connection must refuse new calls, and the
// process must exit by itself with status 0 within go-plugin's 2 s grace.
func TestFaultShutdownDrainsSlowQueries(t *testing.T) {
	// Each query sleeps 1 s, less than the plugin's 1.5 s drain timeout
	// (crates/plugin-serve src/server.rs DEFAULT_SHUTDOWN_TIMEOUT).
	const slow, sleep = 20, time.Second
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "drain-uid", map[string]any{})
	conn := dialExtra(t, p)
	addr := p.client.ReattachConfig().Addr

	var wg sync.WaitGroup
	var errs errorList
	var answered atomic.Int64
	for i := range slow {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer answered.Add(1)
			q, rows := loadQuery(i)
			q.JSON = []byte(fmt.Sprintf(`{"scenario":"rows","rows":%d,"sleepMillis":%d}`, rows, sleep.Milliseconds()))
			resp, err := conn.data.QueryData(context.Background(), backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
				PluginContext: pctx, Queries: []backend.DataQuery{q},
			}))
			if err != nil {
				errs.add(err)
				return
			}
			decoded, err := backend.FromProto().QueryDataResponse(resp)
			if err != nil {
				errs.add(err)
				return
			}
			if r := decoded.Responses[q.RefID]; r.Error != nil || len(r.Frames) != 1 {
				errs.add(fmt.Errorf("%s: %v, %d frames", q.RefID, r.Error, len(r.Frames)))
			} else if err := checkRows(r.Frames[0], q, rows); err != nil {
				errs.add(err)
			}
		}()
	}
	waitUntil(t, 10*time.Second, "the slow queries to be in the handler", func() bool {
		return p.diag(t).Sleeping == slow
	})

	start := time.Now()
	if _, err := invokeRaw(callContext(t), conn.ClientConn, shutdownMethod, nil); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	// The listener closes at once: no new connections while the slow
	// queries still run.
	waitUntil(t, 2*time.Second, "the socket to refuse connections", func() bool {
		c, err := net.Dial(addr.Network(), addr.String())
		if err == nil {
			_ = c.Close()
		}
		return err != nil
	})
	if n := answered.Load(); n != 0 {
		t.Errorf("the socket still accepted connections after %d slow queries had ended", n)
	}
	wg.Wait()
	drained := time.Since(start)
	// Answered, not cut: every query slept its second and answered.
	errs.check(t, slow)
	exitedWithin(t, p, 2*time.Second-time.Since(start))
	t.Logf("Shutdown with %d slow queries in flight: all answered after %v; exited after %v",
		slow, drained.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	if _, err := conn.data.QueryData(callContext(t), backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
		PluginContext: pctx, Queries: []backend.DataQuery{testQuery("A", `{"scenario":"rows","rows":1}`)},
	})); status.Code(err) != codes.Unavailable {
		t.Errorf("a call after the shutdown: %v, want Unavailable", err)
	}
}

// TestFaultShutdownStuckStream asks the plugin to shut down while a
// stream's host has stopped reading (the plugin is blocked sending): the
// process must still exit by itself with status 0 within go-plugin's 2 s
// grace, its drain timeout cutting the stream.
func TestFaultShutdownStuckStream(t *testing.T) {
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "stuck-uid", map[string]any{})
	// Fixed 64 KiB windows (no BDP growth): the stream's 10 000 packets,
	// about 500 KB, cannot all be sent unless the host reads.
	conn := dialExtra(t, p, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	stream, err := conn.stream.RunStream(context.Background(), backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{
		PluginContext: pctx, Path: "count/10000",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	// Read no more: the plugin fills the windows and blocks sending.
	start := time.Now()
	if _, err := invokeRaw(callContext(t), p.conn, shutdownMethod, nil); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	exitedWithin(t, p, 2*time.Second)
	exited := time.Since(start)
	// The stream was cut, not finished.
	packets, err := recvUntilEnd(stream)
	if err == nil || 1+len(packets) >= 10000 {
		t.Errorf("the stuck stream ended with %v after %d more packets; want it cut", err, len(packets))
	}
	t.Logf("Shutdown with a stuck stream: exited after %v; the stream was cut after %d packets (%v)",
		exited.Round(time.Millisecond), 1+len(packets), status.Code(err))
}

// TestFaultInstanceFactory makes the data source instance factory panic
// and fail (interop/test-plugin src/diag.rs: uids factory-panic and
// factory-error), from many calls at once and again after: every call
// must get the failure (none waits forever on the instance's creation, no
// failure is cached as an instance), other data sources must be served,
// and no task must be left behind. A panic fails the call; an error with
// a source is the first query's response, as in the Go SDK
// (internal/automanagement/manager.go QueryData).
func TestFaultInstanceFactory(t *testing.T) {
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "faults-uid", map[string]any{})
	warmUp(t, p, pctx)
	base := p.figures(t)
	for id, c := range []struct {
		uid   string
		check func(*pluginv2.QueryDataResponse, error) error
	}{
		{"factory-panic", func(_ *pluginv2.QueryDataResponse, err error) error {
			want := "panic triggered: the test plugin's instance factory panics as asked"
			if status.Code(err) != codes.Unknown || !strings.Contains(err.Error(), want) {
				return fmt.Errorf("%v, want Unknown %q", err, want)
			}
			return nil
		}},
		{"factory-error", func(resp *pluginv2.QueryDataResponse, err error) error {
			want := "the test plugin's instance factory fails as asked"
			if err != nil {
				return err
			}
			r := resp.Responses["A"]
			if len(resp.Responses) != 1 || r == nil || r.Error != want || r.Status != http.StatusInternalServerError || r.ErrorSource != "plugin" {
				return fmt.Errorf("%v, want query A failed with %q, 500, plugin", resp, want)
			}
			return nil
		}},
	} {
		t.Run(c.uid, func(t *testing.T) {
			broken := dataSourceContext(t, testPluginID, c.uid, map[string]any{})
			// Instances are keyed by data source id, as in the Go SDK
			// (backend/datasource/instance_provider.go GetKey): a new id,
			// so the factory runs instead of the warm-up's instance.
			broken.DataSourceInstanceSettings.ID = int64(1000 + id)
			for round := range 2 {
				var wg sync.WaitGroup
				var errs errorList
				for i := range 20 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
						defer cancel()
						resp, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
							PluginContext: broken, Queries: []backend.DataQuery{testQuery("A", `{"scenario":"rows","rows":1}`)},
						}))
						if err := c.check(resp, err); err != nil {
							errs.add(fmt.Errorf("round %d call %d: %w", round, i, err))
						}
					}()
				}
				wg.Wait()
				errs.check(t, 20)
			}
			stillAnswers(t, p, pctx)
		})
	}
	t.Logf("after: %v", p.settle(t, base, 0, 0))
	p.stop(t)
}

// TestFaultSlowClientKeepsMemoryBounded streams a large resource answer to
// a host that reads nothing (fixed 64 KiB HTTP/2 windows): a plugin that
// queued what it cannot send would grow by the whole answer, many times
// the body, as messages; the plugin's memory must instead stay within the
// request body it holds plus a small margin, the handler waiting for the
// host (the SDK's bounded response channel and h2's send buffer). The host
// then reads everything: every byte arrives, in order.
func TestFaultSlowClientKeepsMemoryBounded(t *testing.T) {
	const (
		bodySize  = 4 << 20
		chunkSize = 16 // 262,144 messages
		// What may come on top of the baseline and the body: h2's send
		// buffer (400 KiB), the response channel (8 messages), allocator
		// slack. Queuing the answer would take tens of MiB.
		margin = 12 << 20
	)
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "slow-client-uid", map[string]any{})
	warmUp(t, p, pctx)
	base := p.stats(t)
	conn := dialExtra(t, p, grpc.WithInitialWindowSize(64<<10), grpc.WithInitialConnWindowSize(64<<10))
	body := make([]byte, bodySize)
	for i := range body {
		body[i] = byte(i % 251)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := conn.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{
		PluginContext: pctx, Path: "echo", Method: http.MethodPost, Body: body,
		Headers: map[string][]string{"X-Chunk-Size": {strconv.Itoa(chunkSize)}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	head, err := stream.Recv()
	if err != nil || head.Code != http.StatusOK {
		t.Fatalf("first message %v, %v", head, err)
	}
	// A measurement window, not a synchronisation: the host reads nothing
	// for a second while the plugin's memory is sampled.
	var peak int64
	for deadline := time.Now().Add(time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		peak = max(peak, p.stats(t).RSSKiB)
	}
	grown := (peak - base.RSSKiB) << 10
	if grown > bodySize+margin {
		t.Errorf("the plugin grew by %.1f MiB while the host read nothing, want at most %.1f MiB",
			float64(grown)/(1<<20), float64(bodySize+margin)/(1<<20))
	}
	rest, err := recvUntilEnd(stream)
	if err != nil {
		t.Fatalf("after %d messages: %v", len(rest), err)
	}
	received := 0
	for _, m := range rest {
		for i, b := range m.Body {
			if b != byte((received+i)%251) {
				t.Fatalf("byte %d is %d, want %d", received+i, b, (received+i)%251)
			}
		}
		received += len(m.Body)
	}
	if received != bodySize {
		t.Errorf("received %d bytes, want %d", received, bodySize)
	}
	t.Logf("slow host: base %s; peak while the host read nothing +%.1f MiB; %d bytes then arrived in order",
		base, float64(grown)/(1<<20), received)
}
