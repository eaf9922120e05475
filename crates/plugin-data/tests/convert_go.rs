//! Long ↔ wide conversions against the Go SDK's own test tables: `data/time_series_test.go`
//! (TestTimeSeriesSchema, TestLongToWide, TestLongToWideBool, TestWideToLong,
//! TestLongToWideWithLimit) and `data/time_series_field_sort_test.go` (TestSortWideFrameFields,
//! TestSortWideFrameFields_MixedLabels). Each Go case is one table row here, with its name.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use plugin_data::convert::{self, FillMissing, TimeSeriesType};
use plugin_data::{Field, FieldValues, Frame, FrameMeta, FrameType, Labels};

/// `time.Date(2020, 1, 2, 3, minute, second, 0, time.UTC)`.
fn at(minute: u64, second: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_577_934_000 + minute * 60 + second)
}

fn times(t: &[(u64, u64)]) -> Vec<SystemTime> {
    t.iter().map(|&(m, s)| at(m, s)).collect()
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs.iter().copied().collect()
}

fn wide_meta() -> FrameMeta {
    FrameMeta::default()
        .with_type(FrameType::TimeseriesWide)
        .with_type_version(0, 1)
}

fn long_meta() -> FrameMeta {
    FrameMeta::default().with_type(FrameType::TimeseriesLong)
}

const T2: [(u64, u64); 2] = [(4, 0), (4, 30)];
const T4: [(u64, u64); 4] = [(4, 0), (4, 0), (4, 30), (4, 30)];
const SPARSE_T: [(u64, u64); 6] = [(4, 0), (4, 0), (4, 30), (4, 30), (5, 0), (5, 30)];
const SPARSE_WIDE_T: [(u64, u64); 4] = [(4, 0), (4, 30), (5, 0), (5, 30)];
const ANIMALS: [&str; 4] = ["cat", "sloth", "cat", "sloth"];
const PLACES: [&str; 4] = [
    "Florida",
    "Central & South America",
    "Florida",
    "Central & South America",
];
const SPARSE_ANIMALS: [&str; 6] = ["cat", "sloth", "cat", "sloth", "pangolin", "sloth"];
const CAT: [(&str, &str); 2] = [("Animal Factor", "cat"), ("Location", "Florida")];
const PANGOLIN: [(&str, &str); 2] = [("Animal Factor", "pangolin"), ("Location", "")];
const SLOTH: [(&str, &str); 2] = [
    ("Animal Factor", "sloth"),
    ("Location", "Central & South America"),
];

fn frame(name: &str, fields: Vec<Field>) -> Frame {
    Frame::new(name).with_fields(fields)
}

fn sparse_places() -> Vec<&'static str> {
    vec![PLACES[0], PLACES[1], PLACES[2], PLACES[3], "", PLACES[1]]
}

fn sparse_places_opt() -> Vec<Option<&'static str>> {
    vec![
        Some(PLACES[0]),
        Some(PLACES[1]),
        Some(PLACES[2]),
        Some(PLACES[3]),
        None,
        Some(PLACES[1]),
    ]
}

/// The "sparse: two value, two factor" long frame, with nullable values and places when
/// `pointers`.
fn sparse_two_values(pointers: bool) -> Frame {
    let floats = vec![1.0_f64, 2.0, 3.0, 4.0, 55.0, 6.0];
    let ints = vec![1_i64, 2, 3, 4, 55, 6];
    let (floats, ints, places) = if pointers {
        (
            FieldValues::from(floats.into_iter().map(Some).collect::<Vec<_>>()),
            FieldValues::from(ints.into_iter().map(Some).collect::<Vec<_>>()),
            FieldValues::from(sparse_places_opt()),
        )
    } else {
        (floats.into(), ints.into(), sparse_places().into())
    };
    frame(
        "long_to_wide_test",
        vec![
            Field::new("Time", times(&SPARSE_T)),
            Field::new("Values Floats", floats),
            Field::new("Values Ints", ints),
            Field::new("Animal Factor", SPARSE_ANIMALS.to_vec()),
            Field::new("Location", places),
        ],
    )
}

