//! Handler contracts: one trait per capability, the [`Handler`] aggregate
//! that middleware and the server work with, and [`Plugin`], which builds a
//! [`Handler`] from the capabilities a plugin has.
//!
//! # Design
//!
//! * A plugin author implements only the **capability traits** it needs
//!   ([`QueryDataHandler`], [`CallResourceHandler`], [`CheckHealthHandler`],
//!   …). Their methods return `impl Future + Send`, so implementations are
//!   plain `async fn`s.
//! * [`Plugin`] holds each capability as an optional shared trait object
//!   and answers what is missing as the Go SDK does: `Unimplemented` for
//!   queries, streams, admission and conversion; one `501` message for
//!   resource calls and chunked queries; `OK` for health checks; the
//!   process's default Prometheus registry for metrics.
//! * [`Handler`] is the aggregate: one required method per endpoint.
//!   Middleware ([`crate::middleware`]) wraps a `Handler` into another
//!   `Handler`, statically typed (`Logging<Metrics<…<Plugin>>>`), so the
//!   compiler checks that every middleware covers every endpoint and the
//!   chain adds no allocation. The only dynamic dispatch on the hot path is
//!   the single boxed future of the capability call at the bottom, in
//!   [`Plugin`]. A plugin that wants none can implement [`Handler`] itself.
//!
//! ```
//! use plugin_backend::{
//!     CheckHealthHandler, CheckHealthRequest, CheckHealthResult, DataResponse, Error, Handler,
//!     Plugin, QueryDataHandler, QueryDataRequest, QueryDataResponse,
//! };
//!
//! #[derive(Clone)]
//! struct MyDataSource;
//!
//! impl QueryDataHandler for MyDataSource {
//!     async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
//!         Ok(request.queries.iter().map(|q| (q.ref_id.clone(), DataResponse::default())).collect())
//!     }
//! }
//!
//! impl CheckHealthHandler for MyDataSource {
//!     async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
//!         Ok(CheckHealthResult::ok("all good"))
//!     }
//! }
//!
//! let plugin = Plugin::new().with_query_data(MyDataSource).with_check_health(MyDataSource);
//! # let _ = &plugin;
//! ```

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use http::StatusCode;

