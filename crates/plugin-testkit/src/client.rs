//! [`PluginClient`]: every RPC Grafana makes to a plugin, with SDK types in
//! and out.
//!
//! Requests are anything that converts into the wire message, so both the
//! SDK request types of `plugin-backend` and raw `pluginv2` messages work.
//! Responses are decoded as Grafana decodes them: data frames by each
//! response's own `format`, chunked answers assembled by frame id, resource
//! answers concatenated, stream packets as a [`PacketStream`].

use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_core::Stream;
use futures_util::StreamExt;
use hyper_util::rt::TokioIo;
use plugin_backend::{
    CallResourceResponse, CheckHealthResult, CollectMetricsResult, ConversionResponse,
    DataResponse, MutationResponse, PublishStreamResponse, QueryChunkedDataResponse,
    QueryDataResponse, StreamPacket, SubscribeStreamResponse, ValidationResponse,
};
use plugin_data::Frame;
use plugin_proto::go_plugin::{self, grpc_controller_client::GrpcControllerClient};
use plugin_proto::pluginv2::{
    self, admission_control_client::AdmissionControlClient, data_client::DataClient,
    diagnostics_client::DiagnosticsClient, resource_client::ResourceClient,
    resource_conversion_client::ResourceConversionClient, stream_client::StreamClient,
};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use crate::chunks::ChunkAssembler;
use crate::error::Error;
use crate::handshake::PluginAddress;

/// The name under which go-plugin hosts ask the gRPC health service about a
/// plugin.
pub const HEALTH_SERVICE_NAME: &str = "plugin";

/// Grafana accepts messages of any size from plugins (`MaxInt32`).
const MAX_MESSAGE_SIZE: usize = i32::MAX as usize;

/// The HTTP/2 settings of Grafana's gRPC client (grpc-go): flow-control
/// windows that grow with the measured bandwidth-delay product (grpc-go's
/// BDP estimation, on by default) rather than HTTP/2's fixed 64 KiB, so
/// large answers are not throttled by window updates.
fn grafana_like(endpoint: Endpoint) -> Endpoint {
    endpoint.http2_adaptive_window(true)
}

/// A gRPC client for one plugin, speaking to it as Grafana does.
///
/// Cloning is cheap: clones share one HTTP/2 connection, and calls may run
/// concurrently.
#[derive(Debug, Clone)]
pub struct PluginClient {
    channel: Channel,
}

impl PluginClient {
    /// A client on an existing channel.
    pub fn new(channel: Channel) -> Self {
        PluginClient { channel }
    }

    /// Connects to a plugin listening at `address` (a handshake's address).
    ///
    /// # Errors
    ///
    /// [`Error::Connect`] when nothing accepts the connection.
    pub async fn connect(address: &PluginAddress) -> Result<Self, Error> {
        let connect_error = |source| Error::Connect {
            address: address.to_string(),
            source,
        };
        let channel = match address {
            PluginAddress::Tcp(socket) => {
                let endpoint =
                    Endpoint::from_shared(format!("http://{socket}")).map_err(connect_error)?;
                grafana_like(endpoint).connect().await
            }
            PluginAddress::Unix(path) => {
                // The URI is required by the API but never resolved: the
                // connector below dials the socket for every connection.
                let path: PathBuf = path.clone();
                grafana_like(Endpoint::from_static("http://[::]:50051"))
                    .connect_with_connector(tower::service_fn(move |_| {
                        let path = path.clone();
                        async move {
                            tokio::net::UnixStream::connect(path)
                                .await
                                .map(TokioIo::new)
                        }
                    }))
                    .await
            }
        };
        Ok(PluginClient::new(channel.map_err(connect_error)?))
    }

    /// The underlying channel, for calls this client does not wrap.
    pub fn channel(&self) -> &Channel {
        &self.channel
    }

    /// Asks the standard gRPC health service whether service `plugin` is
    /// serving, as go-plugin's `Ping` does.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails, [`Error::NotServing`] when the
    /// service answers anything but `SERVING`.
    pub async fn ping(&self) -> Result<(), Error> {
        let request = HealthCheckRequest {
            service: HEALTH_SERVICE_NAME.to_owned(),
        };
        let response = HealthClient::new(self.channel.clone())
            .check(request)
            .await?
            .into_inner();
        match ServingStatus::try_from(response.status) {
            Ok(ServingStatus::Serving) => Ok(()),
            Ok(other) => Err(Error::NotServing(other.as_str_name().to_owned())),
            Err(_) => Err(Error::NotServing(format!(
                "unknown status {}",
                response.status
            ))),
        }
    }

    /// Asks the plugin to exit through go-plugin's `GRPCController.Shutdown`.
    ///
    /// The call returns once the plugin acknowledged; the plugin then stops
    /// serving and exits on its own.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the plugin does not serve the controller.
    pub async fn shutdown(&self) -> Result<(), Error> {
        GrpcControllerClient::new(self.channel.clone())
            .shutdown(go_plugin::Empty {})
            .await?;
        Ok(())
    }

