//! The Go SDK's golden files decode, agree across formats, and survive re-encoding.

use std::path::PathBuf;

use plugin_data::golden;
use plugin_data::{CellValue, FieldType, Frame, FrameInclude};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/interop/go-sdk")
}

fn read(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn all_types_from_arrow() -> Frame {
    Frame::from_arrow_ipc(&read("all_types.golden.arrow")).expect("all_types.golden.arrow decodes")
}

fn all_types_from_json() -> Frame {
    Frame::from_json(&read("all_types.golden.json")).expect("all_types.golden.json decodes")
}

#[test]
fn all_types_arrow_and_json_decode_to_the_same_frame() {
    let from_arrow = all_types_from_arrow();
    let from_json = all_types_from_json();
    assert_eq!(from_arrow.fields().len(), 35);
    for (a, j) in from_arrow.fields().iter().zip(from_json.fields()) {
        assert_eq!(a, j, "field {:?} differs between Arrow and JSON", a.name());
    }
    assert_eq!(from_arrow, from_json);
}

#[test]
fn all_types_has_the_expected_schema() {
    let frame = all_types_from_arrow();
    assert_eq!(frame.name(), "many_types");
    assert_eq!(frame.ref_id(), "A");
    let meta = frame.meta().expect("meta");
    assert_eq!(meta.executed_query_string, "SELECT * FROM table");
    assert_eq!(meta.channel, "sample/channel/name");
    assert_eq!(meta.custom, Some(serde_json::json!({"Hi": "there"})));
    assert_eq!(meta.stats.len(), 1);
    assert_eq!(meta.stats[0].value, 1.234);
    assert_eq!(meta.stats[0].config.display_name, "sample");

    // Every type, nullable and not, appears in the golden frame.
    for field_type in FieldType::ALL {
        for nullable in [false, true] {
            assert!(
                frame
                    .fields()
                    .iter()
                    .any(|f| f.field_type() == field_type && f.is_nullable() == nullable),
                "no {}{field_type} field",
                if nullable { "nullable " } else { "" }
            );
        }
    }

    let strings = frame.field("nullable_string_values").expect("field");
    let labels = strings.labels().expect("labels");
    assert_eq!(labels.get("aLabelKey"), Some("aLabelValue"));
    assert_eq!(labels.get("bLabelKey"), Some("bLabelValue"));
    let config = strings.config().expect("config");
    assert_eq!(config.decimals, Some(2));
    assert_eq!(config.filterable, Some(false));
    assert_eq!(config.links.len(), 1);
    assert!(config.display_name.contains('❤'));
    // Go writes NaN/Inf min/max as null, and null reads back as -Inf.
    assert_eq!(config.min, Some(f64::NEG_INFINITY));

    let first = &frame.fields()[0];
    assert_eq!(first.labels().map(|l| l.len()), Some(1));
    assert!(first.config().is_some(), "empty config {{}} is kept");

    let enum_field = frame.field("enum").expect("enum");
    assert_eq!(enum_field.field_type(), FieldType::Enum);
    assert_eq!(
        enum_field
            .config()
            .and_then(|c| c.enum_config())
            .map(|e| e.text.clone()),
        Some(vec![
            "".to_owned(),
            "ONE".into(),
            "TWO".into(),
            "THREE".into()
        ])
    );
}

#[test]
fn all_types_has_the_expected_values() {
    let frame = all_types_from_arrow();
    let int64 = frame.field("int64_values").expect("field");
    assert_eq!(int64.get(0), Some(CellValue::Int(i64::MIN)));
    assert_eq!(int64.get(4), Some(CellValue::Int(i64::MAX)));
    let uint64 = frame.field("nullable_uint64_values").expect("field");
    assert_eq!(uint64.get(2), Some(CellValue::Null));
    assert_eq!(uint64.get(4), Some(CellValue::UInt(u64::MAX)));
    assert_eq!(uint64.get(5), None, "out of range is None, not a panic");

    // float64_nans is [-Inf, NaN, 0, NaN, +Inf] (JSON: nulls plus `entities`).
    let nans = frame.field("float64_nans").expect("field");
    assert_eq!(nans.get(0), Some(CellValue::Float64(f64::NEG_INFINITY)));
    let CellValue::Float64(v) = nans.get(1).expect("row") else {
        panic!("not float64")
    };
    assert!(v.is_nan());
    assert_eq!(nans.get(2), Some(CellValue::Float64(0.0)));
    assert_eq!(nans.get(4), Some(CellValue::Float64(f64::INFINITY)));

    let f32_nans = frame.field("float32_values_nans").expect("field");
    let CellValue::Float32(v) = f32_nans.get(0).expect("row") else {
        panic!("not float32")
    };
    assert!(v.is_nan());

    // Nanosecond precision: 9007199254740991 ns is 9007199254 ms + 740991 ns in JSON.
    let times = frame.field("nullable_timestamps").expect("field");
    assert_eq!(times.get(3), Some(CellValue::Time(9_007_199_254_740_991)));
    assert_eq!(times.get(2), Some(CellValue::Null));
    assert_eq!(
        times.get(1),
        Some(CellValue::Time(1_568_039_445_000_000_000))
    );

    let json = frame.field("nullable_json").expect("field");
    assert_eq!(json.get(0), Some(CellValue::Json(br#"{"a":1}"#)));
    assert_eq!(json.get(2), Some(CellValue::Null));

    let strings = frame.field("nullable_string_values").expect("field");
    assert_eq!(strings.get(3), Some(CellValue::String("🦥")));
}

#[test]
fn all_types_reencodes_to_the_same_frame() {
    let frame = all_types_from_arrow();
    let arrow = frame.to_arrow_ipc().expect("encode arrow");
    assert_eq!(
        Frame::from_arrow_ipc(&arrow).expect("decode own arrow"),
        frame
    );
    let json = frame.to_json(FrameInclude::All).expect("encode json");
    assert_eq!(Frame::from_json(&json).expect("decode own json"), frame);
}

#[test]
fn all_types_json_equals_the_go_golden_json() {
    let ours: serde_json::Value = serde_json::from_slice(
        &all_types_from_arrow()
            .to_json(FrameInclude::All)
            .expect("encode"),
    )
    .expect("our JSON parses");
    let theirs: serde_json::Value =
        serde_json::from_slice(&read("all_types.golden.json")).expect("golden parses");
    assert_eq!(ours, theirs);
}

#[test]
fn schema_only_and_data_only_json_recombine() {
    let frame = all_types_from_arrow();
    let schema = Frame::from_json(&frame.to_json(FrameInclude::SchemaOnly).expect("schema"))
        .expect("schema-only decodes");
    assert_eq!(schema.num_rows().expect("rows"), 0);
    assert_eq!(schema, frame.empty_like());
    let data = frame.to_json(FrameInclude::DataOnly).expect("data");
    assert!(Frame::from_json(&data).is_err(), "data alone has no schema");
    assert_eq!(
        Frame::from_json_data(&schema, &data).expect("data decodes"),
        frame
    );
}

const GOLDEN_PAIRS: [&str; 5] = [
    "frame-custom-meta.golden",
    "frame-empty-custom-meta.golden",
    "frame-no-meta.golden",
    "frame-non-custom-meta.golden",
    "frame-json",
];

#[test]
fn txt_and_jsonc_goldens_hold_the_same_frames() {
    for name in GOLDEN_PAIRS {
        let txt = golden::read_any(&read(&format!("{name}.txt"))).expect("txt reads");
        let jsonc = golden::read_any(&read(&format!("{name}.jsonc"))).expect("jsonc reads");
        assert!(!txt.frames.is_empty(), "{name}: no frames");
        assert_eq!(jsonc.status, Some(200));
        let normalize = |mut frames: Vec<Frame>| {
            // Old Arrow goldens predate `typeVersion`; Go fills in [0,0], as we do.
            for frame in &mut frames {
                if let Some(meta) = frame.take_meta() {
                    frame.set_meta(meta);
                }
            }
            frames
        };
        assert_eq!(normalize(txt.frames), normalize(jsonc.frames), "{name}");
    }
}

#[test]
fn single_frame_jsonc_goldens_read() {
    for (name, frames) in [
        ("single-json-frame.golden.jsonc", 1),
        ("single-json-framer.golden.jsonc", 2),
    ] {
        let response = golden::read_any(&read(name)).expect("reads");
        assert_eq!(response.frames.len(), frames, "{name}");
        assert_eq!(response.frames[0].name(), "Frame One");
    }
}

#[test]
fn goldens_rewrite_to_equal_json_and_frames() {
    for name in GOLDEN_PAIRS {
        let text = String::from_utf8(read(&format!("{name}.jsonc"))).expect("utf-8");
        let response = golden::read_jsonc(&text).expect("reads");
        let rewritten = golden::write_jsonc(&response).expect("writes");
        let json_of = |text: &str| -> serde_json::Value {
            let body: String = text
                .lines()
                .filter(|l| !l.starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            serde_json::from_str(&body).expect("json body")
        };
        assert_eq!(json_of(&rewritten), json_of(&text), "{name}: JSON differs");
        // The header (tables) matches the Go SDK's output line for line.
        let header = |text: &str| {
            text.lines()
                .filter(|l| l.starts_with("//"))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(header(&rewritten), header(&text), "{name}: header differs");

        let txt = golden::write_txt(&response).expect("writes txt");
        assert_eq!(
            golden::read_txt(&txt).expect("reads txt").frames,
            response.frames
        );
    }
}
