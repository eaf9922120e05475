//! gRPC adapters: the `pluginv2` services, answered by a [`Handler`].
//!
//! Every RPC takes the same path: the request message becomes an SDK
//! request through plugin-backend's converters (a malformed message is an
//! `InvalidArgument` status, never a panic), the handler answers, and the
//! answer becomes a message again; a handler error becomes a status through
//! `From<plugin_backend::Error> for tonic::Status`, which carries the error
//! source Grafana reads.
//!
//! No adapter logs or records a request: requests carry decrypted secrets.
//!
//! Streaming RPCs (`CallResource`, `QueryChunkedData`, `RunStream`) hand the
//! handler a sender feeding a small bounded channel. The response stream
//! polls the handler's future itself, so no task is spawned, a handler that
//! outpaces the connection waits, and the handler is dropped (cancelled) as
//! soon as Grafana cancels the call.

mod admission;
mod conversion;
mod data;
mod diagnostics;
mod resource;
mod stream;

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_channel::mpsc;
use futures_util::future::BoxFuture;
use futures_util::{FutureExt, SinkExt, Stream, StreamExt};
use plugin_backend::rpc::Rpc;
use plugin_backend::{Error, Handler, PluginContext, ResponseSender};
use tonic::metadata::MetadataMap;
use tonic::{Request, Response, Status};
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::log::LOG_PARAMS_FIELD;

/// How many messages of a streamed response may wait for the connection
/// before the handler's next send waits too.
const STREAM_BUFFER: usize = 8;

/// Answers every `pluginv2` service with one shared handler.
///
/// Cloning is cheap: clones share the handler.
pub(crate) struct Adapter<H> {
    handler: Arc<H>,
}

impl<H> Adapter<H> {
    pub(crate) fn new(handler: Arc<H>) -> Self {
        Adapter { handler }
    }
}

impl<H> Clone for Adapter<H> {
    fn clone(&self) -> Self {
        Adapter {
            handler: Arc::clone(&self.handler),
        }
    }
}

impl<H> fmt::Debug for Adapter<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Adapter").finish_non_exhaustive()
    }
}

/// The response stream of a streaming RPC: the messages a handler sends,
/// then the handler's error, if it failed.
pub(crate) struct HandlerStream<T> {
    /// The handler's call; `None` once it has finished.
    handler: Option<BoxFuture<'static, Result<(), Error>>>,
    messages: mpsc::Receiver<T>,
    /// The handler's error, sent after its last message.
    failure: Option<Status>,
}

impl<T: Send + 'static> HandlerStream<T> {
    /// Runs `call` with a sender of SDK messages `M`, streaming them as wire
    /// messages `T`.
    pub(crate) fn new<M, F, Fut>(call: F) -> Self
    where
        M: Into<T> + Send + 'static,
        F: FnOnce(ResponseSender<M>) -> Fut,
        Fut: Future<Output = Result<(), Error>> + Send + 'static,
    {
        let (sender, messages) = mpsc::channel(STREAM_BUFFER);
        let sink = sender
            .sink_map_err(|_| Error::StreamClosed)
            .with(|message: M| async move { Ok(message.into()) });
        let handler = call(ResponseSender::new(sink)).boxed();
        HandlerStream {
            handler: Some(handler),
            messages,
            failure: None,
        }
    }
}