    /// `Data/QueryData`: the responses by refId, their frames decoded by
    /// each response's own `format`.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails, [`Error::Backend`] when a
    /// response does not decode.
    pub async fn query_data(
        &self,
        request: impl Into<pluginv2::QueryDataRequest>,
    ) -> Result<QueryDataResponse, Error> {
        let response = self.data().query_data(request.into()).await?.into_inner();
        Ok(QueryDataResponse::try_from(response)?)
    }

    /// `Data/QueryData`, the answer as it came over the wire (frames still
    /// encoded): for checking wire details such as each response's `format`,
    /// and for measuring a plugin without the cost of decoding.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails.
    pub async fn query_data_message(
        &self,
        request: impl Into<pluginv2::QueryDataRequest>,
    ) -> Result<pluginv2::QueryDataResponse, Error> {
        Ok(self.data().query_data(request.into()).await?.into_inner())
    }

    /// `Data/QueryChunkedData`: every chunk, in arrival order, undecoded.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call or the stream fails, [`Error::Backend`]
    /// when a chunk is malformed.
    pub async fn query_chunked_data_chunks(
        &self,
        request: impl Into<pluginv2::QueryChunkedDataRequest>,
    ) -> Result<Vec<QueryChunkedDataResponse>, Error> {
        let mut stream = self
            .data()
            .query_chunked_data(request.into())
            .await?
            .into_inner();
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.message().await? {
            chunks.push(QueryChunkedDataResponse::try_from(chunk)?);
        }
        Ok(chunks)
    }

    /// `Data/QueryChunkedData`, assembled as Grafana assembles it: the rows of
    /// chunks with the same refId and frameId are appended to one frame;
    /// error chunks set their refId's error and status.
    ///
    /// # Errors
    ///
    /// As [`query_chunked_data_chunks`](Self::query_chunked_data_chunks),
    /// plus [`Error::InvalidResponse`] when a chunk's schema changes mid-frame
    /// or a JSON data-only chunk arrives before its schema.
    pub async fn query_chunked_data(
        &self,
        request: impl Into<pluginv2::QueryChunkedDataRequest>,
    ) -> Result<QueryDataResponse, Error> {
        let mut assembler = ChunkAssembler::default();
        for chunk in self.query_chunked_data_chunks(request).await? {
            assembler.push(chunk)?;
        }
        assembler.finish()
    }

    /// `Resource/CallResource`, collected as Grafana collects it: status and
    /// headers from the first message, the bodies of all messages
    /// concatenated.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails, [`Error::Backend`] when a message
    /// is malformed (e.g. an invalid status code), [`Error::InvalidResponse`]
    /// when the plugin sent no message at all.
    pub async fn call_resource(
        &self,
        request: impl Into<pluginv2::CallResourceRequest>,
    ) -> Result<CallResourceResponse, Error> {
        let mut stream = self
            .resource()
            .call_resource(request.into())
            .await?
            .into_inner();
        let mut collected: Option<CallResourceResponse> = None;
        let mut body = BytesMut::new();
        while let Some(message) = stream.message().await? {
            let message = CallResourceResponse::try_from(message)?;
            body.extend_from_slice(&message.body);
            if collected.is_none() {
                collected = Some(message);
            }
        }
        let mut response = collected.ok_or_else(|| {
            Error::InvalidResponse("the plugin answered a resource call with no message".to_owned())
        })?;
        response.body = body.freeze();
        Ok(response)
    }

    /// `Diagnostics/CheckHealth`.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails, [`Error::Backend`] when the answer
    /// is malformed.
    pub async fn check_health(
        &self,
        request: impl Into<pluginv2::CheckHealthRequest>,
    ) -> Result<CheckHealthResult, Error> {
        let response = self
            .diagnostics()
            .check_health(request.into())
            .await?
            .into_inner();
        Ok(CheckHealthResult::try_from(response)?)
    }

    /// `Diagnostics/CollectMetrics`.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails.
    pub async fn collect_metrics(
        &self,
        request: impl Into<pluginv2::CollectMetricsRequest>,
    ) -> Result<CollectMetricsResult, Error> {
        let response = self
            .diagnostics()
            .collect_metrics(request.into())
            .await?
            .into_inner();
        Ok(CollectMetricsResult::from(response))
    }

    /// `Stream/SubscribeStream`.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails, [`Error::Backend`] when the answer
    /// is malformed.
    pub async fn subscribe_stream(
        &self,
        request: impl Into<pluginv2::SubscribeStreamRequest>,
    ) -> Result<SubscribeStreamResponse, Error> {
        let response = self
            .stream()
            .subscribe_stream(request.into())
            .await?
            .into_inner();
        Ok(SubscribeStreamResponse::try_from(response)?)
    }

    /// `Stream/PublishStream`.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails, [`Error::Backend`] when the answer
    /// is malformed.
    pub async fn publish_stream(
        &self,
        request: impl Into<pluginv2::PublishStreamRequest>,
    ) -> Result<PublishStreamResponse, Error> {
        let response = self
            .stream()
            .publish_stream(request.into())
            .await?
            .into_inner();
        Ok(PublishStreamResponse::try_from(response)?)
    }

