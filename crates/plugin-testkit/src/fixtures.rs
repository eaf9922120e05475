//! Frames shared with the Go interop suite (`interop/go`), which builds the same frames with the
//! Go SDK's own API (`interop/go/internal/fixtures/fixtures.go`) and checks that each side decodes
//! what the other encodes to exactly its own definition.
//!
//! Change a fixture here and in Go together: the Go tests compare Rust's output with the Go
//! definition, and the Rust tests compare the Go-written files with this one.

use plugin_data::{
    EnumIndex, Field, FieldConfig, FieldValues, Frame, FrameMeta, FrameType, InspectType, Notice,
    NoticeSeverity,
};
use serde_json::json;

/// The frame's name.
pub const ALL_FIELD_TYPES_NAME: &str = "all field types ✓";
/// The frame's refId.
pub const ALL_FIELD_TYPES_REF_ID: &str = "A";

/// Nanoseconds since the Unix epoch of the time fields' values: nanosecond precision, before and
/// after 1970, and the epoch itself.
const TIMES: [i64; 4] = [
    -2_208_988_800_000_000_001, // 1899-12-31T23:59:59.999999999Z
    -1,                         // 1969-12-31T23:59:59.999999999Z
    0,                          // 1970-01-01T00:00:00Z
    1_700_000_000_123_456_789,  // 2023-11-14T22:13:20.123456789Z
];

