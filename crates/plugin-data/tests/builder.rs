//! Row-wise building: `FrameBuilder` and `FrameInputConverter` (Go `data/frame.go`,
//! `data/conversion_input.go` and the `ExampleNewFrameInputConverter` table).

use std::time::{Duration, UNIX_EPOCH};

use plugin_data::builder::{FieldConverter, FieldSpec, FrameBuilder, FrameInputConverter};
use plugin_data::{CellValue, EnumIndex, Error, Field, FieldType, Frame};

fn all_types() -> Vec<FieldSpec> {
    FieldType::ALL
        .iter()
        .flat_map(|&t| [FieldSpec::new(t), FieldSpec::nullable(t)])
        .collect()
}

/// One value of each type, in `FieldType::ALL` order.
fn sample_row() -> Vec<CellValue<'static>> {
    vec![
        (-8_i8).into(),
        (-16_i16).into(),
        (-32_i32).into(),
        (-64_i64).into(),
        8_u8.into(),
        16_u16.into(),
        32_u32.into(),
        64_u64.into(),
        1.5_f32.into(),
        2.5_f64.into(),
        true.into(),
        "text".into(),
        (UNIX_EPOCH + Duration::from_secs(10)).into(),
        CellValue::Json(br#"{"a":1}"#),
        EnumIndex(3).into(),
    ]
}

#[test]
fn rows_of_every_type_match_fields_built_from_columns() {
    let mut builder = FrameBuilder::of_field_types(all_types()).with_name("all");
    let names: Vec<String> = (0..builder.num_fields()).map(|i| format!("f{i}")).collect();
    builder
        .set_field_names(names.clone())
        .expect("one name per field");
    let sample = sample_row();
    // Row 0: values everywhere. Row 1: nulls in the nullable fields, values elsewhere.
    let row0: Vec<CellValue<'_>> = sample.iter().flat_map(|v| [*v, *v]).collect();
    let row1: Vec<CellValue<'_>> = sample.iter().flat_map(|v| [*v, CellValue::Null]).collect();
    builder.append_row(&row0).expect("row 0 fits");
    builder.append_row(&row1).expect("row 1 fits");
    let frame = builder.build().expect("builds");

    assert_eq!(frame.name(), "all");
    assert_eq!(frame.num_rows().expect("rows"), 2);
    for (i, field) in frame.fields().iter().enumerate() {
        assert_eq!(field.name(), names[i]);
        assert_eq!(field.field_type(), FieldType::ALL[i / 2]);
        assert_eq!(field.is_nullable(), i % 2 == 1, "{}", field.name());
        assert_eq!(field.get(0), Some(row0[i]), "{}", field.name());
        assert_eq!(field.get(1), Some(row1[i]), "{}", field.name());
    }
    // The same frame survives both codecs.
    assert_eq!(
        Frame::from_arrow_ipc(&frame.to_arrow_ipc().expect("encodes")).expect("decodes"),
        frame
    );
}

#[test]
fn a_bad_row_is_an_error_and_changes_nothing() {
    let mut builder =
        FrameBuilder::of_field_types([FieldType::Int8, FieldType::String, FieldType::Float64]);
    builder
        .append_row(&[1_i8.into(), "a".into(), 1.0.into()])
        .expect("fits");

    let too_short = builder.append_row(&[1_i8.into()]);
    assert!(matches!(
        too_short,
        Err(Error::FieldCount {
            expected: 3,
            actual: 1
        })
    ));
    // The last value is the wrong type: nothing of the row is written.
    let wrong_type = builder.append_row(&[2_i8.into(), "b".into(), 2_i64.into()]);
    match wrong_type {
        Err(Error::ValueType {
            field,
            expected,
            actual,
        }) => {
            assert_eq!(
                (field, expected.as_str(), actual.as_str()),
                (2, "[]float64", "int 2")
            );
        }
        other => panic!("expected a type error, got {other:?}"),
    }
    // Out of the field's range, and null in a non-nullable field.
    assert!(matches!(
        builder.append_row(&[300_i64.into(), "b".into(), 2.0.into()]),
        Err(Error::ValueType { field: 0, .. })
    ));
    assert!(matches!(
        builder.append_row(&[1_i8.into(), CellValue::Null, 2.0.into()]),
        Err(Error::ValueType { field: 1, .. })
    ));
    assert_eq!(builder.num_rows(), 1);
    let frame = builder.build().expect("builds");
    assert_eq!(frame.num_rows().expect("rows"), 1);
    assert_eq!(
        frame,
        Frame::new("")
            .with_field(Field::new("", vec![1_i8]))
            .with_field(Field::new("", vec!["a"]))
            .with_field(Field::new("", vec![1.0_f64]))
    );
}

