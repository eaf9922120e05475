//! Dialect macros: the time macros of Grafana's SQL data sources (pkg/tsdb/sqleng and
//! pkg/tsdb/grafana-postgresql-datasource/macros.go), for SQLite and PostgreSQL, on top of
//! the Go SDK's defaults and argument rules.
//!
//! | macro | PostgreSQL | SQLite |
//! |---|---|---|
//! | `$__time(col)` | `col AS "time"` | same |
//! | `$__timeEpoch(col)` | `extract(epoch from col) as "time"` | `unixepoch(col) AS "time"` |
//! | `$__timeFilter(col)` | `col BETWEEN 'from' AND 'to'` (RFC 3339 with nanoseconds) | `unixepoch(col) BETWEEN from AND to` (Unix seconds) |
//! | `$__timeFrom()`, `$__timeTo()` | `'from'`, `'to'` | same |
//! | `$__timeGroup(col, interval[, fill])` | `floor(extract(epoch from col)/s)*s` | `CAST(unixepoch(col) / s AS INTEGER) * s` |
//! | `$__timeGroupAlias(…)` | the same `AS "time"` | same |
//! | `$__unixEpochFilter(col)` | `col >= from AND col <= to` (Unix seconds) | same |
//! | `$__unixEpochNanoFilter(col)`, `$__unixEpochNanoFrom()`, `$__unixEpochNanoTo()` | nanoseconds | same |
//! | `$__unixEpochGroup(col, interval[, fill])`, `…Alias` | `floor((col)/s)*s` | `CAST((col) / s AS INTEGER) * s` |
//!
//! `interval` is a Grafana interval (`5m`, `'1h'`, `10s`; plugin-time's `parse_interval`);
//! `fill` is `NULL`, `previous` or a number, and sets the query's fill mode and resampling
//! interval, as sqleng's `SetupFillmode`.

use std::time::Duration;

use chrono::{DateTime, Utc};
use plugin_data::convert::FillMissing;

use crate::error::Error;
use crate::macros::Macros;
use crate::query::Query;

/// Go's `time.RFC3339Nano` in UTC: the fraction without trailing zeros.
fn rfc3339_nano(time: DateTime<Utc>) -> String {
    let mut text = time.format("%Y-%m-%dT%H:%M:%S").to_string();
    let nanos = time.timestamp_subsec_nanos();
    if nanos > 0 {
        text.push('.');
        text.push_str(format!("{nanos:09}").trim_end_matches('0'));
    }
    text.push('Z');
    text
}

fn nanos(time: DateTime<Utc>) -> Result<i64, Error> {
    time.timestamp_nanos_opt()
        .ok_or_else(|| Error::Macro(format!("time {time} is out of the nanosecond range")))
}

fn column<'a>(name: &str, args: &'a [String]) -> Result<&'a str, Error> {
    args.first()
        .map(String::as_str)
        .ok_or_else(|| Error::Macro(format!("missing time column argument for macro __{name}")))
}

/// Go's `%v` of a float64 number of seconds: `300`, `0.5`.
fn seconds(interval: Duration) -> String {
    format!("{}", interval.as_secs_f64())
}

/// The interval and optional fill of `$__timeGroup`-like macros; a fill sets the query's fill
/// mode and resampling interval (sqleng `SetupFillmode`).
fn group_interval(name: &str, query: &mut Query, args: &[String]) -> Result<Duration, Error> {
    if args.len() < 2 {
        return Err(Error::Macro(format!(
            "macro __{name} needs time column and interval and optional fill value"
        )));
    }
    let interval = plugin_time::parse_interval(args[1].trim_matches('\''))
        .map_err(|_| Error::Macro(format!("error parsing interval {}", args[1])))?;
    if let Some(fill) = args.get(2) {
        query.fill_missing = Some(match fill.as_str() {
            "NULL" => FillMissing::Null,
            "previous" => FillMissing::Previous,
            value => FillMissing::Value(
                value
                    .parse()
                    .map_err(|_| Error::Macro(format!("error parsing fill value {value}")))?,
            ),
        });
        query.fill_interval = Some(interval);
    }
    Ok(interval)
}

