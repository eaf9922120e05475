//! Test a Grafana backend plugin the way Grafana uses it: start the real
//! binary, read its handshake, call it over gRPC, and compare what it
//! answers with golden files shared with the Go SDK.
//!
//! Two modes hand out the same [`PluginClient`]:
//!
//! * **process mode** ([`PluginLauncher`]) starts the plugin's executable
//!   exactly as Grafana does (below);
//! * **in-process mode** ([`InProcessPlugin`]) serves a
//!   `plugin_backend::Handler` inside the test process, over a real gRPC
//!   connection, so handlers can be tested in `cargo test` without building
//!   a binary:
//!
//! ```
//! use plugin_backend::{
//!     DataQuery, DataResponse, Error, Plugin, PluginContext, QueryDataHandler, QueryDataRequest,
//!     QueryDataResponse,
//! };
//! use plugin_data::{Field, Frame};
//! use plugin_testkit::InProcessPlugin;
//!
//! struct Constant;
//!
//! impl QueryDataHandler for Constant {
//!     async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
//!         let frame = || Frame::new("constant").with_field(Field::new("value", vec![1.5, 2.5]));
//!         Ok(request
//!             .queries
//!             .iter()
//!             .map(|query| (query.ref_id.clone(), DataResponse::from(frame())))
//!             .collect())
//!     }
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), plugin_testkit::Error> {
//! let plugin = InProcessPlugin::start(Plugin::new().with_query_data(Constant)).await?;
//! let context = PluginContext::new("acme-constant-datasource");
//! let request = QueryDataRequest::new(context, vec![DataQuery::new("A", "{}")]);
//! let response = plugin.client().query_data(request).await?;
//! assert_eq!(response.responses["A"].frames[0].num_rows()?, 2);
//! plugin.shutdown().await?;
//! # Ok(())
//! # }
//! ```
//!
//! Process mode:
//!
//! ```no_run
//! use plugin_backend::{CheckHealthRequest, DataQuery, HealthStatus, PluginContext, QueryDataRequest};
//! use plugin_testkit::{PluginLauncher, golden};
//!
//! # async fn example() -> Result<(), plugin_testkit::Error> {
//! // (In an integration test of the plugin's own crate, use `env!("CARGO_BIN_EXE_<name>")`.)
//! let plugin = PluginLauncher::new("target/debug/gpx_my-datasource").launch().await?;
//! let context = PluginContext::new("acme-my-datasource");
//!
//! let health = plugin.client().check_health(CheckHealthRequest::new(context.clone())).await?;
//! assert_eq!(health.status, HealthStatus::Ok);
//!
//! let request = QueryDataRequest::new(context, vec![DataQuery::new("A", r#"{"rows": 3}"#)]);
//! let response = plugin.client().query_data(request).await?;
//! let frames = &response.responses["A"].frames;
//! assert_eq!(frames[0].num_rows()?, 3);
//! golden::check("tests/golden/three-rows.golden.jsonc", &response.responses["A"])?;
//!
//! // Shut down as Grafana does; the plugin's logs stay available.
//! assert!(plugin.stderr().entries().iter().all(|entry| entry.level != "error"));
//! let status = plugin.shutdown().await?;
//! assert!(status.success());
//! # Ok(())
//! # }
//! ```
//!
//! # What is in the kit
//!
//! | piece | what it does |
//! |---|---|
//! | [`PluginLauncher`] → [`RunningPlugin`] | process mode: starts an executable with Grafana's environment, parses the [`Handshake`] (one-minute timeout; an early exit or a malformed line is an error quoting the plugin's stderr), connects over the unix socket or TCP address it announced, checks the gRPC health service, and shuts it down with go-plugin's `Shutdown` then a kill after two seconds |
//! | [`PluginLauncher::spawn`] → [`PluginProcess`] | the same start without a handshake, for `-standalone`, `-buildinfo` and plugins that must refuse to start; both processes take [`Signal`]s and can be [`wait`](RunningPlugin::wait)ed for when they stop by themselves |
//! | [`InProcessPlugin`] | in-process mode: serves a handler with plugin-serve's own server on a unix socket in a temporary directory (TCP on 127.0.0.1 elsewhere), connects, checks health, and shuts down gracefully |
//! | [`PluginClient`] | every RPC Grafana makes, SDK types in and out: [`query_data`](PluginClient::query_data) (frames decoded by each response's `format`), [`query_chunked_data`](PluginClient::query_chunked_data) (chunks assembled by frame id), [`call_resource`](PluginClient::call_resource) (the response stream collected), [`check_health`](PluginClient::check_health), [`collect_metrics`](PluginClient::collect_metrics), the three stream calls ([`run_stream`](PluginClient::run_stream) gives a [`PacketStream`]), admission and conversion |
//! | [`PluginLog`] | the plugin's stderr, kept line by line; [`LogEntry`] parses hclog JSON lines, [`LogEntry::parse_strict`] with every rule of go-plugin's host |
//! | [`fixtures`] | frames defined identically in the Go interop suite, e.g. [`fixtures::all_field_types`] |
//! | [`golden`] | `.golden.txt` / `.golden.jsonc` files in the Go SDK's formats; `UPDATE_GOLDEN=1` rewrites them |
//! | [`MemoryUsage`] | resident and peak memory of a running plugin (Linux) |
//!
//! Requests are anything that converts into the wire message: the
//! `plugin-backend` request types, or raw `plugin_proto::pluginv2`
//! messages for requests the SDK types cannot express (malformed ones, for
//! instance).
//!
//! # Runtime
//!
//! Everything is async on tokio. Tests use `#[tokio::test]`; the current
//! thread runtime is enough.

mod chunks;
mod client;
mod error;
pub mod fixtures;
pub mod golden;
mod handshake;
mod in_process;
mod launch;
mod log;

pub use client::{HEALTH_SERVICE_NAME, PacketStream, PluginClient, responses_in_ref_id_order};
pub use error::Error;
pub use handshake::{APP_PROTOCOL_VERSION, CORE_PROTOCOL_VERSION, Handshake, PluginAddress};
pub use in_process::InProcessPlugin;
#[cfg(unix)]
pub use launch::Signal;
pub use launch::{
    DEFAULT_GRAFANA_VERSION, DEFAULT_START_TIMEOUT, MAGIC_COOKIE, MemoryUsage, PluginLauncher,
    PluginProcess, RunningPlugin, SHUTDOWN_GRACE,
};
pub use log::{LogEntry, PluginLog};
