//! The outgoing HTTP client for Grafana data source plugins, configured the
//! way Grafana users configure a data source — the Rust counterpart of the
//! Go SDK's `backend/httpclient`.
//!
//! Build [`HttpClientOptions`] from the data source's settings, then an
//! [`HttpClient`] from the options, once per data source instance:
//!
//! ```
//! use std::collections::HashMap;
//! use plugin_httpclient::{DataSourceSettings, HttpClient, HttpClientOptions};
//!
//! # fn main() -> Result<(), plugin_httpclient::Error> {
//! let json_data = serde_json::json!({
//!     "timeout": 10,
//!     "httpHeaderName1": "X-Api-Key",
//!     "tlsSkipVerify": false,
//! });
//! let secure: HashMap<String, String> =
//!     [("httpHeaderValue1".to_owned(), "s3cret".to_owned())].into();
//! let settings = DataSourceSettings {
//!     uid: "P1809F7CD0C75ACF3",
//!     name: "My API",
//!     plugin_id: "grafana-example-datasource",
//!     plugin_version: "1.0.0",
//!     ..DataSourceSettings::new(&json_data, &secure)
//! };
//! let options = HttpClientOptions::from_data_source_settings(&settings)?;
//! assert_eq!(options.timeouts.request, Some(std::time::Duration::from_secs(10)));
//! assert!(!format!("{options:?}").contains("s3cret"), "secrets are redacted");
//!
//! let client = HttpClient::new(options)?;
//! # drop(client);
//! # Ok(())
//! # }
//! ```
//!
//! Sending a request (streams the body; the data source URL is the plugin's
//! to join with a path):
//!
//! ```no_run
//! # async fn run(client: plugin_httpclient::HttpClient) -> Result<(), plugin_httpclient::Error> {
//! let response = client.get("https://api.example.com/v1/health").await?;
//! let status = response.status();
//! let text = response.into_body().text().await?;
//! # let _ = (status, text);
//! # Ok(())
//! # }
//! ```
//!
//! # Settings
//!
//! [`HttpClientOptions::from_data_source_settings`] reads the keys the Go
//! SDK reads; a malformed value is an [`Error::InvalidSetting`] naming the
//! key.
//!
//! | jsonData key (secure key) | option |
//! |---|---|
//! | `basicAuth`, `basicAuthUser` (`basicAuthPassword`); top-level basic auth fields, else `user` (`password`) | [`HttpClientOptions::basic_auth`] |
//! | `timeout`, `dialTimeout`, `httpKeepAlive`, `httpTLSHandshakeTimeout`, `httpIdleConnTimeout` (seconds) | [`Timeouts`] |
//! | `httpExpectContinueTimeout` | validated, not applied (see [`Timeouts`]) |
//! | `httpMaxConnsPerHost`, `httpMaxIdleConns`, `httpMaxIdleConnsPerHost` | [`Timeouts`] |
//! | `tlsAuth`, `tlsAuthWithCACert`, `tlsSkipVerify`, `serverName` (`tlsCACert`, `tlsClientCert`, `tlsClientKey`) | [`TlsOptions`] |
//! | `httpHeaderName1..N` (`httpHeaderValue1..N`) | [`HttpClientOptions::headers`] |
//! | `enableSecureSocksProxy`, `secureSocksProxyUsername`, `timeout`, `keepAlive` (`secureSocksProxyPassword`) | [`SecureSocksProxyOptions`] |
//! | `sigV4Auth`, `sigV4AuthType`, `sigV4Region`, `sigV4AssumeRoleArn`, `sigV4ExternalId`, `sigV4Profile` (`sigV4AccessKey`, `sigV4SecretKey`, `sigV4SessionToken`) | [`HttpClientOptions::sigv4`] |
//! | `keepCookies`, `oauthPassThru` | [`HttpClientOptions::keep_cookies`], [`HttpClientOptions::oauth_pass_through`] |
//! | Grafana config `GF_RESPONSE_LIMIT`, toggle `pluginsForceTls13` | [`HttpClientOptions::response_limit`], [`TlsOptions`] |
//!
//! The proxy environment (`HTTP_PROXY`, `HTTPS_PROXY`, `NO_PROXY`) is read
//! from the process; see [`ProxyOptions`].
//!
//! # Middleware
//!
//! Requests pass through the Go SDK's default middleware, in its order —
//! tracing, metrics, basic auth, custom headers, user agent, header
//! forwarding, error source, response limit — each a tower layer in
//! [`middleware`], named so a plugin can add and remove layers with
//! [`HttpClientBuilder::middleware_mut`].
//!
//! # The handler call's context
//!
//! What the Go SDK reads from `context.Context` — the incoming request's
//! headers to forward, `FromAlert`, Grafana's user agent, the endpoint for
//! the metrics and the request's `GF_RESPONSE_LIMIT` — the middleware reads
//! from the [`plugin_backend::outgoing`] scope the SDK runs every handler
//! call in, so a plugin passes nothing per request. Request [`extensions`]
//! override it for one request, or supply it outside a handler call.
//!
//! # Errors
//!
//! One error type, [`Error`]. [`Error::error_source`] tells whether Grafana
//! should blame the plugin or the downstream service.
//!
//! # Features
//!
//! | feature | enables |
//! |---|---|
//! | `secure-socks-proxy` | Dialing through Grafana's secure SOCKS5 proxy (private data source connect) when the settings enable it, and `SecureSocksDialer` / `SecureSocksProxyTransport::tls_client_config` for other clients (SQL, gRPC, Redis) to dial through it. Without it, such settings make [`HttpClient::new`] fail with a clear error. |
//! | `sigv4` | AWS Signature Version 4 signing from `sigV4Auth` settings (static keys; the plugin sets [`SigV4Options::service`]): `middleware::sigv4`. Without it, such settings make [`HttpClient::new`] fail. |
//! | `oauth2` | OAuth 2.0 client-credentials tokens ([`HttpClientOptions::oauth2`]), fetched once and cached until they expire: `middleware::oauth2`. |
//! | `otel` | Requests carry their span's OpenTelemetry context (`traceparent`, or what `GF_INSTANCE_OTLP_PROPAGATION` selects) through the global propagator: `middleware::tracing::OtelPropagator`, the tracing middleware's default. |
//! | `reqwest` | `HttpClientOptions::build_reqwest_client`: a `reqwest::Client` (rustls, ring) with the same timeouts, TLS, proxy, basic auth, custom headers and user agent, but none of the middleware. |
//!
//! TLS is rustls with the `ring` provider; no OpenSSL.

