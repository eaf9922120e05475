//! The gRPC server: which services it carries, its limits, and how it
//! drains on shutdown.
//!
//! | service | served to Grafana | served standalone |
//! |---|---|---|
//! | `pluginv2.Data`, `Resource`, `Diagnostics`, `Stream`, `AdmissionControl`, `ResourceConversion` | yes | yes |
//! | `grpc.health.v1.Health` (service `plugin` = `SERVING`) | yes | yes |
//! | `plugin.GRPCController`, `plugin.GRPCStdio`, `plugin.GRPCBroker` | yes | no |
//!
//! A standalone server has no controller on purpose: when Grafana restarts
//! the plugin it calls `Shutdown` on whatever it is connected to, and that
//! must not be the developer's debugging session. (The Go SDK's standalone
//! server has no controller either.)
//!
//! Every service accepts messages up to
//! [`ServeOptions::with_max_receive_message_size`] (16 MiB by default, as
//! the Go SDK; tonic's own default is 4 MiB) and sends messages of any size
//! unless limited. Accepted TCP connections get `TCP_NODELAY`. How
//! connections are served is in `http2.rs`, how calls find their service in
//! `routes.rs`.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use plugin_backend::Handler;
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::{HealthReporter, HealthService};
use tower_layer::Layer;

use crate::buildinfo::BuildInfo;
use crate::http2;
use crate::listener::PluginListener;
use crate::metrics::GrpcMetricsLayer;
use crate::routes::{MessageLimits, PluginRoutes};
use crate::shutdown::{CleanupHook, Shutdown};

/// The largest request message accepted by default: 16 MiB, as in the Go
/// SDK.
pub const DEFAULT_MAX_RECEIVE_MESSAGE_SIZE: usize = 16 * 1024 * 1024;

/// How long requests in flight may run on after shutdown is requested, by
/// default. Grafana kills a plugin 2 s after asking it to stop; this leaves
/// half a second for the cleanup hook and the exit.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_millis(1500);

/// The health-check service name go-plugin's host asks about.
pub const HEALTH_SERVICE_NAME: &str = "plugin";

/// How a plugin is served: gRPC limits, lifecycle and logging.
///
/// ```
/// use std::time::Duration;
/// use plugin_serve::ServeOptions;
///
/// let options = ServeOptions::new()
///     .with_max_receive_message_size(64 * 1024 * 1024)
///     .with_shutdown_timeout(Duration::from_secs(1))
///     .on_shutdown(|| async { /* close connection pools */ });
/// # let _ = options;
/// ```
pub struct ServeOptions {
    pub(crate) max_receive_message_size: usize,
    pub(crate) max_send_message_size: usize,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) shutdown: Shutdown,
    pub(crate) cleanup: Option<CleanupHook>,
    pub(crate) build_info: Option<BuildInfo>,
    pub(crate) install_logger: bool,
}

impl ServeOptions {
    /// The defaults: 16 MiB receive limit, no send limit, 1.5 s to drain,
    /// no cleanup hook, build information from the plugin id only, and the
    /// hclog logger installed.
    pub fn new() -> Self {
        ServeOptions {
            max_receive_message_size: DEFAULT_MAX_RECEIVE_MESSAGE_SIZE,
            max_send_message_size: usize::MAX,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            shutdown: Shutdown::new(),
            cleanup: None,
            build_info: None,
            install_logger: true,
        }
    }

    /// Accepts request messages up to `bytes` long; a longer one fails the
    /// call with `ResourceExhausted`, as grpc-go answers.
    pub fn with_max_receive_message_size(mut self, bytes: usize) -> Self {
        self.max_receive_message_size = bytes;
        self
    }

    /// Sends response messages up to `bytes` long. A longer answer fails the
    /// call instead: `ResourceExhausted` for QueryData, as grpc-go answers,
    /// and tonic's `OutOfRange` for the other RPCs.
    pub fn with_max_send_message_size(mut self, bytes: usize) -> Self {
        self.max_send_message_size = bytes;
        self
    }

