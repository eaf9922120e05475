//! The outgoing-request middleware: tower layers, and the named, ordered
//! [`MiddlewareStack`] a client is built with.
//!
//! The default stack, outermost first, is the Go SDK's:
//!
//! | name | layer |
//! |---|---|
//! | [`TRACING`] | [`tracing::TracingLayer`] |
//! | [`DATASOURCE_METRICS`] | [`metrics::DataSourceMetricsLayer`] |
//! | [`BASIC_AUTH`] | [`basic_auth::BasicAuthLayer`] |
//! | [`CUSTOM_HEADERS`] | [`custom_headers::CustomHeadersLayer`] |
//! | [`USER_AGENT`] | [`user_agent::UserAgentLayer`] |
//! | [`FORWARD_HTTP_HEADERS`] | [`forward_headers::ForwardHeadersLayer`] |
//! | [`ERROR_SOURCE`] | [`error_source::ErrorSourceLayer`] |
//! | [`RESPONSE_LIMIT`] | [`response_limit::ResponseLimitLayer`] |
//!
//! [`HttpClientBuilder::build`](crate::HttpClientBuilder::build) adds two
//! more when the options ask for them and the stack has none of that name:
//! [`OAUTH2`] (`oauth2::OAuth2Layer`, feature `oauth2`) just inside
//! [`BASIC_AUTH`], and [`SIGV4`] (`sigv4::SigV4Layer`, feature `sigv4`)
//! innermost, so the signature covers the request as sent.
//!
//! Below the stack, the client applies the request timeout and sends the
//! request. Every layer works on `Request<Body>` → `Response<Body>` with
//! this crate's [`Error`], so plugins can add their own with
//! [`Middleware::new`] and remove or reorder the defaults by name.

pub mod basic_auth;
pub mod custom_headers;
pub mod error_source;
pub mod forward_headers;
pub mod metrics;
#[cfg(feature = "oauth2")]
#[cfg_attr(docsrs, doc(cfg(feature = "oauth2")))]
pub mod oauth2;
pub mod response_limit;
#[cfg(feature = "sigv4")]
#[cfg_attr(docsrs, doc(cfg(feature = "sigv4")))]
pub mod sigv4;
pub mod tracing;
pub mod user_agent;

use std::{borrow::Cow, fmt, sync::Arc};

use http::{Request, Response};
use tower::util::BoxCloneSyncService;
use tower_layer::Layer;
use tower_service::Service;

use crate::{body::Body, error::Error, options::HttpClientOptions};

/// Name of the tracing middleware.
pub const TRACING: &str = "Tracing";
/// Name of the data source metrics middleware.
pub const DATASOURCE_METRICS: &str = "datasource_metrics";
/// Name of the basic authentication middleware.
pub const BASIC_AUTH: &str = "BasicAuth";
/// Name of the custom headers middleware.
pub const CUSTOM_HEADERS: &str = "CustomHeaders";
/// Name of the user agent middleware.
pub const USER_AGENT: &str = "UserAgent";
/// Name of the header forwarding middleware (the Go SDK's contextual
/// middleware slot).
pub const FORWARD_HTTP_HEADERS: &str = "ForwardHTTPHeaders";
/// Name of the error source middleware.
pub const ERROR_SOURCE: &str = "ErrorSource";
/// Name of the response limit middleware.
pub const RESPONSE_LIMIT: &str = "response-limit";
/// Name of the OAuth 2.0 client-credentials middleware.
pub const OAUTH2: &str = "OAuth2";
/// Name of the AWS SigV4 signing middleware (Grafana's `sigv4` middleware).
pub const SIGV4: &str = "SigV4";

/// The type-erased service every middleware wraps and returns.
pub type HttpService = BoxCloneSyncService<Request<Body>, Response<Body>, Error>;

/// A named layer in a [`MiddlewareStack`].
#[derive(Clone)]
pub struct Middleware {
    name: Cow<'static, str>,
    wrap: Arc<dyn Fn(HttpService) -> HttpService + Send + Sync>,
}

