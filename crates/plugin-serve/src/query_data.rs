//! `pluginv2.Data/QueryData`, served so that frames reach the socket
//! without a copy.
//!
//! QueryData answers carry the plugin's encoded frames, often megabytes of
//! them. Served through tonic's generated code, the answer would be
//! encoded into one fresh buffer, copying every frame once more. This route
//! answers the same call itself: the response message becomes a
//! [`ScatteredMessage`], whose large frames are the buffers the frame
//! encoder produced, and the response body hands those buffers to HTTP/2 as
//! they are.
//!
//! Everything else is the unary gRPC contract as tonic and grpc-go keep it:
//! one length-prefixed request message no longer than the receive limit
//! (compressed messages are refused: the plugin announces no compression),
//! the request's metadata passed to the handler, and the status in the
//! trailers, or a trailers-only response for an error.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use http::{HeaderMap, HeaderValue};
use http_body::{Body, Frame, SizeHint};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use plugin_backend::{BoxError, Handler};
use plugin_proto::ScatteredMessage;
use plugin_proto::pluginv2::{self, data_server::Data};
use prost::Message;
use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::adapters::Adapter;
use crate::routes::MessageLimits;

/// The path this route serves.
pub(crate) const PATH: &str = "/pluginv2.Data/QueryData";

/// The gRPC message prefix: a compression flag and a big-endian length.
const PREFIX_LEN: usize = 5;

/// Answers one QueryData call.
pub(crate) async fn call<H, B>(
    adapter: Adapter<H>,
    request: http::Request<B>,
    limits: MessageLimits,
) -> http::Response<tonic::body::Body>
where
    H: Handler + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    match answer(adapter, request, limits).await {
        Ok(response) => response,
        Err(status) => status.into_http(),
    }
}

async fn answer<H, B>(
    adapter: Adapter<H>,
    request: http::Request<B>,
    limits: MessageLimits,
) -> Result<http::Response<tonic::body::Body>, Status>
where
    H: Handler + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let (parts, body) = request.into_parts();
    let message = read_message(body, limits.receive).await?;
    let message = pluginv2::QueryDataRequest::decode(message).map_err(|err| {
        Status::internal(format!("failed to decode the QueryData request: {err}"))
    })?;
    let request = tonic::Request::from_parts(
        MetadataMap::from_headers(parts.headers),
        parts.extensions,
        message,
    );
    let response = adapter.query_data(request).await?.into_inner();

    let message = ScatteredMessage::query_data_response(response);
    if message.len() > limits.send {
        return Err(Status::resource_exhausted(format!(
            "the QueryData response is {} bytes, more than the send limit of {} bytes",
            message.len(),
            limits.send
        )));
    }
    let body = ScatteredBody::new(message)?;
    let mut response = http::Response::new(tonic::body::Body::new(body));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    Ok(response)
}

/// Reads the one message of a unary request body, without its prefix.
async fn read_message<B>(body: B, limit: usize) -> Result<Bytes, Status>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let body = Limited::new(body, limit.saturating_add(PREFIX_LEN))
        .collect()
        .await
        .map_err(|err| {
            if err.is::<LengthLimitError>() {
                Status::resource_exhausted(format!(
                    "the request message is larger than the receive limit of {limit} bytes"
                ))
            } else {
                Status::internal(format!("reading the request failed: {err}"))
            }
        })?;
    let mut body = body.to_bytes();
    if body.len() < PREFIX_LEN {
        return Err(Status::internal("the request has no message"));
    }
    let compressed = body.get_u8();
    let len = body.get_u32() as usize;
    if compressed != 0 {
        return Err(Status::unimplemented(
            "compressed messages are not supported: the plugin accepts identity encoding only",
        ));
    }
    if len > limit {
        return Err(Status::resource_exhausted(format!(
            "the request message is {len} bytes, more than the receive limit of {limit} bytes"
        )));
    }
    if body.len() != len {
        return Err(Status::internal(format!(
            "a unary request must hold one message of {len} bytes; the body holds {} bytes after the prefix",
            body.len()
        )));
    }
    Ok(body)
}

/// A response body: the prefixed message, buffer by buffer, then the
/// trailers with `grpc-status: 0`.
struct ScatteredBody {
    chunks: VecDeque<Bytes>,
    remaining: u64,
    trailers: Option<HeaderMap>,
}

