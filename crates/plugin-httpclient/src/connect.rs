//! The connector: how a request's URI becomes a byte stream.
//!
//! One [`Connector`] per client applies, in order: the per-host connection
//! limit, the HTTP(S) proxy route (absolute-form requests for `http`,
//! `CONNECT` tunnels for `https`), the dial itself (plain TCP or through the
//! secure SOCKS proxy), and the TLS handshake, each with its own timeout so
//! that an error says which step failed.

use std::{
    collections::HashMap,
    fmt,
    future::Future,
    io,
    pin::Pin,
    sync::{Arc, Mutex, PoisonError},
    task::{Context, Poll},
    time::Duration,
};

use http::{HeaderValue, Uri};
use hyper_util::{
    client::legacy::connect::{Connected, Connection as HyperConnection, HttpConnector},
    rt::TokioIo,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    sync::{OwnedSemaphorePermit, Semaphore},
};
use tokio_rustls::TlsConnector;
use tower::ServiceExt;
use tower_service::Service;

use crate::{
    error::{Error, TimeoutKind},
    options::HttpClientOptions,
    proxy::{ProxyResolver, redact_userinfo},
};

/// Any bidirectional byte stream the connector can hand to hyper.
pub(crate) trait AsyncIo: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> AsyncIo for T {}

/// A type-erased stream: TCP, TLS over TCP, or either through a proxy.
pub(crate) type BoxedIo = Box<dyn AsyncIo>;

/// Establishes connections for the hyper client.
#[derive(Clone)]
pub(crate) struct Connector {
    inner: Arc<ConnectorInner>,
}

struct ConnectorInner {
    tcp: HttpConnector,
    dial_timeout: Option<Duration>,
    tls: TlsConnector,
    tls_server_name: Option<String>,
    tls_handshake_timeout: Option<Duration>,
    proxy: ProxyResolver,
    per_host_limit: Option<PerHostLimit>,
    #[cfg(feature = "secure-socks-proxy")]
    secure_socks_proxy: Option<crate::socks::SecureSocksDialer>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("dial_timeout", &self.inner.dial_timeout)
            .field("tls_server_name", &self.inner.tls_server_name)
            .field("tls_handshake_timeout", &self.inner.tls_handshake_timeout)
            .field("proxy", &self.inner.proxy)
            .finish_non_exhaustive()
    }
}

impl Connector {
    pub(crate) fn new(options: &HttpClientOptions) -> Result<Self, Error> {
        let tls_config = match &options.tls {
            Some(tls) => crate::tls::client_config(tls)?,
            None => crate::tls::default_client_config()?,
        };
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_keepalive(options.timeouts.keep_alive);
        // The dial timeout is applied around the whole dial instead, so the
        // error can say "dial timed out" rather than a generic I/O error.
        tcp.set_connect_timeout(None);

        #[cfg(not(feature = "secure-socks-proxy"))]
        if options.secure_socks_proxy.is_some() {
            return Err(Error::invalid_setting(
                "enableSecureSocksProxy",
                "this plugin was built without secure SOCKS proxy support \
                 (feature `secure-socks-proxy` of plugin-httpclient)",
            ));
        }

        Ok(Self {
            inner: Arc::new(ConnectorInner {
                #[cfg(feature = "secure-socks-proxy")]
                secure_socks_proxy: options
                    .secure_socks_proxy
                    .as_ref()
                    .map(|socks| {
                        crate::socks::SecureSocksDialer::with_connector(
                            socks,
                            &options.labels,
                            tcp.clone(),
                        )
                    })
                    .transpose()?,
                tcp,
                dial_timeout: options.timeouts.dial,
                tls: TlsConnector::from(Arc::new(tls_config)),
                tls_server_name: options.tls.as_ref().and_then(|tls| tls.server_name.clone()),
                tls_handshake_timeout: options.timeouts.tls_handshake,
                proxy: options.proxy.resolver(),
                per_host_limit: match options.timeouts.max_conns_per_host {
                    0 => None,
                    limit => Some(PerHostLimit::new(limit)),
                },
            }),
        })
    }
}

impl Service<Uri> for Connector {
    type Response = Connection;
    type Error = ConnectFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Connection, ConnectFailure>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let inner = self.inner.clone();
        Box::pin(async move { inner.connect(uri).await.map_err(ConnectFailure::new) })
    }
}

