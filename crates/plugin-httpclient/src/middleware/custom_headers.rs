//! Custom headers from the data source settings (`httpHeaderNameN` /
//! `httpHeaderValueN`): each replaces any value of the same name already on
//! the request. `Host` sets the request's host, as in Go.

use std::task::{Context, Poll};

use http::{HeaderMap, Request};
use tower_layer::Layer;
use tower_service::Service;

use crate::options::HttpClientOptions;

/// Layer setting custom headers; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct CustomHeadersLayer {
    headers: HeaderMap,
}

impl CustomHeadersLayer {
    /// Sets `headers` on every request.
    pub fn new(headers: HeaderMap) -> Self {
        Self { headers }
    }

    /// From [`HttpClientOptions::headers`].
    pub fn from_options(options: &HttpClientOptions) -> Self {
        Self::new(options.headers.clone())
    }
}

impl<S> Layer<S> for CustomHeadersLayer {
    type Service = CustomHeadersService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CustomHeadersService {
            inner,
            headers: self.headers.clone(),
        }
    }
}

/// Service produced by [`CustomHeadersLayer`].
#[derive(Clone, Debug)]
pub struct CustomHeadersService<S> {
    inner: S,
    headers: HeaderMap,
}

impl<S, B> Service<Request<B>> for CustomHeadersService<S>
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
        let target = request.headers_mut();
        for name in self.headers.keys() {
            // The legacy client keeps an existing Host header, which is how
            // a custom `Host` reaches the wire.
            target.remove(name);
            for value in self.headers.get_all(name) {
                target.append(name.clone(), value.clone());
            }
        }
        self.inner.call(request)
    }
}
