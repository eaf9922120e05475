//! OpenTelemetry tracing (feature `otel`), configured as Grafana configures
//! Go plugins.
//!
//! Grafana sets these variables when tracing is on for the plugin:
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `GF_INSTANCE_OTLP_ADDRESS` | OTLP/gRPC collector, `host:port`, plaintext; tracing is off without it | |
//! | `GF_INSTANCE_OTLP_PROPAGATION` | comma list of `w3c`, `jaeger` | W3C trace context + baggage |
//! | `GF_INSTANCE_OTLP_SAMPLER_TYPE` | `const` (param 0 or 1), `probabilistic` (ratio), `rateLimiting` (traces per second), `remote` | `const` |
//! | `GF_INSTANCE_OTLP_SAMPLER_PARAM` | the sampler's parameter | 1.0 (also when it does not parse) |
//! | `GF_PLUGIN_VERSION` | `service.version` when the build information has none | |
//!
//! Every sampler is parent-based: a request whose trace Grafana sampled is
//! traced. The `remote` (Jaeger remote) sampler is not available here; it
//! falls back to its initial sampler, the probabilistic one with the same
//! parameter, as the Go SDK does before the first remote answer. Invalid
//! settings are logged as warnings and replaced by the defaults instead of
//! stopping the plugin.
//!
//! Spans are batched and exported over OTLP/gRPC (tonic); the resource has
//! `service.name` = the plugin id and `service.version`. [`TraceContextLayer`]
//! opens one span per RPC (`pluginv2.Data/QueryData`, kind server) whose
//! parent is the trace context in the request's gRPC metadata
//! (`traceparent`/`tracestate`, or `uber-trace-id` with the Jaeger
//! propagator), so the plugin's `tracing` spans join Grafana's trace.

use std::borrow::Cow;
use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, TraceContextExt, TraceFlags, TraceId, TraceState,
    TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};
use opentelemetry_sdk::trace::{
    Sampler, SamplingDecision, SamplingResult, SdkTracerProvider, ShouldSample,
};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::Layer;

use crate::buildinfo::BuildInfo;

/// The collector address variable; tracing is on when it is set.
pub const OTLP_ADDRESS_ENV: &str = "GF_INSTANCE_OTLP_ADDRESS";
/// The propagation variable.
pub const OTLP_PROPAGATION_ENV: &str = "GF_INSTANCE_OTLP_PROPAGATION";
/// The sampler type variable.
pub const OTLP_SAMPLER_TYPE_ENV: &str = "GF_INSTANCE_OTLP_SAMPLER_TYPE";
/// The sampler parameter variable.
pub const OTLP_SAMPLER_PARAM_ENV: &str = "GF_INSTANCE_OTLP_SAMPLER_PARAM";
/// The plugin version variable.
pub const PLUGIN_VERSION_ENV: &str = "GF_PLUGIN_VERSION";

/// How long exiting waits for the last spans to be exported.
const FLUSH_TIMEOUT: Duration = Duration::from_millis(400);

/// Whether tracing is set up, so that [`TraceContextLayer`] opens spans.
static TRACING_ENABLED: AtomicBool = AtomicBool::new(false);

/// The tracing configuration from Grafana's variables.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TracingConfig {
    /// The collector's `host:port` (or URL).
    pub address: String,
    /// The propagators, e.g. `"w3c,jaeger"`; empty means W3C trace context
    /// and baggage.
    pub propagation: String,
    /// The sampler type.
    pub sampler_type: String,
    /// The sampler parameter.
    pub sampler_param: f64,
}

impl TracingConfig {
    /// The configuration in the process environment, `None` when tracing is
    /// off; with the warnings about values that had to be replaced.
    pub fn from_env() -> (Option<TracingConfig>, Vec<String>) {
        let var = |name: &str| std::env::var(name).unwrap_or_default();
        let address = var(OTLP_ADDRESS_ENV);
        if address.trim().is_empty() {
            return (None, Vec::new());
        }
        let mut warnings = Vec::new();
        let param_text = var(OTLP_SAMPLER_PARAM_ENV);
        let sampler_param = param_text.trim().parse().unwrap_or_else(|_| {
            warnings.push(format!(
                "could not parse the sampler param {param_text:?} as a number, using 1.0"
            ));
            1.0
        });
        let config = TracingConfig {
            address: address.trim().to_owned(),
            propagation: var(OTLP_PROPAGATION_ENV),
            sampler_type: var(OTLP_SAMPLER_TYPE_ENV),
            sampler_param,
        };
        (Some(config), warnings)
    }

