//! TLS against a local HTTPS server whose CA is generated in the test.

mod common;

use plugin_httpclient::{
    Error, ErrorSource, HttpClient, HttpClientOptions, Secret, TlsOptions, TlsVersion,
};

use common::{Pki, echo, options, spawn_tls};

fn tls_options(tls: TlsOptions) -> HttpClientOptions {
    let mut options = options();
    options.tls = Some(tls);
    options
}

fn with_ca(pki: &Pki) -> TlsOptions {
    let mut tls = TlsOptions::default();
    tls.ca_certificate = Some(pki.ca_pem.clone());
    tls
}

#[tokio::test]
async fn the_configured_ca_is_trusted() {
    let pki = Pki::generate();
    let address = spawn_tls(echo(), pki.server_config(false)).await;
    let client = HttpClient::new(tls_options(with_ca(&pki))).unwrap();
    for host in ["localhost", "127.0.0.1"] {
        let url = format!("https://{host}:{}/secure", address.port());
        let body = client
            .get(url)
            .await
            .unwrap()
            .into_body()
            .text()
            .await
            .unwrap();
        assert!(body.starts_with("GET /secure"), "{body}");
    }
}

#[tokio::test]
async fn an_unknown_ca_fails_with_a_clear_downstream_error() {
    let pki = Pki::generate();
    let address = spawn_tls(echo(), pki.server_config(false)).await;
    let client = HttpClient::new(options()).unwrap();
    let error = client
        .get(format!("https://localhost:{}/", address.port()))
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(matches!(error.unmarked(), Error::Tls { .. }), "{error:?}");
    assert!(
        text.contains("TLS handshake with `localhost` failed"),
        "{text}"
    );
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert_eq!(error.error_source(), ErrorSource::Downstream);
}

#[tokio::test]
async fn server_name_overrides_the_host_for_verification() {
    let pki = Pki::generate_for(&["db.internal"]);
    let address = spawn_tls(echo(), pki.server_config(false)).await;
    let url = format!("https://127.0.0.1:{}/", address.port());

    let error = HttpClient::new(tls_options(with_ca(&pki)))
        .unwrap()
        .get(&url)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("not valid for name"), "{error}");

    let mut tls = with_ca(&pki);
    tls.server_name = Some("db.internal".to_owned());
    let response = HttpClient::new(tls_options(tls))
        .unwrap()
        .get(&url)
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test]
async fn skip_verify_accepts_an_untrusted_certificate() {
    let pki = Pki::generate();
    let address = spawn_tls(echo(), pki.server_config(false)).await;
    let mut tls = TlsOptions::default();
    tls.insecure_skip_verify = true;
    let client = HttpClient::new(tls_options(tls)).unwrap();
    let response = client
        .get(format!("https://localhost:{}/", address.port()))
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test]
async fn mutual_tls_presents_the_client_certificate() {
    let pki = Pki::generate();
    let address = spawn_tls(echo(), pki.server_config(true)).await;
    let url = format!("https://localhost:{}/", address.port());

    let mut tls = with_ca(&pki);
    tls.client_certificate = Some(pki.client_cert_pem.clone());
    tls.client_key = Some(Secret::new(pki.client_key_pem.clone()));
    let response = HttpClient::new(tls_options(tls))
        .unwrap()
        .get(&url)
        .await
        .unwrap();
    assert!(response.status().is_success());

    // Without the certificate the server rejects the connection.
    let rejected = HttpClient::new(tls_options(with_ca(&pki)))
        .unwrap()
        .get(&url)
        .await;
    assert!(
        rejected.is_err(),
        "the server requires a client certificate"
    );
}

#[tokio::test]
async fn mutual_tls_from_data_source_settings() {
    let pki = Pki::generate();
    let address = spawn_tls(echo(), pki.server_config(true)).await;
    let json = serde_json::json!({"tlsAuth": true, "tlsAuthWithCACert": true});
    let secure: std::collections::HashMap<String, String> = [
        ("tlsCACert".to_owned(), pki.ca_pem.clone()),
        ("tlsClientCert".to_owned(), pki.client_cert_pem.clone()),
        ("tlsClientKey".to_owned(), pki.client_key_pem.clone()),
    ]
    .into();
    let mut options = HttpClientOptions::from_data_source_settings(
        &plugin_httpclient::DataSourceSettings::new(&json, &secure),
    )
    .unwrap();
    assert!(
        !format!("{options:?}").contains("PRIVATE KEY"),
        "the key is redacted"
    );
    options.proxy = plugin_httpclient::ProxyOptions::none();
    let response = HttpClient::new(options)
        .unwrap()
        .get(format!("https://localhost:{}/", address.port()))
        .await
        .unwrap();
    assert!(response.status().is_success());
}

#[tokio::test]
async fn a_mismatched_client_key_is_a_setting_error() {
    let pki = Pki::generate();
    let other = Pki::generate();
    let mut tls = with_ca(&pki);
    tls.client_certificate = Some(pki.client_cert_pem.clone());
    tls.client_key = Some(Secret::new(other.client_key_pem.clone()));
    match HttpClient::new(tls_options(tls)) {
        Err(Error::InvalidSetting { key, .. }) => assert_eq!(key, "tlsClientKey"),
        other => panic!("expected an invalid tlsClientKey, got {other:?}"),
    }
}

#[tokio::test]
async fn tls13_only_still_connects() {
    let pki = Pki::generate();
    let address = spawn_tls(echo(), pki.server_config(false)).await;
    let mut tls = with_ca(&pki);
    tls.min_version = Some(TlsVersion::Tls13);
    let response = HttpClient::new(tls_options(tls))
        .unwrap()
        .get(format!("https://localhost:{}/", address.port()))
        .await
        .unwrap();
    assert!(response.status().is_success());
}
