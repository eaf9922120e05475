//! [`QueryTypeMux`]: routes each query, plain or chunked, to a handler by its
//! query type.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use futures_util::future::{join_all, try_join_all};
use futures_util::lock::Mutex;

use crate::chunked::{ChunkedDataWriter, QueryChunkedDataRequest};
use crate::data::{DataQuery, DataResponse, QueryDataRequest, QueryDataResponse};
use crate::error::{Error, ErrorSource};
use crate::handler::{QueryChunkedDataHandler, QueryDataHandler};
use crate::rpc::{DynEndpoint, QueryChunkedData, QueryData};
use crate::sender::ResponseSender;

/// A query data handler behind one pointer.
type QueryDataEndpoint = dyn DynEndpoint<QueryData>;
/// A chunked query data handler behind one pointer.
type QueryChunkedDataEndpoint = dyn DynEndpoint<QueryChunkedData>;

/// A [`QueryDataHandler`] that routes each query to the handler registered
/// for its `query_type`, like the Go SDK's `datasource.QueryTypeMux`.
///
/// Queries of one type go to their handler together, in one request;
/// handlers of different types run concurrently. Queries whose type has no
/// handler go to the fallback (registered for the empty type), or, without
/// one, are answered with the error `no handler found for query type '<t>'`.
///
/// The mux answers chunked queries too, as Go's does
/// (backend/datasource/query_type_mux.go): each query on its own and
/// concurrently, by the chunked handler of its type
/// ([`with_chunked_handler`](Self::with_chunked_handler)) when there is one,
/// otherwise by its QueryData handler, whose response is written as chunks
/// ([`ChunkedDataWriter::write_response`]).
///
/// ```
/// use plugin_backend::{
///     DataQuery, DataResponse, Error, PluginContext, QueryDataHandler, QueryDataRequest,
///     QueryDataResponse, QueryTypeMux, query_data_fn,
/// };
///
/// async fn answer(request: QueryDataRequest, kind: &str) -> Result<QueryDataResponse, Error> {
///     Ok(request.queries.iter().map(|q| (q.ref_id.clone(), DataResponse::from_error(Error::new(kind.to_owned())))).collect())
/// }
///
/// let mux = QueryTypeMux::new()
///     .with_handler("metrics", query_data_fn(|request| answer(request, "metrics")))
///     .with_handler("logs", query_data_fn(|request| answer(request, "logs")));
///
/// let request = QueryDataRequest::new(
///     PluginContext::new("my-ds"),
///     vec![DataQuery::new("A", "{}").with_query_type("logs"), DataQuery::new("B", "{}").with_query_type("traces")],
/// );
/// let response = futures_util::FutureExt::now_or_never(mux.query_data(request)).unwrap()?;
/// assert_eq!(response.responses["A"].error.as_ref().unwrap().to_string(), "logs");
/// assert_eq!(
///     response.responses["B"].error.as_ref().unwrap().to_string(),
///     "no handler found for query type 'traces'"
/// );
/// # Ok::<(), Error>(())
/// ```
#[derive(Clone, Default)]
pub struct QueryTypeMux {
    handlers: HashMap<String, Arc<QueryDataEndpoint>>,
    chunked_handlers: HashMap<String, Arc<QueryChunkedDataEndpoint>>,
    fallback: Option<Arc<QueryDataEndpoint>>,
}

impl QueryTypeMux {
    /// A mux with no handlers.
    pub fn new() -> Self {
        QueryTypeMux::default()
    }

    /// This mux, sending queries of type `query_type` to `handler`
    /// (replacing any handler registered for it before). The empty type
    /// registers the fallback.
    pub fn with_handler(
        mut self,
        query_type: impl Into<String>,
        handler: impl QueryDataHandler + 'static,
    ) -> Self {
        let query_type = query_type.into();
        let handler: Arc<QueryDataEndpoint> = Arc::new(handler);
        if query_type.is_empty() {
            self.fallback = Some(handler);
        } else {
            self.handlers.insert(query_type, handler);
        }
        self
    }

    /// This mux, sending queries of unregistered types to `handler`.
    pub fn with_fallback(self, handler: impl QueryDataHandler + 'static) -> Self {
        self.with_handler("", handler)
    }

