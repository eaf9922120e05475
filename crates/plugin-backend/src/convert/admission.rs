//! Admission and conversion messages ↔ wire messages.

use plugin_proto::pluginv2;
use plugin_proto::pluginv2::admission_request::Operation as WireOperation;

use super::required_plugin_context;
use crate::admission::{
    AdmissionOperation, AdmissionRequest, GroupVersionKind, MutationResponse, StatusResult,
    ValidationResponse,
};
use crate::conversion::{ConversionRequest, ConversionResponse, GroupVersion, RawObject};
use crate::error::Error;

impl From<pluginv2::GroupVersionKind> for GroupVersionKind {
    fn from(message: pluginv2::GroupVersionKind) -> Self {
        GroupVersionKind {
            group: message.group,
            version: message.version,
            kind: message.kind,
        }
    }
}

impl From<GroupVersionKind> for pluginv2::GroupVersionKind {
    fn from(kind: GroupVersionKind) -> Self {
        pluginv2::GroupVersionKind {
            group: kind.group,
            version: kind.version,
            kind: kind.kind,
        }
    }
}

impl From<pluginv2::GroupVersion> for GroupVersion {
    fn from(message: pluginv2::GroupVersion) -> Self {
        GroupVersion {
            group: message.group,
            version: message.version,
        }
    }
}

impl From<GroupVersion> for pluginv2::GroupVersion {
    fn from(version: GroupVersion) -> Self {
        pluginv2::GroupVersion {
            group: version.group,
            version: version.version,
        }
    }
}

impl From<pluginv2::RawObject> for RawObject {
    fn from(message: pluginv2::RawObject) -> Self {
        RawObject {
            raw: message.raw,
            content_type: message.content_type,
        }
    }
}

impl From<RawObject> for pluginv2::RawObject {
    fn from(object: RawObject) -> Self {
        pluginv2::RawObject {
            raw: object.raw,
            content_type: object.content_type,
        }
    }
}

impl From<pluginv2::StatusResult> for StatusResult {
    fn from(message: pluginv2::StatusResult) -> Self {
        StatusResult {
            status: message.status,
            message: message.message,
            reason: message.reason,
            code: message.code,
        }
    }
}

impl From<StatusResult> for pluginv2::StatusResult {
    fn from(result: StatusResult) -> Self {
        pluginv2::StatusResult {
            status: result.status,
            message: result.message,
            reason: result.reason,
            code: result.code,
        }
    }
}

impl TryFrom<pluginv2::AdmissionRequest> for AdmissionRequest {
    type Error = Error;

    fn try_from(message: pluginv2::AdmissionRequest) -> Result<Self, Error> {
        let operation = match WireOperation::try_from(message.operation) {
            Ok(WireOperation::Create) => AdmissionOperation::Create,
            Ok(WireOperation::Update) => AdmissionOperation::Update,
            Ok(WireOperation::Delete) => AdmissionOperation::Delete,
            Err(_) => {
                return Err(Error::invalid(
                    "admission operation",
                    format!("unknown operation {}", message.operation),
                ));
            }
        };
        Ok(AdmissionRequest {
            plugin_context: required_plugin_context(message.plugin_context)?,
            operation,
            kind: message
                .kind
                .ok_or(Error::MissingField("admission object kind"))?
                .into(),
            object_bytes: message.object_bytes,
            old_object_bytes: message.old_object_bytes,
        })
    }
}

impl From<AdmissionRequest> for pluginv2::AdmissionRequest {
    fn from(request: AdmissionRequest) -> Self {
        let operation = match request.operation {
            AdmissionOperation::Create => WireOperation::Create,
            AdmissionOperation::Update => WireOperation::Update,
            AdmissionOperation::Delete => WireOperation::Delete,
        };
        pluginv2::AdmissionRequest {
            plugin_context: Some(request.plugin_context.into()),
            operation: operation as i32,
            kind: Some(request.kind.into()),
            object_bytes: request.object_bytes,
            old_object_bytes: request.old_object_bytes,
        }
    }
}

impl From<pluginv2::ValidationResponse> for ValidationResponse {
    fn from(message: pluginv2::ValidationResponse) -> Self {
        ValidationResponse {
            allowed: message.allowed,
            result: message.result.map(Into::into),
            warnings: message.warnings,
        }
    }
}

impl From<ValidationResponse> for pluginv2::ValidationResponse {
    fn from(response: ValidationResponse) -> Self {
        pluginv2::ValidationResponse {
            allowed: response.allowed,
            result: response.result.map(Into::into),
            warnings: response.warnings,
        }
    }
}

impl From<pluginv2::MutationResponse> for MutationResponse {
    fn from(message: pluginv2::MutationResponse) -> Self {
        MutationResponse {
            allowed: message.allowed,
            result: message.result.map(Into::into),
            warnings: message.warnings,
            object_bytes: message.object_bytes,
        }
    }
}

impl From<MutationResponse> for pluginv2::MutationResponse {
    fn from(response: MutationResponse) -> Self {
        pluginv2::MutationResponse {
            allowed: response.allowed,
            result: response.result.map(Into::into),
            warnings: response.warnings,
            object_bytes: response.object_bytes,
        }
    }
}

impl TryFrom<pluginv2::ConversionRequest> for ConversionRequest {
    type Error = Error;

    fn try_from(message: pluginv2::ConversionRequest) -> Result<Self, Error> {
        Ok(ConversionRequest {
            plugin_context: required_plugin_context(message.plugin_context)?,
            uid: message.uid,
            objects: message.objects.into_iter().map(Into::into).collect(),
            target_version: message
                .target_version
                .ok_or(Error::MissingField("conversion target version"))?
                .into(),
        })
    }
}

impl From<ConversionRequest> for pluginv2::ConversionRequest {
    fn from(request: ConversionRequest) -> Self {
        pluginv2::ConversionRequest {
            plugin_context: Some(request.plugin_context.into()),
            uid: request.uid,
            objects: request.objects.into_iter().map(Into::into).collect(),
            target_version: Some(request.target_version.into()),
        }
    }
}

impl From<pluginv2::ConversionResponse> for ConversionResponse {
    fn from(message: pluginv2::ConversionResponse) -> Self {
        ConversionResponse {
            uid: message.uid,
            result: message.result.map(Into::into),
            objects: message.objects.into_iter().map(Into::into).collect(),
        }
    }
}

impl From<ConversionResponse> for pluginv2::ConversionResponse {
    fn from(response: ConversionResponse) -> Self {
        pluginv2::ConversionResponse {
            uid: response.uid,
            result: response.result.map(Into::into),
            objects: response.objects.into_iter().map(Into::into).collect(),
        }
    }
}
