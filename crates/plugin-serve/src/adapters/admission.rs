//! `pluginv2.AdmissionControl`: `ValidateAdmission` and `MutateAdmission`.

use plugin_backend::Handler;
use plugin_backend::rpc;
use plugin_proto::pluginv2::{self, admission_control_server};
use tonic::{Request, Response, Status};

use super::Adapter;

#[tonic::async_trait]
impl<H: Handler + 'static> admission_control_server::AdmissionControl for Adapter<H> {
    async fn validate_admission(
        &self,
        request: Request<pluginv2::AdmissionRequest>,
    ) -> Result<Response<pluginv2::ValidationResponse>, Status> {
        self.unary::<rpc::ValidateAdmission, _, _>(request).await
    }

    async fn mutate_admission(
        &self,
        request: Request<pluginv2::AdmissionRequest>,
    ) -> Result<Response<pluginv2::MutationResponse>, Status> {
        self.unary::<rpc::MutateAdmission, _, _>(request).await
    }
}
