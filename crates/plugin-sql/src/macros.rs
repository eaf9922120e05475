//! [`Macros`]: `$__name(args)` substitution in SQL text (data/sqlutil/macros.go).
//!
//! A macro is `$__` and a name that ends at a non-word character, optionally followed
//! *directly* by a bracketed argument list; arguments are split at top-level commas and
//! trimmed, nested brackets are kept (`$__f(cast(a, b))` has one argument). Longer names are
//! replaced first, so `$__timeGroupAlias` is never read as `$__timeGroup`. A missing closing
//! bracket is an error, never a panic.
//!
//! [`Macros::new`] holds the Go SDK's defaults; a data source adds or overrides macros with
//! [`Macros::with`], and [`Macros::sqlite`] / [`Macros::postgres`] add each dialect's time
//! macros.
//!
//! ```
//! use std::time::Duration;
//! use plugin_sql::{Macros, Query};
//!
//! let macros = Macros::new().with("limit", |_query, args| Ok(format!("LIMIT {}", args[0])));
//! let mut query = Query::new("SELECT * FROM $__table WHERE n > $__interval_ms $__limit(10)");
//! query.table = "events".into();
//! query.interval = Duration::from_secs(5);
//! macros.interpolate(&mut query)?;
//! assert_eq!(query.raw_sql, "SELECT * FROM events WHERE n > 5000 LIMIT 10");
//! # Ok::<(), plugin_sql::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::Error;
use crate::query::Query;

/// A macro: gets the query (its `raw_sql` is the SQL as interpolated so far; it may set
/// fill options) and the arguments, returns the replacement text.
pub type MacroFn = dyn Fn(&mut Query, &[String]) -> Result<String, Error> + Send + Sync;

/// A set of named macros. Cheap to clone.
#[derive(Clone)]
pub struct Macros {
    macros: BTreeMap<String, Arc<MacroFn>>,
}

impl Default for Macros {
    fn default() -> Self {
        Macros::new()
    }
}

impl fmt::Debug for Macros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.macros.keys()).finish()
    }
}

/// The argument-count check of the default macros (data/sqlutil/macros.go).
fn expect_args(args: &[String], count: usize, expected: &'static str) -> Result<(), Error> {
    if args.len() == count {
        Ok(())
    } else {
        Err(Error::BadArgumentCount {
            expected,
            received: args.len(),
        })
    }
}

