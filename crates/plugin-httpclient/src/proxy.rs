//! Proxy settings: the HTTP(S) proxy environment and Grafana's secure SOCKS
//! proxy (private data source connect, PDC).
//!
//! [`ProxyOptions`] follows Go's `http.ProxyFromEnvironment`: `HTTP_PROXY`
//! for `http` URIs, `HTTPS_PROXY` for `https` URIs, `NO_PROXY` exclusions,
//! and requests to `localhost` or loopback addresses are never proxied.
//! Tests and plugins can set the values explicitly instead of mutating the
//! process environment.

use std::{fmt, net::IpAddr, sync::Arc, time::Duration};

use http::{HeaderValue, Uri};
use hyper_util::client::proxy::matcher::Matcher;

use crate::options::Secret;

/// The HTTP(S) proxy configuration.
///
/// [`Default`] is "no proxy"; [`ProxyOptions::from_env`] reads the process
/// environment (done by [`HttpClientOptions::default`](crate::HttpClientOptions)).
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyOptions {
    /// Proxy URL for `http` requests (`HTTP_PROXY`).
    pub http_proxy: Option<String>,
    /// Proxy URL for `https` requests (`HTTPS_PROXY`).
    pub https_proxy: Option<String>,
    /// Comma-separated hosts, domains and CIDRs that bypass the proxy
    /// (`NO_PROXY`).
    pub no_proxy: Option<String>,
}

impl ProxyOptions {
    /// No proxy at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (or their lower-case
    /// forms) from the environment. Like Go, `HTTP_PROXY` is ignored when
    /// running as a CGI script (`REQUEST_METHOD` set).
    pub fn from_env() -> Self {
        fn var(upper: &str, lower: &str) -> Option<String> {
            std::env::var(upper)
                .ok()
                .filter(|value| !value.is_empty())
                .or_else(|| std::env::var(lower).ok().filter(|value| !value.is_empty()))
        }
        let is_cgi = std::env::var_os("REQUEST_METHOD").is_some();
        Self {
            http_proxy: var("HTTP_PROXY", "http_proxy").filter(|_| !is_cgi),
            https_proxy: var("HTTPS_PROXY", "https_proxy"),
            no_proxy: var("NO_PROXY", "no_proxy"),
        }
    }

    /// Explicit proxy URLs; `None` leaves that scheme unproxied.
    pub fn new(http_proxy: Option<String>, https_proxy: Option<String>) -> Self {
        Self {
            http_proxy,
            https_proxy,
            no_proxy: None,
        }
    }

    /// Sets the `NO_PROXY` list.
    pub fn with_no_proxy(mut self, no_proxy: impl Into<String>) -> Self {
        self.no_proxy = Some(no_proxy.into());
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.http_proxy.is_none() && self.https_proxy.is_none()
    }

    pub(crate) fn resolver(&self) -> ProxyResolver {
        if self.is_empty() {
            return ProxyResolver { matcher: None };
        }
        let mut builder = Matcher::builder();
        if let Some(http_proxy) = &self.http_proxy {
            builder = builder.http(http_proxy.clone());
        }
        if let Some(https_proxy) = &self.https_proxy {
            builder = builder.https(https_proxy.clone());
        }
        if let Some(no_proxy) = &self.no_proxy {
            builder = builder.no(no_proxy.clone());
        }
        ProxyResolver {
            matcher: Some(Arc::new(builder.build())),
        }
    }
}

impl fmt::Debug for ProxyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyOptions")
            .field(
                "http_proxy",
                &self.http_proxy.as_deref().map(redact_userinfo),
            )
            .field(
                "https_proxy",
                &self.https_proxy.as_deref().map(redact_userinfo),
            )
            .field("no_proxy", &self.no_proxy)
            .finish()
    }
}

/// Replaces `user:password@` in a URL with `<redacted>@`.
pub(crate) fn redact_userinfo(url: &str) -> String {
    let authority_start = url.find("://").map_or(0, |index| index + 3);
    let authority_end = url[authority_start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |index| authority_start + index);
    match url[authority_start..authority_end].rfind('@') {
        Some(at) => format!(
            "{}<redacted>{}",
            &url[..authority_start],
            &url[authority_start + at..]
        ),
        None => url.to_owned(),
    }
}

/// Where a request to a given URI must go.
#[derive(Debug)]
pub(crate) struct ProxyRoute {
    /// The proxy's URI (scheme, host and port; credentials removed).
    pub(crate) proxy: Uri,
    /// `Proxy-Authorization` for the proxy, from its URL's credentials.
    pub(crate) authorization: Option<HeaderValue>,
}

/// Decides per request URI whether and where to proxy.
#[derive(Clone, Debug)]
pub(crate) struct ProxyResolver {
    matcher: Option<Arc<Matcher>>,
}