    /// The root sampler (wrapped parent-based by the provider), and a warning
    /// when the settings could not be followed.
    fn sampler(&self) -> (Box<dyn ShouldSample>, Option<String>) {
        let param = self.sampler_param;
        match self.sampler_type.trim() {
            "" | "const" if param >= 1.0 => (Box::new(Sampler::AlwaysOn), None),
            "" | "const" if param <= 0.0 => (Box::new(Sampler::AlwaysOff), None),
            "" | "const" => (
                Box::new(Sampler::AlwaysOn),
                Some(format!(
                    "the const sampler takes 0 or 1, not {param}; sampling everything"
                )),
            ),
            "probabilistic" => (Box::new(Sampler::TraceIdRatioBased(param)), None),
            "rateLimiting" => (Box::new(RateLimitingSampler::new(param)), None),
            "remote" => (
                Box::new(Sampler::TraceIdRatioBased(param)),
                Some(format!(
                    "the remote sampler is not supported; sampling a {param} ratio of traces"
                )),
            ),
            other => (
                Box::new(Sampler::AlwaysOn),
                Some(format!(
                    "unknown sampler type {other:?}; sampling everything"
                )),
            ),
        }
    }

    /// The propagator for [`propagation`](Self::propagation), and warnings
    /// about names it does not know.
    fn propagator(&self) -> (TextMapCompositePropagator, Vec<String>) {
        let mut warnings = Vec::new();
        let mut propagators: Vec<Box<dyn TextMapPropagator + Send + Sync>> = Vec::new();
        for name in self
            .propagation
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            match name {
                "w3c" => propagators.push(Box::new(TraceContextPropagator::new())),
                "jaeger" => propagators.push(Box::new(JaegerPropagator::new())),
                other => warnings.push(format!(
                    "unsupported OpenTelemetry propagator {other:?}, ignored"
                )),
            }
        }
        if propagators.is_empty() {
            propagators = vec![
                Box::new(TraceContextPropagator::new()),
                Box::new(BaggagePropagator::new()),
            ];
        }
        (TextMapCompositePropagator::new(propagators), warnings)
    }

    /// The collector endpoint as a URL: plaintext HTTP/2 unless a scheme is
    /// given.
    fn endpoint(&self) -> String {
        if self.address.contains("://") {
            self.address.clone()
        } else {
            format!("http://{}", self.address)
        }
    }
}

/// A set-up tracer provider, flushed on exit.
pub(crate) struct Tracing {
    provider: SdkTracerProvider,
}

impl fmt::Debug for Tracing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tracing").finish_non_exhaustive()
    }
}

impl Tracing {
    /// Exports the spans still buffered, waiting at most a moment: the
    /// process is about to exit, within Grafana's grace period.
    pub(crate) async fn shutdown(self) {
        let (done, finished) = tokio::sync::oneshot::channel();
        // The provider's shutdown blocks until its export thread is done; a
        // plain thread keeps it off the runtime's workers and does not keep
        // the runtime from shutting down if the collector hangs.
        let spawned = std::thread::Builder::new()
            .name("otel-flush".into())
            .spawn(move || {
                let _ = done.send(self.provider.shutdown_with_timeout(FLUSH_TIMEOUT));
            });
        if spawned.is_ok()
            && let Ok(Ok(Err(err))) = tokio::time::timeout(FLUSH_TIMEOUT * 2, finished).await
        {
            tracing::debug!(error = %err, "flushing traces failed");
        }
    }
}

/// The boxed layer type the subscriber is assembled from.
pub(crate) type BoxedLayer = Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>;

/// What [`setup_from_env`] produced.
pub(crate) struct Setup {
    pub(crate) tracing: Option<Tracing>,
    pub(crate) layer: Option<BoxedLayer>,
    pub(crate) warnings: Vec<String>,
}

