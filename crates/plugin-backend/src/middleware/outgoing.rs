//! Runs each call inside its [`OutgoingContext`], so the plugin's outgoing
//! clients see the incoming request's forwarded headers, endpoint, user
//! agent and Grafana configuration without the handler passing them on.
//!
//! The Go SDK's default handler middleware does the same through the
//! context (backend/http_headers.go, backend/alert_forwarder_middleware.go;
//! installed in backend/serve.go).

use std::sync::Arc;

use super::{Layered, Middleware, Next};
use crate::data::QueryDataRequest;
use crate::diagnostics::CheckHealthRequest;
use crate::error::Error;
use crate::handler::Handler;
use crate::outgoing::OutgoingContext;
use crate::resource::{CallResourceRequest, CallResourceResponseSender};
use crate::rpc::{Rpc, downcast_ref};

/// The outgoing-context [`Middleware`].
#[derive(Debug, Clone, Default)]
pub struct OutgoingLayer {
    _private: (),
}

impl OutgoingLayer {
    /// The outgoing-context layer.
    pub fn new() -> Self {
        OutgoingLayer::default()
    }
}

/// A handler whose calls run in their outgoing context; see the
/// [module docs](self).
pub type WithOutgoingContext<H> = Layered<OutgoingLayer, H>;

impl Middleware for OutgoingLayer {
    async fn call<E: Rpc, H: Handler>(
        &self,
        request: E::Request,
        next: Next<'_, H>,
    ) -> Result<E::Response, Error> {
        let context = Arc::new(outgoing_context::<E>(&request));
        // The inner call is made inside the scope, so a handler's code that
        // runs before its future is first polled sees the context too.
        context
            .scope(async move { next.call::<E>(request).await })
            .await
    }
}

/// The outgoing context of `request`. Go forwards the incoming headers of
/// QueryData, CheckHealth and CallResource only (backend/http_headers.go,
/// backend/alert_forwarder_middleware.go); every call gets the endpoint,
/// user agent and Grafana configuration (backend/handler_middleware.go).
fn outgoing_context<E: Rpc>(request: &E::Request) -> OutgoingContext {
    if let Some(request) = downcast_ref::<_, QueryDataRequest>(request) {
        OutgoingContext::from(request)
    } else if let Some(request) = downcast_ref::<_, CheckHealthRequest>(request) {
        OutgoingContext::from(request)
    } else if let Some((request, _)) =
        downcast_ref::<_, (CallResourceRequest, CallResourceResponseSender)>(request)
    {
        OutgoingContext::from(request)
    } else {
        OutgoingContext::new(E::ENDPOINT, E::plugin_context(request))
    }
}
