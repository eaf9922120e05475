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

/// Copies the call's tenant from its gRPC metadata into `context`.
pub(crate) fn set_tenant(metadata: &MetadataMap, context: &mut PluginContext) {
    if let Some(tenant) = metadata
        .get(TENANT_ID_METADATA_KEY)
        .and_then(|value| value.to_str().ok())
    {
        tenant.clone_into(&mut context.tenant_id);
    }
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
        set_tenant(&metadata, E::plugin_context_mut(&mut request));
        let response = self.handler.call::<E>(request).await?;
        Ok(Response::new(response.into()))
    }
}

/// The boxed response stream type of every streaming RPC.
pub(crate) type ResponseStream<T> = Pin<Box<HandlerStream<T>>>;

#[cfg(test)]
mod tests {
    use super::*;

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
