package host

// Load: many concurrent calls over the one connection Grafana keeps to a
// plugin, every answer checked, and the plugin's fds, tokio tasks and
// memory back where they were afterwards.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Environment variables for heavier runs.
const (
	// loadRequestsVariable sets the number of concurrent QueryData calls
	// per burst (default defaultLoadRequests).
	loadRequestsVariable = "INTEROP_LOAD_REQUESTS"
	// soakVariable sets the mixed soak's duration, as a Go duration
	// (default defaultSoak).
	soakVariable = "INTEROP_SOAK"
)

const (
	defaultLoadRequests = 10_000
	defaultSoak         = 10 * time.Second
)

// Memory bounds. Resident memory cannot return to the baseline (the
// allocator keeps freed pages), so the bounds say what growth is allowed.
//
// In a burst, the plugin's working set grows with the calls the host has
// in flight: the host reads answers slower than the plugin writes them,
// and finished answers wait in the connection's send buffers (measured:
// about 3.3 KiB per call for 10 000 calls, 4.9 KiB for 50 000). A burst may
// leave at most burstKiBPerCall per call above the baseline: memory follows
// the load and does not run away, whatever the host does.
//
// Leaks are caught by the soak instead: few calls in flight, so a small
// working set with little free memory for leaked allocations to hide in.
// From a quarter of the way in to the end, RSS may grow by at most
// soakLeakKiBPerCall per call made in between (at least soakNoiseKiB, the
// allocator's own noise: measured at most 0.7 MiB).
const (
	burstKiBPerCall    = 8
	soakLeakKiBPerCall = 0.5
	soakNoiseKiB       = 2 << 10
)

// bursts is how many identical bursts TestLoadConcurrentQueries sends.
const bursts = 2

func envInt(t *testing.T, name string, fallback int) int {
	t.Helper()
	raw := os.Getenv(name)
	if raw == "" {
		return fallback
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive integer", name, raw)
	}
	return n
}

func envDuration(t *testing.T, name string, fallback time.Duration) time.Duration {
	t.Helper()
	raw := os.Getenv(name)
	if raw == "" {
		return fallback
	}
	d, err := time.ParseDuration(raw)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 60s", name, raw)
	}
	return d
}

// loadQuery is request i of a burst: refId q<i>, a time range starting i
// seconds after queryStart and 1 + i%7 rows, so no two requests have the
// same answer and a crossed-over answer is caught.
func loadQuery(i int) (backend.DataQuery, int) {
	rows := 1 + i%7
	q := testQuery("q"+strconv.Itoa(i), fmt.Sprintf(`{"scenario":"rows","rows":%d}`, rows))
	from := queryStart.Add(time.Duration(i) * time.Second)
	q.TimeRange = backend.TimeRange{From: from, To: from.Add(time.Hour)}
	return q, rows
}

// checkRows checks frame is the test plugin's rows frame for query q with
// n rows (interop/test-plugin src/query.rs rows_frame) without the cost of
// a full frame comparison per call: refId, length, first time, and every
// value.
func checkRows(frame *data.Frame, q backend.DataQuery, n int) error {
	if frame.RefID != q.RefID || frame.Name != "rows" {
		return fmt.Errorf("frame %q refId %q, want rows of %s", frame.Name, frame.RefID, q.RefID)
	}
	if len(frame.Fields) != 3 || frame.Rows() != n {
		return fmt.Errorf("%s: %d fields %d rows, want 3 fields %d rows", q.RefID, len(frame.Fields), frame.Rows(), n)
	}
	for i := 0; i < n; i++ {
		wantTime := q.TimeRange.From.Add(time.Duration(i)*time.Second + time.Duration(i))
		if got, ok := frame.Fields[0].At(i).(time.Time); !ok || !got.Equal(wantTime) {
			return fmt.Errorf("%s row %d: time %v, want %v", q.RefID, i, frame.Fields[0].At(i), wantTime)
		}
		if got, ok := frame.Fields[1].At(i).(float64); !ok || got != float64(i)*0.5 {
			return fmt.Errorf("%s row %d: value %v, want %v", q.RefID, i, frame.Fields[1].At(i), float64(i)*0.5)
		}
	}
	return nil
}

