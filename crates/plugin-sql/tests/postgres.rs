//! plugin-sql against a real PostgreSQL server, started by the test from the machine's
//! Debian package (see `support/postgres.rs`); skipped, with one line, where there is none.

#![cfg(feature = "postgres")]

#[path = "support/postgres.rs"]
mod server;

use std::time::Duration;

use plugin_backend::{
    CheckHealthHandler, CheckHealthRequest, DataQuery, DataResponse, ErrorSource, GrafanaConfig,
    HealthStatus, PluginContext, TimeRange,
};
use plugin_data::{CellValue, Field, FieldType};
use plugin_sql::sqlx::{PgPool, Postgres};
use plugin_sql::{FrameOptions, RowLimit, SqlDataSource, query_frame};

/// 2026-11-21T10:00:00Z in seconds.
const T0: i64 = 1_795_255_200;
const NS: i64 = 1_000_000_000;

fn cells(field: &Field) -> Vec<String> {
    field.iter().map(|c| c.to_string()).collect()
}

async fn ask(ds: &SqlDataSource<Postgres>, json: serde_json::Value) -> DataResponse {
    let mut query = DataQuery::new("A", json.to_string());
    query.time_range = TimeRange::from_epoch_millis(T0 * 1000, (T0 + 240) * 1000).unwrap();
    query.interval = Duration::from_secs(60);
    ds.query(&query, &GrafanaConfig::default()).await
}

/// One server for every check: starting a cluster takes a second or two.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_end_to_end() {
    let Some(server) = server::PostgresServer::start() else {
        return;
    };
    let pool = PgPool::connect(&server.url()).await.unwrap();
    every_type_maps_like_pgx(&pool).await;
    macros_formats_and_fill(&pool).await;
    errors_limits_and_health(&pool).await;
    pool.close().await;
    drop(server);
}

async fn every_type_maps_like_pgx(pool: &PgPool) {
    plugin_sql::sqlx::raw_sql(
        "CREATE TABLE types (i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, b bool,
            d date, ts timestamp, tz timestamptz, t text, vc varchar(5), u uuid, j jsonb, by bytea,
            iv interval, nan float8);
         INSERT INTO types VALUES (-2, 40000, 9007199254740993, 1.5, 0.1, 12.25, true, '2026-11-21',
            '2026-11-21 10:00:00.123456', '2026-11-21 12:00:00+02', 'text', 'vc',
            'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{\"k\": [1, 2]}', '\\x6869', '1 day 02:00:00', 'NaN');
         INSERT INTO types DEFAULT VALUES;",
    )
    .execute(pool)
    .await
    .unwrap();
    let frame = query_frame(pool, "SELECT * FROM types", &FrameOptions::new())
        .await
        .unwrap();
    let want = [
        ("i2", FieldType::Int16, "-2"),
        ("i4", FieldType::Int32, "40000"),
        ("i8", FieldType::Int64, "9007199254740993"),
        ("f4", FieldType::Float32, "1.5"),
        ("f8", FieldType::Float64, "0.1"),
        ("n", FieldType::Float64, "12.25"),
        ("b", FieldType::Bool, "true"),
        ("d", FieldType::Time, ""),
        ("ts", FieldType::Time, ""),
        ("tz", FieldType::Time, ""),
        ("t", FieldType::String, "text"),
        ("vc", FieldType::String, "vc"),
        (
            "u",
            FieldType::String,
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
        ),
        ("j", FieldType::String, "{\"k\": [1, 2]}"),
        ("by", FieldType::String, "hi"),
        ("iv", FieldType::String, "1 day 02:00:00"),
        ("nan", FieldType::Float64, "NaN"),
    ];
    assert_eq!(frame.fields().len(), want.len());
    for (field, (name, field_type, text)) in frame.fields().iter().zip(want) {
        assert_eq!(
            (field.name(), field.field_type()),
            (name, field_type),
            "{name}"
        );
        assert!(field.is_nullable(), "{name}");
        assert_eq!(field.get(1), Some(CellValue::Null), "{name} row 2 is NULL");
        if field_type != FieldType::Time {
            assert_eq!(field.get(0).unwrap().to_string(), text, "{name}");
        }
    }
    assert_eq!(
        frame.field("d").unwrap().get(0),
        Some(CellValue::Time(T0 / 86_400 * 86_400 * NS))
    );
    assert_eq!(
        frame.field("ts").unwrap().get(0),
        Some(CellValue::Time(T0 * NS + 123_456_000))
    );
    assert_eq!(
        frame.field("tz").unwrap().get(0),
        Some(CellValue::Time(T0 * NS))
    );

    // Rows from prepared statements arrive in binary; the core types read the same.
    let rows = plugin_sql::sqlx::query("SELECT i2, i4, i8, f4, f8, b, d, ts, tz, t FROM types")
        .fetch(pool);
    let binary = plugin_sql::frame_from_rows::<Postgres, _>(rows, &FrameOptions::new())
        .await
        .unwrap();
    for field in binary.fields() {
        assert_eq!(Some(field), frame.field(field.name()), "{}", field.name());
    }
}