    /// `Stream/RunStream`: the packets as they arrive. Dropping the
    /// [`PacketStream`] cancels the call, as Grafana does when the last
    /// subscriber leaves.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails to start.
    pub async fn run_stream(
        &self,
        request: impl Into<pluginv2::RunStreamRequest>,
    ) -> Result<PacketStream, Error> {
        let inner = self.stream().run_stream(request.into()).await?.into_inner();
        Ok(PacketStream {
            inner,
            schema: None,
        })
    }

    /// `AdmissionControl/ValidateAdmission`.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails.
    pub async fn validate_admission(
        &self,
        request: impl Into<pluginv2::AdmissionRequest>,
    ) -> Result<ValidationResponse, Error> {
        let response = self
            .admission()
            .validate_admission(request.into())
            .await?
            .into_inner();
        Ok(ValidationResponse::from(response))
    }

    /// `AdmissionControl/MutateAdmission`.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails.
    pub async fn mutate_admission(
        &self,
        request: impl Into<pluginv2::AdmissionRequest>,
    ) -> Result<MutationResponse, Error> {
        let response = self
            .admission()
            .mutate_admission(request.into())
            .await?
            .into_inner();
        Ok(MutationResponse::from(response))
    }

    /// `ResourceConversion/ConvertObjects`.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the call fails.
    pub async fn convert_objects(
        &self,
        request: impl Into<pluginv2::ConversionRequest>,
    ) -> Result<ConversionResponse, Error> {
        let response = self
            .conversion()
            .convert_objects(request.into())
            .await?
            .into_inner();
        Ok(ConversionResponse::from(response))
    }

    fn data(&self) -> DataClient<Channel> {
        DataClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn resource(&self) -> ResourceClient<Channel> {
        ResourceClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn diagnostics(&self) -> DiagnosticsClient<Channel> {
        DiagnosticsClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn stream(&self) -> StreamClient<Channel> {
        StreamClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn admission(&self) -> AdmissionControlClient<Channel> {
        AdmissionControlClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
    }

    fn conversion(&self) -> ResourceConversionClient<Channel> {
        ResourceConversionClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_SIZE)
    }
}

/// The packets of a running stream (`Stream/RunStream`).
///
/// A [`Stream`] of raw [`StreamPacket`]s; [`next_frame`](Self::next_frame)
/// decodes packets that carry frame JSON, remembering the schema of the
/// first packet so that later data-only packets decode too.
#[derive(Debug)]
pub struct PacketStream {
    inner: tonic::Streaming<pluginv2::StreamPacket>,
    schema: Option<Frame>,
}

impl PacketStream {
    /// The next packet, or `None` when the plugin ended the stream.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the stream fails.
    pub async fn next_packet(&mut self) -> Result<Option<StreamPacket>, Error> {
        Ok(self.inner.message().await?.map(StreamPacket::from))
    }

    /// The next packet decoded as a frame, or `None` when the plugin ended
    /// the stream.
    ///
    /// A packet with a schema (`{"schema":…,"data":…}`) sets the schema for
    /// the packets after it; a data-only packet (`{"data":…}`) is decoded
    /// against the last schema seen.
    ///
    /// # Errors
    ///
    /// [`Error::Rpc`] when the stream fails, [`Error::Data`] when the packet
    /// is not frame JSON, [`Error::InvalidResponse`] for data before any schema.
    pub async fn next_frame(&mut self) -> Result<Option<Frame>, Error> {
        let Some(packet) = self.next_packet().await? else {
            return Ok(None);
        };
        self.decode_frame(&packet.data).map(Some)
    }

    fn decode_frame(&mut self, data: &Bytes) -> Result<Frame, Error> {
        if has_schema(data) {
            let frame = Frame::from_json(data)?;
            self.schema = Some(frame.empty_like());
            return Ok(frame);
        }
        let schema = self.schema.as_ref().ok_or_else(|| {
            Error::InvalidResponse("a data-only stream packet arrived before any schema".to_owned())
        })?;
        Ok(Frame::from_json_data(schema, data)?)
    }
}

impl Stream for PacketStream {
    type Item = Result<StreamPacket, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner
            .poll_next_unpin(cx)
            .map(|item| item.map(|message| Ok(StreamPacket::from(message?))))
    }
}

/// Whether frame JSON carries a `schema` (else it is data only).
pub(crate) fn has_schema(json: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe<'a> {
        #[serde(borrow, default)]
        schema: Option<&'a serde_json::value::RawValue>,
    }
    serde_json::from_slice::<Probe<'_>>(json).is_ok_and(|probe| probe.schema.is_some())
}

/// The responses of a query answer in refId order (a `HashMap` has none):
/// handy for printing and for stable assertions.
pub fn responses_in_ref_id_order(response: &QueryDataResponse) -> Vec<(&str, &DataResponse)> {
    let mut responses: Vec<(&str, &DataResponse)> = response
        .responses
        .iter()
        .map(|(ref_id, response)| (ref_id.as_str(), response))
        .collect();
    responses.sort_unstable_by_key(|(ref_id, _)| *ref_id);
    responses
}