use crate::admission::{AdmissionRequest, MutationResponse, ValidationResponse};
use crate::chunked::{ChunkedDataWriter, QueryChunkedDataRequest};
use crate::conversion::{self, ConversionRequest, ConversionResponse, QueryConversionResponse};
use crate::data::{QueryDataRequest, QueryDataResponse};
use crate::diagnostics::{
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::resource::{CallResourceRequest, CallResourceResponse, CallResourceResponseSender};
use crate::status::Status;
use crate::stream::{
    PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamSender,
    SubscribeStreamRequest, SubscribeStreamResponse,
};

/// Answers data queries.
pub trait QueryDataHandler: Send + Sync {
    /// Runs the queries of `request`, answering each by its `ref_id`.
    ///
    /// A failing query is a [`DataResponse`](crate::DataResponse) with an
    /// error; `Err` fails the whole request.
    fn query_data(
        &self,
        request: QueryDataRequest,
    ) -> impl Future<Output = Result<QueryDataResponse, Error>> + Send;
}

/// Answers data queries chunk by chunk.
pub trait QueryChunkedDataHandler: Send + Sync {
    /// Runs the queries of `request`, writing frames through `writer`.
    fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Answers HTTP requests to the plugin's resources.
pub trait CallResourceHandler: Send + Sync {
    /// Answers `request` through `sender`: one message with status and
    /// headers, then as many body-only messages as needed.
    fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Checks the plugin's health.
pub trait CheckHealthHandler: Send + Sync {
    /// Checks whether the plugin (usually a data source instance) works.
    fn check_health(
        &self,
        request: CheckHealthRequest,
    ) -> impl Future<Output = Result<CheckHealthResult, Error>> + Send;
}

/// Reports the plugin's metrics.
pub trait CollectMetricsHandler: Send + Sync {
    /// Returns metrics in Prometheus text format.
    fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> impl Future<Output = Result<CollectMetricsResult, Error>> + Send;
}

/// Serves Grafana Live streams.
pub trait StreamHandler: Send + Sync {
    /// Decides whether a user may subscribe to a path.
    fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> impl Future<Output = Result<SubscribeStreamResponse, Error>> + Send;

    /// Decides whether a user may publish to a path, and what to publish.
    fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> impl Future<Output = Result<PublishStreamResponse, Error>> + Send;

    /// Runs the stream of a path, sending packets until done or until
    /// sending fails because Grafana cancelled.
    fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> impl Future<Output = Result<(), Error>> + Send;
}

/// Validates and mutates objects before Grafana stores them.
pub trait AdmissionHandler: Send + Sync {
    /// Validates an object.
    fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> impl Future<Output = Result<ValidationResponse, Error>> + Send;

    /// Mutates an object.
    fn mutate_admission(
        &self,
        request: AdmissionRequest,
    ) -> impl Future<Output = Result<MutationResponse, Error>> + Send;
}

/// Converts objects between API versions.
pub trait ConversionHandler: Send + Sync {
    /// Converts the objects of `request` to its target version.
    fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> impl Future<Output = Result<ConversionResponse, Error>> + Send;
}

/// Converts saved queries to a newer query model.
///
/// It has no endpoint of its own: conversion requests whose objects are JSON
/// query data requests come here (see [`crate::conversion`]).
pub trait QueryConversionHandler: Send + Sync {
    /// Converts the queries of `request`.
    fn convert_query_data_request(
        &self,
        request: QueryDataRequest,
    ) -> impl Future<Output = Result<QueryConversionResponse, Error>> + Send;
}

/// Every endpoint of the plugin protocol: what middleware wraps and what the
/// server calls.
///
/// Each method answers one RPC. Build one with [`Plugin`] from capability
/// handlers, wrap it with [`HandlerBuilder`](crate::middleware::HandlerBuilder),
/// or implement it directly.
pub trait Handler: Send + Sync {
    /// `Data/QueryData`.
    fn query_data(
        &self,
        request: QueryDataRequest,
    ) -> impl Future<Output = Result<QueryDataResponse, Error>> + Send;

    /// `Data/QueryChunkedData`.
    fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// `Resource/CallResource`.
    fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// `Diagnostics/CheckHealth`.
    fn check_health(
        &self,
        request: CheckHealthRequest,
    ) -> impl Future<Output = Result<CheckHealthResult, Error>> + Send;

    /// `Diagnostics/CollectMetrics`.
    fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> impl Future<Output = Result<CollectMetricsResult, Error>> + Send;

    /// `Stream/SubscribeStream`.
    fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> impl Future<Output = Result<SubscribeStreamResponse, Error>> + Send;

    /// `Stream/PublishStream`.
    fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> impl Future<Output = Result<PublishStreamResponse, Error>> + Send;

    /// `Stream/RunStream`.
    fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> impl Future<Output = Result<(), Error>> + Send;

    /// `AdmissionControl/ValidateAdmission`.
    fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> impl Future<Output = Result<ValidationResponse, Error>> + Send;

    /// `AdmissionControl/MutateAdmission`.
    fn mutate_admission(
        &self,
        request: AdmissionRequest,
    ) -> impl Future<Output = Result<MutationResponse, Error>> + Send;

    /// `ResourceConversion/ConvertObjects` (including query conversion).
    fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> impl Future<Output = Result<ConversionResponse, Error>> + Send;
}

// Object-safe mirrors of the capability traits, so `Plugin` can hold any
// implementation behind one pointer. Each is implemented for every
// implementor of its capability trait.

pub(crate) trait DynQueryData: Send + Sync {
    fn query_data(
        &self,
        request: QueryDataRequest,
    ) -> BoxFuture<'_, Result<QueryDataResponse, Error>>;
}

impl<T: QueryDataHandler> DynQueryData for T {
    fn query_data(
        &self,
        request: QueryDataRequest,
    ) -> BoxFuture<'_, Result<QueryDataResponse, Error>> {
        Box::pin(QueryDataHandler::query_data(self, request))
    }
}

trait DynQueryChunkedData: Send + Sync {
    fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> BoxFuture<'_, Result<(), Error>>;
}

impl<T: QueryChunkedDataHandler> DynQueryChunkedData for T {
    fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(QueryChunkedDataHandler::query_chunked_data(
            self, request, writer,
        ))
    }
}

trait DynCallResource: Send + Sync {
    fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> BoxFuture<'_, Result<(), Error>>;
}

impl<T: CallResourceHandler> DynCallResource for T {
    fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(CallResourceHandler::call_resource(self, request, sender))
    }
}

trait DynCheckHealth: Send + Sync {
    fn check_health(
        &self,
        request: CheckHealthRequest,
    ) -> BoxFuture<'_, Result<CheckHealthResult, Error>>;
}

