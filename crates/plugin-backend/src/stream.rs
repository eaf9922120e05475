//! Grafana Live streams: subscribing ([`SubscribeStreamRequest`]), publishing
//! ([`PublishStreamRequest`]) and running ([`RunStreamRequest`] with a
//! [`StreamSender`]).
//!
//! Grafana asks the plugin whether a user may subscribe to a channel path,
//! then runs one stream per path for all its subscribers; the plugin pushes
//! packets (usually frames as JSON) through the [`StreamSender`] until
//! Grafana cancels the call.

use std::collections::HashMap;

use bytes::Bytes;
use plugin_data::{Frame, FrameInclude};

use crate::context::PluginContext;
use crate::error::Error;
use crate::sender::ResponseSender;

/// A request to subscribe to a stream path.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SubscribeStreamRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// The channel path within the plugin's namespace.
    pub path: String,
    /// Data sent along with the subscription (JSON).
    pub data: Bytes,
    /// Forwarded HTTP headers and other request metadata.
    pub headers: HashMap<String, String>,
}

/// A request to publish data to a stream path.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PublishStreamRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// The channel path within the plugin's namespace.
    pub path: String,
    /// The data to publish (JSON).
    pub data: Bytes,
    /// Forwarded HTTP headers and other request metadata.
    pub headers: HashMap<String, String>,
}

/// A request to run the stream of a path.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct RunStreamRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// The channel path within the plugin's namespace.
    pub path: String,
    /// Data sent along with the first subscription (JSON).
    pub data: Bytes,
    /// Forwarded HTTP headers and other request metadata.
    pub headers: HashMap<String, String>,
}

/// The answer to a subscribe or publish request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum StreamStatus {
    /// Allowed.
    #[default]
    Ok,
    /// No such stream.
    NotFound,
    /// The user may not do this.
    PermissionDenied,
}

/// The answer to a [`SubscribeStreamRequest`], with optional initial data
/// for the new subscriber.
///
/// ```
/// use plugin_backend::{StreamStatus, SubscribeStreamResponse};
/// use plugin_data::{Field, Frame, FrameInclude};
///
/// let schema = Frame::new("ticks").with_field(Field::new("value", Vec::<f64>::new()));
/// let response = SubscribeStreamResponse::ok().with_initial_frame(&schema, FrameInclude::SchemaOnly)?;
/// assert_eq!(response.status, StreamStatus::Ok);
/// assert!(!response.data.is_empty());
/// # Ok::<(), plugin_backend::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SubscribeStreamResponse {
    /// Whether the subscription is allowed.
    pub status: StreamStatus,
    /// Initial data for the subscriber (JSON), possibly empty.
    pub data: Bytes,
}

impl SubscribeStreamResponse {
    /// An allowed subscription without initial data.
    pub fn ok() -> Self {
        SubscribeStreamResponse::with_status(StreamStatus::Ok)
    }

    /// An answer with status `status` and no initial data.
    pub fn with_status(status: StreamStatus) -> Self {
        SubscribeStreamResponse {
            status,
            data: Bytes::new(),
        }
    }

    /// This answer, with `frame` (the parts in `include`) as initial data.
    pub fn with_initial_frame(
        mut self,
        frame: &Frame,
        include: FrameInclude,
    ) -> Result<Self, Error> {
        self.data = frame.to_json(include)?.into();
        Ok(self)
    }

    /// This answer, with `json` as initial data; it must be valid JSON.
    pub fn with_initial_data(mut self, json: impl Into<Bytes>) -> Result<Self, Error> {
        self.data = checked_json(json.into(), "initial stream data")?;
        Ok(self)
    }
}

/// The answer to a [`PublishStreamRequest`].
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PublishStreamResponse {
    /// Whether publishing is allowed.
    pub status: StreamStatus,
    /// The data to publish to subscribers (JSON), possibly different from
    /// the request's.
    pub data: Bytes,
}

impl PublishStreamResponse {
    /// An answer with status `status`, publishing `data`.
    pub fn new(status: StreamStatus, data: impl Into<Bytes>) -> Self {
        PublishStreamResponse {
            status,
            data: data.into(),
        }
    }
}

/// One message of a running stream.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct StreamPacket {
    /// The payload, usually JSON.
    pub data: Bytes,
}

impl StreamPacket {
    /// A packet with payload `data`.
    pub fn new(data: impl Into<Bytes>) -> Self {
        StreamPacket { data: data.into() }
    }
}

/// Pushes packets of a running stream to Grafana.
#[derive(Debug)]
pub struct StreamSender {
    sender: ResponseSender<StreamPacket>,
}

impl StreamSender {
    /// A stream sender over `sender`.
    pub fn new(sender: ResponseSender<StreamPacket>) -> Self {
        StreamSender { sender }
    }

    /// Sends the parts `include` of `frame` as frame JSON; send the schema
    /// once ([`FrameInclude::All`]) and then data only to save bandwidth.
    pub async fn send_frame(&mut self, frame: &Frame, include: FrameInclude) -> Result<(), Error> {
        let json = frame.to_json(include)?;
        self.send_bytes(json).await
    }

    /// Sends `json`, which must be valid JSON.
    pub async fn send_json(&mut self, json: impl Into<Bytes>) -> Result<(), Error> {
        let json = checked_json(json.into(), "stream packet")?;
        self.send_bytes(json).await
    }

    /// Sends `data` as it is.
    pub async fn send_bytes(&mut self, data: impl Into<Bytes>) -> Result<(), Error> {
        self.sender.send(StreamPacket::new(data)).await
    }
}

fn checked_json(json: Bytes, what: &'static str) -> Result<Bytes, Error> {
    serde_json::from_slice::<serde::de::IgnoredAny>(&json)
        .map_err(|source| Error::json(what, source))?;
    Ok(json)
}
