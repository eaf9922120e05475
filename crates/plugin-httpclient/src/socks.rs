//! Dialing through Grafana's secure SOCKS proxy (private data source
//! connect): TLS 1.3 with a client certificate to the proxy (or plain TCP
//! when Grafana allows insecure connections), then a SOCKS5 `CONNECT` with
//! username/password authentication (RFC 1928, RFC 1929).
//!
//! As in the Go SDK, every failure is a downstream error and each dial is
//! timed in `grafana_secure_socks_requests_duration{code, datasource,
//! datasource_type}`, `code` being `0` on success, the SOCKS reply code, or
//! a failure class.

use std::{
    fmt,
    net::IpAddr,
    pin::Pin,
    sync::{Arc, LazyLock},
    task::{Context, Poll},
    time::{Duration, Instant},
};

use hyper_util::client::legacy::connect::HttpConnector;
use plugin_backend::config::keys;
use prometheus::{HistogramOpts, HistogramVec};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::{PrivateKeyDer, ServerName, pem::PemObject};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_rustls::TlsConnector;

use crate::{
    connect::{BoxedIo, dial_tcp},
    error::{Error, TimeoutKind},
    options::{DataSourceLabels, Secret},
    proxy::{SecureSocksProxyOptions, SecureSocksProxyTransport},
};

static DIAL_DURATION: LazyLock<Option<HistogramVec>> = LazyLock::new(|| {
    let histogram = HistogramVec::new(
        HistogramOpts::new(
            "secure_socks_requests_duration",
            "Duration of requests to the secure socks proxy",
        )
        .namespace("grafana"),
        &["code", "datasource", "datasource_type"],
    )
    .inspect_err(|error| tracing::error!(%error, "secure socks proxy metric unavailable"))
    .ok()?;
    if let Err(error) = prometheus::default_registry().register(Box::new(histogram.clone())) {
        tracing::warn!(%error, "secure socks proxy metric not registered");
    }
    Some(histogram)
});

/// Opens TCP streams through Grafana's secure SOCKS proxy (private data
/// source connect), for any client: the HTTP client uses it, and a SQL,
/// gRPC or Redis client can dial its server with it too. The Go SDK's
/// counterpart is `proxy.New(opts).NewSecureSocksProxyContextDialer()`
/// (`backend/proxy/secure_socks_proxy.go`).
///
/// Build the options from the data source's settings (they are `None`
/// unless both the data source and Grafana enable the proxy):
///
/// ```no_run
/// use plugin_httpclient::{HttpClientOptions, SecureSocksDialer};
/// # async fn run(context: &plugin_backend::PluginContext) -> Result<(), plugin_httpclient::Error> {
/// let options = HttpClientOptions::from_plugin_context(context)?;
/// if let Some(proxy) = &options.secure_socks_proxy {
///     let dialer = SecureSocksDialer::new(proxy, &options.labels)?;
///     let stream = dialer.connect("db.internal", 5432).await?;
///     // Hand `stream` (tokio AsyncRead + AsyncWrite) to the database driver.
///     # drop(stream);
/// }
/// # Ok(())
/// # }
/// ```
///
/// Every failure is a downstream error. `Debug` never shows the password.
#[derive(Clone)]
pub struct SecureSocksDialer {
    proxy_host: String,
    proxy_port: u16,
    proxy_address: String,
    username: String,
    password: Secret,
    timeout: Duration,
    tls: Option<(TlsConnector, ServerName<'static>)>,
    tcp: HttpConnector,
    labels: Arc<DataSourceLabels>,
}

impl fmt::Debug for SecureSocksDialer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecureSocksDialer")
            .field("proxy_address", &self.proxy_address)
            .field("username", &self.username)
            .field("password", &self.password)
            .field("timeout", &self.timeout)
            .field("tls", &self.tls.as_ref().map(|(_, name)| name))
            .finish_non_exhaustive()
    }
}

