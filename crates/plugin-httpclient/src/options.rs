//! [`HttpClientOptions`]: everything that configures an [`HttpClient`](crate::HttpClient).
//!
//! The options mirror the Go SDK's `httpclient.Options`. They are usually
//! built from data source settings with
//! [`HttpClientOptions::from_data_source_settings`], but every field is
//! public so a plugin can also build or adjust them by hand. Secrets are held
//! in [`Secret`] or in header values marked sensitive, so `Debug` output
//! never shows them.

use std::{fmt, time::Duration};

use http::HeaderMap;

use crate::proxy::{ProxyOptions, SecureSocksProxyOptions};

/// A secret string (password, private key, token) that `Debug` never shows.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret value. Call only where the value is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

/// Options for building an [`HttpClient`](crate::HttpClient).
///
/// [`Default`] gives the Go SDK's defaults (see [`Timeouts::default`]) with
/// the proxy taken from the process environment, like Go's
/// `http.ProxyFromEnvironment`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HttpClientOptions {
    /// Timeouts and connection-pool sizes.
    pub timeouts: Timeouts,
    /// Basic authentication added to requests without an `Authorization`
    /// header.
    pub basic_auth: Option<BasicAuth>,
    /// TLS settings; `None` verifies servers against the system roots.
    pub tls: Option<TlsOptions>,
    /// Custom headers set on every request, replacing values of the same
    /// name (`httpHeaderNameN` / `httpHeaderValueN`). Values from secure
    /// settings are marked sensitive.
    pub headers: HeaderMap,
    /// The HTTP(S) proxy to use (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`).
    pub proxy: ProxyOptions,
    /// Grafana's secure SOCKS proxy (private data source connect), when the
    /// data source enables it.
    pub secure_socks_proxy: Option<SecureSocksProxyOptions>,
    /// Data source name, UID and type, used by tracing, metrics and logs.
    pub labels: DataSourceLabels,
    /// Plugin ID and version, for the `User-Agent` header.
    pub plugin: Option<PluginInfo>,
    /// Forward the headers of the Grafana request being handled (its
    /// [`plugin_backend::outgoing`] scope, or a
    /// [`ForwardedHeaders`](crate::ForwardedHeaders) extension) to outgoing
    /// requests: the Go SDK's `Options.ForwardHTTPHeaders`. A header the
    /// outgoing request already has is kept.
    pub forward_http_headers: bool,
    /// The cookies that may be forwarded (jsonData `keepCookies`): a
    /// forwarded `Cookie` header keeps only these names. `None` forwards
    /// `Cookie` as Grafana sent it.
    pub keep_cookies: Option<Vec<String>>,
    /// Forward the user's OAuth tokens (`Authorization`, `X-Id-Token`) even
    /// when [`forward_http_headers`](Self::forward_http_headers) is off
    /// (jsonData `oauthPassThru`, "Forward OAuth Identity").
    pub oauth_pass_through: bool,
    /// Maximum response body size in bytes (Grafana's `GF_RESPONSE_LIMIT`);
    /// `None` falls back to the `GF_DATAPROXY_RESPONSE_LIMIT` environment
    /// variable, then to no limit.
    pub response_limit: Option<u64>,
    /// The data source URL. Informational: the client does not prefix
    /// request URIs with it.
    pub url: Option<String>,
    /// AWS SigV4 signing (jsonData `sigV4Auth`); needs feature `sigv4`.
    pub sigv4: Option<SigV4Options>,
    /// OAuth 2.0 client-credentials tokens; needs feature `oauth2`. Not read
    /// from settings: Grafana has no standard keys for it.
    pub oauth2: Option<OAuth2ClientCredentials>,
}

impl Default for HttpClientOptions {
    fn default() -> Self {
        Self {
            timeouts: Timeouts::default(),
            basic_auth: None,
            tls: None,
            headers: HeaderMap::new(),
            proxy: ProxyOptions::from_env(),
            secure_socks_proxy: None,
            labels: DataSourceLabels::default(),
            plugin: None,
            forward_http_headers: false,
            keep_cookies: None,
            oauth_pass_through: false,
            response_limit: None,
            url: None,
            sigv4: None,
            oauth2: None,
        }
    }
}

