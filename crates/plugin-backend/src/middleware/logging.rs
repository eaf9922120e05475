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

use tracing::{Instrument, Span};

use super::{Layered, Middleware, Next, Outcome, RequestStatus, outcome};
use crate::context::PluginContext;
use crate::data::QueryDataResponse;
use crate::error::{Error, ErrorSource};
use crate::handler::Handler;
use crate::rpc::Endpoint;
use crate::rpc::{self, Rpc};

/// The logging [`Middleware`].
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

/// A handler that logs every request; see the [module docs](self).
pub type Logging<H> = Layered<LoggingLayer, H>;

impl Middleware for LoggingLayer {
    async fn call<E: Rpc, H: Handler>(
        &self,
        request: E::Request,
        next: Next<'_, H>,
    ) -> Result<E::Response, Error> {
        let span = request_span(E::ENDPOINT, E::plugin_context(&request));
        logged(span, next.call::<E>(request)).await
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
async fn logged<T: 'static, F>(span: Span, inner: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
{
    tracing::debug!(parent: &span, "request started");
    let mut cancellation = CancellationLog {
        span: &span,
        start: Instant::now(),
        finished: false,
    };
    let result = inner.instrument(span.clone()).await;
    cancellation.finished = true;
    if let Some(response) = result
        .as_ref()
        .ok()
        .and_then(rpc::downcast_ref::<T, QueryDataResponse>)
    {
        log_query_errors(response, &span);
    }
    log_completion(
        &span,
        outcome(&result),
        cancellation.start,
        result.as_ref().err(),
    );
    result
}

/// One event per failed query of a query data response.
fn log_query_errors(response: &QueryDataResponse, span: &Span) {
    for (ref_id, response) in &response.responses {
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
