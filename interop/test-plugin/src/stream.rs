//! Grafana Live streams.
//!
//! * SubscribeStream: `count/<N>` is OK, with the `count` frame's schema
//!   (frame JSON, schema only) as initial data; `denied` is
//!   PERMISSION_DENIED; anything else NOT_FOUND.
//! * RunStream `count/<N>` (N ≤ 10 000): N packets, then the stream ends.
//!   Packet `i` is frame `count` with one row: `n` (int64 `i`) and `text`
//!   (string `packet <i>`); the first packet is complete frame JSON, later
//!   ones data only, as Grafana Live expects. Any other path fails.
//! * PublishStream: `echo` is OK and answers the published data; anything
//!   else PERMISSION_DENIED.

use bytes::Bytes;
use plugin_backend::{
    Error, PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamHandler,
    StreamSender, StreamStatus, SubscribeStreamRequest, SubscribeStreamResponse,
};
use plugin_data::{Field, Frame, FrameInclude};

/// The longest `count` stream.
const MAX_PACKETS: u32 = 10_000;

/// The stream handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Streams;

/// The packet count of a `count/<N>` path, if it is one.
fn count(path: &str) -> Option<u32> {
    path.strip_prefix("count/")?
        .parse()
        .ok()
        .filter(|&n| n <= MAX_PACKETS)
}

/// Packet `i` of a `count` stream (no rows for the schema).
fn count_frame(rows: impl Iterator<Item = u32>) -> Frame {
    let rows: Vec<u32> = rows.collect();
    Frame::new("count")
        .with_field(Field::new(
            "n",
            rows.iter().map(|&i| i64::from(i)).collect::<Vec<_>>(),
        ))
        .with_field(Field::new(
            "text",
            rows.iter()
                .map(|i| format!("packet {i}"))
                .collect::<Vec<_>>(),
        ))
}

impl StreamHandler for Streams {
    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        if count(&request.path).is_some() {
            return SubscribeStreamResponse::ok()
                .with_initial_frame(&count_frame(0..0), FrameInclude::SchemaOnly);
        }
        Ok(SubscribeStreamResponse::with_status(
            if request.path == "denied" {
                StreamStatus::PermissionDenied
            } else {
                StreamStatus::NotFound
            },
        ))
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        Ok(if request.path == "echo" {
            PublishStreamResponse::new(StreamStatus::Ok, request.data)
        } else {
            PublishStreamResponse::new(StreamStatus::PermissionDenied, Bytes::new())
        })
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        mut sender: StreamSender,
    ) -> Result<(), Error> {
        let packets = count(&request.path)
            .ok_or_else(|| Error::plugin(format!("no stream {:?}", request.path)))?;
        for i in 0..packets {
            let include = if i == 0 {
                FrameInclude::All
            } else {
                FrameInclude::DataOnly
            };
            sender.send_frame(&count_frame(i..i + 1), include).await?;
        }
        Ok(())
    }
}
