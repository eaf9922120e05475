//! Per-RPC Prometheus metrics, named as Go's `grpc_prometheus` server
//! metrics so dashboards built for Go plugins work unchanged:
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `grpc_server_started_total` | counter | `grpc_type`, `grpc_service`, `grpc_method` |
//! | `grpc_server_handled_total` | counter | `grpc_type`, `grpc_service`, `grpc_method`, `grpc_code` |
//! | `grpc_server_handling_seconds` | histogram | `grpc_type`, `grpc_service`, `grpc_method` |
//!
//! [`GrpcMetricsLayer`] is a tower layer on the whole server. It registers
//! the metrics once in the process's default registry, which
//! `Diagnostics/CollectMetrics` answers with by default. An RPC counts as
//! handled when its response ends: `grpc_code` comes from the
//! `grpc-status` of the response headers or trailers (`OK`, `Unknown`, …,
//! spelled as in Go), and a response dropped before its status, because
//! the client went away, counts as `Canceled`. Paths that are not a known
//! method are not counted, so a misbehaving client cannot grow the label
//! sets.

use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts};
use tower_layer::Layer;
use tower_service::Service;

/// The metric families, registered once per process.
struct GrpcServerMetrics {
    started: IntCounterVec,
    handled: IntCounterVec,
    handling_seconds: HistogramVec,
}

impl GrpcServerMetrics {
    /// The process-wide metrics, registered in the default registry on first
    /// use.
    fn get() -> &'static GrpcServerMetrics {
        static METRICS: OnceLock<GrpcServerMetrics> = OnceLock::new();
        METRICS.get_or_init(|| {
            let labels = ["grpc_type", "grpc_service", "grpc_method"];
            let metrics = GrpcServerMetrics {
                started: IntCounterVec::new(
                    Opts::new("grpc_server_started_total", "Total number of RPCs started on the server."),
                    &labels,
                )
                .expect("valid metric definition"),
                handled: IntCounterVec::new(
                    Opts::new(
                        "grpc_server_handled_total",
                        "Total number of RPCs completed on the server, regardless of success or failure.",
                    ),
                    &["grpc_type", "grpc_service", "grpc_method", "grpc_code"],
                )
                .expect("valid metric definition"),
                handling_seconds: HistogramVec::new(
                    HistogramOpts::new(
                        "grpc_server_handling_seconds",
                        "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.",
                    ),
                    &labels,
                )
                .expect("valid metric definition"),
            };
            let registry = prometheus::default_registry();
            // Registration fails only if the plugin registered families with
            // the same names itself; its own then stay in the registry.
            for collector in [
                Box::new(metrics.started.clone()) as Box<dyn prometheus::core::Collector>,
                Box::new(metrics.handled.clone()),
                Box::new(metrics.handling_seconds.clone()),
            ] {
                if let Err(err) = registry.register(collector) {
                    tracing::debug!(error = %err, "gRPC server metrics not registered");
                }
            }
            metrics
        })
    }
}

/// What an RPC path names: the labels of its metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rpc {
    kind: &'static str,
    service: &'static str,
    method: &'static str,
}

/// Every RPC a plugin server answers, with its `grpc_type`.
const KNOWN_RPCS: &[Rpc] = {
    const fn rpc(kind: &'static str, service: &'static str, method: &'static str) -> Rpc {
        Rpc {
            kind,
            service,
            method,
        }
    }
    const UNARY: &str = "unary";
    const SERVER_STREAM: &str = "server_stream";
    const BIDI_STREAM: &str = "bidi_stream";
    &[
        rpc(UNARY, "pluginv2.Data", "QueryData"),
        rpc(SERVER_STREAM, "pluginv2.Data", "QueryChunkedData"),
        rpc(SERVER_STREAM, "pluginv2.Resource", "CallResource"),
        rpc(UNARY, "pluginv2.Diagnostics", "CheckHealth"),
        rpc(UNARY, "pluginv2.Diagnostics", "CollectMetrics"),
        rpc(UNARY, "pluginv2.Stream", "SubscribeStream"),
        rpc(SERVER_STREAM, "pluginv2.Stream", "RunStream"),
        rpc(UNARY, "pluginv2.Stream", "PublishStream"),
        rpc(UNARY, "pluginv2.AdmissionControl", "ValidateAdmission"),
        rpc(UNARY, "pluginv2.AdmissionControl", "MutateAdmission"),
        rpc(UNARY, "pluginv2.ResourceConversion", "ConvertObjects"),
        rpc(UNARY, "grpc.health.v1.Health", "Check"),
        rpc(SERVER_STREAM, "grpc.health.v1.Health", "Watch"),
        rpc(UNARY, "plugin.GRPCController", "Shutdown"),
        rpc(SERVER_STREAM, "plugin.GRPCStdio", "StreamStdio"),
        rpc(BIDI_STREAM, "plugin.GRPCBroker", "StartStream"),
    ]
};

impl Rpc {
    /// The RPC a request path (`/package.Service/Method`) names, if known.
    fn from_path(path: &str) -> Option<Rpc> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        KNOWN_RPCS
            .iter()
            .copied()
            .find(|rpc| rpc.service == service && rpc.method == method)
    }

    fn labels(&self) -> [&'static str; 3] {
        [self.kind, self.service, self.method]
    }
}

