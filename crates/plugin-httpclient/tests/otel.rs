//! Trace-context propagation with feature `otel`: the outgoing request
//! carries the W3C `traceparent` of its own span, a child of the handler's
//! span (`backend/httpclient/tracing_middleware.go`).
#![cfg(feature = "otel")]

mod common;

use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry_sdk::{propagation::TraceContextPropagator, trace::SdkTracerProvider};
use plugin_httpclient::HttpClient;
use tracing::Instrument as _;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt as _;

use common::{echo, echoed, options, spawn};

#[tokio::test]
async fn requests_carry_the_spans_trace_context() {
    let address = spawn(echo()).await;
    let url = format!("http://{address}/");
    let client = HttpClient::new(options()).unwrap();

    // Without an OpenTelemetry layer a span has no context: nothing is sent.
    let body = client
        .get(&url)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert!(echoed(&body, "traceparent").is_empty(), "{body}");

    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    let provider = SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    // The test runtime is single-threaded: the server and the client run
    // on this thread, under this subscriber.
    let _guard = tracing::subscriber::set_default(subscriber);

    let handler = tracing::info_span!("handler");
    let trace_id = handler.context().span().span_context().trace_id();
    let body = async { client.get(&url).await?.into_body().text().await }
        .instrument(handler.clone())
        .await
        .unwrap();
    let traceparent = echoed(&body, "traceparent");
    let [traceparent] = traceparent.as_slice() else {
        panic!("one traceparent expected: {body}");
    };
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00");
    assert_eq!(parts[1], trace_id.to_string(), "the handler's trace");
    let handler_span_id = handler.context().span().span_context().span_id();
    assert_ne!(
        parts[2],
        handler_span_id.to_string(),
        "the parent is the request's own span"
    );
    assert_eq!(parts[3], "01", "sampled");
}
