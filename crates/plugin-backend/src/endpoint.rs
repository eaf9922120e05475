//! [`Endpoint`]: names for the calls a plugin answers.

use std::fmt;

/// One of the calls Grafana makes on a plugin.
///
/// The names ([`Endpoint::as_str`]) are the Go SDK's, so logs and the
/// `endpoint` label of the request metrics read the same for Go and Rust
/// plugins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `Data/QueryData`.
    QueryData,
    /// `Data/QueryChunkedData`.
    QueryChunkedData,
    /// `Resource/CallResource`.
    CallResource,
    /// `Diagnostics/CheckHealth`.
    CheckHealth,
    /// `Diagnostics/CollectMetrics`.
    CollectMetrics,
    /// `Stream/SubscribeStream`.
    SubscribeStream,
    /// `Stream/PublishStream`.
    PublishStream,
    /// `Stream/RunStream`.
    RunStream,
    /// `AdmissionControl/ValidateAdmission`.
    ValidateAdmission,
    /// `AdmissionControl/MutateAdmission`.
    MutateAdmission,
    /// `ResourceConversion/ConvertObjects`.
    ConvertObjects,
}

impl Endpoint {
    /// Every endpoint, in protocol order.
    pub const ALL: [Endpoint; 11] = [
        Endpoint::QueryData,
        Endpoint::QueryChunkedData,
        Endpoint::CallResource,
        Endpoint::CheckHealth,
        Endpoint::CollectMetrics,
        Endpoint::SubscribeStream,
        Endpoint::PublishStream,
        Endpoint::RunStream,
        Endpoint::ValidateAdmission,
        Endpoint::MutateAdmission,
        Endpoint::ConvertObjects,
    ];

    /// The Go SDK's name, e.g. `queryData`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Endpoint::QueryData => "queryData",
            Endpoint::QueryChunkedData => "queryChunkedData",
            Endpoint::CallResource => "callResource",
            Endpoint::CheckHealth => "checkHealth",
            Endpoint::CollectMetrics => "collectMetrics",
            Endpoint::SubscribeStream => "subscribeStream",
            Endpoint::PublishStream => "publishStream",
            Endpoint::RunStream => "runStream",
            Endpoint::ValidateAdmission => "validateAdmission",
            Endpoint::MutateAdmission => "mutateAdmission",
            Endpoint::ConvertObjects => "convertObjects",
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