/// Go's `time.RFC3339` in UTC: whole seconds and `Z`.
pub(crate) fn rfc3339(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn default_time_group(_: &mut Query, args: &[String]) -> Result<String, Error> {
    expect_args(args, 2, "2 arguments")?;
    let column = &args[0];
    // Each period includes the coarser ones after it; an unknown period is empty, as in Go.
    let parts: &[&str] = match args[1].as_str() {
        "minute" => &["minute", "hour", "day", "month", "year"],
        "hour" => &["hour", "day", "month", "year"],
        "day" => &["day", "month", "year"],
        "month" => &["month", "year"],
        "year" => &["year"],
        _ => &[],
    };
    Ok(parts
        .iter()
        .map(|part| format!("datepart({part}, {column})"))
        .collect::<Vec<_>>()
        .join(","))
}

impl Macros {
    /// The Go SDK's default macros (data/sqlutil/macros.go `DefaultMacros`):
    ///
    /// | macro | becomes |
    /// |---|---|
    /// | `$__interval` | the query interval, e.g. `10m` (`gtime.FormatInterval`) |
    /// | `$__interval_ms` | the query interval in milliseconds |
    /// | `$__timeFilter(col)` | `col >= 'from' AND col <= 'to'` (RFC 3339, UTC, seconds) |
    /// | `$__timeFrom(col)` | `col >= 'from'` |
    /// | `$__timeTo(col)` | `col <= 'to'` |
    /// | `$__timeGroup(col, period)` | `datepart(…, col),…` for `minute`…`year` |
    /// | `$__table`, `$__column` | the query's `table` and `column` |
    pub fn new() -> Self {
        Macros::empty()
            .with("interval", |q, _| {
                Ok(plugin_time::format_interval(q.interval))
            })
            .with("interval_ms", |q, _| Ok(q.interval.as_millis().to_string()))
            .with("timeFilter", |q, args| {
                expect_args(args, 1, "1 argument")?;
                let column = &args[0];
                let (from, to) = (rfc3339(q.time_range.from), rfc3339(q.time_range.to));
                Ok(format!("{column} >= '{from}' AND {column} <= '{to}'"))
            })
            .with("timeFrom", |q, args| {
                expect_args(args, 1, "1 argument")?;
                Ok(format!("{} >= '{}'", args[0], rfc3339(q.time_range.from)))
            })
            .with("timeTo", |q, args| {
                expect_args(args, 1, "1 argument")?;
                Ok(format!("{} <= '{}'", args[0], rfc3339(q.time_range.to)))
            })
            .with("timeGroup", default_time_group)
            .with("table", |q, _| Ok(q.table.clone()))
            .with("column", |q, _| Ok(q.column.clone()))
    }

    /// No macros at all.
    pub fn empty() -> Self {
        Macros {
            macros: BTreeMap::new(),
        }
    }

    /// These macros with `$__name` added or replaced. `name` is the part after `$__`.
    pub fn with(
        mut self,
        name: impl Into<String>,
        macro_fn: impl Fn(&mut Query, &[String]) -> Result<String, Error> + Send + Sync + 'static,
    ) -> Self {
        self.macros.insert(name.into(), Arc::new(macro_fn));
        self
    }

    /// These macros without `$__name`.
    pub fn without(mut self, name: &str) -> Self {
        self.macros.remove(name);
        self
    }

    /// Adds or replaces every macro of `other`.
    pub fn extend(mut self, other: Macros) -> Self {
        self.macros.extend(other.macros);
        self
    }

    /// The macro names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.macros.keys().map(String::as_str)
    }

    /// Replaces every macro in `query.raw_sql` (data/sqlutil/macros.go `Interpolate`).
    ///
    /// On error `query.raw_sql` holds the SQL as far as it was interpolated.
    ///
    /// # Errors
    ///
    /// [`Error::MissingCloseBracket`], and whatever a macro returns
    /// ([`Error::BadArgumentCount`], [`Error::Macro`]).
    pub fn interpolate(&self, query: &mut Query) -> Result<(), Error> {
        let mut names: Vec<(&String, &Arc<MacroFn>)> = self.macros.iter().collect();
        // Longest first; equal lengths by name, so the order never depends on the map.
        names.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(b.0)));
        for (name, macro_fn) in names {
            for (full, args) in find_macro(&query.raw_sql, name)? {
                let replacement = macro_fn(query, &args)?;
                query.raw_sql = query.raw_sql.replace(&full, &replacement);
            }
        }
        Ok(())
    }
}

fn is_word_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_'
}

/// Every call of `$__name` in `sql` (the regex `\$__name\b` and what follows it): the full
/// text of the call and its arguments.
fn find_macro(sql: &str, name: &str) -> Result<Vec<(String, Vec<String>)>, Error> {
    let pattern = format!("$__{name}");
    let mut calls = Vec::new();
    for (start, _) in sql.match_indices(&pattern) {
        let end = start + pattern.len();
        if sql.as_bytes().get(end).copied().is_some_and(is_word_byte) {
            continue;
        }
        let (args, length) = parse_args(&sql[end..])?;
        calls.push((sql[start..end + length].to_owned(), args));
    }
    Ok(calls)
}

