//! `pluginv2.Stream`: `SubscribeStream`, `RunStream` and `PublishStream`
//! (Grafana Live).

use plugin_backend::{
    Handler, PublishStreamRequest, RunStreamRequest, StreamSender, SubscribeStreamRequest,
};
use plugin_proto::pluginv2::{self, stream_server};
use tonic::{Request, Response, Status};

use super::{Adapter, HandlerStream, ResponseStream, in_call_scope};

#[tonic::async_trait]
impl<H: Handler + 'static> stream_server::Stream for Adapter<H> {
    async fn subscribe_stream(
        &self,
        request: Request<pluginv2::SubscribeStreamRequest>,
    ) -> Result<Response<pluginv2::SubscribeStreamResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let request = SubscribeStreamRequest::try_from(message)?;
        let response = in_call_scope(&metadata, self.handler.subscribe_stream(request)).await?;
        Ok(Response::new(response.into()))
    }

    type RunStreamStream = ResponseStream<pluginv2::StreamPacket>;

    async fn run_stream(
        &self,
        request: Request<pluginv2::RunStreamRequest>,
    ) -> Result<Response<Self::RunStreamStream>, Status> {
        let (metadata, _, message) = request.into_parts();
        let request = RunStreamRequest::try_from(message)?;
        let handler = self.handler.clone();
        let stream: HandlerStream<pluginv2::StreamPacket> = HandlerStream::new(move |sender| {
            let sender = StreamSender::new(sender);
            in_call_scope(&metadata, async move {
                handler.run_stream(request, sender).await
            })
        });
        Ok(Response::new(Box::pin(stream)))
    }

    async fn publish_stream(
        &self,
        request: Request<pluginv2::PublishStreamRequest>,
    ) -> Result<Response<pluginv2::PublishStreamResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let request = PublishStreamRequest::try_from(message)?;
        let response = in_call_scope(&metadata, self.handler.publish_stream(request)).await?;
        Ok(Response::new(response.into()))
    }
}
