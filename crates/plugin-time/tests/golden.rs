//! Replays how grafana-plugin-sdk-go v0.300.0 itself reads time ranges:
//! `golden/time_range.tsv` holds the results of Go's
//! `gtime.TimeRange.ParseFrom` and `ParseTo` (backend/gtime/time_range.go,
//! with go-datemath) for every input, `now`, zone, week start and fiscal
//! year of `golden/gen.go`, which wrote it.

use chrono::{DateTime, Month, Utc, Weekday};
use plugin_time::{Location, TimeRange};

const GOLDEN: &str = include_str!("golden/time_range.tsv");

/// Go's `time.Weekday`: Sunday is 0.
fn weekday(n: &str) -> Weekday {
    let n: u8 = n.parse().unwrap();
    Weekday::try_from((n + 6) % 7).unwrap()
}

fn check(
    what: &str,
    got: Result<DateTime<chrono::FixedOffset>, plugin_time::Error>,
    want: &str,
) -> Option<String> {
    match (got, want) {
        // Go panics on `now/b`; here it is an error.
        (Err(_), "error" | "panic") => None,
        (Ok(t), "error" | "panic") => Some(format!("{what}: got {t}, Go: {want}")),
        (Err(e), want) => Some(format!("{what}: got error {e}, Go: {want}")),
        (Ok(t), want) => {
            let want = DateTime::parse_from_rfc3339(want).unwrap();
            (t != want).then(|| format!("{what}: got {}, Go: {want}", t.to_utc()))
        }
    }
}

#[test]
fn time_ranges_read_as_go_reads_them() {
    let mut cases = 0;
    let mut failures = Vec::new();
    for line in GOLDEN.lines().filter(|l| !l.starts_with('#')) {
        let fields: Vec<&str> = line.split('\t').collect();
        let [now, location, week_start, fiscal, input, from, to] = fields[..] else {
            panic!("bad golden line {line:?}");
        };
        let now: DateTime<Utc> = now.parse().unwrap();
        let fiscal = Month::try_from(fiscal.parse::<u8>().unwrap()).unwrap();
        let range = TimeRange::new(input, input)
            .with_now(now)
            .with_location(Location::from_name(location).unwrap())
            .with_week_start(weekday(week_start))
            .with_fiscal_start_month(fiscal);
        let what =
            format!("{input:?} at {now} in {location}, weeks from {week_start}, fiscal {fiscal:?}");
        failures.extend(check(&format!("from {what}"), range.parse_from(), from));
        failures.extend(check(&format!("to {what}"), range.parse_to(), to));
        cases += 1;
    }
    assert!(cases > 9_000, "only {cases} golden cases");
    assert!(
        failures.is_empty(),
        "{} of {} disagree with Go:\n{}",
        failures.len(),
        cases * 2,
        failures[..failures.len().min(40)].join("\n")
    );
}