/// Sets up tracing from the environment: the global propagator always (W3C
/// when tracing is off, so context still flows), and when
/// `GF_INSTANCE_OTLP_ADDRESS` is set the exporter, the global tracer
/// provider and the `tracing` layer.
pub(crate) fn setup_from_env(plugin_id: &str, build_info: &BuildInfo) -> Setup {
    let (config, mut warnings) = TracingConfig::from_env();
    let Some(config) = config else {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        return Setup {
            tracing: None,
            layer: None,
            warnings,
        };
    };
    let (propagator, propagator_warnings) = config.propagator();
    warnings.extend(propagator_warnings);
    let (sampler, sampler_warning) = config.sampler();
    warnings.extend(sampler_warning);

    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(config.endpoint())
        .build()
    {
        Ok(exporter) => exporter,
        Err(err) => {
            warnings.push(format!(
                "tracing disabled: cannot create the OTLP exporter: {err}"
            ));
            return Setup {
                tracing: None,
                layer: None,
                warnings,
            };
        }
    };
    let version = if build_info.version.is_empty() {
        std::env::var(PLUGIN_VERSION_ENV).unwrap_or_default()
    } else {
        build_info.version.clone()
    };
    let resource = Resource::builder()
        .with_service_name(plugin_id.to_owned())
        .with_attribute(KeyValue::new("service.version", version))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_sampler(Sampler::ParentBased(sampler))
        .with_resource(resource)
        .build();

    opentelemetry::global::set_text_map_propagator(propagator);
    opentelemetry::global::set_tracer_provider(provider.clone());
    TRACING_ENABLED.store(true, Ordering::Release);

    let tracer = provider.tracer(plugin_id.to_owned());
    let filter = crate::log::filter_from_env();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(filter)
        .boxed();
    Setup {
        tracing: Some(Tracing { provider }),
        layer: Some(layer),
        warnings,
    }
}

/// Go's rate-limiting sampler: a token bucket of `rate` traces per second
/// (at least one in the bucket).
#[derive(Debug)]
struct RateLimitingSampler {
    rate: f64,
    max_balance: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimitingSampler {
    fn new(rate: f64) -> Self {
        let max_balance = rate.max(1.0);
        RateLimitingSampler {
            rate,
            max_balance,
            state: Mutex::new((max_balance, Instant::now())),
        }
    }

    fn take(&self) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        let (balance, last_tick) = &mut *state;
        let now = Instant::now();
        *balance = (*balance + now.duration_since(*last_tick).as_secs_f64() * self.rate)
            .min(self.max_balance);
        *last_tick = now;
        if *balance >= 1.0 {
            *balance -= 1.0;
            true
        } else {
            false
        }
    }
}

impl Clone for RateLimitingSampler {
    fn clone(&self) -> Self {
        RateLimitingSampler::new(self.rate)
    }
}

impl ShouldSample for RateLimitingSampler {
    fn should_sample(
        &self,
        parent_context: Option<&Context>,
        _trace_id: TraceId,
        _name: &str,
        _span_kind: &SpanKind,
        _attributes: &[KeyValue],
        _links: &[opentelemetry::trace::Link],
    ) -> SamplingResult {
        let decision = if self.take() {
            SamplingDecision::RecordAndSample
        } else {
            SamplingDecision::Drop
        };
        let trace_state = parent_context
            .map(|cx| cx.span().span_context().trace_state().clone())
            .unwrap_or_default();
        SamplingResult {
            decision,
            attributes: Vec::new(),
            trace_state,
        }
    }
}

/// The Jaeger propagation format: header `uber-trace-id` =
/// `{trace-id}:{span-id}:{parent-span-id}:{flags}` (hex; flag 1 = sampled).
#[derive(Debug)]
pub struct JaegerPropagator {
    fields: [String; 1],
}

/// The Jaeger trace header.
const JAEGER_HEADER: &str = "uber-trace-id";

impl JaegerPropagator {
    /// The propagator.
    pub fn new() -> Self {
        JaegerPropagator {
            fields: [JAEGER_HEADER.to_owned()],
        }
    }

    fn span_context(&self, extractor: &dyn Extractor) -> Option<SpanContext> {
        let header = extractor.get(JAEGER_HEADER)?;
        let header = header.replace("%3A", ":").replace("%3a", ":");
        let mut parts = header.split(':');
        let (trace_id, span_id, _parent, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || trace_id.len() > 32 || span_id.len() > 16 {
            return None;
        }
        let trace_id = TraceId::from_hex(trace_id).ok()?;
        let span_id = SpanId::from_hex(span_id).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        let trace_flags = if flags & 0x1 == 0x1 {
            TraceFlags::SAMPLED
        } else {
            TraceFlags::default()
        };
        let context = SpanContext::new(trace_id, span_id, trace_flags, true, TraceState::default());
        context.is_valid().then_some(context)
    }
}

impl Default for JaegerPropagator {
    fn default() -> Self {
        JaegerPropagator::new()
    }
}

impl TextMapPropagator for JaegerPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if context.is_valid() {
            let flags = if context.is_sampled() { 1 } else { 0 };
            injector.set(
                JAEGER_HEADER,
                format!("{}:{}:0:{flags}", context.trace_id(), context.span_id()),
            );
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match self.span_context(extractor) {
            Some(context) => cx.with_remote_span_context(context),
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        FieldIter::new(&self.fields)
    }
}

/// Reads propagation headers from gRPC metadata (HTTP/2 headers).
struct HeaderExtractor<'a>(&'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(http::HeaderName::as_str).collect()
    }
}