impl SecureSocksProxyTransport {
    /// The TLS configuration for the connection to the proxy: TLS 1.3 only,
    /// the proxy verified against the configured root CAs, the plugin
    /// authenticated with its client certificate. `None` for
    /// [`Insecure`](Self::Insecure). The same configuration
    /// [`SecureSocksDialer`] uses, for clients that connect to the proxy
    /// themselves.
    pub fn tls_client_config(&self) -> Result<Option<rustls::ClientConfig>, Error> {
        let Self::Tls {
            client_certificate,
            client_key,
            root_cas,
            ..
        } = self
        else {
            return Ok(None);
        };
        if root_cas.is_empty() {
            return Err(Error::invalid_setting(
                keys::SECURE_SOCKS_PROXY_ROOT_CA_VALS,
                "one or more root CAs are required",
            ));
        }
        let mut roots = RootCertStore::empty();
        for pem in root_cas {
            for certificate in
                crate::tls::parse_certificates(keys::SECURE_SOCKS_PROXY_ROOT_CA_VALS, pem)?
            {
                roots.add(certificate).map_err(|error| {
                    Error::invalid_setting(
                        keys::SECURE_SOCKS_PROXY_ROOT_CA_VALS,
                        format!("unusable root CA: {error}"),
                    )
                })?;
            }
        }
        let chain = crate::tls::parse_certificates(
            keys::SECURE_SOCKS_PROXY_CLIENT_CERT_VAL,
            client_certificate,
        )?;
        let key = PrivateKeyDer::from_pem_slice(client_key.expose().as_bytes()).map_err(|_| {
            Error::invalid_setting(
                keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL,
                "no valid PEM private key",
            )
        })?;
        let config = ClientConfig::builder_with_provider(crate::tls::provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|error| {
                Error::invalid_setting(keys::SECURE_SOCKS_PROXY_CLIENT_CERT_VAL, error.to_string())
            })?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|error| {
                Error::invalid_setting(keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL, error.to_string())
            })?;
        Ok(Some(config))
    }
}

impl SecureSocksDialer {
    /// A dialer for the proxy in `options`; `labels` name the data source
    /// in the dial metric. Fails on an unusable address or TLS material,
    /// naming the Grafana configuration key.
    pub fn new(
        options: &SecureSocksProxyOptions,
        labels: &DataSourceLabels,
    ) -> Result<Self, Error> {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        Self::with_connector(options, labels, tcp)
    }

    pub(crate) fn with_connector(
        options: &SecureSocksProxyOptions,
        labels: &DataSourceLabels,
        mut tcp: HttpConnector,
    ) -> Result<Self, Error> {
        let (proxy_host, proxy_port) = split_address(&options.proxy_address).ok_or_else(|| {
            Error::invalid_setting(keys::SECURE_SOCKS_PROXY_ADDRESS, "expected `host:port`")
        })?;
        tcp.set_keepalive(Some(options.keep_alive).filter(|keep_alive| !keep_alive.is_zero()));
        let tls = match options.transport.tls_client_config()? {
            None => None,
            Some(config) => {
                let SecureSocksProxyTransport::Tls { server_name, .. } = &options.transport else {
                    unreachable!("only the TLS transport has a TLS configuration")
                };
                let name = ServerName::try_from(server_name.clone()).map_err(|_| {
                    Error::invalid_setting(
                        keys::SECURE_SOCKS_PROXY_SERVER_NAME,
                        "not a valid TLS server name",
                    )
                })?;
                Some((TlsConnector::from(Arc::new(config)), name))
            }
        };
        Ok(Self {
            proxy_host,
            proxy_port,
            proxy_address: options.proxy_address.clone(),
            username: options.username.clone(),
            password: options.password.clone(),
            timeout: options.timeout,
            tls,
            tcp,
            labels: Arc::new(labels.clone()),
        })
    }

