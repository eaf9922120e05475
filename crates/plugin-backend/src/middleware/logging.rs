//! Contextual logging: a span per request and start and completion events,
//! with the Go SDK's keys and messages, so Grafana's logs read the same for
//! Go and Rust plugins.
//!
//! The span, `plugin_request`, carries what Go's contextual logger adds to
//! every line a handler logs (backend/log.go, `withContextualLogAttributes`):
//! `pluginId`, `pluginVersion`, `endpoint`, and for a data source `dsName`,
//! `dsUid` and the user's name as `uname`. (`traceId` and the log attributes
//! Grafana sends in the call's metadata are added by the server's span
//! around it.) The middleware logs `Plugin Request Started` at DEBUG and
//! `Plugin Request Completed` with `status`, `duration`, `error` and
//! `statusSource` at INFO (ERROR when the request failed), and one `Partial
//! data response error` with `refID`, `status`, `error` and `statusSource`
//! per failed query, as Go's logger middleware does
//! (backend/logger_middleware.go).
//!
//! It only ever records the fields above, never a request, a response, a
//! setting or a header, so secrets cannot reach the logs through it.

use std::future::Future;
use std::time::Instant;

use tracing::field::Empty;
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
    let span = tracing::info_span!(
        "plugin_request",
        pluginId = context.plugin_id.as_str(),
        pluginVersion = context.plugin_version.as_str(),
        endpoint = endpoint.as_str(),
        dsName = Empty,
        dsUid = Empty,
        uname = Empty,
    );
    // Go adds the data source's name and UID, and the user's name, only for
    // a data source's calls.
    if let Some(settings) = context.data_source_instance_settings.as_deref() {
        span.record("dsName", settings.name.as_str());
        span.record("dsUid", settings.uid.as_str());
        if let Some(user) = &context.user {
            span.record("uname", user.name.as_str());
        }
    }
    span
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
            parent: span, status, ?duration, error = %error, statusSource = status_source, "Plugin Request Completed"
        ),
        (RequestStatus::Error, None) => {
            tracing::error!(parent: span, status, ?duration, statusSource = status_source, "Plugin Request Completed")
        }
        _ => {
            tracing::info!(parent: span, status, ?duration, statusSource = status_source, "Plugin Request Completed")
        }
    }
}

/// Runs `inner` inside `span`, logging its start and completion.
async fn logged<T: 'static, F>(span: Span, inner: F) -> Result<T, Error>
where
    F: Future<Output = Result<T, Error>>,
{
    tracing::debug!(parent: &span, "Plugin Request Started");
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
                refID = ref_id.as_str(),
                status = response.effective_status().as_u16(),
                error = %error,
                statusSource = status_source,
                "Partial data response error"
            );
        }
    }
}
