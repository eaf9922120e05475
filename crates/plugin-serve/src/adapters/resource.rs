//! `pluginv2.Resource`: `CallResource`.

use plugin_backend::{CallResourceRequest, Handler};
use plugin_proto::pluginv2::{self, resource_server};
use tonic::{Request, Response, Status};

use tracing::Instrument;

use super::{Adapter, HandlerStream, ResponseStream, from_metadata};

#[tonic::async_trait]
impl<H: Handler + 'static> resource_server::Resource for Adapter<H> {
    type CallResourceStream = ResponseStream<pluginv2::CallResourceResponse>;

    async fn call_resource(
        &self,
        request: Request<pluginv2::CallResourceRequest>,
    ) -> Result<Response<Self::CallResourceStream>, Status> {
        let (metadata, _, message) = request.into_parts();
        let mut request = CallResourceRequest::try_from(message)?;
        let span = from_metadata(&metadata, &mut request.plugin_context);
        let handler = self.handler.clone();
        let stream: HandlerStream<pluginv2::CallResourceResponse> =
            HandlerStream::new(move |sender| {
                async move { handler.call_resource(request, sender).await }.instrument(span)
            });
        Ok(Response::new(Box::pin(stream)))
    }
}