// queryOnce sends request i of a burst and checks the answer.
func queryOnce(ctx context.Context, p *runningPlugin, pctx backend.PluginContext, i int) error {
	q, rows := loadQuery(i)
	format := formats[i%len(formats)]
	protoResp, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
		PluginContext: pctx,
		Format:        format,
		Queries:       []backend.DataQuery{q},
	}))
	if err != nil {
		return fmt.Errorf("%s: %w", q.RefID, err)
	}
	resp, err := backend.FromProto().QueryDataResponse(protoResp)
	if err != nil {
		return fmt.Errorf("%s: decode: %w", q.RefID, err)
	}
	r, ok := resp.Responses[q.RefID]
	if len(resp.Responses) != 1 || !ok {
		return fmt.Errorf("%s: answers for %d refIds, not this one", q.RefID, len(resp.Responses))
	}
	if r.Error != nil || r.Status != backend.StatusOK || len(r.Frames) != 1 {
		return fmt.Errorf("%s: status %v error %v, %d frames", q.RefID, r.Status, r.Error, len(r.Frames))
	}
	if got := protoResp.Responses[q.RefID].Format; got != pluginv2.DataFrameFormat(format) {
		return fmt.Errorf("%s: format %v, asked for %v", q.RefID, got, format)
	}
	return checkRows(r.Frames[0], q, rows)
}

// errorList keeps the first few of many concurrent errors.
type errorList struct {
	mu    sync.Mutex
	count int
	first []error
}

func (l *errorList) add(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.count++
	if len(l.first) < 5 {
		l.first = append(l.first, err)
	}
}

func (l *errorList) check(t *testing.T, of int) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.count > 0 {
		t.Errorf("%d of %d calls failed, first: %v", l.count, of, l.first)
	}
}

// sampler records the plugin's peak threads and fds while a load runs
// (VmHWM keeps the peak resident memory by itself).
type sampler struct {
	stop    chan struct{}
	done    chan struct{}
	threads atomic.Int64
	fds     atomic.Int64
}

func (p *runningPlugin) sample(t *testing.T) *sampler {
	pid := p.pid(t)
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			now, err := readStats(pid)
			if err != nil {
				return // the process is gone; the test reports that
			}
			if int64(now.Threads) > s.threads.Load() {
				s.threads.Store(int64(now.Threads))
			}
			if int64(now.FDs) > s.fds.Load() {
				s.fds.Store(int64(now.FDs))
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

func (s *sampler) finish() (threads, fds int) {
	close(s.stop)
	<-s.done
	return int(s.threads.Load()), int(s.fds.Load())
}

// warmUp makes one call of every kind the load makes, so lazily built
// state (the data source instance, metric families, the runtime's worker
// threads) is part of the baseline.
func warmUp(t *testing.T, p *runningPlugin, pctx backend.PluginContext) {
	t.Helper()
	for i := range 4 {
		if err := queryOnce(callContext(t), p, pctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := resourceOnce(callContext(t), p, pctx, make([]byte, 100), 10); err != nil {
		t.Fatal(err)
	}
	if err := streamOnce(callContext(t), p, pctx, 3); err != nil {
		t.Fatal(err)
	}
	collectMetrics(t, p)
}

// TestLoadConcurrentQueries sends bursts of 10 000 concurrent QueryData
// calls over go-plugin's single connection, checks every answer, and
// checks the plugin returns to its baseline after each: fds, tokio tasks
// and threads exactly, resident memory within burstKiBPerCall per call.
func TestLoadConcurrentQueries(t *testing.T) {
	n := envInt(t, loadRequestsVariable, defaultLoadRequests)
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "load-uid", map[string]any{})
	warmUp(t, p, pctx)
	base := p.figures(t)
	t.Logf("baseline: %v", base)

	for round := range bursts {
		s := p.sample(t)
		start := time.Now()
		var errs errorList
		var wg sync.WaitGroup
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := queryOnce(ctx, p, pctx, round*n+i); err != nil {
					errs.add(err)
				}
			}()
		}
		wg.Wait()
		cancel()
		elapsed := time.Since(start)
		threads, fds := s.finish()
		errs.check(t, n)
		// Every call has returned, so no stream is open: the plugin must
		// end every task it started for them and hold no extra fd (the
		// calls share the one connection).
		after := p.settle(t, base, 0, 0)
		if bound := base.RSSKiB + burstKiBPerCall*int64(n); after.RSSKiB > bound {
			t.Errorf("burst %d left RSS at %d KiB, more than %d KiB per call above the baseline (%d KiB)",
				round+1, after.RSSKiB, burstKiBPerCall, bound)
		}
		t.Logf("burst %d: %d concurrent QueryData in %v (%.0f/s); peak %d threads, %d fds; after: %v",
			round+1, n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), threads, fds, after)
	}
	p.stop(t)
}

