//! A [`reqwest::Client`] built from the same [`HttpClientOptions`], for
//! plugins that prefer reqwest's API.
//!
//! Carried over: timeouts and pool sizes, TLS (same rustls configuration,
//! ring provider), the HTTP(S) proxy, basic auth, custom headers and the
//! user agent (as default headers). Not carried over: the middleware stack
//! (tracing, metrics, error source, response limit, header forwarding) and
//! the secure SOCKS proxy, which reqwest cannot dial through.

use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, USER_AGENT};

use crate::{error::Error, middleware::basic_auth::BasicAuthLayer, options::HttpClientOptions};

impl HttpClientOptions {
    /// Builds a reqwest client from these options.
    ///
    /// Applied: timeouts and pool sizes, TLS (the same rustls configuration,
    /// ring provider), the HTTP(S) proxy, and basic auth, custom headers and
    /// the user agent as default headers. Not applied: the middleware
    /// (tracing, metrics, error source, response limit, header forwarding).
    ///
    /// Fails if the options enable the secure SOCKS proxy, SigV4 or OAuth2,
    /// since requests would otherwise bypass the proxy or go out
    /// unauthenticated.
    pub fn build_reqwest_client(&self) -> Result<reqwest::Client, Error> {
        for (key, enabled, what) in [
            (
                "enableSecureSocksProxy",
                self.secure_socks_proxy.is_some(),
                "the secure SOCKS proxy",
            ),
            ("sigV4Auth", self.sigv4.is_some(), "SigV4 signing"),
            ("oauth2", self.oauth2.is_some(), "OAuth2 tokens"),
        ] {
            if enabled {
                return Err(Error::invalid_setting(
                    key,
                    format!("the reqwest client cannot apply {what}; use HttpClient"),
                ));
            }
        }
        let tls = match &self.tls {
            Some(tls) => crate::tls::client_config(tls)?,
            None => crate::tls::default_client_config()?,
        };

        let mut headers = HeaderMap::new();
        for name in self.headers.keys() {
            for value in self.headers.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        if let Some(authorization) = self
            .basic_auth
            .as_ref()
            .and_then(|auth| BasicAuthLayer::new(auth).header())
        {
            headers.entry(AUTHORIZATION).or_insert(authorization);
        }
        if let Some(plugin) = &self.plugin
            && let Ok(value) =
                HeaderValue::from_str(&format!("Grafana {}/{}", plugin.id, plugin.version))
        {
            headers.entry(USER_AGENT).or_insert(value);
        }

        let timeouts = &self.timeouts;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .default_headers(headers)
            .pool_idle_timeout(timeouts.idle_connection)
            .pool_max_idle_per_host(timeouts.effective_max_idle_per_host())
            .tcp_keepalive(timeouts.keep_alive)
            .no_proxy();
        if let Some(request) = timeouts.request {
            builder = builder.timeout(request);
        }
        if let Some(dial) = timeouts.dial {
            builder = builder.connect_timeout(dial);
        }
        let no_proxy = self
            .proxy
            .no_proxy
            .as_deref()
            .and_then(reqwest::NoProxy::from_string);
        if let Some(url) = &self.proxy.http_proxy {
            let proxy = reqwest::Proxy::http(url.as_str())
                .map_err(|error| Error::invalid_setting("HTTP_PROXY", error.to_string()))?;
            builder = builder.proxy(proxy.no_proxy(no_proxy.clone()));
        }
        if let Some(url) = &self.proxy.https_proxy {
            let proxy = reqwest::Proxy::https(url.as_str())
                .map_err(|error| Error::invalid_setting("HTTPS_PROXY", error.to_string()))?;
            builder = builder.proxy(proxy.no_proxy(no_proxy));
        }
        builder.build().map_err(Error::other)
    }
}
