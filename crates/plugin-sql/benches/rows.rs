//! Rows to frame: 1,000,000 SQLite rows of (time, float, text) through `query_frame`, the
//! path every query takes. Reports rows per second.
//!
//! `cargo bench -p plugin-sql --bench rows`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plugin_sql::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use plugin_sql::{FrameOptions, query_frame};

const ROWS: u64 = 1_000_000;

fn rows_to_frame(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pool = runtime.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("bench.sqlite"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new().max_connections(1).connect_with(options).await.unwrap();
        plugin_sql::sqlx::raw_sql(&format!(
            "CREATE TABLE metrics (time DATETIME, value REAL, host TEXT);
             INSERT INTO metrics
               WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})
               SELECT strftime('%Y-%m-%d %H:%M:%f', 1700000000 + i / 10.0, 'unixepoch'), i * 0.5, 'host-' || (i % 100)
               FROM n;",
            ROWS - 1
        ))
        .execute(&pool)
        .await
        .unwrap();
        pool
    });
    let options = FrameOptions::new();
    let mut group = c.benchmark_group("sqlite");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(ROWS));
    group.bench_function("rows_to_frame/1M time,float,text", |b| {
        b.iter(|| {
            let frame = runtime
                .block_on(query_frame(
                    &pool,
                    "SELECT time, value, host FROM metrics",
                    &options,
                ))
                .unwrap();
            assert_eq!(frame.num_rows().unwrap(), ROWS as usize);
            black_box(frame)
        });
    });
    // The floor: sqlx alone, stepping through the same rows without reading them.
    group.bench_function("sqlx_fetch_only/1M time,float,text", |b| {
        b.iter(|| {
            let rows = runtime.block_on(async {
                use futures_util::TryStreamExt;
                plugin_sql::sqlx::raw_sql("SELECT time, value, host FROM metrics")
                    .fetch(&pool)
                    .try_fold(0_u64, |n, _| async move { Ok(n + 1) })
                    .await
                    .unwrap()
            });
            assert_eq!(rows, ROWS);
        });
    });
    group.finish();
}

criterion_group!(benches, rows_to_frame);
criterion_main!(benches);