    /// Lets requests in flight run for up to `timeout` after shutdown is
    /// requested; the server stops without them after that.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Stops the server when `shutdown` is triggered, besides the host's
    /// `Shutdown` call and SIGTERM.
    pub fn with_shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// Runs `cleanup` once the server has stopped, before the entry point
    /// returns. Keep it short: Grafana kills the plugin 2 s after asking it
    /// to stop.
    pub fn on_shutdown<F, Fut>(mut self, cleanup: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.cleanup = Some(Box::new(move || Box::pin(cleanup())));
        self
    }

    /// The plugin's build information, usually
    /// [`build_info!()`](crate::build_info): printed by `-buildinfo` and
    /// `-version`, and the service version in traces.
    pub fn with_build_info(mut self, build_info: BuildInfo) -> Self {
        self.build_info = Some(build_info);
        self
    }

    /// Leaves logging to the plugin: the entry points do not install the
    /// hclog subscriber (nor, with feature `otel`, the tracing layer). Use
    /// it when the plugin installs its own `tracing` subscriber; its output
    /// must still go to stderr, in hclog JSON
    /// ([`HclogLayer`](crate::log::HclogLayer)) for Grafana to parse it.
    pub fn without_logger(mut self) -> Self {
        self.install_logger = false;
        self
    }

    /// The trigger that stops the server: the one given to
    /// [`with_shutdown`](Self::with_shutdown), else a fresh one. Keep a
    /// clone to stop a server started by [`serve_on`](crate::serve_on).
    pub fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// What the server itself needs of these options.
    pub(crate) fn server_config(&self) -> ServerConfig {
        ServerConfig {
            max_receive_message_size: self.max_receive_message_size,
            max_send_message_size: self.max_send_message_size,
            shutdown_timeout: self.shutdown_timeout,
            shutdown: self.shutdown.clone(),
        }
    }

    /// Runs the cleanup hook, if there is one and it has not run yet.
    pub(crate) async fn run_cleanup(&mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            cleanup().await;
        }
    }
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions::new()
    }
}

impl fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServeOptions")
            .field("max_receive_message_size", &self.max_receive_message_size)
            .field("max_send_message_size", &self.max_send_message_size)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("shutdown", &self.shutdown)
            .field("cleanup", &self.cleanup.is_some())
            .field("build_info", &self.build_info)
            .field("install_logger", &self.install_logger)
            .finish()
    }
}

/// The part of [`ServeOptions`] the server uses while it runs.
///
/// Owned rather than borrowed: the cleanup hook in `ServeOptions` is not
/// `Sync`, and a reference held across the server's awaits would keep the
/// entry points' futures from being `Send` (spawnable).
#[derive(Debug, Clone)]
pub(crate) struct ServerConfig {
    max_receive_message_size: usize,
    max_send_message_size: usize,
    shutdown_timeout: Duration,
    shutdown: Shutdown,
}

/// Which services the server carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ServerKind {
    /// Started by Grafana through go-plugin.
    GoPlugin,
    /// Started by a developer with `-standalone`.
    Standalone,
}

/// The tower layer that joins incoming trace context, when tracing is
/// compiled in.
#[cfg(feature = "otel")]
type TraceContextLayer = crate::otel::TraceContextLayer;
#[cfg(not(feature = "otel"))]
type TraceContextLayer = tower_layer::Identity;

/// Serves `handler` on `listener` until `config.shutdown` is triggered,
/// then drains for at most `config.shutdown_timeout`.
pub(crate) async fn run<H: Handler + 'static>(
    handler: Arc<H>,
    listener: PluginListener,
    kind: ServerKind,
    config: ServerConfig,
) {
    let ServerConfig {
        max_receive_message_size: receive,
        max_send_message_size: send,
        shutdown_timeout,
        shutdown,
    } = config;

    let health = HealthReporter::new();
    health
        .set_service_status(HEALTH_SERVICE_NAME, ServingStatus::Serving)
        .await;
    let health_service = HealthServer::new(HealthService::from_health_reporter(health));
    let mut routes = PluginRoutes::new(handler, health_service, MessageLimits { receive, send });
    if kind == ServerKind::GoPlugin {
        routes = routes.with_host_services(&shutdown);
    }
    // Metrics outermost, so they time everything the server does for a call.
    let service = GrpcMetricsLayer.layer(TraceContextLayer::default().layer(routes));

    http2::Server::new(service)
        .serve(listener, &shutdown, shutdown_timeout)
        .await;
}