/// The wide result of `sparse_two_values`: per series, floats then ints, as `Option`s.
fn sparse_two_values_wide(
    nullable: bool,
    cat: [Option<f64>; 4],
    pangolin: [Option<f64>; 4],
    sloth: [Option<f64>; 4],
) -> Frame {
    let column = |name: &str, l: &[(&str, &str)], v: [Option<f64>; 4], int: bool| {
        let values: FieldValues = match (int, nullable) {
            (false, true) => v.to_vec().into(),
            (false, false) => v.iter().map(|x| x.expect("no nulls")).collect(),
            (true, true) => v
                .iter()
                .map(|x| x.map(|x| x as i64))
                .collect::<Vec<_>>()
                .into(),
            (true, false) => v.iter().map(|x| x.expect("no nulls") as i64).collect(),
        };
        Field::new(name, values).with_labels(labels(l))
    };
    frame(
        "long_to_wide_test",
        vec![
            Field::new("Time", times(&SPARSE_WIDE_T)),
            column("Values Floats", &CAT, cat, false),
            column("Values Floats", &PANGOLIN, pangolin, false),
            column("Values Floats", &SLOTH, sloth, false),
            column("Values Ints", &CAT, cat, true),
            column("Values Ints", &PANGOLIN, pangolin, true),
            column("Values Ints", &SLOTH, sloth, true),
        ],
    )
    .with_meta(wide_meta())
}

#[test]
fn time_series_schema() {
    let t = || Field::new("timeValues", vec![UNIX_EPOCH]);
    let cases: Vec<(&str, Frame, TimeSeriesType)> = vec![
        (
            "empty frame is not a time series",
            Frame::default(),
            TimeSeriesType::Not,
        ),
        (
            "time field only is not a time series",
            frame("test", vec![t()]),
            TimeSeriesType::Not,
        ),
        (
            "two time values is a wide series",
            frame(
                "test",
                vec![t(), Field::new("moreTimeValues", vec![UNIX_EPOCH])],
            ),
            TimeSeriesType::Wide,
        ),
        (
            "simple wide time series",
            frame("test", vec![t(), Field::new("floatValues", vec![1.0_f64])]),
            TimeSeriesType::Wide,
        ),
        (
            "simple long time series with one facet",
            frame(
                "test",
                vec![
                    t(),
                    Field::new("floatValues", vec![1.0_f64]),
                    Field::new("user", vec!["Lord Slothius"]),
                ],
            ),
            TimeSeriesType::Long,
        ),
        (
            "simple long time series with bool facet",
            frame(
                "test",
                vec![
                    t(),
                    Field::new("floatValues", vec![1.0_f64]),
                    Field::new("enabled", vec![true]),
                ],
            ),
            TimeSeriesType::Long,
        ),
        (
            "multi-value wide time series",
            frame(
                "test",
                vec![
                    Field::new("floatValues", vec![1.0_f64]),
                    t(),
                    Field::new("int64 Values", vec![1_i64]),
                ],
            ),
            TimeSeriesType::Wide,
        ),
        (
            "multi-value and multi-facet long series",
            frame(
                "test",
                vec![
                    Field::new("floatValues", vec![1.0_f64]),
                    t(),
                    Field::new("int64 Values", vec![1_i64]),
                    Field::new("user", vec!["Lord Slothius"]),
                    Field::new("location", vec!["Slothingham"]),
                ],
            ),
            TimeSeriesType::Long,
        ),
    ];
    for (name, frame, want) in cases {
        assert_eq!(convert::time_series_type(&frame), want, "{name}");
    }
}

