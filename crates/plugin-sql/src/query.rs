//! [`Query`]: the query model SQL data sources share (data/sqlutil/query.go), read from a
//! [`DataQuery`].
//!
//! ```
//! use plugin_backend::DataQuery;
//! use plugin_sql::{Format, Query};
//!
//! let query = Query::from_data_query(&DataQuery::new(
//!     "A",
//!     r#"{"rawSql": "SELECT 1", "format": "table", "fillMode": {"mode": 2, "value": 0}}"#,
//! ))?;
//! assert_eq!(query.format, Format::Table);
//! assert_eq!(query.fill_missing, Some(plugin_data::convert::FillMissing::Value(0.0)));
//! # Ok::<(), plugin_sql::Error>(())
//! ```

use std::time::Duration;

use plugin_backend::{DataQuery, TimeRange};
use plugin_data::convert::FillMissing;
use serde::{Deserialize, Deserializer};

use crate::error::Error;

/// How the user asked to see the result (data/sqlutil/query.go `FormatQueryOption`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// A time series: a long frame becomes wide (`0`, `"timeseries"`, `"time_series"`, `""`).
    #[default]
    TimeSeries,
    /// A table, as returned (`1`, `"table"`).
    Table,
    /// Logs (`2`, `"logs"`).
    Logs,
    /// Traces (`3`, `"traces"`).
    Trace,
    /// Several frames, one per series (`4`, `"multi"`); not supported by the handler.
    Multi,
}

impl Format {
    fn from_number(n: u64) -> Result<Format, String> {
        Ok(match n {
            0 => Format::TimeSeries,
            1 => Format::Table,
            2 => Format::Logs,
            3 => Format::Trace,
            4 => Format::Multi,
            _ => return Err(format!("invalid format value: {n} (max: 4)")),
        })
    }
}

impl<'de> Deserialize<'de> for Format {
    /// A number or a name, trimmed and case-insensitive, as Go's `UnmarshalJSON`; also
    /// `time_series`, which Grafana's SQL query editors send.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Text(String),
        }
        let format = match Raw::deserialize(deserializer)? {
            Raw::Number(n) => Format::from_number(n),
            Raw::Text(text) => match text.trim().to_lowercase().as_str() {
                "0" | "timeseries" | "time_series" | "" => Ok(Format::TimeSeries),
                "1" | "table" => Ok(Format::Table),
                "2" | "logs" => Ok(Format::Logs),
                "3" | "traces" => Ok(Format::Trace),
                "4" | "multi" => Ok(Format::Multi),
                other => Err(format!("invalid format value: {other}")),
            },
        };
        format.map_err(serde::de::Error::custom)
    }
}

/// Go's `data.FillMissing` in JSON: `{"Mode": 0|1|2, "Value": n}` (no JSON tags, so Go
/// matches the keys case-insensitively); mode 0 is previous, 1 null, 2 value.
fn fill_missing<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<FillMissing>, D::Error> {
    let Some(object) =
        Option::<serde_json::Map<String, serde_json::Value>>::deserialize(deserializer)?
    else {
        return Ok(None);
    };
    let key = |name: &str| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let mode = key("mode").map_or(Some(0), serde_json::Value::as_i64);
    let value = key("value").map_or(Some(0.0), serde_json::Value::as_f64);
    match (mode, value) {
        (Some(0), Some(_)) => Ok(Some(FillMissing::Previous)),
        (Some(1), Some(_)) => Ok(Some(FillMissing::Null)),
        (Some(2), Some(value)) => Ok(Some(FillMissing::Value(value))),
        (_, None) => Err(serde::de::Error::custom("fillMode value is not a number")),
        (_, Some(_)) => Err(serde::de::Error::custom(
            "fillMode mode must be 0 (previous), 1 (null) or 2 (value)",
        )),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Model {
    #[serde(default)]
    raw_sql: String,
    #[serde(default)]
    format: Format,
    #[serde(default)]
    connection_args: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "fill_missing")]
    fill_mode: Option<FillMissing>,
    #[serde(default)]
    schema: String,
    #[serde(default)]
    table: String,
    #[serde(default)]
    column: String,
}

