//! Forwarding of the incoming Grafana request's identity headers
//! (`Authorization`, `X-Id-Token`, `Cookie`, carried by
//! [`ForwardedHeaders`]) when
//! [`HttpClientOptions::forward_http_headers`] is on. A header the outgoing
//! request already has is never replaced.

use std::task::{Context, Poll};

use http::Request;
use tower_layer::Layer;
use tower_service::Service;

use crate::{extensions::ForwardedHeaders, options::HttpClientOptions};

/// Layer forwarding incoming headers; see the [module docs](self).
#[derive(Clone, Copy, Debug)]
pub struct ForwardHeadersLayer {
    enabled: bool,
}

impl ForwardHeadersLayer {
    /// Forwards when `enabled`.
    pub fn new(enabled: bool) -> Self {
        Self { enabled }
    }

    /// From [`HttpClientOptions::forward_http_headers`].
    pub fn from_options(options: &HttpClientOptions) -> Self {
        Self::new(options.forward_http_headers)
    }
}

impl<S> Layer<S> for ForwardHeadersLayer {
    type Service = ForwardHeadersService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ForwardHeadersService {
            inner,
            enabled: self.enabled,
        }
    }
}

/// Service produced by [`ForwardHeadersLayer`].
#[derive(Clone, Debug)]
pub struct ForwardHeadersService<S> {
    inner: S,
    enabled: bool,
}

impl<S, B> Service<Request<B>> for ForwardHeadersService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        if self.enabled
            && let Some(ForwardedHeaders(forwarded)) =
                request.extensions_mut().remove::<ForwardedHeaders>()
        {
            let headers = request.headers_mut();
            for name in forwarded.keys() {
                if !headers.contains_key(name) {
                    for value in forwarded.get_all(name) {
                        headers.append(name.clone(), value.clone());
                    }
                }
            }
        }
        self.inner.call(request)
    }
}