    /// A stream to `host:port` through the proxy, within the options'
    /// timeout (zero: none).
    pub async fn connect(&self, host: &str, port: u16) -> Result<SecureSocksStream, Error> {
        self.connect_boxed(host, port).await.map(SecureSocksStream)
    }

    /// [`connect`](Self::connect) for the HTTP connector.
    pub(crate) async fn connect_boxed(&self, host: &str, port: u16) -> Result<BoxedIo, Error> {
        let started = Instant::now();
        let result = if self.timeout.is_zero() {
            self.connect_unbounded(host, port).await
        } else {
            tokio::time::timeout(self.timeout, self.connect_unbounded(host, port))
                .await
                .unwrap_or(Err(Error::Timeout {
                    kind: TimeoutKind::SecureSocksProxy,
                    after: self.timeout,
                }))
        };
        let code = match &result {
            Ok(_) => "0".to_owned(),
            Err(error) => failure_code(error),
        };
        if let Some(histogram) = DIAL_DURATION.as_ref() {
            histogram
                .with_label_values(&[
                    code.as_str(),
                    &self.labels.name,
                    &self.labels.data_source_type,
                ])
                .observe(started.elapsed().as_secs_f64());
        }
        result.map_err(Error::into_downstream)
    }

    async fn connect_unbounded(&self, host: &str, port: u16) -> Result<BoxedIo, Error> {
        let stream = dial_tcp(&self.tcp, None, &self.proxy_host, self.proxy_port).await?;
        let mut stream: BoxedIo = match &self.tls {
            None => stream,
            Some((connector, name)) => Box::new(
                connector
                    .connect(name.clone(), stream)
                    .await
                    .map_err(|source| Error::Tls {
                        server_name: format!("{name:?}"),
                        source,
                    })?,
            ),
        };
        self.handshake(&mut stream, host, port).await?;
        Ok(stream)
    }

    async fn handshake(&self, stream: &mut BoxedIo, host: &str, port: u16) -> Result<(), Error> {
        const VERSION: u8 = 5;
        const NO_AUTH: u8 = 0;
        const USER_PASSWORD: u8 = 2;

        let fail = |reason: String| Error::Proxy {
            proxy: self.proxy_address.clone(),
            reason,
        };
        let io = |error: std::io::Error| fail(format!("SOCKS5 handshake failed: {error}"));
        let with_auth = !self.username.is_empty() || !self.password.is_empty();

        let greeting: &[u8] = if with_auth {
            &[VERSION, 2, NO_AUTH, USER_PASSWORD]
        } else {
            &[VERSION, 1, NO_AUTH]
        };
        stream.write_all(greeting).await.map_err(io)?;
        let mut choice = [0u8; 2];
        stream.read_exact(&mut choice).await.map_err(io)?;
        match choice {
            [VERSION, NO_AUTH] => {}
            [VERSION, USER_PASSWORD] if with_auth => {
                let user = self.username.as_bytes();
                let password = self.password.expose().as_bytes();
                let (Ok(user_length), Ok(password_length)) =
                    (u8::try_from(user.len()), u8::try_from(password.len()))
                else {
                    return Err(fail(
                        "SOCKS5 user name or password longer than 255 bytes".to_owned(),
                    ));
                };
                let mut request = vec![1, user_length];
                request.extend_from_slice(user);
                request.push(password_length);
                request.extend_from_slice(password);
                stream.write_all(&request).await.map_err(io)?;
                let mut status = [0u8; 2];
                stream.read_exact(&mut status).await.map_err(io)?;
                if status[1] != 0 {
                    return Err(fail("SOCKS5 authentication failed".to_owned()));
                }
            }
            [VERSION, _] => {
                return Err(fail(
                    "no acceptable SOCKS5 authentication method".to_owned(),
                ));
            }
            [version, _] => return Err(fail(format!("unexpected SOCKS version {version}"))),
        }

        let mut request = vec![VERSION, 1, 0];
        let bare_host = host.trim_start_matches('[').trim_end_matches(']');
        match bare_host.parse::<IpAddr>() {
            Ok(IpAddr::V4(ip)) => {
                request.push(1);
                request.extend_from_slice(&ip.octets());
            }
            Ok(IpAddr::V6(ip)) => {
                request.push(4);
                request.extend_from_slice(&ip.octets());
            }
            Err(_) => {
                let name = bare_host.as_bytes();
                let length = u8::try_from(name.len())
                    .map_err(|_| fail(format!("host name `{bare_host}` is too long for SOCKS5")))?;
                request.push(3);
                request.push(length);
                request.extend_from_slice(name);
            }
        }
        request.extend_from_slice(&port.to_be_bytes());
        stream.write_all(&request).await.map_err(io)?;

        let mut reply = [0u8; 4];
        stream.read_exact(&mut reply).await.map_err(io)?;
        if reply[1] != 0 {
            return Err(Error::Proxy {
                proxy: self.proxy_address.clone(),
                reason: format!(
                    "SOCKS5 connect to {host}:{port} failed: {} (code {})",
                    reply_text(reply[1]),
                    reply[1]
                ),
            });
        }
        let address_length = match reply[3] {
            1 => 4,
            4 => 16,
            3 => usize::from(stream.read_u8().await.map_err(io)?),
            other => return Err(fail(format!("unknown SOCKS5 address type {other}"))),
        };
        let mut bound = vec![0u8; address_length + 2];
        stream.read_exact(&mut bound).await.map_err(io)?;
        Ok(())
    }
}