impl<T: CheckHealthHandler> DynCheckHealth for T {
    fn check_health(
        &self,
        request: CheckHealthRequest,
    ) -> BoxFuture<'_, Result<CheckHealthResult, Error>> {
        Box::pin(CheckHealthHandler::check_health(self, request))
    }
}

trait DynCollectMetrics: Send + Sync {
    fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> BoxFuture<'_, Result<CollectMetricsResult, Error>>;
}

impl<T: CollectMetricsHandler> DynCollectMetrics for T {
    fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> BoxFuture<'_, Result<CollectMetricsResult, Error>> {
        Box::pin(CollectMetricsHandler::collect_metrics(self, request))
    }
}

trait DynStream: Send + Sync {
    fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> BoxFuture<'_, Result<SubscribeStreamResponse, Error>>;
    fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> BoxFuture<'_, Result<PublishStreamResponse, Error>>;
    fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> BoxFuture<'_, Result<(), Error>>;
}

impl<T: StreamHandler> DynStream for T {
    fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> BoxFuture<'_, Result<SubscribeStreamResponse, Error>> {
        Box::pin(StreamHandler::subscribe_stream(self, request))
    }

    fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> BoxFuture<'_, Result<PublishStreamResponse, Error>> {
        Box::pin(StreamHandler::publish_stream(self, request))
    }

    fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> BoxFuture<'_, Result<(), Error>> {
        Box::pin(StreamHandler::run_stream(self, request, sender))
    }
}

trait DynAdmission: Send + Sync {
    fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> BoxFuture<'_, Result<ValidationResponse, Error>>;
    fn mutate_admission(
        &self,
        request: AdmissionRequest,
    ) -> BoxFuture<'_, Result<MutationResponse, Error>>;
}

impl<T: AdmissionHandler> DynAdmission for T {
    fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> BoxFuture<'_, Result<ValidationResponse, Error>> {
        Box::pin(AdmissionHandler::validate_admission(self, request))
    }

    fn mutate_admission(
        &self,
        request: AdmissionRequest,
    ) -> BoxFuture<'_, Result<MutationResponse, Error>> {
        Box::pin(AdmissionHandler::mutate_admission(self, request))
    }
}

trait DynConversion: Send + Sync {
    fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> BoxFuture<'_, Result<ConversionResponse, Error>>;
}

impl<T: ConversionHandler> DynConversion for T {
    fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> BoxFuture<'_, Result<ConversionResponse, Error>> {
        Box::pin(ConversionHandler::convert_objects(self, request))
    }
}

trait DynQueryConversion: Send + Sync {
    fn convert_query_data_request(
        &self,
        request: QueryDataRequest,
    ) -> BoxFuture<'_, Result<QueryConversionResponse, Error>>;
}

impl<T: QueryConversionHandler> DynQueryConversion for T {
    fn convert_query_data_request(
        &self,
        request: QueryDataRequest,
    ) -> BoxFuture<'_, Result<QueryConversionResponse, Error>> {
        Box::pin(QueryConversionHandler::convert_query_data_request(
            self, request,
        ))
    }
}

/// A [`Handler`] assembled from the capabilities a plugin has.
///
/// Cloning is cheap: the capability handlers are shared. Endpoints without
/// a capability answer as the Go SDK does (see the [module docs](self)).
#[derive(Clone, Default)]
pub struct Plugin {
    query_data: Option<Arc<dyn DynQueryData>>,
    query_chunked_data: Option<Arc<dyn DynQueryChunkedData>>,
    call_resource: Option<Arc<dyn DynCallResource>>,
    check_health: Option<Arc<dyn DynCheckHealth>>,
    collect_metrics: Option<Arc<dyn DynCollectMetrics>>,
    stream: Option<Arc<dyn DynStream>>,
    admission: Option<Arc<dyn DynAdmission>>,
    conversion: Option<Arc<dyn DynConversion>>,
    query_conversion: Option<Arc<dyn DynQueryConversion>>,
}

impl Plugin {
    /// A plugin with no capabilities.
    pub fn new() -> Self {
        Plugin::default()
    }

    /// This plugin, answering data queries with `handler`.
    pub fn with_query_data(mut self, handler: impl QueryDataHandler + 'static) -> Self {
        self.query_data = Some(Arc::new(handler));
        self
    }

