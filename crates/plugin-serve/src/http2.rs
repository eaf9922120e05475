//! Connections: accepting them, serving gRPC on each over HTTP/2, and
//! draining them on shutdown.
//!
//! go-plugin's host dials the plugin with HTTP/2 prior knowledge, as every
//! gRPC client does, so connections are served HTTP/2 only: hyper's HTTP/2
//! server on each accepted socket, with no HTTP/1 parser, no protocol
//! detection and no router framework in the plugin binary. HTTP/2 settings
//! are hyper's defaults, which are also tonic's.
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
