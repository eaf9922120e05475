//! Rows to frame, the runner for the same-run comparison with Go's sqlutil
//! (benches/sql/run.sh): 1,000,000 SQLite rows of (time, float, text) through `query_frame`,
//! timed over a few iterations, printed as one line in the format the Go runner prints:
//!
//! ```text
//! sql-rows impl=plugin-sql rows=1000000 iters=5 median_ms=… min_ms=… max_ms=… rows_per_s=…
//! ```
//!
//! The table and the query are those of `benches/rows.rs` (the criterion bench).
//!
//! `cargo run --release -p plugin-sql --example sql_rows -- [--rows N] [--iters N]`

use std::error::Error;
use std::time::{Duration, Instant};

use plugin_data::{CellValue, FieldType, Frame};
use plugin_sql::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use plugin_sql::{FrameOptions, query_frame};

const QUERY: &str = "SELECT time, value, host FROM metrics";

fn main() -> Result<(), Box<dyn Error>> {
    let (rows, iters) = parse_args(std::env::args().skip(1))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    runtime.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("bench.sqlite"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        plugin_sql::sqlx::raw_sql(&format!(
            "CREATE TABLE metrics (time DATETIME, value REAL, host TEXT);
             INSERT INTO metrics
               WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {})
               SELECT strftime('%Y-%m-%d %H:%M:%f', 1700000000 + i / 10.0, 'unixepoch'), i * 0.5, 'host-' || (i % 100)
               FROM n;",
            rows - 1
        ))
        .execute(&pool)
        .await?;

        let options = FrameOptions::new();
        // One warm-up run, checked, then the timed ones.
        check(&query_frame(&pool, QUERY, &options).await?, rows)?;
        let mut times = Vec::with_capacity(iters);
        for _ in 0..iters {
            let start = Instant::now();
            let frame = query_frame(&pool, QUERY, &options).await?;
            let elapsed = start.elapsed();
            if frame.num_rows()? as u64 != rows {
                return Err(format!("frame has {} rows, want {rows}", frame.num_rows()?).into());
            }
            // Outside the timed part: a frame is a few Arrow buffers, so this is a few frees.
            drop(frame);
            times.push(elapsed);
        }

        times.sort_unstable();
        let median = median(&times);
        println!(
            "sql-rows impl=plugin-sql rows={rows} iters={iters} median_ms={:.1} min_ms={:.1} max_ms={:.1} rows_per_s={:.0}",
            ms(median),
            ms(times[0]),
            ms(times[times.len() - 1]),
            rows as f64 / median.as_secs_f64()
        );
        Ok(())
    })
}

/// `--rows N` (default 1,000,000) and `--iters N` (default 5), both at least 1.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<(u64, usize), Box<dyn Error>> {
    let (mut rows, mut iters) = (1_000_000_u64, 5_usize);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rows" => rows = value.parse()?,
            "--iters" => iters = value.parse()?,
            _ => return Err(format!("unknown argument {flag}; use --rows N or --iters N").into()),
        }
    }
    if rows == 0 || iters == 0 {
        return Err("--rows and --iters must be at least 1".into());
    }
    Ok((rows, iters))
}

/// Both sides build the same frame: three nullable fields of time, float64 and string, every
/// row.
fn check(frame: &Frame, rows: u64) -> Result<(), Box<dyn Error>> {
    let types: Vec<_> = frame
        .fields()
        .iter()
        .map(|f| (f.field_type(), f.is_nullable()))
        .collect();
    let want = [
        (FieldType::Time, true),
        (FieldType::Float64, true),
        (FieldType::String, true),
    ];
    if types != want {
        return Err(format!("fields are {types:?}, want {want:?}").into());
    }
    if frame.num_rows()? as u64 != rows {
        return Err(format!("frame has {} rows, want {rows}", frame.num_rows()?).into());
    }
    let first = frame.fields()[0].get(0);
    if first != Some(CellValue::Time(1_700_000_000_000_000_000)) {
        return Err(format!("first time is {first:?}, want 1700000000 s").into());
    }
    Ok(())
}

fn median(sorted: &[Duration]) -> Duration {
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) {
        (sorted[mid - 1] + sorted[mid]) / 2
    } else {
        sorted[mid]
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
