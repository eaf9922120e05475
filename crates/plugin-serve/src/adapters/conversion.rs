//! `pluginv2.ResourceConversion`: `ConvertObjects` (query conversion
//! included: plugin-backend routes it).

use plugin_backend::Handler;
use plugin_backend::rpc;
use plugin_proto::pluginv2::{self, resource_conversion_server};
use tonic::{Request, Response, Status};

use super::Adapter;

#[tonic::async_trait]
impl<H: Handler + 'static> resource_conversion_server::ResourceConversion for Adapter<H> {
    async fn convert_objects(
        &self,
        request: Request<pluginv2::ConversionRequest>,
    ) -> Result<Response<pluginv2::ConversionResponse>, Status> {
        self.unary::<rpc::ConvertObjects, _, _>(request).await
    }
}
