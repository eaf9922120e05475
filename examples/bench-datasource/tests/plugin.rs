//! The bench data source's contract, checked on the real binary launched
//! the way Grafana launches it.

use std::time::Duration;

use grafana_plugin::chrono::{self, TimeZone, Utc};
use grafana_plugin::data::CellValue;
use grafana_plugin::prelude::*;
use grafana_plugin::testkit::{PluginLauncher, RunningPlugin, golden};
use grafana_plugin::{http, serde_json, tokio};

async fn launch() -> RunningPlugin {
    PluginLauncher::new(env!("CARGO_BIN_EXE_gpx_bench-datasource"))
        .launch()
        .await
        .unwrap()
}

/// The context Grafana sends for a configured instance of the data source.
fn context() -> PluginContext {
    let mut settings = DataSourceInstanceSettings::default();
    settings.uid = "bench-1".to_owned();
    settings.name = "Bench".to_owned();
    PluginContext::new("acme-bench-datasource").with_data_source_instance_settings(settings)
}

fn query(ref_id: &str, rows: usize) -> DataQuery {
    let start = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
    DataQuery::new(ref_id, format!(r#"{{"rows": {rows}}}"#))
        .with_time_range(TimeRange::new(start, start + chrono::TimeDelta::hours(1)))
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn queries_answer_the_bench_frame() {
    let plugin = launch().await;
    let request =
        QueryDataRequest::new(context(), vec![query("A", 7), query("B", 0), query("C", 1)]);
    let response = plugin.client().query_data(request).await.unwrap();

    let a = &response.responses["A"];
    assert!(a.error.is_none(), "{:?}", a.error);
    golden::check("tests/golden/seven-rows.golden.jsonc", a).unwrap();
    golden::check("tests/golden/seven-rows.golden.txt", a).unwrap();

    let frame = &a.frames[0];
    assert_eq!(frame.ref_id(), "A");
    let label = frame.field("label").unwrap();
    assert!(label.is_nullable());
    let nulls: Vec<usize> = (0..7)
        .filter(|&i| label.get(i) == Some(CellValue::Null))
        .collect();
    assert_eq!(nulls, [0, 3, 6]);
    assert_eq!(
        frame.field("value").unwrap().get(5),
        Some(CellValue::Float64(2.5))
    );

    assert_eq!(response.responses["B"].frames[0].num_rows().unwrap(), 0);
    assert_eq!(response.responses["C"].frames[0].num_rows().unwrap(), 1);
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn bad_queries_fail_alone() {
    let plugin = launch().await;
    let request = QueryDataRequest::new(
        context(),
        vec![
            query("ok", 2),
            DataQuery::new("bad", r#"{"rows": "many"}"#),
            query("huge", 30_000_000),
        ],
    );
    let response = plugin.client().query_data(request).await.unwrap();
    assert!(response.responses["ok"].error.is_none());
    let bad = response.responses["bad"]
        .error
        .as_ref()
        .unwrap()
        .to_string();
    assert!(bad.contains("invalid"), "{bad}");
    let huge = response.responses["huge"]
        .error
        .as_ref()
        .unwrap()
        .to_string();
    assert!(huge.contains("at most"), "{huge}");
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn echo_resource_and_health() {
    let plugin = launch().await;
    let client = plugin.client();

    let mut post = CallResourceRequest::new(http::Method::POST, "echo");
    post.plugin_context = context();
    post.body = "ping".into();
    let echoed = client.call_resource(post).await.unwrap();
    assert_eq!(echoed.status, Some(http::StatusCode::OK));
    assert_eq!(echoed.body, "ping");

    let mut get = CallResourceRequest::new(http::Method::GET, "echo");
    get.plugin_context = context();
    get.url = "echo?x=1".to_owned();
    let described = client.call_resource(get).await.unwrap();
    let json: serde_json::Value = serde_json::from_slice(&described.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"method": "GET", "url": "echo?x=1"})
    );

    let mut missing = CallResourceRequest::new(http::Method::GET, "nope");
    missing.plugin_context = context();
    assert_eq!(
        client.call_resource(missing).await.unwrap().status,
        Some(http::StatusCode::NOT_FOUND)
    );

    let health = client
        .check_health(CheckHealthRequest::new(context()))
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn ticks_stream_a_row_every_20_ms() {
    let plugin = launch().await;
    let client = plugin.client();
    let subscribe = |path: &str| {
        let mut request = SubscribeStreamRequest::default();
        request.plugin_context = context();
        request.path = path.to_owned();
        request
    };
    assert_eq!(
        client
            .subscribe_stream(subscribe("ticks"))
            .await
            .unwrap()
            .status,
        StreamStatus::Ok
    );
    assert_eq!(
        client
            .subscribe_stream(subscribe("other"))
            .await
            .unwrap()
            .status,
        StreamStatus::NotFound
    );

    let mut run = RunStreamRequest::default();
    run.plugin_context = context();
    run.path = "ticks".to_owned();
    let mut packets = client.run_stream(run).await.unwrap();
    let started = std::time::Instant::now();
    for tick in 0..3 {
        let frame = packets.next_frame().await.unwrap().unwrap();
        assert_eq!(frame.num_rows().unwrap(), 1);
        assert_eq!(
            frame.field("value").unwrap().get(0),
            Some(CellValue::Float64(f64::from(tick)))
        );
    }
    // Three ticks of a 20 ms interval (the first is immediate) take 40 ms at least.
    assert!(
        started.elapsed() >= Duration::from_millis(35),
        "{:?}",
        started.elapsed()
    );
    drop(packets);

    // Cancelling the stream leaves the plugin healthy.
    let health = client
        .check_health(CheckHealthRequest::new(context()))
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert!(
        plugin.stdout().lines().is_empty(),
        "nothing but the handshake on stdout"
    );
    let status = plugin.shutdown().await.unwrap();
    assert!(status.success(), "{status}");
}