async fn macros_formats_and_fill(pool: &PgPool) {
    plugin_sql::sqlx::raw_sql(
        "CREATE TABLE metrics (time timestamptz, host text, cpu float8);
         INSERT INTO metrics VALUES ('2026-11-21 10:00:00Z', 'a', 0.5), ('2026-11-21 10:00:00Z', 'b', 0.7),
            ('2026-11-21 10:01:30Z', 'a', 0.6), ('2026-11-21 10:03:00Z', 'a', 0.9),
            ('2026-11-22 00:00:00Z', 'a', 9);",
    )
    .execute(pool)
    .await
    .unwrap();
    let ds = SqlDataSource::new(pool.clone());
    let sql = "SELECT time, host, cpu FROM metrics WHERE $__timeFilter(time) ORDER BY time";
    let response = ask(&ds, serde_json::json!({"rawSql": sql})).await;
    assert!(response.error.is_none(), "{:?}", response.error);
    let wide = &response.frames[0];
    assert_eq!(
        wide.meta().unwrap().executed_query_string,
        "SELECT time, host, cpu FROM metrics WHERE time BETWEEN '2026-11-21T10:00:00Z' AND '2026-11-21T10:04:00Z' ORDER BY time"
    );
    assert_eq!(wide.fields().len(), 3);
    assert_eq!(cells(&wide.fields()[1]), ["0.5", "0.6", "0.9"]);
    assert_eq!(cells(&wide.fields()[2]), ["0.7", "null", "null"]);

    // A minute grid with previous-value fill, in PostgreSQL's dialect.
    let grouped = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT to_timestamp($__timeGroup(time, '1m', previous)) AS time, avg(cpu) AS cpu
            FROM metrics WHERE host = 'a' AND $__timeFilter(time) GROUP BY 1 ORDER BY 1"}),
    )
    .await;
    assert!(grouped.error.is_none(), "{:?}", grouped.error);
    let frame = &grouped.frames[0];
    let times: Vec<_> = frame.fields()[0].iter().collect();
    assert_eq!(
        times,
        (0..5)
            .map(|m| CellValue::Time((T0 + 60 * m) * NS))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        cells(&frame.fields()[1]),
        ["0.5", "0.6", "0.6", "0.9", "0.9"]
    );

    let unix = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT count(*) AS n FROM metrics WHERE $__unixEpochFilter(extract(epoch from time))", "format": "table"}),
    )
    .await;
    assert_eq!(cells(&unix.frames[0].fields()[0]), ["4"]);
}

async fn errors_limits_and_health(pool: &PgPool) {
    let ds = SqlDataSource::new(pool.clone()).with_row_limit(RowLimit::Rows(2));
    let limited = ask(&ds, serde_json::json!({"rawSql": "SELECT * FROM generate_series(1, 100) AS n", "format": "table"})).await;
    let frame = &limited.frames[0];
    assert_eq!(cells(&frame.fields()[0]), ["1", "2"]);
    assert_eq!(
        frame.meta().unwrap().notices[0].text,
        "Results have been limited to 2 because the SQL row limit was reached"
    );

    let bad = ask(&ds, serde_json::json!({"rawSql": "SELECT * FROM nowhere"})).await;
    let message = bad.error.as_ref().unwrap().to_string();
    assert!(
        message.starts_with("error querying the database: "),
        "{message}"
    );
    assert!(
        message.contains("relation \"nowhere\" does not exist"),
        "{message}"
    );
    assert_eq!(bad.error_source, Some(ErrorSource::Downstream));
    // The connection is still good after a failed query.
    let after = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT 1 AS one", "format": "table"}),
    )
    .await;
    assert_eq!(cells(&after.frames[0].fields()[0]), ["1"]);
    let empty = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT 1::int4 AS one WHERE false", "format": "table"}),
    )
    .await;
    assert_eq!(empty.frames[0].fields()[0].field_type(), FieldType::Int32);

    let health = ds
        .check_health(CheckHealthRequest::new(PluginContext::new("pg")))
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
}