#[test]
fn long_to_wide() {
    let one_value_one_factor_wide = frame(
        "long_to_wide_test",
        vec![
            Field::new("Time", times(&T2)),
            Field::new("Values Floats", vec![1.0_f64, 3.0])
                .with_labels(labels(&[("Animal Factor", "cat")])),
            Field::new("Values Floats", vec![2.0_f64, 4.0])
                .with_labels(labels(&[("Animal Factor", "sloth")])),
        ],
    )
    .with_meta(wide_meta());
    let two_factor_labels = [&CAT[..], &SLOTH[..]];
    let cases: Vec<(&str, Frame, Option<FillMissing>, Frame)> = vec![
        (
            "one value, one factor",
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                ],
            ),
            None,
            one_value_one_factor_wide.clone(),
        ),
        (
            "one value, two factors",
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                    Field::new("Location", PLACES.to_vec()),
                ],
            ),
            None,
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0])
                        .with_labels(labels(two_factor_labels[0])),
                    Field::new("Values Floats", vec![2.0_f64, 4.0])
                        .with_labels(labels(two_factor_labels[1])),
                ],
            )
            .with_meta(wide_meta()),
        ),
        (
            "two values, one factor",
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Values Int64", vec![1_i64, 2, 3, 4]),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                ],
            ),
            None,
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0])
                        .with_labels(labels(&[("Animal Factor", "cat")])),
                    Field::new("Values Floats", vec![2.0_f64, 4.0])
                        .with_labels(labels(&[("Animal Factor", "sloth")])),
                    Field::new("Values Int64", vec![1_i64, 3])
                        .with_labels(labels(&[("Animal Factor", "cat")])),
                    Field::new("Values Int64", vec![2_i64, 4])
                        .with_labels(labels(&[("Animal Factor", "sloth")])),
                ],
            )
            .with_meta(wide_meta()),
        ),
        (
            "two values, two factor",
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Values Int64", vec![1_i64, 2, 3, 4]),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                    Field::new("Location", PLACES.to_vec()),
                ],
            ),
            None,
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0]).with_labels(labels(&CAT)),
                    Field::new("Values Floats", vec![2.0_f64, 4.0]).with_labels(labels(&SLOTH)),
                    Field::new("Values Int64", vec![1_i64, 3]).with_labels(labels(&CAT)),
                    Field::new("Values Int64", vec![2_i64, 4]).with_labels(labels(&SLOTH)),
                ],
            )
            .with_meta(wide_meta()),
        ),
        (
            "pointers: one value, one factor. Time becomes non-pointer since null time not supported",
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T4).into_iter().map(Some).collect::<Vec<_>>()),
                    Field::new(
                        "Values Floats",
                        vec![Some(1.0_f64), Some(2.0), Some(3.0), Some(4.0)],
                    ),
                    Field::new("Animal Factor", ANIMALS.map(Some).to_vec()),
                ],
            ),
            None,
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![Some(1.0_f64), Some(3.0)])
                        .with_labels(labels(&[("Animal Factor", "cat")])),
                    Field::new("Values Floats", vec![Some(2.0_f64), Some(4.0)])
                        .with_labels(labels(&[("Animal Factor", "sloth")])),
                ],
            )
            .with_meta(wide_meta()),
        ),
        (
            "sparse: one value, two factor",
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&SPARSE_T)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0, 55.0, 6.0]),
                    Field::new("Animal Factor", SPARSE_ANIMALS.to_vec()),
                    Field::new("Location", sparse_places()),
                ],
            ),
            None,
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&SPARSE_WIDE_T)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0, 0.0, 0.0])
                        .with_labels(labels(&CAT)),
                    Field::new("Values Floats", vec![0.0_f64, 0.0, 55.0, 0.0])
                        .with_labels(labels(&PANGOLIN)),
                    Field::new("Values Floats", vec![2.0_f64, 4.0, 0.0, 6.0])
                        .with_labels(labels(&SLOTH)),
                ],
            )
            .with_meta(wide_meta()),
        ),
        (
            "sparse & pointer: one value, two factor",
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&SPARSE_T)),
                    Field::new(
                        "Values Floats",
                        vec![
                            Some(1.0_f64),
                            Some(2.0),
                            Some(3.0),
                            Some(4.0),
                            Some(55.0),
                            Some(6.0),
                        ],
                    ),
                    Field::new("Animal Factor", SPARSE_ANIMALS.to_vec()),
                    Field::new("Location", sparse_places_opt()),
                ],
            ),
            None,
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&SPARSE_WIDE_T)),
                    Field::new("Values Floats", vec![Some(1.0_f64), Some(3.0), None, None])
                        .with_labels(labels(&CAT)),
                    Field::new("Values Floats", vec![None, None, Some(55.0_f64), None])
                        .with_labels(labels(&PANGOLIN)),
                    Field::new(
                        "Values Floats",
                        vec![Some(2.0_f64), Some(4.0), None, Some(6.0)],
                    )
                    .with_labels(labels(&SLOTH)),
                ],
            )
            .with_meta(wide_meta()),
        ),
        (
            "sparse: two value, two factor - fill missing value",
            sparse_two_values(false),
            Some(FillMissing::Value(-1.0)),
            sparse_two_values_wide(
                false,
                [Some(1.0), Some(3.0), Some(-1.0), Some(-1.0)],
                [Some(-1.0), Some(-1.0), Some(55.0), Some(-1.0)],
                [Some(2.0), Some(4.0), Some(-1.0), Some(6.0)],
            ),
        ),
        (
            "sparse: two value, two factor - fill missing previous",
            sparse_two_values(false),
            Some(FillMissing::Previous),
            sparse_two_values_wide(
                true,
                [Some(1.0), Some(3.0), Some(3.0), Some(3.0)],
                [None, None, Some(55.0), Some(55.0)],
                [Some(2.0), Some(4.0), Some(4.0), Some(6.0)],
            ),
        ),
        (
            "sparse: two value, two factor - fill missing null",
            sparse_two_values(false),
            Some(FillMissing::Null),
            sparse_two_values_wide(
                true,
                [Some(1.0), Some(3.0), None, None],
                [None, None, Some(55.0), None],
                [Some(2.0), Some(4.0), None, Some(6.0)],
            ),
        ),
        (
            "sparse & pointer: two values, two factor - fill missing value",
            sparse_two_values(true),
            Some(FillMissing::Value(-1.0)),
            sparse_two_values_wide(
                true,
                [Some(1.0), Some(3.0), Some(-1.0), Some(-1.0)],
                [Some(-1.0), Some(-1.0), Some(55.0), Some(-1.0)],
                [Some(2.0), Some(4.0), Some(-1.0), Some(6.0)],
            ),
        ),
        (
            "sparse & pointer: two values, two factor - fill missing previous",
            sparse_two_values(true),
            Some(FillMissing::Previous),
            sparse_two_values_wide(
                true,
                [Some(1.0), Some(3.0), Some(3.0), Some(3.0)],
                [None, None, Some(55.0), Some(55.0)],
                [Some(2.0), Some(4.0), Some(4.0), Some(6.0)],
            ),
        ),
        (
            "sparse & pointer: two value, two factor - fill missing null",
            sparse_two_values(true),
            Some(FillMissing::Null),
            sparse_two_values_wide(
                true,
                [Some(1.0), Some(3.0), None, None],
                [None, None, Some(55.0), None],
                [Some(2.0), Some(4.0), None, Some(6.0)],
            ),
        ),
        // TestLongToWideBool.
        (
            "one value, one bool factor",
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Enabled Factor", vec![true, false, true, false]),
                ],
            ),
            None,
            frame(
                "long_to_wide_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![2.0_f64, 4.0])
                        .with_labels(labels(&[("Enabled Factor", "false")])),
                    Field::new("Values Floats", vec![1.0_f64, 3.0])
                        .with_labels(labels(&[("Enabled Factor", "true")])),
                ],
            )
            .with_meta(wide_meta()),
        ),
    ];
    for (name, long, fill, want) in cases {
        let wide = convert::long_to_wide(&long, fill).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(wide, want, "{name}");
        // The wide frame is what Grafana decodes, through both codecs.
        assert_eq!(
            Frame::from_arrow_ipc(&wide.to_arrow_ipc().expect("encodes")).expect("decodes"),
            want,
            "{name}"
        );
    }
}