/// One frame with every Go SDK field type, each non-nullable and nullable (with nulls), four rows.
///
/// Fields are named after their Go type (`int8`, `*int8`, …, `time.Time`, `json.RawMessage`,
/// `enum`), in the order of [`FieldType::ALL`](plugin_data::FieldType::ALL), non-nullable first.
/// The values include each integer type's extremes, `NaN` and `±Inf`, times with nanosecond
/// precision before 1970, non-ASCII strings and JSON documents of every kind. `float64` has
/// labels and a full [`FieldConfig`] (`displayName`, `unit`, `decimals`, `min`, `max`, `custom`),
/// the enum fields have enum texts, and the frame has a [`FrameMeta`] (`type`, `typeVersion`,
/// `executedQueryString`, `notices`, `custom`).
///
/// The nullable JSON field holds no JSON `null` document: frame JSON cannot tell it from a null
/// value, so it reads back as null in Go as in Rust (`data/frame_json.go`).
pub fn all_field_types() -> Frame {
    let enum_config = || FieldConfig::default().with_enum_texts(["ok", "warn", "crit"]);
    let mut float_config = FieldConfig::default()
        .with_display_name("Float 64 — °C")
        .with_unit("celsius")
        .with_decimals(2)
        .with_min(-40.5)
        .with_max(125.0);
    float_config.custom = json_object(json!({
        "lineWidth": 2,
        "fillOpacity": 0.25,
        "drawStyle": "line",
        "hideFrom": {"legend": false, "tooltip": true, "viz": false},
    }));

    let mut notice = Notice::new(NoticeSeverity::Warning, "results truncated: 4 of 1000 rows");
    notice.link = "https://example.com/docs?q=limit&ü=1".to_owned();
    notice.inspect = InspectType::Data;
    let meta = FrameMeta::default()
        .with_type(FrameType::Table)
        .with_type_version(0, 1)
        .with_executed_query_string("SELECT * FROM \"tabelle ä\" WHERE x < 10 -- ✓")
        .with_notice(notice)
        .with_notice(Notice::new(NoticeSeverity::Info, "cached"))
        .with_custom(json!({"cursor": "abc=", "pages": [1, 2], "partial": true}));

    Frame::new(ALL_FIELD_TYPES_NAME)
        .with_ref_id(ALL_FIELD_TYPES_REF_ID)
        .with_meta(meta)
        .with_fields([
            Field::new("int8", vec![i8::MIN, -1, 0, i8::MAX]),
            Field::new("*int8", vec![Some(i8::MIN), None, Some(0), Some(i8::MAX)]),
            Field::new("int16", vec![i16::MIN, -1, 0, i16::MAX]),
            Field::new("*int16", vec![None, Some(-1_i16), Some(0), None]),
            Field::new("int32", vec![i32::MIN, -1, 0, i32::MAX]),
            Field::new(
                "*int32",
                vec![Some(i32::MIN), Some(-1), None, Some(i32::MAX)],
            ),
            Field::new("int64", vec![i64::MIN, -1, 0, i64::MAX]),
            Field::new("*int64", vec![Some(i64::MIN), None, None, Some(i64::MAX)]),
            Field::new("uint8", vec![0_u8, 1, 128, u8::MAX]),
            Field::new("*uint8", vec![Some(0_u8), None, Some(128), Some(u8::MAX)]),
            Field::new("uint16", vec![0_u16, 1, 32_768, u16::MAX]),
            Field::new("*uint16", vec![None, Some(1_u16), Some(32_768), None]),
            Field::new("uint32", vec![0_u32, 1, 1 << 31, u32::MAX]),
            Field::new("*uint32", vec![Some(0_u32), Some(1), None, Some(u32::MAX)]),
            Field::new("uint64", vec![0_u64, 1, 1 << 63, u64::MAX]),
            Field::new(
                "*uint64",
                vec![Some(0_u64), None, Some(1 << 63), Some(u64::MAX)],
            ),
            Field::new(
                "float32",
                vec![-0.5_f32, f32::NAN, f32::INFINITY, f32::NEG_INFINITY],
            ),
            Field::new(
                "*float32",
                vec![
                    Some(f32::MIN_POSITIVE),
                    None,
                    Some(f32::NAN),
                    Some(f32::MAX),
                ],
            ),
            Field::new(
                "float64",
                vec![21.5_f64, f64::NAN, f64::INFINITY, f64::NEG_INFINITY],
            )
            .with_label("sensor", "küche-1")
            .with_label("site", "north")
            .with_config(float_config),
            Field::new(
                "*float64",
                vec![Some(0.1_f64), None, Some(f64::NEG_INFINITY), Some(f64::NAN)],
            ),
            Field::new("bool", vec![true, false, true, false]),
            Field::new("*bool", vec![Some(true), None, Some(false), None]),
            Field::new(
                "string",
                vec!["", "plain", "grüße, 日本語", "emoji 🎉\n\"quoted\"\t\\"],
            ),
            Field::new(
                "*string",
                vec![Some("ünïcödé"), None, Some(""), Some("null")],
            ),
            Field::new("time.Time", FieldValues::time_nanos(TIMES.to_vec())),
            Field::new(
                "*time.Time",
                FieldValues::time_nanos_opt(vec![
                    Some(TIMES[0]),
                    None,
                    Some(TIMES[2]),
                    Some(TIMES[3]),
                ]),
            ),
            Field::new(
                "json.RawMessage",
                FieldValues::json_raw([r#"{"a":1,"b":[true,null,"x"]}"#, "[]", r#""ä""#, "-1.5"]),
            ),
            Field::new(
                "*json.RawMessage",
                vec![
                    Some(json!({"nested": {"k": "v"}})),
                    None,
                    Some(json!(true)),
                    Some(json!([1, 2])),
                ],
            ),
            Field::new(
                "enum",
                vec![EnumIndex(0), EnumIndex(1), EnumIndex(2), EnumIndex(0)],
            )
            .with_config(enum_config()),
            Field::new(
                "*enum",
                vec![Some(EnumIndex(2)), None, Some(EnumIndex(1)), None],
            )
            .with_config(enum_config()),
        ])
}

/// The differences between two frames, one line each (empty when they are equal), so a failed
/// comparison names the field or property that differs instead of printing two whole frames.
///
/// Equality is [`Frame`]'s: floats compare bitwise, so `NaN` equals `NaN`.
pub fn frame_differences(actual: &Frame, expected: &Frame) -> Vec<String> {
    let mut differences = Vec::new();
    if actual.name() != expected.name() {
        differences.push(format!(
            "name: {:?} != {:?}",
            actual.name(),
            expected.name()
        ));
    }
    if actual.ref_id() != expected.ref_id() {
        differences.push(format!(
            "refId: {:?} != {:?}",
            actual.ref_id(),
            expected.ref_id()
        ));
    }
    if actual.meta() != expected.meta() {
        differences.push(format!(
            "meta: {:?} != {:?}",
            actual.meta(),
            expected.meta()
        ));
    }
    if actual.fields().len() != expected.fields().len() {
        differences.push(format!(
            "field count: {} != {}",
            actual.fields().len(),
            expected.fields().len()
        ));
    }
    for (a, e) in actual.fields().iter().zip(expected.fields()) {
        if a != e {
            differences.push(format!("field {:?}: {a:?} != {e:?}", e.name()));
        }
    }
    differences
}

fn json_object(value: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match value {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use plugin_data::{FieldType, FrameInclude};

    use super::*;

    #[test]
    fn every_field_type_appears_nullable_and_not() {
        let frame = all_field_types();
        for field_type in FieldType::ALL {
            for nullable in [false, true] {
                let field = frame
                    .fields()
                    .iter()
                    .find(|f| f.field_type() == field_type && f.is_nullable() == nullable);
                let field =
                    field.unwrap_or_else(|| panic!("no {field_type:?} nullable={nullable}"));
                if nullable {
                    assert!(
                        field.array().null_count() > 0,
                        "{} has no nulls",
                        field.name()
                    );
                }
            }
        }
        assert_eq!(frame.fields().len(), 30);
        assert_eq!(frame.num_rows().unwrap(), 4);
    }

    #[test]
    fn round_trips_through_both_rust_codecs() {
        let frame = all_field_types();
        let arrow = frame.to_arrow_ipc().unwrap();
        let from_arrow = Frame::from_arrow_ipc(&arrow).unwrap();
        assert_eq!(frame_differences(&from_arrow, &frame), Vec::<String>::new());
        let json = frame.to_json(FrameInclude::All).unwrap();
        let from_json = Frame::from_json(&json).unwrap();
        assert_eq!(frame_differences(&from_json, &frame), Vec::<String>::new());
        assert_eq!(from_json, frame);
    }
}