    /// This mux, sending chunked queries of type `query_type` to `handler`
    /// (replacing any chunked handler registered for it before). Chunked
    /// queries of a type without one go to its QueryData handler.
    pub fn with_chunked_handler(
        mut self,
        query_type: impl Into<String>,
        handler: impl QueryChunkedDataHandler + 'static,
    ) -> Self {
        self.chunked_handlers
            .insert(query_type.into(), Arc::new(handler));
        self
    }

    /// The QueryData handler of `query_type`, or the fallback.
    fn handler(&self, query_type: &str) -> Option<&Arc<QueryDataEndpoint>> {
        self.handlers.get(query_type).or(self.fallback.as_ref())
    }

    /// Answers one chunked query, writing through `writer`.
    async fn query_chunked(
        &self,
        mut request: QueryChunkedDataRequest,
        mut writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        let query = &request.queries[0];
        if let Some(chunked) = self.chunked_handlers.get(&query.query_type) {
            return chunked.call((request, writer)).await;
        }
        let Some(handler) = self.handler(&query.query_type) else {
            return writer.write_response(&query.ref_id, unhandled(query)).await;
        };
        let mut plain =
            QueryDataRequest::new(request.plugin_context, std::mem::take(&mut request.queries));
        plain.headers = request.headers;
        plain.format = request.format;
        for (ref_id, response) in handler.call(plain).await?.responses {
            writer.write_response(&ref_id, response).await?;
        }
        Ok(())
    }
}

impl fmt::Debug for QueryTypeMux {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut types: Vec<&str> = self.handlers.keys().map(String::as_str).collect();
        types.sort_unstable();
        f.debug_struct("QueryTypeMux")
            .field("query_types", &types)
            .field("chunked_query_types", &{
                let mut types: Vec<&str> =
                    self.chunked_handlers.keys().map(String::as_str).collect();
                types.sort_unstable();
                types
            })
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

/// The answer to queries nobody handles.
fn unhandled(query: &DataQuery) -> DataResponse {
    let message = format!("no handler found for query type '{}'", query.query_type);
    DataResponse::from_error(Error::plugin(message)).with_error_source(ErrorSource::Plugin)
}

impl QueryDataHandler for QueryTypeMux {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        let QueryDataRequest {
            plugin_context,
            headers,
            queries,
            format,
            ..
        } = request;
        let mut response = QueryDataResponse::new();
        // Group the queries by the handler that takes them, keeping the
        // order in which each handler was first needed.
        let mut groups: Vec<(&Arc<QueryDataEndpoint>, Vec<DataQuery>)> = Vec::new();
        for query in queries {
            let handler = self
                .handlers
                .get(&query.query_type)
                .or(self.fallback.as_ref());
            match handler {
                Some(handler) => match groups
                    .iter_mut()
                    .find(|(known, _)| Arc::ptr_eq(known, handler))
                {
                    Some((_, group)) => group.push(query),
                    None => groups.push((handler, vec![query])),
                },
                None => {
                    response.insert(query.ref_id.clone(), unhandled(&query));
                }
            }
        }
        let calls = groups.into_iter().map(|(handler, queries)| {
            let mut sub_request = QueryDataRequest::new(plugin_context.clone(), queries);
            sub_request.headers = headers.clone();
            sub_request.format = format;
            handler.call(sub_request)
        });
        for answered in try_join_all(calls).await? {
            response.responses.extend(answered.responses);
        }
        Ok(response)
    }
}

impl QueryChunkedDataHandler for QueryTypeMux {
    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        let QueryChunkedDataRequest {
            plugin_context,
            headers,
            queries,
            format,
        } = request;
        // Each query gets a writer of its own whose chunks go out through
        // the one writer of the call; a query's chunks all use its own
        // `ref_id`, so each sub-writer tracks the JSON schemas it sent.
        let encoding = writer.format();
        let shared = Arc::new(Mutex::new(writer));
        let calls = queries.into_iter().map(|query| {
            let shared = Arc::clone(&shared);
            let sender = ResponseSender::new(futures_util::sink::unfold(
                shared,
                |shared, chunk| async move {
                    shared.lock().await.write_chunk(chunk).await?;
                    Ok::<_, Error>(shared)
                },
            ));
            let request = QueryChunkedDataRequest {
                plugin_context: plugin_context.clone(),
                headers: headers.clone(),
                queries: vec![query],
                format,
            };
            self.query_chunked(request, ChunkedDataWriter::new(encoding, sender))
        });
        // Every query runs to its end, as in Go; the first error fails the
        // call.
        join_all(calls).await.into_iter().collect()
    }
}
