//! The CSV data source, launched as Grafana launches it, against a
//! directory of test files.

use std::path::Path;

use grafana_plugin::data::CellValue;
use grafana_plugin::prelude::*;
use grafana_plugin::testkit::{PluginLauncher, RunningPlugin};
use grafana_plugin::{http, serde_json, tokio};

const ROOMS: &str = "time,temperature,room\n\
2026-11-21T10:00:00Z,21.5,kitchen\n\
2026-11-21T10:01:00Z,,hall\n\
2026-11-21T10:02:00Z,19.5,\"bedroom, upstairs\"\n";

fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rooms.csv"), ROOMS).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a CSV file").unwrap();
    dir
}

/// The context of a data source instance configured with `directory`.
///
/// Grafana gives every data source its own id, the key of its instance.
fn context(directory: &Path) -> PluginContext {
    let mut settings = DataSourceInstanceSettings::default();
    let mut hasher = std::hash::DefaultHasher::new();
    std::hash::Hash::hash(directory, &mut hasher);
    settings.id = i64::from(std::hash::Hasher::finish(&hasher) as u32);
    settings.uid = format!("csv-{}", directory.display());
    settings.json_data = serde_json::json!({ "directory": directory })
        .to_string()
        .into();
    PluginContext::new("acme-csv-datasource").with_data_source_instance_settings(settings)
}

async fn launch() -> RunningPlugin {
    PluginLauncher::new(env!("CARGO_BIN_EXE_gpx_csv-datasource"))
        .launch()
        .await
        .unwrap()
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn query_types_route_to_their_handlers() {
    let dir = data_dir();
    let plugin = launch().await;
    let file = r#"{"file": "rooms.csv"}"#;
    let queries = vec![
        DataQuery::new("table", file).with_query_type("table"),
        DataQuery::new("default", file),
        DataQuery::new("summary", file).with_query_type("summary"),
        DataQuery::new("unknown", file).with_query_type("pivot"),
        DataQuery::new("escape", r#"{"file": "../etc/passwd.csv"}"#),
        DataQuery::new("missing", r#"{"file": "absent.csv"}"#),
    ];
    let response = plugin
        .client()
        .query_data(QueryDataRequest::new(context(dir.path()), queries))
        .await
        .unwrap();

    let table = &response.responses["table"].frames[0];
    assert_eq!(table.num_rows().unwrap(), 3);
    assert_eq!(table.fields()[0].field_type(), FieldType::Time);
    assert_eq!(
        table.field("temperature").unwrap().get(1),
        Some(CellValue::Null)
    );
    assert_eq!(
        table.field("room").unwrap().get(2).unwrap().to_string(),
        "bedroom, upstairs"
    );
    // The default query type is `table`: the same frame, answered for another refId.
    assert_eq!(
        response.responses["default"].frames[0].fields(),
        table.fields()
    );

    let summary = &response.responses["summary"].frames[0];
    assert_eq!(
        summary.field("column").unwrap().get(0).unwrap().to_string(),
        "temperature"
    );
    assert_eq!(
        summary.field("mean").unwrap().get(0),
        Some(CellValue::Float64(20.5))
    );
    assert_eq!(
        summary.field("count").unwrap().get(0),
        Some(CellValue::Int(2))
    );

    let error = |ref_id: &str| {
        response.responses[ref_id]
            .error
            .as_ref()
            .unwrap()
            .to_string()
    };
    // Unregistered query types go to the fallback, as with the Go SDK's QueryTypeMux.
    assert_eq!(
        response.responses["unknown"].frames[0].fields(),
        table.fields()
    );
    assert!(
        error("escape").contains("is not the name of a CSV file"),
        "{}",
        error("escape")
    );
    assert!(
        error("missing").contains("absent.csv"),
        "{}",
        error("missing")
    );
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn resources_list_and_describe_files() {
    let dir = data_dir();
    let plugin = launch().await;
    let call = |path: &str| {
        let mut request = CallResourceRequest::new(http::Method::GET, path);
        request.plugin_context = context(dir.path());
        request
    };
    let listed = plugin.client().call_resource(call("files")).await.unwrap();
    assert_eq!(listed.status, Some(http::StatusCode::OK));
    let json: serde_json::Value = serde_json::from_slice(&listed.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"files": [{"name": "rooms.csv", "bytes": ROOMS.len()}]})
    );

    let described = plugin
        .client()
        .call_resource(call("files/rooms.csv"))
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&described.body).unwrap();
    assert_eq!(json["rows"], 3);
    assert_eq!(
        json["columns"][1],
        serde_json::json!({"name": "temperature", "type": "number"})
    );

    let bad = plugin
        .client()
        .call_resource(call("files/notes.txt"))
        .await
        .unwrap();
    assert_eq!(bad.status, Some(http::StatusCode::BAD_REQUEST));
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn health_reports_the_directory() {
    let dir = data_dir();
    let plugin = launch().await;
    let healthy = plugin
        .client()
        .check_health(CheckHealthRequest::new(context(dir.path())))
        .await
        .unwrap();
    assert_eq!(healthy.status, HealthStatus::Ok);
    assert!(
        healthy.message.starts_with("1 CSV files in"),
        "{}",
        healthy.message
    );
    assert_eq!(healthy.json_details, r#"{"files":1}"#);

    let gone = dir.path().join("gone");
    let unhealthy = plugin
        .client()
        .check_health(CheckHealthRequest::new(context(&gone)))
        .await
        .unwrap();
    assert_eq!(unhealthy.status, HealthStatus::Error);
    assert!(
        unhealthy.message.contains("cannot read"),
        "{}",
        unhealthy.message
    );
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn replay_streams_every_row_then_ends() {
    let dir = data_dir();
    let plugin = launch().await;
    let client = plugin.client();
    let mut subscribe = SubscribeStreamRequest::default();
    subscribe.plugin_context = context(dir.path());
    subscribe.path = "replay/rooms.csv".to_owned();
    assert_eq!(
        client
            .subscribe_stream(subscribe.clone())
            .await
            .unwrap()
            .status,
        StreamStatus::Ok
    );
    subscribe.path = "replay/absent.csv".to_owned();
    assert_eq!(
        client.subscribe_stream(subscribe).await.unwrap().status,
        StreamStatus::NotFound
    );

    let mut run = RunStreamRequest::default();
    run.plugin_context = context(dir.path());
    run.path = "replay/rooms.csv".to_owned();
    let mut packets = client.run_stream(run).await.unwrap();
    let mut rooms = Vec::new();
    while let Some(frame) = packets.next_frame().await.unwrap() {
        assert_eq!(frame.num_rows().unwrap(), 1);
        rooms.push(frame.field("room").unwrap().get(0).unwrap().to_string());
    }
    assert_eq!(rooms, ["kitchen", "hall", "bedroom, upstairs"]);
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn settings_without_a_directory_fail_the_health_check() {
    let plugin = launch().await;
    let mut settings = DataSourceInstanceSettings::default();
    settings.uid = "misconfigured".to_owned();
    settings.json_data = "{}".into();
    let context =
        PluginContext::new("acme-csv-datasource").with_data_source_instance_settings(settings);
    let health = plugin
        .client()
        .check_health(CheckHealthRequest::new(context))
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Error);
    assert!(health.message.contains("directory"), "{}", health.message);
    plugin.shutdown().await.unwrap();
}
