//! Tracing: one `HTTP Outgoing Request` span per request (span kind
//! client), with the data source labels, method, URL (without query string
//! or credentials, which often hold API keys) and response status as
//! fields, and trace-context propagation headers injected by a
//! [`TracePropagator`].
//!
//! The `tracing` crate has no notion of a trace ID on the wire, so
//! propagation is pluggable. With feature `otel` the default is
//! [`OtelPropagator`]: the span's OpenTelemetry context written by the
//! process's global propagator, as the Go SDK's tracing middleware does
//! with `otel.GetTextMapPropagator()` (`backend/httpclient/tracing_middleware.go`).
//! Without the feature, and without a propagator, no headers are added.

use std::{
    fmt,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use http::{HeaderMap, Request, Response, Uri};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;
use tracing::{Span, field::Empty};

use crate::{
    body::Body,
    error::Error,
    options::{DataSourceLabels, HttpClientOptions},
};

/// The span name, as in the Go SDK.
pub const SPAN_NAME: &str = "HTTP Outgoing Request";

/// Writes trace-context headers (for example W3C `traceparent`) for the
/// current request's span into the outgoing headers.
pub trait TracePropagator: fmt::Debug + Send + Sync + 'static {
    /// Injects the context of `span` into `headers`.
    fn inject(&self, span: &Span, headers: &mut HeaderMap);
}

/// Layer tracing requests; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct TracingLayer {
    labels: Arc<DataSourceLabels>,
    propagator: Option<Arc<dyn TracePropagator>>,
}

impl TracingLayer {
    /// Traces requests of the data source described by `labels`.
    pub fn new(labels: DataSourceLabels) -> Self {
        Self {
            labels: Arc::new(labels),
            propagator: None,
        }
    }

    /// From [`HttpClientOptions::labels`]; with feature `otel`, propagating
    /// with [`OtelPropagator`].
    pub fn from_options(options: &HttpClientOptions) -> Self {
        let layer = Self::new(options.labels.clone());
        #[cfg(feature = "otel")]
        let layer = layer.with_propagator(Arc::new(OtelPropagator));
        layer
    }

    /// Injects propagation headers with `propagator`.
    pub fn with_propagator(mut self, propagator: Arc<dyn TracePropagator>) -> Self {
        self.propagator = Some(propagator);
        self
    }
}

impl<S> Layer<S> for TracingLayer {
    type Service = TracingService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TracingService {
            inner,
            labels: self.labels.clone(),
            propagator: self.propagator.clone(),
        }
    }
}

/// Service produced by [`TracingLayer`].
#[derive(Clone, Debug)]
pub struct TracingService<S> {
    inner: S,
    labels: Arc<DataSourceLabels>,
    propagator: Option<Arc<dyn TracePropagator>>,
}

/// The URL without user info and query, safe to record.
fn loggable_url(uri: &Uri) -> String {
    let host = uri.host().unwrap_or_default();
    let port = uri
        .port()
        .map(|port| format!(":{port}"))
        .unwrap_or_default();
    match uri.scheme_str() {
        Some(scheme) => format!("{scheme}://{host}{port}{}", uri.path()),
        None => uri.path().to_owned(),
    }
}

impl<S, B> Service<Request<B>> for TracingService<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = Error>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = TracingFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let span = tracing::info_span!(
            SPAN_NAME,
            otel.kind = "client",
            otel.status_code = Empty,
            http.request.method = %request.method(),
            url.full = %loggable_url(request.uri()),
            http.response.status_code = Empty,
            http.response.content_length = Empty,
            datasource_name = %self.labels.name,
            datasource_uid = %self.labels.uid,
            datasource_type = %self.labels.data_source_type,
            error = Empty,
        );
        if let Some(propagator) = &self.propagator {
            propagator.inject(&span, request.headers_mut());
        }
        let inner = {
            let _entered = span.enter();
            self.inner.call(request)
        };
        TracingFuture { inner, span }
    }
}

pin_project! {
    /// Future of [`TracingService`].
    #[derive(Debug)]
    pub struct TracingFuture<F> {
        #[pin]
        inner: F,
        span: Span,
    }
}

impl<F> Future for TracingFuture<F>
where
    F: Future<Output = Result<Response<Body>, Error>>,
{
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = {
            let _entered = this.span.enter();
            std::task::ready!(this.inner.poll(cx))
        };
        match &result {
            Ok(response) => {
                let status = response.status();
                this.span
                    .record("http.response.status_code", status.as_u16());
                if let Some(length) = http_body::Body::size_hint(response.body())
                    .exact()
                    .filter(|&length| length > 0)
                {
                    this.span.record("http.response.content_length", length);
                }
                if status.is_client_error() || status.is_server_error() {
                    this.span.record("otel.status_code", "ERROR");
                    this.span.record(
                        "error",
                        format!("error with HTTP status code {}", status.as_u16()),
                    );
                }
            }
            Err(error) => {
                this.span.record("otel.status_code", "ERROR");
                this.span.record("error", tracing::field::display(error));
            }
        }
        Poll::Ready(result)
    }
}

/// Writes the span's OpenTelemetry context with the global text-map
/// propagator (`opentelemetry::global::get_text_map_propagator`).
///
/// The span has an OpenTelemetry context only when the process's `tracing`
/// subscriber has a `tracing-opentelemetry` layer (plugin-serve installs one
/// when Grafana enables tracing); otherwise nothing is written.
#[cfg(feature = "otel")]
#[cfg_attr(docsrs, doc(cfg(feature = "otel")))]
#[derive(Clone, Copy, Debug, Default)]
pub struct OtelPropagator;

#[cfg(feature = "otel")]
impl TracePropagator for OtelPropagator {
    fn inject(&self, span: &Span, headers: &mut HeaderMap) {
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;

        /// A `HeaderMap` as an OpenTelemetry carrier.
        struct Carrier<'a>(&'a mut HeaderMap);

        impl opentelemetry::propagation::Injector for Carrier<'_> {
            fn set(&mut self, key: &str, value: String) {
                if let (Ok(name), Ok(value)) = (
                    http::HeaderName::from_bytes(key.as_bytes()),
                    http::HeaderValue::from_str(&value),
                ) {
                    self.0.insert(name, value);
                }
            }
        }

        let context = span.context();
        opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.inject_context(&context, &mut Carrier(headers));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_url_drops_credentials_and_query() {
        let uri: Uri = "https://user:pw@api.example:8443/v1/query?api_key=secret"
            .parse()
            .unwrap();
        assert_eq!(loggable_url(&uri), "https://api.example:8443/v1/query");
    }
}
