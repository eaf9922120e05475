//! [`SqlDataSource`]: a ready `QueryDataHandler` and `CheckHealthHandler` for one SQL data
//! source instance (grafana/sqlds `datasource.go` and `query.go`).
//!
//! Each query of a request runs concurrently on the instance's [`sqlx::Pool`]: its JSON is
//! read ([`Query`]), its macros replaced, its SQL run, its rows turned into a frame (named
//! after the refId, with `executedQueryString` and the preferred visualisation of its
//! format), and for the time series format a long frame becomes wide, then is resampled
//! when a `$__timeGroup(…, fill)` asked for it. A failing query answers with its error (and
//! an empty frame carrying the executed SQL, as sqlds); the other queries are unaffected.

use std::fmt;

use futures_util::future::join_all;
use plugin_backend::{
    CheckHealthHandler, CheckHealthRequest, CheckHealthResult, DataQuery, DataResponse,
    GrafanaConfig, QueryDataHandler, QueryDataRequest, QueryDataResponse,
};
use plugin_data::convert::{self, FillMissing, TimeSeriesSchema};
use plugin_data::{Frame, FrameMeta, VisType};
use sqlx::Pool;

use crate::converter::Converter;
use crate::driver::SqlDriver;
use crate::error::Error;
use crate::frame::{FrameOptions, query_frame};
use crate::macros::Macros;
use crate::query::{Format, Query};
use crate::resample::resample_wide_frame;

/// The Grafana configuration key of the SQL row limit.
pub const ROW_LIMIT_KEY: &str = "GF_SQL_ROW_LIMIT";

/// How many rows a query may return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum RowLimit {
    /// Grafana's `[sql] row_limit` (`GF_SQL_ROW_LIMIT` in each request's configuration);
    /// unlimited when Grafana does not send it or sends a negative value.
    #[default]
    Grafana,
    /// At most this many rows.
    Rows(u64),
    /// No limit.
    Unlimited,
}

impl RowLimit {
    /// A data source's own `rowLimit` setting, as sqlds reads it: `0` (unset) defers to
    /// Grafana, a negative value means no limit.
    pub fn from_setting(limit: i64) -> Self {
        match u64::try_from(limit) {
            Ok(0) => RowLimit::Grafana,
            Ok(n) => RowLimit::Rows(n),
            Err(_) => RowLimit::Unlimited,
        }
    }

    /// The limit for a request with Grafana configuration `config`.
    pub fn resolve(self, config: &GrafanaConfig) -> Option<u64> {
        match self {
            RowLimit::Rows(n) => Some(n),
            RowLimit::Unlimited => None,
            RowLimit::Grafana => config
                .get(ROW_LIMIT_KEY)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .and_then(|v| u64::try_from(v).ok()),
        }
    }
}

/// A SQL data source instance: a connection pool, macros, converters and limits.
///
/// ```
/// # #[cfg(feature = "sqlite")]
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use plugin_sql::{RowLimit, SqlDataSource};
///
/// let pool = sqlx::SqlitePool::connect("sqlite::memory:").await?;
/// let data_source = SqlDataSource::new(pool).with_row_limit(RowLimit::Rows(10_000));
/// // plugin_backend::Plugin::new().with_query_data(data_source.clone()).with_check_health(data_source)
/// # let _ = data_source;
/// # Ok(())
/// # }
/// ```
pub struct SqlDataSource<DB: SqlDriver> {
    pool: Pool<DB>,
    macros: Macros,
    converters: Vec<Converter>,
    row_limit: RowLimit,
    fill: Option<FillMissing>,
}

impl<DB: SqlDriver> Clone for SqlDataSource<DB> {
    fn clone(&self) -> Self {
        SqlDataSource {
            pool: self.pool.clone(),
            macros: self.macros.clone(),
            converters: self.converters.clone(),
            row_limit: self.row_limit,
            fill: self.fill,
        }
    }
}

impl<DB: SqlDriver> fmt::Debug for SqlDataSource<DB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqlDataSource")
            .field("pool", &self.pool)
            .field("macros", &self.macros)
            .field("converters", &self.converters)
            .field("row_limit", &self.row_limit)
            .field("fill", &self.fill)
            .finish()
    }
}

impl<DB: SqlDriver> SqlDataSource<DB> {
    /// A data source on `pool` with the dialect's macros ([`SqlDriver::default_macros`]),
    /// no converters, Grafana's row limit and no default fill mode.
    pub fn new(pool: Pool<DB>) -> Self {
        SqlDataSource {
            pool,
            macros: DB::default_macros(),
            converters: Vec::new(),
            row_limit: RowLimit::default(),
            fill: None,
        }
    }