#[test]
fn set_checks_indexes_and_types() {
    let mut builder = FrameBuilder::of_field_types([FieldType::Float64]).with_rows(2);
    assert!(matches!(
        builder.set(1, 0, 1.0.into()),
        Err(Error::IndexOutOfRange {
            what: "field",
            index: 1,
            len: 1
        })
    ));
    assert!(matches!(
        builder.set(0, 2, 1.0.into()),
        Err(Error::IndexOutOfRange {
            what: "row",
            index: 2,
            len: 2
        })
    ));
    assert!(matches!(
        builder.set(0, 0, "x".into()),
        Err(Error::ValueType { .. })
    ));
    assert!(matches!(
        builder.set_field_names(["a", "b"]),
        Err(Error::FieldCount {
            expected: 1,
            actual: 2
        })
    ));
}

#[test]
fn new_rows_hold_zero_values_or_nulls_as_in_go() {
    // Go `NewFrameOfFieldTypes(name, 3, ...)`: zero values, nil pointers.
    let frame = FrameBuilder::of_field_types([
        FieldSpec::new(FieldType::Int64),
        FieldSpec::nullable(FieldType::Int64),
        FieldSpec::new(FieldType::String),
        FieldSpec::nullable(FieldType::String),
        FieldSpec::new(FieldType::Bool),
        FieldSpec::new(FieldType::Time),
    ])
    .with_rows(3)
    .build()
    .expect("builds");
    let rows = |i: usize| frame.fields()[i].iter().collect::<Vec<_>>();
    assert_eq!(rows(0), [CellValue::Int(0); 3]);
    assert_eq!(rows(1), [CellValue::Null; 3]);
    assert_eq!(rows(2), [CellValue::String(""); 3]);
    assert_eq!(rows(3), [CellValue::Null; 3]);
    assert_eq!(rows(4), [CellValue::Bool(false); 3]);
    assert_eq!(rows(5), [CellValue::Time(0); 3]);
}

#[test]
fn cells_set_in_any_order_all_land() {
    let mut builder = FrameBuilder::of_field_types([
        FieldSpec::new(FieldType::String),
        FieldSpec::nullable(FieldType::String),
        FieldSpec::nullable(FieldType::Float64),
        FieldSpec::nullable(FieldType::Bool),
    ])
    .with_rows(4);
    // In order, then backwards over rows already written, then overwriting.
    for (row, text) in [(0, "a"), (2, "c"), (1, "b"), (3, "d"), (0, "A")] {
        builder.set(0, row, text.into()).expect("sets");
        builder.set(1, row, text.into()).expect("sets");
    }
    builder.set(1, 2, CellValue::Null).expect("sets a null");
    builder.set(2, 3, 1.5.into()).expect("sets");
    builder.set(3, 1, true.into()).expect("sets");
    builder.extend(1);
    builder.set(0, 4, "e".into()).expect("sets the new row");
    let frame = builder.build().expect("builds");
    let col = |i: usize| frame.fields()[i].iter().collect::<Vec<_>>();
    use CellValue::{Bool, Float64, Null, String as S};
    assert_eq!(col(0), [S("A"), S("b"), S("c"), S("d"), S("e")]);
    assert_eq!(col(1), [S("A"), S("b"), Null, S("d"), Null]);
    assert_eq!(col(2), [Null, Null, Null, Float64(1.5), Null]);
    assert_eq!(col(3), [Null, Bool(true), Null, Null, Null]);
}

