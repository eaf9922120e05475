//! How an [`Error`] reaches Grafana as a gRPC status, and how a host reads
//! the error source back.
//!
//! The Go SDK answers a failed call whose error has a source with gRPC code
//! `Unknown`, the error text as message, and a `google.rpc.ErrorInfo` detail
//! whose metadata holds `errorSource` = `plugin` or `downstream`; Grafana
//! reads that detail. [`Error::into_grpc_status`] does the same. The two
//! `google.rpc` messages involved are defined here by hand, so the crate
//! needs no generated googleapis code.

use std::collections::HashMap;

use prost::Message;
use tonic::Code;

use crate::error::{Error, ErrorSource};

/// The key of the error source in `ErrorInfo.metadata`.
pub const ERROR_SOURCE_METADATA_KEY: &str = "errorSource";

const ERROR_INFO_TYPE_URL: &str = "type.googleapis.com/google.rpc.ErrorInfo";

/// `google.rpc.Status`, the payload of the `grpc-status-details-bin` trailer.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.ErrorInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct ErrorInfo {
    #[prost(string, tag = "1")]
    reason: String,
    #[prost(string, tag = "2")]
    domain: String,
    #[prost(map = "string, string", tag = "3")]
    metadata: HashMap<String, String>,
}

impl Error {
    /// The gRPC status Grafana receives when a call fails with this error.
    ///
    /// | error | code | details |
    /// |---|---|---|
    /// | [`Error::Unimplemented`] | `Unimplemented` | none |
    /// | [`Error::InvalidField`], [`Error::MissingField`] (malformed messages) | `InvalidArgument` | none |
    /// | [`Error::StreamClosed`] | `Cancelled` | none |
    /// | any error with an [`error_source`](Error::error_source) | `Unknown` | `ErrorInfo{metadata: {errorSource}}` |
    /// | anything else (including panics: `panic triggered: …`) | `Unknown` | none |
    ///
    /// ```
    /// use plugin_backend::{Error, ErrorSource, grpc};
    ///
    /// let status = Error::downstream("database unreachable").into_grpc_status();
    /// assert_eq!(status.code(), tonic::Code::Unknown);
    /// assert_eq!(status.message(), "database unreachable");
    /// assert_eq!(grpc::error_source(&status), Some(ErrorSource::Downstream));
    /// ```
    pub fn into_grpc_status(self) -> tonic::Status {
        let code = match &self {
            Error::Unimplemented(_) => return tonic::Status::unimplemented(self.to_string()),
            Error::InvalidField { .. } | Error::MissingField(_) => {
                return tonic::Status::invalid_argument(self.to_string());
            }
            Error::StreamClosed => return tonic::Status::cancelled(self.to_string()),
            _ => Code::Unknown,
        };
        let message = self.to_string();
        let Some(source) = self.error_source() else {
            return tonic::Status::new(code, message);
        };
        let info = ErrorInfo {
            reason: String::new(),
            domain: String::new(),
            metadata: HashMap::from([(
                ERROR_SOURCE_METADATA_KEY.to_owned(),
                source.as_str().to_owned(),
            )]),
        };
        let details = RpcStatus {
            code: code as i32,
            message: message.clone(),
            details: vec![Any {
                type_url: ERROR_INFO_TYPE_URL.to_owned(),
                value: info.encode_to_vec(),
            }],
        };
        tonic::Status::with_details(code, message, details.encode_to_vec().into())
    }
}

impl From<Error> for tonic::Status {
    fn from(error: Error) -> Self {
        error.into_grpc_status()
    }
}

/// The error source a gRPC status carries in its `ErrorInfo` detail, read
/// as Grafana reads it; `None` when there is none.
pub fn error_source(status: &tonic::Status) -> Option<ErrorSource> {
    let details = RpcStatus::decode(status.details()).ok()?;
    details
        .details
        .iter()
        .filter(|any| any.type_url == ERROR_INFO_TYPE_URL)
        .filter_map(|any| ErrorInfo::decode(any.value.as_slice()).ok())
        .find_map(|info| info.metadata.get(ERROR_SOURCE_METADATA_KEY)?.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Endpoint;
    use std::io;

    #[test]
    fn errors_with_a_source_carry_error_info() {
        let status = Error::plugin("bad query").into_grpc_status();
        assert_eq!(status.code(), Code::Unknown);
        assert_eq!(error_source(&status), Some(ErrorSource::Plugin));

        let timeout = Error::new(io::Error::new(io::ErrorKind::TimedOut, "slow"));
        assert_eq!(
            error_source(&timeout.into_grpc_status()),
            Some(ErrorSource::Downstream)
        );
    }

    #[test]
    fn errors_without_a_source_are_plain_unknown() {
        let status = Error::new("oops").into_grpc_status();
        assert_eq!(status.code(), Code::Unknown);
        assert!(status.details().is_empty());
        let panic = Error::Panic("index out of bounds".into()).into_grpc_status();
        assert_eq!(panic.message(), "panic triggered: index out of bounds");
    }

    #[test]
    fn protocol_errors_have_their_own_codes() {
        assert_eq!(
            Error::Unimplemented(Endpoint::RunStream)
                .into_grpc_status()
                .code(),
            Code::Unimplemented
        );
        assert_eq!(
            Error::MissingField("plugin context")
                .into_grpc_status()
                .code(),
            Code::InvalidArgument
        );
        assert_eq!(
            Error::StreamClosed.into_grpc_status().code(),
            Code::Cancelled
        );
    }
}
