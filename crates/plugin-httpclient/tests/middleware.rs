//! The default middleware against a real local server: what arrives, what is
//! recorded, and how errors are attributed.

mod common;

use std::{collections::HashMap, sync::Arc};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::Full;
use plugin_httpclient::middleware::tracing::{TracePropagator, TracingLayer};
use plugin_httpclient::{
    BasicAuth, DataSourceLabels, DataSourceSettings, Endpoint, Error, ErrorSource,
    ForwardedHeaders, GrafanaUserAgent, HttpClient, HttpClientOptions, Middleware, PluginInfo,
    middleware,
};
use tower::util::MapRequestLayer;

use common::{echo, echoed, options, spawn};

#[tokio::test]
async fn settings_auth_headers_and_user_agent_arrive() {
    let address = spawn(echo()).await;
    let json = serde_json::json!({
        "basicAuth": true,
        "basicAuthUser": "grafana",
        "httpHeaderName1": "X-Api-Key",
        "httpHeaderName2": "X-Scope-OrgID",
    });
    let secure: HashMap<String, String> = [
        ("basicAuthPassword", "pa55"),
        ("httpHeaderValue1", "k3y"),
        ("httpHeaderValue2", "tenant-1"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let settings = DataSourceSettings {
        plugin_id: "grafana-test-datasource",
        plugin_version: "1.2.3",
        ..DataSourceSettings::new(&json, &secure)
    };
    let mut options = HttpClientOptions::from_data_source_settings(&settings).unwrap();
    options.proxy = plugin_httpclient::ProxyOptions::none();
    let client = HttpClient::new(options).unwrap();

    let body = client
        .get(format!("http://{address}/api/v1/query"))
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();

    assert!(body.starts_with("GET /api/v1/query"), "{body}");
    // base64("grafana:pa55")
    assert_eq!(echoed(&body, "authorization"), ["Basic Z3JhZmFuYTpwYTU1"]);
    assert_eq!(echoed(&body, "x-api-key"), ["k3y"]);
    assert_eq!(echoed(&body, "x-scope-orgid"), ["tenant-1"]);
    assert_eq!(
        echoed(&body, "user-agent"),
        ["Grafana grafana-test-datasource/1.2.3"]
    );
}

#[tokio::test]
async fn explicit_headers_win_over_basic_auth_and_user_agent() {
    let address = spawn(echo()).await;
    let mut options = options();
    options.basic_auth = Some(BasicAuth::new("user", "password"));
    options.plugin = Some(PluginInfo::new("my-plugin", "0.1.0"));
    let client = HttpClient::new(options).unwrap();

    let request = Request::get(format!("http://{address}/"))
        .header("authorization", "Bearer token")
        .header("user-agent", "custom/1")
        .body(())
        .unwrap();
    let body = client
        .send(request)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(echoed(&body, "authorization"), ["Bearer token"]);
    assert_eq!(echoed(&body, "user-agent"), ["custom/1"]);

    // Grafana's own user agent is extended, not replaced.
    let mut request = Request::get(format!("http://{address}/")).body(()).unwrap();
    request
        .extensions_mut()
        .insert(GrafanaUserAgent(HeaderValue::from_static(
            "Grafana/11.0.0 (linux; amd64)",
        )));
    let body = client
        .send(request)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(
        echoed(&body, "user-agent"),
        ["Grafana/11.0.0 (linux; amd64) my-plugin/0.1.0"]
    );
}

#[tokio::test]
async fn custom_headers_replace_existing_values() {
    let address = spawn(echo()).await;
    let mut options = options();
    options
        .headers
        .insert("x-team", HeaderValue::from_static("from-settings"));
    let client = HttpClient::new(options).unwrap();
    let request = Request::get(format!("http://{address}/"))
        .header("x-team", "from-code")
        .body(())
        .unwrap();
    let body = client
        .send(request)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(echoed(&body, "x-team"), ["from-settings"]);
}

fn incoming_identity() -> ForwardedHeaders {
    let mut incoming = HeaderMap::new();
    incoming.insert(
        "authorization",
        HeaderValue::from_static("Bearer user-token"),
    );
    incoming.insert("x-id-token", HeaderValue::from_static("id-token"));
    incoming.insert("cookie", HeaderValue::from_static("session=abc"));
    incoming.insert("x-dashboard-uid", HeaderValue::from_static("d1"));
    incoming.insert("content-length", HeaderValue::from_static("99"));
    ForwardedHeaders::from_incoming(&incoming)
}

#[tokio::test]
async fn incoming_headers_are_forwarded_only_when_enabled_and_unset() {
    let address = spawn(echo()).await;
    let url = format!("http://{address}/");

    let mut enabled = options();
    enabled.forward_http_headers = true;
    let client = HttpClient::new(enabled).unwrap();
    let mut request = Request::get(&url)
        .header("cookie", "mine=1")
        .body(())
        .unwrap();
    request.extensions_mut().insert(incoming_identity());
    let body = client
        .send(request)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(echoed(&body, "authorization"), ["Bearer user-token"]);
    assert_eq!(echoed(&body, "x-id-token"), ["id-token"]);
    assert_eq!(
        echoed(&body, "cookie"),
        ["mine=1"],
        "an existing header is kept"
    );
    // Go forwards every header of a resource request
    // (backend/resource.go), but never one describing the incoming message.
    assert_eq!(echoed(&body, "x-dashboard-uid"), ["d1"]);
    assert_eq!(echoed(&body, "content-length"), Vec::<&str>::new());

    let client = HttpClient::new(options()).unwrap();
    let mut request = Request::get(&url).body(()).unwrap();
    request.extensions_mut().insert(incoming_identity());
    let body = client
        .send(request)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert!(echoed(&body, "authorization").is_empty(), "{body}");
    assert!(echoed(&body, "cookie").is_empty(), "{body}");
}

#[tokio::test]
async fn middleware_can_be_added_and_removed_by_name() {
    let address = spawn(echo()).await;
    let mut options = options();
    options.basic_auth = Some(BasicAuth::new("user", "password"));
    let mut builder = HttpClient::builder(options);
    let stack = builder.middleware_mut();
    assert_eq!(
        stack.names().collect::<Vec<_>>(),
        [
            middleware::TRACING,
            middleware::DATASOURCE_METRICS,
            middleware::BASIC_AUTH,
            middleware::CUSTOM_HEADERS,
            middleware::USER_AGENT,
            middleware::FORWARD_HTTP_HEADERS,
            middleware::ERROR_SOURCE,
            middleware::RESPONSE_LIMIT,
        ]
    );
    assert!(stack.remove(middleware::BASIC_AUTH).is_some());
    stack
        .insert_before(
            middleware::CUSTOM_HEADERS,
            Middleware::new(
                "tenant",
                MapRequestLayer::new(|mut request: Request<plugin_httpclient::Body>| {
                    request
                        .headers_mut()
                        .insert("x-tenant", HeaderValue::from_static("t1"));
                    request
                }),
            ),
        )
        .unwrap();
    assert!(
        stack
            .insert_after(
                "missing",
                Middleware::new("x", tower::layer::util::Identity::new())
            )
            .is_err()
    );
    let client = builder.build().unwrap();

    let body = client
        .get(format!("http://{address}/"))
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert!(
        echoed(&body, "authorization").is_empty(),
        "basic auth was removed: {body}"
    );
    assert_eq!(echoed(&body, "x-tenant"), ["t1"]);
}

#[tokio::test]
async fn duplicate_middleware_names_are_rejected() {
    let mut builder = HttpClient::builder(options());
    builder.middleware_mut().push(Middleware::new(
        middleware::TRACING,
        tower::layer::util::Identity::new(),
    ));
    let error = builder.build().unwrap_err();
    assert!(matches!(error, Error::MiddlewareStack(_)), "{error:?}");
    assert!(error.to_string().contains("Tracing"), "{error}");
}

/// The value of the metric sample with these label values: a counter's or
/// gauge's value, a histogram's sample count.
fn sample(name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let family = prometheus::gather()
        .into_iter()
        .find(|family| family.name() == name)?;
    let metric = family.get_metric().iter().find(|metric| {
        labels.iter().all(|(label, value)| {
            metric
                .get_label()
                .iter()
                .any(|pair| pair.name() == *label && pair.value() == *value)
        })
    })?;
    Some(match family.get_field_type() {
        prometheus::proto::MetricType::COUNTER => metric.get_counter().get_value(),
        prometheus::proto::MetricType::GAUGE => metric.get_gauge().get_value(),
        _ => metric.get_histogram().get_sample_count() as f64,
    })
}

#[tokio::test]
async fn metrics_are_recorded_per_data_source_and_status() {
    let handler: common::Handler = Arc::new(|request: Request<hyper::body::Incoming>| {
        let status = if request.uri().path() == "/missing" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        let mut response = Response::new(Full::new(Bytes::from_static(b"0123456789")));
        *response.status_mut() = status;
        response
    });
    let address = spawn(handler).await;
    let mut options = options();
    // A type unique to this test: the registry is process-wide.
    options.labels = DataSourceLabels::new("Metrics DS", "uid-metrics", "metrics-test-ds");
    let client = HttpClient::new(options).unwrap();

    for path in ["/ok", "/ok", "/missing"] {
        let mut request = Request::get(format!("http://{address}{path}"))
            .body(())
            .unwrap();
        request.extensions_mut().insert(Endpoint::QueryData);
        let body = client
            .send(request)
            .await
            .unwrap()
            .into_body()
            .collect_bytes()
            .await
            .unwrap();
        assert_eq!(body.len(), 10);
    }

    let labels = |code: &'static str| {
        [
            ("datasource_type", "metricstestds"),
            ("code", code),
            ("method", "get"),
            ("secure_socks_ds_proxy_enabled", "false"),
            ("endpoint", "queryData"),
        ]
    };
    assert_eq!(
        sample("plugins_datasource_request_total", &labels("200")),
        Some(2.0)
    );
    assert_eq!(
        sample("plugins_datasource_request_total", &labels("404")),
        Some(1.0)
    );
    assert_eq!(
        sample(
            "plugins_datasource_request_duration_seconds",
            &labels("200")
        ),
        Some(2.0)
    );
    let size_labels = [
        ("datasource_type", "metricstestds"),
        ("secure_socks_ds_proxy_enabled", "false"),
        ("endpoint", "queryData"),
    ];
    assert_eq!(
        sample("plugins_datasource_response_size_bytes", &size_labels),
        Some(3.0)
    );
    assert_eq!(
        sample("plugins_datasource_response_size", &size_labels),
        Some(10.0)
    );
    assert_eq!(
        sample("plugins_datasource_request_in_flight", &size_labels),
        Some(0.0)
    );
}

#[tokio::test]
async fn connection_failures_are_downstream_errors() {
    // Bind then drop a listener: its port now refuses connections.
    let address = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let client = HttpClient::new(options()).unwrap();
    let error = client.get(format!("http://{address}/")).await.unwrap_err();
    assert_eq!(error.error_source(), ErrorSource::Downstream, "{error:?}");
    assert!(
        matches!(error.unmarked(), Error::Connect { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains(&address.to_string()), "{error}");

    // Without the error-source middleware the same failure stays a plugin error.
    let mut builder = HttpClient::builder(options());
    builder.middleware_mut().remove(middleware::ERROR_SOURCE);
    let error = builder
        .build()
        .unwrap()
        .get(format!("http://{address}/"))
        .await
        .unwrap_err();
    assert_eq!(error.error_source(), ErrorSource::Plugin);
    assert!(error.is_downstream_http_error());
}

#[tokio::test]
async fn http_error_statuses_are_responses_not_errors() {
    let handler: common::Handler = Arc::new(|_| {
        let mut response = Response::new(Full::new(Bytes::from_static(b"boom")));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        response
    });
    let address = spawn(handler).await;
    let client = HttpClient::new(options()).unwrap();
    let response = client.get(format!("http://{address}/")).await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn invalid_request_uris_are_plugin_errors() {
    let client = HttpClient::new(options()).unwrap();
    let error = client.get("ftp://127.0.0.1/file").await.unwrap_err();
    assert_eq!(error.error_source(), ErrorSource::Plugin, "{error:?}");
    assert!(error.to_string().contains("scheme"), "{error}");
}

/// Writes a fixed W3C trace context, standing in for OpenTelemetry's.
#[derive(Debug)]
struct FixedTraceContext;

impl TracePropagator for FixedTraceContext {
    fn inject(&self, _span: &tracing::Span, headers: &mut HeaderMap) {
        headers.insert(
            "traceparent",
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
    }
}

#[tokio::test]
async fn the_tracing_middleware_injects_propagation_headers() {
    let address = spawn(echo()).await;
    let options = options();
    let tracing_layer =
        TracingLayer::from_options(&options).with_propagator(Arc::new(FixedTraceContext));
    let mut builder = HttpClient::builder(options);
    let stack = builder.middleware_mut();
    stack.remove(middleware::TRACING);
    stack.push_outermost(Middleware::new(middleware::TRACING, tracing_layer));
    let body = builder
        .build()
        .unwrap()
        .get(format!("http://{address}/"))
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(
        echoed(&body, "traceparent"),
        ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]
    );
}
