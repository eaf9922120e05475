//! The SQL data source, launched as Grafana launches it, against SQLite files.

use std::path::Path;
use std::time::Duration;

use grafana_plugin::data::CellValue;
use grafana_plugin::prelude::*;
use grafana_plugin::sql::sqlx;
use grafana_plugin::testkit::{PluginLauncher, RunningPlugin};
use grafana_plugin::{serde_json, tokio};

/// 2026-11-21T10:00:00Z in seconds.
const T0: i64 = 1_795_255_200;
const NS: i64 = 1_000_000_000;

async fn database(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("metrics.sqlite");
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
    sqlx::raw_sql(
        "CREATE TABLE metrics (time DATETIME, host TEXT, value REAL);
         INSERT INTO metrics VALUES
           ('2026-11-21 10:00:00', 'a', 1), ('2026-11-21 10:00:00', 'b', 10),
           ('2026-11-21 10:02:00', 'a', 3), ('2026-11-21 10:02:00', 'b', 30),
           ('2026-11-21 10:04:00', 'a', NULL);",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    path
}

/// The context of a data source instance with `json_data`; `id` keys its instance.
fn context(id: i64, json_data: serde_json::Value) -> PluginContext {
    let mut settings = DataSourceInstanceSettings::default();
    settings.id = id;
    settings.uid = format!("sql-{id}");
    settings.json_data = json_data.to_string().into();
    PluginContext::new("acme-sql-datasource").with_data_source_instance_settings(settings)
}

fn query(ref_id: &str, json: serde_json::Value) -> DataQuery {
    let mut query = DataQuery::new(ref_id, json.to_string());
    query.time_range = TimeRange::from_epoch_millis(T0 * 1000, (T0 + 300) * 1000).unwrap();
    query.interval = Duration::from_secs(60);
    query
}

async fn launch() -> RunningPlugin {
    PluginLauncher::new(env!("CARGO_BIN_EXE_gpx_sql-datasource"))
        .launch()
        .await
        .unwrap()
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn queries_run_with_macros_formats_and_fill() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path()).await;
    let plugin = launch().await;
    let queries = vec![
        query(
            "table",
            serde_json::json!({"rawSql": "SELECT * FROM metrics WHERE $__timeFilter(time)", "format": "table"}),
        ),
        query(
            "series",
            serde_json::json!({"rawSql": "SELECT time, host, value FROM metrics ORDER BY time"}),
        ),
        query(
            "grid",
            serde_json::json!({"rawSql": "SELECT $__timeGroupAlias(time, 1m, 0), sum(value) AS value FROM metrics
                                          WHERE host = 'a' GROUP BY 1 ORDER BY 1"}),
        ),
        query(
            "broken",
            serde_json::json!({"rawSql": "SELECT * FROM nowhere"}),
        ),
    ];
    let response = plugin
        .client()
        .query_data(QueryDataRequest::new(
            context(1, serde_json::json!({"path": path})),
            queries,
        ))
        .await
        .unwrap();

    let table = &response.responses["table"].frames[0];
    assert_eq!(table.name(), "table");
    assert_eq!(table.num_rows().unwrap(), 5);
    assert_eq!(table.field("time").unwrap().field_type(), FieldType::Time);
    assert_eq!(table.field("value").unwrap().get(4), Some(CellValue::Null));

    let series = &response.responses["series"].frames[0];
    let labels: Vec<_> = series.fields()[1..]
        .iter()
        .map(|f| {
            f.labels()
                .and_then(|l| l.get("host"))
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(labels, ["a", "b"]);
    assert_eq!(series.fields()[2].get(1), Some(CellValue::Float64(30.0)));

    // One point a minute from 10:00 to 10:05; empty minutes get the fill value 0.
    let grid = &response.responses["grid"];
    assert!(grid.error.is_none(), "{:?}", grid.error);
    let grid = &grid.frames[0];
    let times: Vec<_> = grid.fields()[0].iter().collect();
    assert_eq!(
        times,
        (0..6)
            .map(|m| CellValue::Time((T0 + 60 * m) * NS))
            .collect::<Vec<_>>()
    );
    let values: Vec<String> = grid.fields()[1].iter().map(|c| c.to_string()).collect();
    assert_eq!(values, ["1", "0", "3", "0", "null", "0"]);

    let broken = &response.responses["broken"];
    assert!(
        broken
            .error
            .as_ref()
            .unwrap()
            .to_string()
            .contains("no such table: nowhere")
    );
    assert_eq!(broken.error_source, Some(ErrorSource::Downstream));
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn health_checks_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path()).await;
    let plugin = launch().await;
    let healthy = plugin
        .client()
        .check_health(CheckHealthRequest::new(context(
            1,
            serde_json::json!({"path": path}),
        )))
        .await
        .unwrap();
    assert_eq!(
        (healthy.status, healthy.message.as_str()),
        (HealthStatus::Ok, "Data source is working")
    );

    let missing = dir.path().join("no/such/dir/db.sqlite");
    let unhealthy = plugin
        .client()
        .check_health(CheckHealthRequest::new(context(
            2,
            serde_json::json!({"path": missing}),
        )))
        .await
        .unwrap();
    assert_eq!(unhealthy.status, HealthStatus::Error);
    assert!(
        unhealthy.message.contains("unable to open database file"),
        "{}",
        unhealthy.message
    );
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn row_limit_and_the_demo_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = database(dir.path()).await;
    // The demo database lives in the temporary directory; give the plugin its own.
    let plugin = PluginLauncher::new(env!("CARGO_BIN_EXE_gpx_sql-datasource"))
        .env("TMPDIR", dir.path())
        .launch()
        .await
        .unwrap();
    let limited = plugin
        .client()
        .query_data(QueryDataRequest::new(
            context(1, serde_json::json!({"path": path, "rowLimit": 2})),
            vec![query(
                "A",
                serde_json::json!({"rawSql": "SELECT * FROM metrics", "format": "table"}),
            )],
        ))
        .await
        .unwrap();
    let frame = &limited.responses["A"].frames[0];
    assert_eq!(frame.num_rows().unwrap(), 2);
    assert_eq!(
        frame.meta().unwrap().notices[0].text,
        "Results have been limited to 2 because the SQL row limit was reached"
    );

    let demo = plugin
        .client()
        .query_data(QueryDataRequest::new(
            context(3, serde_json::json!({})),
            vec![query("A", serde_json::json!({"rawSql": "SELECT count(*) AS n, count(DISTINCT host) AS hosts FROM metrics", "format": "table"}))],
        ))
        .await
        .unwrap();
    assert!(
        demo.responses["A"].error.is_none(),
        "{:?}",
        demo.responses["A"].error
    );
    let frame = &demo.responses["A"].frames[0];
    let cells: Vec<String> = frame
        .fields()
        .iter()
        .map(|f| f.get(0).unwrap().to_string())
        .collect();
    assert_eq!(cells, ["2880", "2"]);
    assert!(dir.path().join("acme-sql-datasource-demo.sqlite").is_file());
    plugin.shutdown().await.unwrap();
}
