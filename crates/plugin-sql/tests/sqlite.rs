//! plugin-sql against a real, embedded SQLite: type mapping, converters, formats, macros,
//! fill modes, row limits and errors, end to end through `SqlDataSource`.

#![cfg(feature = "sqlite")]

use std::collections::HashMap;
use std::time::Duration;

use plugin_backend::{
    CheckHealthHandler, CheckHealthRequest, DataQuery, DataResponse, ErrorSource, GrafanaConfig,
    HealthStatus, PluginContext, QueryDataHandler, QueryDataRequest, TimeRange,
};
use plugin_data::{CellValue, Field, FieldType, Frame, NoticeSeverity, VisType};
use plugin_sql::sqlx::SqlitePool;
use plugin_sql::{
    Converter, Error, FrameOptions, RowLimit, SqlDataSource, StringConverter, Value, query_frame,
};

const SCHEMA: &str = "
CREATE TABLE metrics (time DATETIME, host TEXT, cpu REAL, up BOOLEAN);
INSERT INTO metrics VALUES
  ('2026-11-21 10:00:00', 'a', 0.5, 1),
  ('2026-11-21 10:00:00', 'b', 0.7, 1),
  ('2026-11-21 10:01:00', 'a', 0.6, 0),
  ('2026-11-21 10:01:00+00:00', 'b', NULL, NULL),
  ('2026-11-21 10:03:00', 'a', 0.9, 1);
";

/// 2026-11-21T10:00:00Z in seconds.
const T0: i64 = 1_795_255_200;
const NS: i64 = 1_000_000_000;

async fn pool() -> SqlitePool {
    // One connection: every connection to `sqlite::memory:` is a database of its own.
    let pool = plugin_sql::sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    plugin_sql::sqlx::raw_sql(SCHEMA)
        .execute(&pool)
        .await
        .unwrap();
    pool
}

fn data_query(ref_id: &str, json: serde_json::Value) -> DataQuery {
    let mut query = DataQuery::new(ref_id, json.to_string());
    query.time_range = TimeRange::from_epoch_millis(T0 * 1000, (T0 + 240) * 1000).unwrap();
    query.interval = Duration::from_secs(60);
    query
}

async fn ask(
    ds: &SqlDataSource<plugin_sql::sqlx::Sqlite>,
    json: serde_json::Value,
) -> DataResponse {
    ds.query(&data_query("A", json), &GrafanaConfig::default())
        .await
}

fn cells(field: &Field) -> Vec<String> {
    field.iter().map(|c| c.to_string()).collect()
}

fn only_frame(response: &DataResponse) -> &Frame {
    assert!(response.error.is_none(), "{:?}", response.error);
    assert_eq!(response.frames.len(), 1);
    &response.frames[0]
}

#[tokio::test]
async fn every_sqlite_type_maps_like_go() {
    let pool = pool().await;
    plugin_sql::sqlx::raw_sql(
        "CREATE TABLE types (i INTEGER, bi BIGINT, r REAL, d DOUBLE, f FLOAT, t TEXT, vc VARCHAR(10),
                             b BLOB, bo BOOLEAN, dt DATE, dtm DATETIME, ts TIMESTAMP, tm TIME, n NUMERIC);
         INSERT INTO types VALUES (-7, 9007199254740993, 1.5, 2.25, 3.0, 'txt', 'vc', x'6869', 1,
                                   '2026-11-21', '2026-11-21 10:00:00.25', 1795255200, '10:00', 12.5);
         INSERT INTO types VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let frame = query_frame(
        &pool,
        "SELECT *, i * 2 AS expr FROM types",
        &FrameOptions::new(),
    )
    .await
    .unwrap();
    let want = [
        ("i", FieldType::Int64, "-7"),
        ("bi", FieldType::Int64, "9007199254740993"),
        ("r", FieldType::Float64, "1.5"),
        ("d", FieldType::Float64, "2.25"),
        ("f", FieldType::Float64, "3"),
        ("t", FieldType::String, "txt"),
        ("vc", FieldType::String, "vc"),
        ("b", FieldType::String, "hi"),
        ("bo", FieldType::Bool, "true"),
        ("dt", FieldType::Time, ""),
        ("dtm", FieldType::Time, ""),
        ("ts", FieldType::Time, ""),
        ("tm", FieldType::String, "10:00"),
        // sqlx names declared NUMERIC columns by their value; Go would say float64.
        ("n", FieldType::String, "12.5"),
        // Expressions have no declared type: strings, as with mattn/go-sqlite3.
        ("expr", FieldType::String, "-14"),
    ];
    assert_eq!(frame.fields().len(), want.len());
    for (field, (name, field_type, text)) in frame.fields().iter().zip(want) {
        assert_eq!(
            (field.name(), field.field_type()),
            (name, field_type),
            "{name}"
        );
        assert!(field.is_nullable(), "{name} is nullable");
        assert_eq!(field.get(1), Some(CellValue::Null), "{name} row 2 is NULL");
        if field_type != FieldType::Time {
            assert_eq!(field.get(0).unwrap().to_string(), text, "{name}");
        }
    }
    assert_eq!(
        frame.field("dt").unwrap().get(0),
        Some(CellValue::Time(T0 / 86_400 * 86_400 * NS))
    );
    assert_eq!(
        frame.field("dtm").unwrap().get(0),
        Some(CellValue::Time(T0 * NS + 250_000_000))
    );
    // Integers in a time column are Unix seconds, as mattn/go-sqlite3 reads them.
    assert_eq!(
        frame.field("ts").unwrap().get(0),
        Some(CellValue::Time(T0 * NS))
    );
}

