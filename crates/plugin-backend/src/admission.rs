//! Admission control: validating ([`ValidationResponse`]) and mutating
//! ([`MutationResponse`]) Kubernetes-style objects before Grafana stores them.

use bytes::Bytes;

use crate::context::PluginContext;

/// The operation an [`AdmissionRequest`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum AdmissionOperation {
    /// The object is being created.
    #[default]
    Create,
    /// The object is being updated.
    Update,
    /// The object is being deleted.
    Delete,
}

/// The group, version and kind of an object.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupVersionKind {
    /// The API group.
    pub group: String,
    /// The API version.
    pub version: String,
    /// The kind.
    pub kind: String,
}

impl GroupVersionKind {
    /// The kind `kind` of `group`/`version`.
    pub fn new(
        group: impl Into<String>,
        version: impl Into<String>,
        kind: impl Into<String>,
    ) -> Self {
        GroupVersionKind {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }
}

/// A request to validate or mutate an object.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct AdmissionRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// What is happening to the object.
    pub operation: AdmissionOperation,
    /// The object's kind.
    pub kind: GroupVersionKind,
    /// The object (JSON, or the plugin's settings in protobuf).
    pub object_bytes: Bytes,
    /// The object before the update, for updates.
    pub old_object_bytes: Bytes,
}

/// A Kubernetes-style status: why something was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct StatusResult {
    /// `Success` or `Failure`.
    pub status: String,
    /// A human-readable description.
    pub message: String,
    /// A machine-readable reason.
    pub reason: String,
    /// An HTTP-like code.
    pub code: i32,
}

impl StatusResult {
    /// A `Failure` with `message` and `code`.
    pub fn failure(code: i32, message: impl Into<String>) -> Self {
        StatusResult {
            status: "Failure".into(),
            message: message.into(),
            reason: String::new(),
            code,
        }
    }
}

/// The answer to a validation request.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ValidationResponse {
    /// Whether the object is valid.
    pub allowed: bool,
    /// Why not, when it is not.
    pub result: Option<StatusResult>,
    /// Warnings shown to the user.
    pub warnings: Vec<String>,
}

impl ValidationResponse {
    /// An accepting answer.
    pub fn allowed() -> Self {
        ValidationResponse {
            allowed: true,
            ..ValidationResponse::default()
        }
    }

    /// A refusing answer with reason `result`.
    pub fn denied(result: StatusResult) -> Self {
        ValidationResponse {
            allowed: false,
            result: Some(result),
            warnings: Vec::new(),
        }
    }
}

/// The answer to a mutation request, with the mutated object.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct MutationResponse {
    /// Whether the object is accepted.
    pub allowed: bool,
    /// Why not, when it is not.
    pub result: Option<StatusResult>,
    /// Warnings shown to the user.
    pub warnings: Vec<String>,
    /// The mutated object.
    pub object_bytes: Bytes,
}

impl MutationResponse {
    /// An accepting answer with the mutated object `object_bytes`.
    pub fn allowed(object_bytes: impl Into<Bytes>) -> Self {
        MutationResponse {
            allowed: true,
            object_bytes: object_bytes.into(),
            ..MutationResponse::default()
        }
    }

    /// A refusing answer with reason `result`.
    pub fn denied(result: StatusResult) -> Self {
        MutationResponse {
            allowed: false,
            result: Some(result),
            ..MutationResponse::default()
        }
    }
}
