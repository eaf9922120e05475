//! `pluginv2.Diagnostics`: `CheckHealth` and `CollectMetrics`.

use plugin_backend::Handler;
use plugin_backend::rpc;
use plugin_proto::pluginv2::{self, diagnostics_server};
use tonic::{Request, Response, Status};

use super::Adapter;

#[tonic::async_trait]
impl<H: Handler + 'static> diagnostics_server::Diagnostics for Adapter<H> {
    async fn check_health(
        &self,
        request: Request<pluginv2::CheckHealthRequest>,
    ) -> Result<Response<pluginv2::CheckHealthResponse>, Status> {
        self.unary::<rpc::CheckHealth, _, _>(request).await
    }

    async fn collect_metrics(
        &self,
        request: Request<pluginv2::CollectMetricsRequest>,
    ) -> Result<Response<pluginv2::CollectMetricsResponse>, Status> {
        self.unary::<rpc::CollectMetrics, _, _>(request).await
    }
}
