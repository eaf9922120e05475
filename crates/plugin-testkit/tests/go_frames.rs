//! Go → Rust: the all-field-types frame as the Go SDK wrote it decodes to
//! exactly the Rust fixture, field by field (names, types, nullability,
//! labels, config, meta, values including NaN, infinities and nanosecond
//! times).
//!
//! The files are written by the project's Go program with the Go SDK's own
//! encoders (`interop/go/cmd/writeframes`: `data.Frame.MarshalArrow`,
//! `json.Marshal` and `data.FrameToJSON` for the schema-only and data-only
//! forms, `data/frame_json.go`).

use std::path::PathBuf;

use plugin_data::Frame;
use plugin_testkit::fixtures::{all_field_types, frame_differences};

fn go_file(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugin-data/tests/data/go")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn assert_equals_fixture(decoded: &Frame, what: &str) {
    let differences = frame_differences(decoded, &all_field_types());
    assert!(differences.is_empty(), "{what}: {differences:#?}");
}

#[test]
fn go_arrow_decodes_to_the_fixture() {
    let frame = Frame::from_arrow_ipc(&go_file("all_types.arrow")).expect("decodes");
    assert_equals_fixture(&frame, "all_types.arrow");
}

#[test]
fn go_json_decodes_to_the_fixture() {
    let frame = Frame::from_json(&go_file("all_types.json")).expect("decodes");
    assert_equals_fixture(&frame, "all_types.json");
}

#[test]
fn go_schema_and_data_json_decode_to_the_fixture() {
    let schema = Frame::from_json(&go_file("all_types.schema.json")).expect("schema decodes");
    let frame =
        Frame::from_json_data(&schema, &go_file("all_types.data.json")).expect("data decodes");
    assert_equals_fixture(&frame, "all_types.schema.json + all_types.data.json");
}

#[test]
fn a_changed_value_is_a_difference() {
    // The comparison itself can fail: a frame with one field renamed differs.
    let mut frame = all_field_types();
    let renamed = frame.fields()[0].clone().with_name("renamed");
    frame.fields_mut()[0] = renamed;
    assert!(!frame_differences(&frame, &all_field_types()).is_empty());
}
