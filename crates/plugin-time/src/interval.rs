//! Grafana intervals and durations: parsing (`10s`, `1h30m`, `1d`, `2w`,
//! `1M`, `1y`), formatting (`1m`, `12h`, `1d`), rounding to a tidy step,
//! and the interval of a query.
//!
//! Go's SDK reads the calendar units `d`, `w`, `M` and `y` two ways:
//! [`parse_interval`] measures them on the calendar from now (a month from
//! today, in UTC), [`parse_duration`] gives them fixed lengths (a month is
//! 730.5 hours). Every other input is Go's `time.ParseDuration` syntax.
// backend/gtime/gtime.go

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{Error, gotime};

/// A parsed input: an exact length, or a count of a calendar unit.
enum Parsed {
    Exact(i64),
    Calendar(i64, CalendarUnit),
}

#[derive(Clone, Copy)]
enum CalendarUnit {
    Day,
    Week,
    Month,
    Year,
}

// backend/gtime/gtime.go: parse
fn parse(input: &str) -> Result<Parsed, Error> {
    let Some(&last) = input.as_bytes().last() else {
        return Err(Error::Empty);
    };
    let unit = match last {
        b'd' => CalendarUnit::Day,
        b'w' => CalendarUnit::Week,
        b'M' => CalendarUnit::Month,
        b'y' => CalendarUnit::Year,
        _ => return gotime::parse_duration(input).map(Parsed::Exact),
    };
    // The last byte is ASCII, so this slices on a character boundary.
    let number = &input[..input.len() - 1];
    if !number.bytes().all(|c| c.is_ascii_digit()) {
        // `-1d`, `1.5d`, `1h1d`: Go hands these to time.ParseDuration,
        // which rejects the unit `d`.
        return gotime::parse_duration(input).map(Parsed::Exact);
    }
    if number.is_empty() {
        return Err(Error::InvalidDuration(input.to_owned()));
    }
    let n = number
        .parse::<i64>()
        .map_err(|_| Error::OutOfRange(input.to_owned()))?;
    Ok(Parsed::Calendar(n, unit))
}

fn non_negative(nanos: i64, input: &str) -> Result<Duration, Error> {
    u64::try_from(nanos)
        .map(Duration::from_nanos)
        .map_err(|_| Error::Negative(input.to_owned()))
}

/// Parses a Grafana interval, measuring the calendar units `d`, `w`, `M`
/// and `y` from the current time in UTC (`1M` in February is 28 or 29
/// days). Go's `gtime.ParseInterval`.
///
/// Everything else is Go's duration syntax: `300ms`, `1.5h`, `2h45m`,
/// `10us`. Negative inputs (`-1s`) are an [`Error::Negative`]: an interval
/// is a length.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(plugin_time::parse_interval("1m30s")?, Duration::from_secs(90));
/// assert_eq!(plugin_time::parse_interval("2w")?, Duration::from_secs(14 * 86_400));
/// assert!(plugin_time::parse_interval("1q").is_err());
/// # Ok::<(), plugin_time::Error>(())
/// ```
pub fn parse_interval(input: &str) -> Result<Duration, Error> {
    parse_interval_at(input, Utc::now())
}

/// [`parse_interval`] with an explicit `now`, for tests and for reading
/// many intervals against one clock.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use std::time::Duration;
/// let feb = Utc.with_ymd_and_hms(2024, 2, 10, 0, 0, 0).unwrap();
/// assert_eq!(plugin_time::parse_interval_at("1M", feb)?, Duration::from_secs(29 * 86_400));
/// # Ok::<(), plugin_time::Error>(())
/// ```
// backend/gtime/gtime.go: ParseInterval
pub fn parse_interval_at(input: &str, now: DateTime<Utc>) -> Result<Duration, Error> {
    let out_of_range = || Error::OutOfRange(input.to_owned());
    let (n, unit) = match parse(input)? {
        Parsed::Exact(nanos) => return non_negative(nanos, input),
        Parsed::Calendar(n, unit) => (n, unit),
    };
    let later = match unit {
        CalendarUnit::Day => gotime::add_date(&now, 0, 0, n),
        CalendarUnit::Week => n
            .checked_mul(7)
            .and_then(|days| gotime::add_date(&now, 0, 0, days)),
        CalendarUnit::Month => gotime::add_date(&now, 0, n, 0),
        CalendarUnit::Year => gotime::add_date(&now, n, 0, 0),
    }
    .ok_or_else(out_of_range)?;
    // Go saturates `Sub` at ±292 years; a std Duration holds the exact
    // length, so only lengths chrono cannot reach are out of range.
    (later - now).to_std().map_err(|_| out_of_range())
}

