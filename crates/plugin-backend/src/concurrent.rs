//! Running the queries of a request concurrently, with a bound.
//!
//! [`query_data`] calls a per-query function for every query of a request,
//! at most `limit` at a time, and collects the answers by `ref_id`. It runs
//! them on the current task (with [`buffer_unordered`]), so it needs no
//! runtime of its own: queries overlap while they wait on I/O. A panicking
//! query is answered with a 500 error; the other queries are unaffected.
//!
//! [`buffer_unordered`]: futures_util::StreamExt::buffer_unordered

use std::fmt;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::{FutureExt as _, StreamExt as _, stream};
use http::HeaderMap;

use crate::context::PluginContext;
use crate::data::{DataQuery, DataResponse, QueryDataRequest, QueryDataResponse};
use crate::error::{Error, ErrorSource};
use crate::handler::QueryDataHandler;
use crate::headers::ForwardHttpHeaders;
use crate::middleware::panic::panic_message;
use crate::status::Status;

/// How many queries run at once when Grafana does not say
/// (`GF_CONCURRENT_QUERY_COUNT`).
pub const DEFAULT_CONCURRENCY: usize = 10;

/// One query of a request, with the request's context.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Query {
    /// The request's plugin context.
    pub plugin_context: PluginContext,
    /// The request's forwarded HTTP headers.
    pub headers: HeaderMap,
    /// The query.
    pub query: DataQuery,
}

/// The concurrency limit for `request`: Grafana's
/// `GF_CONCURRENT_QUERY_COUNT` when it is set to a positive number, else
/// [`DEFAULT_CONCURRENCY`].
pub fn concurrency_limit(request: &QueryDataRequest) -> usize {
    match request
        .plugin_context
        .grafana_config
        .concurrent_query_count()
    {
        Ok(count) if count > 0 => count,
        _ => DEFAULT_CONCURRENCY,
    }
}

/// Answers every query of `request` with `run_query`, at most
/// [`concurrency_limit`] at a time.
///
/// ```
/// use plugin_backend::{DataQuery, DataResponse, PluginContext, QueryDataRequest, concurrent};
/// use plugin_data::{Field, Frame};
///
/// let request = QueryDataRequest::new(
///     PluginContext::new("my-ds"),
///     vec![DataQuery::new("A", "{}"), DataQuery::new("B", "{}")],
/// );
/// let response = futures_util::FutureExt::now_or_never(concurrent::query_data(request, |query| async move {
///     DataResponse::from(Frame::new(query.query.ref_id).with_field(Field::new("v", vec![1_i64])))
/// }))
/// .unwrap();
/// assert_eq!(response.responses.len(), 2);
/// assert_eq!(response.responses["B"].frames[0].name(), "B");
/// ```
pub async fn query_data<F, Fut>(request: QueryDataRequest, run_query: F) -> QueryDataResponse
where
    F: Fn(Query) -> Fut,
    Fut: Future<Output = DataResponse>,
{
    let limit = concurrency_limit(&request);
    query_data_with_limit(request, limit, run_query).await
}

/// Answers every query of `request` with `run_query`, at most `limit` (at
/// least one) at a time.
pub async fn query_data_with_limit<F, Fut>(
    request: QueryDataRequest,
    limit: usize,
    run_query: F,
) -> QueryDataResponse
where
    F: Fn(Query) -> Fut,
    Fut: Future<Output = DataResponse>,
{
    let headers = request.http_headers();
    let QueryDataRequest {
        plugin_context,
        queries,
        ..
    } = request;
    let run_query = &run_query;
    stream::iter(queries)
        .map(|query| {
            let ref_id = query.ref_id.clone();
            let query = Query {
                plugin_context: plugin_context.clone(),
                headers: headers.clone(),
                query,
            };
            // Each query is isolated: a panic answers that query only.
            AssertUnwindSafe(async move { run_query(query).await })
                .catch_unwind()
                .map(move |outcome| {
                    let response = outcome.unwrap_or_else(|payload| {
                        let message = panic_message(payload.as_ref());
                        tracing::error!(
                            ref_id = ref_id.as_str(),
                            panic = message.as_str(),
                            "query panicked"
                        );
                        DataResponse::from_error(Error::Panic(message))
                            .with_status(Status::INTERNAL_SERVER_ERROR)
                            .with_error_source(ErrorSource::Plugin)
                    });
                    (ref_id, response)
                })
        })
        .buffer_unordered(limit.max(1))
        .collect()
        .await
}

/// A [`QueryDataHandler`] answering each query with a function, concurrently;
/// see [`per_query`].
#[derive(Clone, Copy)]
pub struct PerQuery<F>(F);

/// A [`QueryDataHandler`] that answers each query of a request with
/// `run_query`, concurrently, as [`query_data`] does.
pub fn per_query<F, Fut>(run_query: F) -> PerQuery<F>
where
    F: Fn(Query) -> Fut + Send + Sync,
    Fut: Future<Output = DataResponse> + Send,
{
    PerQuery(run_query)
}

impl<F, Fut> QueryDataHandler for PerQuery<F>
where
    F: Fn(Query) -> Fut + Send + Sync,
    Fut: Future<Output = DataResponse> + Send,
{
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        Ok(query_data(request, &self.0).await)
    }
}

impl<F> fmt::Debug for PerQuery<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PerQuery").finish_non_exhaustive()
    }
}
