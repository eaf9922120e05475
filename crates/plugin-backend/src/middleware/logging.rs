//! Contextual logging: a span per request and start and completion events.
//!
//! The span, `plugin_request`, carries `endpoint`, `plugin_id`,
//! `plugin_version`, `org_id`, `datasource_uid`, `datasource_name` and
//! `user` (the login), so every event the handler emits inside it is
//! attributed to the request. The middleware logs `request started` at
//! DEBUG, `request completed` with `status`, `status_source` and `duration`
//! at INFO (ERROR when the request failed), and one `partial data response
//! error` per failed query.
//!
//! It only ever records the fields above, never a request, a response, a
//! setting or a header, so secrets cannot reach the logs through it.

use std::future::Future;
use std::time::Instant;

use tower_layer::Layer;
use tracing::{Instrument, Span};

use super::{Observe, Outcome, RequestStatus};
use crate::admission::{AdmissionRequest, MutationResponse, ValidationResponse};
use crate::chunked::{ChunkedDataWriter, QueryChunkedDataRequest};
use crate::context::PluginContext;
use crate::conversion::{ConversionRequest, ConversionResponse};
use crate::data::{QueryDataRequest, QueryDataResponse};
use crate::diagnostics::{
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
};
use crate::endpoint::Endpoint;
use crate::error::{Error, ErrorSource};
use crate::handler::Handler;
use crate::resource::{CallResourceRequest, CallResourceResponseSender};
use crate::stream::{
    PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamSender,
    SubscribeStreamRequest, SubscribeStreamResponse,
};

/// A [`Layer`] adding [`Logging`] to a handler.
#[derive(Debug, Clone, Default)]
pub struct LoggingLayer {
    _private: (),
}

impl LoggingLayer {
    /// The logging layer.
    pub fn new() -> Self {
        LoggingLayer::default()
    }
}

impl<H> Layer<H> for LoggingLayer {
    type Service = Logging<H>;

    fn layer(&self, inner: H) -> Logging<H> {
        Logging { inner }
    }
}

/// A handler that logs every request; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct Logging<H> {
    inner: H,
}

impl<H> Logging<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

fn request_span(endpoint: Endpoint, context: &PluginContext) -> Span {
    let settings = context.data_source_instance_settings.as_deref();
    tracing::info_span!(
        "plugin_request",
        endpoint = endpoint.as_str(),
        plugin_id = context.plugin_id.as_str(),
        plugin_version = context.plugin_version.as_str(),
        org_id = context.org_id,
        datasource_uid = settings.map_or("", |settings| settings.uid.as_str()),
        datasource_name = settings.map_or("", |settings| settings.name.as_str()),
        user = context.user.as_ref().map_or("", |user| user.login.as_str()),
    )
}

/// Logs a request dropped before completion as cancelled.
struct CancellationLog<'a> {
    span: &'a Span,
    start: Instant,
    finished: bool,
}

impl Drop for CancellationLog<'_> {
    fn drop(&mut self) {
        if !self.finished {
            log_completion(self.span, Outcome::CANCELLED, self.start, None);
        }
    }
}

fn log_completion(span: &Span, outcome: Outcome, start: Instant, error: Option<&Error>) {
    let status = outcome.status.as_str();
    let status_source = outcome.source.as_str();
    let duration = start.elapsed();
    match (outcome.status, error) {
        (RequestStatus::Error, Some(error)) => tracing::error!(
            parent: span, status, status_source, ?duration, error = %error, "request completed"
        ),
        (RequestStatus::Error, None) => {
            tracing::error!(parent: span, status, status_source, ?duration, "request completed")
        }
        _ => tracing::info!(parent: span, status, status_source, ?duration, "request completed"),
    }
}

/// Runs `inner` inside `span`, logging its start and completion.
async fn logged<T, F>(span: Span, inner: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
    Result<T, Error>: Observe,
    T: LogDetails,
{
    tracing::debug!(parent: &span, "request started");
    let mut cancellation = CancellationLog {
        span: &span,
        start: Instant::now(),
        finished: false,
    };
    let result = inner.instrument(span.clone()).await;
    cancellation.finished = true;
    if let Ok(response) = &result {
        response.log_details(&span);
    }
    log_completion(
        &span,
        result.outcome(),
        cancellation.start,
        result.as_ref().err(),
    );
    result
}

/// Per-response details worth an event of their own.
trait LogDetails {
    fn log_details(&self, _span: &Span) {}
}

impl LogDetails for () {}
impl LogDetails for CheckHealthResult {}
impl LogDetails for CollectMetricsResult {}
impl LogDetails for SubscribeStreamResponse {}
impl LogDetails for PublishStreamResponse {}
impl LogDetails for ValidationResponse {}
impl LogDetails for MutationResponse {}
impl LogDetails for ConversionResponse {}

impl LogDetails for QueryDataResponse {
    fn log_details(&self, span: &Span) {
        for (ref_id, response) in &self.responses {
            if let Some(error) = &response.error {
                let status_source = response
                    .error_source
                    .unwrap_or(ErrorSource::Plugin)
                    .as_str();
                tracing::error!(
                    parent: span,
                    ref_id = ref_id.as_str(),
                    status = response.effective_status().as_u16(),
                    status_source,
                    error = %error,
                    "partial data response error"
                );
            }
        }
    }
}

impl<H: Handler> Handler for Logging<H> {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        let span = request_span(Endpoint::QueryData, &request.plugin_context);
        logged(span, self.inner.query_data(request)).await
    }

    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        let span = request_span(Endpoint::QueryChunkedData, &request.plugin_context);
        logged(span, self.inner.query_chunked_data(request, writer)).await
    }

    async fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        let span = request_span(Endpoint::CallResource, &request.plugin_context);
        logged(span, self.inner.call_resource(request, sender)).await
    }

    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        let span = request_span(Endpoint::CheckHealth, &request.plugin_context);
        logged(span, self.inner.check_health(request)).await
    }

    async fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> Result<CollectMetricsResult, Error> {
        let span = request_span(Endpoint::CollectMetrics, &request.plugin_context);
        logged(span, self.inner.collect_metrics(request)).await
    }

    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        let span = request_span(Endpoint::SubscribeStream, &request.plugin_context);
        logged(span, self.inner.subscribe_stream(request)).await
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        let span = request_span(Endpoint::PublishStream, &request.plugin_context);
        logged(span, self.inner.publish_stream(request)).await
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> Result<(), Error> {
        let span = request_span(Endpoint::RunStream, &request.plugin_context);
        logged(span, self.inner.run_stream(request, sender)).await
    }

    async fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<ValidationResponse, Error> {
        let span = request_span(Endpoint::ValidateAdmission, &request.plugin_context);
        logged(span, self.inner.validate_admission(request)).await
    }

    async fn mutate_admission(&self, request: AdmissionRequest) -> Result<MutationResponse, Error> {
        let span = request_span(Endpoint::MutateAdmission, &request.plugin_context);
        logged(span, self.inner.mutate_admission(request)).await
    }

    async fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> Result<ConversionResponse, Error> {
        let span = request_span(Endpoint::ConvertObjects, &request.plugin_context);
        logged(span, self.inner.convert_objects(request)).await
    }
}