/// Parses a Grafana duration: the calendar units have fixed lengths (`1d`
/// is 24 hours, `1w` 7 days, `1y` 365.25 days and `1M` a twelfth of that,
/// 730.5 hours), independent of the current time. Go's
/// `gtime.ParseDuration`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(plugin_time::parse_duration("1M")?, Duration::from_secs(730 * 3600 + 1800));
/// # Ok::<(), plugin_time::Error>(())
/// ```
// backend/gtime/gtime.go: ParseDuration
pub fn parse_duration(input: &str) -> Result<Duration, Error> {
    parse_duration_nanos(input).and_then(|nanos| non_negative(nanos, input))
}

/// [`parse_duration`] as signed nanoseconds: `-1h` is one hour back.
pub(crate) fn parse_duration_nanos(input: &str) -> Result<i64, Error> {
    const DAY: i64 = 86_400 * 1_000_000_000;
    // The Julian year, 365.25 days, and a twelfth of it.
    const YEAR: i64 = DAY / 4 * 1461;
    const MONTH: i64 = YEAR / 12;
    let (n, unit) = match parse(input)? {
        Parsed::Exact(nanos) => return Ok(nanos),
        Parsed::Calendar(n, unit) => (n, unit),
    };
    let unit_nanos = match unit {
        CalendarUnit::Day => DAY,
        CalendarUnit::Week => 7 * DAY,
        CalendarUnit::Month => MONTH,
        CalendarUnit::Year => YEAR,
    };
    // Go's multiplication wraps silently; an error is the honest answer.
    n.checked_mul(unit_nanos)
        .ok_or_else(|| Error::OutOfRange(input.to_owned()))
}

/// The interval of a query: its own `interval` string (the panel's min
/// interval) if set, else its `intervalMs`, else the data source's
/// `timeInterval`, else `default`. Go's `gtime.GetIntervalFrom`.
///
/// The strings are read by [`parse_interval_string`]; a query interval
/// of `0s` counts as unset, as Grafana's frontend sends it by default.
///
/// ```
/// use std::time::Duration;
/// let default = Duration::from_secs(15);
/// let from = plugin_time::interval_from;
/// assert_eq!(from("", "2m", 0, default)?, Duration::from_secs(120));
/// assert_eq!(from("10s", "0s", 45_200, default)?, Duration::from_millis(45_200));
/// assert_eq!(from("10s", "", 0, default)?, Duration::from_secs(10));
/// assert_eq!(from("", "", 0, default)?, default);
/// # Ok::<(), plugin_time::Error>(())
/// ```
// backend/gtime/gtime.go: GetIntervalFrom
#[doc(alias = "GetIntervalFrom")]
pub fn interval_from(
    data_source_interval: &str,
    query_interval: &str,
    query_interval_ms: i64,
    default: Duration,
) -> Result<Duration, Error> {
    let interval = match query_interval {
        "0s" | "" if query_interval_ms != 0 => {
            return u64::try_from(query_interval_ms)
                .map(Duration::from_millis)
                .map_err(|_| Error::Negative(format!("{query_interval_ms}ms")));
        }
        "0s" | "" => data_source_interval,
        interval => interval,
    };
    if interval.is_empty() {
        return Ok(default);
    }
    parse_interval_string(interval)
}

/// Parses an interval as Grafana's query editors write it: a bare number
/// of seconds (`10`), or a duration with the fixed-length units of
/// [`parse_duration`] (`1m30s`, `1d`), either one optionally in angle
/// brackets (`<10s>`). Go's `gtime.ParseIntervalStringToTimeDuration`.
///
/// As in Go, only a leading `<` and a trailing `>` are stripped: the
/// frontend's `>10s` (at least ten seconds) is an error here too.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(plugin_time::parse_interval_string("10")?, Duration::from_secs(10));
/// assert_eq!(plugin_time::parse_interval_string("<10s>")?, Duration::from_secs(10));
/// assert!(plugin_time::parse_interval_string(">10s").is_err());
/// # Ok::<(), plugin_time::Error>(())
/// ```
// backend/gtime/gtime.go: ParseIntervalStringToTimeDuration
#[doc(alias = "ParseIntervalStringToTimeDuration")]
pub fn parse_interval_string(input: &str) -> Result<Duration, Error> {
    if input.is_empty() {
        return Err(Error::InvalidInterval(String::new()));
    }
    let interval = input.strip_prefix('<').unwrap_or(input);
    let interval = interval.strip_suffix('>').unwrap_or(interval);
    if interval.bytes().all(|c| c.is_ascii_digit()) {
        if interval.is_empty() {
            // `<>`: Go's strconv.ParseInt rejects the empty number.
            return Err(Error::InvalidInterval(input.to_owned()));
        }
        // Go reads the number as an int64.
        return interval
            .parse::<i64>()
            .ok()
            .and_then(|secs| u64::try_from(secs).ok())
            .map(Duration::from_secs)
            .ok_or_else(|| Error::OutOfRange(input.to_owned()));
    }
    parse_duration(interval)
}

