//! Handler middleware: layers that wrap every endpoint of a [`Handler`].
//!
//! Each middleware is a [`tower_layer::Layer`] that turns a `Handler` into
//! another `Handler`, one module per middleware:
//!
//! | layer | handler | what it does |
//! |---|---|---|
//! | [`LoggingLayer`] | [`Logging`] | a `plugin_request` span (endpoint, plugin id and version, org, data source uid and name, user login) and `request started` / `request completed` events with status, status source and duration; never a request body, setting or secret |
//! | [`MetricsLayer`] | [`Metrics`] | `grafana_plugin_request_total{endpoint,status,status_source}` and `grafana_plugin_request_duration_seconds` in a Prometheus registry |
//! | [`ErrorSourceLayer`] | [`WithErrorSource`] | attributes errors: timeouts and connection failures are downstream, other failed queries are the plugin's; fills in missing query statuses |
//! | [`CatchPanicLayer`] | [`CatchPanic`] | turns a panicking handler into an error (`panic triggered: …`) so the process lives |
//!
//! # Order
//!
//! [`HandlerBuilder`] applies layers like tower's `ServiceBuilder`: the
//! **first layer added is the outermost**, the one that sees a request
//! first and its answer last. [`HandlerBuilder::with_default_layers`] uses
//!
//! ```text
//! Logging → Metrics → ErrorSource → CatchPanic → the plugin's handler
//! ```
//!
//! so that the span covers everything, the metrics see the final error
//! source, error sources are filled in before metrics and logs read them,
//! and a panic becomes an ordinary error before anything else looks at it.
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
pub mod panic;

use std::fmt;

use tower_layer::{Identity, Layer, Stack};

pub use self::error_source::{ErrorSourceLayer, WithErrorSource};
pub use self::logging::{Logging, LoggingLayer};
pub use self::metrics::{Metrics, MetricsLayer};
pub use self::panic::{CatchPanic, CatchPanicLayer};
use crate::admission::{MutationResponse, ValidationResponse};
use crate::conversion::ConversionResponse;
use crate::data::QueryDataResponse;
use crate::diagnostics::{CheckHealthResult, CollectMetricsResult};
use crate::error::{Error, ErrorSource};
use crate::handler::Handler;
use crate::stream::{PublishStreamResponse, SubscribeStreamResponse};

/// The layers of [`HandlerBuilder::with_default_layers`], outermost first.
pub type DefaultLayers = Stack<
    CatchPanicLayer,
    Stack<ErrorSourceLayer, Stack<MetricsLayer, Stack<LoggingLayer, Identity>>>,
>;

/// A handler wrapped in the default layers.
pub type DefaultHandler<H> = Logging<Metrics<WithErrorSource<CatchPanic<H>>>>;

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
    /// registry), error source, panic recovery.
    pub fn with_default_layers() -> HandlerBuilder<DefaultLayers> {
        HandlerBuilder::new()
            .layer(LoggingLayer::new())
            .layer(MetricsLayer::new())
            .layer(ErrorSourceLayer::new())
            .layer(CatchPanicLayer::new())
    }
}

impl Default for HandlerBuilder<Identity> {
    fn default() -> Self {
        HandlerBuilder::new()
    }
}

impl<L> HandlerBuilder<L> {
    /// Adds `layer` inside the layers added so far.
    pub fn layer<T>(self, layer: T) -> HandlerBuilder<Stack<T, L>> {
        HandlerBuilder {
            layer: Stack::new(layer, self.layer),
        }
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

/// Anything an endpoint can answer with, judged for logs and metrics.
pub(crate) trait Observe {
    /// How the request went.
    fn outcome(&self) -> Outcome;
}

impl<T: Observe> Observe for Result<T, Error> {
    fn outcome(&self) -> Outcome {
        match self {
            Ok(response) => response.outcome(),
            Err(error) => Outcome {
                status: RequestStatus::Error,
                source: error.error_source().unwrap_or(ErrorSource::Plugin),
            },
        }
    }
}

/// Successful answers of these endpoints are always `ok`.
macro_rules! always_ok {
    ($($response:ty),+ $(,)?) => {$(
        impl Observe for $response {
            fn outcome(&self) -> Outcome {
                Outcome::OK
            }
        }
    )+};
}

always_ok!(
    (),
    CheckHealthResult,
    CollectMetricsResult,
    SubscribeStreamResponse,
    PublishStreamResponse,
    ValidationResponse,
    MutationResponse,
    ConversionResponse,
);

impl Observe for QueryDataResponse {
    /// A query data request failed if any query failed. Its source is
    /// downstream only when every failed query is downstream's: a plugin
    /// error outranks downstream errors, as in the Go SDK.
    fn outcome(&self) -> Outcome {
        let mut failed = false;
        let mut plugin_failed = false;
        for response in self
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
}
