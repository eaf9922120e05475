//! `pluginv2.Diagnostics`: `CheckHealth` and `CollectMetrics`.

use plugin_backend::{CheckHealthRequest, CollectMetricsRequest, Handler};
use plugin_proto::pluginv2::{self, diagnostics_server};
use tonic::{Request, Response, Status};

use super::{Adapter, in_call_scope};

#[tonic::async_trait]
impl<H: Handler + 'static> diagnostics_server::Diagnostics for Adapter<H> {
    async fn check_health(
        &self,
        request: Request<pluginv2::CheckHealthRequest>,
    ) -> Result<Response<pluginv2::CheckHealthResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let request = CheckHealthRequest::try_from(message)?;
        let result = in_call_scope(&metadata, self.handler.check_health(request)).await?;
        Ok(Response::new(result.into()))
    }

    async fn collect_metrics(
        &self,
        request: Request<pluginv2::CollectMetricsRequest>,
    ) -> Result<Response<pluginv2::CollectMetricsResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let request = CollectMetricsRequest::try_from(message)?;
        let result = in_call_scope(&metadata, self.handler.collect_metrics(request)).await?;
        Ok(Response::new(result.into()))
    }
}