// resourceOnce streams body through the echo resource in chunks of chunk
// bytes and checks the head and the body that comes back.
func resourceOnce(ctx context.Context, p *runningPlugin, pctx backend.PluginContext, body []byte, chunk int) error {
	stream, err := p.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(&backend.CallResourceRequest{
		PluginContext: pctx,
		Path:          "echo",
		Method:        http.MethodPost,
		URL:           "/api/datasources/uid/load-uid/resources/echo",
		Headers:       map[string][]string{"X-Chunk-Size": {strconv.Itoa(chunk)}},
		Body:          body,
	}))
	if err != nil {
		return fmt.Errorf("CallResource: %w", err)
	}
	var got bytes.Buffer
	messages := 0
	for {
		m, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("CallResource message %d: %w", messages, err)
		}
		if messages == 0 && m.Code != http.StatusOK {
			return fmt.Errorf("CallResource: status %d", m.Code)
		}
		if messages > 0 && len(m.Body) > chunk {
			return fmt.Errorf("CallResource: chunk of %d bytes, asked for %d", len(m.Body), chunk)
		}
		got.Write(m.Body)
		messages++
	}
	if wantMessages := 1 + (len(body)+chunk-1)/chunk; messages != wantMessages {
		return fmt.Errorf("CallResource: %d messages, want %d", messages, wantMessages)
	}
	if !bytes.Equal(got.Bytes(), body) {
		return fmt.Errorf("CallResource: %d bytes came back differently", len(body))
	}
	return nil
}

// streamOnce subscribes to count/<packets>, runs it to the end and
// checks every packet, then publishes to echo.
func streamOnce(ctx context.Context, p *runningPlugin, pctx backend.PluginContext, packets int) error {
	path := "count/" + strconv.Itoa(packets)
	sub, err := p.stream.SubscribeStream(ctx, backend.ToProto().SubscribeStreamRequest(&backend.SubscribeStreamRequest{
		PluginContext: pctx, Path: path,
	}))
	if err != nil || sub.Status != pluginv2.SubscribeStreamResponse_OK {
		return fmt.Errorf("SubscribeStream %s: %v %v", path, sub.GetStatus(), err)
	}
	run, err := p.stream.RunStream(ctx, backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{
		PluginContext: pctx, Path: path,
	}))
	if err != nil {
		return fmt.Errorf("RunStream %s: %w", path, err)
	}
	received, err := recvUntilEnd(run)
	if err != nil {
		return fmt.Errorf("RunStream %s after %d packets: %w", path, len(received), err)
	}
	if len(received) != packets {
		return fmt.Errorf("RunStream %s: %d packets", path, len(received))
	}
	var frame data.Frame
	if err := json.Unmarshal(received[0].Data, &frame); err != nil {
		return fmt.Errorf("RunStream %s packet 0: %w", path, err)
	}
	for i, packet := range received[1:] {
		if err := data.AppendJSONData(&frame, packet.Data); err != nil {
			return fmt.Errorf("RunStream %s packet %d: %w", path, i+1, err)
		}
	}
	for i := range packets {
		if got := frame.Fields[0].At(i); got != int64(i) {
			return fmt.Errorf("RunStream %s: n[%d] = %v", path, i, got)
		}
	}
	payload := fmt.Sprintf(`{"n":%d}`, packets)
	pub, err := p.stream.PublishStream(ctx, backend.ToProto().PublishStreamRequest(&backend.PublishStreamRequest{
		PluginContext: pctx, Path: "echo", Data: json.RawMessage(payload),
	}))
	if err != nil || pub.Status != pluginv2.PublishStreamResponse_OK || string(pub.Data) != payload {
		return fmt.Errorf("PublishStream echo: %v %q %v", pub.GetStatus(), pub.GetData(), err)
	}
	return nil
}

// abandonStream starts a long RunStream, reads a few packets and cancels
// it, as Grafana Live does when the last subscriber leaves.
func abandonStream(ctx context.Context, p *runningPlugin, pctx backend.PluginContext) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	run, err := p.stream.RunStream(ctx, backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{
		PluginContext: pctx, Path: "count/10000",
	}))
	if err != nil {
		return fmt.Errorf("RunStream count/10000: %w", err)
	}
	for i := range 3 {
		if _, err := run.Recv(); err != nil {
			return fmt.Errorf("RunStream count/10000 packet %d: %w", i, err)
		}
	}
	cancel()
	// The client side sees its own cancellation; the plugin side is
	// checked by the settle after the soak.
	if _, err := recvUntilEnd(run); status.Code(err) != codes.Canceled {
		return fmt.Errorf("RunStream after cancel: %v, want Canceled", err)
	}
	return nil
}

