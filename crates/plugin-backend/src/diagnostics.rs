//! Diagnostics: health checks ([`CheckHealthRequest`] → [`CheckHealthResult`])
//! and metrics ([`CollectMetricsRequest`] → [`CollectMetricsResult`]).

use std::collections::HashMap;

use bytes::Bytes;
use serde::Serialize;

use crate::context::PluginContext;
use crate::error::Error;

/// A request to check that the plugin (usually a data source instance)
/// works, from the "Save & test" button.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CheckHealthRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// Forwarded HTTP headers and other request metadata.
    pub headers: HashMap<String, String>,
}

impl CheckHealthRequest {
    /// A health check in `plugin_context`.
    pub fn new(plugin_context: PluginContext) -> Self {
        CheckHealthRequest {
            plugin_context,
            headers: HashMap::new(),
        }
    }
}

/// The outcome of a health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum HealthStatus {
    /// The plugin could not tell.
    #[default]
    Unknown,
    /// Healthy.
    Ok,
    /// Unhealthy.
    Error,
}

/// The result of a health check: a status, a message for the user and
/// optional JSON details.
///
/// ```
/// use plugin_backend::{CheckHealthResult, HealthStatus};
///
/// let result = CheckHealthResult::error("cannot reach the database")
///     .with_json_details(&serde_json::json!({"host": "db:5432"}))?;
/// assert_eq!(result.status, HealthStatus::Error);
/// # Ok::<(), plugin_backend::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CheckHealthResult {
    /// Healthy or not.
    pub status: HealthStatus,
    /// The message shown to the user.
    pub message: String,
    /// Details as JSON, shown by Grafana when present.
    pub json_details: Bytes,
}

impl CheckHealthResult {
    /// A healthy result with `message`.
    pub fn ok(message: impl Into<String>) -> Self {
        CheckHealthResult {
            status: HealthStatus::Ok,
            message: message.into(),
            json_details: Bytes::new(),
        }
    }

    /// An unhealthy result with `message`.
    pub fn error(message: impl Into<String>) -> Self {
        CheckHealthResult {
            status: HealthStatus::Error,
            message: message.into(),
            json_details: Bytes::new(),
        }
    }

    /// This result, with `details` serialized as its JSON details.
    pub fn with_json_details<T: Serialize + ?Sized>(mut self, details: &T) -> Result<Self, Error> {
        self.json_details = serde_json::to_vec(details)
            .map_err(|source| Error::json("health check details", source))?
            .into();
        Ok(self)
    }
}

/// A request for the plugin's metrics.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CollectMetricsRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
}

/// The plugin's metrics in Prometheus text exposition format.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CollectMetricsResult {
    /// The metrics, Prometheus text format.
    pub prometheus_metrics: Bytes,
}

impl CollectMetricsResult {
    /// Metrics given as Prometheus text.
    pub fn new(prometheus_metrics: impl Into<Bytes>) -> Self {
        CollectMetricsResult {
            prometheus_metrics: prometheus_metrics.into(),
        }
    }

    /// Every metric of the process's default Prometheus registry (which is
    /// where the SDK's own request metrics live), as the Go SDK answers
    /// `CollectMetrics`.
    pub fn from_default_registry() -> Result<Self, Error> {
        Self::from_registry(prometheus::default_registry())
    }

    /// Every metric of `registry`.
    pub fn from_registry(registry: &prometheus::Registry) -> Result<Self, Error> {
        let text = prometheus::TextEncoder::new().encode_to_string(&registry.gather())?;
        Ok(CollectMetricsResult::new(text))
    }
}