/// A connection opened by [`SecureSocksDialer::connect`]: a tokio
/// [`AsyncRead`] + [`AsyncWrite`] byte stream to the target, over TCP or
/// TLS to the proxy.
pub struct SecureSocksStream(BoxedIo);

impl fmt::Debug for SecureSocksStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecureSocksStream").finish_non_exhaustive()
    }
}

impl AsyncRead for SecureSocksStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SecureSocksStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

fn split_address(address: &str) -> Option<(String, u16)> {
    let (host, port) = address.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port = port.parse().ok()?;
    (!host.is_empty()).then(|| (host.to_owned(), port))
}

/// RFC 1928 reply codes.
fn reply_text(code: u8) -> &'static str {
    match code {
        1 => "general SOCKS server failure",
        2 => "connection not allowed by ruleset",
        3 => "network unreachable",
        4 => "host unreachable",
        5 => "connection refused",
        6 => "TTL expired",
        7 => "command not supported",
        8 => "address type not supported",
        _ => "unknown error",
    }
}

/// The metric's `code` label for a failed dial, as the Go SDK reports it.
fn failure_code(error: &Error) -> String {
    match error {
        Error::Timeout { .. } => "io_timeout_error".to_owned(),
        Error::Proxy { reason, .. } => reason
            .rsplit_once("(code ")
            .and_then(|(_, code)| code.strip_suffix(')'))
            .map_or_else(
                || {
                    if reason.contains("early eof") || reason.contains("unexpected end of file") {
                        "eof_error".to_owned()
                    } else {
                        "socks_unknown_error".to_owned()
                    }
                },
                str::to_owned,
            ),
        _ => "dial_error".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_codes() {
        assert_eq!(
            split_address("127.0.0.1:1080"),
            Some(("127.0.0.1".to_owned(), 1080))
        );
        assert_eq!(split_address("[::1]:1080"), Some(("::1".to_owned(), 1080)));
        assert_eq!(split_address("nohost"), None);
        let refused = Error::Proxy {
            proxy: "p".into(),
            reason: format!("SOCKS5 connect to h:1 failed: {} (code 5)", reply_text(5)),
        };
        assert_eq!(failure_code(&refused), "5");
        let timeout = Error::Timeout {
            kind: TimeoutKind::SecureSocksProxy,
            after: Duration::from_secs(1),
        };
        assert_eq!(failure_code(&timeout), "io_timeout_error");
    }
}