#[test]
fn wide_to_long() {
    let cases: Vec<(&str, Frame, Frame)> = vec![
        (
            "one value, one factor",
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0])
                        .with_labels(labels(&[("Animal Factor", "cat")])),
                    Field::new("Values Floats", vec![2.0_f64, 4.0])
                        .with_labels(labels(&[("Animal Factor", "sloth")])),
                ],
            ),
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                ],
            )
            .with_meta(long_meta()),
        ),
        (
            "one value, two factors",
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0]).with_labels(labels(&CAT)),
                    Field::new("Values Floats", vec![2.0_f64, 4.0]).with_labels(labels(&SLOTH)),
                ],
            ),
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                    Field::new("Location", PLACES.to_vec()),
                ],
            )
            .with_meta(long_meta()),
        ),
        (
            "two values, one factor",
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0])
                        .with_labels(labels(&[("Animal Factor", "cat")])),
                    Field::new("Values Int64", vec![1_i64, 3])
                        .with_labels(labels(&[("Animal Factor", "cat")])),
                    Field::new("Values Floats", vec![2.0_f64, 4.0])
                        .with_labels(labels(&[("Animal Factor", "sloth")])),
                    Field::new("Values Int64", vec![2_i64, 4])
                        .with_labels(labels(&[("Animal Factor", "sloth")])),
                ],
            ),
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Values Int64", vec![1_i64, 2, 3, 4]),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                ],
            )
            .with_meta(long_meta()),
        ),
        (
            "two values, two factor",
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T2)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0]).with_labels(labels(&CAT)),
                    Field::new("Values Int64", vec![1_i64, 3]).with_labels(labels(&CAT)),
                    Field::new("Values Floats", vec![2.0_f64, 4.0]).with_labels(labels(&SLOTH)),
                    Field::new("Values Int64", vec![2_i64, 4]).with_labels(labels(&SLOTH)),
                ],
            ),
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new("Values Floats", vec![1.0_f64, 2.0, 3.0, 4.0]),
                    Field::new("Values Int64", vec![1_i64, 2, 3, 4]),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                    Field::new("Location", PLACES.to_vec()),
                ],
            )
            .with_meta(long_meta()),
        ),
        (
            "pointers: one value, one factor. Time becomes non-pointer since null time not supported",
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T2).into_iter().map(Some).collect::<Vec<_>>()),
                    Field::new("Values Floats", vec![Some(1.0_f64), Some(3.0)])
                        .with_labels(labels(&[("Animal Factor", "cat")])),
                    Field::new("Values Floats", vec![Some(2.0_f64), Some(4.0)])
                        .with_labels(labels(&[("Animal Factor", "sloth")])),
                ],
            ),
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&T4)),
                    Field::new(
                        "Values Floats",
                        vec![Some(1.0_f64), Some(2.0), Some(3.0), Some(4.0)],
                    ),
                    Field::new("Animal Factor", ANIMALS.to_vec()),
                ],
            )
            .with_meta(long_meta()),
        ),
        (
            "sparse: one value, two factor",
            frame(
                "wide_to_long_test",
                vec![
                    Field::new("Time", times(&SPARSE_WIDE_T)),
                    Field::new("Values Floats", vec![1.0_f64, 3.0, 0.0, 0.0])
                        .with_labels(labels(&CAT)),
                    Field::new("Values Floats", vec![2.0_f64, 4.0, 0.0, 6.0])
                        .with_labels(labels(&SLOTH)),
                    Field::new("Values Floats", vec![0.0_f64, 0.0, 55.0, 0.0])
                        .with_labels(labels(&PANGOLIN)),
                ],
            ),
            frame(
                "wide_to_long_test",
                vec![
                    Field::new(
                        "Time",
                        times(&[
                            (4, 0),
                            (4, 0),
                            (4, 0),
                            (4, 30),
                            (4, 30),
                            (4, 30),
                            (5, 0),
                            (5, 0),
                            (5, 0),
                            (5, 30),
                            (5, 30),
                            (5, 30),
                        ]),
                    ),
                    Field::new(
                        "Values Floats",
                        vec![
                            1.0_f64, 0.0, 2.0, 3.0, 0.0, 4.0, 0.0, 55.0, 0.0, 0.0, 0.0, 6.0,
                        ],
                    ),
                    Field::new("Animal Factor", ["cat", "pangolin", "sloth"].repeat(4)),
                    Field::new(
                        "Location",
                        ["Florida", "", "Central & South America"].repeat(4),
                    ),
                ],
            )
            .with_meta(long_meta()),
        ),
    ];
    for (name, wide, want) in cases {
        let long = convert::wide_to_long(&wide).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(long, want, "{name}");
    }
}

