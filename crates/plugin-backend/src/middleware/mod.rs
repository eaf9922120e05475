//! Handler middleware: code that runs around every call of a [`Handler`].
//!
//! A middleware implements one trait, [`Middleware`], whose one method,
//! [`Middleware::call`], is generic over the endpoint ([`Rpc`]): it sees the
//! endpoint ([`Rpc::ENDPOINT`]), the request's [`PluginContext`]
//! ([`Rpc::plugin_context`]) and the result, and forwards to the next
//! handler by default. So a middleware is written once, for every
//! endpoint; it treats one endpoint specially by type
//! ([`rpc::downcast_ref`]). [`Layered`] is a
//! handler wrapped in a middleware, and each middleware value is also a
//! [`tower_layer::Layer`] from handler to handler.
//!
//! Ordinary tower middleware (`tower::timeout`, a concurrency limit,
//! tower-http's tracing) applies through [`TowerLayer`], which presents the
//! handler as a `tower::Service<AnyRequest>`, optionally for some endpoints
//! only; [`EndpointService`] is one endpoint of a handler as a
//! `tower::Service` of its request.
//!
//! The SDK's middleware, one module each:
//!
//! | middleware (and layer) | handler alias | what it does |
//! |---|---|---|
//! | [`LoggingLayer`] | [`Logging`] | a `plugin_request` span with the Go SDK's contextual keys (`pluginId`, `pluginVersion`, `endpoint`, `dsName`, `dsUid`, `uname`) and Go's `Plugin Request Started` / `Plugin Request Completed` events with `status`, `duration`, `statusSource`; never a request body, setting or secret |
//! | [`MetricsLayer`] | [`Metrics`] | `grafana_plugin_request_total{endpoint,status,status_source}` and `grafana_plugin_request_duration_seconds` in a Prometheus registry |
//! | [`ErrorSourceLayer`] | [`WithErrorSource`] | attributes errors: timeouts and connection failures are downstream, other failed queries are the plugin's; fills in missing query statuses |
//! | [`CatchPanicLayer`] | [`CatchPanic`] | turns a panicking handler into an error (`panic triggered: …`) so the process lives |
//! | [`OutgoingLayer`] | [`WithOutgoingContext`] | runs the call in its [`OutgoingContext`](crate::outgoing::OutgoingContext): forwarded headers, endpoint, user agent and Grafana config for the plugin's outgoing clients |
//!
//! # Order
//!
//! [`HandlerBuilder`] applies layers like tower's `ServiceBuilder`: the
//! **first layer added is the outermost**, the one that sees a request
//! first and its answer last. [`HandlerBuilder::with_default_layers`] uses
//!
//! ```text
//! Logging → Metrics → ErrorSource → CatchPanic → Outgoing → the plugin's handler
//! ```
//!
//! so that the span covers everything, the metrics see the final error
//! source, error sources are filled in before metrics and logs read them,
//! a panic becomes an ordinary error before anything else looks at it, and
//! the handler runs in its outgoing context.
//!
//! ```
//! use plugin_backend::middleware::{CatchPanicLayer, HandlerBuilder, LoggingLayer};
//! use plugin_backend::{Handler, Plugin};
//!
//! let handler = HandlerBuilder::new()
//!     .layer(LoggingLayer::new())
//!     .layer(CatchPanicLayer::new())
//!     .handler(Plugin::new());
//! # fn is_handler(_: &impl Handler) {}
//! # is_handler(&handler);
//! ```

pub mod error_source;
pub mod logging;
pub mod metrics;
pub mod outgoing;
pub mod panic;
mod tower;

use std::fmt;
use std::future::Future;

use tower_layer::{Identity, Layer, Stack};

pub use self::error_source::{ErrorSourceLayer, WithErrorSource};
pub use self::logging::{Logging, LoggingLayer};
pub use self::metrics::{Metrics, MetricsLayer};
pub use self::outgoing::{OutgoingLayer, WithOutgoingContext};
pub use self::panic::{CatchPanic, CatchPanicLayer};
pub use self::tower::{EndpointService, HandlerService, TowerHandler, TowerLayer};
#[cfg(doc)]
use crate::context::PluginContext;
use crate::data::QueryDataResponse;
use crate::error::{Error, ErrorSource};
use crate::handler::Handler;
use crate::rpc::{self, Endpoint, Rpc};

