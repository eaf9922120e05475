//! Per-request inputs, carried as [`http::Extensions`] on the outgoing
//! request.
//!
//! The Go SDK passes these through `context.Context`; in Rust they travel
//! with the request itself, so middleware needs no ambient state. The SDK's
//! handler plumbing inserts them from the incoming Grafana request; a plugin
//! can also set them by hand.

use http::{HeaderMap, HeaderName, HeaderValue};

/// Headers of the incoming Grafana request to forward to the data source
/// when [`HttpClientOptions::forward_http_headers`](crate::HttpClientOptions)
/// is on. Each is added only if the outgoing request does not already have
/// that header.
#[derive(Clone, Debug, Default)]
pub struct ForwardedHeaders(pub HeaderMap);

impl ForwardedHeaders {
    /// The headers Grafana's OAuth pass-through and cookie forwarding write
    /// into the plugin request: `Authorization`, `X-Id-Token` and `Cookie`.
    pub const FORWARDABLE: [&'static str; 3] = ["authorization", "x-id-token", "cookie"];

    /// Picks the [`FORWARDABLE`](Self::FORWARDABLE) headers out of an
    /// incoming request's headers, marking them sensitive.
    pub fn from_incoming(headers: &HeaderMap) -> Self {
        let mut forwarded = HeaderMap::new();
        for name in Self::FORWARDABLE {
            let name = HeaderName::from_static(name);
            for value in headers.get_all(&name) {
                let mut value = value.clone();
                value.set_sensitive(true);
                forwarded.append(name.clone(), value);
            }
        }
        Self(forwarded)
    }
}

/// Overrides the response size limit (bytes) for one request; takes
/// precedence over [`HttpClientOptions::response_limit`](crate::HttpClientOptions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseLimit(pub u64);

/// The plugin endpoint handling the request (`queryData`, `callResource`,
/// `checkHealth`, ...), used as the metrics' `endpoint` label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Endpoint(pub &'static str);

/// Grafana's own `User-Agent` (`Grafana/<version> (<os>; <arch>)`); the
/// user-agent middleware appends `<plugin id>/<version>` to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrafanaUserAgent(pub HeaderValue);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_incoming_keeps_only_identity_headers() {
        let mut incoming = HeaderMap::new();
        incoming.insert("Authorization", HeaderValue::from_static("Bearer t"));
        incoming.append("cookie", HeaderValue::from_static("a=1"));
        incoming.append("cookie", HeaderValue::from_static("b=2"));
        incoming.insert("x-id-token", HeaderValue::from_static("id"));
        incoming.insert("x-other", HeaderValue::from_static("nope"));
        let ForwardedHeaders(forwarded) = ForwardedHeaders::from_incoming(&incoming);
        assert_eq!(forwarded.len(), 4);
        assert_eq!(forwarded.get_all("cookie").iter().count(), 2);
        assert!(forwarded.get("x-other").is_none());
        assert!(forwarded["authorization"].is_sensitive());
    }
}
