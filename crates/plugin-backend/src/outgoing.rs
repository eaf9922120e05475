//! The incoming request's context for outgoing calls: what the plugin's HTTP
//! (or other) clients need to know about the Grafana request being handled,
//! without passing it through every function.
//!
//! The Go SDK carries this in `context.Context`: its handler middleware
//! (`backend/http_headers.go`, `backend/alert_forwarder_middleware.go`)
//! registers contextual HTTP client middleware with the incoming request's
//! forwarded headers, and the endpoint, user agent and Grafana
//! configuration ride along in the same context. Here the SDK runs each
//! handler call inside [`scope`], a tokio task-local, and clients read it
//! with [`current`]:
//!
//! ```
//! use plugin_backend::outgoing::{self, OutgoingContext};
//! use plugin_backend::{Endpoint, ForwardHttpHeaders, PluginContext, QueryDataRequest};
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let mut request = QueryDataRequest::new(PluginContext::new("my-datasource"), vec![]);
//! request.headers.insert("Authorization".into(), "Bearer t0ken".into());
//! request.set_http_header("X-Dashboard-Uid", "d1");
//!
//! let context = OutgoingContext::new(Endpoint::QueryData, &request.plugin_context)
//!     .with_forwarded_headers(&request);
//! outgoing::scope(context, async {
//!     // Deep inside the handler: what an outgoing client sees.
//!     let current = outgoing::current().expect("inside the scope");
//!     assert_eq!(current.endpoint(), Some(Endpoint::QueryData));
//!     assert_eq!(current.forwarded_headers()["x-dashboard-uid"], "d1");
//! })
//! .await;
//! assert!(outgoing::current().is_none(), "nothing outside the scope");
//! # });
//! ```
//!
//! A task-local does not follow work onto other tasks: a handler that
//! `tokio::spawn`s work making outgoing calls captures [`current`] first and
//! runs the spawned future inside [`scope`] again (see [`OutgoingContext::scope`]).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::{HeaderMap, HeaderName, HeaderValue};

use crate::config::GrafanaConfig;
use crate::context::PluginContext;
use crate::data::QueryDataRequest;
use crate::diagnostics::CheckHealthRequest;
use crate::headers::ForwardHttpHeaders;
use crate::resource::CallResourceRequest;
use crate::rpc::Endpoint;
use crate::useragent::UserAgent;

/// The header the alerting engine sets on its queries; forwarded to every
/// outgoing HTTP request, replacing any value there
/// (`backend/alert_forwarder_middleware.go`, `FromAlertHeaderName`).
pub const FROM_ALERT_HEADER: &str = "FromAlert";

/// Headers that describe one HTTP message's framing or connection rather
/// than the request: never copied onto another request. Go's transport
/// ignores `Host`, `Content-Length`, `Transfer-Encoding` and `Trailer` in a
/// request's header map (`net/http` `reqWriteExcludeHeader`); the hop-by-hop
/// headers of RFC 9110 §7.6.1 would corrupt the new connection.
const NOT_FORWARDED: [&str; 9] = [
    "host",
    "content-length",
    "transfer-encoding",
    "trailer",
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "upgrade",
];

/// Header values that are credentials, hidden from `Debug`.
const SENSITIVE: [&str; 4] = ["authorization", "x-id-token", "cookie", "x-grafana-id"];

tokio::task_local! {
    static CURRENT: Arc<OutgoingContext>;
}

/// What outgoing clients need to know about the incoming Grafana request:
/// the endpoint, Grafana's user agent and configuration, and the headers to
/// forward.
///
/// Build one per handler call with [`OutgoingContext::new`] and, for
/// requests that carry HTTP headers, [`with_forwarded_headers`] or
/// [`with_resource_headers`] — or with `From` for the three requests whose
/// headers the Go SDK forwards (`QueryData`, `CheckHealth`,
/// `CallResource`) — then run the call inside [`scope`].
///
/// `Debug` shows header names only, never their values.
///
/// [`with_forwarded_headers`]: Self::with_forwarded_headers
/// [`with_resource_headers`]: Self::with_resource_headers
#[derive(Clone, Default)]
pub struct OutgoingContext {
    endpoint: Option<Endpoint>,
    user_agent: Option<UserAgent>,
    grafana_config: GrafanaConfig,
    forwarded_headers: HeaderMap,
    from_alert: Option<HeaderValue>,
}

impl OutgoingContext {
    /// The context of a call to `endpoint` with `plugin_context`: its
    /// Grafana user agent and configuration, and no headers yet.
    pub fn new(endpoint: Endpoint, plugin_context: &PluginContext) -> Self {
        Self {
            endpoint: Some(endpoint),
            user_agent: plugin_context.user_agent.clone(),
            grafana_config: plugin_context.grafana_config.clone(),
            ..Self::default()
        }
    }