/// Code that runs around every call of a handler; see the
/// [module docs](self).
///
/// ```
/// use plugin_backend::middleware::{HandlerBuilder, Middleware, Next};
/// use plugin_backend::rpc::Rpc;
/// use plugin_backend::{Error, Handler, Plugin};
///
/// /// Refuses calls without a user.
/// #[derive(Clone)]
/// struct RequireUser;
///
/// impl Middleware for RequireUser {
///     async fn call<E: Rpc, H: Handler>(
///         &self,
///         request: E::Request,
///         next: Next<'_, H>,
///     ) -> Result<E::Response, Error> {
///         if E::plugin_context(&request).user.is_none() {
///             return Err(Error::plugin(format!("{} needs a user", E::ENDPOINT)));
///         }
///         next.call::<E>(request).await
///     }
/// }
///
/// let handler = HandlerBuilder::new().middleware(RequireUser).handler(Plugin::new());
/// # fn is_handler(_: &impl Handler) {}
/// # is_handler(&handler);
/// ```
pub trait Middleware: Send + Sync {
    /// Answers one call of endpoint `E`, usually by calling `next` (which
    /// is what the default does).
    fn call<E: Rpc, H: Handler>(
        &self,
        request: E::Request,
        next: Next<'_, H>,
    ) -> impl Future<Output = Result<E::Response, Error>> + Send {
        next.call::<E>(request)
    }
}

/// The rest of the chain, as a [`Middleware`] sees it.
#[derive(Debug)]
pub struct Next<'a, H> {
    inner: &'a H,
}

impl<H> Clone for Next<'_, H> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<H> Copy for Next<'_, H> {}

impl<'a, H: Handler> Next<'a, H> {
    /// Passes the call on.
    pub fn call<E: Rpc>(
        self,
        request: E::Request,
    ) -> impl Future<Output = Result<E::Response, Error>> + Send + 'a {
        self.inner.call::<E>(request)
    }

    /// The next handler.
    pub fn handler(self) -> &'a H {
        self.inner
    }
}

/// A handler wrapped in a middleware.
#[derive(Debug, Clone)]
pub struct Layered<M, H> {
    middleware: M,
    inner: H,
}

impl<M, H> Layered<M, H> {
    /// `inner`, wrapped in `middleware`.
    pub fn new(middleware: M, inner: H) -> Self {
        Layered { middleware, inner }
    }

    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }

    /// The middleware.
    pub fn middleware(&self) -> &M {
        &self.middleware
    }
}

impl<M: Middleware, H: Handler> Handler for Layered<M, H> {
    fn call<E: Rpc>(
        &self,
        request: E::Request,
    ) -> impl Future<Output = Result<E::Response, Error>> + Send {
        self.middleware
            .call::<E, H>(request, Next { inner: &self.inner })
    }

    fn implements(&self, endpoint: Endpoint) -> bool {
        self.inner.implements(endpoint)
    }
}

/// A [`Middleware`] as a [`Layer`] (see [`HandlerBuilder::middleware`]).
#[derive(Debug, Clone)]
pub struct MiddlewareLayer<M>(pub M);

impl<M: Clone, H> Layer<H> for MiddlewareLayer<M> {
    type Service = Layered<M, H>;

    fn layer(&self, inner: H) -> Layered<M, H> {
        Layered::new(self.0.clone(), inner)
    }
}

/// The SDK's middleware are layers themselves.
macro_rules! middleware_layers {
    ($($middleware:ty),+) => {$(
        impl<H> Layer<H> for $middleware {
            type Service = Layered<$middleware, H>;

            fn layer(&self, inner: H) -> Self::Service {
                Layered::new(self.clone(), inner)
            }
        }
    )+};
}

middleware_layers!(
    LoggingLayer,
    MetricsLayer,
    ErrorSourceLayer,
    CatchPanicLayer,
    OutgoingLayer
);

/// The layers of [`HandlerBuilder::with_default_layers`], innermost first.
pub type DefaultLayers = Stack<
    OutgoingLayer,
    Stack<
        CatchPanicLayer,
        Stack<ErrorSourceLayer, Stack<MetricsLayer, Stack<LoggingLayer, Identity>>>,
    >,
>;

/// A handler wrapped in the default layers.
pub type DefaultHandler<H> = Logging<Metrics<WithErrorSource<CatchPanic<WithOutgoingContext<H>>>>>;

