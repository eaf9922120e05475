//! Private data source connect: requests dial through a SOCKS5 server run
//! in the test, over plain TCP and over mutual TLS 1.3.
#![cfg(feature = "secure-socks-proxy")]

mod common;

use std::{collections::HashMap, net::SocketAddr};

use plugin_backend::{GrafanaConfig, config::keys};
use plugin_httpclient::{
    DataSourceLabels, DataSourceSettings, Error, ErrorSource, HttpClient, HttpClientOptions,
    ProxyOptions, SecureSocksDialer, SecureSocksProxyOptions, SecureSocksProxyTransport,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::mpsc,
};
use tokio_rustls::TlsAcceptor;

use common::{Pki, echo, spawn};

/// What the SOCKS server saw: credentials and the requested destination.
#[derive(Debug, PartialEq)]
struct SocksRequest {
    username: String,
    password: String,
    destination: String,
}

/// Serves SOCKS5 with username/password authentication on one stream,
/// connecting every accepted destination to `target`. Accepts only the
/// password `expected_password`.
async fn serve_socks<S>(
    mut client: S,
    target: SocketAddr,
    expected_password: &str,
    seen: mpsc::UnboundedSender<SocksRequest>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut header = [0u8; 2];
    client.read_exact(&mut header).await.unwrap();
    let mut methods = vec![0u8; usize::from(header[1])];
    client.read_exact(&mut methods).await.unwrap();
    assert!(methods.contains(&2), "username/password offered");
    client.write_all(&[5, 2]).await.unwrap();

    let version = client.read_u8().await.unwrap();
    assert_eq!(version, 1);
    let mut username = vec![0u8; usize::from(client.read_u8().await.unwrap())];
    client.read_exact(&mut username).await.unwrap();
    let mut password = vec![0u8; usize::from(client.read_u8().await.unwrap())];
    client.read_exact(&mut password).await.unwrap();
    let password = String::from_utf8(password).unwrap();
    let accepted = password == expected_password;
    client
        .write_all(&[1, if accepted { 0 } else { 1 }])
        .await
        .unwrap();
    if !accepted {
        return;
    }

    let mut request = [0u8; 4];
    client.read_exact(&mut request).await.unwrap();
    assert_eq!(&request[..3], &[5, 1, 0], "CONNECT");
    assert_eq!(request[3], 3, "the destination is sent as a domain name");
    let mut host = vec![0u8; usize::from(client.read_u8().await.unwrap())];
    client.read_exact(&mut host).await.unwrap();
    let port = client.read_u16().await.unwrap();
    seen.send(SocksRequest {
        username: String::from_utf8(username).unwrap(),
        password,
        destination: format!("{}:{port}", String::from_utf8(host).unwrap()),
    })
    .unwrap();

    let mut upstream = TcpStream::connect(target).await.unwrap();
    client
        .write_all(&[5, 0, 0, 1, 127, 0, 0, 1, 0, 0])
        .await
        .unwrap();
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

async fn spawn_socks(
    target: SocketAddr,
    tls: Option<TlsAcceptor>,
) -> (SocketAddr, mpsc::UnboundedReceiver<SocksRequest>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (seen, requests) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let seen = seen.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(stream).await {
                            serve_socks(stream, target, "pdc-secret", seen).await;
                        }
                    }
                    None => serve_socks(stream, target, "pdc-secret", seen).await,
                }
            });
        }
    });
    (address, requests)
}

fn client_for(config: &GrafanaConfig, password: &str) -> HttpClient {
    let json = serde_json::json!({"enableSecureSocksProxy": true, "timeout": 5});
    let secure: HashMap<String, String> =
        [("secureSocksProxyPassword".to_owned(), password.to_owned())].into();
    let settings = DataSourceSettings {
        uid: "ds-uid",
        name: "PDC DS",
        plugin_id: "pdc-test-ds",
        grafana_config: Some(config),
        ..DataSourceSettings::new(&json, &secure)
    };
    let mut options = HttpClientOptions::from_data_source_settings(&settings).unwrap();
    options.proxy = ProxyOptions::none();
    HttpClient::new(options).unwrap()
}

fn config(entries: &[(&str, String)]) -> GrafanaConfig {
    entries
        .iter()
        .map(|(key, value)| (key.to_string(), value.clone()))
        .collect()
}

