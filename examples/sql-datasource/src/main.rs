//! `acme-sql-datasource`: SQL queries against a SQLite file, on the SDK's SQL layer
//! ([`grafana_plugin::sql`], feature `sql-sqlite`).
//!
//! * **Settings** (`jsonData`): `{"path": "/var/lib/grafana/data.sqlite", "rowLimit": 10000}`,
//!   both optional. Without a path the data source opens a demo database in the system's
//!   temporary directory, created on first use with a `metrics(time, host, value)` table
//!   holding the last day at one-minute steps. `rowLimit` `0` (or none) defers to Grafana's
//!   `[sql] row_limit`, a negative value means no limit.
//! * **Queries**: `{"rawSql": "...", "format": "time_series" | "table" | "logs",
//!   "fillMode": {"mode": 0|1|2, "value": n}}` with the SQLite macros of `grafana_plugin::sql`
//!   (`$__timeFilter(time)`, `$__timeGroupAlias(time, 5m[, previous])`,
//!   `$__unixEpochFilter(col)`, `$__interval`, …). A column named `time` is read as a time
//!   and one named `value` as a number, also when they are expressions (SQLite gives those
//!   no type).
//! * **Health**: `SELECT 1` on the database.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use grafana_plugin::prelude::*;
use grafana_plugin::serde::Deserialize;
use grafana_plugin::sql::sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};
use grafana_plugin::sql::{Converter, RowLimit, SqlDataSource, sqlx};

/// The plugin id in plugin.json.
const PLUGIN_ID: &str = "acme-sql-datasource";

/// The data source settings Grafana stores in `jsonData`.
#[derive(Debug, Default, Deserialize)]
#[serde(crate = "grafana_plugin::serde", rename_all = "camelCase")]
struct Settings {
    path: Option<PathBuf>,
    #[serde(default)]
    row_limit: i64,
}

/// The demo table.
const DEMO_SCHEMA: &str =
    "CREATE TABLE IF NOT EXISTS metrics (time DATETIME NOT NULL, host TEXT NOT NULL, value REAL)";

/// The demo rows, once: one day of two hosts' CPU, one row per host and minute up to `?1`.
const DEMO_ROWS: &str = "
INSERT INTO metrics
  WITH RECURSIVE minute(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM minute WHERE n < 1439)
  SELECT datetime(?1 - n * 60, 'unixepoch'), host, round(10 + ((n * 37 + length(host) * 11) % 80) + n % 7 / 10.0, 1)
  FROM minute, (SELECT 'web-1' AS host UNION ALL SELECT 'db-1')
  WHERE NOT EXISTS (SELECT 1 FROM metrics);
";

fn pool_options() -> SqlitePoolOptions {
    SqlitePoolOptions::new().max_connections(4)
}

/// The demo database, created and filled on first use.
async fn demo_pool() -> Result<SqlitePool, Error> {
    let path = std::env::temp_dir().join("acme-sql-datasource-demo.sqlite");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true);
    let pool = pool_options()
        .connect_with(options)
        .await
        .map_err(|e| Error::plugin(format!("demo database {}: {e}", path.display())))?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() / 60 * 60);
    let fill = async {
        sqlx::raw_sql(DEMO_SCHEMA).execute(&pool).await?;
        sqlx::query(DEMO_ROWS).bind(now as i64).execute(&pool).await
    };
    fill.await
        .map_err(|e| Error::plugin(format!("demo database {}: {e}", path.display())))?;
    Ok(pool)
}

fn main() -> std::process::ExitCode {
    grafana_plugin::run(grafana_plugin::datasource::manage(
        PLUGIN_ID,
        |settings, _context| async move {
            let Settings { path, row_limit } = if settings.json_data.is_empty() {
                Settings::default()
            } else {
                settings.parse_json_data()?
            };
            let pool = match path {
                // Opened on first use, so a bad path shows in the health check rather than
                // failing every request.
                Some(path) => {
                    pool_options().connect_lazy_with(SqliteConnectOptions::new().filename(path))
                }
                None => demo_pool().await?,
            };
            let data_source = SqlDataSource::new(pool)
                .with_row_limit(RowLimit::from_setting(row_limit))
                .with_converter(Converter::column_as("time", FieldType::Time))
                .with_converter(Converter::column_as("value", FieldType::Float64));
            Ok(Plugin::new()
                .with_query_data(data_source.clone())
                .with_check_health(data_source))
        },
        ManageOptions::new().with_build_info(build_info!()),
    ))
}