#[test]
fn sort_wide_frame_fields() {
    let t = |name: &str| Field::new(name, vec![UNIX_EPOCH]);
    let v = |name: &str, l: Option<&[(&str, &str)]>, x: f64| {
        let field = Field::new(name, vec![x]);
        match l {
            Some(l) => field.with_labels(labels(l)),
            None => field,
        }
    };
    let hb: &[(&str, &str)] = &[("host", "b")];
    let ha: &[(&str, &str)] = &[("host", "a")];
    let b0: &[(&str, &str)] = &[("host", "b"), ("int", "eth0")];
    let a1: &[(&str, &str)] = &[("host", "a"), ("int", "eth1")];
    let a0: &[(&str, &str)] = &[("host", "a"), ("int", "eth0")];
    let nb0: &[(&str, &str)] = &[("node", "b"), ("int", "eth0")];
    let na1: &[(&str, &str)] = &[("node", "a"), ("int", "eth1")];
    let na0: &[(&str, &str)] = &[("node", "a"), ("int", "eth0")];
    let nc: &[(&str, &str)] = &[("node", "c")];
    let na: &[(&str, &str)] = &[("node", "a")];
    let nb: &[(&str, &str)] = &[("node", "b")];
    // (Go case name, sort keys, fields, fields after the sort)
    type Case<'a> = (&'a str, Vec<&'a str>, Vec<Field>, Vec<Field>);
    let cases: Vec<Case<'_>> = vec![
        (
            "wide frame with names pass through",
            vec![],
            vec![t("time"), v("aValue", None, 1.0), v("bValue", None, 5.0)],
            vec![t("time"), v("aValue", None, 1.0), v("bValue", None, 5.0)],
        ),
        (
            "wide frame with names only",
            vec![],
            vec![t("time"), v("bValue", None, 5.0), v("aValue", None, 1.0)],
            vec![t("time"), v("aValue", None, 1.0), v("bValue", None, 5.0)],
        ),
        (
            "wide frame with empty names and labels",
            vec![],
            vec![t(""), v("", Some(hb), 5.0), v("", Some(ha), 1.0)],
            vec![t(""), v("", Some(ha), 1.0), v("", Some(hb), 5.0)],
        ),
        (
            "wide frame with names only and time not first",
            vec![],
            vec![v("bValue", None, 5.0), v("aValue", None, 1.0), t("time")],
            vec![t("time"), v("aValue", None, 1.0), v("bValue", None, 5.0)],
        ),
        (
            "wide frame with names only, valued time column and time not first",
            vec![],
            vec![v("aValue", None, 1.0), t("time"), t("valueTime")],
            vec![t("time"), v("aValue", None, 1.0), t("valueTime")],
        ),
        (
            "wide frame with labels and one metric name",
            vec![],
            vec![
                t("time"),
                v("aValue", Some(b0), 5.0),
                v("aValue", Some(a1), 3.0),
                v("aValue", Some(a0), 1.0),
            ],
            vec![
                t("time"),
                v("aValue", Some(a0), 1.0),
                v("aValue", Some(a1), 3.0),
                v("aValue", Some(b0), 5.0),
            ],
        ),
        (
            "wide frame with labels and one metric name - specifying sort keys",
            vec!["node", "int"],
            vec![
                t("time"),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(na0), 1.0),
            ],
            vec![
                t("time"),
                v("aValue", Some(na0), 1.0),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(nb0), 5.0),
            ],
        ),
        // TestSortWideFrameFields_MixedLabels.
        (
            "wide frame with and one metric name - specifying sort keys",
            vec!["node", "int"],
            vec![
                t("time"),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(nc), 7.0),
                v("aValue", Some(na), 1.0),
            ],
            vec![
                t("time"),
                v("aValue", Some(na), 1.0),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(nc), 7.0),
            ],
        ),
        (
            "specifying sort keys when some labels are nil",
            vec!["node", "int"],
            vec![
                t("time"),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(nc), 7.0),
                v("aValue", None, 1.0),
            ],
            vec![
                t("time"),
                v("aValue", None, 1.0),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(nc), 7.0),
            ],
        ),
        (
            "wide frame with mixed labels and one metric name - specifying some sort keys",
            vec!["node"],
            vec![
                t("time"),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(na), 1.0),
                v("aValue", Some(nc), 7.0),
            ],
            vec![
                t("time"),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(na), 1.0),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(nc), 7.0),
            ],
        ),
        (
            "wide frame with mixed labels and one metric name - specifying some sort keys (other from above)",
            vec!["int"],
            vec![
                t("time"),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(na1), 3.0),
                v("aValue", Some(nb), 1.0),
            ],
            vec![
                t("time"),
                v("aValue", Some(nb), 1.0),
                v("aValue", Some(nb0), 5.0),
                v("aValue", Some(na1), 3.0),
            ],
        ),
    ];
    for (name, keys, fields, want) in cases {
        let mut frame = Frame::new("").with_fields(fields);
        convert::sort_wide_frame_fields(&mut frame, &keys)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(frame, Frame::new("").with_fields(want), "{name}");
    }
    // Not wide: an error, not a reorder.
    let mut long =
        Frame::new("").with_fields([t("time"), v("v", None, 1.0), Field::new("s", vec!["x"])]);
    assert!(convert::sort_wide_frame_fields(&mut long, &[]).is_err());
}

