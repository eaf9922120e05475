//! Streaming an `http::Response` back to Grafana as
//! [`CallResourceResponse`] messages.
//!
//! The first message carries the status, every header and whatever body is
//! ready at once; each later message carries one more piece of body, sent as
//! soon as the service produces it. Sending waits while Grafana's side is
//! full, so at most one body chunk (split to [`MAX_MESSAGE_BODY`]) is held
//! here at a time, however long the body: a 100 MB download or an endless
//! event stream costs the same memory as a small one.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use bytes::{Buf, Bytes};
use futures_util::FutureExt;
use http::header::{CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body::Body;
use http_body_util::BodyExt;
use plugin_backend::{BoxError, CallResourceResponse, CallResourceResponseSender};

use crate::error::Error;
use crate::sniff;

/// The largest body piece sent in one message: bigger chunks are split
/// (without copying), so no message comes near gRPC's size limits.
pub const MAX_MESSAGE_BODY: usize = 1 << 20;

/// Sends `response` through `sender`, body chunk by body chunk.
pub(crate) async fn send_response<B>(
    response: Response<B>,
    sender: &mut CallResourceResponseSender,
) -> Result<(), Error>
where
    B: Body + Send,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (parts, body) = response.into_parts();
    let mut body = std::pin::pin!(body);
    let mut headers = parts.headers;

    // A response without a content type gets a sniffed one (as in Go), which
    // needs the start of the body: wait for it. Otherwise send the head at
    // once, with the first chunk only if it is already there, so that the
    // head of a slow stream (server-sent events) is not held back.
    let sniff = !headers.contains_key(CONTENT_TYPE) && !headers.contains_key(TRANSFER_ENCODING);
    let first = if sniff {
        Some(next_chunk(body.as_mut()).await)
    } else {
        next_chunk(body.as_mut()).now_or_never()
    };
    let (first_chunk, mut ended) = match first {
        Some(Ok(Some(chunk))) => (chunk, false),
        Some(Ok(None)) => (Bytes::new(), true),
        None => (Bytes::new(), false),
        // Nothing is sent yet, so the failure can still be a proper answer.
        Some(Err(error)) => return send_error_response(sender, &error).await,
    };
    if sniff && !first_chunk.is_empty() {
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static(sniff::content_type(&first_chunk)),
        );
    }

    let mut pieces = Pieces(first_chunk);
    let mut head = CallResourceResponse::new(parts.status);
    head.headers = headers;
    head.body = pieces.next().unwrap_or_default();
    sender.send(head).await.map_err(Error::Send)?;
    send_pieces(sender, &mut pieces).await?;

    while !ended {
        match next_chunk(body.as_mut()).await? {
            Some(chunk) => send_pieces(sender, &mut Pieces(chunk)).await?,
            None => ended = true,
        }
    }
    Ok(())
}

/// Sends the failure of a service that has sent nothing yet as a `500`.
pub(crate) async fn send_error_response(
    sender: &mut CallResourceResponseSender,
    error: &Error,
) -> Result<(), Error> {
    let message = match error {
        Error::Panic(_) => "Internal Server Error: the resource handler panicked".to_owned(),
        other => other.to_string(),
    };
    send_text(sender, StatusCode::INTERNAL_SERVER_ERROR, message).await
}

/// Sends a complete plain-text response.
pub(crate) async fn send_text(
    sender: &mut CallResourceResponseSender,
    status: StatusCode,
    message: String,
) -> Result<(), Error> {
    let mut headers = HeaderMap::new();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    let mut response = CallResourceResponse::new(status).with_body(message);
    response.headers = headers;
    sender.send(response).await.map_err(Error::Send)
}

/// The next non-empty data chunk of `body`; `None` at its end. Trailers are
/// skipped: Grafana's protocol has no place for them.
async fn next_chunk<B>(mut body: Pin<&mut B>) -> Result<Option<Bytes>, Error>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    loop {
        let frame = match AssertUnwindSafe(body.as_mut().frame()).catch_unwind().await {
            Ok(frame) => frame,
            Err(panic) => return Err(Error::Panic(panic_message(panic.as_ref()))),
        };
        let Some(frame) = frame else {
            return Ok(None);
        };
        let frame = frame.map_err(|error| Error::Body(error.into()))?;
        if let Ok(mut data) = frame.into_data()
            && data.has_remaining()
        {
            return Ok(Some(data.copy_to_bytes(data.remaining())));
        }
    }
}

async fn send_pieces(
    sender: &mut CallResourceResponseSender,
    pieces: &mut Pieces,
) -> Result<(), Error> {
    for piece in pieces {
        sender
            .send(CallResourceResponse::body_chunk(piece))
            .await
            .map_err(Error::Send)?;
    }
    Ok(())
}

/// A chunk cut into pieces of at most [`MAX_MESSAGE_BODY`] bytes (zero-copy).
struct Pieces(Bytes);

impl Iterator for Pieces {
    type Item = Bytes;

    fn next(&mut self) -> Option<Bytes> {
        if self.0.is_empty() {
            return None;
        }
        let len = self.0.len().min(MAX_MESSAGE_BODY);
        Some(self.0.split_to(len))
    }
}

/// The message of a panic payload (`panic!` gives a `&str` or a `String`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "a non-string panic payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_chunks_are_split_without_copying() {
        let chunk = Bytes::from(vec![7u8; 2 * MAX_MESSAGE_BODY + 5]);
        let start = chunk.as_ptr();
        let pieces: Vec<Bytes> = Pieces(chunk).collect();
        assert_eq!(
            pieces.iter().map(Bytes::len).collect::<Vec<_>>(),
            [MAX_MESSAGE_BODY, MAX_MESSAGE_BODY, 5]
        );
        assert_eq!(pieces[0].as_ptr(), start);
        assert_eq!(Pieces(Bytes::new()).count(), 0);
    }
}
