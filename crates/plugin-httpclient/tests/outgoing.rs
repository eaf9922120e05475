//! The handler call's outgoing context (`plugin_backend::outgoing::scope`)
//! reaching the data source: forwarded headers inside and outside a scope,
//! `keepCookies`, `oauthPassThru`, `FromAlert`, the user agent, the metrics'
//! endpoint label and the per-request response limit.

mod common;

use std::{collections::HashMap, sync::Arc};

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body_util::Full;
use plugin_backend::{
    CheckHealthRequest, Endpoint, ForwardHttpHeaders, GrafanaConfig, PluginContext,
    QueryDataRequest, UserAgent,
    outgoing::{self, OutgoingContext},
};
use plugin_httpclient::{
    DataSourceLabels, DataSourceSettings, Error, HttpClient, HttpClientOptions, PluginInfo,
    ProxyOptions,
};

use common::{echo, echoed, options, spawn};

/// A QueryData request as Grafana sends it for a signed-in OAuth user on
/// an alert rule: identity headers unprefixed, the rest `http_`-prefixed.
fn query_request() -> QueryDataRequest {
    let mut request = QueryDataRequest::new(PluginContext::new("test-datasource"), vec![]);
    for (key, value) in [
        ("Authorization", "Bearer user-token"),
        ("X-Id-Token", "id-token"),
        ("Cookie", "session=s1; tracking=t1; tenant=acme"),
        ("FromAlert", "true"),
    ] {
        request.headers.insert(key.into(), value.into());
    }
    request.set_http_header("X-Rule-Uid", "rule-7");
    request.set_http_header("X-Grafana-Org-Id", "3");
    request
}

fn context_of(request: &QueryDataRequest) -> OutgoingContext {
    OutgoingContext::new(Endpoint::QueryData, &request.plugin_context)
        .with_forwarded_headers(request)
}