/// Timeouts and connection-pool sizes. `None` durations mean "no limit".
///
/// jsonData `httpExpectContinueTimeout` (Go: `TimeoutOptions.ExpectContinueTimeout`,
/// `backend/httpclient/http_client.go`) has no counterpart: it is validated
/// and otherwise refused. Go waits that long for `100 Continue` only when a
/// request carries `Expect: 100-continue`; hyper's client has no such wait
/// and sends the body at once, which RFC 9110 §10.1.1 allows and servers
/// must accept, so such a request behaves as with a zero timeout.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// The whole request including reading the body (jsonData `timeout`).
    pub request: Option<Duration>,
    /// Opening a TCP connection (jsonData `dialTimeout`).
    pub dial: Option<Duration>,
    /// TCP keep-alive probe interval (jsonData `httpKeepAlive`).
    pub keep_alive: Option<Duration>,
    /// The TLS handshake (jsonData `httpTLSHandshakeTimeout`).
    pub tls_handshake: Option<Duration>,
    /// How long an idle pooled connection is kept (jsonData
    /// `httpIdleConnTimeout`).
    pub idle_connection: Option<Duration>,
    /// Maximum connections per host; 0 means unlimited (jsonData
    /// `httpMaxConnsPerHost`).
    pub max_conns_per_host: usize,
    /// Maximum idle connections in total (jsonData `httpMaxIdleConns`).
    /// The pool only limits per host, so a non-zero value smaller than
    /// [`max_idle_conns_per_host`](Self::max_idle_conns_per_host) caps that
    /// instead.
    pub max_idle_conns: usize,
    /// Maximum idle connections per host (jsonData
    /// `httpMaxIdleConnsPerHost`).
    pub max_idle_conns_per_host: usize,
}

impl Default for Timeouts {
    /// The Go SDK's `DefaultTimeoutOptions`: request 30 s, dial 10 s,
    /// keep-alive 30 s, TLS handshake 10 s, idle 90 s, unlimited connections
    /// per host, 100 idle connections (in total and per host).
    fn default() -> Self {
        Self {
            request: Some(Duration::from_secs(30)),
            dial: Some(Duration::from_secs(10)),
            keep_alive: Some(Duration::from_secs(30)),
            tls_handshake: Some(Duration::from_secs(10)),
            idle_connection: Some(Duration::from_secs(90)),
            max_conns_per_host: 0,
            max_idle_conns: 100,
            max_idle_conns_per_host: 100,
        }
    }
}

impl Timeouts {
    /// The per-host idle-connection cap the pool enforces.
    pub(crate) fn effective_max_idle_per_host(&self) -> usize {
        match self.max_idle_conns {
            0 => self.max_idle_conns_per_host,
            total => total.min(self.max_idle_conns_per_host),
        }
    }
}

/// Basic authentication credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BasicAuth {
    /// The user name.
    pub user: String,
    /// The password.
    pub password: Secret,
}

impl BasicAuth {
    /// Credentials from a user name and password.
    pub fn new(user: impl Into<String>, password: impl Into<Secret>) -> Self {
        Self {
            user: user.into(),
            password: password.into(),
        }
    }
}

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum TlsVersion {
    /// TLS 1.2.
    Tls12,
    /// TLS 1.3.
    Tls13,
}

/// TLS settings for connections to the data source.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsOptions {
    /// PEM CA certificate(s) to trust instead of the system roots (secure
    /// `tlsCACert`).
    pub ca_certificate: Option<String>,
    /// PEM client certificate chain for mutual TLS (secure `tlsClientCert`).
    pub client_certificate: Option<String>,
    /// PEM private key of the client certificate (secure `tlsClientKey`).
    pub client_key: Option<Secret>,
    /// Accept any server certificate (jsonData `tlsSkipVerify`). Handshake
    /// signatures are still checked.
    pub insecure_skip_verify: bool,
    /// The name to verify the server certificate against instead of the
    /// URI host (jsonData `serverName`).
    pub server_name: Option<String>,
    /// The lowest TLS version to offer; `None` is TLS 1.2.
    pub min_version: Option<TlsVersion>,
    /// The highest TLS version to offer; `None` is TLS 1.3.
    pub max_version: Option<TlsVersion>,
}

/// AWS Signature Version 4 settings, as Grafana stores them
/// (`backend/http_settings.go`, `httpclient.SigV4Config`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SigV4Options {
    /// How credentials are found (jsonData `sigV4AuthType`); only `keys`
    /// (or empty) can sign.
    pub auth_type: String,
    /// The AWS region (jsonData `sigV4Region`).
    pub region: String,
    /// The AWS service name signed for, e.g. `aps` or `es`. Not a setting:
    /// the plugin sets it, as in Go.
    pub service: String,
    /// The access key ID (secure `sigV4AccessKey`).
    pub access_key: String,
    /// The secret access key (secure `sigV4SecretKey`).
    pub secret_key: Secret,
    /// A session token for temporary credentials (secure
    /// `sigV4SessionToken`).
    pub session_token: Option<Secret>,
    /// A role to assume (jsonData `sigV4AssumeRoleArn`); not supported.
    pub assume_role_arn: String,
    /// The external ID for assuming a role (jsonData `sigV4ExternalId`).
    pub external_id: String,
    /// A shared-credentials profile (jsonData `sigV4Profile`).
    pub profile: String,
}

