//! `pluginv2.ResourceConversion`: `ConvertObjects` (query conversion
//! included: plugin-backend routes it).

use plugin_backend::{ConversionRequest, Handler};
use plugin_proto::pluginv2::{self, resource_conversion_server};
use tonic::{Request, Response, Status};

use super::{Adapter, in_call_scope};

#[tonic::async_trait]
impl<H: Handler + 'static> resource_conversion_server::ResourceConversion for Adapter<H> {
    async fn convert_objects(
        &self,
        request: Request<pluginv2::ConversionRequest>,
    ) -> Result<Response<pluginv2::ConversionResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let request = ConversionRequest::try_from(message)?;
        let response = in_call_scope(&metadata, self.handler.convert_objects(request)).await?;
        Ok(Response::new(response.into()))
    }
}
