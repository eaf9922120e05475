//! Handlers as tower services, and tower middleware around handlers.
//!
//! [`TowerLayer`] applies any [`tower_layer::Layer`] whose service answers
//! [`AnyRequest`]s (`tower::timeout::TimeoutLayer`,
//! `tower::limit::GlobalConcurrencyLimitLayer`, tower-http's `TraceLayer`,
//! …) to a handler, for every endpoint or for some. The layer is applied
//! once, when the handler is built, so state such as a concurrency limit's
//! semaphore is shared by every call. [`EndpointService`] is one endpoint
//! of a handler as a `tower::Service` of that endpoint's request.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::future::{BoxFuture, poll_fn};
use tower_layer::Layer;
use tower_service::Service;

use crate::error::{BoxError, Error};
use crate::handler::Handler;
use crate::rpc::{AnyRequest, AnyResponse, Endpoint, Rpc};

/// A handler as a `tower::Service<AnyRequest>`: what a [`TowerLayer`]'s
/// layer wraps. Cloning is cheap: clones share the handler.
pub struct HandlerService<H> {
    handler: Arc<H>,
}

impl<H> Clone for HandlerService<H> {
    fn clone(&self) -> Self {
        HandlerService {
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<H> fmt::Debug for HandlerService<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerService").finish_non_exhaustive()
    }
}

impl<H: Handler + 'static> Service<AnyRequest> for HandlerService<H> {
    type Response = AnyResponse;
    type Error = Error;
    type Future = BoxFuture<'static, Result<AnyResponse, Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: AnyRequest) -> Self::Future {
        let handler = Arc::clone(&self.handler);
        Box::pin(async move { request.call(handler.as_ref()).await })
    }
}

/// One endpoint of a handler as a `tower::Service<E::Request>`.
///
/// ```
/// use plugin_backend::middleware::EndpointService;
/// use plugin_backend::rpc::CheckHealth;
/// use plugin_backend::{CheckHealthRequest, HealthStatus, Plugin, PluginContext};
/// use tower_service::Service;
///
/// # futures_util::FutureExt::now_or_never(async {
/// let mut service = EndpointService::<_, CheckHealth>::new(Plugin::new());
/// let result = service.call(CheckHealthRequest::new(PluginContext::new("p"))).await?;
/// assert_eq!(result.status, HealthStatus::Ok);
/// # Ok::<(), plugin_backend::Error>(())
/// # }).unwrap().unwrap();
/// ```
pub struct EndpointService<H, E> {
    handler: Arc<H>,
    endpoint: PhantomData<fn() -> E>,
}

impl<H, E> EndpointService<H, E> {
    /// Endpoint `E` of `handler`.
    pub fn new(handler: impl Into<Arc<H>>) -> Self {
        EndpointService {
            handler: handler.into(),
            endpoint: PhantomData,
        }
    }
}

impl<H, E> Clone for EndpointService<H, E> {
    fn clone(&self) -> Self {
        EndpointService {
            handler: Arc::clone(&self.handler),
            endpoint: PhantomData,
        }
    }
}

impl<H, E: Rpc> fmt::Debug for EndpointService<H, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EndpointService")
            .field("endpoint", &E::ENDPOINT)
            .finish_non_exhaustive()
    }
}

impl<H: Handler + 'static, E: Rpc> Service<E::Request> for EndpointService<H, E> {
    type Response = E::Response;
    type Error = Error;
    type Future = BoxFuture<'static, Result<E::Response, Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: E::Request) -> Self::Future {
        let handler = Arc::clone(&self.handler);
        Box::pin(async move { handler.call::<E>(request).await })
    }
}

/// Applies a tower layer to a handler, once, when the handler is built.
///
/// ```
/// use plugin_backend::middleware::{HandlerBuilder, TowerLayer};
/// use plugin_backend::{Endpoint, Handler, Plugin};
///
/// // Any layer over `HandlerService`, e.g. `tower::timeout::TimeoutLayer`.
/// let layer = tower_layer::Identity::new();
/// let handler = HandlerBuilder::new()
///     .layer(TowerLayer::new(layer).only([Endpoint::QueryData]))
///     .handler(Plugin::new());
/// # fn is_handler(_: &impl Handler) {}
/// # is_handler(&handler);
/// ```
#[derive(Debug, Clone)]
pub struct TowerLayer<L> {
    layer: L,
    /// The endpoints the layer applies to, one bit per [`Endpoint`].
    endpoints: u32,
}

impl<L> TowerLayer<L> {
    /// `layer`, applied to every endpoint.
    pub fn new(layer: L) -> Self {
        TowerLayer {
            layer,
            endpoints: u32::MAX,
        }
    }

    /// This layer, applied to `endpoints` only; other calls bypass it.
    pub fn only(mut self, endpoints: impl IntoIterator<Item = Endpoint>) -> Self {
        self.endpoints = endpoints.into_iter().fold(0, |set, e| set | bit(e));
        self
    }
}

fn bit(endpoint: Endpoint) -> u32 {
    1 << endpoint as u32
}

impl<L, H> Layer<H> for TowerLayer<L>
where
    L: Layer<HandlerService<H>>,
{
    type Service = TowerHandler<H, L::Service>;

    fn layer(&self, inner: H) -> Self::Service {
        let inner = Arc::new(inner);
        let service = self.layer.layer(HandlerService {
            handler: Arc::clone(&inner),
        });
        TowerHandler {
            inner,
            service,
            endpoints: self.endpoints,
        }
    }
}

/// A handler whose calls go through a tower service; see [`TowerLayer`].
pub struct TowerHandler<H, S> {
    inner: Arc<H>,
    service: S,
    endpoints: u32,
}

impl<H, S: Clone> Clone for TowerHandler<H, S> {
    fn clone(&self) -> Self {
        TowerHandler {
            inner: Arc::clone(&self.inner),
            service: self.service.clone(),
            endpoints: self.endpoints,
        }
    }
}

impl<H, S> fmt::Debug for TowerHandler<H, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TowerHandler").finish_non_exhaustive()
    }
}

impl<H, S> Handler for TowerHandler<H, S>
where
    H: Handler,
    S: Service<AnyRequest, Response = AnyResponse> + Clone + Send + Sync + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send,
{
    fn call<E: Rpc>(
        &self,
        request: E::Request,
    ) -> impl Future<Output = Result<E::Response, Error>> + Send {
        let through_service = self.endpoints & bit(E::ENDPOINT) != 0;
        let mut service = through_service.then(|| self.service.clone());
        async move {
            let Some(service) = service.as_mut() else {
                return self.inner.call::<E>(request).await;
            };
            poll_fn(|cx| service.poll_ready(cx))
                .await
                .map_err(into_error)?;
            let response = service
                .call(E::into_any(request))
                .await
                .map_err(into_error)?;
            E::response_from_any(response).ok_or_else(|| {
                Error::new(format!(
                    "a tower layer answered {} with another endpoint's response",
                    E::ENDPOINT
                ))
            })
        }
    }
    fn implements(&self, endpoint: Endpoint) -> bool {
        self.inner.implements(endpoint)
    }
}

/// A tower service's error as an SDK error: the handler's own error comes
/// back as it was; a layer's (a timeout's, say) is wrapped.
fn into_error(error: impl Into<BoxError>) -> Error {
    let error = error.into();
    match error.downcast::<Error>() {
        Ok(error) => *error,
        Err(error) => Error::new(error),
    }
}
