//! Connections: accepting them, serving gRPC on each over HTTP/2, and
//! draining them on shutdown.
//!
//! go-plugin's host dials the plugin with HTTP/2 prior knowledge, as every
//! gRPC client does, so connections are served HTTP/2 only: hyper's HTTP/2
//! server on each accepted socket, with no HTTP/1 parser, no protocol
//! detection and no router framework in the plugin binary.
//!
//! HTTP/2 settings follow what Grafana's client expects of a Go plugin's
//! server, grpc-go's, where hyper's defaults differ in a way Grafana sees
//! (see [`grafana_settings`]).
//!
//! Shutdown stops accepting, sends every connection a GOAWAY (new calls are
//! refused, calls in flight go on) and waits for the connections to close,
//! for at most the drain timeout; connections still open then are aborted.

use std::convert::Infallible;
use std::time::Duration;

use bytes::Bytes;
use http_body::Body;
use hyper::body::Incoming;
use hyper::server::conn::http2::Builder;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use plugin_backend::BoxError;
use tokio::task::JoinSet;
use tower_service::Service;

use crate::listener::{PluginListener, PluginStream};
use crate::shutdown::Shutdown;

/// How long to pause accepting after an error such as running out of file
/// descriptors, so a persistent error does not spin the accept loop.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

/// Sets the HTTP/2 settings that Grafana's gRPC client (grpc-go, dialled by
/// go-plugin's `grpc_client.go` with no transport options) meets in a Go
/// plugin's server, grpc-go's (google.golang.org/grpc v1.85).
///
/// * **Concurrent streams: unlimited, not advertised.** grpc-go's server
///   allows `math.MaxUint32` streams (`server.go`, `maxConcurrentStreams`)
///   and then leaves `SETTINGS_MAX_CONCURRENT_STREAMS` out of its settings
///   (`internal/transport/http2_server.go`); its client reads a first
///   SETTINGS frame without the setting as no limit (`handleSettings` in
///   `http2_client.go`). hyper's default of 200 would make Grafana queue the
///   201st concurrent query of a dashboard on its side until a stream ends.
///   Every stream still costs the plugin only its handler's task.
/// * **Receive windows: hyper's static 1 MiB per stream and connection**,
///   kept. grpc-go's server starts at HTTP/2's 64 KiB and grows the windows
///   by BDP estimation (`internal/transport/bdp_estimator.go`, up to
///   16 MiB); hyper's adaptive window would start at 64 KiB too. What
///   Grafana sends a plugin is small (queries, resource requests), and a
///   fixed 1 MiB lets a resource upload of up to 1 MiB go out without one
///   window update, where grpc-go's would first need BDP round trips.
/// * **Frame size: 16 KiB**, hyper's default and what grpc-go's server
///   advertises (`http2MaxFrameLen`, `internal/transport/http_util.go`).
///   The frames the plugin *sends* are bounded by Grafana's setting, and
///   grpc-go's client advertises none (`http2_client.go` sends only
///   `SETTINGS_INITIAL_WINDOW_SIZE` and a header-list size), so answers go
///   out in 16 KiB DATA frames whatever is set here.
/// * **Send buffer: hyper's 400 KiB per stream**, kept. It bounds how much
///   of a response body hyper takes in ahead of the peer's window, not the
///   size of one chunk: a QueryData answer hands its frames over as whole
///   buffers (`query_data.rs`), which h2 queues without a copy. grpc-go's
///   server holds at most 64 KiB per stream ahead of the wire
///   (`defaultWriteQuota`, `internal/transport/defaults.go`).
///
/// * **Header list: 16 MiB**, grpc-go's server limit
///   (`defaultServerMaxHeaderListSize`, `internal/transport/defaults.go`),
///   not hyper's 16 KiB: Grafana's metadata (forwarded headers, log
///   attributes, trace context) past 16 KiB got HTTP 431 without a gRPC
///   status, and a header block past it even compressed closed the whole
///   connection, failing every call in flight on Grafana's one connection.
fn grafana_settings(builder: &mut Builder<TokioExecutor>) {
    builder.max_concurrent_streams(None);
    builder.max_header_list_size(MAX_HEADER_LIST_SIZE);
}

/// grpc-go's server limit on a request's header list, in bytes.
const MAX_HEADER_LIST_SIZE: u32 = 16 << 20;

