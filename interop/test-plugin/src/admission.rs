//! Admission control on JSON objects.
//!
//! * ValidateAdmission: allowed when the object is a JSON object whose
//!   `valid` is `true`; otherwise denied with a `Failure` of code 400 and
//!   message `object is not valid`. Either way one warning names the
//!   request: `<OPERATION> <group>/<version> <kind>` (e.g.
//!   `CREATE example.grafana.app/v1 Thing`).
//! * MutateAdmission: the object with `"mutated": true` and
//!   `"operation": "<OPERATION>"` added, allowed, with the same warning; an
//!   object that is not a JSON object is denied like an invalid one.

use plugin_backend::{
    AdmissionHandler, AdmissionOperation, AdmissionRequest, Error, MutationResponse, StatusResult,
    ValidationResponse,
};
use serde_json::{Map, Value};

/// The admission handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Admission;

/// The operation's wire name, as the Go SDK's `AdmissionRequestOperation`
/// prints it.
fn operation(request: &AdmissionRequest) -> &'static str {
    match request.operation {
        AdmissionOperation::Create => "CREATE",
        AdmissionOperation::Update => "UPDATE",
        AdmissionOperation::Delete => "DELETE",
    }
}

/// The warning every answer carries.
fn warning(request: &AdmissionRequest) -> String {
    let kind = &request.kind;
    format!(
        "{} {}/{} {}",
        operation(request),
        kind.group,
        kind.version,
        kind.kind
    )
}

/// The object of `request`, if it is a JSON object.
fn object(request: &AdmissionRequest) -> Option<Map<String, Value>> {
    match serde_json::from_slice(&request.object_bytes) {
        Ok(Value::Object(object)) => Some(object),
        _ => None,
    }
}

/// The refusal of an invalid object.
fn invalid() -> StatusResult {
    StatusResult::failure(400, "object is not valid")
}

impl AdmissionHandler for Admission {
    async fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<ValidationResponse, Error> {
        let valid = object(&request)
            .and_then(|object| object.get("valid").and_then(Value::as_bool))
            .unwrap_or(false);
        let mut response = if valid {
            ValidationResponse::allowed()
        } else {
            ValidationResponse::denied(invalid())
        };
        response.warnings = vec![warning(&request)];
        Ok(response)
    }

    async fn mutate_admission(&self, request: AdmissionRequest) -> Result<MutationResponse, Error> {
        let mut response = match object(&request) {
            Some(mut object) => {
                object.insert("mutated".to_owned(), Value::Bool(true));
                object.insert("operation".to_owned(), operation(&request).into());
                MutationResponse::allowed(serde_json::to_vec(&object).map_err(Error::new)?)
            }
            None => MutationResponse::denied(invalid()),
        };
        response.warnings = vec![warning(&request)];
        Ok(response)
    }
}