/// Macros both dialects share.
fn common() -> Macros {
    Macros::new()
        .with("time", |_, args| {
            Ok(format!("{} AS \"time\"", column("time", args)?))
        })
        .with("timeFrom", |q, _| {
            Ok(format!("'{}'", rfc3339_nano(q.time_range.from)))
        })
        .with("timeTo", |q, _| {
            Ok(format!("'{}'", rfc3339_nano(q.time_range.to)))
        })
        .with("unixEpochFilter", |q, args| {
            let c = column("unixEpochFilter", args)?;
            let (from, to) = (q.time_range.from.timestamp(), q.time_range.to.timestamp());
            Ok(format!("{c} >= {from} AND {c} <= {to}"))
        })
        .with("unixEpochNanoFilter", |q, args| {
            let c = column("unixEpochNanoFilter", args)?;
            let (from, to) = (nanos(q.time_range.from)?, nanos(q.time_range.to)?);
            Ok(format!("{c} >= {from} AND {c} <= {to}"))
        })
        .with("unixEpochNanoFrom", |q, _| {
            Ok(nanos(q.time_range.from)?.to_string())
        })
        .with("unixEpochNanoTo", |q, _| {
            Ok(nanos(q.time_range.to)?.to_string())
        })
}

impl Macros {
    /// The defaults plus PostgreSQL's time macros (see the [module docs](self)).
    pub fn postgres() -> Self {
        common()
            .with("timeEpoch", |_, args| {
                Ok(format!(
                    "extract(epoch from {}) as \"time\"",
                    column("timeEpoch", args)?
                ))
            })
            .with("timeFilter", |q, args| {
                let c = column("timeFilter", args)?;
                let (from, to) = (
                    rfc3339_nano(q.time_range.from),
                    rfc3339_nano(q.time_range.to),
                );
                Ok(format!("{c} BETWEEN '{from}' AND '{to}'"))
            })
            .with("timeGroup", |q, args| {
                let s = seconds(group_interval("timeGroup", q, args)?);
                Ok(format!("floor(extract(epoch from {})/{s})*{s}", args[0]))
            })
            .with("timeGroupAlias", |q, args| {
                let s = seconds(group_interval("timeGroup", q, args)?);
                Ok(format!(
                    "floor(extract(epoch from {})/{s})*{s} AS \"time\"",
                    args[0]
                ))
            })
            .with("unixEpochGroup", |q, args| {
                let s = seconds(group_interval("unixEpochGroup", q, args)?);
                Ok(format!("floor(({})/{s})*{s}", args[0]))
            })
            .with("unixEpochGroupAlias", |q, args| {
                let s = seconds(group_interval("unixEpochGroup", q, args)?);
                Ok(format!("floor(({})/{s})*{s} AS \"time\"", args[0]))
            })
    }