impl Middleware {
    /// Names a tower layer over [`HttpService`].
    pub fn new<L>(name: impl Into<Cow<'static, str>>, layer: L) -> Self
    where
        L: Layer<HttpService> + Send + Sync + 'static,
        L::Service: Service<Request<Body>, Response = Response<Body>, Error = Error>
            + Clone
            + Send
            + Sync
            + 'static,
        <L::Service as Service<Request<Body>>>::Future: Send + 'static,
    {
        Self {
            name: name.into(),
            wrap: Arc::new(move |inner| BoxCloneSyncService::new(layer.layer(inner))),
        }
    }

    /// The middleware's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for Middleware {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Middleware").field(&self.name).finish()
    }
}

/// An ordered list of named middleware, outermost first.
#[derive(Clone, Debug, Default)]
pub struct MiddlewareStack {
    middleware: Vec<Middleware>,
}

impl MiddlewareStack {
    /// An empty stack.
    pub fn new() -> Self {
        Self::default()
    }

    /// The Go SDK's default middleware, configured from `options`.
    pub fn defaults(options: &HttpClientOptions) -> Self {
        let mut stack = Self::new();
        stack
            .push(Middleware::new(
                TRACING,
                tracing::TracingLayer::from_options(options),
            ))
            .push(Middleware::new(
                DATASOURCE_METRICS,
                metrics::DataSourceMetricsLayer::from_options(options),
            ))
            .push(Middleware::new(
                BASIC_AUTH,
                basic_auth::BasicAuthLayer::from_options(options),
            ))
            .push(Middleware::new(
                CUSTOM_HEADERS,
                custom_headers::CustomHeadersLayer::from_options(options),
            ))
            .push(Middleware::new(
                USER_AGENT,
                user_agent::UserAgentLayer::from_options(options),
            ))
            .push(Middleware::new(
                FORWARD_HTTP_HEADERS,
                forward_headers::ForwardHeadersLayer::from_options(options),
            ))
            .push(Middleware::new(
                ERROR_SOURCE,
                error_source::ErrorSourceLayer::new(),
            ))
            .push(Middleware::new(
                RESPONSE_LIMIT,
                response_limit::ResponseLimitLayer::from_options(options),
            ));
        stack
    }

    /// Adds `middleware` innermost (closest to the network).
    pub fn push(&mut self, middleware: Middleware) -> &mut Self {
        self.middleware.push(middleware);
        self
    }

    /// Adds `middleware` outermost (first to see the request).
    pub fn push_outermost(&mut self, middleware: Middleware) -> &mut Self {
        self.middleware.insert(0, middleware);
        self
    }

    /// Inserts `middleware` just outside the one named `anchor`.
    pub fn insert_before(
        &mut self,
        anchor: &str,
        middleware: Middleware,
    ) -> Result<&mut Self, Error> {
        let index = self.position(anchor)?;
        self.middleware.insert(index, middleware);
        Ok(self)
    }

    /// Inserts `middleware` just inside the one named `anchor`.
    pub fn insert_after(
        &mut self,
        anchor: &str,
        middleware: Middleware,
    ) -> Result<&mut Self, Error> {
        let index = self.position(anchor)?;
        self.middleware.insert(index + 1, middleware);
        Ok(self)
    }

    /// Removes the middleware named `name`, returning it if present.
    pub fn remove(&mut self, name: &str) -> Option<Middleware> {
        let index = self
            .middleware
            .iter()
            .position(|middleware| middleware.name() == name)?;
        Some(self.middleware.remove(index))
    }

    /// Whether a middleware named `name` is in the stack.
    pub fn contains(&self, name: &str) -> bool {
        self.middleware
            .iter()
            .any(|middleware| middleware.name() == name)
    }

    /// The names, outermost first.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.middleware.iter().map(Middleware::name)
    }

    fn position(&self, name: &str) -> Result<usize, Error> {
        self.middleware
            .iter()
            .position(|middleware| middleware.name() == name)
            .ok_or_else(|| Error::MiddlewareStack(format!("no middleware named `{name}`")))
    }

    /// Wraps `service` in the stack, after checking names are unique.
    pub(crate) fn wrap(&self, service: HttpService) -> Result<HttpService, Error> {
        for (index, middleware) in self.middleware.iter().enumerate() {
            if self.middleware[..index]
                .iter()
                .any(|earlier| earlier.name == middleware.name)
            {
                return Err(Error::MiddlewareStack(format!(
                    "middleware with name `{}` already exists",
                    middleware.name
                )));
            }
        }
        Ok(self
            .middleware
            .iter()
            .rev()
            .fold(service, |inner, middleware| (middleware.wrap)(inner)))
    }
}