/// Formats an interval in the largest Grafana unit it reaches, rounding
/// down: `61s` is `1m`, `36h` is `1d`, a year is 365 days (`1y`). Below a
/// millisecond it is `1ms`. Go's `gtime.FormatInterval`.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(plugin_time::format_interval(Duration::from_secs(61)), "1m");
/// assert_eq!(plugin_time::format_interval(Duration::from_millis(30)), "30ms");
/// ```
// backend/gtime/gtime.go: FormatInterval
pub fn format_interval(interval: Duration) -> String {
    const UNITS: [(u64, &str); 6] = [
        (365 * 86_400_000, "y"),
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ];
    let millis = interval.as_millis();
    for (unit, suffix) in UNITS {
        let unit = u128::from(unit);
        if millis >= unit {
            return format!("{}{suffix}", millis / unit);
        }
    }
    "1ms".to_owned()
}

/// Rounds an interval to a lower, rounder step from Grafana's fixed ladder
/// (1ms, 10ms, 20ms, 50ms, …, 1m, 2m, 5m, …, 1h, …, 1d, 1w, 30d, 1y).
/// Go's `gtime.RoundInterval`.
///
/// ```
/// use std::time::Duration;
/// let round = plugin_time::round_interval(Duration::from_secs(42));
/// assert_eq!(round, Duration::from_secs(30));
/// ```
// backend/gtime/gtime.go: RoundInterval
pub fn round_interval(interval: Duration) -> Duration {
    // (inclusive upper bound, step), both in milliseconds.
    const LADDER: [(u64, u64); 29] = [
        (10, 1),
        (15, 10),
        (35, 20),
        (75, 50),
        (150, 100),
        (350, 200),
        (750, 500),
        (1_500, 1_000),
        (3_500, 2_000),
        (7_500, 5_000),
        (12_500, 10_000),
        (17_500, 15_000),
        (25_000, 20_000),
        (45_000, 30_000),
        (90_000, 60_000),
        (210_000, 120_000),
        (450_000, 300_000),
        (750_000, 600_000),
        (1_050_000, 900_000),
        (1_500_000, 1_200_000),
        (2_700_000, 1_800_000),
        (5_400_000, 3_600_000),
        (9_000_000, 7_200_000),
        (16_200_000, 10_800_000),
        (32_400_000, 21_600_000),
        (86_400_000, 43_200_000),
        (172_800_000, 86_400_000),
        (604_800_000, 86_400_000),
        (1_814_400_000, 604_800_000),
    ];
    let step = match LADDER
        .iter()
        .find(|(bound, _)| interval <= Duration::from_millis(*bound))
    {
        Some(&(_, step)) => step,
        // Go's last bound is exclusive: under two years is 30 days.
        None if interval < Duration::from_millis(63_072_000_000) => 2_592_000_000,
        None => 31_536_000_000,
    };
    Duration::from_millis(step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const SEC: u64 = 1_000_000_000;
    const HOUR: u64 = 3_600 * SEC;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 3, 26, 15, 12, 56).unwrap()
    }

    // backend/gtime/gtime_test.go: TestParseInterval. Go measures M and y
    // from the wall clock; here from a fixed `now` (March 2020: 31 days to
    // April 26, 365 days to March 26, 2021).
    #[test]
    fn parse_interval_table() {
        let cases: &[(&str, u64)] = &[
            ("1d", 24 * HOUR),
            ("1w", 168 * HOUR),
            ("2w", 2 * 168 * HOUR),
            ("1M", 31 * 24 * HOUR),
            ("1y", 365 * 24 * HOUR),
        ];
        for &(input, nanos) in cases {
            assert_eq!(
                parse_interval_at(input, now()),
                Ok(Duration::from_nanos(nanos)),
                "{input}"
            );
        }
        let err = parse_interval_at("invalid-duration", now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"time: invalid duration "invalid-duration""#
        );
    }

    #[test]
    fn calendar_months_follow_go_add_date() {
        // Go's AddDate normalises January 31 + 1 month to March 2 (2020 is
        // a leap year), so "1M" on January 31 is 31 days.
        let jan31 = Utc.with_ymd_and_hms(2020, 1, 31, 0, 0, 0).unwrap();
        assert_eq!(
            parse_interval_at("1M", jan31),
            Ok(Duration::from_secs(31 * 86_400))
        );
        let feb29 = Utc.with_ymd_and_hms(2020, 2, 29, 0, 0, 0).unwrap();
        // February 29, 2021 is March 1, 2021: 366 days.
        assert_eq!(
            parse_interval_at("1y", feb29),
            Ok(Duration::from_secs(366 * 86_400))
        );
        assert_eq!(parse_interval_at("0M", feb29), Ok(Duration::ZERO));
        // Whatever `now`, the wall-clock entry point agrees on fixed units.
        assert_eq!(parse_interval("3d"), Ok(Duration::from_secs(3 * 86_400)));
    }

    // backend/gtime/gtime_test.go: TestParseDuration
    #[test]
    fn parse_duration_table() {
        let cases: &[(&str, u64)] = &[
            ("1s", SEC),
            ("1m", 60 * SEC),
            ("1h", HOUR),
            ("1d", 24 * HOUR),
            ("1w", 7 * 24 * HOUR),
            ("2w", 2 * 7 * 24 * HOUR),
            ("1M", 730 * HOUR + HOUR / 2),
            ("1y", 365 * 24 * HOUR + 6 * HOUR),
            ("5y", 5 * (365 * 24 * HOUR + 6 * HOUR)),
        ];
        for &(input, nanos) in cases {
            assert_eq!(
                parse_duration(input),
                Ok(Duration::from_nanos(nanos)),
                "{input}"
            );
        }
        assert_eq!(
            parse_duration("invalid-duration").unwrap_err().to_string(),
            r#"time: invalid duration "invalid-duration""#
        );
    }

    // backend/gtime/gtime_test.go: TestParse (the shared grammar)
    #[test]
    fn parse_table() {
        let ok: &[(&str, u64)] = &[
            ("30s", 30 * SEC),
            ("5m", 300 * SEC),
            ("1m30s", 90 * SEC),
            ("1h30m", 90 * 60 * SEC),
            ("30d", 30 * 24 * HOUR),
        ];
        for &(input, nanos) in ok {
            assert_eq!(
                parse_duration(input),
                Ok(Duration::from_nanos(nanos)),
                "{input}"
            );
        }
        let errors: &[(&str, &str)] = &[
            ("invalid", r#"time: invalid duration "invalid""#),
            ("abc1d", r#"time: invalid duration "abc1d""#),
            ("", "empty input"),
            ("a5d", r#"time: invalid duration "a5d""#),
            ("5a3d", r#"time: unknown unit "a" in duration "5a3d""#),
        ];
        for &(input, message) in errors {
            assert_eq!(
                parse_duration(input).unwrap_err().to_string(),
                message,
                "{input:?}"
            );
            assert_eq!(
                parse_interval_at(input, now()).unwrap_err().to_string(),
                message
            );
        }
    }

    // Go's time.ParseDuration cases (time/time_test.go: parseDurationTests).
    #[test]
    fn go_duration_syntax() {
        let ok: &[(&str, i64)] = &[
            ("0", 0),
            ("5s", 5_000_000_000),
            ("+5s", 5_000_000_000),
            ("-5s", -5_000_000_000),
            ("5.6s", 5_600_000_000),
            ("5.s", 5_000_000_000),
            (".5s", 500_000_000),
            ("1.004s", 1_004_000_000),
            ("100.00100s", 100_001_000_000),
            ("10ns", 10),
            ("11us", 11_000),
            ("12\u{b5}s", 12_000),
            ("12\u{3bc}s", 12_000),
            ("13ms", 13_000_000),
            ("3h30m", 12_600_000_000_000),
            ("-2m3.4s", -123_400_000_000),
            ("1h2m3s4ms5us6ns", 3_723_004_005_006),
            ("52763797000ns", 52_763_797_000),
            ("0.3333333333333333333h", 1_200_000_000_000),
            ("9007199254.740993ms", 9_007_199_254_740_993),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("-9223372036854775.808us", i64::MIN),
            ("0.100000000000000000000h", 360_000_000_000),
            ("0.830103483285477580700h", 2_988_372_539_827),
        ];
        for &(input, nanos) in ok {
            assert_eq!(gotime::parse_duration(input), Ok(nanos), "{input}");
        }
        let errors: &[(&str, &str)] = &[
            ("3", r#"time: missing unit in duration "3""#),
            ("-", r#"time: invalid duration "-""#),
            ("s", r#"time: invalid duration "s""#),
            (".", r#"time: invalid duration ".""#),
            ("-.", r#"time: invalid duration "-.""#),
            (".s", r#"time: invalid duration ".s""#),
            ("+.s", r#"time: invalid duration "+.s""#),
            ("1d", r#"time: unknown unit "d" in duration "1d""#),
            ("\u{fffd}", r#"time: invalid duration "\xef\xbf\xbd""#),
            (
                "1\u{e9}s",
                r#"time: unknown unit "\xc3\xa9s" in duration "1\xc3\xa9s""#,
            ),
            (
                "9223372036854775808ns",
                r#"time: invalid duration "9223372036854775808ns""#,
            ),
            (
                "9223372036854775.808us",
                r#"time: invalid duration "9223372036854775.808us""#,
            ),
            (
                "-9223372036854775809ns",
                r#"time: invalid duration "-9223372036854775809ns""#,
            ),
        ];
        for &(input, message) in errors {
            let got = gotime::parse_duration(input).unwrap_err().to_string();
            assert_eq!(got, message, "{input:?}");
        }
    }

    #[test]
    fn negative_and_huge_inputs_are_errors() {
        assert_eq!(parse_interval("-1s"), Err(Error::Negative("-1s".into())));
        assert_eq!(parse_duration("-1h"), Err(Error::Negative("-1h".into())));
        // Go wraps `n * day` silently; here it is an error.
        assert!(matches!(
            parse_duration("9999999999999d"),
            Err(Error::OutOfRange(_))
        ));
        assert!(matches!(
            parse_interval("99999999999999999999y"),
            Err(Error::OutOfRange(_))
        ));
        assert!(matches!(
            parse_interval_at("9999999999y", now()),
            Err(Error::OutOfRange(_))
        ));
        // Go saturates at 292 years; 1000 years is exact here.
        assert_eq!(
            parse_interval_at("1000y", now()).map(|d| d.as_secs() / 86_400),
            Ok(365_242)
        );
        // Only digits before a calendar unit; the rest is Go's syntax.
        assert_eq!(
            parse_interval("1.5d").unwrap_err().to_string(),
            r#"time: unknown unit "d" in duration "1.5d""#
        );
        assert_eq!(parse_interval("d"), Err(Error::InvalidDuration("d".into())));
    }

    // backend/gtime/gtime_test.go: TestGetIntervalFrom. Go's test passes
    // each interval as the data source's (the first argument), with an
    // empty query interval; so does this one.
    #[test]
    fn interval_from_table() {
        let default = Duration::from_secs(15);
        let cases: &[(&str, i64, Duration)] = &[
            ("45s", 0, Duration::from_secs(45)),
            ("45", 0, Duration::from_secs(45)),
            ("2m", 0, Duration::from_secs(120)),
            ("1d", 0, Duration::from_secs(86_400)),
            ("", 45_000, Duration::from_secs(45)),
            ("", 45_200, Duration::from_millis(45_200)),
            ("", 0, default),
        ];
        for &(interval, ms, want) in cases {
            assert_eq!(
                interval_from(interval, "", ms, default),
                Ok(want),
                "{interval:?} {ms}"
            );
        }
    }

    #[test]
    fn interval_from_precedence() {
        let default = Duration::from_secs(15);
        let s = Duration::from_secs;
        // The query's own interval wins over intervalMs and the data source's.
        assert_eq!(interval_from("10s", "1m", 5_000, default), Ok(s(60)));
        // `0s` is Grafana's unset query interval: intervalMs, then the data
        // source's interval.
        assert_eq!(interval_from("10s", "0s", 5_000, default), Ok(s(5)));
        assert_eq!(interval_from("10s", "0s", 0, default), Ok(s(10)));
        assert_eq!(interval_from("", "0s", 0, default), Ok(default));
        assert_eq!(interval_from("<20s>", "", 0, default), Ok(s(20)));
        assert_eq!(
            interval_from("", "", -5, default),
            Err(Error::Negative("-5ms".into()))
        );
        assert_eq!(
            interval_from("x", "", 0, default).unwrap_err().to_string(),
            r#"time: invalid duration "x""#
        );
    }

    // backend/gtime/gtime_test.go: TestParseIntervalStringToTimeDuration
    #[test]
    fn parse_interval_string_table() {
        let cases: &[(&str, u64)] = &[
            ("1s", SEC),
            ("1m", 60 * SEC),
            ("1h", HOUR),
            ("1d", 24 * HOUR),
            ("1w", 7 * 24 * HOUR),
            ("2w", 2 * 7 * 24 * HOUR),
            ("1M", 730 * HOUR + HOUR / 2),
            ("1y", 365 * 24 * HOUR + 6 * HOUR),
            ("5y", 5 * (365 * 24 * HOUR + 6 * HOUR)),
            // ParseIntervalStringToTimeDuration specific conditions
            ("10", 10 * SEC),
            ("<10s>", 10 * SEC),
            ("10s>", 10 * SEC),
            ("<10s", 10 * SEC),
        ];
        for &(input, nanos) in cases {
            assert_eq!(
                parse_interval_string(input),
                Ok(Duration::from_nanos(nanos)),
                "{input}"
            );
        }
        let errors: &[(&str, &str)] = &[
            (
                "invalid-duration",
                r#"time: invalid duration "invalid-duration""#,
            ),
            ("", r#"invalid interval """#),
            ("<>", r#"invalid interval "<>""#),
            // Only `<` in front and `>` behind are stripped, as in Go.
            (">10s", r#"time: invalid duration ">10s""#),
            (
                "99999999999999999999",
                r#""99999999999999999999" is out of range"#,
            ),
            ("-5s", r#"negative interval "-5s""#),
        ];
        for &(input, message) in errors {
            let got = parse_interval_string(input).unwrap_err().to_string();
            assert_eq!(got, message, "{input:?}");
        }
    }

    // backend/gtime/gtime_test.go: TestFormatInterval
    #[test]
    fn format_interval_table() {
        let cases: &[(Duration, &str)] = &[
            (Duration::from_secs(61), "1m"),
            (Duration::from_millis(30), "30ms"),
            (Duration::from_secs(23 * 3_600), "23h"),
            (Duration::from_secs(24 * 3_600), "1d"),
            (Duration::from_secs(367 * 86_400), "1y"),
            (Duration::from_micros(999), "1ms"),
            (Duration::ZERO, "1ms"),
            (Duration::from_millis(1_500), "1s"),
        ];
        for &(interval, text) in cases {
            assert_eq!(format_interval(interval), text, "{interval:?}");
        }
    }

    // backend/gtime/gtime_test.go: TestRoundInterval
    #[test]
    fn round_interval_table() {
        let cases: &[(u64, u64)] = &[
            (9, 1),
            (14, 10),
            (34, 20),
            (74, 50),
            (140, 100),
            (320, 200),
            (740, 500),
            (1_400, 1_000),
            (3_200, 2_000),
            (7_400, 5_000),
            (12_400, 10_000),
            (17_250, 15_000),
            (23_000, 20_000),
            (42_000, 30_000),
            (85_000, 60_000),
            (200_000, 120_000),
            (420_000, 300_000),
            (720_000, 600_000),
            (1_000_000, 900_000),
            (1_250_000, 1_200_000),
            (2_500_000, 1_800_000),
            (5_200_000, 3_600_000),
            (8_500_000, 7_200_000),
            (15_000_000, 10_800_000),
            (30_000_000, 21_600_000),
            (85_000_000, 43_200_000),
            (150_000_000, 86_400_000),
            (600_000_000, 86_400_000),
            (1_500_000_000, 604_800_000),
            (3_500_000_000, 2_592_000_000),
            (40_000_000_000, 2_592_000_000),
            (70_000_000_000, 31_536_000_000),
        ];
        for &(input, step) in cases {
            let got = round_interval(Duration::from_millis(input));
            assert_eq!(got, Duration::from_millis(step), "{input}ms");
        }
        // The bounds: inclusive on the ladder, exclusive at two years.
        assert_eq!(
            round_interval(Duration::from_millis(10)),
            Duration::from_millis(1)
        );
        assert_eq!(
            round_interval(Duration::from_millis(63_072_000_000) - Duration::from_nanos(1)),
            Duration::from_millis(2_592_000_000)
        );
        assert_eq!(
            round_interval(Duration::from_millis(63_072_000_000)),
            Duration::from_millis(31_536_000_000)
        );
    }
}