/// A tower layer opening one span per RPC, child of the trace context in
/// the request's metadata (see the [module docs](self)). It passes requests
/// through untouched while tracing is off.
#[derive(Debug, Clone, Copy)]
pub struct TraceContextLayer {
    enabled: bool,
}

impl Default for TraceContextLayer {
    /// A layer that traces when tracing has been set up from the
    /// environment.
    fn default() -> Self {
        TraceContextLayer {
            enabled: TRACING_ENABLED.load(Ordering::Acquire),
        }
    }
}

impl<S> tower_layer::Layer<S> for TraceContextLayer {
    type Service = TraceContext<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TraceContext {
            inner,
            enabled: self.enabled,
        }
    }
}

/// The service made by [`TraceContextLayer`].
#[derive(Debug, Clone)]
pub struct TraceContext<S> {
    inner: S,
    enabled: bool,
}

impl<S, B> tower_service::Service<http::Request<B>> for TraceContext<S>
where
    S: tower_service::Service<http::Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = tracing::instrument::Instrumented<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        if !self.enabled {
            return self.inner.call(request).instrument(tracing::Span::none());
        }
        let path = request.uri().path();
        let name: Cow<'_, str> = path.strip_prefix('/').unwrap_or(path).into();
        let (service, method) = name.split_once('/').unwrap_or((&name, ""));
        let span = tracing::info_span!(
            "grpc request",
            otel.name = %name,
            otel.kind = "server",
            rpc.system = "grpc",
            rpc.service = %service,
            rpc.method = %method,
        );
        let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
            propagator.extract(&HeaderExtractor(request.headers()))
        });
        if parent.span().span_context().is_valid() {
            let _ = span.set_parent(parent);
        }
        self.inner.call(request).instrument(span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(sampler_type: &str, param: f64, propagation: &str) -> TracingConfig {
        TracingConfig {
            address: "localhost:4317".into(),
            propagation: propagation.into(),
            sampler_type: sampler_type.into(),
            sampler_param: param,
        }
    }

    #[test]
    fn samplers_follow_grafanas_settings() {
        assert!(config("", 1.0, "").sampler().1.is_none());
        assert!(config("const", 0.0, "").sampler().1.is_none());
        assert!(config("const", 0.5, "").sampler().1.is_some());
        assert!(config("probabilistic", 0.1, "").sampler().1.is_none());
        assert!(config("remote", 0.1, "").sampler().1.is_some());
        assert!(config("bogus", 1.0, "").sampler().1.is_some());
        assert_eq!(config("", 1.0, "").endpoint(), "http://localhost:4317");
    }

    #[test]
    fn rate_limiting_keeps_a_token_bucket() {
        let sampler = RateLimitingSampler::new(2.0);
        assert!(sampler.take());
        assert!(sampler.take());
        assert!(!sampler.take(), "the bucket holds two traces per second");
    }

    #[test]
    fn jaeger_headers_round_trip() {
        let propagator = JaegerPropagator::new();
        let mut headers = HashMap::new();
        headers.insert(
            JAEGER_HEADER.to_owned(),
            "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1".to_owned(),
        );
        let cx = propagator.extract(&headers);
        let span = cx.span();
        let context = span.span_context();
        assert!(context.is_remote() && context.is_sampled());
        assert_eq!(
            context.trace_id().to_string(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );

        let mut injected = HashMap::new();
        propagator.inject_context(&cx, &mut injected);
        assert_eq!(
            injected[JAEGER_HEADER],
            "4bf92f3577b34da6a3ce929d0e0e4736:00f067aa0ba902b7:0:1"
        );

        for bad in ["", "x:y:0:1", "1:2:3", "0:0:0:1"] {
            headers.insert(JAEGER_HEADER.to_owned(), bad.to_owned());
            assert!(
                !propagator
                    .extract(&headers)
                    .span()
                    .span_context()
                    .is_valid(),
                "{bad}"
            );
        }
    }

    #[test]
    fn unknown_propagators_are_warned_about() {
        let (_, warnings) = config("", 1.0, "w3c,jaeger,b3").propagator();
        assert_eq!(warnings.len(), 1);
    }
}
