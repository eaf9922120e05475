//! `pluginv2.Data`: `QueryData` and `QueryChunkedData`.

use plugin_backend::{ChunkedDataWriter, Handler, QueryChunkedDataRequest, QueryDataRequest};
use plugin_proto::pluginv2::{self, data_server};
use tonic::{Request, Response, Status};

use tracing::Instrument;

use super::{Adapter, HandlerStream, ResponseStream, from_metadata};

#[tonic::async_trait]
impl<H: Handler + 'static> data_server::Data for Adapter<H> {
    async fn query_data(
        &self,
        request: Request<pluginv2::QueryDataRequest>,
    ) -> Result<Response<pluginv2::QueryDataResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let mut request = QueryDataRequest::try_from(message)?;
        let span = from_metadata(&metadata, &mut request.plugin_context);
        // Frames go back in the encoding the request asked for.
        let format = request.format;
        let response = self.handler.query_data(request).instrument(span).await?;
        Ok(Response::new(response.into_proto(format)?))
    }

    type QueryChunkedDataStream = ResponseStream<pluginv2::QueryChunkedDataResponse>;

    async fn query_chunked_data(
        &self,
        request: Request<pluginv2::QueryChunkedDataRequest>,
    ) -> Result<Response<Self::QueryChunkedDataStream>, Status> {
        let (metadata, _, message) = request.into_parts();
        let mut request = QueryChunkedDataRequest::try_from(message)?;
        let span = from_metadata(&metadata, &mut request.plugin_context);
        let handler = self.handler.clone();
        let stream: HandlerStream<pluginv2::QueryChunkedDataResponse> =
            HandlerStream::new(move |sender| {
                let writer = ChunkedDataWriter::new(request.format, sender);
                async move { handler.query_chunked_data(request, writer).await }.instrument(span)
            });
        Ok(Response::new(Box::pin(stream)))
    }
}