/// Go's `longFrameForWideLimit`: `timestamps` × `series` long rows of one value field.
fn long_frame_for_wide_limit(timestamps: u64, series: u64) -> Frame {
    let base = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let mut t = Vec::new();
    let mut l = Vec::new();
    let mut v = Vec::new();
    for ts in 0..timestamps {
        for s in 0..series {
            t.push(base + Duration::from_secs(ts));
            l.push(format!("series-{s}"));
            v.push(s as f64);
        }
    }
    frame(
        "long",
        vec![
            Field::new("time", t),
            Field::new("label", l),
            Field::new("value", v),
        ],
    )
}

#[test]
fn long_to_wide_with_limit() {
    // 4 timestamps x 3 series x 1 value field pivots to 4 rows x (1 + 3) fields = 16 cells.
    let long = long_frame_for_wide_limit(4, 3);
    let too_large = "unable to convert the data to wide series because the result is too large";
    for (name, limit, fails) in [
        ("limit equal to the wide frame size passes", 16, false),
        ("limit one below the wide frame size fails", 15, true),
        ("zero disables the limit", 0, false),
    ] {
        match convert::long_to_wide_with_limit(&long, None, limit) {
            Ok(wide) => {
                assert!(!fails, "{name}");
                assert_eq!(
                    wide.num_rows().expect("rows") * wide.fields().len(),
                    16,
                    "{name}"
                );
            }
            Err(e) => {
                assert!(fails, "{name}: {e}");
                assert!(e.to_string().contains(too_large), "{name}: {e}");
            }
        }
    }
    // Each value field adds a wide field per series: 2 rows x (1 + 2) = 6 cells.
    let base = UNIX_EPOCH + Duration::from_secs(1_767_225_600);
    let two_values = frame(
        "long",
        vec![
            Field::new("time", vec![base, base + Duration::from_secs(1)]),
            Field::new("label", vec!["a", "a"]),
            Field::new("v1", vec![1.0_f64, 2.0]),
            Field::new("v2", vec![3.0_f64, 4.0]),
        ],
    );
    assert!(convert::long_to_wide_with_limit(&two_values, None, 6).is_ok());
    assert!(convert::long_to_wide_with_limit(&two_values, None, 5).is_err());
    // Matches LongToWide under the limit.
    assert_eq!(
        convert::long_to_wide_with_limit(&long, FillMissing::Null, 1000).expect("fits"),
        convert::long_to_wide(&long, FillMissing::Null).expect("converts")
    );
    // Unsorted input reports the sort error.
    let unsorted = frame(
        "long",
        vec![
            Field::new("time", vec![base + Duration::from_secs(1), base]),
            Field::new("label", vec!["a", "b"]),
            Field::new("value", vec![1.0_f64, 2.0]),
        ],
    );
    let err = convert::long_to_wide_with_limit(&unsorted, None, 1000).expect_err("unsorted");
    assert!(
        err.to_string()
            .contains("not sorted in ascending order by time"),
        "{err}"
    );
    // A frame far past the limit fails: 200 x 201 = 40,200 cells.
    let err = convert::long_to_wide_with_limit(&long_frame_for_wide_limit(200, 200), None, 1000)
        .expect_err("too large");
    assert!(err.to_string().contains(too_large), "{err}");
}

