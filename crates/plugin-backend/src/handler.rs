//! Handler contracts: one trait per capability, the [`Handler`] aggregate
//! that middleware and the server work with, and [`Plugin`], which builds a
//! [`Handler`] from the capabilities a plugin has.
//!
//! The capability traits and [`Handler`] are generated, with every other
//! per-endpoint piece, from the endpoint table in [`crate::rpc`]; they are
//! re-exported here.
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
//! * [`Handler`] is the aggregate: one method, [`Handler::call`], generic
//!   over the endpoint ([`Rpc`]), and a named method per endpoint that
//!   calls it. Middleware ([`crate::middleware`]) wraps a `Handler` into
//!   another `Handler`, statically typed (`Logging<Metrics<…<Plugin>>>`)
//!   and generic over the endpoint, so a middleware is written once and the
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

use crate::conversion::{self, ConversionRequest, ConversionResponse, QueryConversionResponse};
use crate::data::{QueryDataRequest, QueryDataResponse};
use crate::error::Error;
use crate::rpc::{Endpoint, PluginEndpoints, Rpc};

pub use crate::rpc::{
    AdmissionHandler, CallResourceHandler, CheckHealthHandler, CollectMetricsHandler,
    ConversionHandler, Handler, QueryChunkedDataHandler, QueryDataHandler, StreamHandler,
};

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

impl<T: QueryConversionHandler + ?Sized> QueryConversionHandler for Arc<T> {
    fn convert_query_data_request(
        &self,
        request: QueryDataRequest,
    ) -> impl Future<Output = Result<QueryConversionResponse, Error>> + Send {
        T::convert_query_data_request(self, request)
    }
}

/// The object-safe mirror of [`QueryConversionHandler`].
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
/// The `with_*` methods of the capabilities are generated with the endpoint
/// table ([`crate::rpc`]).
#[derive(Clone, Default)]
pub struct Plugin {
    pub(crate) endpoints: PluginEndpoints,
    query_conversion: Option<Arc<dyn DynQueryConversion>>,
}

impl Plugin {
    /// A plugin with no capabilities.
    pub fn new() -> Self {
        Plugin::default()
    }

    /// This plugin, converting queries with `handler`.
    pub fn with_query_conversion(mut self, handler: impl QueryConversionHandler + 'static) -> Self {
        self.query_conversion = Some(Arc::new(handler));
        self
    }
}

/// Routes a conversion request whose objects are query data requests to the
/// query conversion handler, as the Go SDK's conversion adapter does; hands
/// every other request back.
// The request comes back by value, untouched, so it is not boxed.
#[allow(clippy::result_large_err)]
pub(crate) fn convert_queries(
    plugin: &Plugin,
    request: ConversionRequest,
) -> Result<BoxFuture<'_, Result<ConversionResponse, Error>>, ConversionRequest> {
    let Some(handler) = plugin.query_conversion.as_deref() else {
        return Err(request);
    };
    let Some(requests) = conversion::query_data_requests(&request) else {
        return Err(request);
    };
    Ok(Box::pin(async move {
        let mut queries = Vec::new();
        let mut result = None;
        for request in requests {
            let converted = handler.convert_query_data_request(request).await?;
            queries.extend(converted.queries);
            result = result.or(converted.result);
        }
        let mut response =
            ConversionResponse::new(request.uid, conversion::query_objects(&queries)?);
        response.result = result;
        Ok(response)
    }))
}

impl fmt::Debug for Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("endpoints", &self.endpoints)
            .field("query_conversion", &self.query_conversion.is_some())
            .finish()
    }
}

impl Handler for Plugin {
    fn call<E: Rpc>(
        &self,
        request: E::Request,
    ) -> impl Future<Output = Result<E::Response, Error>> + Send {
        E::call_plugin(self, request)
    }

    fn implements(&self, endpoint: Endpoint) -> bool {
        match endpoint {
            // Answered from the process's default registry without one.
            Endpoint::CollectMetrics => true,
            Endpoint::ConvertObjects => {
                self.query_conversion.is_some() || self.endpoints.has(endpoint)
            }
            endpoint => self.endpoints.has(endpoint),
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
