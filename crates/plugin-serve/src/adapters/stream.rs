//! `pluginv2.Stream`: `SubscribeStream`, `RunStream` and `PublishStream`
//! (Grafana Live).

use plugin_backend::rpc;
use plugin_backend::{Handler, RunStreamRequest, StreamSender};
use plugin_proto::pluginv2::{self, stream_server};
use tonic::{Request, Response, Status};

use tracing::Instrument;

use super::{Adapter, HandlerStream, ResponseStream, from_metadata};

#[tonic::async_trait]
impl<H: Handler + 'static> stream_server::Stream for Adapter<H> {
    async fn subscribe_stream(
        &self,
        request: Request<pluginv2::SubscribeStreamRequest>,
    ) -> Result<Response<pluginv2::SubscribeStreamResponse>, Status> {
        self.unary::<rpc::SubscribeStream, _, _>(request).await
    }

    type RunStreamStream = ResponseStream<pluginv2::StreamPacket>;

    async fn run_stream(
        &self,
        request: Request<pluginv2::RunStreamRequest>,
    ) -> Result<Response<Self::RunStreamStream>, Status> {
        let (metadata, _, message) = request.into_parts();
        let mut request = RunStreamRequest::try_from(message)?;
        let span = from_metadata(&metadata, &mut request.plugin_context);
        let handler = self.handler.clone();
        let stream: HandlerStream<pluginv2::StreamPacket> = HandlerStream::new(move |sender| {
            let sender = StreamSender::new(sender);
            async move { handler.run_stream(request, sender).await }.instrument(span)
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn publish_stream(
        &self,
        request: Request<pluginv2::PublishStreamRequest>,
    ) -> Result<Response<pluginv2::PublishStreamResponse>, Status> {
        self.unary::<rpc::PublishStream, _, _>(request).await
    }
}