    /// This plugin, answering chunked data queries with `handler`.
    pub fn with_query_chunked_data(
        mut self,
        handler: impl QueryChunkedDataHandler + 'static,
    ) -> Self {
        self.query_chunked_data = Some(Arc::new(handler));
        self
    }

    /// This plugin, answering resource calls with `handler`.
    pub fn with_call_resource(mut self, handler: impl CallResourceHandler + 'static) -> Self {
        self.call_resource = Some(Arc::new(handler));
        self
    }

    /// This plugin, answering health checks with `handler`.
    pub fn with_check_health(mut self, handler: impl CheckHealthHandler + 'static) -> Self {
        self.check_health = Some(Arc::new(handler));
        self
    }

    /// This plugin, answering metrics requests with `handler` instead of the
    /// default Prometheus registry.
    pub fn with_collect_metrics(mut self, handler: impl CollectMetricsHandler + 'static) -> Self {
        self.collect_metrics = Some(Arc::new(handler));
        self
    }

    /// This plugin, serving streams with `handler`.
    pub fn with_stream(mut self, handler: impl StreamHandler + 'static) -> Self {
        self.stream = Some(Arc::new(handler));
        self
    }

    /// This plugin, validating and mutating objects with `handler`.
    pub fn with_admission(mut self, handler: impl AdmissionHandler + 'static) -> Self {
        self.admission = Some(Arc::new(handler));
        self
    }

    /// This plugin, converting objects with `handler`.
    pub fn with_conversion(mut self, handler: impl ConversionHandler + 'static) -> Self {
        self.conversion = Some(Arc::new(handler));
        self
    }

    /// This plugin, converting queries with `handler`.
    pub fn with_query_conversion(mut self, handler: impl QueryConversionHandler + 'static) -> Self {
        self.query_conversion = Some(Arc::new(handler));
        self
    }

    /// Runs the query conversion of the Go SDK's conversion adapter.
    async fn convert_queries(
        &self,
        handler: &dyn DynQueryConversion,
        uid: String,
        requests: Vec<QueryDataRequest>,
    ) -> Result<ConversionResponse, Error> {
        let mut queries = Vec::new();
        let mut result = None;
        for request in requests {
            let converted = handler.convert_query_data_request(request).await?;
            queries.extend(converted.queries);
            result = result.or(converted.result);
        }
        let mut response = ConversionResponse::new(uid, conversion::query_objects(&queries)?);
        response.result = result;
        Ok(response)
    }
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("query_data", &self.query_data.is_some())
            .field("query_chunked_data", &self.query_chunked_data.is_some())
            .field("call_resource", &self.call_resource.is_some())
            .field("check_health", &self.check_health.is_some())
            .field("collect_metrics", &self.collect_metrics.is_some())
            .field("stream", &self.stream.is_some())
            .field("admission", &self.admission.is_some())
            .field("conversion", &self.conversion.is_some())
            .field("query_conversion", &self.query_conversion.is_some())
            .finish()
    }
}

impl Handler for Plugin {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        match &self.query_data {
            Some(handler) => handler.query_data(request).await,
            None => Err(Error::Unimplemented(Endpoint::QueryData)),
        }
    }

    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        mut writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        match &self.query_chunked_data {
            Some(handler) => handler.query_chunked_data(request, writer).await,
            None => writer.write_error("", Status::NOT_IMPLEMENTED, None).await,
        }
    }

    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        match &self.call_resource {
            Some(handler) => handler.call_resource(request, sender).await,
            None => {
                sender
                    .send(CallResourceResponse::new(StatusCode::NOT_IMPLEMENTED))
                    .await
            }
        }
    }

    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        match &self.check_health {
            Some(handler) => handler.check_health(request).await,
            None => Ok(CheckHealthResult::ok("")),
        }
    }

    async fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> Result<CollectMetricsResult, Error> {
        match &self.collect_metrics {
            Some(handler) => handler.collect_metrics(request).await,
            None => CollectMetricsResult::from_default_registry(),
        }
    }

    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        match &self.stream {
            Some(handler) => handler.subscribe_stream(request).await,
            None => Err(Error::Unimplemented(Endpoint::SubscribeStream)),
        }
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        match &self.stream {
            Some(handler) => handler.publish_stream(request).await,
            None => Err(Error::Unimplemented(Endpoint::PublishStream)),
        }
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> Result<(), Error> {
        match &self.stream {
            Some(handler) => handler.run_stream(request, sender).await,
            None => Err(Error::Unimplemented(Endpoint::RunStream)),
        }
    }

    async fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<ValidationResponse, Error> {
        match &self.admission {
            Some(handler) => handler.validate_admission(request).await,
            None => Err(Error::Unimplemented(Endpoint::ValidateAdmission)),
        }
    }

    async fn mutate_admission(&self, request: AdmissionRequest) -> Result<MutationResponse, Error> {
        match &self.admission {
            Some(handler) => handler.mutate_admission(request).await,
            None => Err(Error::Unimplemented(Endpoint::MutateAdmission)),
        }
    }

    async fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> Result<ConversionResponse, Error> {
        if let Some(query_conversion) = &self.query_conversion
            && let Some(requests) = conversion::query_data_requests(&request)
        {
            return self
                .convert_queries(query_conversion.as_ref(), request.uid, requests)
                .await;
        }
        match &self.conversion {
            Some(handler) => handler.convert_objects(request).await,
            None => Err(Error::Unimplemented(Endpoint::ConvertObjects)),
        }
    }
}

