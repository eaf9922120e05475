//! SQL data sources on [sqlx](https://docs.rs/sqlx): the Go SDK's `data/sqlutil` and
//! `grafana/sqlds` for Rust plugins.
//!
//! Rows become a [`Frame`](plugin_data::Frame) with the Go SDK's type rules, user
//! [`Converter`]s claim columns by type or name, [`Macros`] replace `$__timeFilter(col)` and
//! friends, [`resample_wide_frame`] fills gaps, and [`SqlDataSource`] is a ready
//! `QueryDataHandler` + `CheckHealthHandler` over a [`sqlx::Pool`].
//!
//! ```
//! use plugin_backend::{DataQuery, GrafanaConfig};
//! use plugin_data::{CellValue, FieldType};
//! use plugin_sql::SqlDataSource;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
//! sqlx::raw_sql(
//!     "CREATE TABLE readings (time DATETIME, room TEXT, celsius REAL);
//!      INSERT INTO readings VALUES ('2026-11-21 10:00:00', 'kitchen', 21.5),
//!                                  ('2026-11-21 10:01:00', 'kitchen', NULL);",
//! )
//! .execute(&pool)
//! .await?;
//!
//! let data_source = SqlDataSource::new(pool);
//! let query = DataQuery::new("A", r#"{"rawSql": "SELECT * FROM readings", "format": "table"}"#);
//! let response = data_source.query(&query, &GrafanaConfig::default()).await;
//! let frame = &response.frames[0];
//! assert!(response.error.is_none());
//! assert_eq!(frame.name(), "A");
//! assert_eq!(frame.fields()[0].field_type(), FieldType::Time);
//! assert_eq!(frame.field("celsius").unwrap().get(1), Some(CellValue::Null));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Type mapping
//!
//! Every field is nullable (neither driver reports nullability, and Go assumes nullable
//! then). Types a frame has no type for become strings.
//!
//! | database type | field type |
//! |---|---|
//! | SQLite `INTEGER` (any declared `*INT*`) | int64 |
//! | SQLite `REAL` (`*REAL*`, `*FLOA*`, `*DOUB*`) | float64 |
//! | SQLite `BOOLEAN` | bool |
//! | SQLite `DATE`, `DATETIME`, `TIMESTAMP` | time (text in ISO layouts, or Unix seconds/milliseconds) |
//! | SQLite `TEXT`, `BLOB`, `TIME`, other declared types, expressions | string |
//! | PostgreSQL `int2`, `int4`, `int8` | int16, int32, int64 |
//! | PostgreSQL `float4`, `float8`, `numeric` | float32, float64, float64 |
//! | PostgreSQL `bool` | bool |
//! | PostgreSQL `date`, `timestamp`, `timestamptz` | time |
//! | PostgreSQL anything else (`text`, `uuid`, `json`, `interval`, `bytea`, …) | string (its text; `bytea` its bytes) |
//!
//! # Modules
//!
//! * [`converter`]: [`Converter`], [`StringConverter`].
//! * [`macros`] and [`dialect`]: [`Macros`], the defaults and the SQLite/PostgreSQL time macros.
//! * [`query`]: the [`Query`] model, [`Format`].
//! * [`frame`]: [`frame_from_rows`], [`query_frame`], [`FrameOptions`], the row limit.
//! * [`resample`]: [`resample_wide_frame`], [`missing_value`].
//! * [`handler`]: [`SqlDataSource`], [`RowLimit`].
//!
//! # Features
//!
//! | Feature | Default | Adds |
//! |---|---|---|
//! | `sqlite` | yes | [`sqlx::Sqlite`] as a [`SqlDriver`] (bundled SQLite) |
//! | `postgres` | no | [`sqlx::Postgres`] as a [`SqlDriver`] (no TLS) |

mod column;
pub mod converter;
pub mod dialect;
mod driver;
mod error;
pub mod frame;
pub mod handler;
pub mod macros;
pub mod query;
pub mod resample;
mod value;

pub use converter::{BoxError, Converter, StringConverter};
pub use driver::SqlDriver;
pub use error::Error;
pub use frame::{FrameOptions, frame_from_rows, query_frame, row_limit_notice};
pub use handler::{RowLimit, SqlDataSource};
pub use macros::{MacroFn, Macros};
pub use query::{Format, Query};
pub use resample::{missing_value, resample_wide_frame};
pub use value::{Value, parse_timestamp};

/// The sqlx version this crate is built on, for naming pools and rows.
pub use sqlx;