impl<T> Stream for HandlerStream<T> {
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(handler) = &mut this.handler
            && let Poll::Ready(result) = handler.poll_unpin(cx)
        {
            this.handler = None;
            this.failure = result.err().map(Status::from);
        }
        match this.messages.poll_next_unpin(cx) {
            Poll::Ready(Some(message)) => Poll::Ready(Some(Ok(message))),
            // Every sender is gone, but the handler still runs: it has
            // registered the waker and wakes us when it finishes.
            Poll::Ready(None) if this.handler.is_some() => Poll::Pending,
            Poll::Ready(None) => Poll::Ready(this.failure.take().map(Err)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> fmt::Debug for HandlerStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerStream")
            .field("running", &self.handler.is_some())
            .finish_non_exhaustive()
    }
}

/// The gRPC metadata key of the tenant a call is for (multi-tenant
/// Grafana); HTTP/2 header names are lower case.
const TENANT_ID_METADATA_KEY: &str = "tenantid";

/// The gRPC metadata key of the log attributes Grafana adds to a call, each
/// value `key:::value` (backend/log/context_grpc.go in the Go SDK).
const LOG_PARAMS_METADATA_KEY: &str = "loggerparamsctxmetadata";

/// The separator of a log attribute's key and value.
const LOG_PARAM_SEPARATOR: &str = ":::";

/// What a call's gRPC metadata adds to its request: the tenant, copied into
/// `context`, and the span every log line of the call is written in.
///
/// The span carries what the Go SDK adds to a handler's log lines besides
/// the plugin context (backend/log.go, `withContextualLogAttributes`): the
/// trace ID of the incoming W3C `traceparent` as `traceId`, and the log
/// attributes Grafana sent, each under its own key (the hclog layer
/// flattens [`LOG_PARAMS_FIELD`]). The plugin context's keys come from the
/// logging middleware's span inside it.
pub(crate) fn from_metadata(metadata: &MetadataMap, context: &mut PluginContext) -> Span {
    if let Some(tenant) = metadata
        .get(TENANT_ID_METADATA_KEY)
        .and_then(|value| value.to_str().ok())
    {
        tenant.clone_into(&mut context.tenant_id);
    }
    let span = tracing::info_span!("grpc_call", traceId = Empty, logParams = Empty);
    if let Some(trace_id) = metadata
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(trace_id)
    {
        span.record("traceId", trace_id);
    }
    let params: serde_json::Map<String, serde_json::Value> = metadata
        .get_all(LOG_PARAMS_METADATA_KEY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|param| {
            // Exactly one separator and neither part empty, as Go's
            // `ContextualAttributesFromIncomingContext` requires.
            let (key, value) = param.split_once(LOG_PARAM_SEPARATOR)?;
            let valid =
                !key.is_empty() && !value.is_empty() && !value.contains(LOG_PARAM_SEPARATOR);
            valid.then(|| (key.to_owned(), value.into()))
        })
        .collect();
    if !params.is_empty() {
        span.record(
            LOG_PARAMS_FIELD,
            serde_json::Value::Object(params).to_string(),
        );
    }
    span
}

/// The trace ID of a W3C `traceparent` (`00-<trace id>-<span id>-<flags>`),
/// when it is a valid one: 32 lower-case hex digits, not all zero.
fn trace_id(traceparent: &str) -> Option<&str> {
    let mut parts = traceparent.trim().split('-');
    let (_version, trace_id) = (parts.next()?, parts.next()?);
    let hex = trace_id.len() == 32
        && trace_id
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
    (hex && trace_id.bytes().any(|byte| byte != b'0')).then_some(trace_id)
}

impl<H: Handler> Adapter<H> {
    /// Answers a unary RPC of endpoint `E`: the message becomes the SDK
    /// request (with the call's tenant), the handler answers, the answer
    /// becomes a message.
    pub(crate) async fn unary<E, M, R>(&self, request: Request<M>) -> Result<Response<R>, Status>
    where
        E: Rpc,
        E::Request: TryFrom<M, Error = Error>,
        E::Response: Into<R>,
    {
        let (metadata, _, message) = request.into_parts();
        let mut request = E::Request::try_from(message)?;
        let span = from_metadata(&metadata, E::plugin_context_mut(&mut request));
        let response = self.handler.call::<E>(request).instrument(span).await?;
        Ok(Response::new(response.into()))
    }
}

/// The boxed response stream type of every streaming RPC.
pub(crate) type ResponseStream<T> = Pin<Box<HandlerStream<T>>>;

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt as _;

