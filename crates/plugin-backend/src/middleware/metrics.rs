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

use std::future::Future;
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry};
use tower_layer::Layer;

use super::{Observe, Outcome};
use crate::admission::{AdmissionRequest, MutationResponse, ValidationResponse};
use crate::chunked::{ChunkedDataWriter, QueryChunkedDataRequest};
use crate::conversion::{ConversionRequest, ConversionResponse};
use crate::data::{QueryDataRequest, QueryDataResponse};
use crate::diagnostics::{
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
};
use crate::endpoint::Endpoint;
use crate::error::Error;
use crate::handler::Handler;
use crate::resource::{CallResourceRequest, CallResourceResponseSender};
use crate::stream::{
    PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamSender,
    SubscribeStreamRequest, SubscribeStreamResponse,
};

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

/// A [`Layer`] adding [`Metrics`] to a handler.
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

impl<H> Layer<H> for MetricsLayer {
    type Service = Metrics<H>;

    fn layer(&self, inner: H) -> Metrics<H> {
        Metrics {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// A handler that counts and times every request; see the
/// [module docs](self).
#[derive(Debug, Clone)]
pub struct Metrics<H> {
    inner: H,
    metrics: Collectors,
}

impl<H> Metrics<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }

    /// Runs `inner`, recording its outcome, or a cancellation if it is
    /// dropped before it finishes.
    async fn measured<T, F>(&self, endpoint: Endpoint, inner: F) -> T
    where
        F: Future<Output = T>,
        T: Observe,
    {
        let Some(metrics) = self.metrics.get() else {
            return inner.await;
        };
        let mut recorder = CancellationRecorder {
            metrics,
            endpoint,
            start: Instant::now(),
            finished: false,
        };
        let result = inner.await;
        recorder.finished = true;
        metrics.record(endpoint, result.outcome(), recorder.start);
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

impl<H: Handler> Handler for Metrics<H> {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        self.measured(Endpoint::QueryData, self.inner.query_data(request))
            .await
    }

    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        self.measured(
            Endpoint::QueryChunkedData,
            self.inner.query_chunked_data(request, writer),
        )
        .await
    }

    async fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        self.measured(
            Endpoint::CallResource,
            self.inner.call_resource(request, sender),
        )
        .await
    }

    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        self.measured(Endpoint::CheckHealth, self.inner.check_health(request))
            .await
    }

    async fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> Result<CollectMetricsResult, Error> {
        self.measured(
            Endpoint::CollectMetrics,
            self.inner.collect_metrics(request),
        )
        .await
    }

    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        self.measured(
            Endpoint::SubscribeStream,
            self.inner.subscribe_stream(request),
        )
        .await
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        self.measured(Endpoint::PublishStream, self.inner.publish_stream(request))
            .await
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> Result<(), Error> {
        self.measured(Endpoint::RunStream, self.inner.run_stream(request, sender))
            .await
    }

    async fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<ValidationResponse, Error> {
        self.measured(
            Endpoint::ValidateAdmission,
            self.inner.validate_admission(request),
        )
        .await
    }

    async fn mutate_admission(&self, request: AdmissionRequest) -> Result<MutationResponse, Error> {
        self.measured(
            Endpoint::MutateAdmission,
            self.inner.mutate_admission(request),
        )
        .await
    }

    async fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> Result<ConversionResponse, Error> {
        self.measured(
            Endpoint::ConvertObjects,
            self.inner.convert_objects(request),
        )
        .await
    }
}