impl ConnectorInner {
    async fn connect(&self, uri: Uri) -> Result<Connection, Error> {
        let is_https = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => {
                return Err(Error::InvalidRequest(format!(
                    "unsupported URI scheme in `{uri}`: use http or https"
                )));
            }
        };
        let host = uri
            .host()
            .filter(|host| !host.is_empty())
            .ok_or_else(|| Error::InvalidRequest(format!("URI `{uri}` has no host")))?;
        let port = uri.port_u16().unwrap_or(if is_https { 443 } else { 80 });

        let permit = match &self.per_host_limit {
            Some(limit) => limit.acquire(host, port).await,
            None => None,
        };

        let (stream, proxied) = match self.proxy.route(&uri) {
            None => (self.dial(host, port).await?, false),
            Some(route) => {
                let (proxy_host, proxy_port) = authority_of(&route.proxy)?;
                let stream = self.dial(&proxy_host, proxy_port).await?;
                if is_https {
                    let tunnelled = tunnel(
                        stream,
                        host,
                        port,
                        &route.proxy,
                        route.authorization.as_ref(),
                    )
                    .await?;
                    (tunnelled, false)
                } else {
                    // Plain HTTP through a proxy: the request itself goes to
                    // the proxy in absolute form.
                    (stream, true)
                }
            }
        };

        let io = if is_https {
            self.handshake(stream, host).await?
        } else {
            stream
        };
        Ok(Connection {
            io: TokioIo::new(io),
            proxied,
            _permit: permit,
        })
    }

    /// Opens a byte stream to `host:port`, directly or through the secure
    /// SOCKS proxy.
    async fn dial(&self, host: &str, port: u16) -> Result<BoxedIo, Error> {
        #[cfg(feature = "secure-socks-proxy")]
        if let Some(socks) = &self.secure_socks_proxy {
            return socks.connect_boxed(host, port).await;
        }
        dial_tcp(&self.tcp, self.dial_timeout, host, port).await
    }

    async fn handshake(&self, stream: BoxedIo, host: &str) -> Result<BoxedIo, Error> {
        let name = self
            .tls_server_name
            .as_deref()
            .unwrap_or_else(|| host.trim_start_matches('[').trim_end_matches(']'));
        let server_name =
            rustls_pki_types::ServerName::try_from(name.to_owned()).map_err(|_| {
                Error::InvalidRequest(format!("`{name}` is not a valid TLS server name"))
            })?;
        let handshake = self.tls.connect(server_name, stream);
        let result = match self.tls_handshake_timeout {
            Some(after) => {
                tokio::time::timeout(after, handshake)
                    .await
                    .map_err(|_| Error::Timeout {
                        kind: TimeoutKind::TlsHandshake,
                        after,
                    })?
            }
            None => handshake.await,
        };
        let stream = result.map_err(|source| Error::Tls {
            server_name: name.to_owned(),
            source,
        })?;
        Ok(Box::new(stream))
    }
}

/// Dials a TCP connection with hyper-util's connector (DNS, happy eyeballs,
/// keep-alive, no-delay) under `timeout`.
pub(crate) async fn dial_tcp(
    tcp: &HttpConnector,
    timeout: Option<Duration>,
    host: &str,
    port: u16,
) -> Result<BoxedIo, Error> {
    let address = format!("{host}:{port}");
    let uri: Uri = format!("http://{address}")
        .parse()
        .map_err(|_| Error::InvalidRequest(format!("cannot dial `{address}`")))?;
    let dial = tcp.clone().oneshot(uri);
    let result = match timeout {
        Some(after) => tokio::time::timeout(after, dial)
            .await
            .map_err(|_| Error::Timeout {
                kind: TimeoutKind::Dial,
                after,
            })?,
        None => dial.await,
    };
    match result {
        Ok(stream) => Ok(Box::new(stream.into_inner())),
        Err(error) => Err(Error::Connect {
            address,
            source: io_cause(&error),
        }),
    }
}

/// Recreates the I/O error at the bottom of hyper-util's `ConnectError`,
/// which only lends it out by reference.
fn io_cause(error: &(dyn std::error::Error + 'static)) -> io::Error {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(io) = error.downcast_ref::<io::Error>() {
            return io::Error::new(io.kind(), io.to_string());
        }
        next = error.source();
    }
    io::Error::other(error.to_string())
}

fn authority_of(proxy: &Uri) -> Result<(String, u16), Error> {
    let display = redact_userinfo(&proxy.to_string());
    match proxy.scheme_str() {
        Some("http") | None => {}
        Some(other) => {
            return Err(Error::Proxy {
                proxy: display,
                reason: format!("`{other}` proxies are not supported; use an http:// proxy URL"),
            });
        }
    }
    let host = proxy.host().ok_or_else(|| Error::Proxy {
        proxy: display.clone(),
        reason: "the proxy URL has no host".to_owned(),
    })?;
    Ok((host.to_owned(), proxy.port_u16().unwrap_or(80)))
}

