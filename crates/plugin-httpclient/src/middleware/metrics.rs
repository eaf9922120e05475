//! Data source request metrics, registered in the default Prometheus
//! registry under the Go SDK's names:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `plugins_datasource_request_total` | counter | `datasource_type, code, method, secure_socks_ds_proxy_enabled, endpoint` |
//! | `plugins_datasource_request_duration_seconds` | histogram | same |
//! | `plugins_datasource_response_size_bytes` | histogram | `datasource_type, secure_socks_ds_proxy_enabled, endpoint` |
//! | `plugins_datasource_response_size` | gauge | same |
//! | `plugins_datasource_request_in_flight` | gauge | same |
//!
//! As with Go's `promhttp`, the counter and duration record requests that
//! got a response (`code` is its status, `method` lower case); failed
//! requests show only in the in-flight gauge while they run. The response
//! size is observed when the body ends or is dropped. Without a
//! `datasource_type` label nothing is recorded.

use std::{
    future::Future,
    pin::Pin,
    sync::LazyLock,
    task::{Context, Poll},
    time::Instant,
};

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body::Frame;
use pin_project_lite::pin_project;
use prometheus::{
    Gauge, GaugeVec, Histogram, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec,
    Opts,
};
use tower_layer::Layer;
use tower_service::Service;

use plugin_backend::outgoing;

use crate::{body::Body, error::Error, extensions::Endpoint, options::HttpClientOptions};

const KB: f64 = 1024.0;
const MB: f64 = KB * KB;
const GB: f64 = MB * KB;

struct DataSourceMetrics {
    requests: IntCounterVec,
    duration: HistogramVec,
    response_size: HistogramVec,
    response_size_gauge: GaugeVec,
    in_flight: IntGaugeVec,
}

const REQUEST_LABELS: [&str; 5] = [
    "datasource_type",
    "code",
    "method",
    "secure_socks_ds_proxy_enabled",
    "endpoint",
];
const SIZE_LABELS: [&str; 3] = [
    "datasource_type",
    "secure_socks_ds_proxy_enabled",
    "endpoint",
];

static METRICS: LazyLock<Option<DataSourceMetrics>> = LazyLock::new(|| {
    let build = || -> prometheus::Result<DataSourceMetrics> {
        let metrics = DataSourceMetrics {
            requests: IntCounterVec::new(
                Opts::new("datasource_request_total", "A counter for outgoing requests for an external data source")
                    .namespace("plugins"),
                &REQUEST_LABELS,
            )?,
            duration: HistogramVec::new(
                HistogramOpts::new(
                    "datasource_request_duration_seconds",
                    "histogram of durations of outgoing external data source requests sent from Grafana",
                )
                .namespace("plugins")
                .buckets(vec![0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 25.0, 50.0, 100.0]),
                &REQUEST_LABELS,
            )?,
            response_size: HistogramVec::new(
                HistogramOpts::new(
                    "datasource_response_size_bytes",
                    "histogram of external data source response sizes returned to Grafana",
                )
                .namespace("plugins")
                .buckets(vec![
                    128.0, 256.0, 512.0, KB, 2.0 * KB, 4.0 * KB, 8.0 * KB, 16.0 * KB, 32.0 * KB, 64.0 * KB,
                    128.0 * KB, 256.0 * KB, 512.0 * KB, MB, 2.0 * MB, 4.0 * MB, 8.0 * MB, 16.0 * MB, 32.0 * MB,
                    64.0 * MB, 128.0 * MB, 256.0 * MB, 512.0 * MB, GB, 2.0 * GB, 4.0 * GB, 8.0 * GB,
                ]),
                &SIZE_LABELS,
            )?,
            response_size_gauge: GaugeVec::new(
                Opts::new("datasource_response_size", "gauge of data source response sizes returned to Grafana in bytes")
                    .namespace("plugins"),
                &SIZE_LABELS,
            )?,
            in_flight: IntGaugeVec::new(
                Opts::new(
                    "datasource_request_in_flight",
                    "A gauge of outgoing external data source requests currently being sent by Grafana",
                )
                .namespace("plugins"),
                &SIZE_LABELS,
            )?,
        };
        let registry = prometheus::default_registry();
        for collector in [
            Box::new(metrics.requests.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(metrics.duration.clone()),
            Box::new(metrics.response_size.clone()),
            Box::new(metrics.response_size_gauge.clone()),
            Box::new(metrics.in_flight.clone()),
        ] {
            // Another copy of this crate in the binary may have registered
            // the same names; the metrics then still work, unexported.
            if let Err(error) = registry.register(collector) {
                tracing::warn!(%error, "data source metrics not registered");
            }
        }
        Ok(metrics)
    };
    build()
        .inspect_err(|error| tracing::error!(%error, "data source metrics unavailable"))
        .ok()
});

/// Makes a data source type usable as a label value the way Go does:
/// ASCII letters, `_` and (not first) digits are kept, spaces become `_`.
fn sanitize_label(name: &str) -> Option<String> {
    let sanitized: String = name
        .chars()
        .enumerate()
        .filter_map(|(index, c)| match c {
            'a'..='z' | 'A'..='Z' | '_' => Some(c),
            '0'..='9' if index > 0 => Some(c),
            ' ' => Some('_'),
            _ => None,
        })
        .collect();
    (!sanitized.is_empty()).then_some(sanitized)
}

/// Layer recording data source metrics; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct DataSourceMetricsLayer {
    datasource_type: Option<String>,
    secure_socks_proxy_enabled: bool,
}