impl SigV4Options {
    /// Signing with static keys for `service` in `region`.
    pub fn with_keys(
        region: impl Into<String>,
        service: impl Into<String>,
        access_key: impl Into<String>,
        secret_key: impl Into<Secret>,
    ) -> Self {
        Self {
            auth_type: "keys".to_owned(),
            region: region.into(),
            service: service.into(),
            access_key: access_key.into(),
            secret_key: secret_key.into(),
            ..Self::default()
        }
    }
}

/// How the client authenticates at the OAuth 2.0 token endpoint.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum OAuth2AuthStyle {
    /// HTTP Basic with the client ID and secret (`client_secret_basic`).
    #[default]
    Header,
    /// `client_id` and `client_secret` in the form body
    /// (`client_secret_post`).
    Params,
}

/// OAuth 2.0 client credentials (RFC 6749 §4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OAuth2ClientCredentials {
    /// The token endpoint URL.
    pub token_url: String,
    /// The client ID.
    pub client_id: String,
    /// The client secret.
    pub client_secret: Secret,
    /// Scopes requested, sent space-separated.
    pub scopes: Vec<String>,
    /// Extra form parameters for the token request (e.g. `audience`).
    pub endpoint_params: Vec<(String, String)>,
    /// How the client authenticates.
    pub auth_style: OAuth2AuthStyle,
}

impl OAuth2ClientCredentials {
    /// Credentials for `token_url`, authenticating with HTTP Basic.
    pub fn new(
        token_url: impl Into<String>,
        client_id: impl Into<String>,
        client_secret: impl Into<Secret>,
    ) -> Self {
        Self {
            token_url: token_url.into(),
            client_id: client_id.into(),
            client_secret: client_secret.into(),
            scopes: Vec::new(),
            endpoint_params: Vec::new(),
            auth_style: OAuth2AuthStyle::default(),
        }
    }

    /// Requests `scopes`.
    pub fn with_scopes<I: IntoIterator<Item = S>, S: Into<String>>(mut self, scopes: I) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }
}

/// Identifies the data source in spans, metrics and logs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataSourceLabels {
    /// The data source's name (`datasource_name`).
    pub name: String,
    /// The data source's UID (`datasource_uid`).
    pub uid: String,
    /// The data source's type, i.e. the plugin ID (`datasource_type`).
    pub data_source_type: String,
}

impl DataSourceLabels {
    /// Labels from name, UID and type.
    pub fn new(
        name: impl Into<String>,
        uid: impl Into<String>,
        data_source_type: impl Into<String>,
    ) -> Self {
        Self {
            name: name.into(),
            uid: uid.into(),
            data_source_type: data_source_type.into(),
        }
    }
}

/// The plugin's identity, for the `User-Agent` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    /// The plugin ID, e.g. `grafana-example-datasource`.
    pub id: String,
    /// The plugin version, e.g. `1.2.3`.
    pub version: String,
}

impl PluginInfo {
    /// Identity from plugin ID and version.
    pub fn new(id: impl Into<String>, version: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            version: version.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug() {
        let auth = BasicAuth::new("admin", "hunter2");
        let tls = TlsOptions {
            client_key: Some(Secret::new("-----BEGIN PRIVATE KEY-----abc")),
            ..TlsOptions::default()
        };
        let mut sigv4 = SigV4Options::with_keys("us-east-1", "es", "AKID", "aws-secret");
        sigv4.session_token = Some(Secret::new("aws-session"));
        let options = HttpClientOptions {
            sigv4: Some(sigv4),
            oauth2: Some(OAuth2ClientCredentials::new(
                "https://idp/token",
                "id",
                "client-secret",
            )),
            ..HttpClientOptions::default()
        };
        let text = format!("{auth:?} {tls:?} {options:?}");
        for secret in ["hunter2", "aws-secret", "aws-session", "client-secret"] {
            assert!(!text.contains(secret), "{secret}: {text}");
        }
        assert!(text.contains("AKID") && text.contains("https://idp/token"));
        assert!(!text.contains("BEGIN PRIVATE KEY"), "{text}");
        assert!(text.contains("admin"));
        assert_eq!(auth.password.expose(), "hunter2");
    }

    #[test]
    fn idle_pool_cap_uses_the_smaller_limit() {
        let mut timeouts = Timeouts::default();
        assert_eq!(timeouts.effective_max_idle_per_host(), 100);
        timeouts.max_idle_conns = 7;
        assert_eq!(timeouts.effective_max_idle_per_host(), 7);
        timeouts.max_idle_conns = 0;
        timeouts.max_idle_conns_per_host = 3;
        assert_eq!(timeouts.effective_max_idle_per_host(), 3);
    }
}
