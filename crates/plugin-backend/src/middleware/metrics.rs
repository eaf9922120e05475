//! Request metrics in Prometheus.
//!
//! Two metrics, both labelled `endpoint` (e.g. `queryData`), `status`
//! (`ok`, `cancelled`, `error`) and `status_source` (`plugin`,
//! `downstream`):
//!
//! * `grafana_plugin_request_total`, a counter (the Go SDK's name), and
//! * `grafana_plugin_request_duration_seconds`, a histogram.
//!
//! [`MetricsLayer::new`] uses the process's default registry, the one the
//! `CollectMetrics` endpoint exposes to Grafana, and registers them there
//! on the first request: a plugin Grafana starts but never queries does
//! not pay for them, and nothing is lost, because a labelled family shows
//! up in the exposition only once it has a sample anyway.
//! [`MetricsLayer::with_registry`] registers them in another registry at
//! once.

use std::sync::{Arc, LazyLock};
use std::time::Instant;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};

use super::{Layered, Middleware, Next, Outcome, outcome};
use crate::error::Error;
use crate::handler::Handler;
use crate::rpc::{Endpoint, Rpc};

const LABELS: [&str; 3] = ["endpoint", "status", "status_source"];

/// The collectors, shared by every handler a layer wraps.
#[derive(Debug)]
struct RequestMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl RequestMetrics {
    fn new() -> Result<Self, prometheus::Error> {
        let requests = IntCounterVec::new(
            Opts::new("request_total", "The total amount of plugin requests")
                .namespace("grafana")
                .subsystem("plugin"),
            &LABELS,
        )?;
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "request_duration_seconds",
                "Plugin request duration in seconds",
            )
            .namespace("grafana")
            .subsystem("plugin"),
            &LABELS,
        )?;
        Ok(RequestMetrics { requests, duration })
    }

    fn register(&self, registry: &Registry) -> Result<(), prometheus::Error> {
        registry.register(Box::new(self.requests.clone()))?;
        registry.register(Box::new(self.duration.clone()))
    }

    fn record(&self, endpoint: Endpoint, outcome: Outcome, start: Instant) {
        let labels = [
            endpoint.as_str(),
            outcome.status.as_str(),
            outcome.source.as_str(),
        ];
        self.requests.with_label_values(&labels).inc();
        self.duration
            .with_label_values(&labels)
            .observe(start.elapsed().as_secs_f64());
    }
}

/// The collectors in the default registry, created and registered once, on
/// first use.
static DEFAULT_METRICS: LazyLock<Option<RequestMetrics>> = LazyLock::new(|| {
    let metrics = RequestMetrics::new().and_then(|metrics| {
        metrics
            .register(prometheus::default_registry())
            .map(|()| metrics)
    });
    match metrics {
        Ok(metrics) => Some(metrics),
        Err(error) => {
            tracing::warn!(%error, "cannot register plugin request metrics; they are disabled");
            None
        }
    }
});

/// Which collectors a layer records into.
#[derive(Debug, Clone)]
enum Collectors {
    /// The default registry's ([`DEFAULT_METRICS`]), registered on the
    /// first request.
    Default,
    /// Collectors already registered in a registry of the plugin's choice.
    Registered(Arc<RequestMetrics>),
}

impl Collectors {
    /// The collectors to record into; `None` if they could not be
    /// registered.
    fn get(&self) -> Option<&RequestMetrics> {
        match self {
            Collectors::Default => DEFAULT_METRICS.as_ref(),
            Collectors::Registered(metrics) => Some(metrics),
        }
    }
}

/// The request metrics [`Middleware`].
#[derive(Debug, Clone)]
pub struct MetricsLayer {
    metrics: Collectors,
}

impl MetricsLayer {
    /// Metrics in the process's default registry, registered there on the
    /// first request.
    ///
    /// If the metric names are taken there already (by other code), the
    /// layer logs a warning and records nothing rather than failing.
    pub fn new() -> Self {
        MetricsLayer {
            metrics: Collectors::Default,
        }
    }

    /// Metrics in `registry`; fails if `registry` has them already.
    pub fn with_registry(registry: &Registry) -> Result<Self, Error> {
        let metrics = RequestMetrics::new()?;
        metrics.register(registry)?;
        Ok(MetricsLayer {
            metrics: Collectors::Registered(Arc::new(metrics)),
        })
    }
}

impl Default for MetricsLayer {
    fn default() -> Self {
        MetricsLayer::new()
    }
}

/// A handler that counts and times every request; see the
/// [module docs](self).
pub type Metrics<H> = Layered<MetricsLayer, H>;

impl Middleware for MetricsLayer {
    /// Runs the call, recording its outcome, or a cancellation if it is
    /// dropped before it finishes.
    async fn call<E: Rpc, H: Handler>(
        &self,
        request: E::Request,
        next: Next<'_, H>,
    ) -> Result<E::Response, Error> {
        let Some(metrics) = self.metrics.get() else {
            return next.call::<E>(request).await;
        };
        let mut recorder = CancellationRecorder {
            metrics,
            endpoint: E::ENDPOINT,
            start: Instant::now(),
            finished: false,
        };
        let result = next.call::<E>(request).await;
        recorder.finished = true;
        metrics.record(E::ENDPOINT, outcome(&result), recorder.start);
        result
    }
}

struct CancellationRecorder<'a> {
    metrics: &'a RequestMetrics,
    endpoint: Endpoint,
    start: Instant,
    finished: bool,
}

impl Drop for CancellationRecorder<'_> {
    fn drop(&mut self) {
        if !self.finished {
            self.metrics
                .record(self.endpoint, Outcome::CANCELLED, self.start);
        }
    }
}
