//! Timeouts, the response size limit and the proxy environment, against
//! local servers that misbehave on purpose.

mod common;

use std::{
    collections::HashMap,
    sync::Arc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use plugin_httpclient::{
    DataSourceSettings, Error, ErrorSource, HttpClient, HttpClientOptions, ProxyOptions,
    ResponseLimit, TimeoutKind, TlsOptions,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};

use common::{Pki, echo, echoed, options, spawn, spawn_tls};

/// A server that accepts connections, optionally writes `reply`, then
/// holds the connection open without another byte.
async fn spawn_stalling(reply: &'static [u8]) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buffer = [0u8; 4096];
                if !reply.is_empty() {
                    let _ = stream.read(&mut buffer).await;
                    let _ = stream.write_all(reply).await;
                }
                tokio::time::sleep(Duration::from_secs(30)).await;
                drop(stream);
            });
        }
    });
    address
}

fn timeout_kind(error: &Error) -> Option<TimeoutKind> {
    match error.unmarked() {
        Error::Timeout { kind, .. } => Some(*kind),
        _ => None,
    }
}

#[tokio::test]
async fn request_timeout_fires_waiting_for_the_response() {
    let address = spawn_stalling(b"").await;
    let mut options = options();
    options.timeouts.request = Some(Duration::from_millis(200));
    let client = HttpClient::new(options).unwrap();

    let started = Instant::now();
    let error = client.get(format!("http://{address}/")).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        timeout_kind(&error),
        Some(TimeoutKind::Request),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "request timed out after 200ms");
    assert_eq!(error.error_source(), ErrorSource::Downstream);
}

#[tokio::test]
async fn request_timeout_covers_reading_the_body() {
    let address = spawn_stalling(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nabc").await;
    let mut options = options();
    options.timeouts.request = Some(Duration::from_millis(300));
    let client = HttpClient::new(options).unwrap();

    let response = client.get(format!("http://{address}/")).await.unwrap();
    let error = response.into_body().collect_bytes().await.unwrap_err();
    assert_eq!(
        timeout_kind(&error),
        Some(TimeoutKind::Request),
        "{error:?}"
    );
    assert_eq!(error.error_source(), ErrorSource::Downstream);
}

#[tokio::test]
async fn tls_handshake_timeout_fires() {
    let address = spawn_stalling(b"").await;
    let mut options = options();
    options.timeouts.request = None;
    options.timeouts.tls_handshake = Some(Duration::from_millis(200));
    options.tls = Some(TlsOptions::default());
    let error = HttpClient::new(options)
        .unwrap()
        .get(format!("https://localhost:{}/", address.port()))
        .await
        .unwrap_err();
    assert_eq!(
        timeout_kind(&error),
        Some(TimeoutKind::TlsHandshake),
        "{error:?}"
    );
    assert_eq!(error.to_string(), "TLS handshake timed out after 200ms");
}

fn kilobyte_server() -> common::Handler {
    Arc::new(|_| Response::new(Full::new(Bytes::from(vec![b'x'; 1024]))))
}

#[tokio::test]
async fn the_response_limit_stops_an_oversized_body() {
    let address = spawn(kilobyte_server()).await;
    let url = format!("http://{address}/");
    let mut limited = options();
    limited.response_limit = Some(100);
    let client = HttpClient::new(limited).unwrap();

    let error = client
        .get(&url)
        .await
        .unwrap()
        .into_body()
        .collect_bytes()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ResponseTooLarge { limit: 100 }),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "http: response body too large, response limit is set to: 100 bytes"
    );
    assert_eq!(error.error_source(), ErrorSource::Plugin);

    // A per-request override wins over the configured limit.
    let mut request = Request::get(&url).body(()).unwrap();
    request.extensions_mut().insert(ResponseLimit(4096));
    let body = client
        .send(request)
        .await
        .unwrap()
        .into_body()
        .collect_bytes()
        .await
        .unwrap();
    assert_eq!(body.len(), 1024);

    // Exactly at the limit is fine.
    let mut at_limit = options();
    at_limit.response_limit = Some(1024);
    let body = HttpClient::new(at_limit)
        .unwrap()
        .get(&url)
        .await
        .unwrap()
        .into_body()
        .collect_bytes()
        .await;
    assert_eq!(body.unwrap().len(), 1024);
}

#[tokio::test]
async fn the_response_limit_comes_from_grafana_config() {
    let address = spawn(kilobyte_server()).await;
    let json = serde_json::json!({});
    let secure = HashMap::new();
    let config: HashMap<String, String> =
        [("GF_RESPONSE_LIMIT".to_owned(), "512".to_owned())].into();
    let plugin_config = plugin_backend::GrafanaConfig::new(config);
    let settings = DataSourceSettings {
        grafana_config: Some(&plugin_config),
        ..DataSourceSettings::new(&json, &secure)
    };
    let mut options = HttpClientOptions::from_data_source_settings(&settings).unwrap();
    options.proxy = ProxyOptions::none();
    let error = HttpClient::new(options)
        .unwrap()
        .get(format!("http://{address}/"))
        .await
        .unwrap()
        .into_body()
        .collect_bytes()
        .await
        .unwrap_err();
    assert!(
        matches!(error, Error::ResponseTooLarge { limit: 512 }),
        "{error:?}"
    );
}