/// A [`QueryDataHandler`] made from an async function; see [`query_data_fn`].
#[derive(Clone, Copy)]
pub struct QueryDataFn<F>(F);

/// A [`QueryDataHandler`] that calls `f` (handy with
/// [`QueryTypeMux`](crate::QueryTypeMux)).
///
/// ```
/// use plugin_backend::{QueryDataResponse, QueryDataRequest, query_data_fn};
///
/// let handler = query_data_fn(|request: QueryDataRequest| async move {
///     Ok(QueryDataResponse::new())
/// });
/// # let _ = handler;
/// ```
pub fn query_data_fn<F, Fut>(f: F) -> QueryDataFn<F>
where
    F: Fn(QueryDataRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<QueryDataResponse, Error>> + Send,
{
    QueryDataFn(f)
}

impl<F, Fut> QueryDataHandler for QueryDataFn<F>
where
    F: Fn(QueryDataRequest) -> Fut + Send + Sync,
    Fut: Future<Output = Result<QueryDataResponse, Error>> + Send,
{
    fn query_data(
        &self,
        request: QueryDataRequest,
    ) -> impl Future<Output = Result<QueryDataResponse, Error>> + Send {
        (self.0)(request)
    }
}

impl<F> fmt::Debug for QueryDataFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueryDataFn").finish_non_exhaustive()
    }
}

/// Capability handlers behind an `Arc` are handlers too, so one value can
/// serve several capabilities without cloning its state.
macro_rules! forward_through_arc {
    ($($capability:ident { $($method:ident($($arg:ident: $ty:ty),*) -> $out:ty;)+ })+) => {$(
        impl<T: $capability + ?Sized> $capability for Arc<T> {
            $(
                fn $method(&self, $($arg: $ty),*) -> impl Future<Output = $out> + Send {
                    T::$method(self, $($arg),*)
                }
            )+
        }
    )+};
}

forward_through_arc! {
    QueryDataHandler { query_data(request: QueryDataRequest) -> Result<QueryDataResponse, Error>; }
    QueryChunkedDataHandler {
        query_chunked_data(request: QueryChunkedDataRequest, writer: ChunkedDataWriter) -> Result<(), Error>;
    }
    CallResourceHandler {
        call_resource(request: CallResourceRequest, sender: CallResourceResponseSender) -> Result<(), Error>;
    }
    CheckHealthHandler { check_health(request: CheckHealthRequest) -> Result<CheckHealthResult, Error>; }
    CollectMetricsHandler { collect_metrics(request: CollectMetricsRequest) -> Result<CollectMetricsResult, Error>; }
    StreamHandler {
        subscribe_stream(request: SubscribeStreamRequest) -> Result<SubscribeStreamResponse, Error>;
        publish_stream(request: PublishStreamRequest) -> Result<PublishStreamResponse, Error>;
        run_stream(request: RunStreamRequest, sender: StreamSender) -> Result<(), Error>;
    }
    AdmissionHandler {
        validate_admission(request: AdmissionRequest) -> Result<ValidationResponse, Error>;
        mutate_admission(request: AdmissionRequest) -> Result<MutationResponse, Error>;
    }
    ConversionHandler { convert_objects(request: ConversionRequest) -> Result<ConversionResponse, Error>; }
    QueryConversionHandler {
        convert_query_data_request(request: QueryDataRequest) -> Result<QueryConversionResponse, Error>;
    }
}