impl DataSourceMetricsLayer {
    /// Records metrics for a data source of type `datasource_type`.
    pub fn new(datasource_type: &str, secure_socks_proxy_enabled: bool) -> Self {
        let sanitized = sanitize_label(datasource_type);
        if sanitized.is_none() && !datasource_type.is_empty() {
            tracing::error!(
                datasource_type,
                "data source type is not a valid label; metrics disabled"
            );
        }
        Self {
            datasource_type: sanitized,
            secure_socks_proxy_enabled,
        }
    }

    /// From the options' data source type and secure SOCKS proxy setting.
    pub fn from_options(options: &HttpClientOptions) -> Self {
        Self::new(
            &options.labels.data_source_type,
            options.secure_socks_proxy.is_some(),
        )
    }
}

impl<S> Layer<S> for DataSourceMetricsLayer {
    type Service = DataSourceMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DataSourceMetricsService {
            inner,
            datasource_type: self.datasource_type.clone(),
            secure_socks_proxy_enabled: if self.secure_socks_proxy_enabled {
                "true"
            } else {
                "false"
            },
        }
    }
}

/// Service produced by [`DataSourceMetricsLayer`].
#[derive(Clone, Debug)]
pub struct DataSourceMetricsService<S> {
    inner: S,
    datasource_type: Option<String>,
    secure_socks_proxy_enabled: &'static str,
}

impl<S, B> Service<Request<B>> for DataSourceMetricsService<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = Error>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = DataSourceMetricsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let recording = match (&self.datasource_type, METRICS.as_ref()) {
            (Some(datasource_type), Some(metrics)) => {
                // The request's own label, else the handler call's
                // (Go: the endpoint in the request context).
                let endpoint = request
                    .extensions()
                    .get::<Endpoint>()
                    .copied()
                    .or_else(|| outgoing::current().and_then(|context| context.endpoint()))
                    .map_or("", Endpoint::as_str);
                let size_labels = [
                    datasource_type.as_str(),
                    self.secure_socks_proxy_enabled,
                    endpoint,
                ];
                let in_flight = metrics.in_flight.with_label_values(&size_labels);
                in_flight.inc();
                Some(Recording {
                    datasource_type: datasource_type.clone(),
                    secure_socks_proxy_enabled: self.secure_socks_proxy_enabled,
                    endpoint: endpoint.to_owned(),
                    method: method_label(request.method()),
                    started: Instant::now(),
                    in_flight: InFlight(in_flight),
                })
            }
            _ => None,
        };
        DataSourceMetricsFuture {
            inner: self.inner.call(request),
            recording,
        }
    }
}