#[tokio::test]
async fn http_requests_go_to_the_http_proxy_in_absolute_form() {
    // The "proxy" answers itself, echoing what it received; the data source
    // host is never resolved.
    let proxy = spawn(echo()).await;
    let mut options = options();
    options.proxy = ProxyOptions::new(Some(format!("http://bob:s3cret@{proxy}")), None);
    let client = HttpClient::new(options).unwrap();

    let body = client
        .get("http://datasource.test/api/query?x=1")
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert!(
        body.starts_with("GET http://datasource.test/api/query?x=1"),
        "{body}"
    );
    // base64("bob:s3cret")
    assert_eq!(
        echoed(&body, "proxy-authorization"),
        ["Basic Ym9iOnMzY3JldA=="]
    );
}

#[tokio::test]
async fn loopback_destinations_bypass_the_proxy() {
    let target = spawn(echo()).await;
    // Nothing listens on the proxy port: using it would fail the request.
    let unused = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let mut options = options();
    options.proxy = ProxyOptions::new(
        Some(format!("http://{unused}")),
        Some(format!("http://{unused}")),
    );
    let body = HttpClient::new(options)
        .unwrap()
        .get(format!("http://{target}/direct"))
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("GET /direct"), "{body}");
}

/// A CONNECT proxy sending every tunnel to `target` and reporting the
/// requested authority.
async fn spawn_connect_proxy(
    target: std::net::SocketAddr,
) -> (std::net::SocketAddr, mpsc::UnboundedReceiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (seen, requests) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read_exact(&mut byte).await.is_err() {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let _ = seen.send(head.lines().next().unwrap_or_default().to_owned());
                let Ok(mut upstream) = TcpStream::connect(target).await else {
                    return;
                };
                if client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (address, requests)
}

#[tokio::test]
async fn https_requests_tunnel_through_the_https_proxy() {
    let pki = Pki::generate_for(&["datasource.test"]);
    let target = spawn_tls(echo(), pki.server_config(false)).await;
    let (proxy, mut seen) = spawn_connect_proxy(target).await;

    let mut options = options();
    options.proxy = ProxyOptions::new(None, Some(format!("http://{proxy}")));
    let mut tls = TlsOptions::default();
    tls.ca_certificate = Some(pki.ca_pem.clone());
    options.tls = Some(tls);
    let body = HttpClient::new(options)
        .unwrap()
        .get(format!(
            "https://datasource.test:{}/tunnelled",
            target.port()
        ))
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("GET /tunnelled"), "{body}");
    assert_eq!(
        seen.recv().await.unwrap(),
        format!("CONNECT datasource.test:{} HTTP/1.1", target.port())
    );
}

#[tokio::test]
async fn a_refusing_proxy_is_a_clear_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let Ok((mut stream, _)) = listener.accept().await else {
            return;
        };
        let mut buffer = [0u8; 1024];
        let _ = stream.read(&mut buffer).await;
        let _ = stream.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await;
    });
    let mut options = options();
    options.proxy = ProxyOptions::new(None, Some(format!("http://{proxy}")));
    let error = HttpClient::new(options)
        .unwrap()
        .get("https://datasource.test/")
        .await
        .unwrap_err();
    assert!(matches!(error.unmarked(), Error::Proxy { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains("CONNECT refused: HTTP/1.1 403 Forbidden"),
        "{error}"
    );
}

#[cfg(not(feature = "secure-socks-proxy"))]
#[tokio::test]
async fn secure_socks_proxy_settings_need_the_feature() {
    let json = serde_json::json!({"enableSecureSocksProxy": true});
    let secure = HashMap::new();
    let config: HashMap<String, String> = [
        (
            plugin_backend::config::keys::SECURE_SOCKS_PROXY_ENABLED.to_owned(),
            "true".to_owned(),
        ),
        (
            plugin_backend::config::keys::SECURE_SOCKS_PROXY_ALLOW_INSECURE.to_owned(),
            "true".to_owned(),
        ),
        (
            plugin_backend::config::keys::SECURE_SOCKS_PROXY_ADDRESS.to_owned(),
            "127.0.0.1:1".to_owned(),
        ),
    ]
    .into();
    let plugin_config = plugin_backend::GrafanaConfig::new(config);
    let settings = DataSourceSettings {
        grafana_config: Some(&plugin_config),
        ..DataSourceSettings::new(&json, &secure)
    };
    let options = HttpClientOptions::from_data_source_settings(&settings).unwrap();
    let error = HttpClient::new(options).unwrap_err();
    assert!(error.to_string().contains("secure-socks-proxy"), "{error}");
}

#[tokio::test]
async fn max_conns_per_host_bounds_open_connections() {
    // Counts accepted connections; each answers one slow request.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let service = hyper::service::service_fn(|_| async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok::<_, std::convert::Infallible>(Response::new(Full::new(Bytes::from_static(
                        b"ok",
                    ))))
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let mut options = options();
    options.timeouts.max_conns_per_host = 1;
    let client = HttpClient::new(options).unwrap();
    let url = format!("http://{address}/");
    let requests = (0..4).map(|_| {
        let client = client.clone();
        let url = url.clone();
        async move { client.get(url).await?.into_body().collect_bytes().await }
    });
    for body in futures_util::future::join_all(requests).await {
        assert_eq!(body.unwrap(), "ok");
    }
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1);
}