    /// Takes the headers to forward from a request whose headers are a
    /// string map (`QueryData`, `QueryChunkedData`, `CheckHealth`, the
    /// stream requests), as the Go SDK selects them: the request's
    /// [`http_headers`](ForwardHttpHeaders::http_headers) (every
    /// `http_`-prefixed entry without its prefix, plus `Authorization`,
    /// `X-Id-Token` and `Cookie`; `backend/http_headers.go`
    /// `getHTTPHeadersFromStringMap`) and the `FromAlert` entry
    /// (`backend/alert_forwarder_middleware.go`).
    pub fn with_forwarded_headers(mut self, request: &impl ForwardHttpHeaders) -> Self {
        self.forwarded_headers = forwardable(request.http_headers());
        self.from_alert = request
            .header_map()
            .get(FROM_ALERT_HEADER)
            .filter(|value| !value.is_empty())
            .and_then(|value| HeaderValue::from_str(value).ok());
        self
    }

    /// Takes the headers to forward from a `CallResource` request: all of
    /// them, as the Go SDK does (`backend/resource.go` `GetHTTPHeaders`),
    /// except the framing and hop-by-hop headers that belong to the
    /// incoming message only; and the first `FromAlert` value.
    pub fn with_resource_headers(mut self, headers: &HeaderMap) -> Self {
        self.forwarded_headers = forwardable(headers.clone());
        self.from_alert = headers
            .get(FROM_ALERT_HEADER)
            .filter(|value| !value.is_empty())
            .cloned();
        self
    }

    /// The endpoint being handled, for the `endpoint` label of outgoing
    /// request metrics.
    pub fn endpoint(&self) -> Option<Endpoint> {
        self.endpoint
    }

    /// Grafana's user agent, which outgoing requests extend with the
    /// plugin's name and version.
    pub fn user_agent(&self) -> Option<&UserAgent> {
        self.user_agent.as_ref()
    }

    /// Grafana's configuration for this request (for example
    /// `GF_RESPONSE_LIMIT`).
    pub fn grafana_config(&self) -> &GrafanaConfig {
        &self.grafana_config
    }

    /// The incoming headers a client forwards when its data source asks for
    /// it (the Go SDK's `httpclient.Options.ForwardHTTPHeaders`). Credential
    /// values are marked sensitive.
    pub fn forwarded_headers(&self) -> &HeaderMap {
        &self.forwarded_headers
    }

    /// The alerting engine's `FromAlert` value, set on every outgoing
    /// request whatever the client's forwarding setting.
    pub fn from_alert(&self) -> Option<&HeaderValue> {
        self.from_alert.as_ref()
    }

    /// Runs `future` with this context as [`current`]; the same as
    /// [`scope`]. Use it to carry the context onto a spawned task:
    ///
    /// ```
    /// # use plugin_backend::outgoing::{self, OutgoingContext};
    /// # async fn run() {
    /// let context = outgoing::current();
    /// let task = tokio::spawn(async move {
    ///     match context {
    ///         Some(context) => context.scope(async { /* outgoing calls */ }).await,
    ///         None => { /* outgoing calls */ }
    ///     }
    /// });
    /// # let _ = task.await;
    /// # }
    /// ```
    pub async fn scope<F: Future>(self: Arc<Self>, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }
}

/// The context of a `QueryData` call, with its forwarded headers
/// (`backend/http_headers.go`, `backend/alert_forwarder_middleware.go`).
impl From<&QueryDataRequest> for OutgoingContext {
    fn from(request: &QueryDataRequest) -> Self {
        Self::new(Endpoint::QueryData, &request.plugin_context).with_forwarded_headers(request)
    }
}

/// The context of a `CheckHealth` call, with its forwarded headers.
impl From<&CheckHealthRequest> for OutgoingContext {
    fn from(request: &CheckHealthRequest) -> Self {
        Self::new(Endpoint::CheckHealth, &request.plugin_context).with_forwarded_headers(request)
    }
}

/// The context of a `CallResource` call, with its forwarded headers.
impl From<&CallResourceRequest> for OutgoingContext {
    fn from(request: &CallResourceRequest) -> Self {
        Self::new(Endpoint::CallResource, &request.plugin_context)
            .with_resource_headers(&request.headers)
    }
}

impl fmt::Debug for OutgoingContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingContext")
            .field("endpoint", &self.endpoint)
            .field("user_agent", &self.user_agent)
            .field("grafana_config", &self.grafana_config)
            .field(
                "forwarded_headers",
                &self.forwarded_headers.keys().collect::<Vec<_>>(),
            )
            .field("from_alert", &self.from_alert)
            .finish()
    }
}

/// Runs `future` with `context` as the [`current`] outgoing context.
///
/// The SDK calls this around every handler call; plugins call it for work
/// they move to other tasks, and tests call it directly. Scopes nest: the
/// innermost wins.
pub async fn scope<F: Future>(context: OutgoingContext, future: F) -> F::Output {
    CURRENT.scope(Arc::new(context), future).await
}

