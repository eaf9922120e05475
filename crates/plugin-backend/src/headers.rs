//! HTTP headers carried in the string maps of requests.
//!
//! Grafana forwards the HTTP headers of the user's request in the `headers`
//! map of data, health and stream requests. Most are stored under an
//! `http_` prefix (`http_X-Dashboard-Uid`); Grafana's OAuth and cookie
//! forwarding writes `Authorization`, `X-Id-Token` and `Cookie` without the
//! prefix. [`ForwardHttpHeaders`] reads and writes both forms, like the Go
//! SDK's `GetHTTPHeaders` and `SetHTTPHeader`.

use std::collections::HashMap;

use http::{HeaderMap, HeaderName, HeaderValue};

/// The prefix Grafana puts before forwarded HTTP header names.
pub const HTTP_HEADER_PREFIX: &str = "http_";
/// The header carrying a forwarded OAuth access token.
pub const OAUTH_IDENTITY_TOKEN_HEADER: &str = "Authorization";
/// The header carrying a forwarded OAuth ID token.
pub const OAUTH_IDENTITY_ID_TOKEN_HEADER: &str = "X-Id-Token";
/// The header carrying forwarded cookies.
pub const COOKIES_HEADER: &str = "Cookie";

/// Headers Grafana stores without the `http_` prefix.
const UNPREFIXED: [&str; 3] = [
    OAUTH_IDENTITY_TOKEN_HEADER,
    OAUTH_IDENTITY_ID_TOKEN_HEADER,
    COOKIES_HEADER,
];

/// HTTP header access for requests whose headers are a string map.
///
/// Implemented by [`QueryDataRequest`](crate::QueryDataRequest),
/// [`QueryChunkedDataRequest`](crate::QueryChunkedDataRequest),
/// [`CheckHealthRequest`](crate::CheckHealthRequest) and the stream requests.
///
/// ```
/// use plugin_backend::{ForwardHttpHeaders, QueryDataRequest};
///
/// let mut req = QueryDataRequest::default();
/// req.headers.insert("Authorization".into(), "Bearer abc".into());
/// req.set_http_header("X-Panel-Id", "12");
/// assert_eq!(req.headers["http_X-Panel-Id"], "12");
///
/// let headers = req.http_headers();
/// assert_eq!(headers["authorization"], "Bearer abc");
/// assert_eq!(headers["x-panel-id"], "12");
/// assert_eq!(req.http_header("x-panel-id"), Some("12"));
/// ```
pub trait ForwardHttpHeaders {
    /// The raw string map.
    fn header_map(&self) -> &HashMap<String, String>;

    /// The raw string map, mutably.
    fn header_map_mut(&mut self) -> &mut HashMap<String, String>;

    /// The forwarded HTTP headers: every `http_`-prefixed entry without its
    /// prefix, plus `Authorization`, `X-Id-Token` and `Cookie` in any case.
    /// Entries that are not valid HTTP headers are left out, and so is
    /// anything past the most an `http::HeaderMap` holds.
    fn http_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (key, value) in self.header_map() {
            let name = match key.strip_prefix(HTTP_HEADER_PREFIX) {
                Some(name) => name,
                None if is_unprefixed(key) => key.as_str(),
                None => continue,
            };
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name),
                HeaderValue::try_from(value.as_str()),
            ) && headers.try_insert(name, value).is_err()
            {
                break;
            }
        }
        headers
    }

    /// The value of forwarded HTTP header `name` (case-insensitive).
    fn http_header(&self, name: &str) -> Option<&str> {
        self.header_map().iter().find_map(|(key, value)| {
            let matches = match key.get(..HTTP_HEADER_PREFIX.len()) {
                Some(prefix) if prefix == HTTP_HEADER_PREFIX => {
                    key[HTTP_HEADER_PREFIX.len()..].eq_ignore_ascii_case(name)
                }
                _ => is_unprefixed(key) && key.eq_ignore_ascii_case(name),
            };
            matches.then_some(value.as_str())
        })
    }

    /// Sets forwarded HTTP header `name` (stored as `http_<name>`).
    fn set_http_header(&mut self, name: &str, value: impl Into<String>) {
        self.header_map_mut()
            .insert(format!("{HTTP_HEADER_PREFIX}{name}"), value.into());
    }

    /// Removes forwarded HTTP header `name` in both its prefixed and its
    /// unprefixed form (case-insensitive).
    fn delete_http_header(&mut self, name: &str) {
        self.header_map_mut().retain(|key, _| {
            let bare = key.strip_prefix(HTTP_HEADER_PREFIX).unwrap_or(key);
            !bare.eq_ignore_ascii_case(name)
        });
    }
}

fn is_unprefixed(key: &str) -> bool {
    UNPREFIXED.iter().any(|name| name.eq_ignore_ascii_case(key))
}

macro_rules! impl_forward_http_headers {
    ($($request:ty),+ $(,)?) => {$(
        impl ForwardHttpHeaders for $request {
            fn header_map(&self) -> &HashMap<String, String> {
                &self.headers
            }

            fn header_map_mut(&mut self) -> &mut HashMap<String, String> {
                &mut self.headers
            }
        }
    )+};
}

impl_forward_http_headers!(
    crate::QueryDataRequest,
    crate::QueryChunkedDataRequest,
    crate::CheckHealthRequest,
    crate::SubscribeStreamRequest,
    crate::PublishStreamRequest,
    crate::RunStreamRequest,
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CheckHealthRequest;

    #[test]
    fn unrelated_keys_are_not_headers() {
        let mut req = CheckHealthRequest::default();
        req.headers.insert("FromAlert".into(), "true".into());
        req.headers.insert("cookie".into(), "a=b".into());
        req.headers.insert("X-Id-Token".into(), "id".into());
        let headers = req.http_headers();
        assert_eq!(headers.len(), 2);
        assert_eq!(headers["cookie"], "a=b");
        assert_eq!(req.http_header("COOKIE"), Some("a=b"));
        assert_eq!(req.http_header("FromAlert"), None);
    }

    #[test]
    fn delete_removes_both_forms() {
        let mut req = CheckHealthRequest::default();
        req.headers
            .insert("Authorization".into(), "Bearer x".into());
        req.set_http_header("authorization", "Bearer y");
        req.set_http_header("X-Other", "1");
        req.delete_http_header("AUTHORIZATION");
        assert_eq!(req.headers.len(), 1);
        assert_eq!(req.http_header("x-other"), Some("1"));
    }
}
