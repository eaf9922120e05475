//! [`ResponseSender`]: how a handler streams messages back to Grafana.

use std::fmt;
use std::pin::Pin;

use futures_util::sink::{Sink, SinkExt};

use crate::error::Error;

/// The sending half of a streamed response (resource bodies, stream packets,
/// query chunks).
///
/// Sending waits while the receiver is full, so a fast handler cannot run
/// away from a slow connection. It fails with [`Error::StreamClosed`] (or the
/// sink's own error) once the receiver is gone, which is the handler's cue
/// to stop.
///
/// The serving crate builds one from any [`Sink`] (for example a channel
/// feeding the gRPC response stream); tests can use a callback:
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use plugin_backend::ResponseSender;
///
/// # futures_util::FutureExt::now_or_never(async {
/// let received = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&received);
/// let mut sender = ResponseSender::from_fn(move |message| {
///     sink.lock().unwrap().push(message);
///     Ok(())
/// });
/// sender.send(1).await?;
/// sender.send(2).await?;
/// assert_eq!(*received.lock().unwrap(), [1, 2]);
/// # Ok::<(), plugin_backend::Error>(())
/// # }).unwrap().unwrap();
/// ```
pub struct ResponseSender<T> {
    sink: Pin<Box<dyn Sink<T, Error = Error> + Send>>,
}

impl<T: Send + 'static> ResponseSender<T> {
    /// A sender writing into `sink`.
    pub fn new<S>(sink: S) -> Self
    where
        S: Sink<T, Error = Error> + Send + 'static,
    {
        ResponseSender {
            sink: Box::pin(sink),
        }
    }

    /// A sender handing every message to `send`, which must not block.
    pub fn from_fn<F>(send: F) -> Self
    where
        F: FnMut(T) -> Result<(), Error> + Send + 'static,
    {
        ResponseSender::new(futures_util::sink::unfold(
            send,
            |mut send, message| async move {
                send(message)?;
                Ok(send)
            },
        ))
    }

    /// Sends one message, waiting for room in the receiver.
    pub async fn send(&mut self, message: T) -> Result<(), Error> {
        self.sink.send(message).await
    }
}

impl<T> fmt::Debug for ResponseSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseSender").finish_non_exhaustive()
    }
}