impl ScatteredBody {
    fn new(message: ScatteredMessage) -> Result<Self, Status> {
        let len = u32::try_from(message.len()).map_err(|_| {
            Status::resource_exhausted(format!(
                "the QueryData response is {} bytes; gRPC messages end at 4 GiB",
                message.len()
            ))
        })?;
        let mut prefix = [0u8; PREFIX_LEN];
        prefix[1..].copy_from_slice(&len.to_be_bytes());
        let mut chunks = VecDeque::with_capacity(message.chunks().len() + 1);
        chunks.push_back(Bytes::copy_from_slice(&prefix));
        chunks.extend(message.into_chunks());
        let mut trailers = HeaderMap::with_capacity(1);
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        Ok(ScatteredBody {
            chunks,
            remaining: u64::from(len) + PREFIX_LEN as u64,
            trailers: Some(trailers),
        })
    }
}

impl Body for ScatteredBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = match self.chunks.pop_front() {
            Some(chunk) => {
                self.remaining -= chunk.len() as u64;
                Some(Frame::data(chunk))
            }
            None => self.trailers.take().map(Frame::trailers),
        };
        Poll::Ready(frame.map(Ok))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty() && self.trailers.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::Full;

    use super::*;

    fn prefixed(message: &[u8], compressed: u8) -> Full<Bytes> {
        let mut body = vec![compressed];
        body.extend((message.len() as u32).to_be_bytes());
        body.extend_from_slice(message);
        Full::new(Bytes::from(body))
    }

    async fn read(body: Full<Bytes>, limit: usize) -> Result<Bytes, Status> {
        read_message(body, limit).await
    }

    #[tokio::test]
    async fn reads_the_one_message() {
        let message = read(prefixed(b"hello", 0), 100).await.unwrap();
        assert_eq!(&message[..], b"hello");
        let empty = read(prefixed(b"", 0), 100).await.unwrap();
        assert!(empty.is_empty());
    }

    #[tokio::test]
    async fn malformed_bodies_are_clear_errors() {
        let cases = [
            (Full::new(Bytes::new()), tonic::Code::Internal),
            (
                Full::new(Bytes::from_static(&[0, 0, 0])),
                tonic::Code::Internal,
            ),
            (prefixed(b"hello", 1), tonic::Code::Unimplemented),
            (prefixed(&[0; 200], 0), tonic::Code::ResourceExhausted),
            (
                Full::new(Bytes::from_static(&[0, 0, 0, 0, 9, 1, 2])),
                tonic::Code::Internal,
            ),
            (
                Full::new(Bytes::from_static(&[0, 0, 0, 0, 1, 1, 2])),
                tonic::Code::Internal,
            ),
        ];
        for (body, code) in cases {
            let status = read(body, 100).await.expect_err("malformed");
            assert_eq!(status.code(), code, "{status:?}");
        }
    }

    #[tokio::test]
    async fn a_prefix_announcing_more_than_the_limit_is_refused() {
        // The prefix alone says 2^32-1 bytes; nothing that large is read.
        let body = Full::new(Bytes::from_static(&[0, 0xff, 0xff, 0xff, 0xff]));
        let status = read(body, 1024).await.expect_err("over the limit");
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
    }

    #[tokio::test]
    async fn the_body_is_the_prefixed_message_then_ok_trailers() {
        let frame = Bytes::from(vec![3u8; 10_000]);
        let response = pluginv2::QueryDataResponse {
            responses: [(
                "A".to_owned(),
                pluginv2::DataResponse {
                    frames: vec![frame.clone()],
                    ..Default::default()
                },
            )]
            .into(),
        };
        let body =
            ScatteredBody::new(ScatteredMessage::query_data_response(response.clone())).unwrap();
        assert_eq!(
            body.size_hint().exact(),
            Some(response.encoded_len() as u64 + 5)
        );
        let collected = body.collect().await.unwrap();
        let trailers = collected.trailers().cloned().expect("trailers");
        assert_eq!(trailers["grpc-status"], "0");
        let mut bytes = collected.to_bytes();
        assert_eq!(bytes.get_u8(), 0, "not compressed");
        assert_eq!(bytes.get_u32() as usize, bytes.len());
        assert_eq!(
            pluginv2::QueryDataResponse::decode(bytes).unwrap(),
            response
        );
    }
}