#[test]
fn frames_of_the_wrong_shape_get_go_errors() {
    let empty_long = frame(
        "x",
        vec![
            Field::new("time", Vec::<SystemTime>::new()),
            Field::new("v", Vec::<f64>::new()),
            Field::new("s", Vec::<String>::new()),
        ],
    );
    let err = convert::long_to_wide(&empty_long, None).expect_err("no rows");
    assert!(
        err.to_string()
            .contains("can not convert to wide series, input fields have no rows"),
        "{err}"
    );
    let empty_wide = frame(
        "x",
        vec![
            Field::new("time", Vec::<SystemTime>::new()),
            Field::new("v", Vec::<f64>::new()),
        ],
    );
    let err = convert::wide_to_long(&empty_wide).expect_err("no rows");
    assert!(
        err.to_string()
            .contains("can not convert to long series, input fields have no rows"),
        "{err}"
    );
    let err = convert::long_to_wide(&empty_wide, None).expect_err("not long");
    assert!(
        err.to_string()
            .contains("expected long format series input but got wide series"),
        "{err}"
    );
    let err = convert::wide_to_long(&empty_long).expect_err("not wide");
    assert!(
        err.to_string()
            .contains("expected wide format series input but got long series"),
        "{err}"
    );
    let null_time = frame(
        "x",
        vec![
            Field::new("time", vec![Some(UNIX_EPOCH), None]),
            Field::new("v", vec![1.0_f64, 2.0]),
            Field::new("s", vec!["a", "b"]),
        ],
    );
    let err = convert::long_to_wide(&null_time, None).expect_err("null time");
    assert!(
        err.to_string().contains("input has null time values"),
        "{err}"
    );
    let mixed = frame(
        "x",
        vec![
            Field::new("time", vec![UNIX_EPOCH]),
            Field::new("v", vec![1.0_f64]).with_label("a", "1"),
            Field::new("v", vec![1_i64]).with_label("a", "2"),
        ],
    );
    let err = convert::wide_to_long(&mixed).expect_err("same name, other type");
    assert!(
        err.to_string()
            .contains("field name v has type float64 but also type int64"),
        "{err}"
    );
}

