//! Stream requests, answers and packets ↔ wire messages.

use plugin_proto::pluginv2;
use plugin_proto::pluginv2::{publish_stream_response, subscribe_stream_response};

use super::required_plugin_context;
use crate::error::Error;
use crate::stream::{
    PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamPacket, StreamStatus,
    SubscribeStreamRequest, SubscribeStreamResponse,
};

impl StreamStatus {
    fn from_subscribe_wire(value: i32) -> Result<Self, Error> {
        match subscribe_stream_response::Status::try_from(value) {
            Ok(subscribe_stream_response::Status::Ok) => Ok(StreamStatus::Ok),
            Ok(subscribe_stream_response::Status::NotFound) => Ok(StreamStatus::NotFound),
            Ok(subscribe_stream_response::Status::PermissionDenied) => {
                Ok(StreamStatus::PermissionDenied)
            }
            Err(_) => Err(Error::invalid(
                "stream status",
                format!("unknown status {value}"),
            )),
        }
    }

    fn to_subscribe_wire(self) -> i32 {
        let status = match self {
            StreamStatus::Ok => subscribe_stream_response::Status::Ok,
            StreamStatus::NotFound => subscribe_stream_response::Status::NotFound,
            StreamStatus::PermissionDenied => subscribe_stream_response::Status::PermissionDenied,
        };
        status as i32
    }

    fn from_publish_wire(value: i32) -> Result<Self, Error> {
        match publish_stream_response::Status::try_from(value) {
            Ok(publish_stream_response::Status::Ok) => Ok(StreamStatus::Ok),
            Ok(publish_stream_response::Status::NotFound) => Ok(StreamStatus::NotFound),
            Ok(publish_stream_response::Status::PermissionDenied) => {
                Ok(StreamStatus::PermissionDenied)
            }
            Err(_) => Err(Error::invalid(
                "stream status",
                format!("unknown status {value}"),
            )),
        }
    }

    fn to_publish_wire(self) -> i32 {
        let status = match self {
            StreamStatus::Ok => publish_stream_response::Status::Ok,
            StreamStatus::NotFound => publish_stream_response::Status::NotFound,
            StreamStatus::PermissionDenied => publish_stream_response::Status::PermissionDenied,
        };
        status as i32
    }
}

/// The three stream requests have the same fields on both sides.
macro_rules! stream_request_conversions {
    ($($request:ident),+ $(,)?) => {$(
        impl TryFrom<pluginv2::$request> for $request {
            type Error = Error;

            fn try_from(message: pluginv2::$request) -> Result<Self, Error> {
                Ok($request {
                    plugin_context: required_plugin_context(message.plugin_context)?,
                    path: message.path,
                    data: message.data,
                    headers: message.headers,
                })
            }
        }

        impl From<$request> for pluginv2::$request {
            fn from(request: $request) -> Self {
                pluginv2::$request {
                    plugin_context: Some(request.plugin_context.into()),
                    path: request.path,
                    data: request.data,
                    headers: request.headers,
                }
            }
        }
    )+};
}

stream_request_conversions!(
    SubscribeStreamRequest,
    PublishStreamRequest,
    RunStreamRequest
);

impl TryFrom<pluginv2::SubscribeStreamResponse> for SubscribeStreamResponse {
    type Error = Error;

    fn try_from(message: pluginv2::SubscribeStreamResponse) -> Result<Self, Error> {
        Ok(SubscribeStreamResponse {
            status: StreamStatus::from_subscribe_wire(message.status)?,
            data: message.data,
        })
    }
}

impl From<SubscribeStreamResponse> for pluginv2::SubscribeStreamResponse {
    fn from(response: SubscribeStreamResponse) -> Self {
        pluginv2::SubscribeStreamResponse {
            status: response.status.to_subscribe_wire(),
            data: response.data,
        }
    }
}

impl TryFrom<pluginv2::PublishStreamResponse> for PublishStreamResponse {
    type Error = Error;

    fn try_from(message: pluginv2::PublishStreamResponse) -> Result<Self, Error> {
        Ok(PublishStreamResponse {
            status: StreamStatus::from_publish_wire(message.status)?,
            data: message.data,
        })
    }
}

impl From<PublishStreamResponse> for pluginv2::PublishStreamResponse {
    fn from(response: PublishStreamResponse) -> Self {
        pluginv2::PublishStreamResponse {
            status: response.status.to_publish_wire(),
            data: response.data,
        }
    }
}

impl From<pluginv2::StreamPacket> for StreamPacket {
    fn from(message: pluginv2::StreamPacket) -> Self {
        StreamPacket { data: message.data }
    }
}

impl From<StreamPacket> for pluginv2::StreamPacket {
    fn from(packet: StreamPacket) -> Self {
        pluginv2::StreamPacket { data: packet.data }
    }
}
