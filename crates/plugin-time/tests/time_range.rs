//! Relative time ranges, as backend/gtime/time_range_test.go
//! (TestTimeRange) checks them, with a fixed `now` where Go's test takes
//! the wall clock.

use chrono::{DateTime, FixedOffset, Month, TimeDelta, TimeZone, Utc, Weekday};
use plugin_time::{Error, Location, TimeRange};

fn rfc3339(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn now() -> DateTime<Utc> {
    rfc3339("2020-03-26T15:12:56.000Z").to_utc()
}

fn chicago() -> Location {
    Location::from_name("America/Chicago").unwrap()
}

/// One TestTimeRange case: the range, then the expected `from` and `to`.
struct Case {
    name: &'static str,
    range: TimeRange,
    from: &'static str,
    to: &'static str,
}

// backend/gtime/time_range_test.go: TestTimeRange
#[test]
fn time_range_table() {
    let summer = rfc3339("2020-07-26T15:12:56.000Z").to_utc();
    let range = |from, to| TimeRange::new(from, to).with_now(now());
    let cases = [
        Case {
            name: "Can parse 5m, now",
            range: range("5m", "now"),
            from: "2020-03-26T15:07:56Z",
            to: "2020-03-26T15:12:56Z",
        },
        Case {
            name: "Can parse 5h, now-10m",
            range: range("5h", "now-10m"),
            from: "2020-03-26T10:12:56Z",
            to: "2020-03-26T15:02:56Z",
        },
        Case {
            name: "Can parse from 7d",
            range: range("7d", "now"),
            from: "2020-03-19T15:12:56Z",
            to: "2020-03-26T15:12:56Z",
        },
        Case {
            name: "Can parse now-1M/M, now-1M/M",
            range: range("now-1M/M", "now-1M/M"),
            from: "2020-02-01T00:00:00.000Z",
            to: "2020-02-29T23:59:59.999Z",
        },
        Case {
            name: "Can parse now-3d, now+3w",
            range: range("now-3d", "now+3w"),
            from: "2020-03-23T15:12:56.000Z",
            to: "2020-04-16T15:12:56.000Z",
        },
        Case {
            name: "Can parse now/fy, now/fQ with fiscal year starting in July",
            range: TimeRange::new("now/fy", "now/fQ")
                .with_now(Utc.with_ymd_and_hms(1994, 2, 26, 14, 0, 0).unwrap())
                .with_fiscal_start_month(Month::July),
            from: "1993-07-01T00:00:00Z",
            to: "1994-03-31T23:59:59.999Z",
        },
        Case {
            name: "Can parse 1960-02-01T07:00:00.000Z, 1965-02-03T08:00:00.000Z",
            range: range("1960-02-01T07:00:00.000Z", "1965-02-03T08:00:00.000Z"),
            from: "1960-02-01T07:00:00.000Z",
            to: "1965-02-03T08:00:00.000Z",
        },
        Case {
            name: "Can parse negative unix epochs",
            range: range("-312915600000", "-154886400000"),
            from: "1960-02-01T07:00:00Z",
            to: "1965-02-03T08:00:00Z",
        },
        Case {
            name: "can parse unix epochs",
            range: range("1474973725473", "1474975757930"),
            from: "2016-09-27T10:55:25.473Z",
            to: "2016-09-27T11:29:17.930Z",
        },
        Case {
            name: "Can parse now-1M/M, now-1M/M with America/Chicago timezone",
            range: TimeRange::new("now-1M/M", "now-1M/M")
                .with_now(summer)
                .with_location(chicago()),
            from: "2020-06-01T00:00:00.000-05:00",
            to: "2020-06-30T23:59:59.999-05:00",
        },
        Case {
            name: "Can parse now-3h, now+2h with America/Chicago timezone",
            range: TimeRange::new("now-3h", "now+2h")
                .with_now(summer)
                .with_location(chicago()),
            from: "2020-07-26T07:12:56.000-05:00",
            to: "2020-07-26T12:12:56.000-05:00",
        },
        Case {
            name: "Can parse now-1w/w without timezone and week start on Monday",
            range: TimeRange::new("now-1w/w", "now-1w/w")
                .with_now(summer)
                .with_week_start(Weekday::Mon),
            from: "2020-07-13T00:00:00.000Z",
            to: "2020-07-19T23:59:59.999Z",
        },
        Case {
            name: "Can parse now-1w/w with America/Chicago timezone and week start on Monday",
            range: TimeRange::new("now-1w/w", "now-1w/w")
                .with_now(summer)
                .with_location(chicago())
                .with_week_start(Weekday::Mon),
            from: "2020-07-13T00:00:00.000-05:00",
            to: "2020-07-19T23:59:59.999-05:00",
        },
        Case {
            name: "Can parse now-1w/w with America/Chicago timezone and week start on Sunday",
            range: TimeRange::new("now-1w/w", "now-1w/w")
                .with_now(summer)
                .with_location(chicago())
                .with_week_start(Weekday::Sun),
            from: "2020-07-19T00:00:00.000-05:00",
            to: "2020-07-25T23:59:59.999-05:00",
        },
        Case {
            name: "Can parse now-1w/w with America/Chicago timezone and week start on Saturday",
            range: TimeRange::new("now-1w/w", "now-1w/w")
                .with_now(summer)
                .with_location(chicago())
                .with_week_start(Weekday::Sat),
            from: "2020-07-18T00:00:00.000-05:00",
            to: "2020-07-24T23:59:59.999-05:00",
        },
    ];
    for case in &cases {
        let from = case.range.parse_from();
        let to = case.range.parse_to();
        assert_eq!(from, Ok(rfc3339(case.from)), "{}: from", case.name);
        assert_eq!(to, Ok(rfc3339(case.to)), "{}: to", case.name);
        let both = case.range.parse().unwrap();
        assert_eq!(
            (both.from, both.to),
            (rfc3339(case.from).to_utc(), rfc3339(case.to).to_utc())
        );
    }
}

// backend/gtime/time_range_test.go: TestTimeRange, "Cannot parse asdf"
#[test]
fn cannot_parse_asdf() {
    let range = TimeRange::new("asdf", "asdf").with_now(now());
    let err = range.parse_from().unwrap_err();
    assert!(
        matches!(err, Error::InvalidTime { position: 1, .. }),
        "{err:?}"
    );
    assert!(range.parse_to().is_err());
    assert!(range.parse().is_err());
}

#[test]
fn results_keep_the_zone_they_were_computed_in() {
    let range = TimeRange::new("now/d", "2014-05-30T20:21+03:00")
        .with_now(now())
        .with_location(chicago());
    assert_eq!(
        range.parse_from().unwrap().offset().local_minus_utc(),
        -5 * 3_600
    );
    assert_eq!(
        range.parse_to().unwrap().offset().local_minus_utc(),
        3 * 3_600
    );
    // Epoch milliseconds and durations are in UTC, whatever the location.
    let range = TimeRange::new("1474973725473", "5m").with_location(chicago());
    assert_eq!(range.parse_from().unwrap().offset().local_minus_utc(), 0);
    assert_eq!(range.parse_to().unwrap().offset().local_minus_utc(), 0);
}

#[test]
fn durations_count_back_from_now() {
    let range = TimeRange::new("-5m", "1M").with_now(now());
    assert_eq!(range.parse_from().unwrap(), now() + TimeDelta::minutes(5));
    // A Grafana month is 730.5 hours, a duration not a calendar month.
    assert_eq!(
        range.parse_to().unwrap(),
        now() - TimeDelta::minutes(730 * 60 + 30)
    );
    // A bare number is epoch milliseconds, before it could be a duration.
    let range = TimeRange::new("0", "2014").with_now(now());
    assert_eq!(range.parse_from().unwrap(), DateTime::UNIX_EPOCH);
    assert_eq!(range.parse_to().unwrap().timestamp_millis(), 2014);
}

#[test]
fn out_of_range_times_are_errors() {
    for input in [
        "9223372036854775807",
        "now+300000y",
        "now+9999999999b",
        "-9223372036854775808",
    ] {
        let range = TimeRange::new(input, input).with_now(now());
        assert!(
            matches!(range.parse_from(), Err(Error::OutOfRange(_))),
            "{input}"
        );
    }
}

#[test]
fn locations() {
    assert_eq!(Location::from_name(""), Ok(Location::UTC));
    assert_eq!(Location::from_name("utc"), Ok(Location::UTC));
    assert_eq!(Location::default(), Location::UTC);
    assert_eq!(Location::UTC.to_string(), "UTC");
    assert_eq!(
        "Asia/Kolkata".parse::<Location>().unwrap().to_string(),
        "Asia/Kolkata"
    );
    let fixed = Location::from(FixedOffset::east_opt(7_200).unwrap());
    assert_eq!(fixed.to_string(), "+02:00");
    // Go's time.LoadLocation is case-sensitive on Linux, and so is this.
    let err = Location::from_name("america/chicago").unwrap_err();
    assert_eq!(err.to_string(), "unknown time zone america/chicago");
    // Every gtime error is the user's: a downstream error to Grafana.
    let backend: plugin_backend::Error = err.into();
    assert_eq!(
        backend.error_source(),
        Some(plugin_backend::ErrorSource::Downstream)
    );
}
