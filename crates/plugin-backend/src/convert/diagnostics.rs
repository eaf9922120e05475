//! Health checks and metrics ↔ wire messages.

use plugin_proto::pluginv2;
use plugin_proto::pluginv2::check_health_response::HealthStatus as WireHealthStatus;

use super::required_plugin_context;
use crate::diagnostics::{
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
    HealthStatus,
};
use crate::error::Error;

impl TryFrom<pluginv2::CheckHealthRequest> for CheckHealthRequest {
    type Error = Error;

    fn try_from(message: pluginv2::CheckHealthRequest) -> Result<Self, Error> {
        Ok(CheckHealthRequest {
            plugin_context: required_plugin_context(message.plugin_context)?,
            headers: message.headers,
        })
    }
}

impl From<CheckHealthRequest> for pluginv2::CheckHealthRequest {
    fn from(request: CheckHealthRequest) -> Self {
        pluginv2::CheckHealthRequest {
            plugin_context: Some(request.plugin_context.into()),
            headers: request.headers,
        }
    }
}

impl TryFrom<pluginv2::CheckHealthResponse> for CheckHealthResult {
    type Error = Error;

    fn try_from(message: pluginv2::CheckHealthResponse) -> Result<Self, Error> {
        let status = match WireHealthStatus::try_from(message.status) {
            Ok(WireHealthStatus::Unknown) => HealthStatus::Unknown,
            Ok(WireHealthStatus::Ok) => HealthStatus::Ok,
            Ok(WireHealthStatus::Error) => HealthStatus::Error,
            Err(_) => {
                return Err(Error::invalid(
                    "health status",
                    format!("unknown status {}", message.status),
                ));
            }
        };
        Ok(CheckHealthResult {
            status,
            message: message.message,
            json_details: message.json_details,
        })
    }
}

impl From<CheckHealthResult> for pluginv2::CheckHealthResponse {
    fn from(result: CheckHealthResult) -> Self {
        let status = match result.status {
            HealthStatus::Unknown => WireHealthStatus::Unknown,
            HealthStatus::Ok => WireHealthStatus::Ok,
            HealthStatus::Error => WireHealthStatus::Error,
        };
        pluginv2::CheckHealthResponse {
            status: status as i32,
            message: result.message,
            json_details: result.json_details,
        }
    }
}

impl TryFrom<pluginv2::CollectMetricsRequest> for CollectMetricsRequest {
    type Error = Error;

    /// Converts a metrics request. Unlike other requests it may lack a plugin
    /// context: the answer never depends on it, and the Go SDK ignores it.
    fn try_from(message: pluginv2::CollectMetricsRequest) -> Result<Self, Error> {
        Ok(CollectMetricsRequest {
            plugin_context: message
                .plugin_context
                .map(TryInto::try_into)
                .transpose()?
                .unwrap_or_default(),
        })
    }
}

impl From<CollectMetricsRequest> for pluginv2::CollectMetricsRequest {
    fn from(request: CollectMetricsRequest) -> Self {
        pluginv2::CollectMetricsRequest {
            plugin_context: Some(request.plugin_context.into()),
        }
    }
}

impl From<pluginv2::CollectMetricsResponse> for CollectMetricsResult {
    fn from(message: pluginv2::CollectMetricsResponse) -> Self {
        CollectMetricsResult {
            prometheus_metrics: message
                .metrics
                .map(|payload| payload.prometheus)
                .unwrap_or_default(),
        }
    }
}

impl From<CollectMetricsResult> for pluginv2::CollectMetricsResponse {
    fn from(result: CollectMetricsResult) -> Self {
        pluginv2::CollectMetricsResponse {
            metrics: Some(pluginv2::collect_metrics_response::Payload {
                prometheus: result.prometheus_metrics,
            }),
        }
    }
}
