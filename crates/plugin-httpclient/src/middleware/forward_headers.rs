//! Forwarding of the incoming Grafana request's headers: the Go SDK's
//! contextual middleware slot, filled by its handler middleware
//! `backend/http_headers.go` and `backend/alert_forwarder_middleware.go`.
//!
//! The headers come from the request's [`ForwardedHeaders`] extension, else
//! from the handler call's [`plugin_backend::outgoing`] scope
//! ([`OutgoingContext::forwarded_headers`](plugin_backend::OutgoingContext::forwarded_headers)):
//!
//! * with [`HttpClientOptions::forward_http_headers`] every one of them is
//!   added, unless the outgoing request already has that header (Go:
//!   "Only set a header if it is not already set");
//! * without it, [`HttpClientOptions::oauth_pass_through`] still adds the
//!   user's `Authorization` and `X-Id-Token`;
//! * a forwarded `Cookie` keeps only the names in
//!   [`HttpClientOptions::keep_cookies`]. Grafana already filters cookies by
//!   the data source's `keepCookies` before it calls the plugin (the Go SDK
//!   forwards what arrives); filtering again here keeps a plugin from leaking
//!   cookies when it builds its own request headers, and changes nothing
//!   otherwise;
//! * `FromAlert` of an alerting query is set on every request, replacing any
//!   value, whatever the options say.

use std::task::{Context, Poll};

use http::{
    HeaderMap, HeaderName, HeaderValue, Request,
    header::{AUTHORIZATION, COOKIE},
};
use plugin_backend::outgoing;
use tower_layer::Layer;
use tower_service::Service;

use crate::{extensions::ForwardedHeaders, options::HttpClientOptions};

/// The OAuth identity headers `oauthPassThru` forwards
/// (`backend/http_headers.go`: `OAuthIdentityTokenHeaderName`,
/// `OAuthIdentityIDTokenHeaderName`).
const OAUTH_HEADERS: [HeaderName; 2] = [AUTHORIZATION, HeaderName::from_static("x-id-token")];

/// [`plugin_backend::outgoing::FROM_ALERT_HEADER`], as a header name.
const FROM_ALERT: HeaderName = HeaderName::from_static("fromalert");

/// Layer forwarding incoming headers; see the [module docs](self).
#[derive(Clone, Debug, Default)]
pub struct ForwardHeadersLayer {
    forward_all: bool,
    oauth_pass_through: bool,
    keep_cookies: Option<Vec<String>>,
}

impl ForwardHeadersLayer {
    /// Forwards every incoming header when `enabled`; `FromAlert` always.
    pub fn new(enabled: bool) -> Self {
        Self {
            forward_all: enabled,
            ..Self::default()
        }
    }

    /// Also forwards the OAuth identity headers when `enabled`, even if
    /// forwarding of all headers is off.
    pub fn with_oauth_pass_through(mut self, enabled: bool) -> Self {
        self.oauth_pass_through = enabled;
        self
    }

    /// Keeps only the cookies named in `names` in a forwarded `Cookie`.
    pub fn with_keep_cookies(mut self, names: Option<Vec<String>>) -> Self {
        self.keep_cookies = names;
        self
    }

    /// From [`HttpClientOptions::forward_http_headers`],
    /// [`oauth_pass_through`](HttpClientOptions::oauth_pass_through) and
    /// [`keep_cookies`](HttpClientOptions::keep_cookies).
    pub fn from_options(options: &HttpClientOptions) -> Self {
        Self::new(options.forward_http_headers)
            .with_oauth_pass_through(options.oauth_pass_through)
            .with_keep_cookies(options.keep_cookies.clone())
    }
}

impl<S> Layer<S> for ForwardHeadersLayer {
    type Service = ForwardHeadersService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ForwardHeadersService {
            inner,
            config: self.clone(),
        }
    }
}

/// Service produced by [`ForwardHeadersLayer`].
#[derive(Clone, Debug)]
pub struct ForwardHeadersService<S> {
    inner: S,
    config: ForwardHeadersLayer,
}

impl<S, B> Service<Request<B>> for ForwardHeadersService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let explicit = request.extensions_mut().remove::<ForwardedHeaders>();
        let scope = outgoing::current();
        let forwarded = explicit
            .as_ref()
            .map(|ForwardedHeaders(headers)| headers)
            .or_else(|| scope.as_ref().map(|context| context.forwarded_headers()));
        if let Some(forwarded) = forwarded {
            let config = &self.config;
            let target = request.headers_mut();
            if config.forward_all {
                for name in forwarded.keys() {
                    if name == COOKIE {
                        add_cookies(target, forwarded, config.keep_cookies.as_deref());
                    } else {
                        add_missing(target, forwarded, name);
                    }
                }
            } else if config.oauth_pass_through {
                for name in &OAUTH_HEADERS {
                    add_missing(target, forwarded, name);
                }
            }
        }
        if let Some(from_alert) = scope.as_ref().and_then(|context| context.from_alert()) {
            request.headers_mut().insert(FROM_ALERT, from_alert.clone());
        }
        self.inner.call(request)
    }
}

/// Copies every value of `name` unless `target` has the header already.
fn add_missing(target: &mut HeaderMap, source: &HeaderMap, name: &HeaderName) {
    if target.contains_key(name) {
        return;
    }
    for value in source.get_all(name) {
        target.append(name.clone(), value.clone());
    }
}

/// Adds the forwarded `Cookie`, keeping only the allowed names.
fn add_cookies(target: &mut HeaderMap, source: &HeaderMap, keep: Option<&[String]>) {
    let Some(keep) = keep else {
        add_missing(target, source, &COOKIE);
        return;
    };
    if target.contains_key(COOKIE) {
        return;
    }
    let kept: Vec<&str> = source
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .map(str::trim)
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(name, _)| name).trim();
            !name.is_empty() && keep.iter().any(|allowed| allowed == name)
        })
        .collect();
    if kept.is_empty() {
        return;
    }
    if let Ok(mut value) = HeaderValue::from_str(&kept.join("; ")) {
        value.set_sensitive(true);
        target.insert(COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookies(keep: Option<&[&str]>, incoming: &[&'static str]) -> Option<String> {
        let mut source = HeaderMap::new();
        for value in incoming {
            source.append(COOKIE, HeaderValue::from_static(value));
        }
        let keep: Option<Vec<String>> =
            keep.map(|names| names.iter().map(|name| name.to_string()).collect());
        let mut target = HeaderMap::new();
        add_cookies(&mut target, &source, keep.as_deref());
        target
            .get(COOKIE)
            .map(|value| value.to_str().unwrap().to_owned())
    }

    #[test]
    fn cookies_are_filtered_by_name() {
        assert_eq!(
            cookies(Some(&["a", "c"]), &["a=1; b=2", "c=3;grafana_session=s"]).as_deref(),
            Some("a=1; c=3")
        );
        assert_eq!(cookies(Some(&[]), &["a=1"]), None, "nothing kept");
        assert_eq!(cookies(Some(&["z"]), &["a=1"]), None);
        assert_eq!(
            cookies(None, &["a=1; b=2"]).as_deref(),
            Some("a=1; b=2"),
            "no list: as Grafana sent it"
        );
    }
}