async fn get(client: &HttpClient, url: &str) -> String {
    client
        .get(url)
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn headers_are_forwarded_inside_a_scope_only() {
    let address = spawn(echo()).await;
    let url = format!("http://{address}/q");
    let mut options = options();
    options.forward_http_headers = true;
    let client = HttpClient::new(options).unwrap();

    let inside = outgoing::scope(context_of(&query_request()), get(&client, &url)).await;
    assert_eq!(echoed(&inside, "authorization"), ["Bearer user-token"]);
    assert_eq!(echoed(&inside, "x-id-token"), ["id-token"]);
    assert_eq!(
        echoed(&inside, "cookie"),
        ["session=s1; tracking=t1; tenant=acme"],
        "no keepCookies list: as Grafana sent it"
    );
    assert_eq!(echoed(&inside, "x-rule-uid"), ["rule-7"]);
    assert_eq!(echoed(&inside, "x-grafana-org-id"), ["3"]);
    assert_eq!(echoed(&inside, "fromalert"), ["true"]);

    let outside = get(&client, &url).await;
    for name in ["authorization", "cookie", "x-rule-uid", "fromalert"] {
        assert!(echoed(&outside, name).is_empty(), "{name}: {outside}");
    }
}

#[tokio::test]
async fn without_forwarding_only_from_alert_goes_out() {
    // backend/alert_forwarder_middleware.go ignores ForwardHTTPHeaders.
    let address = spawn(echo()).await;
    let client = HttpClient::new(options()).unwrap();
    let body = outgoing::scope(
        context_of(&query_request()),
        get(&client, &format!("http://{address}/")),
    )
    .await;
    assert_eq!(echoed(&body, "fromalert"), ["true"]);
    assert!(echoed(&body, "authorization").is_empty(), "{body}");
    assert!(echoed(&body, "x-rule-uid").is_empty(), "{body}");
}

#[tokio::test]
async fn keep_cookies_and_oauth_pass_through_come_from_the_settings() {
    let address = spawn(echo()).await;
    let url = format!("http://{address}/");
    let json = serde_json::json!({"keepCookies": ["session", "tenant"], "oauthPassThru": true});
    let secure = HashMap::new();
    let settings = DataSourceSettings::new(&json, &secure);

    // oauthPassThru alone: the OAuth identity, nothing else.
    let mut pass_through = HttpClientOptions::from_data_source_settings(&settings).unwrap();
    pass_through.proxy = ProxyOptions::none();
    let client = HttpClient::new(pass_through.clone()).unwrap();
    let body = outgoing::scope(context_of(&query_request()), get(&client, &url)).await;
    assert_eq!(echoed(&body, "authorization"), ["Bearer user-token"]);
    assert_eq!(echoed(&body, "x-id-token"), ["id-token"]);
    assert!(echoed(&body, "cookie").is_empty(), "{body}");
    assert!(echoed(&body, "x-rule-uid").is_empty(), "{body}");

    // Forwarding on: cookies filtered by keepCookies.
    let mut forwarding = pass_through;
    forwarding.forward_http_headers = true;
    let client = HttpClient::new(forwarding).unwrap();
    let body = outgoing::scope(context_of(&query_request()), get(&client, &url)).await;
    assert_eq!(echoed(&body, "cookie"), ["session=s1; tenant=acme"]);
    assert_eq!(echoed(&body, "x-rule-uid"), ["rule-7"]);
}

#[tokio::test]
async fn resource_requests_forward_their_headers() {
    let address = spawn(echo()).await;
    let mut options = options();
    options.forward_http_headers = true;
    let client = HttpClient::new(options).unwrap();
    let mut incoming = HeaderMap::new();
    incoming.insert("x-custom", HeaderValue::from_static("from-browser"));
    incoming.insert("content-length", HeaderValue::from_static("999"));
    let context = OutgoingContext::new(Endpoint::CallResource, &PluginContext::new("p"))
        .with_resource_headers(&incoming);
    let request = Request::post(format!("http://{address}/r"))
        .body("abc")
        .unwrap();
    let body = outgoing::scope(context, client.send(request))
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert_eq!(echoed(&body, "x-custom"), ["from-browser"]);
    assert_eq!(echoed(&body, "content-length"), ["3"], "the request's own");
}

#[tokio::test]
async fn user_agent_and_endpoint_label_come_from_the_scope() {
    let address = spawn(echo()).await;
    let mut options = options();
    options.plugin = Some(PluginInfo::new("scope-test-ds", "1.0.0"));
    // A type unique to this test: the metrics registry is process-wide.
    options.labels = DataSourceLabels::new("Scope DS", "uid-scope", "scope-endpoint-ds");
    let client = HttpClient::new(options).unwrap();

    let mut plugin_context = PluginContext::new("scope-test-ds");
    plugin_context.user_agent = Some(UserAgent::new("12.1.0", "linux", "amd64").unwrap());
    let health = CheckHealthRequest::new(plugin_context);
    let context = OutgoingContext::new(Endpoint::CheckHealth, &health.plugin_context)
        .with_forwarded_headers(&health);
    let body = outgoing::scope(context, get(&client, &format!("http://{address}/"))).await;
    assert_eq!(
        echoed(&body, "user-agent"),
        ["Grafana/12.1.0 (linux; amd64) scope-test-ds/1.0.0"]
    );

    let counted = prometheus::gather()
        .into_iter()
        .find(|family| family.name() == "plugins_datasource_request_total")
        .and_then(|family| {
            family
                .get_metric()
                .iter()
                .find(|metric| {
                    let label = |name: &str| {
                        metric
                            .get_label()
                            .iter()
                            .find(|pair| pair.name() == name)
                            .map(|pair| pair.value().to_owned())
                    };
                    label("datasource_type").as_deref() == Some("scopeendpointds")
                        && label("endpoint").as_deref() == Some("checkHealth")
                })
                .map(|metric| metric.get_counter().get_value())
        });
    assert_eq!(counted, Some(1.0));
}

#[tokio::test]
async fn the_handler_calls_response_limit_applies() {
    let kilobyte: common::Handler =
        Arc::new(|_| Response::new(Full::new(Bytes::from(vec![b'x'; 1024]))));
    let address = spawn(kilobyte).await;
    let url = format!("http://{address}/");
    let client = HttpClient::new(options()).unwrap();

    let limited = OutgoingContext::new(
        Endpoint::QueryData,
        &PluginContext::new("p").with_grafana_config(
            [("GF_RESPONSE_LIMIT", "100")]
                .into_iter()
                .collect::<GrafanaConfig>(),
        ),
    );
    let error = outgoing::scope(limited, async {
        client.get(&url).await?.into_body().collect_bytes().await
    })
    .await
    .unwrap_err();
    assert!(
        matches!(error, Error::ResponseTooLarge { limit: 100 }),
        "{error:?}"
    );

    // Go: zero and negative limits are "no limit".
    let unlimited = OutgoingContext::new(
        Endpoint::QueryData,
        &PluginContext::new("p").with_grafana_config(
            [("GF_RESPONSE_LIMIT", "0")]
                .into_iter()
                .collect::<GrafanaConfig>(),
        ),
    );
    let body = outgoing::scope(unlimited, async {
        client.get(&url).await?.into_body().collect_bytes().await
    })
    .await
    .unwrap();
    assert_eq!(body.len(), 1024);
}
