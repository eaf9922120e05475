//! `pluginv2.AdmissionControl`: `ValidateAdmission` and `MutateAdmission`.

use plugin_backend::{AdmissionRequest, Handler};
use plugin_proto::pluginv2::{self, admission_control_server};
use tonic::{Request, Response, Status};

use super::{Adapter, in_call_scope};

#[tonic::async_trait]
impl<H: Handler + 'static> admission_control_server::AdmissionControl for Adapter<H> {
    async fn validate_admission(
        &self,
        request: Request<pluginv2::AdmissionRequest>,
    ) -> Result<Response<pluginv2::ValidationResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let request = AdmissionRequest::try_from(message)?;
        let response = in_call_scope(&metadata, self.handler.validate_admission(request)).await?;
        Ok(Response::new(response.into()))
    }

    async fn mutate_admission(
        &self,
        request: Request<pluginv2::AdmissionRequest>,
    ) -> Result<Response<pluginv2::MutationResponse>, Status> {
        let (metadata, _, message) = request.into_parts();
        let request = AdmissionRequest::try_from(message)?;
        let response = in_call_scope(&metadata, self.handler.mutate_admission(request)).await?;
        Ok(Response::new(response.into()))
    }
}