#[tokio::test]
async fn requests_dial_through_the_insecure_socks_proxy() {
    let target = spawn(echo()).await;
    let (proxy, mut seen) = spawn_socks(target, None).await;
    let config = config(&[
        (keys::SECURE_SOCKS_PROXY_ENABLED, "true".into()),
        (keys::SECURE_SOCKS_PROXY_ALLOW_INSECURE, "true".into()),
        (keys::SECURE_SOCKS_PROXY_ADDRESS, proxy.to_string()),
    ]);
    let body = client_for(&config, "pdc-secret")
        .get("http://datasource.test:9090/api")
        .await
        .unwrap()
        .into_body()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("GET /api"), "{body}");
    assert_eq!(
        seen.recv().await.unwrap(),
        SocksRequest {
            username: "ds-uid".into(),
            password: "pdc-secret".into(),
            destination: "datasource.test:9090".into(),
        }
    );
}

#[tokio::test]
async fn requests_dial_through_the_socks_proxy_over_mutual_tls() {
    let target = spawn(echo()).await;
    let pki = Pki::generate();
    let (proxy, mut seen) =
        spawn_socks(target, Some(TlsAcceptor::from(pki.server_config(true)))).await;
    let config = config(&[
        (keys::SECURE_SOCKS_PROXY_ENABLED, "true".into()),
        (keys::SECURE_SOCKS_PROXY_ADDRESS, proxy.to_string()),
        (keys::SECURE_SOCKS_PROXY_SERVER_NAME, "localhost".into()),
        (keys::SECURE_SOCKS_PROXY_ROOT_CA_VALS, pki.ca_pem.clone()),
        (
            keys::SECURE_SOCKS_PROXY_CLIENT_CERT_VAL,
            pki.client_cert_pem.clone(),
        ),
        (
            keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL,
            pki.client_key_pem.clone(),
        ),
    ]);
    let response = client_for(&config, "pdc-secret")
        .get("http://datasource.test:80/")
        .await
        .unwrap();
    assert!(response.status().is_success());
    assert_eq!(seen.recv().await.unwrap().destination, "datasource.test:80");
}

#[tokio::test]
async fn socks_failures_are_downstream_errors() {
    let target = spawn(echo()).await;
    let (proxy, _seen) = spawn_socks(target, None).await;
    let config = config(&[
        (keys::SECURE_SOCKS_PROXY_ENABLED, "true".into()),
        (keys::SECURE_SOCKS_PROXY_ALLOW_INSECURE, "true".into()),
        (keys::SECURE_SOCKS_PROXY_ADDRESS, proxy.to_string()),
    ]);
    let error = client_for(&config, "wrong")
        .get("http://datasource.test/")
        .await
        .unwrap_err();
    assert!(matches!(error.unmarked(), Error::Proxy { .. }), "{error:?}");
    assert!(
        error.to_string().contains("SOCKS5 authentication failed"),
        "{error}"
    );
    assert_eq!(error.error_source(), ErrorSource::Downstream);
}

#[tokio::test]
async fn the_dialer_serves_non_http_clients_over_mutual_tls() {
    // A raw TCP "protocol": the client writes, the target echoes one line.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let target = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut buffer = [0u8; 5];
        stream.read_exact(&mut buffer).await.unwrap();
        stream.write_all(&buffer).await.unwrap();
    });
    let pki = Pki::generate();
    let (proxy, mut seen) =
        spawn_socks(target, Some(TlsAcceptor::from(pki.server_config(true)))).await;
    let options = SecureSocksProxyOptions::new(
        proxy.to_string(),
        "sql-ds",
        "pdc-secret",
        SecureSocksProxyTransport::Tls {
            client_certificate: pki.client_cert_pem.clone(),
            client_key: pki.client_key_pem.clone().into(),
            root_cas: vec![pki.ca_pem.clone()],
            server_name: "localhost".into(),
        },
    );
    let config = options.transport.tls_client_config().unwrap().unwrap();
    assert_eq!(config.alpn_protocols, Vec::<Vec<u8>>::new());
    let dialer = SecureSocksDialer::new(&options, &DataSourceLabels::default()).unwrap();
    let debug = format!("{dialer:?}");
    assert!(!debug.contains("pdc-secret"), "{debug}");

    let mut stream = dialer.connect("postgres.internal", 5432).await.unwrap();
    stream.write_all(b"hello").await.unwrap();
    let mut answer = [0u8; 5];
    stream.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"hello");
    assert_eq!(
        seen.recv().await.unwrap(),
        SocksRequest {
            username: "sql-ds".into(),
            password: "pdc-secret".into(),
            destination: "postgres.internal:5432".into(),
        }
    );
    assert!(
        SecureSocksProxyTransport::Insecure
            .tls_client_config()
            .unwrap()
            .is_none()
    );
}