/// Serves `service` on every connection `listener` accepts, until
/// `shutdown` is triggered; then drains for at most `drain_timeout`.
pub(crate) struct Server<S> {
    service: S,
    builder: Builder<TokioExecutor>,
    connections: GracefulShutdown,
    tasks: JoinSet<()>,
}

impl<S, B> Server<S>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    /// A server answering every call with `service`.
    pub(crate) fn new(service: S) -> Self {
        let mut builder = Builder::new(TokioExecutor::new());
        // The timer serves hyper's keep-alive and header-read timeouts.
        builder.timer(TokioTimer::new());
        grafana_settings(&mut builder);
        Server {
            service,
            builder,
            connections: GracefulShutdown::new(),
            tasks: JoinSet::new(),
        }
    }

    /// Accepts connections on `listener` until `shutdown` is triggered, then
    /// drains for at most `drain_timeout`.
    pub(crate) async fn serve(
        mut self,
        listener: PluginListener,
        shutdown: &Shutdown,
        drain_timeout: Duration,
    ) {
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(stream) => self.spawn_connection(stream),
                    Err(err) => {
                        tracing::warn!(error = %err, "accepting a connection failed");
                        tokio::time::sleep(ACCEPT_ERROR_PAUSE).await;
                    }
                },
                // Reaps connections that have closed.
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
                () = shutdown.triggered() => break,
            }
        }

        // Dropping the listener stops accepting and removes a unix socket's
        // file.
        drop(listener);
        if tokio::time::timeout(drain_timeout, self.connections.shutdown())
            .await
            .is_err()
        {
            tracing::warn!(
                timeout_ms = drain_timeout.as_millis() as u64,
                "requests still running at the end of the shutdown timeout; stopping without them"
            );
        }
        // Aborts the connections still open, with the calls they carry.
        self.tasks.abort_all();
    }

    /// Serves one accepted connection on a task of its own.
    // Out of line so the accept loop's frame stays small
    // (docs/footprint.md).
    #[inline(never)]
    fn spawn_connection(&mut self, stream: PluginStream) {
        let service = TowerToHyperService::new(self.service.clone());
        let connection = self.builder.serve_connection(TokioIo::new(stream), service);
        let connection = self.connections.watch(connection);
        self.tasks.spawn(async move {
            if let Err(err) = connection.await {
                // A host that goes away mid-call is routine, not an error of
                // the plugin.
                tracing::debug!(error = %err, "connection closed with an error");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http_body_util::Empty;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use tokio::net::{TcpListener, TcpStream};
    use tokio::sync::Barrier;

    use super::*;

    /// More calls than hyper's default stream limit of 200.
    const CALLS: usize = 300;

    /// Every call of a Grafana dashboard reaches its handler at once, as on a
    /// grpc-go server: each handler here waits until all have arrived, which
    /// under a stream limit below `CALLS` never happens.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_beyond_hypers_default_stream_limit_run_concurrently() {
        let arrived = Arc::new(Barrier::new(CALLS));
        let service = tower::service_fn(move |_request: http::Request<Incoming>| {
            let arrived = Arc::clone(&arrived);
            async move {
                arrived.wait().await;
                Ok::<_, Infallible>(http::Response::new(Empty::<Bytes>::new()))
            }
        });
        let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = tcp.local_addr().unwrap();
        let listener = PluginListener::from_tcp(tcp).unwrap();
        let shutdown = Arc::new(Shutdown::new());
        let serving = tokio::spawn({
            let shutdown = Arc::clone(&shutdown);
            async move {
                Server::new(service)
                    .serve(listener, &shutdown, Duration::from_secs(1))
                    .await;
            }
        });

        let stream = TcpStream::connect(address).await.unwrap();
        let (sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
            .handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let mut calls = JoinSet::new();
        for _ in 0..CALLS {
            let mut sender = sender.clone();
            calls.spawn(async move {
                let request = http::Request::post(format!("http://{address}/call"))
                    .body(Empty::new())
                    .unwrap();
                sender.send_request(request).await.map(|r| r.status())
            });
        }
        let all_answered = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(call) = calls.join_next().await {
                assert_eq!(call.unwrap().unwrap(), http::StatusCode::OK);
            }
        })
        .await;
        assert!(
            all_answered.is_ok(),
            "fewer than {CALLS} calls reached their handlers at once"
        );
        shutdown.trigger();
        serving.await.unwrap();
    }
}
