//! Frames the Go SDK wrote decode, agree across formats, and survive
//! re-encoding.
//!
//! The files in `tests/data/go/` are written by the project's own Go program
//! (`cd interop/go && go run ./cmd/writeframes`) with the Go SDK's encoders
//! (`data.Frame.MarshalArrow`, `json.Marshal`, and the golden writers of
//! `experimental/golden_response_checker.go`). That they equal the Rust
//! fixture frame field by field is checked in plugin-testkit's
//! `tests/go_frames.rs`.

use std::path::PathBuf;

use plugin_data::golden;
use plugin_data::{CellValue, FieldType, Frame, FrameInclude};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/go")
}

fn read(name: &str) -> Vec<u8> {
    let path = golden_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn all_types_from_arrow() -> Frame {
    Frame::from_arrow_ipc(&read("all_types.arrow")).expect("all_types.arrow decodes")
}

fn all_types_from_json() -> Frame {
    Frame::from_json(&read("all_types.json")).expect("all_types.json decodes")
}

#[test]
fn all_types_arrow_and_json_decode_to_the_same_frame() {
    let from_arrow = all_types_from_arrow();
    let from_json = all_types_from_json();
    assert_eq!(from_arrow.fields().len(), 2 * FieldType::ALL.len());
    for (a, j) in from_arrow.fields().iter().zip(from_json.fields()) {
        assert_eq!(a, j, "field {:?} differs between Arrow and JSON", a.name());
    }
    assert_eq!(from_arrow, from_json);
}

#[test]
fn all_types_has_every_type_nullable_and_not() {
    let frame = all_types_from_arrow();
    assert_eq!(frame.ref_id(), "A");
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
}

#[test]
fn all_types_keeps_nan_infinities_and_nanoseconds() {
    let frame = all_types_from_json();
    let floats: Vec<f64> = frame
        .fields()
        .iter()
        .filter(|f| f.field_type() == FieldType::Float64)
        .flat_map(|f| {
            (0..f.len()).filter_map(move |i| match f.get(i) {
                Some(CellValue::Float64(v)) => Some(v),
                _ => None,
            })
        })
        .collect();
    assert!(floats.iter().any(|v| v.is_nan()), "a NaN survives JSON");
    assert!(floats.contains(&f64::INFINITY), "+Inf survives JSON");
    assert!(floats.contains(&f64::NEG_INFINITY), "-Inf survives JSON");
    let times = frame
        .fields()
        .iter()
        .find(|f| f.field_type() == FieldType::Time)
        .expect("a time field");
    assert!(
        (0..times.len())
            .any(|i| matches!(times.get(i), Some(CellValue::Time(ns)) if ns % 1_000_000 != 0)),
        "sub-millisecond time parts survive JSON (`nanos`)"
    );
}

#[test]
fn config_edges_arrow_and_json_decode_to_the_same_frame() {
    let from_arrow = Frame::from_arrow_ipc(&read("config_edges.arrow")).expect("arrow decodes");
    let from_json = Frame::from_json(&read("config_edges.json")).expect("json decodes");
    assert_eq!(from_arrow, from_json);
    assert!(from_arrow.fields().iter().any(|f| f.config().is_some()));
}

#[test]
fn empty_frames_decode() {
    for name in ["empty_all_types", "no_fields"] {
        let from_arrow =
            Frame::from_arrow_ipc(&read(&format!("{name}.arrow"))).expect("arrow decodes");
        let from_json = Frame::from_json(&read(&format!("{name}.json"))).expect("json decodes");
        assert_eq!(from_arrow.num_rows().expect("rows"), 0, "{name}");
        assert_eq!(from_arrow, from_json, "{name}");
    }
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
        serde_json::from_slice(&read("all_types.json")).expect("golden parses");
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

const GOLDEN_PAIRS: [&str; 6] = [
    "all_types.golden",
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

/// The goldens whose table header we reproduce line for line. Not yet
/// `all_types.golden`: Go's tablewriter pads by display width (a CJK
/// character or an emoji is two columns) and expands tabs, where
/// `Frame::to_table` counts characters.
const HEADER_PAIRS: [&str; 5] = [
    "frame-custom-meta.golden",
    "frame-empty-custom-meta.golden",
    "frame-no-meta.golden",
    "frame-non-custom-meta.golden",
    "frame-json",
];

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
        if HEADER_PAIRS.contains(&name) {
            assert_eq!(header(&rewritten), header(&text), "{name}: header differs");
        } else {
            // The meta part of the header (before the table) matches already.
            let meta = |text: &str| -> Vec<String> {
                header(text)
                    .into_iter()
                    .take_while(|l| !l.starts_with("//  Name:"))
                    .collect()
            };
            assert_eq!(meta(&rewritten), meta(&text), "{name}: header meta differs");
        }

        let txt = golden::write_txt(&response).expect("writes txt");
        assert_eq!(
            golden::read_txt(&txt).expect("reads txt").frames,
            response.frames
        );
    }
}