#[tokio::test]
async fn values_are_coerced_to_their_column_or_rejected() {
    let pool = pool().await;
    plugin_sql::sqlx::raw_sql(
        "CREATE TABLE loose (n INTEGER); INSERT INTO loose VALUES (1), ('22'), (3.0);",
    )
    .execute(&pool)
    .await
    .unwrap();
    let frame = query_frame(&pool, "SELECT n FROM loose", &FrameOptions::new())
        .await
        .unwrap();
    assert_eq!(cells(&frame.fields()[0]), ["1", "22", "3"]);

    plugin_sql::sqlx::raw_sql("INSERT INTO loose VALUES (2.5)")
        .execute(&pool)
        .await
        .unwrap();
    let err = query_frame(&pool, "SELECT n FROM loose", &FrameOptions::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Conversion { ref column, .. } if column == "n"),
        "{err}"
    );
    assert_eq!(err.source_of_blame(), ErrorSource::Plugin);
    assert!(
        err.to_string()
            .contains("expected int64 input but got float64 \"2.5\""),
        "{err}"
    );
}

#[tokio::test]
async fn converters_claim_columns_by_type_or_name() {
    let pool = pool().await;
    let options = FrameOptions::new()
        // By column name: first match wins, before the type converter below.
        .with_converter(Converter::for_column(
            "hostname",
            "host",
            FieldType::String,
            |v| Ok(Value::from(format!("host-{v}"))),
        ))
        .with_converter(
            StringConverter::new("shout", "TEXT").with_conversion(|s| Ok(s.to_uppercase())),
        )
        .with_converter(Converter::for_type_matching(
            "bools as ints",
            |t| t == "BOOLEAN",
            FieldType::Int8,
            |v| Ok(v.into_owned()),
        ))
        .with_converter(
            StringConverter::new("length", "NULL")
                .with_replacer(FieldType::UInt32, |s| Ok(Value::UInt(s.len() as u64))),
        );
    let frame = query_frame(
        &pool,
        "SELECT host, host AS h2, up, 'abc' AS word FROM metrics LIMIT 2",
        &options,
    )
    .await
    .unwrap();
    let types: Vec<_> = frame.fields().iter().map(Field::field_type).collect();
    assert_eq!(
        types,
        [
            FieldType::String,
            FieldType::String,
            FieldType::Int8,
            FieldType::UInt32
        ]
    );
    assert_eq!(cells(&frame.fields()[0]), ["host-a", "host-b"]);
    assert_eq!(cells(&frame.fields()[1]), ["A", "B"]);
    assert_eq!(cells(&frame.fields()[2]), ["1", "1"]);
    assert_eq!(cells(&frame.fields()[3]), ["3", "3"]);

    let failing = FrameOptions::new().with_converter(Converter::for_column(
        "strict",
        "host",
        FieldType::String,
        |_| Err("no hosts today".into()),
    ));
    let err = query_frame(&pool, "SELECT host FROM metrics", &failing)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "converter \"strict\" failed on column \"host\": no hosts today"
    );
}

