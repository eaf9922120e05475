//! [`HttpClient`]: the middleware stack over a pooled hyper client.
//!
//! The layering, outermost first: the [`MiddlewareStack`], the request
//! timeout (headers and body share one deadline, like Go's
//! `http.Client.Timeout`), and the transport, which owns the connection
//! pool and the [`Connector`].

use std::{
    fmt,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::Duration,
};

use bytes::Bytes;
use http::{Request, Response, Uri, header::PROXY_AUTHORIZATION};
use http_body::Frame;
use http_body_util::BodyExt;
use hyper_util::{
    client::legacy::Client,
    rt::{TokioExecutor, TokioTimer},
};
use tokio::time::{Instant, Sleep};
use tower::{ServiceExt, util::BoxCloneSyncService};
use tower_service::Service;

use crate::{
    body::Body,
    connect::{ConnectFailure, Connector},
    error::{Error, TimeoutKind},
    middleware::{HttpService, MiddlewareStack},
    options::HttpClientOptions,
    proxy::ProxyResolver,
};

/// An HTTP client configured like a Grafana data source.
///
/// Cheap to clone (clones share the connection pool); build one per data
/// source instance. It is also a tower [`Service`], so it can be wrapped in
/// further layers.
#[derive(Clone)]
pub struct HttpClient {
    service: HttpService,
}

impl fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpClient").finish_non_exhaustive()
    }
}

impl HttpClient {
    /// A client with the default middleware.
    pub fn new(options: HttpClientOptions) -> Result<Self, Error> {
        Self::builder(options).build()
    }

    /// A builder, to change the middleware before building.
    pub fn builder(options: HttpClientOptions) -> HttpClientBuilder {
        let middleware = MiddlewareStack::defaults(&options);
        HttpClientBuilder {
            options,
            middleware,
        }
    }

    /// Sends a request and returns the response head; the body streams.
    pub async fn send<B: Into<Body>>(&self, request: Request<B>) -> Result<Response<Body>, Error> {
        self.service.clone().oneshot(request.map(Into::into)).await
    }

    /// Sends a `GET` request to `uri`.
    pub async fn get<U>(&self, uri: U) -> Result<Response<Body>, Error>
    where
        U: TryInto<Uri>,
        U::Error: fmt::Display,
    {
        let uri = uri
            .try_into()
            .map_err(|error| Error::InvalidRequest(format!("invalid URI: {error}")))?;
        let mut request = Request::new(Body::empty());
        *request.uri_mut() = uri;
        self.send(request).await
    }

    /// The client as a boxed tower service.
    pub fn into_service(self) -> HttpService {
        self.service
    }
}

impl Service<Request<Body>> for HttpClient {
    type Response = Response<Body>;
    type Error = Error;
    type Future = <HttpService as Service<Request<Body>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.service.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        self.service.call(request)
    }
}

/// Builds an [`HttpClient`]; see [`HttpClient::builder`].
#[derive(Debug)]
pub struct HttpClientBuilder {
    options: HttpClientOptions,
    middleware: MiddlewareStack,
}

impl HttpClientBuilder {
    /// The middleware stack, to add, remove or reorder layers by name.
    pub fn middleware_mut(&mut self) -> &mut MiddlewareStack {
        &mut self.middleware
    }

    /// Replaces the middleware stack.
    pub fn middleware(mut self, middleware: MiddlewareStack) -> Self {
        self.middleware = middleware;
        self
    }

    /// Builds the client. Fails on invalid TLS material, duplicate
    /// middleware names, or options this build cannot honour (a secure SOCKS
    /// proxy, SigV4 or OAuth2 without their features, SigV4 settings that
    /// cannot sign).
    ///
    /// With [`HttpClientOptions::oauth2`] it adds the
    /// [`OAUTH2`](crate::middleware::OAUTH2) middleware just inside
    /// [`BASIC_AUTH`](crate::middleware::BASIC_AUTH) (outermost without it); with
    /// [`HttpClientOptions::sigv4`] the [`SIGV4`](crate::middleware::SIGV4)
    /// middleware innermost; each unless the stack has one of that name.
    pub fn build(self) -> Result<HttpClient, Error> {
        let Self {
            options,
            mut middleware,
        } = self;
        let transport = Transport::new(&options)?;
        let timed = RequestTimeout {
            inner: transport,
            after: options.timeouts.request,
        };
        let transport = BoxCloneSyncService::new(timed);
        add_auth_middleware(&options, &mut middleware, &transport)?;
        let service = middleware.wrap(transport)?;
        Ok(HttpClient { service })
    }
}

