//! The layer a Grafana backend plugin is written against: handler contracts,
//! SDK types, conversions to and from the wire, errors and handler
//! middleware.
//!
//! ```
//! use plugin_backend::middleware::HandlerBuilder;
//! use plugin_backend::{
//!     DataQuery, DataResponse, Error, Handler, Plugin, PluginContext, QueryDataHandler,
//!     QueryDataRequest, QueryDataResponse, QueryTypeMux, query_data_fn,
//! };
//! use plugin_data::{Field, Frame};
//!
//! #[derive(serde::Deserialize)]
//! struct Query {
//!     constant: f64,
//! }
//!
//! struct ConstantDataSource;
//!
//! impl QueryDataHandler for ConstantDataSource {
//!     async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
//!         let mut response = QueryDataResponse::new();
//!         for query in &request.queries {
//!             let answer = match query.parse_json::<Query>() {
//!                 Ok(q) => DataResponse::from(Frame::new("constant").with_field(Field::new("value", vec![q.constant]))),
//!                 Err(err) => DataResponse::from_error(err),
//!             };
//!             response.insert(query.ref_id.clone(), answer);
//!         }
//!         Ok(response)
//!     }
//! }
//!
//! # tokio_test_block_on(async {
//! // Route by query type, wrap every endpoint in the default middleware.
//! let mux = QueryTypeMux::new().with_fallback(ConstantDataSource);
//! let handler = HandlerBuilder::with_default_layers().handler(Plugin::new().with_query_data(mux));
//!
//! let request = QueryDataRequest::new(
//!     PluginContext::new("constant-datasource"),
//!     vec![DataQuery::new("A", r#"{"constant": 4.2}"#)],
//! );
//! let response = handler.query_data(request).await?;
//! assert_eq!(response.responses["A"].frames[0].name(), "constant");
//! # Ok::<(), Error>(())
//! # })?;
//! # fn tokio_test_block_on<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! # Ok::<(), Error>(())
//! ```
//!
//! # The data path
//!
//! `plugin-serve` decodes a gRPC message (`plugin_proto::pluginv2`), turns it
//! into an SDK request with `TryFrom` ([`convert`]), calls the [`Handler`]
//! chain (middleware, then the plugin's capability handlers), and turns the
//! answer back into a message: [`QueryDataResponse::into_proto`] encodes the
//! frames in the format the request asked for; a failed call becomes a
//! [`tonic::Status`] through `From<Error>` ([`Error::into_grpc_status`]).
//!
//! # Contents
//!
//! | area | types |
//! |---|---|
//! | context | [`PluginContext`], [`User`], [`Role`], [`GrafanaConfig`], [`UserAgent`] |
//! | settings | [`DataSourceInstanceSettings`], [`AppInstanceSettings`], [`SecureJsonData`] |
//! | data | [`QueryDataRequest`], [`DataQuery`], [`TimeRange`], [`QueryDataResponse`], [`DataResponse`], [`Status`], [`DataFrameFormat`] |
//! | chunked data | [`QueryChunkedDataRequest`], [`ChunkedDataWriter`], [`QueryChunkedDataResponse`] |
//! | resources | [`CallResourceRequest`], [`CallResourceResponse`], [`resource::send_json`] |
//! | diagnostics | [`CheckHealthRequest`], [`CheckHealthResult`], [`CollectMetricsRequest`], [`CollectMetricsResult`] |
//! | streams | [`SubscribeStreamRequest`], [`RunStreamRequest`], [`StreamSender`], [`PublishStreamRequest`] |
//! | admission, conversion | [`AdmissionRequest`], [`ValidationResponse`], [`MutationResponse`], [`ConversionRequest`], [`ConversionResponse`] |
//! | handlers | [`Handler`], [`Plugin`], [`QueryDataHandler`] and the other capability traits |
//! | endpoints | [`Endpoint`], [`rpc`] (the endpoint table: [`rpc::Rpc`], one type per endpoint) |
//! | middleware | [`middleware::Middleware`], [`middleware::HandlerBuilder`], [`middleware::TowerLayer`], [`middleware::LoggingLayer`], [`middleware::MetricsLayer`], [`middleware::ErrorSourceLayer`], [`middleware::CatchPanicLayer`] |
//! | conveniences | [`QueryTypeMux`], [`concurrent::query_data`], [`ForwardHttpHeaders`] |
//! | errors | [`Error`], [`ErrorSource`], [`grpc`] |
//!
//! # Secrets
//!
//! Decrypted secrets ([`SecureJsonData`], secret [`GrafanaConfig`] keys) are
//! redacted in every `Debug` output, and no middleware logs a request, so
//! they never reach logs through the SDK.
//!
//! # Features
//!
//! The crate has no optional features.

pub mod admission;
pub mod chunked;
pub mod concurrent;
pub mod config;
pub mod context;
pub mod conversion;
pub mod convert;
pub mod data;
pub mod diagnostics;
pub mod error;
pub mod grpc;
pub mod handler;
pub mod headers;
pub mod middleware;
pub mod mux;
pub mod outgoing;
pub mod resource;
pub mod rpc;
mod sender;
pub mod settings;
mod status;
pub mod stream;
pub mod useragent;

pub use admission::{
    AdmissionOperation, AdmissionRequest, GroupVersionKind, MutationResponse, StatusResult,
    ValidationResponse,
};
pub use chunked::{ChunkedDataWriter, QueryChunkedDataRequest, QueryChunkedDataResponse};
pub use config::GrafanaConfig;
pub use context::{PluginContext, Role, User};
pub use conversion::{
    ConversionRequest, ConversionResponse, GroupVersion, QueryConversionResponse, RawObject,
};
pub use data::{
    DataFrameFormat, DataQuery, DataResponse, QueryDataRequest, QueryDataResponse, TimeRange,
};
pub use diagnostics::{
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
    HealthStatus,
};
pub use error::{BoxError, Error, ErrorSource};
pub use handler::{
    AdmissionHandler, CallResourceHandler, CheckHealthHandler, CollectMetricsHandler,
    ConversionHandler, Handler, Plugin, QueryChunkedDataHandler, QueryConversionHandler,
    QueryDataFn, QueryDataHandler, StreamHandler, query_data_fn,
};
pub use headers::ForwardHttpHeaders;
pub use mux::QueryTypeMux;
pub use outgoing::OutgoingContext;
pub use resource::{CallResourceRequest, CallResourceResponse, CallResourceResponseSender};
pub use rpc::Endpoint;
pub use sender::ResponseSender;
pub use settings::{AppInstanceSettings, DataSourceInstanceSettings, SecureJsonData};
pub use status::Status;
pub use stream::{
    PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamPacket, StreamSender,
    StreamStatus, SubscribeStreamRequest, SubscribeStreamResponse,
};
pub use useragent::UserAgent;