impl ProxyResolver {
    pub(crate) fn route(&self, uri: &Uri) -> Option<ProxyRoute> {
        let matcher = self.matcher.as_ref()?;
        let host = uri.host()?;
        if is_loopback_host(host) {
            // Go's ProxyFromEnvironment never proxies loopback destinations.
            return None;
        }
        let intercept = matcher.intercept(uri)?;
        Some(ProxyRoute {
            proxy: intercept.uri().clone(),
            authorization: intercept.basic_auth().cloned().map(|mut value| {
                value.set_sensitive(true);
                value
            }),
        })
    }
}

fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Grafana's secure SOCKS proxy (private data source connect) for one data
/// source: present when the data source enables it (jsonData
/// `enableSecureSocksProxy`) and Grafana configures the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecureSocksProxyOptions {
    /// The proxy's `host:port`
    /// (`GF_SECURE_SOCKS_DATASOURCE_PROXY_PROXY_ADDRESS`).
    pub proxy_address: String,
    /// SOCKS5 user name (jsonData `secureSocksProxyUsername`, default the
    /// data source UID).
    pub username: String,
    /// SOCKS5 password (secure `secureSocksProxyPassword`).
    pub password: Secret,
    /// Dial timeout for the proxy connection (jsonData `timeout`, default
    /// 30 s).
    pub timeout: Duration,
    /// TCP keep-alive for the proxy connection (jsonData `keepAlive`,
    /// default 30 s).
    pub keep_alive: Duration,
    /// How to reach the proxy: TLS 1.3 with a client certificate, or plain
    /// TCP when insecure connections are allowed.
    pub transport: SecureSocksProxyTransport,
}

impl SecureSocksProxyOptions {
    /// Options for the proxy at `proxy_address` (`host:port`) with the Go
    /// SDK's default timeouts (30 s dial, 30 s keep-alive).
    pub fn new(
        proxy_address: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<Secret>,
        transport: SecureSocksProxyTransport,
    ) -> Self {
        Self {
            proxy_address: proxy_address.into(),
            username: username.into(),
            password: password.into(),
            timeout: Duration::from_secs(30),
            keep_alive: Duration::from_secs(30),
            transport,
        }
    }
}

/// How the plugin connects to the secure SOCKS proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SecureSocksProxyTransport {
    /// Plain TCP (`GF_SECURE_SOCKS_DATASOURCE_PROXY_ALLOW_INSECURE=true`).
    Insecure,
    /// TLS 1.3 with mutual authentication.
    Tls {
        /// PEM client certificate
        /// (`GF_SECURE_SOCKS_DATASOURCE_PROXY_CLIENT_CERT_VAL`).
        client_certificate: String,
        /// PEM client key (`GF_SECURE_SOCKS_DATASOURCE_PROXY_CLIENT_KEY_VAL`).
        client_key: Secret,
        /// PEM root CAs to verify the proxy with
        /// (`GF_SECURE_SOCKS_DATASOURCE_PROXY_ROOT_CA_CERT_VALS`).
        root_cas: Vec<String>,
        /// Name to verify the proxy's certificate against
        /// (`GF_SECURE_SOCKS_DATASOURCE_PROXY_SERVER_NAME`).
        server_name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(options: &ProxyOptions, uri: &str) -> Option<String> {
        options
            .resolver()
            .route(&uri.parse().unwrap())
            .map(|route| route.proxy.to_string())
    }

    #[test]
    fn routes_by_scheme_and_honours_no_proxy() {
        let options = ProxyOptions::new(
            Some("http://127.0.0.1:3128".into()),
            Some("http://127.0.0.1:3129".into()),
        )
        .with_no_proxy("internal.example, 10.0.0.0/8");
        assert_eq!(
            route(&options, "http://api.example/x").as_deref(),
            Some("http://127.0.0.1:3128/")
        );
        assert_eq!(
            route(&options, "https://api.example/x").as_deref(),
            Some("http://127.0.0.1:3129/")
        );
        assert_eq!(route(&options, "http://db.internal.example/"), None);
        assert_eq!(route(&options, "http://10.1.2.3/"), None);
    }

    #[test]
    fn loopback_destinations_are_never_proxied() {
        let options = ProxyOptions::new(Some("http://127.0.0.1:3128".into()), None);
        assert_eq!(route(&options, "http://localhost:9090/"), None);
        assert_eq!(route(&options, "http://127.0.0.1:9090/"), None);
        assert_eq!(route(&options, "http://[::1]:9090/"), None);
        assert!(route(&options, "http://api.example/").is_some());
    }

    #[test]
    fn proxy_credentials_become_a_sensitive_header_and_are_redacted() {
        let options = ProxyOptions::new(Some("http://bob:s3cret@127.0.0.1:3128".into()), None);
        let route = options
            .resolver()
            .route(&"http://api.example/".parse().unwrap())
            .unwrap();
        let authorization = route.authorization.unwrap();
        assert!(authorization.is_sensitive());
        assert_eq!(authorization, "Basic Ym9iOnMzY3JldA==");
        let debug = format!("{options:?}");
        assert!(!debug.contains("s3cret"), "{debug}");
        assert!(
            debug.contains("http://<redacted>@127.0.0.1:3128"),
            "{debug}"
        );
    }
}