/// The authentication middleware the options ask for; see
/// [`HttpClientBuilder::build`].
#[cfg_attr(not(feature = "oauth2"), allow(unused_variables))]
fn add_auth_middleware(
    options: &HttpClientOptions,
    middleware: &mut MiddlewareStack,
    transport: &HttpService,
) -> Result<(), Error> {
    use crate::middleware::{BASIC_AUTH, OAUTH2, SIGV4};

    if let Some(credentials) = &options.oauth2
        && !middleware.contains(OAUTH2)
    {
        #[cfg(feature = "oauth2")]
        {
            let layer = crate::middleware::Middleware::new(
                OAUTH2,
                crate::middleware::oauth2::OAuth2Layer::new(credentials.clone(), transport.clone()),
            );
            if middleware.contains(BASIC_AUTH) {
                middleware.insert_after(BASIC_AUTH, layer)?;
            } else {
                middleware.push_outermost(layer);
            }
        }
        #[cfg(not(feature = "oauth2"))]
        {
            let _ = (credentials, BASIC_AUTH);
            return Err(Error::invalid_setting(
                "oauth2",
                "this plugin was built without OAuth2 support (feature `oauth2` of plugin-httpclient)",
            ));
        }
    }
    if let Some(sigv4) = &options.sigv4
        && !middleware.contains(SIGV4)
    {
        #[cfg(feature = "sigv4")]
        middleware.push(crate::middleware::Middleware::new(
            SIGV4,
            crate::middleware::sigv4::SigV4Layer::new(sigv4)?,
        ));
        #[cfg(not(feature = "sigv4"))]
        {
            let _ = sigv4;
            return Err(Error::invalid_setting(
                "sigV4Auth",
                "this plugin was built without SigV4 support (feature `sigv4` of plugin-httpclient)",
            ));
        }
    }
    Ok(())
}

/// The innermost service: sends requests over pooled connections.
#[derive(Clone)]
struct Transport {
    client: Client<Connector, Body>,
    proxy: ProxyResolver,
}

impl Transport {
    fn new(options: &HttpClientOptions) -> Result<Self, Error> {
        let connector = Connector::new(options)?;
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(options.timeouts.idle_connection)
            .pool_max_idle_per_host(options.timeouts.effective_max_idle_per_host());
        Ok(Self {
            client: builder.build(connector),
            proxy: options.proxy.resolver(),
        })
    }
}

impl Service<Request<Body>> for Transport {
    type Response = Response<Body>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        // The pool queues requests itself.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        if request.uri().scheme_str() == Some("http") {
            // Plain HTTP goes to the proxy in absolute form, so the proxy's
            // credentials travel as a request header.
            if let Some(authorization) = self
                .proxy
                .route(request.uri())
                .and_then(|route| route.authorization)
            {
                request
                    .headers_mut()
                    .insert(PROXY_AUTHORIZATION, authorization);
            }
        }
        let response = self.client.request(request);
        Box::pin(async move {
            let response = response.await.map_err(transport_error)?;
            Ok(response.map(|incoming| Body::from_body(incoming.map_err(Error::http))))
        })
    }
}

/// Recovers the connector's own error from hyper-util's wrapper; anything
/// else is an HTTP-level failure.
fn transport_error(error: hyper_util::client::legacy::Error) -> Error {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&error);
    while let Some(cause) = next {
        if let Some(original) = cause
            .downcast_ref::<ConnectFailure>()
            .and_then(ConnectFailure::take)
        {
            return original;
        }
        next = cause.source();
    }
    Error::http(error)
}

/// Applies the request timeout to the response head and body together.
#[derive(Clone)]
struct RequestTimeout<S> {
    inner: S,
    after: Option<Duration>,
}

impl<S> Service<Request<Body>> for RequestTimeout<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Error>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let response = self.inner.call(request);
        let Some(after) = self.after else {
            return Box::pin(response);
        };
        let deadline = Instant::now() + after;
        Box::pin(async move {
            let timeout = || Error::Timeout {
                kind: TimeoutKind::Request,
                after,
            };
            let response = tokio::time::timeout_at(deadline, response)
                .await
                .map_err(|_| timeout())??;
            Ok(response.map(|body| {
                Body::from_body(DeadlineBody {
                    inner: body,
                    sleep: Box::pin(tokio::time::sleep_until(deadline)),
                    after,
                    expired: false,
                })
            }))
        })
    }
}

/// A body that fails with a request timeout once the deadline passes.
struct DeadlineBody {
    inner: Body,
    sleep: Pin<Box<Sleep>>,
    after: Duration,
    expired: bool,
}

impl http_body::Body for DeadlineBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        if self.expired {
            return Poll::Ready(None);
        }
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.sleep.as_mut().poll(cx).is_ready() {
            self.expired = true;
            return Poll::Ready(Some(Err(Error::Timeout {
                kind: TimeoutKind::Request,
                after: self.after,
            })));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.expired || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