/// Go's promhttp label for a method: lower case for standard methods.
fn method_label(method: &Method) -> String {
    method.as_str().to_ascii_lowercase()
}

/// Decrements the in-flight gauge when the request ends, however it ends.
struct InFlight(IntGauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

struct Recording {
    datasource_type: String,
    secure_socks_proxy_enabled: &'static str,
    endpoint: String,
    method: String,
    started: Instant,
    in_flight: InFlight,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("datasource_type", &self.datasource_type)
            .field("endpoint", &self.endpoint)
            .field("method", &self.method)
            .finish_non_exhaustive()
    }
}

pin_project! {
    /// Future of [`DataSourceMetricsService`].
    #[derive(Debug)]
    pub struct DataSourceMetricsFuture<F> {
        #[pin]
        inner: F,
        recording: Option<Recording>,
    }
}

impl<F> Future for DataSourceMetricsFuture<F>
where
    F: Future<Output = Result<Response<Body>, Error>>,
{
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = std::task::ready!(this.inner.poll(cx))?;
        let Some(recording) = this.recording.take() else {
            return Poll::Ready(Ok(response));
        };
        let Some(metrics) = METRICS.as_ref() else {
            return Poll::Ready(Ok(response));
        };
        let code = response.status().as_u16().to_string();
        let request_labels = [
            recording.datasource_type.as_str(),
            code.as_str(),
            recording.method.as_str(),
            recording.secure_socks_proxy_enabled,
            recording.endpoint.as_str(),
        ];
        metrics.requests.with_label_values(&request_labels).inc();
        metrics
            .duration
            .with_label_values(&request_labels)
            .observe(recording.started.elapsed().as_secs_f64());
        drop(recording.in_flight);
        if response.status() == StatusCode::SWITCHING_PROTOCOLS {
            return Poll::Ready(Ok(response));
        }
        let size_labels = [
            recording.datasource_type.as_str(),
            recording.secure_socks_proxy_enabled,
            recording.endpoint.as_str(),
        ];
        let size = ResponseSize {
            histogram: metrics.response_size.with_label_values(&size_labels),
            gauge: metrics.response_size_gauge.with_label_values(&size_labels),
            bytes: 0,
            observed: false,
        };
        Poll::Ready(Ok(
            response.map(|body| Body::from_body(CountingBody { inner: body, size }))
        ))
    }
}

/// Observes the response size once: at the end of the body or on drop.
struct ResponseSize {
    histogram: Histogram,
    gauge: Gauge,
    bytes: u64,
    observed: bool,
}

impl ResponseSize {
    fn observe(&mut self) {
        if !self.observed {
            self.observed = true;
            // Exact up to 2^53 bytes; response sizes never get near that.
            let bytes = self.bytes as f64;
            self.histogram.observe(bytes);
            self.gauge.set(bytes);
        }
    }
}

impl Drop for ResponseSize {
    fn drop(&mut self) {
        self.observe();
    }
}

struct CountingBody {
    inner: Body,
    size: ResponseSize,
}

impl http_body::Body for CountingBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx));
        match &polled {
            Some(Ok(frame)) => {
                if let Some(data) = frame.data_ref() {
                    self.size.bytes = self.size.bytes.saturating_add(data.len() as u64);
                }
            }
            Some(Err(_)) | None => self.size.observe(),
        }
        Poll::Ready(polled)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_sanitized_like_go() {
        assert_eq!(
            sanitize_label("grafana-test-datasource").as_deref(),
            Some("grafanatestdatasource")
        );
        assert_eq!(sanitize_label("my ds_2").as_deref(), Some("my_ds_2"));
        assert_eq!(sanitize_label("9lives").as_deref(), Some("lives"));
        assert_eq!(sanitize_label("---"), None);
        assert_eq!(method_label(&Method::GET), "get");
    }
}
