//! Per-request inputs, carried as [`http::Extensions`] on the outgoing
//! request.
//!
//! Inside a handler call the SDK provides them all through the task-local
//! [`plugin_backend::outgoing`] scope (the Go SDK's `context.Context`), so a
//! plugin normally sets none of these. An extension on a request takes
//! precedence over the scope: use them outside a handler call, or to
//! override one request.

use http::{HeaderMap, HeaderValue};
use plugin_backend::outgoing::OutgoingContext;

/// The plugin endpoint handling the request (`queryData`, `callResource`,
/// `checkHealth`, ...), used as the metrics' `endpoint` label. Default: the
/// scope's [`OutgoingContext::endpoint`].
pub use plugin_backend::Endpoint;

/// Headers of the incoming Grafana request to forward to the data source
/// when [`HttpClientOptions::forward_http_headers`](crate::HttpClientOptions)
/// is on; replaces the scope's [`OutgoingContext::forwarded_headers`]. Each
/// is added only if the outgoing request does not already have that header.
#[derive(Clone, Debug, Default)]
pub struct ForwardedHeaders(pub HeaderMap);

impl ForwardedHeaders {
    /// Picks the headers the Go SDK forwards out of a `CallResource`
    /// request's headers (see [`OutgoingContext::with_resource_headers`]),
    /// with credentials marked sensitive.
    pub fn from_incoming(headers: &HeaderMap) -> Self {
        let context = OutgoingContext::default().with_resource_headers(headers);
        Self(context.forwarded_headers().clone())
    }
}

/// Overrides the response size limit (bytes) for one request; takes
/// precedence over the scope's `GF_RESPONSE_LIMIT` and
/// [`HttpClientOptions::response_limit`](crate::HttpClientOptions), like the
/// Go SDK's `httpclient.WithResponseLimit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseLimit(pub u64);

/// Grafana's own `User-Agent` (`Grafana/<version> (<os>; <arch>)`); the
/// user-agent middleware appends `<plugin id>/<version>` to it. Default:
/// the scope's [`OutgoingContext::user_agent`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrafanaUserAgent(pub HeaderValue);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_incoming_drops_framing_and_hides_credentials() {
        let mut incoming = HeaderMap::new();
        incoming.insert("Authorization", HeaderValue::from_static("Bearer t"));
        incoming.append("cookie", HeaderValue::from_static("a=1"));
        incoming.insert("x-id-token", HeaderValue::from_static("id"));
        incoming.insert("content-length", HeaderValue::from_static("9"));
        incoming.insert("x-other", HeaderValue::from_static("yes"));
        let ForwardedHeaders(forwarded) = ForwardedHeaders::from_incoming(&incoming);
        assert_eq!(forwarded.len(), 4);
        assert!(forwarded.get("content-length").is_none());
        assert_eq!(forwarded["x-other"], "yes");
        assert!(forwarded["authorization"].is_sensitive());
    }
}
