//! Serves a Grafana backend plugin: from the outside, a plugin served by
//! this crate behaves exactly like one built with the Go SDK.
//!
//! ```no_run
//! use plugin_backend::{
//!     DataResponse, Error, Plugin, QueryDataHandler, QueryDataRequest, QueryDataResponse,
//! };
//! use plugin_data::{Field, Frame};
//! use plugin_serve::{ManageOptions, build_info};
//!
//! /// One instance per data source, built from its settings.
//! struct Constant {
//!     value: f64,
//! }
//!
//! impl QueryDataHandler for Constant {
//!     async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
//!         let frame = || Frame::new("constant").with_field(Field::new("value", vec![self.value]));
//!         Ok(request.queries.iter().map(|q| (q.ref_id.clone(), DataResponse::from(frame()))).collect())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     let served = plugin_serve::datasource::manage(
//!         "my-org-constant-datasource",
//!         |settings, _context| async move {
//!             let value = settings.url.parse().unwrap_or(1.0);
//!             Ok(Plugin::new().with_query_data(Constant { value }))
//!         },
//!         ManageOptions::new().with_build_info(build_info!()),
//!     )
//!     .await;
//!     // Status 0 once stopped; else the error on stderr and status 1.
//!     plugin_serve::exit_code(served)
//! }
//! ```
//!
//! # What one call does
//!
//! [`datasource::manage`], [`app::manage`] and, without instance management,
//! [`serve`]:
//!
//! * answer `-buildinfo` / `-version` ([`build_info!`]);
//! * install logging: [hclog JSON lines on stderr](log), which Grafana
//!   parses and re-logs at their level;
//! * when Grafana starts the binary: check go-plugin's magic cookie (run by
//!   hand, return [`Error::NotStartedByGrafana`], which [`exit_code`] prints
//!   as go-plugin's explanation before status 1), listen on a
//!   unix socket (TCP on 127.0.0.1 where there are none), print the
//!   [handshake] as the only line on stdout, and serve gRPC over HTTP/2:
//!   the `pluginv2` services through plugin-backend's handlers, health
//!   (`plugin` = `SERVING`), and go-plugin's controller, stdio and broker,
//!   honouring the client's deadline (`grpc-timeout`); QueryData answers
//!   reach the socket without copying their frames;
//! * stop gracefully on the host's `Shutdown` call or SIGTERM: requests in
//!   flight finish (within 1.5 s by default, inside Grafana's 2 s grace),
//!   then the [cleanup hook](ServeOptions::on_shutdown) runs, and the call
//!   returns; SIGINT is ignored, as in go-plugin;
//! * with `-standalone`, serve a debugger-run copy that the Grafana-started
//!   copy points Grafana at ([`standalone`]);
//! * count and time every RPC in the default Prometheus registry
//!   ([`metrics`]), which `CollectMetrics` returns by default;
//! * with feature `otel`, export traces over OTLP and join Grafana's traces;
//!   with feature `pprof`, serve CPU profiles on localhost.
//!
//! [`serve_on`] is the serving part alone, on a socket the caller bound:
//! the same server, without flags, handshake, signals or logging, for
//! running a plugin inside its own tests (plugin-testkit's in-process
//! mode).
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `otel` | no | OpenTelemetry tracing when Grafana sets `GF_INSTANCE_OTLP_ADDRESS`: OTLP/gRPC export with Grafana's sampler and propagation settings, and trace context taken from incoming gRPC metadata (module `otel`) |
//! | `pprof` | no | a pprof HTTP endpoint on 127.0.0.1 when `GF_PLUGIN_PROFILING_ENABLED=true`: `/debug/pprof/profile?seconds=N` returns a CPU profile in pprof's protobuf format (module `pprof`) |
//!
//! # Stdout and secrets
//!
//! Nothing but the handshake line (and the answers to `-buildinfo` and
//! `-version`) is written to stdout. No adapter logs or records a request,
//! so decrypted secrets never reach a log line through this crate.

#![cfg_attr(docsrs, feature(doc_cfg))]

mod adapters;
pub mod app;
mod buildinfo;
pub mod datasource;
mod deadline;
mod error;
mod go_plugin;
pub mod handshake;
mod http2;
mod listener;
pub mod log;
mod manage;
pub mod metrics;
mod middleware;
#[cfg(feature = "otel")]
pub mod otel;
#[cfg(feature = "pprof")]
pub mod pprof;
mod query_data;
mod routes;
mod server;
mod shutdown;
pub mod standalone;
mod telemetry;

pub use buildinfo::{BUILD_INFO_ENV, BuildInfo};
pub use error::{Error, exit_code};
pub use listener::Listener;
pub use manage::{ManageOptions, serve, serve_on};
pub use server::{
    DEFAULT_MAX_RECEIVE_MESSAGE_SIZE, DEFAULT_SHUTDOWN_TIMEOUT, HEALTH_SERVICE_NAME, ServeOptions,
};
pub use shutdown::Shutdown;