/// The outgoing context of the handler call running on this task, if any.
/// Cheap: a reference count.
pub fn current() -> Option<Arc<OutgoingContext>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// Drops the headers that never go onto another request and hides
/// credential values from `Debug`.
fn forwardable(mut headers: HeaderMap) -> HeaderMap {
    for name in NOT_FORWARDED {
        headers.remove(name);
    }
    for name in SENSITIVE {
        if let http::header::Entry::Occupied(mut entry) =
            headers.entry(HeaderName::from_static(name))
        {
            for value in entry.iter_mut() {
                value.set_sensitive(true);
            }
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query_request() -> QueryDataRequest {
        let mut request = QueryDataRequest::new(PluginContext::new("test-datasource"), vec![]);
        for (key, value) in [
            ("Authorization", "Bearer secret-token"),
            ("X-Id-Token", "id-token"),
            ("cookie", "session=abc"),
            ("http_X-Grafana-Org-Id", "1"),
            ("http_X-Rule-Uid", "rule-1"),
            ("http_Content-Length", "12"),
            ("FromAlert", "true"),
            ("grafana-internal", "not a header"),
        ] {
            request.headers.insert(key.into(), value.into());
        }
        request
    }

    #[test]
    fn string_map_headers_are_selected_as_go_does() {
        // backend/http_headers.go getHTTPHeadersFromStringMap.
        let context = OutgoingContext::new(Endpoint::QueryData, &PluginContext::new("p"))
            .with_forwarded_headers(&query_request());
        let headers = context.forwarded_headers();
        let mut names: Vec<&str> = headers.keys().map(HeaderName::as_str).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "authorization",
                "cookie",
                "x-grafana-org-id",
                "x-id-token",
                "x-rule-uid"
            ]
        );
        assert!(headers["authorization"].is_sensitive());
        assert!(headers["cookie"].is_sensitive());
        assert!(!headers["x-rule-uid"].is_sensitive());
        assert_eq!(context.from_alert().unwrap(), "true");
    }

    #[test]
    fn resource_headers_are_all_forwarded_but_framing() {
        let mut headers = HeaderMap::new();
        headers.insert("accept", HeaderValue::from_static("application/json"));
        headers.insert("content-length", HeaderValue::from_static("3"));
        headers.insert("connection", HeaderValue::from_static("keep-alive"));
        headers.insert("fromalert", HeaderValue::from_static("true"));
        let context = OutgoingContext::default().with_resource_headers(&headers);
        assert_eq!(context.forwarded_headers()["accept"], "application/json");
        assert!(!context.forwarded_headers().contains_key("content-length"));
        assert!(!context.forwarded_headers().contains_key("connection"));
        assert_eq!(context.from_alert().unwrap(), "true");
    }

    #[test]
    fn from_requests_takes_endpoint_and_headers() {
        let context = OutgoingContext::from(&query_request());
        assert_eq!(context.endpoint(), Some(Endpoint::QueryData));
        assert_eq!(context.forwarded_headers()["x-rule-uid"], "rule-1");
        let mut resource = CallResourceRequest::default();
        resource
            .headers
            .insert("x-custom", HeaderValue::from_static("1"));
        let context = OutgoingContext::from(&resource);
        assert_eq!(context.endpoint(), Some(Endpoint::CallResource));
        assert_eq!(context.forwarded_headers()["x-custom"], "1");
        let health = OutgoingContext::from(&CheckHealthRequest::default());
        assert_eq!(health.endpoint(), Some(Endpoint::CheckHealth));
    }

    #[test]
    fn debug_shows_no_header_values() {
        let context = OutgoingContext::default().with_forwarded_headers(&query_request());
        let text = format!("{context:?}");
        assert!(text.contains("authorization"), "{text}");
        assert!(!text.contains("secret-token"), "{text}");
        assert!(!text.contains("session=abc"), "{text}");
    }

    #[tokio::test]
    async fn scope_sets_current_and_nests() {
        assert!(current().is_none());
        let mut health = CheckHealthRequest::default();
        health.headers.insert("http_X-Outer".into(), "1".into());
        let outer = OutgoingContext::new(Endpoint::CheckHealth, &PluginContext::new("p"))
            .with_forwarded_headers(&health);
        scope(outer, async {
            assert_eq!(current().unwrap().endpoint(), Some(Endpoint::CheckHealth));
            let inner = OutgoingContext::new(Endpoint::QueryData, &PluginContext::new("p"));
            scope(inner, async {
                let current = current().unwrap();
                assert_eq!(current.endpoint(), Some(Endpoint::QueryData));
                assert!(current.forwarded_headers().is_empty());
            })
            .await;
            let current = current().unwrap();
            assert_eq!(current.forwarded_headers()["x-outer"], "1");
            // Carried onto another future explicitly.
            let carried = current.clone();
            let seen = carried
                .scope(async { super::current().map(|c| c.endpoint()) })
                .await;
            assert_eq!(seen, Some(Some(Endpoint::CheckHealth)));
        })
        .await;
        assert!(current().is_none());
    }
}
