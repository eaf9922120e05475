//! Response size limit: a response body longer than the limit ends with
//! [`Error::ResponseTooLarge`] ("http: response body too large, response
//! limit is set to: N bytes") and a warning naming the data source.
//!
//! The limit for a request is, in order (`backend/httpclient/response_limit_middleware.go`):
//! the request's [`ResponseLimit`] extension, the `GF_RESPONSE_LIMIT` of the
//! handler call being served (its [`plugin_backend::outgoing`] scope),
//! [`HttpClientOptions::response_limit`] (the `GF_RESPONSE_LIMIT` the options
//! were built with), the `GF_DATAPROXY_RESPONSE_LIMIT` environment variable
//! read when the layer is built; otherwise there is none. Zero and negative
//! values mean "no limit" everywhere, as in Go.

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body::Frame;
use pin_project_lite::pin_project;
use plugin_backend::outgoing;
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    body::Body,
    error::Error,
    extensions::ResponseLimit,
    options::{DataSourceLabels, HttpClientOptions},
};

/// Environment variable read as the fallback limit, like the Go SDK.
pub const RESPONSE_LIMIT_ENV: &str = "GF_DATAPROXY_RESPONSE_LIMIT";

/// Layer limiting response sizes; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct ResponseLimitLayer {
    default_limit: Option<u64>,
    labels: Arc<DataSourceLabels>,
}

impl ResponseLimitLayer {
    /// Limits responses to `limit` bytes unless a request says otherwise.
    pub fn new(limit: Option<u64>, labels: DataSourceLabels) -> Self {
        Self {
            default_limit: limit.filter(|&limit| limit > 0),
            labels: Arc::new(labels),
        }
    }

    /// From [`HttpClientOptions::response_limit`], falling back to
    /// [`RESPONSE_LIMIT_ENV`].
    pub fn from_options(options: &HttpClientOptions) -> Self {
        let from_env = || {
            std::env::var(RESPONSE_LIMIT_ENV)
                .ok()
                .and_then(|value| value.trim().parse::<u64>().ok())
        };
        Self::new(
            options.response_limit.or_else(from_env),
            options.labels.clone(),
        )
    }
}

impl<S> Layer<S> for ResponseLimitLayer {
    type Service = ResponseLimitService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ResponseLimitService {
            inner,
            default_limit: self.default_limit,
            labels: self.labels.clone(),
        }
    }
}

/// Service produced by [`ResponseLimitLayer`].
#[derive(Clone, Debug)]
pub struct ResponseLimitService<S> {
    inner: S,
    default_limit: Option<u64>,
    labels: Arc<DataSourceLabels>,
}

impl<S, B> Service<Request<B>> for ResponseLimitService<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = Error>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = ResponseLimitFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let limit = request
            .extensions()
            .get::<ResponseLimit>()
            .map(|ResponseLimit(limit)| *limit)
            .filter(|&limit| limit > 0)
            .or_else(|| {
                // Go reads the limit of the request being handled; a
                // malformed value there means "none", as in Go, and the
                // client's own limit applies.
                outgoing::current()
                    .and_then(|context| context.grafana_config().response_limit().ok().flatten())
            })
            .or(self.default_limit);
        ResponseLimitFuture {
            inner: self.inner.call(request),
            limit: limit.map(|limit| (limit, self.labels.clone())),
        }
    }
}

pin_project! {
    /// Future of [`ResponseLimitService`].
    #[derive(Debug)]
    pub struct ResponseLimitFuture<F> {
        #[pin]
        inner: F,
        limit: Option<(u64, Arc<DataSourceLabels>)>,
    }
}

impl<F> Future for ResponseLimitFuture<F>
where
    F: Future<Output = Result<Response<Body>, Error>>,
{
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let Some((limit, labels)) = this.limit.take() else {
            return Poll::Ready(Ok(response));
        };
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            return Poll::Ready(Ok(response));
        }
        Poll::Ready(Ok(response.map(|body| {
            Body::from_body(LimitedBody {
                inner: body,
                remaining: limit,
                limit,
                labels,
                exceeded: false,
            })
        })))
    }
}

/// A body that fails once more than `limit` bytes have been read.
struct LimitedBody {
    inner: Body,
    remaining: u64,
    limit: u64,
    labels: Arc<DataSourceLabels>,
    exceeded: bool,
}

impl http_body::Body for LimitedBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.exceeded {
            return Poll::Ready(None);
        }
        let frame = match std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx)) {
            Some(Ok(frame)) => frame,
            other => return Poll::Ready(other),
        };
        let Some(data) = frame.data_ref() else {
            return Poll::Ready(Some(Ok(frame)));
        };
        let length = u64::try_from(data.len()).unwrap_or(u64::MAX);
        match self.remaining.checked_sub(length) {
            Some(remaining) => {
                self.remaining = remaining;
                Poll::Ready(Some(Ok(frame)))
            }
            None => {
                self.exceeded = true;
                tracing::warn!(
                    datasource_uid = %self.labels.uid,
                    datasource_name = %self.labels.name,
                    limit_bytes = self.limit,
                    "downstream response body exceeded limit"
                );
                Poll::Ready(Some(Err(Error::ResponseTooLarge { limit: self.limit })))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.exceeded || self.inner.is_end_stream()
    }
}