// chunkedOnce runs a QueryChunkedData of rows rows in chunks and checks
// the chunk count.
func chunkedOnce(ctx context.Context, p *runningPlugin, pctx backend.PluginContext, i int) error {
	rows, chunkRows := 1+i%50, 1+i%7
	stream, err := p.data.QueryChunkedData(ctx, backend.ToProto().QueryChunkedDataRequest(&backend.QueryChunkedDataRequest{
		PluginContext: pctx,
		Format:        formats[i%len(formats)],
		Queries:       []backend.DataQuery{testQuery("c"+strconv.Itoa(i), fmt.Sprintf(`{"scenario":"rows","rows":%d,"chunkRows":%d}`, rows, chunkRows))},
	}))
	if err != nil {
		return fmt.Errorf("QueryChunkedData: %w", err)
	}
	chunks, err := recvUntilEnd(stream)
	if err != nil {
		return fmt.Errorf("QueryChunkedData after %d chunks: %w", len(chunks), err)
	}
	// rows_frame in chunks of chunkRows, then the whole frame once more
	// (interop/test-plugin src/chunked.rs).
	if want := (rows+chunkRows-1)/chunkRows + 1; len(chunks) != want {
		return fmt.Errorf("QueryChunkedData %d rows by %d: %d chunks, want %d", rows, chunkRows, len(chunks), want)
	}
	for _, c := range chunks {
		if c.RefId != "c"+strconv.Itoa(i) || c.Status != http.StatusOK || c.Error != "" {
			return fmt.Errorf("QueryChunkedData chunk %+v", c)
		}
	}
	return nil
}

// mixedQueryOnce sends one request of several scenarios, errors included.
func mixedQueryOnce(ctx context.Context, p *runningPlugin, pctx backend.PluginContext, i int) error {
	resp, err := p.data.QueryData(ctx, backend.ToProto().QueryDataRequest(&backend.QueryDataRequest{
		PluginContext: pctx,
		Format:        formats[i%len(formats)],
		Queries: []backend.DataQuery{
			testQuery("A", `{"scenario":"all_types"}`),
			testQuery("B", `{"scenario":"rows","rows":100}`),
			testQuery("C", `{"scenario":"error","status":503,"errorSource":"downstream","message":"busy"}`),
		},
	}))
	if err != nil {
		return fmt.Errorf("mixed QueryData: %w", err)
	}
	decoded, err := backend.FromProto().QueryDataResponse(resp)
	if err != nil {
		return fmt.Errorf("mixed QueryData: decode: %w", err)
	}
	if a := decoded.Responses["A"]; a.Error != nil || len(a.Frames) != 1 || a.Frames[0].RefID != "A" {
		return fmt.Errorf("mixed QueryData A: %v, %d frames", a.Error, len(a.Frames))
	}
	if b := decoded.Responses["B"]; b.Error != nil || len(b.Frames) != 1 || b.Frames[0].Rows() != 100 {
		return fmt.Errorf("mixed QueryData B: %v", b.Error)
	}
	if c := decoded.Responses["C"]; c.Error == nil || c.Status != 503 || c.ErrorSource != backend.ErrorSourceDownstream {
		return fmt.Errorf("mixed QueryData C: %v %v %q", c.Error, c.Status, c.ErrorSource)
	}
	return nil
}