/// Go's name of a gRPC status code (`codes.Code.String()`).
fn code_name(code: tonic::Code) -> &'static str {
    use tonic::Code;
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "Canceled",
        Code::Unknown => "Unknown",
        Code::InvalidArgument => "InvalidArgument",
        Code::DeadlineExceeded => "DeadlineExceeded",
        Code::NotFound => "NotFound",
        Code::AlreadyExists => "AlreadyExists",
        Code::PermissionDenied => "PermissionDenied",
        Code::ResourceExhausted => "ResourceExhausted",
        Code::FailedPrecondition => "FailedPrecondition",
        Code::Aborted => "Aborted",
        Code::OutOfRange => "OutOfRange",
        Code::Unimplemented => "Unimplemented",
        Code::Internal => "Internal",
        Code::Unavailable => "Unavailable",
        Code::DataLoss => "DataLoss",
        Code::Unauthenticated => "Unauthenticated",
    }
}

/// The gRPC status code in a header map, if it has one.
fn grpc_status(headers: &http::HeaderMap) -> Option<tonic::Code> {
    headers
        .get("grpc-status")
        .map(|value| tonic::Code::from_bytes(value.as_bytes()))
}

/// One RPC being measured; recorded as handled exactly once, when its
/// response ends or is dropped.
#[derive(Debug)]
struct Measurement {
    rpc: Rpc,
    started: Instant,
    code: Option<tonic::Code>,
}

impl Measurement {
    fn start(rpc: Rpc) -> Self {
        GrpcServerMetrics::get()
            .started
            .with_label_values(&rpc.labels())
            .inc();
        Measurement {
            rpc,
            started: Instant::now(),
            code: None,
        }
    }
}

impl Drop for Measurement {
    fn drop(&mut self) {
        let metrics = GrpcServerMetrics::get();
        let [kind, service, method] = self.rpc.labels();
        let code = code_name(self.code.unwrap_or(tonic::Code::Cancelled));
        metrics
            .handled
            .with_label_values(&[kind, service, method, code])
            .inc();
        metrics
            .handling_seconds
            .with_label_values(&self.rpc.labels())
            .observe(self.started.elapsed().as_secs_f64());
    }
}

/// A tower layer counting and timing every RPC (see the
/// [module docs](self)).
///
/// The plugin server applies it by itself; it is public for plugins that
/// build their own tonic server around the adapters.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetricsLayer;

impl<S> Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

/// The service made by [`GrpcMetricsLayer`].
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
}

impl<S, RequestBody, ResponseBody> Service<http::Request<RequestBody>> for GrpcMetrics<S>
where
    S: Service<http::Request<RequestBody>, Response = http::Response<ResponseBody>>,
{
    type Response = http::Response<MeasuredBody<ResponseBody>>;
    type Error = S::Error;
    type Future = MeasuredFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<RequestBody>) -> Self::Future {
        let measurement = Rpc::from_path(request.uri().path()).map(Measurement::start);
        MeasuredFuture {
            inner: self.inner.call(request),
            measurement,
        }
    }
}

pin_project! {
    /// The response future of [`GrpcMetrics`].
    #[derive(Debug)]
    pub struct MeasuredFuture<F> {
        #[pin]
        inner: F,
        measurement: Option<Measurement>,
    }
}

impl<F, ResponseBody, E> Future for MeasuredFuture<F>
where
    F: Future<Output = Result<http::Response<ResponseBody>, E>>,
{
    type Output = Result<http::Response<MeasuredBody<ResponseBody>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx));
        let mut measurement = this.measurement.take();
        Poll::Ready(response.map(|response| {
            // A "trailers-only" response (most errors) has its status in
            // the headers; its body is empty.
            if let Some(measurement) = &mut measurement {
                measurement.code = grpc_status(response.headers());
            }
            response.map(|inner| MeasuredBody { inner, measurement })
        }))
    }
}

pin_project! {
    /// The response body of [`GrpcMetrics`]: it records the RPC when its
    /// trailers pass or when it is dropped.
    #[derive(Debug)]
    pub struct MeasuredBody<B> {
        #[pin]
        inner: B,
        measurement: Option<Measurement>,
    }
}

impl<B: Body> Body for MeasuredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let frame = ready!(this.inner.poll_frame(cx));
        if let (Some(Ok(frame)), Some(measurement)) = (&frame, this.measurement.as_mut())
            && let Some(code) = frame.trailers_ref().and_then(grpc_status)
        {
            measurement.code = Some(code);
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_known_rpcs_only() {
        let rpc = Rpc::from_path("/pluginv2.Data/QueryData").unwrap();
        assert_eq!(rpc.labels(), ["unary", "pluginv2.Data", "QueryData"]);
        assert_eq!(
            Rpc::from_path("/plugin.GRPCBroker/StartStream")
                .unwrap()
                .kind,
            "bidi_stream"
        );
        assert_eq!(Rpc::from_path("/pluginv2.Data/Nope"), None);
        assert_eq!(Rpc::from_path("garbage"), None);
    }

    #[test]
    fn measurements_record_the_status_code() {
        let rpc = Rpc::from_path("/pluginv2.Diagnostics/CheckHealth").unwrap();
        let handled = || {
            GrpcServerMetrics::get()
                .handled
                .with_label_values(&["unary", "pluginv2.Diagnostics", "CheckHealth", "NotFound"])
                .get()
        };
        let before = handled();
        let mut measurement = Measurement::start(rpc);
        measurement.code = Some(tonic::Code::NotFound);
        drop(measurement);
        assert_eq!(handled(), before + 1);
        let text = prometheus::TextEncoder::new()
            .encode_to_string(&prometheus::gather())
            .unwrap();
        assert!(text.contains("grpc_server_handling_seconds_bucket"));
        assert!(text.contains(r#"grpc_code="NotFound""#));
    }
}
