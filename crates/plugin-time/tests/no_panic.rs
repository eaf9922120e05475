//! No input makes the crate panic or hang: arbitrary strings, and strings
//! built from the pieces of Grafana's grammars, through every entry point.

use std::time::Duration;

use chrono::{DateTime, Utc};
use plugin_time::{Location, TimeRange};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    DateTime::from_timestamp(1_585_235_576, 0).unwrap()
}

fn exercise(input: &str) {
    for location in ["UTC", "America/Chicago", "Asia/Kolkata"] {
        let range = TimeRange::new(input, input)
            .with_now(now())
            .with_location(Location::from_name(location).unwrap());
        let _ = range.parse_from();
        let _ = range.parse_to();
    }
    let _ = plugin_time::parse_interval_at(input, now());
    let _ = plugin_time::parse_duration(input);
    let _ = plugin_time::parse_interval_string(input);
    let _ = plugin_time::interval_from(input, input, 0, Duration::from_secs(15));
    let _ = Location::from_name(input);
}

/// Pieces of date math, durations and dates, glued in any order.
fn grammar_pieces() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("now"),
        Just("+"),
        Just("-"),
        Just("/"),
        Just("||"),
        Just(":"),
        Just("."),
        Just("T"),
        Just("Z"),
        Just("y"),
        Just("fy"),
        Just("Q"),
        Just("fQ"),
        Just("M"),
        Just("w"),
        Just("d"),
        Just("b"),
        Just("h"),
        Just("H"),
        Just("m"),
        Just("s"),
        Just("ms"),
        Just("us"),
        Just("µs"),
        Just("ns"),
        Just("<"),
        Just(">"),
        Just("0"),
        Just("1"),
        Just("9"),
        Just("12"),
        Just("2014"),
        Just("2014-05-30"),
        Just("9223372036854775807"),
        Just("99999999999999999999"),
        Just("1474973725473"),
        Just("\0"),
        Just("é"),
        Just(" "),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        exercise(&input);
    }

    #[test]
    fn grammar_soup_never_panics(input in grammar_pieces()) {
        exercise(&input);
    }

    #[test]
    fn any_duration_formats_and_rounds(a in any::<u64>(), b in any::<u64>()) {
        let (a, b) = (Duration::from_nanos(a.min(b)), Duration::from_nanos(a.max(b)));
        for d in [a, b, Duration::MAX] {
            let text = plugin_time::format_interval(d);
            prop_assert!(text.ends_with(['y', 'd', 'h', 'm', 's']), "{}", text);
        }
        // A longer interval never gets a shorter step.
        prop_assert!(plugin_time::round_interval(a) <= plugin_time::round_interval(b));
    }

    #[test]
    fn any_interval_ms_is_an_interval(ms in any::<i64>()) {
        let got = plugin_time::interval_from("", "", ms, Duration::from_secs(15));
        match u64::try_from(ms) {
            Ok(0) => prop_assert_eq!(got, Ok(Duration::from_secs(15))),
            Ok(ms) => prop_assert_eq!(got, Ok(Duration::from_millis(ms))),
            Err(_) => prop_assert!(got.is_err()),
        }
    }
}