// TestLoadSoak runs a mix for INTEROP_SOAK (default 10 s): queries (one
// scenario and several, errors included), chunked queries, resource calls
// with streamed bodies, and streams run to the end or abandoned. Every
// answer is checked; afterwards fds, tokio tasks and threads must be back
// at the baseline, and resident memory may have grown from a quarter of
// the way in (by when the allocator has grown its pools to this load) by
// no more than soakLeakKiBPerCall per call since.
func TestLoadSoak(t *testing.T) {
	duration := envDuration(t, soakVariable, defaultSoak)
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "soak-uid", map[string]any{})
	warmUp(t, p, pctx)
	base := p.figures(t)
	t.Logf("baseline: %v", base)

	body := make([]byte, 64<<10)
	if _, err := rand.Read(body); err != nil {
		t.Fatal(err)
	}
	kinds := []struct {
		name    string
		workers int
		call    func(ctx context.Context, i int) error
	}{
		{"QueryData (one rows query)", 4, func(ctx context.Context, i int) error { return queryOnce(ctx, p, pctx, i) }},
		{"QueryData (three scenarios)", 2, func(ctx context.Context, i int) error { return mixedQueryOnce(ctx, p, pctx, i) }},
		{"QueryChunkedData", 2, func(ctx context.Context, i int) error { return chunkedOnce(ctx, p, pctx, i) }},
		{"CallResource (64 KiB streamed in 4 KiB chunks)", 2, func(ctx context.Context, _ int) error {
			return resourceOnce(ctx, p, pctx, body, 4<<10)
		}},
		{"Subscribe+RunStream (20 packets)+Publish", 2, func(ctx context.Context, _ int) error { return streamOnce(ctx, p, pctx, 20) }},
		{"RunStream abandoned after 3 packets", 2, func(ctx context.Context, _ int) error { return abandonStream(ctx, p, pctx) }},
	}

	pid := p.pid(t)
	s := p.sample(t)
	deadline := time.Now().Add(duration)
	quarter := time.Now().Add(duration / 4)
	var quarterRSS, quarterCalls atomic.Int64
	counts := make([]atomic.Int64, len(kinds))
	var errs errorList
	var wg sync.WaitGroup
	var next atomic.Int64
	for k, kind := range kinds {
		for range kind.workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
					err := kind.call(ctx, int(next.Add(1)))
					cancel()
					if err != nil {
						errs.add(fmt.Errorf("%s: %w", kind.name, err))
					}
					counts[k].Add(1)
					if time.Now().After(quarter) && quarterRSS.Load() == 0 {
						if now, err := readStats(pid); err == nil && quarterRSS.CompareAndSwap(0, now.RSSKiB) {
							quarterCalls.Store(next.Load())
						}
					}
				}
			}()
		}
	}
	wg.Wait()
	threads, fds := s.finish()
	total := 0
	for k, kind := range kinds {
		c := int(counts[k].Load())
		total += c
		t.Logf("%-48s %7d calls", kind.name, c)
	}
	errs.check(t, total)
	after := p.settle(t, base, 0, 0)
	t.Logf("soak of %v: %d calls; peak %d threads, %d fds; RSS at a quarter %.1f MiB; after: %v",
		duration, total, threads, fds, float64(quarterRSS.Load())/1024, after)
	since := next.Load() - quarterCalls.Load()
	bound := max(int64(soakNoiseKiB), int64(soakLeakKiBPerCall*float64(since)))
	if growth := after.RSSKiB - quarterRSS.Load(); growth > bound {
		t.Errorf("resident memory grew by %d KiB over the last %d calls of the soak (bound %d KiB): a leak",
			growth, since, bound)
	}
	p.stop(t)
}

// openStreams is more long-lived streams than hyper's default limit of
// concurrent HTTP/2 streams per connection (200).
const openStreams = 300

// TestLoadManyOpenStreams holds 300 RunStreams open on go-plugin's one
// connection, as Grafana Live does with one stream per subscribed channel
// for as long as the channel has subscribers, and checks every stream
// starts and other calls are still answered. A Go plugin has no limit
// (grpc-go's server allows math.MaxUint32 concurrent streams, server.go
// defaultServerOptions; go-plugin and the Go SDK set none). Found hyper's
// default limit of 200 in plugin-serve's server (http2.rs), since lifted.
func TestLoadManyOpenStreams(t *testing.T) {
	p := startPlugin(t, testPluginBinary)
	pctx := dataSourceContext(t, testPluginID, "streams-uid", map[string]any{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Each stream has 10 000 packets to send and the host reads only the
	// first, so the plugin keeps it open, blocked on flow control.
	started := make(chan error, openStreams)
	for range openStreams {
		go func() {
			stream, err := p.stream.RunStream(ctx, backend.ToProto().RunStreamRequest(&backend.RunStreamRequest{
				PluginContext: pctx, Path: "count/10000",
			}))
			if err == nil {
				_, err = stream.Recv()
			}
			started <- err
		}()
	}
	deadline := time.After(10 * time.Second)
	for i := range openStreams {
		select {
		case err := <-started:
			if err != nil {
				t.Fatalf("stream %d: %v", i, err)
			}
		case <-deadline:
			t.Fatalf("only %d of %d streams started within 10 s", i, openStreams)
		}
	}
	qctx, qcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer qcancel()
	if err := queryOnce(qctx, p, pctx, 1); err != nil {
		t.Errorf("with %d streams open: %v", openStreams, err)
	}
	cancel()
	p.stop(t)
}