mod backend;
mod body;
mod client;
mod connect;
mod error;
pub mod extensions;
pub mod middleware;
mod options;
mod proxy;
#[cfg(feature = "reqwest")]
mod reqwest_client;
mod settings;
#[cfg(feature = "secure-socks-proxy")]
mod socks;
mod tls;

pub use backend::insert_context_extensions;
pub use body::Body;
pub use client::{HttpClient, HttpClientBuilder};
pub use error::{BoxError, Error, ErrorSource, TimeoutKind};
pub use extensions::{Endpoint, ForwardedHeaders, GrafanaUserAgent, ResponseLimit};
pub use middleware::{HttpService, Middleware, MiddlewareStack};
pub use options::{
    BasicAuth, DataSourceLabels, HttpClientOptions, OAuth2AuthStyle, OAuth2ClientCredentials,
    PluginInfo, Secret, SigV4Options, Timeouts, TlsOptions, TlsVersion,
};
pub use proxy::{ProxyOptions, SecureSocksProxyOptions, SecureSocksProxyTransport};
pub use settings::{DataSourceSettings, FORCE_TLS13_TOGGLE};
#[cfg(feature = "secure-socks-proxy")]
#[cfg_attr(docsrs, doc(cfg(feature = "secure-socks-proxy")))]
pub use socks::{SecureSocksDialer, SecureSocksStream};
