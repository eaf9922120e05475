//! Basic authentication: sets `Authorization: Basic ...` on requests that do
//! not carry an `Authorization` header already (an explicit or forwarded
//! credential wins, as in the Go SDK).

use std::task::{Context, Poll};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use http::{HeaderValue, Request, header::AUTHORIZATION};
use tower_layer::Layer;
use tower_service::Service;

use crate::options::{BasicAuth, HttpClientOptions};

/// Layer adding basic authentication; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct BasicAuthLayer {
    header: Option<HeaderValue>,
}

impl BasicAuthLayer {
    /// Authenticates with `credentials`.
    pub fn new(credentials: &BasicAuth) -> Self {
        let encoded = STANDARD.encode(format!(
            "{}:{}",
            credentials.user,
            credentials.password.expose()
        ));
        // Base64 output is always a valid header value.
        let header = HeaderValue::from_str(&format!("Basic {encoded}"))
            .ok()
            .map(|mut value| {
                value.set_sensitive(true);
                value
            });
        Self { header }
    }

    /// The `Authorization` value this layer sets, if any.
    #[cfg_attr(not(feature = "reqwest"), allow(dead_code))]
    pub(crate) fn header(&self) -> Option<HeaderValue> {
        self.header.clone()
    }

    /// From [`HttpClientOptions::basic_auth`]; passes requests through
    /// unchanged when it is `None`.
    pub fn from_options(options: &HttpClientOptions) -> Self {
        match &options.basic_auth {
            Some(credentials) => Self::new(credentials),
            None => Self { header: None },
        }
    }
}

impl<S> Layer<S> for BasicAuthLayer {
    type Service = BasicAuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BasicAuthService {
            inner,
            header: self.header.clone(),
        }
    }
}

/// Service produced by [`BasicAuthLayer`].
#[derive(Clone, Debug)]
pub struct BasicAuthService<S> {
    inner: S,
    header: Option<HeaderValue>,
}

impl<S, B> Service<Request<B>> for BasicAuthService<S>
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
        if let Some(header) = &self.header
            && !request.headers().contains_key(AUTHORIZATION)
        {
            request.headers_mut().insert(AUTHORIZATION, header.clone());
        }
        self.inner.call(request)
    }
}
