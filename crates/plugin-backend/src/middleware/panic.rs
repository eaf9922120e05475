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
use tower_layer::Layer;

use crate::admission::{AdmissionRequest, MutationResponse, ValidationResponse};
use crate::chunked::{ChunkedDataWriter, QueryChunkedDataRequest};
use crate::conversion::{ConversionRequest, ConversionResponse};
use crate::data::{DataResponse, QueryDataRequest, QueryDataResponse};
use crate::diagnostics::{
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
};
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorSource};
use crate::handler::Handler;
use crate::resource::{CallResourceRequest, CallResourceResponseSender};
use crate::status::Status;
use crate::stream::{
    PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamSender,
    SubscribeStreamRequest, SubscribeStreamResponse,
};

/// A [`Layer`] adding [`CatchPanic`] to a handler.
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

impl<H> Layer<H> for CatchPanicLayer {
    type Service = CatchPanic<H>;

    fn layer(&self, inner: H) -> CatchPanic<H> {
        CatchPanic {
            inner,
            per_query_errors: self.per_query_errors,
        }
    }
}

/// A handler that recovers from panics; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct CatchPanic<H> {
    inner: H,
    per_query_errors: bool,
}

impl<H> CatchPanic<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
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

impl<H: Handler> Handler for CatchPanic<H> {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        let ref_ids: Vec<String> = if self.per_query_errors {
            request
                .queries
                .iter()
                .map(|query| query.ref_id.clone())
                .collect()
        } else {
            Vec::new()
        };
        match guarded(Endpoint::QueryData, || self.inner.query_data(request)).await {
            Err(Error::Panic(message)) if self.per_query_errors => Ok(ref_ids
                .into_iter()
                .map(|ref_id| {
                    let response = DataResponse::from_error(Error::Panic(message.clone()))
                        .with_status(Status::INTERNAL_SERVER_ERROR)
                        .with_error_source(ErrorSource::Plugin);
                    (ref_id, response)
                })
                .collect()),
            result => result,
        }
    }

    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        guarded(Endpoint::QueryChunkedData, || {
            self.inner.query_chunked_data(request, writer)
        })
        .await
    }

    async fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        guarded(Endpoint::CallResource, || {
            self.inner.call_resource(request, sender)
        })
        .await
    }

    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        guarded(Endpoint::CheckHealth, || self.inner.check_health(request)).await
    }

    async fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> Result<CollectMetricsResult, Error> {
        guarded(Endpoint::CollectMetrics, || {
            self.inner.collect_metrics(request)
        })
        .await
    }

    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        guarded(Endpoint::SubscribeStream, || {
            self.inner.subscribe_stream(request)
        })
        .await
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        guarded(Endpoint::PublishStream, || {
            self.inner.publish_stream(request)
        })
        .await
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> Result<(), Error> {
        guarded(Endpoint::RunStream, || {
            self.inner.run_stream(request, sender)
        })
        .await
    }

    async fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<ValidationResponse, Error> {
        guarded(Endpoint::ValidateAdmission, || {
            self.inner.validate_admission(request)
        })
        .await
    }

    async fn mutate_admission(&self, request: AdmissionRequest) -> Result<MutationResponse, Error> {
        guarded(Endpoint::MutateAdmission, || {
            self.inner.mutate_admission(request)
        })
        .await
    }

    async fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> Result<ConversionResponse, Error> {
        guarded(Endpoint::ConvertObjects, || {
            self.inner.convert_objects(request)
        })
        .await
    }
}