#[tokio::test]
async fn table_logs_and_empty_results() {
    let ds = SqlDataSource::new(pool().await);
    let table = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT * FROM metrics", "format": "table"}),
    )
    .await;
    let frame = only_frame(&table);
    assert_eq!(frame.name(), "A");
    assert_eq!(frame.num_rows().unwrap(), 5);
    let meta = frame.meta().unwrap();
    assert_eq!(meta.executed_query_string, "SELECT * FROM metrics");
    assert_eq!(meta.preferred_visualisation, Some(VisType::Table));
    assert_eq!(
        cells(frame.field("cpu").unwrap()),
        ["0.5", "0.7", "0.6", "null", "0.9"]
    );

    let logs = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT time, host AS body FROM metrics", "format": 2}),
    )
    .await;
    assert_eq!(
        only_frame(&logs).meta().unwrap().preferred_visualisation,
        Some(VisType::Logs)
    );

    // No rows: a table still has its columns, a time series is the empty frame.
    let empty = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT time, cpu FROM metrics WHERE 0", "format": "table"}),
    )
    .await;
    let frame = only_frame(&empty);
    assert_eq!(
        frame.fields().iter().map(Field::name).collect::<Vec<_>>(),
        ["time", "cpu"]
    );
    assert_eq!(frame.fields()[0].field_type(), FieldType::Time);
    let empty = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT time, cpu FROM metrics WHERE 0"}),
    )
    .await;
    let frame = only_frame(&empty);
    assert!(frame.fields().is_empty());
    assert_eq!(
        frame.meta().unwrap().executed_query_string,
        "SELECT time, cpu FROM metrics WHERE 0"
    );
}

