//! `#[derive(ToFrame)]`: names, nullability, labels, column order and types, against frames
//! built column by column (the framestruct idea, Go `data/framestruct/converter_test.go`).
#![cfg(feature = "derive")]

use std::borrow::Cow;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plugin_data::{EnumIndex, Field, FieldValues, Frame, ToFrame};

#[derive(ToFrame)]
struct Everything<'a> {
    i8: i8,
    i16: i16,
    i32: i32,
    i64: i64,
    u8: u8,
    u16: u16,
    u32: u32,
    u64: u64,
    f32: f32,
    f64: f64,
    bool: bool,
    string: String,
    str: &'a str,
    cow: Cow<'a, str>,
    time: SystemTime,
    state: EnumIndex,
    maybe_i64: Option<i64>,
    maybe_f64: Option<f64>,
    maybe_bool: Option<bool>,
    maybe_string: Option<String>,
    maybe_time: Option<SystemTime>,
}

fn t(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[test]
fn every_column_type_matches_the_hand_built_field() {
    let rows = [
        Everything {
            i8: -1,
            i16: -2,
            i32: -3,
            i64: -4,
            u8: 1,
            u16: 2,
            u32: 3,
            u64: 4,
            f32: 0.5,
            f64: 0.25,
            bool: true,
            string: "one".into(),
            str: "uno",
            cow: Cow::Borrowed("eins"),
            time: t(1),
            state: EnumIndex(1),
            maybe_i64: Some(7),
            maybe_f64: None,
            maybe_bool: Some(false),
            maybe_string: None,
            maybe_time: Some(t(9)),
        },
        Everything {
            i8: i8::MIN,
            i16: i16::MAX,
            i32: 0,
            i64: i64::MAX,
            u8: u8::MAX,
            u16: 0,
            u32: u32::MAX,
            u64: u64::MAX,
            f32: f32::NAN,
            f64: -0.0,
            bool: false,
            string: String::new(),
            str: "dos",
            cow: Cow::Owned("zwei".into()),
            time: t(2),
            state: EnumIndex(0),
            maybe_i64: None,
            maybe_f64: Some(1.5),
            maybe_bool: None,
            maybe_string: Some("s".into()),
            maybe_time: None,
        },
    ];
    let frame = Everything::to_frame("all", &rows).expect("builds");
    let expected = Frame::new("all")
        .with_field(Field::new("i8", vec![-1_i8, i8::MIN]))
        .with_field(Field::new("i16", vec![-2_i16, i16::MAX]))
        .with_field(Field::new("i32", vec![-3_i32, 0]))
        .with_field(Field::new("i64", vec![-4_i64, i64::MAX]))
        .with_field(Field::new("u8", vec![1_u8, u8::MAX]))
        .with_field(Field::new("u16", vec![2_u16, 0]))
        .with_field(Field::new("u32", vec![3_u32, u32::MAX]))
        .with_field(Field::new("u64", vec![4_u64, u64::MAX]))
        .with_field(Field::new("f32", vec![0.5_f32, f32::NAN]))
        .with_field(Field::new("f64", vec![0.25_f64, -0.0]))
        .with_field(Field::new("bool", vec![true, false]))
        .with_field(Field::new("string", vec!["one", ""]))
        .with_field(Field::new("str", vec!["uno", "dos"]))
        .with_field(Field::new("cow", vec!["eins", "zwei"]))
        .with_field(Field::new("time", vec![t(1), t(2)]))
        .with_field(Field::new("state", FieldValues::enums(vec![1, 0])))
        .with_field(Field::new("maybe_i64", vec![Some(7_i64), None]))
        .with_field(Field::new("maybe_f64", vec![None, Some(1.5_f64)]))
        .with_field(Field::new("maybe_bool", vec![Some(false), None]))
        .with_field(Field::new("maybe_string", vec![None, Some("s")]))
        .with_field(Field::new("maybe_time", vec![Some(t(9)), None]));
    assert_eq!(frame, expected);
    // Owned rows and iterators work too.
    let again = Everything::to_frame("all", rows).expect("builds");
    assert_eq!(again, expected);
}

#[derive(ToFrame)]
#[frame(rename_all = "camelCase")]
struct Renamed {
    host_name: String,
    #[frame(rename = "CPU %", labels = "unit=percent, core = 0")]
    cpu_load: f64,
    #[frame(skip)]
    #[allow(dead_code)]
    secret: Vec<u8>,
    #[frame(col0)]
    taken_at: SystemTime,
}

#[test]
fn attributes_rename_skip_label_and_reorder() {
    let rows = (0..3_u64).map(|i| Renamed {
        host_name: format!("h{i}"),
        cpu_load: i as f64 / 2.0,
        secret: vec![1, 2, 3],
        taken_at: t(i),
    });
    let frame = Renamed::to_frame("cpu", rows).expect("builds");
    let expected = Frame::new("cpu")
        .with_field(Field::new("takenAt", vec![t(0), t(1), t(2)]))
        .with_field(Field::new("hostName", vec!["h0", "h1", "h2"]))
        .with_field(
            Field::new("CPU %", vec![0.0_f64, 0.5, 1.0])
                .with_label("unit", "percent")
                .with_label("core", "0"),
        );
    assert_eq!(frame, expected);
}

#[derive(ToFrame)]
struct Empty {
    value: Option<f64>,
}

#[test]
fn no_rows_give_empty_fields_of_the_right_type() {
    let frame = Empty::to_frame("none", Vec::<Empty>::new()).expect("builds");
    assert_eq!(frame.num_rows().expect("rows"), 0);
    assert_eq!(
        frame,
        Frame::new("none").with_field(Field::new("value", Vec::<Option<f64>>::new()))
    );
}

#[cfg(feature = "chrono")]
#[test]
fn chrono_times_are_time_fields() {
    use chrono::{DateTime, TimeZone, Utc};

    #[derive(ToFrame)]
    struct Event {
        at: DateTime<Utc>,
        maybe: Option<DateTime<Utc>>,
    }
    let at = Utc.timestamp_opt(1_700_000_000, 5).single().expect("valid");
    let frame = Event::to_frame("events", [Event { at, maybe: None }]).expect("builds");
    assert_eq!(
        frame,
        Frame::new("events")
            .with_field(Field::new("at", vec![at]))
            .with_field(Field::new("maybe", vec![None::<DateTime<Utc>>]))
    );
}
