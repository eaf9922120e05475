//! Rows to frame, the runner for the same-run comparison with Go's sqlutil
//! (benches/sql/run.sh): 1,000,000 SQLite rows of (time, float, text) through `query_frame`,
//! timed over a few iterations, printed as one line in the format the Go runner prints:
//!
//! ```text
//! sql-rows impl=plugin-sql rows=1000000 iters=5 median_ms=… min_ms=… max_ms=… cpu_ms=… rows_per_s=…
//! ```
//!
//! With `--floor` it times only stepping through the rows with sqlx (no cell read), printed as
//! `impl=sqlx-fetch`: the driver's share, the floor of `benches/rows.rs`.
//!
//! `cpu_ms` is the process's CPU time (user + system, all threads) per timed iteration, from
//! `/proc/self/stat`: less sensitive to other load than wall time.
//!
//! The table and the query are those of `benches/rows.rs` (the criterion bench).
//!
//! `cargo run --release -p plugin-sql --example sql_rows -- [--rows N] [--iters N] [--floor]`

use std::error::Error;
use std::time::{Duration, Instant};

use futures_util::TryStreamExt;
use plugin_data::{CellValue, FieldType, Frame};
use plugin_sql::sqlx::SqlitePool;
use plugin_sql::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use plugin_sql::{FrameOptions, query_frame};

const QUERY: &str = "SELECT time, value, host FROM metrics";

fn main() -> Result<(), Box<dyn Error>> {
    let Args {
        rows,
        iters,
        floor,
        row_buffer,
    } = Args::parse(std::env::args().skip(1))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = tempfile::tempdir()?;
    runtime.block_on(async {
        let options = SqliteConnectOptions::new()
            .filename(dir.path().join("bench.sqlite"))
            .create_if_missing(true);
        let options = match row_buffer {
            Some(size) => options.row_buffer_size(size),
            None => options,
        };
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

        // One warm-up run, checked, then the timed ones.
        check(&query_frame(&pool, QUERY, &FrameOptions::new()).await?, rows)?;
        once(&pool, floor, rows).await?;
        let mut times = Vec::with_capacity(iters);
        let cpu_start = cpu_time();
        for _ in 0..iters {
            let start = Instant::now();
            once(&pool, floor, rows).await?;
            times.push(start.elapsed());
        }

        let cpu = match (cpu_start, cpu_time()) {
            (Some(start), Some(end)) => format!("{:.0}", ms(end - start) / iters as f64),
            _ => "-".to_owned(),
        };

        times.sort_unstable();
        let median = median(&times);
        println!(
            "sql-rows impl={} rows={rows} iters={iters} median_ms={:.1} min_ms={:.1} max_ms={:.1} cpu_ms={cpu} rows_per_s={:.0}",
            if floor { "sqlx-fetch" } else { "plugin-sql" },
            ms(median),
            ms(times[0]),
            ms(times[times.len() - 1]),
            rows as f64 / median.as_secs_f64()
        );
        Ok(())
    })
}

/// One timed unit: the query to a frame (what every query pays), or with `floor` the query
/// stepped through by sqlx alone.
async fn once(pool: &SqlitePool, floor: bool, rows: u64) -> Result<(), Box<dyn Error>> {
    let n = if floor {
        plugin_sql::sqlx::raw_sql(QUERY)
            .fetch(pool)
            .try_fold(0_u64, |n, _| async move { Ok(n + 1) })
            .await?
    } else {
        query_frame(pool, QUERY, &FrameOptions::new())
            .await?
            .num_rows()? as u64
    };
    if n != rows {
        return Err(format!("got {n} rows, want {rows}").into());
    }
    Ok(())
}

/// The command line: `--rows N` (default 1,000,000), `--iters N` (default 5), `--floor`.
struct Args {
    rows: u64,
    iters: usize,
    floor: bool,
    /// `SqliteConnectOptions::row_buffer_size` (sqlx's default is 50).
    row_buffer: Option<usize>,
}

impl Args {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, Box<dyn Error>> {
        let mut parsed = Args {
            rows: 1_000_000,
            iters: 5,
            floor: false,
            row_buffer: None,
        };
        while let Some(flag) = args.next() {
            match flag.as_str() {
                "--floor" => parsed.floor = true,
                "--rows" | "--iters" | "--row-buffer" => {
                    let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
                    match flag.as_str() {
                        "--rows" => parsed.rows = value.parse()?,
                        "--iters" => parsed.iters = value.parse()?,
                        _ => parsed.row_buffer = Some(value.parse()?),
                    }
                }
                _ => {
                    return Err(format!(
                        "unknown argument {flag}; use --rows N, --iters N, --floor, --row-buffer N"
                    )
                    .into());
                }
            }
        }
        if parsed.rows == 0 || parsed.iters == 0 {
            return Err("--rows and --iters must be at least 1".into());
        }
        Ok(parsed)
    }
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

/// This process's user + system CPU time from `/proc/self/stat` (Linux; clock ticks of
/// 1/100 s), read the same way as the Go runner so both sides count alike.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name in parentheses (which may itself hold ")"): state is
    // field 3, utime 14, stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let ticks = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(str::parse::<u64>)
        .sum::<Result<u64, _>>()
        .ok()?;
    Some(Duration::from_millis(ticks * 10))
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