#[tokio::test]
async fn time_series_become_wide_with_fill() {
    let ds = SqlDataSource::new(pool().await);
    let sql = "SELECT time, host, cpu FROM metrics WHERE $__timeFilter(time) ORDER BY time";
    let response = ask(
        &ds,
        serde_json::json!({"rawSql": sql, "format": "time_series"}),
    )
    .await;
    let wide = only_frame(&response);
    let meta = wide.meta().unwrap();
    assert_eq!(
        meta.executed_query_string,
        format!(
            "SELECT time, host, cpu FROM metrics WHERE unixepoch(time) BETWEEN {T0} AND {} ORDER BY time",
            T0 + 240
        )
    );
    assert_eq!(meta.preferred_visualisation, Some(VisType::Graph));
    let names: Vec<_> = wide
        .fields()
        .iter()
        .map(|f| format!("{}{:?}", f.name(), f.labels().and_then(|l| l.get("host"))))
        .collect();
    assert_eq!(names, ["timeNone", "cpuSome(\"a\")", "cpuSome(\"b\")"]);
    assert_eq!(cells(&wide.fields()[1]), ["0.5", "0.6", "0.9"]);
    assert_eq!(cells(&wide.fields()[2]), ["0.7", "null", "null"]);

    let previous = ask(
        &ds,
        serde_json::json!({"rawSql": sql, "fillMode": {"mode": 0}}),
    )
    .await;
    assert_eq!(
        cells(&only_frame(&previous).fields()[2]),
        ["0.7", "null", "null"]
    );
    let value = ask(
        &ds,
        serde_json::json!({"rawSql": sql, "fillMode": {"mode": 2, "value": -1}}),
    )
    .await;
    assert_eq!(
        cells(&only_frame(&value).fields()[2]),
        ["0.7", "null", "-1"]
    );

    // $__timeGroup with a fill resamples on the group interval, as Grafana's SQL data sources.
    let grouped = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT $__timeGroupAlias(time, 1m, previous), avg(cpu) AS cpu FROM metrics
                                      WHERE host = 'a' GROUP BY 1 ORDER BY 1"}),
    )
    .await;
    // The group is Unix seconds in an expression column: text, so it is no time series.
    assert!(
        grouped.error.is_some(),
        "an integer group column is not a time field"
    );

    let ds = ds
        .with_converter(Converter::column_as("time", FieldType::Time))
        .with_converter(Converter::column_as("cpu", FieldType::Float64));
    let grouped = ask(
        &ds,
        serde_json::json!({"rawSql": "SELECT $__timeGroupAlias(time, 1m, previous), avg(cpu) AS cpu FROM metrics
                                      WHERE host = 'a' GROUP BY 1 ORDER BY 1"}),
    )
    .await;
    let frame = only_frame(&grouped);
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
}

#[tokio::test]
async fn row_limit_adds_gos_notice() {
    let pool = pool().await;
    let config = GrafanaConfig::new(HashMap::from([(
        "GF_SQL_ROW_LIMIT".to_owned(),
        "3".to_owned(),
    )]));
    let query = data_query(
        "A",
        serde_json::json!({"rawSql": "SELECT * FROM metrics", "format": "table"}),
    );
    for (limit, config, rows) in [
        (RowLimit::Grafana, &config, 3),
        (RowLimit::Rows(2), &config, 2),
        (RowLimit::Unlimited, &config, 5),
        (RowLimit::Grafana, &GrafanaConfig::default(), 5),
        (RowLimit::from_setting(5), &config, 5),
    ] {
        let ds = SqlDataSource::new(pool.clone()).with_row_limit(limit);
        let response = ds.query(&query, config).await;
        let frame = only_frame(&response);
        assert_eq!(frame.num_rows().unwrap(), rows, "{limit:?}");
        let notices = &frame.meta().unwrap().notices;
        // Reaching the limit adds the notice, even when no row was left (data/sqlutil/sql.go).
        if rows < 5 || limit == RowLimit::from_setting(5) {
            assert_eq!(notices.len(), 1, "{limit:?}");
            assert_eq!(notices[0].severity, NoticeSeverity::Warning);
            assert_eq!(
                notices[0].text,
                format!(
                    "Results have been limited to {rows} because the SQL row limit was reached"
                )
            );
        } else {
            assert!(notices.is_empty(), "{limit:?}");
        }
    }
}

#[tokio::test]
async fn errors_are_per_query_with_their_source() {
    let ds = SqlDataSource::new(pool().await);
    let request = QueryDataRequest::new(
        PluginContext::new("sql"),
        vec![
            data_query(
                "good",
                serde_json::json!({"rawSql": "SELECT 1 AS one", "format": "table"}),
            ),
            data_query("bad_sql", serde_json::json!({"rawSql": "SELEKT nonsense"})),
            data_query(
                "no_table",
                serde_json::json!({"rawSql": "SELECT * FROM missing"}),
            ),
            data_query(
                "bad_macro",
                serde_json::json!({"rawSql": "SELECT $__timeGroup(time) FROM metrics"}),
            ),
            data_query(
                "bracket",
                serde_json::json!({"rawSql": "SELECT $__timeFilter(time FROM metrics"}),
            ),
            data_query("bad_json", serde_json::json!({"rawSql": 5})),
            data_query(
                "dup",
                serde_json::json!({"rawSql": "SELECT 1 AS x, 2 AS x", "format": "table"}),
            ),
            data_query(
                "multi",
                serde_json::json!({"rawSql": "SELECT 1", "format": "multi"}),
            ),
        ],
    );
    let response = ds.query_data(request).await.unwrap();
    assert_eq!(response.responses.len(), 8);
    assert!(response.responses["good"].error.is_none());
    let error = |ref_id: &str| {
        let r = &response.responses[ref_id];
        (
            r.error
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            r.error_source,
        )
    };
    let (message, source) = error("bad_sql");
    assert!(
        message.starts_with("error querying the database: "),
        "{message}"
    );
    assert!(message.contains("syntax error"), "{message}");
    assert_eq!(source, Some(ErrorSource::Downstream));
    let bad = &response.responses["bad_sql"].frames[0];
    assert_eq!(
        (
            bad.name(),
            bad.meta().unwrap().executed_query_string.as_str()
        ),
        ("bad_sql", "SELEKT nonsense")
    );
    assert!(error("no_table").0.contains("no such table: missing"));
    assert_eq!(
        error("bad_macro"),
        (
            "macro __timeGroup needs time column and interval and optional fill value".to_owned(),
            Some(ErrorSource::Downstream)
        )
    );
    assert_eq!(
        error("bracket").0,
        "failed to parse macro arguments (missing close bracket?)"
    );
    assert!(
        error("bad_json")
            .0
            .starts_with("error unmarshaling query JSON to the Query Model")
    );
    assert_eq!(error("bad_json").1, Some(ErrorSource::Downstream));
    assert_eq!(
        error("dup").0,
        "duplicate column names are not allowed, found identical name \"x\" at column indices 0 and 1"
    );
    assert_eq!(error("multi").0, "format multi is not supported");
}

#[tokio::test]
async fn health_check_runs_select_1() {
    let pool = pool().await;
    let ds = SqlDataSource::new(pool.clone());
    let ok = ds
        .check_health(CheckHealthRequest::new(PluginContext::new("sql")))
        .await
        .unwrap();
    assert_eq!(
        (ok.status, ok.message.as_str()),
        (HealthStatus::Ok, "Data source is working")
    );
    pool.close().await;
    let closed = ds
        .check_health(CheckHealthRequest::new(PluginContext::new("sql")))
        .await
        .unwrap();
    assert_eq!(closed.status, HealthStatus::Error);
    assert!(
        closed.message.starts_with("error querying the database"),
        "{}",
        closed.message
    );
}
