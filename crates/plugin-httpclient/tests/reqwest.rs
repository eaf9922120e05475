//! The reqwest client built from the same options.
#![cfg(feature = "reqwest")]

mod common;

use plugin_httpclient::{BasicAuth, PluginInfo, TlsOptions};

use common::{Pki, echo, echoed, options, spawn_tls};

#[tokio::test]
async fn reqwest_client_uses_tls_auth_headers_and_user_agent() {
    let pki = Pki::generate();
    let address = spawn_tls(echo(), pki.server_config(true)).await;
    let mut options = options();
    let mut tls = TlsOptions::default();
    tls.ca_certificate = Some(pki.ca_pem.clone());
    tls.client_certificate = Some(pki.client_cert_pem.clone());
    tls.client_key = Some(pki.client_key_pem.clone().into());
    options.tls = Some(tls);
    options.basic_auth = Some(BasicAuth::new("grafana", "pa55"));
    options.plugin = Some(PluginInfo::new("grafana-test-datasource", "1.2.3"));
    options
        .headers
        .insert("x-api-key", http::HeaderValue::from_static("k3y"));

    let client = options.build_reqwest_client().unwrap();
    let body = client
        .get(format!("https://localhost:{}/reqwest", address.port()))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.starts_with("GET /reqwest"), "{body}");
    assert_eq!(echoed(&body, "authorization"), ["Basic Z3JhZmFuYTpwYTU1"]);
    assert_eq!(echoed(&body, "x-api-key"), ["k3y"]);
    assert_eq!(
        echoed(&body, "user-agent"),
        ["Grafana grafana-test-datasource/1.2.3"]
    );
}

#[tokio::test]
async fn reqwest_client_rejects_the_secure_socks_proxy() {
    let json = serde_json::json!({"enableSecureSocksProxy": true});
    let secure = std::collections::HashMap::new();
    let config: std::collections::HashMap<String, String> = [
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
    let settings = plugin_httpclient::DataSourceSettings {
        grafana_config: Some(&plugin_config),
        ..plugin_httpclient::DataSourceSettings::new(&json, &secure)
    };
    let options =
        plugin_httpclient::HttpClientOptions::from_data_source_settings(&settings).unwrap();
    let error = options.build_reqwest_client().unwrap_err();
    assert!(
        error.to_string().contains("enableSecureSocksProxy"),
        "{error}"
    );
}