#[test]
fn many_appended_rows_build_one_column() {
    let mut builder = FrameBuilder::of_field_types([FieldType::Float64]);
    builder.reserve(1000);
    for i in 0..1000 {
        builder.append_row(&[f64::from(i).into()]).expect("fits");
    }
    let frame = builder.build().expect("builds");
    let expected: Vec<f64> = (0..1000).map(f64::from).collect();
    assert_eq!(frame.fields()[0], Field::new("", expected));
}

/// The Go SDK's `ExampleNewFrameInputConverter` (data/conversion_input_test.go).
#[test]
fn input_converter_builds_the_go_example_frame() {
    let rows = [
        ["sloth", "3.5", "1586014367"],
        ["sloth", "5.5", "1586100767"],
        ["sloth", "7", "1586187167"],
    ];
    let converters: Vec<FieldConverter<str>> = vec![
        FieldConverter::identity(FieldType::String),
        FieldConverter::new(FieldType::Float64, |v: &str| v.parse::<f64>()),
        FieldConverter::new(FieldType::Time, |v: &str| {
            v.parse::<i64>()
                .map(|s| UNIX_EPOCH + Duration::from_secs(s.unsigned_abs()))
        }),
    ];
    let mut input = FrameInputConverter::new(converters, rows.len());
    input
        .set_field_names(["Animal", "Weight (lbs)", "Time"])
        .expect("names");
    for (row, cells) in rows.iter().enumerate() {
        for (field, cell) in cells.iter().enumerate() {
            input.set(field, row, cell).expect("converts");
        }
    }
    let mut frame = input.build().expect("builds");
    frame.set_name("Converted");
    let table = frame.to_table(100, 10).expect("table");
    let expected = "\
Name: Converted
Dimensions: 3 Fields by 3 Rows
+----------------+--------------------+-------------------------------+
| Name: Animal   | Name: Weight (lbs) | Name: Time                    |
| Labels:        | Labels:            | Labels:                       |
| Type: []string | Type: []float64    | Type: []time.Time             |
+----------------+--------------------+-------------------------------+
| sloth          | 3.5                | 2020-04-04 15:32:47 +0000 UTC |
| sloth          | 5.5                | 2020-04-05 15:32:47 +0000 UTC |
| sloth          | 7                  | 2020-04-06 15:32:47 +0000 UTC |
+----------------+--------------------+-------------------------------+
";
    assert_eq!(table.trim_end(), expected.trim_end());
}

#[test]
fn input_converter_errors_name_the_field_and_keep_the_frame() {
    let mut input = FrameInputConverter::new(
        vec![
            FieldConverter::identity(FieldType::String),
            FieldConverter::new(FieldSpec::nullable(FieldType::Int64), |v: &str| {
                if v.is_empty() {
                    Ok(None)
                } else {
                    v.parse::<i64>().map(Some)
                }
            }),
        ],
        0,
    );
    input.append_row(["a", "1"]).expect("converts");
    input.append_row(["b", ""]).expect("empty is null");
    match input.append_row(["c", "x"]) {
        Err(Error::InputConversion { field: 1, .. }) => {}
        other => panic!("expected a conversion error, got {other:?}"),
    }
    assert!(matches!(
        input.append_row(["c"]),
        Err(Error::FieldCount { .. })
    ));
    assert!(matches!(
        input.set(5, 0, "x"),
        Err(Error::IndexOutOfRange { what: "field", .. })
    ));
    let frame = input.build().expect("builds");
    assert_eq!(
        frame,
        Frame::new("")
            .with_field(Field::new("", vec!["a", "b"]))
            .with_field(Field::new("", vec![Some(1_i64), None]))
    );
}