    /// Go reads the trace ID from the span context of the incoming W3C
    /// `traceparent`, and only a valid one (backend/log.go).
    #[test]
    fn trace_ids_come_from_valid_traceparents_only() {
        let id = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(trace_id(&format!("00-{id}-00f067aa0ba902b7-01")), Some(id));
        for invalid in [
            "",
            "00",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736x-00f067aa0ba902b7-01",
        ] {
            assert_eq!(trace_id(invalid), None, "{invalid:?}");
        }
    }

    /// The tenant goes into the plugin context; log attributes are kept only
    /// when well formed, as Go's `ContextualAttributesFromIncomingContext`
    /// keeps them (backend/log/context_grpc.go).
    #[test]
    fn metadata_gives_the_tenant_and_the_log_attributes() {
        let mut metadata = MetadataMap::new();
        metadata.insert(TENANT_ID_METADATA_KEY, "tenant-a".parse().unwrap());
        for param in [
            "dashboardUID:::dash-1",
            "panelID:::7",
            "no separator",
            ":::no key",
            "no value:::",
            "a:::b:::c",
        ] {
            metadata.append(LOG_PARAMS_METADATA_KEY, param.parse().unwrap());
        }
        let mut context = PluginContext::new("p");
        let recorded = Arc::new(std::sync::Mutex::new(String::new()));
        let span = {
            let recorded = Arc::clone(&recorded);
            let subscriber = tracing_subscriber::registry().with(ParamsRecorder(recorded));
            tracing::subscriber::with_default(subscriber, || from_metadata(&metadata, &mut context))
        };
        drop(span);
        assert_eq!(context.tenant_id, "tenant-a");
        let params: serde_json::Value = serde_json::from_str(&recorded.lock().unwrap()).unwrap();
        assert_eq!(
            params,
            serde_json::json!({"dashboardUID": "dash-1", "panelID": "7"})
        );
    }

    /// Keeps the last `logParams` value recorded on any span.
    struct ParamsRecorder(Arc<std::sync::Mutex<String>>);

    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ParamsRecorder {
        fn on_record(
            &self,
            _: &tracing::span::Id,
            values: &tracing::span::Record<'_>,
            _: tracing_subscriber::layer::Context<'_, S>,
        ) {
            struct Visitor<'a>(&'a std::sync::Mutex<String>);
            impl tracing::field::Visit for Visitor<'_> {
                fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
                    if field.name() == LOG_PARAMS_FIELD {
                        *self.0.lock().unwrap() = value.to_owned();
                    }
                }
                fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn fmt::Debug) {}
            }
            values.record(&mut Visitor(&self.0));
        }
    }

    #[tokio::test]
    async fn messages_come_first_then_the_handlers_error() {
        let stream: HandlerStream<u32> =
            HandlerStream::new(|mut sender: ResponseSender<u8>| async move {
                sender.send(1).await?;
                sender.send(2).await?;
                Err(Error::new("boom"))
            });
        let items: Vec<_> = stream.collect().await;
        assert_eq!(items.len(), 3);
        assert_eq!(*items[0].as_ref().unwrap(), 1);
        assert_eq!(*items[1].as_ref().unwrap(), 2);
        assert_eq!(items[2].as_ref().unwrap_err().message(), "boom");
    }

    #[tokio::test]
    async fn a_dropped_stream_cancels_the_handler() {
        let (done, finished) = tokio::sync::oneshot::channel::<()>();
        let mut stream: HandlerStream<u32> =
            HandlerStream::new(move |mut sender: ResponseSender<u32>| async move {
                let _done = done;
                for n in 0.. {
                    sender.send(n).await?;
                }
                Ok(())
            });
        assert_eq!(stream.next().await.unwrap().unwrap(), 0);
        drop(stream);
        assert!(
            finished.await.is_err(),
            "the handler was dropped, not run to completion"
        );
    }
}