    /// Replaces the macros (extend [`SqlDriver::default_macros`] to keep the dialect's).
    pub fn with_macros(mut self, macros: Macros) -> Self {
        self.macros = macros;
        self
    }

    /// Adds a converter; earlier converters win.
    pub fn with_converter(mut self, converter: impl Into<Converter>) -> Self {
        self.converters.push(converter.into());
        self
    }

    /// Sets the row limit.
    pub fn with_row_limit(mut self, row_limit: RowLimit) -> Self {
        self.row_limit = row_limit;
        self
    }

    /// The fill mode of queries that set none (sqlds `DriverSettings.FillMode`).
    pub fn with_fill_mode(mut self, fill: Option<FillMissing>) -> Self {
        self.fill = fill;
        self
    }

    /// The connection pool.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Answers one query.
    pub async fn query(&self, data_query: &DataQuery, config: &GrafanaConfig) -> DataResponse {
        let mut query = match Query::from_data_query(data_query) {
            Ok(query) => query,
            Err(error) => return DataResponse::from_error(error),
        };
        match self.run(&mut query, config).await {
            Ok(frame) => DataResponse::from(frame),
            Err(error) => DataResponse::from_frames(vec![empty_frame(&query)]).with_error(error),
        }
    }

    async fn run(&self, query: &mut Query, config: &GrafanaConfig) -> Result<Frame, Error> {
        self.macros.interpolate(query)?;
        if query.format == Format::Multi {
            return Err(Error::Unsupported(
                "format multi is not supported".to_owned(),
            ));
        }
        let options = FrameOptions::new()
            .with_converters(self.converters.iter().cloned())
            .with_row_limit(self.row_limit.resolve(config));
        let frame = query_frame(&self.pool, &query.raw_sql, &options).await?;
        shape(frame, query, query.fill_missing.or(self.fill))
    }
}

/// The frame of a failed or empty query: the refId as its name and the executed SQL
/// (data/sqlutil/query.go `ErrorFrameFromQuery`).
fn empty_frame(query: &Query) -> Frame {
    Frame::new(&query.ref_id)
        .with_meta(FrameMeta::default().with_executed_query_string(&query.raw_sql))
}

/// Names the frame, sets its meta and applies the format (sqlds query.go `getFrames`).
fn shape(mut frame: Frame, query: &Query, fill: Option<FillMissing>) -> Result<Frame, Error> {
    frame.set_name(&query.ref_id);
    let rows = frame.num_rows()?;
    let meta = frame.meta_mut();
    meta.executed_query_string = query.raw_sql.clone();
    meta.preferred_visualisation = Some(match query.format {
        Format::Table => VisType::Table,
        Format::Logs => VisType::Logs,
        Format::Trace => VisType::Trace,
        _ => VisType::Graph,
    });
    if query.format != Format::TimeSeries {
        return Ok(frame);
    }
    if rows == 0 {
        // sqlds answers a time series without rows with the empty frame and no error.
        return Ok(empty_frame(query));
    }
    let long = TimeSeriesSchema::of(&frame)
        .is_some_and(|schema| schema.is_long() && !schema.value_indexes.is_empty());
    if long {
        frame = convert::long_to_wide(&frame, fill.unwrap_or(FillMissing::Null))?;
    }
    // Grafana's SQL data sources resample when `$__timeGroup` asked for a fill.
    if let (Some(interval), Some(fill)) = (query.fill_interval, fill) {
        frame = resample_wide_frame(&frame, Some(fill), query.time_range, interval)?;
    }
    Ok(frame)
}

impl<DB: SqlDriver> QueryDataHandler for SqlDataSource<DB> {
    async fn query_data(
        &self,
        request: QueryDataRequest,
    ) -> Result<QueryDataResponse, plugin_backend::Error> {
        let config = &request.plugin_context.grafana_config;
        let answers = join_all(request.queries.iter().map(|q| self.query(q, config))).await;
        Ok(request
            .queries
            .iter()
            .map(|q| q.ref_id.clone())
            .zip(answers)
            .collect())
    }
}

impl<DB: SqlDriver> CheckHealthHandler for SqlDataSource<DB> {
    /// Runs `SELECT 1` (sqlds health.go pings the database).
    async fn check_health(
        &self,
        _: CheckHealthRequest,
    ) -> Result<CheckHealthResult, plugin_backend::Error> {
        Ok(
            match query_frame(&self.pool, "SELECT 1", &FrameOptions::new()).await {
                Ok(_) => CheckHealthResult::ok("Data source is working"),
                Err(error) => CheckHealthResult::error(error.to_string()),
            },
        )
    }
}