/// Opens an HTTP `CONNECT` tunnel to `host:port` through the proxy on
/// `stream`.
async fn tunnel(
    mut stream: BoxedIo,
    host: &str,
    port: u16,
    proxy: &Uri,
    authorization: Option<&HeaderValue>,
) -> Result<BoxedIo, Error> {
    /// Longest proxy response head accepted; real ones are a few hundred bytes.
    const MAX_RESPONSE_HEAD: usize = 8 * 1024;

    let proxy_error = |reason: String| Error::Proxy {
        proxy: redact_userinfo(&proxy.to_string()),
        reason,
    };
    let mut request =
        format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n").into_bytes();
    if let Some(authorization) = authorization {
        request.extend_from_slice(b"Proxy-Authorization: ");
        request.extend_from_slice(authorization.as_bytes());
        request.extend_from_slice(b"\r\n");
    }
    request.extend_from_slice(b"\r\n");
    stream
        .write_all(&request)
        .await
        .map_err(|error| proxy_error(format!("sending CONNECT failed: {error}")))?;

    let mut head = Vec::with_capacity(256);
    let mut chunk = [0u8; 512];
    loop {
        let read = stream.read(&mut chunk).await.map_err(|error| {
            proxy_error(format!("reading the CONNECT response failed: {error}"))
        })?;
        if read == 0 {
            return Err(proxy_error(
                "closed the connection during CONNECT".to_owned(),
            ));
        }
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = head.windows(4).position(|window| window == b"\r\n\r\n") {
            if end + 4 != head.len() {
                // The server spoke before the client's TLS hello: not a
                // well-behaved tunnel, and the bytes would be lost.
                return Err(proxy_error(
                    "sent data after the CONNECT response".to_owned(),
                ));
            }
            break;
        }
        if head.len() > MAX_RESPONSE_HEAD {
            return Err(proxy_error("CONNECT response head too large".to_owned()));
        }
    }
    let status_line = head.split(|&byte| byte == b'\r').next().unwrap_or_default();
    let status_line = String::from_utf8_lossy(status_line);
    let mut parts = status_line.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(version), Some("200")) if version.starts_with("HTTP/1.") => Ok(stream),
        _ => Err(proxy_error(format!("CONNECT refused: {status_line}"))),
    }
}

/// Bounds the number of open connections per `host:port`
/// (`httpMaxConnsPerHost`). A connection holds its permit until it closes.
struct PerHostLimit {
    limit: usize,
    hosts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl PerHostLimit {
    fn new(limit: usize) -> Self {
        Self {
            limit: limit.min(Semaphore::MAX_PERMITS),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// A permit for one connection to `host:port`; `None` only if the
    /// semaphore were closed, which this type never does.
    async fn acquire(&self, host: &str, port: u16) -> Option<OwnedSemaphorePermit> {
        let semaphore = self
            .hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(format!("{host}:{port}"))
            .or_insert_with(|| Arc::new(Semaphore::new(self.limit)))
            .clone();
        semaphore.acquire_owned().await.ok()
    }
}

/// A connection handed to hyper.
pub(crate) struct Connection {
    io: TokioIo<BoxedIo>,
    proxied: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("proxied", &self.proxied)
            .finish_non_exhaustive()
    }
}

impl HyperConnection for Connection {
    fn connected(&self) -> Connected {
        Connected::new().proxy(self.proxied)
    }
}

impl hyper::rt::Read for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Connection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }
}

/// The connector's error as seen by hyper: carries our [`Error`] so the
/// transport can take it back out of hyper's error unchanged.
pub(crate) struct ConnectFailure(Mutex<Option<Error>>);

impl ConnectFailure {
    fn new(error: Error) -> Self {
        Self(Mutex::new(Some(error)))
    }

    /// Takes the original error (once).
    pub(crate) fn take(&self) -> Option<Error> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).take()
    }
}

impl fmt::Debug for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_tuple("ConnectFailure").field(&*guard).finish()
    }
}

impl fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &*self.0.lock().unwrap_or_else(PoisonError::into_inner) {
            Some(error) => fmt::Display::fmt(error, f),
            None => f.write_str("connection failed"),
        }
    }
}

impl std::error::Error for ConnectFailure {}