/// Composes layers around a [`Handler`]; the first layer added is the
/// outermost.
#[derive(Clone)]
pub struct HandlerBuilder<L> {
    layer: L,
}

impl HandlerBuilder<Identity> {
    /// A builder with no layers.
    pub fn new() -> Self {
        HandlerBuilder {
            layer: Identity::new(),
        }
    }

    /// A builder with the SDK's default layers, in the documented
    /// [order](self#order): logging, metrics (in the default Prometheus
    /// registry), error source, panic recovery, outgoing context.
    pub fn with_default_layers() -> HandlerBuilder<DefaultLayers> {
        HandlerBuilder::new()
            .layer(LoggingLayer::new())
            .layer(MetricsLayer::new())
            .layer(ErrorSourceLayer::new())
            .layer(CatchPanicLayer::new())
            .layer(OutgoingLayer::new())
    }
}

impl Default for HandlerBuilder<Identity> {
    fn default() -> Self {
        HandlerBuilder::new()
    }
}

impl<L> HandlerBuilder<L> {
    /// Adds `layer` inside the layers added so far: one of the SDK's
    /// middleware, a [`TowerLayer`], or any layer from handler to handler.
    pub fn layer<T>(self, layer: T) -> HandlerBuilder<Stack<T, L>> {
        HandlerBuilder {
            layer: Stack::new(layer, self.layer),
        }
    }

    /// Adds `middleware` inside the layers added so far.
    pub fn middleware<M: Middleware + Clone>(
        self,
        middleware: M,
    ) -> HandlerBuilder<Stack<MiddlewareLayer<M>, L>> {
        self.layer(MiddlewareLayer(middleware))
    }

    /// Wraps `handler` in the layers.
    pub fn handler<H>(&self, handler: H) -> L::Service
    where
        L: Layer<H>,
        L::Service: Handler,
    {
        self.layer.layer(handler)
    }
}

impl<L: fmt::Debug> fmt::Debug for HandlerBuilder<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerBuilder")
            .field("layer", &self.layer)
            .finish()
    }
}

/// How a request ended, as logs and metrics report it (`status` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RequestStatus {
    /// The request succeeded.
    Ok,
    /// The caller went away before the request finished.
    Cancelled,
    /// The request, or one of its queries, failed.
    Error,
}

impl RequestStatus {
    /// `ok`, `cancelled` or `error`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Ok => "ok",
            RequestStatus::Cancelled => "cancelled",
            RequestStatus::Error => "error",
        }
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status and status source of a finished request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub(crate) status: RequestStatus,
    pub(crate) source: ErrorSource,
}

impl Outcome {
    const OK: Outcome = Outcome {
        status: RequestStatus::Ok,
        source: ErrorSource::Plugin,
    };

    /// A request dropped before it finished. Cancellation comes from the
    /// caller, so it counts as downstream, as in the Go SDK.
    pub(crate) const CANCELLED: Outcome = Outcome {
        status: RequestStatus::Cancelled,
        source: ErrorSource::Downstream,
    };
}

/// How a call ended: `Outcome::OK` unless it failed or, for query data,
/// one of its queries failed.
pub(crate) fn outcome<T: 'static>(result: &Result<T, Error>) -> Outcome {
    match result {
        Ok(response) => match rpc::downcast_ref::<T, QueryDataResponse>(response) {
            Some(response) => query_data_outcome(response),
            None => Outcome::OK,
        },
        Err(error) => Outcome {
            status: RequestStatus::Error,
            source: error.error_source().unwrap_or(ErrorSource::Plugin),
        },
    }
}

/// A query data request failed if any query failed. Its source is
/// downstream only when every failed query is downstream's: a plugin error
/// outranks downstream errors, as in the Go SDK.
fn query_data_outcome(response: &QueryDataResponse) -> Outcome {
    let mut failed = false;
    let mut plugin_failed = false;
    for response in response
        .responses
        .values()
        .filter(|response| response.error.is_some())
    {
        failed = true;
        let source = response
            .error_source
            .or_else(|| response.error.as_ref()?.error_source());
        plugin_failed |= source != Some(ErrorSource::Downstream);
    }
    match (failed, plugin_failed) {
        (false, _) => Outcome::OK,
        (true, true) => Outcome {
            status: RequestStatus::Error,
            source: ErrorSource::Plugin,
        },
        (true, false) => Outcome {
            status: RequestStatus::Error,
            source: ErrorSource::Downstream,
        },
    }
}