#[test]
fn meta_and_name_carry_over_and_every_numeric_type_fills_by_value() {
    // Every numeric type takes the fill value; non-numeric value fields (a second time field)
    // keep their zero value, as Go's float64ToType refuses them.
    let long = frame(
        "numbers",
        vec![
            Field::new("time", times(&[(0, 0), (0, 0), (0, 1)])),
            Field::new("i8", vec![1_i8, 2, 3]),
            Field::new("i16", vec![1_i16, 2, 3]),
            Field::new("i32", vec![1_i32, 2, 3]),
            Field::new("i64", vec![1_i64, 2, 3]),
            Field::new("u8", vec![1_u8, 2, 3]),
            Field::new("u16", vec![1_u16, 2, 3]),
            Field::new("u32", vec![1_u32, 2, 3]),
            Field::new("u64", vec![1_u64, 2, 3]),
            Field::new("f32", vec![1_f32, 2.0, 3.0]),
            Field::new("f64", vec![1_f64, 2.0, 3.0]),
            Field::new("when", times(&[(1, 0), (1, 0), (1, 0)])),
            Field::new("s", vec!["a", "b", "a"]),
        ],
    )
    .with_ref_id("A")
    .with_meta(FrameMeta::default().with_executed_query_string("SELECT 1"));
    let wide = convert::long_to_wide(&long, FillMissing::Value(7.9)).expect("converts");
    assert_eq!(wide.name(), "numbers");
    assert_eq!(
        wide.ref_id(),
        "",
        "Go's LongToWide does not carry the refId"
    );
    let meta = wide.meta().expect("meta");
    assert_eq!(meta.executed_query_string, "SELECT 1");
    assert_eq!(meta.frame_type, Some(FrameType::TimeseriesWide));
    for field in wide.fields().iter().skip(1) {
        let b = field.labels().and_then(|l| l.get("s")) == Some("b");
        if !b {
            continue;
        }
        // Series `b` has no row at the second time.
        let missing = field.get(1).expect("two rows");
        assert!(!field.is_nullable(), "{}", field.name());
        match field.name() {
            "when" => assert_eq!(missing, plugin_data::CellValue::Time(0)),
            "f32" => assert_eq!(missing.as_f64(), Some(f64::from(7.9_f32))),
            "f64" => assert_eq!(missing.as_f64(), Some(7.9)),
            _ => assert_eq!(missing.as_f64(), Some(7.0), "{}", field.name()),
        }
    }
}