/// One SQL query: the model the user edits plus the request's time range and interval.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct Query {
    /// The SQL text (`rawSql`); after [`Macros::interpolate`](crate::Macros::interpolate), the
    /// SQL that runs.
    pub raw_sql: String,
    /// How to shape the result (`format`).
    pub format: Format,
    /// Driver-specific connection arguments (`connectionArgs`), kept as JSON.
    pub connection_args: Option<serde_json::Value>,
    /// How to fill missing points (`fillMode`).
    pub fill_missing: Option<FillMissing>,
    /// The interval to resample a time series at; set by a dialect's
    /// `$__timeGroup(column, interval, fill)`, as Grafana's SQL data sources do.
    pub fill_interval: Option<Duration>,
    /// `schema`, for data sources that use it.
    pub schema: String,
    /// `table`, the value of `$__table`.
    pub table: String,
    /// `column`, the value of `$__column`.
    pub column: String,
    /// The query's refId.
    pub ref_id: String,
    /// The suggested interval between points (`$__interval`).
    pub interval: Duration,
    /// The time range (`$__timeFilter` and friends).
    pub time_range: TimeRange,
    /// The maximum number of points the panel shows.
    pub max_data_points: i64,
}

impl Query {
    /// Reads the model from a query's JSON and copies the request fields
    /// (data/sqlutil/query.go `GetQuery`).
    ///
    /// # Errors
    ///
    /// [`Error::QueryJson`] when the JSON does not fit the model.
    pub fn from_data_query(query: &DataQuery) -> Result<Query, Error> {
        let model: Model = serde_json::from_slice(&query.json).map_err(Error::QueryJson)?;
        Ok(Query {
            raw_sql: model.raw_sql,
            format: model.format,
            connection_args: model.connection_args,
            fill_missing: model.fill_mode,
            fill_interval: None,
            schema: model.schema,
            table: model.table,
            column: model.column,
            ref_id: query.ref_id.clone(),
            interval: query.interval,
            time_range: query.time_range,
            max_data_points: query.max_data_points,
        })
    }

    /// A query running `raw_sql`, otherwise empty; for tests and tools.
    pub fn new(raw_sql: impl Into<String>) -> Self {
        Query {
            raw_sql: raw_sql.into(),
            ..Query::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(json: &str) -> Result<Query, Error> {
        Query::from_data_query(&DataQuery::new("A", json.to_owned()))
    }

    #[test]
    fn formats_as_go_reads_them() {
        // data/sqlutil/query_test.go
        for (json, want) in [
            ("0", Format::TimeSeries),
            ("1", Format::Table),
            ("2", Format::Logs),
            ("3", Format::Trace),
            ("4", Format::Multi),
            (r#""timeseries""#, Format::TimeSeries),
            (r#""time_series""#, Format::TimeSeries),
            (r#"" Table ""#, Format::Table),
            (r#""LOGS""#, Format::Logs),
            (r#""traces""#, Format::Trace),
            (r#""multi""#, Format::Multi),
            (r#""""#, Format::TimeSeries),
            (r#""2""#, Format::Logs),
        ] {
            let q = query(&format!(r#"{{"rawSql": "x", "format": {json}}}"#)).unwrap();
            assert_eq!(q.format, want, "{json}");
        }
        for bad in ["5", r#""graph""#, "true"] {
            let err = query(&format!(r#"{{"format": {bad}}}"#)).unwrap_err();
            assert!(
                err.to_string()
                    .starts_with("error unmarshaling query JSON to the Query Model"),
                "{err}"
            );
        }
        assert_eq!(query("{}").unwrap().format, Format::TimeSeries);
    }

    #[test]
    fn fill_modes_read_go_keys() {
        for (json, want) in [
            (r#"{"Mode": 0}"#, FillMissing::Previous),
            (r#"{"mode": 1}"#, FillMissing::Null),
            (r#"{"mode": 2, "value": 5.5}"#, FillMissing::Value(5.5)),
            (r#"{"MODE": 2, "Value": -1}"#, FillMissing::Value(-1.0)),
        ] {
            let q = query(&format!(r#"{{"fillMode": {json}}}"#)).unwrap();
            assert_eq!(q.fill_missing, Some(want), "{json}");
        }
        assert_eq!(query(r#"{"fillMode": null}"#).unwrap().fill_missing, None);
        assert!(query(r#"{"fillMode": {"mode": 7}}"#).is_err());
        assert!(query(r#"{"fillMode": {"mode": 2, "value": "x"}}"#).is_err());
    }

    #[test]
    fn copies_request_fields() {
        let mut dq = DataQuery::new(
            "B",
            r#"{"rawSql": "SELECT 1", "table": "t", "column": "c"}"#,
        );
        dq.interval = Duration::from_secs(10);
        dq.max_data_points = 500;
        let q = Query::from_data_query(&dq).unwrap();
        assert_eq!((q.ref_id.as_str(), q.raw_sql.as_str()), ("B", "SELECT 1"));
        assert_eq!((q.table.as_str(), q.column.as_str()), ("t", "c"));
        assert_eq!(
            (q.interval, q.max_data_points),
            (Duration::from_secs(10), 500)
        );
        assert!(matches!(query("[1]"), Err(Error::QueryJson(_))));
        assert!(matches!(query("{"), Err(Error::QueryJson(_))));
    }
}
