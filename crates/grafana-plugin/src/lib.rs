//! Write Grafana backend plugins in Rust: the one crate a plugin depends on.
//!
//! Grafana starts a backend plugin as a child process and calls it over
//! gRPC. This crate gives a plugin everything it needs to answer: the
//! handler traits and SDK types ([`backend`]), data frames ([`data`]), one
//! instance per data source ([`instancemgmt`]), serving ([`serve`]),
//! Grafana's intervals ([`gtime`]) and,
//! behind features, outgoing HTTP ([`httpclient`]), resources ([`resource`])
//! and a test kit ([`testkit`]). A data source in full:
//!
//! ```no_run
//! use grafana_plugin::prelude::*;
//!
//! struct Constant(f64);
//!
//! impl QueryDataHandler for Constant {
//!     async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
//!         let frame = || Frame::new("constant").with_field(Field::new("value", vec![self.0]));
//!         Ok(request.queries.iter().map(|q| (q.ref_id.clone(), DataResponse::from(frame()))).collect())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     grafana_plugin::run(grafana_plugin::datasource::manage(
//!         "acme-constant-datasource",
//!         |_settings, _context| async { Ok(Plugin::new().with_query_data(Constant(1.0))) },
//!         ManageOptions::new().with_build_info(build_info!()),
//!     ))
//! }
//! ```
//!
//! Each layer is also a crate of its own (`plugin-backend`, `plugin-data`,
//! …) for those who want only one; this crate re-exports them whole, so
//! `grafana_plugin::backend::Plugin` and `plugin_backend::Plugin` are the
//! same type and the versions always match.
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `httpclient` | yes | [`httpclient`]: outgoing HTTP configured from data source settings |
//! | `resource` | yes | [`resource`]: CallResource served by any tower HTTP service |
//! | `axum` | | [`axum`] re-exported, for resources served by an `axum::Router` |
//! | `secure-socks-proxy` | | outgoing HTTP through Grafana's private data source connect proxy |
//! | `otel` | | OpenTelemetry traces exported to Grafana's OTLP endpoint |
//! | `pprof` | | CPU profiles over HTTP on localhost |
//! | `chrono`, `time` | | those crates' date-times as frame time values |
//! | `derive` | | `#[derive(ToFrame)]`: frames from lists of structs |
//! | `sql-sqlite`, `sql-postgres` | | [`sql`]: SQL data sources on sqlx, with that driver |
//! | `testkit` | | [`testkit`]: start the plugin the way Grafana does, in tests |
//!
//! # Third-party crates
//!
//! The crates whose types the SDK's API uses are re-exported, so a plugin
//! needs no dependency of its own to name them: [`bytes`], [`chrono`]
//! (time ranges), [`http`], [`serde`], [`serde_json`], [`tokio`] (with
//! `macros`, `time`, `sync` and `fs`), [`tracing`] and, behind its
//! feature, [`axum`]. Macros that generate code naming their own crate are
//! told where it is:
//!
//! ```no_run
//! use grafana_plugin::serde::Deserialize;
//! use grafana_plugin::tokio;
//!
//! #[derive(Deserialize)]
//! #[serde(crate = "grafana_plugin::serde")]
//! struct Query {
//!     rows: usize,
//! }
//!
//! #[tokio::test(crate = "grafana_plugin::tokio")]
//! async fn parses() {
//!     let query: Query = grafana_plugin::serde_json::from_str(r#"{"rows": 3}"#).unwrap();
//!     assert_eq!(query.rows, 3);
//! }
//! # fn main() {}
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]

use std::future::Future;
use std::process::ExitCode;

pub use plugin_backend as backend;
pub use plugin_data as data;
#[cfg(feature = "httpclient")]
#[cfg_attr(docsrs, doc(cfg(feature = "httpclient")))]
pub use plugin_httpclient as httpclient;
pub use plugin_instancemgmt as instancemgmt;
pub use plugin_proto as proto;
#[cfg(feature = "resource")]
#[cfg_attr(docsrs, doc(cfg(feature = "resource")))]
pub use plugin_resource as resource;
pub use plugin_serve as serve;
pub use plugin_serve::{app, build_info, datasource};
#[cfg(any(feature = "sql-sqlite", feature = "sql-postgres"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "sql-sqlite", feature = "sql-postgres")))
)]
pub use plugin_sql as sql;
#[cfg(feature = "testkit")]
#[cfg_attr(docsrs, doc(cfg(feature = "testkit")))]
pub use plugin_testkit as testkit;
/// Grafana's intervals and durations, as the Go SDK's `backend/gtime`
/// reads them.
pub use plugin_time as gtime;

// The third-party crates whose types appear in the SDK's API.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use axum;
pub use bytes;
/// The date-times of [`backend::TimeRange`] and the rest of the SDK's API;
/// the `chrono` feature also makes them frame time values.
pub use chrono;
pub use http;
pub use serde;
pub use serde_json;
pub use tokio;
pub use tracing;

pub mod prelude;

/// Runs a plugin's serving future, usually
/// [`datasource::manage`] or [`app::manage`], on a multi-threaded tokio
/// runtime, and turns its outcome into the process's exit code with
/// [`serve::exit_code`].
///
/// This is what a plugin's `main` needs and what `#[tokio::main]` would do,
/// without the plugin depending on tokio itself. A failure (including being
/// run by hand rather than by Grafana) is printed on stderr, where Grafana
/// logs it, and exits with status 1, as a Go plugin does when
/// `datasource.Manage` returns an error.
pub fn run<F>(serving: F) -> ExitCode
where
    F: Future<Output = Result<(), serve::Error>>,
{
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => serve::exit_code(runtime.block_on(serving)),
        Err(err) => {
            eprintln!("starting the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}
