//! Long ↔ wide conversions.

use plugin_data::convert::{self, FillMissing};
use plugin_data::{CellValue, Field, FieldValues, Frame};

fn long_frame() -> Frame {
    // Host "b" has no row at time 2.
    Frame::new("cpu")
        .with_field(Field::new(
            "time",
            FieldValues::time_nanos(vec![1, 1, 2, 3, 3]),
        ))
        .with_field(Field::new("host", vec!["a", "b", "a", "a", "b"]))
        .with_field(Field::new("cpu", vec![0.1_f64, 0.2, 0.3, 0.4, 0.5]))
}

#[test]
fn long_to_wide_makes_one_series_per_factor_value() {
    let wide = convert::long_to_wide(&long_frame(), FillMissing::Null).expect("converts");
    assert_eq!(wide.num_rows().expect("rows"), 3);
    let names: Vec<String> = wide
        .fields()
        .iter()
        .map(|f| {
            format!(
                "{}{{{}}}",
                f.name(),
                f.labels().map(ToString::to_string).unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(names, ["time{}", "cpu{host=a}", "cpu{host=b}"]);
    let b = &wide.fields()[2];
    assert!(b.is_nullable());
    assert_eq!(
        b.iter().collect::<Vec<_>>(),
        [
            CellValue::Float64(0.2),
            CellValue::Null,
            CellValue::Float64(0.5)
        ]
    );
}

#[test]
fn fill_missing_previous_and_value() {
    let previous = convert::long_to_wide(&long_frame(), FillMissing::Previous).expect("converts");
    assert_eq!(previous.fields()[2].get(1), Some(CellValue::Float64(0.2)));
    let value = convert::long_to_wide(&long_frame(), FillMissing::Value(-1.0)).expect("converts");
    assert_eq!(value.fields()[2].get(1), Some(CellValue::Float64(-1.0)));
}

#[test]
fn wide_to_long_restores_the_rows() {
    let wide = convert::long_to_wide(&long_frame(), FillMissing::Null).expect("converts");
    let long = convert::wide_to_long(&wide).expect("converts back");
    // Every (time, host) pair becomes a row; the missing one has a null value.
    assert_eq!(long.num_rows().expect("rows"), 6);
    let host = long.field("host").expect("factor field");
    assert_eq!(host.get(2), Some(CellValue::String("a")));
    let cpu = long.field("cpu").expect("value field");
    assert_eq!(cpu.get(3), Some(CellValue::Null));
    assert_eq!(cpu.get(5), Some(CellValue::Float64(0.5)));
}

#[test]
fn conversions_reject_frames_of_the_wrong_shape() {
    let unsorted = Frame::new("x")
        .with_field(Field::new("time", FieldValues::time_nanos(vec![2, 1])))
        .with_field(Field::new("host", vec!["a", "b"]))
        .with_field(Field::new("v", vec![1.0_f64, 2.0]));
    assert!(convert::long_to_wide(&unsorted, FillMissing::Null).is_err());
    let no_time = Frame::new("x").with_field(Field::new("v", vec![1.0_f64]));
    assert!(convert::long_to_wide(&no_time, FillMissing::Null).is_err());
    assert!(convert::wide_to_long(&no_time).is_err());
    assert!(
        convert::wide_to_long(&long_frame()).is_err(),
        "long frame is not wide"
    );
}
