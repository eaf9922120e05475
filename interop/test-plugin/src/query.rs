//! QueryData: one answer per query, chosen by the query JSON's `scenario`.
//!
//! * `{"scenario": "all_types"}`: `plugin_testkit::fixtures::all_field_types()`
//!   (the Go suite's `fixtures.AllFieldTypes()`), its refId set to the
//!   query's;
//! * `{"scenario": "rows", "rows": N}`: [`rows_frame`] of N rows;
//! * `{"scenario": "error", "status": S, "errorSource": "plugin"|"downstream",
//!   "message": M}`: a response with only an error, status S and that
//!   source;
//! * `{"scenario": "request_error", "message": M}`: the whole request fails
//!   with a downstream error (a gRPC error, not a response);
//! * `{"scenario": "log", "message": M}`: the handler logs M at INFO and
//!   answers with no frames (the Go suite checks the line's contextual keys);
//! * anything else: an error response naming the scenario.

use plugin_backend::{
    DataQuery, DataResponse, Error, ErrorSource, QueryDataHandler, QueryDataRequest,
    QueryDataResponse, Status,
};
use plugin_data::{Field, FieldValues, Frame};
use serde::Deserialize;

/// At most this many rows, so a typo cannot exhaust the test host's memory.
pub(crate) const MAX_ROWS: usize = 1_000_000;

/// A query's JSON.
#[derive(Debug, Deserialize)]
#[serde(tag = "scenario", rename_all = "snake_case")]
pub(crate) enum Scenario {
    /// Every field type.
    AllTypes,
    /// `rows` rows of [`rows_frame`].
    Rows {
        /// How many rows.
        rows: usize,
        /// Rows per chunk, for QueryChunkedData (at least 1).
        #[serde(default = "default_chunk_rows", rename = "chunkRows")]
        chunk_rows: usize,
    },
    /// An error response.
    Error {
        /// The response's status.
        status: u16,
        /// `plugin`, `downstream`, or absent.
        #[serde(default, rename = "errorSource")]
        error_source: Option<String>,
        /// The error message.
        message: String,
    },
    /// The whole request fails.
    RequestError {
        /// The error message.
        message: String,
    },
    /// The handler logs a line.
    Log {
        /// What it logs.
        message: String,
    },
}

fn default_chunk_rows() -> usize {
    1
}

impl Scenario {
    /// Parses the scenario of `query`.
    pub(crate) fn of(query: &DataQuery) -> Result<Scenario, Error> {
        let scenario: Scenario = query.parse_json()?;
        if let Scenario::Rows { rows, chunk_rows } = scenario {
            if rows > MAX_ROWS {
                return Err(Error::plugin(format!(
                    "at most {MAX_ROWS} rows, asked for {rows}"
                )));
            }
            if chunk_rows == 0 {
                return Err(Error::plugin("chunkRows must be at least 1"));
            }
        }
        Ok(scenario)
    }
}

/// Rows `range` of the `rows` frame of query `query`: `time` (one per second
/// from the query's start, nanosecond precision kept), `value` (float64
/// `i * 0.5`) and `label` (nullable string, null on every third row, else
/// `row <i>`), named `rows`.
pub(crate) fn rows_frame(query: &DataQuery, range: std::ops::Range<usize>) -> Frame {
    const SECOND: i64 = 1_000_000_000;
    // The time range is in milliseconds on the wire; add 1 ns per row so the
    // test sees nanoseconds survive.
    let start = query.time_range.from.timestamp_nanos_opt().unwrap_or(0);
    let times: Vec<i64> = range
        .clone()
        .map(|i| start.saturating_add(i as i64 * SECOND + i as i64))
        .collect();
    let values: Vec<f64> = range.clone().map(|i| i as f64 * 0.5).collect();
    let labels: Vec<Option<String>> = range
        .map(|i| (i % 3 != 0).then(|| format!("row {i}")))
        .collect();
    Frame::new("rows")
        .with_field(Field::new("time", FieldValues::time_nanos(times)))
        .with_field(Field::new("value", values))
        .with_field(Field::new("label", labels))
}

/// The error response of the `error` scenario.
pub(crate) fn error_response(
    status: u16,
    error_source: Option<&str>,
    message: String,
) -> Result<DataResponse, Error> {
    let status = Status::from_u16(status)
        .ok_or_else(|| Error::plugin(format!("{status} is not an HTTP status")))?;
    let source = match error_source {
        None => None,
        Some("plugin") => Some(ErrorSource::Plugin),
        Some("downstream") => Some(ErrorSource::Downstream),
        Some(other) => return Err(Error::plugin(format!("no error source {other:?}"))),
    };
    let response = DataResponse::from_error(Error::new(message)).with_status(status);
    Ok(match source {
        Some(source) => response.with_error_source(source),
        None => response,
    })
}

/// The answer to one query; a `request_error` scenario is answered by the
/// caller, since it fails the whole request.
fn answer(query: &DataQuery, scenario: Scenario) -> Result<DataResponse, Error> {
    Ok(match scenario {
        Scenario::AllTypes => {
            let mut frame = plugin_testkit::fixtures::all_field_types();
            frame.set_ref_id(query.ref_id.clone());
            DataResponse::from(frame)
        }
        Scenario::Rows { rows, .. } => DataResponse::from(rows_frame(query, 0..rows)),
        Scenario::Error {
            status,
            error_source,
            message,
        } => error_response(status, error_source.as_deref(), message)?,
        Scenario::RequestError { message } => return Err(Error::downstream(message)),
        Scenario::Log { message } => {
            tracing::info!("{message}");
            DataResponse::default()
        }
    })
}

/// The QueryData handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Queries;

impl QueryDataHandler for Queries {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        let mut response = QueryDataResponse::new();
        for query in &request.queries {
            let answer = match Scenario::of(query) {
                Ok(Scenario::RequestError { message }) => return Err(Error::downstream(message)),
                Ok(scenario) => answer(query, scenario).unwrap_or_else(DataResponse::from_error),
                Err(error) => DataResponse::from_error(error),
            };
            response.insert(query.ref_id.clone(), answer);
        }
        Ok(response)
    }
}
