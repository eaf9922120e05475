//! Decrypted secrets never appear in `Debug` output or in logs, even at
//! TRACE, for a request that goes through every middleware.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use plugin_backend::middleware::{CatchPanicLayer, HandlerBuilder};
use plugin_backend::{
    CheckHealthHandler, CheckHealthRequest, CheckHealthResult, DataQuery, DataResponse,
    DataSourceInstanceSettings, Error, GrafanaConfig, Handler, Plugin, PluginContext,
    QueryDataHandler, QueryDataRequest, QueryDataResponse,
};
use plugin_proto::pluginv2;
use support::block_on;

const SECRET: &str = "s3cr3t-hunter2-value";
const CLIENT_SECRET: &str = "client-secret-swordfish";

/// A `tracing` writer appending to a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn context_with_secrets() -> PluginContext {
    let mut settings = DataSourceInstanceSettings::default();
    settings.uid = "secret-ds".into();
    settings.name = "Secret DS".into();
    settings.json_data = br#"{"url":"https://db.example"}"#.to_vec().into();
    settings
        .decrypted_secure_json_data
        .insert("password", SECRET);
    PluginContext::new("secret-datasource")
        .with_data_source_instance_settings(settings)
        .with_grafana_config(GrafanaConfig::from_iter([(
            "GF_PLUGIN_APP_CLIENT_SECRET",
            CLIENT_SECRET,
        )]))
}

/// Uses its secrets, logs at every level, fails one query and panics on another.
struct SecretiveDataSource;

impl QueryDataHandler for SecretiveDataSource {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        let settings = request
            .plugin_context
            .data_source_instance_settings
            .as_deref()
            .unwrap();
        let password = settings.decrypted_secure_json_data.get("password").unwrap();
        assert_eq!(password, SECRET, "the handler sees the real secret");
        tracing::trace!(settings = ?settings, context = ?request.plugin_context, "handler has its settings");
        if request.queries.iter().any(|query| query.ref_id == "panic") {
            panic!("query failed while connecting");
        }
        Ok(QueryDataResponse::new().with_response(
            "A",
            DataResponse::from_error(Error::downstream("auth failed")),
        ))
    }
}

impl CheckHealthHandler for SecretiveDataSource {
    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        tracing::debug!(request = ?request, "checking health");
        Ok(CheckHealthResult::ok("fine"))
    }
}

#[test]
fn secrets_never_reach_debug_output() {
    let context = context_with_secrets();
    let request = QueryDataRequest::new(context.clone(), vec![DataQuery::new("A", "{}")]);
    for printed in [
        format!("{context:?}"),
        format!("{request:?}"),
        format!("{context:#?}"),
    ] {
        assert!(!printed.contains(SECRET), "{printed}");
        assert!(!printed.contains(CLIENT_SECRET), "{printed}");
        assert!(
            printed.contains("password"),
            "the key is still shown: {printed}"
        );
    }
    let wire = pluginv2::QueryDataRequest::from(request);
    assert!(!format!("{wire:?}").contains(SECRET));
}

#[test]
fn secrets_never_reach_logs_through_the_middleware() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();

    tracing::subscriber::with_default(subscriber, || {
        let handler = HandlerBuilder::with_default_layers()
            .layer(CatchPanicLayer::new().per_query_errors(true))
            .handler(
                Plugin::new()
                    .with_query_data(SecretiveDataSource)
                    .with_check_health(SecretiveDataSource),
            );
        block_on(async {
            let context = context_with_secrets();
            let ok = QueryDataRequest::new(context.clone(), vec![DataQuery::new("A", "{}")]);
            handler.query_data(ok).await.unwrap();
            let panics =
                QueryDataRequest::new(context.clone(), vec![DataQuery::new("panic", "{}")]);
            handler.query_data(panics).await.unwrap();
            handler
                .check_health(CheckHealthRequest::new(context))
                .await
                .unwrap();
        });
    });

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    // The capture works and the middleware logged the requests ...
    assert!(logs.contains("Plugin Request Completed"), "{logs}");
    assert!(
        logs.contains("secret-ds"),
        "the span names the data source: {logs}"
    );
    assert!(logs.contains("Partial data response error"), "{logs}");
    assert!(
        logs.contains("panic triggered: query failed while connecting"),
        "{logs}"
    );
    assert!(logs.contains("handler has its settings"), "{logs}");
    // ... without a single secret.
    assert!(!logs.contains(SECRET), "{logs}");
    assert!(!logs.contains(CLIENT_SECRET), "{logs}");
}
