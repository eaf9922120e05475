//! Panic recovery: a panicking handler becomes an error and the process
//! lives on.
//!
//! A panic, whether while creating the handler's future or while polling
//! it, becomes [`Error::Panic`], which reaches Grafana as gRPC `Unknown`
//! with the message `panic triggered: <panic message>`, like the Go SDK's
//! recovery. For query data, [`CatchPanicLayer::per_query_errors`] answers
//! every query of the request with that error instead, which Grafana shows
//! on each panel.
//!
//! The panic hook still runs (Rust prints the panic to stderr, which
//! Grafana logs); the middleware also logs it at ERROR.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;

use super::{Layered, Middleware, Next};
use crate::data::{DataResponse, QueryDataRequest, QueryDataResponse};
use crate::error::{Error, ErrorSource};
use crate::handler::Handler;
use crate::rpc::{self, Endpoint, Rpc};
use crate::status::Status;

/// The panic-recovery [`Middleware`].
#[derive(Debug, Clone, Copy, Default)]
pub struct CatchPanicLayer {
    per_query_errors: bool,
}

impl CatchPanicLayer {
    /// Panic recovery; a panic in query data fails the whole request.
    pub fn new() -> Self {
        CatchPanicLayer::default()
    }

    /// Whether a panic in query data answers every query of the request
    /// with the panic as its error (status 500, source plugin) instead of
    /// failing the whole request.
    pub fn per_query_errors(mut self, per_query_errors: bool) -> Self {
        self.per_query_errors = per_query_errors;
        self
    }
}

/// A handler that recovers from panics; see the [module docs](self).
pub type CatchPanic<H> = Layered<CatchPanicLayer, H>;

impl Middleware for CatchPanicLayer {
    async fn call<E: Rpc, H: Handler>(
        &self,
        request: E::Request,
        next: Next<'_, H>,
    ) -> Result<E::Response, Error> {
        let ref_ids: Option<Vec<String>> = if self.per_query_errors {
            rpc::downcast_ref::<E::Request, QueryDataRequest>(&request).map(|request| {
                request
                    .queries
                    .iter()
                    .map(|query| query.ref_id.clone())
                    .collect()
            })
        } else {
            None
        };
        match (
            guarded(E::ENDPOINT, || next.call::<E>(request)).await,
            ref_ids,
        ) {
            (Err(Error::Panic(message)), Some(ref_ids)) => {
                let response: QueryDataResponse = ref_ids
                    .into_iter()
                    .map(|ref_id| {
                        let response = DataResponse::from_error(Error::Panic(message.clone()))
                            .with_status(Status::INTERNAL_SERVER_ERROR)
                            .with_error_source(ErrorSource::Plugin);
                        (ref_id, response)
                    })
                    .collect();
                rpc::downcast::<QueryDataResponse, E::Response>(response)
                    .map_err(|_| Error::Panic(message))
            }
            (result, _) => result,
        }
    }
}

/// The message of a panic payload (`panic!` gives `&str` or `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "unknown panic payload".to_owned()
    }
}

fn panic_error(endpoint: Endpoint, payload: &(dyn Any + Send)) -> Error {
    let message = panic_message(payload);
    tracing::error!(
        endpoint = endpoint.as_str(),
        panic = message.as_str(),
        "handler panicked"
    );
    Error::Panic(message)
}

/// Calls `call` and runs the future it returns, turning a panic in either
/// into [`Error::Panic`].
async fn guarded<T, F>(endpoint: Endpoint, call: impl FnOnce() -> F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
{
    // Handlers implemented as plain functions returning a future may panic
    // before the future exists, so the call is guarded as well as the polls.
    // Unwind safety: after a panic the handler's state is whatever it was;
    // this is the trade-off every server's panic recovery makes.
    let future = match std::panic::catch_unwind(AssertUnwindSafe(call)) {
        Ok(future) => future,
        Err(payload) => return Err(panic_error(endpoint, payload.as_ref())),
    };
    match AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(payload) => Err(panic_error(endpoint, payload.as_ref())),
    }
}