    /// The defaults plus time macros for SQLite, which keeps times as text or numbers: times
    /// are compared and grouped as Unix seconds (`unixepoch`, SQLite 3.38+), see the
    /// [module docs](self).
    pub fn sqlite() -> Self {
        common()
            .with("timeEpoch", |_, args| {
                Ok(format!(
                    "unixepoch({}) AS \"time\"",
                    column("timeEpoch", args)?
                ))
            })
            .with("timeFilter", |q, args| {
                let c = column("timeFilter", args)?;
                let (from, to) = (q.time_range.from.timestamp(), q.time_range.to.timestamp());
                Ok(format!("unixepoch({c}) BETWEEN {from} AND {to}"))
            })
            .with("timeGroup", |q, args| {
                let s = seconds(group_interval("timeGroup", q, args)?);
                Ok(format!(
                    "CAST(unixepoch({}) / {s} AS INTEGER) * {s}",
                    args[0]
                ))
            })
            .with("timeGroupAlias", |q, args| {
                let s = seconds(group_interval("timeGroup", q, args)?);
                Ok(format!(
                    "CAST(unixepoch({}) / {s} AS INTEGER) * {s} AS \"time\"",
                    args[0]
                ))
            })
            .with("unixEpochGroup", |q, args| {
                let s = seconds(group_interval("unixEpochGroup", q, args)?);
                Ok(format!("CAST(({}) / {s} AS INTEGER) * {s}", args[0]))
            })
            .with("unixEpochGroupAlias", |q, args| {
                let s = seconds(group_interval("unixEpochGroup", q, args)?);
                Ok(format!(
                    "CAST(({}) / {s} AS INTEGER) * {s} AS \"time\"",
                    args[0]
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_backend::TimeRange;

    fn query(sql: &str) -> Query {
        let mut q = Query::new(sql);
        // 2018-04-12T18:00:00Z .. 2018-04-12T18:05:00.5Z, the range of Grafana's macro tests.
        q.time_range = TimeRange::from_epoch_millis(1_523_556_000_000, 1_523_556_300_500).unwrap();
        q
    }

    fn run(macros: &Macros, sql: &str) -> Result<(String, Query), Error> {
        let mut q = query(sql);
        macros.interpolate(&mut q)?;
        Ok((q.raw_sql.clone(), q))
    }

    #[test]
    fn postgres_macros() {
        let pg = Macros::postgres();
        for (sql, want) in [
            (
                "WHERE $__timeFilter(time_column)",
                "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00.5Z'",
            ),
            ("SELECT $__time(t)", "SELECT t AS \"time\""),
            (
                "SELECT $__timeEpoch(t)",
                "SELECT extract(epoch from t) as \"time\"",
            ),
            (
                "$__timeFrom() $__timeTo()",
                "'2018-04-12T18:00:00Z' '2018-04-12T18:05:00.5Z'",
            ),
            (
                "GROUP BY $__timeGroup(time_column,'5m')",
                "GROUP BY floor(extract(epoch from time_column)/300)*300",
            ),
            (
                "GROUP BY $__timeGroup(time_column, 500ms)",
                "GROUP BY floor(extract(epoch from time_column)/0.5)*0.5",
            ),
            (
                "SELECT $__timeGroupAlias(t, 1h)",
                "SELECT floor(extract(epoch from t)/3600)*3600 AS \"time\"",
            ),
            (
                "WHERE $__unixEpochFilter(n)",
                "WHERE n >= 1523556000 AND n <= 1523556300",
            ),
            (
                "WHERE $__unixEpochNanoFilter(n)",
                "WHERE n >= 1523556000000000000 AND n <= 1523556300500000000",
            ),
            (
                "$__unixEpochNanoFrom() $__unixEpochNanoTo()",
                "1523556000000000000 1523556300500000000",
            ),
            (
                "$__unixEpochGroupAlias(n, 10s)",
                "floor((n)/10)*10 AS \"time\"",
            ),
        ] {
            assert_eq!(run(&pg, sql).unwrap().0, want, "{sql}");
        }
    }

    #[test]
    fn sqlite_macros() {
        let lite = Macros::sqlite();
        for (sql, want) in [
            (
                "WHERE $__timeFilter(t)",
                "WHERE unixepoch(t) BETWEEN 1523556000 AND 1523556300",
            ),
            (
                "$__timeGroupAlias(t, 5m)",
                "CAST(unixepoch(t) / 300 AS INTEGER) * 300 AS \"time\"",
            ),
            ("$__unixEpochGroup(n, 1m)", "CAST((n) / 60 AS INTEGER) * 60"),
            (
                "WHERE $__unixEpochFilter(n)",
                "WHERE n >= 1523556000 AND n <= 1523556300",
            ),
        ] {
            assert_eq!(run(&lite, sql).unwrap().0, want, "{sql}");
        }
    }

    #[test]
    fn time_group_fill_sets_query_fill() {
        let pg = Macros::postgres();
        for (fill, want) in [
            ("NULL", FillMissing::Null),
            ("previous", FillMissing::Previous),
            ("1.5", FillMissing::Value(1.5)),
        ] {
            let (_, q) = run(&pg, &format!("$__timeGroup(t, 5m, {fill})")).unwrap();
            assert_eq!(q.fill_missing, Some(want));
            assert_eq!(q.fill_interval, Some(Duration::from_secs(300)));
        }
        let (_, q) = run(&pg, "$__timeGroup(t, 5m)").unwrap();
        assert_eq!((q.fill_missing, q.fill_interval), (None, None));
    }

    #[test]
    fn dialect_errors() {
        for macros in [Macros::postgres(), Macros::sqlite()] {
            for (sql, want) in [
                (
                    "$__timeGroup(t)",
                    "macro __timeGroup needs time column and interval and optional fill value",
                ),
                ("$__timeGroup(t, soon)", "error parsing interval soon"),
                (
                    "$__timeGroup(t, 5m, sometimes)",
                    "error parsing fill value sometimes",
                ),
                (
                    "$__timeFilter",
                    "missing time column argument for macro __timeFilter",
                ),
                (
                    "$__unixEpochFilter",
                    "missing time column argument for macro __unixEpochFilter",
                ),
            ] {
                let err = run(&macros, sql).unwrap_err();
                assert_eq!(err.to_string(), want, "{sql}");
            }
        }
    }
}