/// The bracketed argument list at the very start of `text` and its length in bytes; no
/// arguments and length 0 when `text` does not start with `(` (data/sqlutil/macros.go
/// `parseArgs`).
pub(crate) fn parse_args(text: &str) -> Result<(Vec<String>, usize), Error> {
    if !text.starts_with('(') {
        return Ok((Vec::new(), 0));
    }
    let mut args = Vec::new();
    let mut depth = 0_usize;
    let mut arg_start = 1;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    args.push(text[arg_start..i].trim().to_owned());
                    return Ok((args, i + 1));
                }
            }
            ',' if depth == 1 => {
                args.push(text[arg_start..i].trim().to_owned());
                arg_start = i + 1;
            }
            _ => {}
        }
    }
    Err(Error::MissingCloseBracket)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn fixed(output: &'static str) -> impl Fn(&mut Query, &[String]) -> Result<String, Error> {
        move |_, _| Ok(output.to_owned())
    }

    /// The test macros of data/sqlutil/macros_test.go.
    fn test_macros() -> Macros {
        Macros::new()
            .with("foo", fixed("baz"))
            .with("fooBaz", fixed("qux"))
            .with("params", |_, args| {
                Ok(match args.first() {
                    Some(arg) if !arg.is_empty() => format!("bar_{arg}"),
                    _ => "bar".to_owned(),
                })
            })
            .with("f", fixed("f(1)"))
            .with("g", fixed("g(1)"))
            .with("num", fixed("10000"))
            .with("multiParams", |_, args| {
                let mut parts = vec!["bar".to_owned()];
                parts.extend(args.iter().cloned());
                Ok(parts.join("_"))
            })
            .with("timeGroup", fixed("grouped!"))
    }

    #[test]
    fn interpolates_like_go() {
        // Every case of TestInterpolate (data/sqlutil/macros_test.go); None = error.
        let zero = "'0001-01-01T00:00:00Z'";
        let cases: Vec<(&str, Option<String>)> = vec![
            ("select * from foo", Some("select * from foo".into())),
            ("select * from $__foo()", Some("select * from baz".into())),
            ("select $__foo, $__fooBaz from foo", Some("select baz, qux from foo".into())),
            ("select '$__foo()' from $__foo()", Some("select 'baz' from baz".into())),
            ("select * from $__foo()$__foo()", Some("select * from bazbaz".into())),
            ("select * from $__foo", Some("select * from baz".into())),
            ("select * from $__params()", Some("select * from bar".into())),
            ("select * from $__params(hello)", Some("select * from bar_hello".into())),
            ("select * from $__params(h)", Some("select * from bar_h".into())),
            ("select * from $__params(hello) AND $__params(hello)", Some("select * from bar_hello AND bar_hello".into())),
            ("(select * from $__params(hello) AND $__params(hello))", Some("(select * from bar_hello AND bar_hello)".into())),
            ("select * from $__params(hello) AND $__params(world)", Some("select * from bar_hello AND bar_world".into())),
            ("select * from $__params(world) AND $__foo() AND $__params(hello)", Some("select * from bar_world AND baz AND bar_hello".into())),
            ("select * from foo group by bin(time, $__interval)", Some("select * from foo group by bin(time, 10m)".into())),
            ("select count(*) / $__interval_ms * 1000 as qps from foo", Some("select count(*) / 600000 * 1000 as qps from foo".into())),
            ("select * from foo where $__timeFilter(time)", Some(format!("select * from foo where time >= {zero} AND time <= {zero}"))),
            ("select * from foo where $__timeFilter(cast(sth as timestamp))", Some(format!("select * from foo where cast(sth as timestamp) >= {zero} AND cast(sth as timestamp) <= {zero}"))),
            ("select * from foo where $__timeFilter(cast(sth as timestamp) )", Some(format!("select * from foo where cast(sth as timestamp) >= {zero} AND cast(sth as timestamp) <= {zero}"))),
            ("select * from foo where $__timeTo(time)", Some(format!("select * from foo where time <= {zero}"))),
            ("select * from foo where $__timeFrom(time)", Some(format!("select * from foo where time >= {zero}"))),
            ("select * from foo where $__timeFrom(cast(sth as timestamp))", Some(format!("select * from foo where cast(sth as timestamp) >= {zero}"))),
            ("select * from foo where $__timeGroup(time,minute)", Some("select * from foo where grouped!".into())),
            ("select $__column from $__table", Some("select my_col from my_table".into())),
            ("select * from table where ( datetime >= $__foo() ) AND ( datetime <= $__foo() ) limit 100", Some("select * from table where ( datetime >= baz ) AND ( datetime <= baz ) limit 100".into())),
            ("select * from table where ( datetime >= $__foo ) AND ( datetime <= $__foo ) limit 100", Some("select * from table where ( datetime >= baz ) AND ( datetime <= baz ) limit 100".into())),
            ("select * from foo where $__multiParams(foo, bar)", Some("select * from foo where bar_foo_bar".into())),
            ("select * from foo where $__params(FUNC(foo, bar))", Some("select * from foo where bar_FUNC(foo, bar)".into())),
            ("select * from foo where $__f > $__g", Some("select * from foo where f(1) > g(1)".into())),
            ("select * from foo where $__num*(table.a + table.b) > 1000000", Some("select * from foo where 10000*(table.a + table.b) > 1000000".into())),
            ("select * from foo where $__params(whoops", None),
            ("select * from foo where $__params(FUNC(foo, bar)", None),
            ("select * from foo where $__params(FUNC(foo, bar)) > $__timeTo(uhoh", None),
        ];
        let macros = test_macros();
        let go_zero = "0001-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        for (input, want) in cases {
            let mut query = Query::new(input);
            query.table = "my_table".into();
            query.column = "my_col".into();
            query.interval = Duration::from_secs(600);
            query.time_range = plugin_backend::TimeRange::new(go_zero, go_zero);
            let got = macros.interpolate(&mut query).map(|()| query.raw_sql);
            match want {
                Some(want) => assert_eq!(got.unwrap(), want, "{input}"),
                None => assert!(
                    matches!(got, Err(Error::MissingCloseBracket)),
                    "{input}: {got:?}"
                ),
            }
        }
    }

    #[test]
    fn parses_args_like_go() {
        // Test_parseArgs (data/sqlutil/macros_test.go).
        let ok = |args: &[&str], len| {
            Ok::<_, ()>((args.iter().map(|s| s.to_string()).collect::<Vec<_>>(), len))
        };
        let parse = |s| parse_args(s).map_err(|_| ());
        assert_eq!(parse("foo bar"), ok(&[], 0));
        assert_eq!(parse("foo(bar)"), ok(&[], 0));
        assert_eq!(parse(" (bar)"), ok(&[], 0));
        assert_eq!(parse("(bar)"), ok(&["bar"], 5));
        assert_eq!(parse("(bar, baz, quux)"), ok(&["bar", "baz", "quux"], 16));
        assert_eq!(parse("(bar(some,thing))"), ok(&["bar(some,thing)"], 17));
        assert_eq!(
            parse("(arg1, arg2), not_an_arg, nope"),
            ok(&["arg1", "arg2"], 12)
        );
        assert_eq!(parse("(arg1, arg2"), Err(()));
        // Byte lengths, not characters, so the caller can slice.
        assert_eq!(parse("(é)x"), ok(&["é"], 4));
    }

    #[test]
    fn matches_whole_names_only() {
        // TestGetMacroMatches (data/sqlutil/macros_test.go).
        for name in Macros::new().names() {
            assert_eq!(
                find_macro(&format!("$__{name}"), name).unwrap(),
                vec![(format!("$__{name}"), vec![])]
            );
        }
        assert!(
            find_macro("$__timeFilterEpoch(time_column)", "timeFilter")
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn default_macros_check_arguments() {
        for sql in [
            "$__timeFilter",
            "$__timeFilter(a, b)",
            "$__timeFrom()x",
            "$__timeGroup(a)",
        ] {
            let mut query = Query::new(sql);
            let err = Macros::new().interpolate(&mut query);
            if sql == "$__timeFrom()x" {
                // One empty argument is one argument.
                assert!(err.is_ok());
                continue;
            }
            assert!(
                matches!(err, Err(Error::BadArgumentCount { .. })),
                "{sql}: {err:?}"
            );
        }
        let mut query = Query::new("$__timeGroup(t, hour) $__timeGroup(t, week)");
        Macros::new().interpolate(&mut query).unwrap();
        assert_eq!(
            query.raw_sql,
            "datepart(hour, t),datepart(day, t),datepart(month, t),datepart(year, t) "
        );
        let mut query = Query::new("x $__nope(");
        assert!(
            Macros::new().interpolate(&mut query).is_ok(),
            "unknown macros stay as they are"
        );
    }
}
