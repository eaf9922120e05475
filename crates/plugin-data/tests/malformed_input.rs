//! Truncated and corrupted inputs make the decoders return errors, never panic.

use std::path::PathBuf;

use plugin_data::{Frame, FrameInclude};

fn golden(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/go")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Runs a decoder, turning a panic into a test failure that names the input.
fn must_not_panic<T>(what: &str, decode: impl FnOnce() -> T + std::panic::UnwindSafe) -> T {
    std::panic::catch_unwind(decode).unwrap_or_else(|_| panic!("decoder panicked on {what}"))
}

#[test]
fn every_truncated_arrow_file_is_an_error() {
    let bytes = golden("all_types.arrow");
    for len in 0..bytes.len() {
        let result = must_not_panic(&format!("prefix of {len} bytes"), || {
            Frame::from_arrow_ipc(&bytes[..len])
        });
        assert!(result.is_err(), "prefix of {len} bytes decoded");
    }
}

#[test]
fn bit_flipped_arrow_files_never_panic() {
    let original = golden("all_types.arrow");
    let expected = Frame::from_arrow_ipc(&original).expect("golden decodes");
    let mut changed = 0;
    // Every byte for the first 2 KiB (schema, footer offsets), then every 7th byte.
    let offsets = (0..original.len()).filter(|&i| i < 2048 || i % 7 == 0);
    for offset in offsets {
        for bit in [0, 3, 7] {
            let mut bytes = original.clone();
            bytes[offset] ^= 1 << bit;
            let result = must_not_panic(&format!("bit {bit} of byte {offset} flipped"), || {
                Frame::from_arrow_ipc(&bytes)
            });
            if matches!(result, Ok(ref frame) if *frame != expected) || result.is_err() {
                changed += 1;
            }
        }
    }
    assert!(
        changed > 0,
        "no corruption was detected or changed the frame"
    );
}

#[test]
fn every_truncated_json_document_is_an_error() {
    let bytes = Frame::from_arrow_ipc(&golden("all_types.arrow"))
        .and_then(|f| f.to_json(FrameInclude::All))
        .expect("json");
    for len in 0..bytes.len() {
        let result = must_not_panic(&format!("JSON prefix of {len} bytes"), || {
            Frame::from_json(&bytes[..len])
        });
        assert!(result.is_err(), "JSON prefix of {len} bytes decoded");
    }
}

#[test]
fn corrupted_json_documents_never_panic() {
    let original = golden("all_types.json");
    for offset in 0..original.len() {
        for replacement in [b'"', b'9', b'{', b']', b'-', 0xff] {
            let mut bytes = original.clone();
            bytes[offset] = replacement;
            let _ = must_not_panic(&format!("byte {offset} set to {replacement:#x}"), || {
                Frame::from_json(&bytes)
            });
        }
    }
}

#[test]
fn out_of_range_indexes_and_values_are_errors() {
    let cases: [&[u8]; 6] = [
        br#"{"schema":{"fields":[{"typeInfo":{"frame":"float64"}}]},"data":{"values":[[1]],"entities":[{"NaN":[5]}]}}"#,
        br#"{"schema":{"fields":[{"typeInfo":{"frame":"int8"}}]},"data":{"values":[[300]]}}"#,
        br#"{"schema":{"fields":[{"typeInfo":{"frame":"time.Time"}}]},"data":{"values":[[9223372036854775807]]}}"#,
        br#"{"schema":{"fields":[{"typeInfo":{"frame":"nope"}}]}}"#,
        br#"{"schema":{"fields":[{"typeInfo":{"frame":"int8"}}]},"data":{"values":[[1],[2]]}}"#,
        br#"{"schema":{"fields":[{"typeInfo":{"frame":"string"}}]},"data":{"values":[[1]]}}"#,
    ];
    for case in cases {
        assert!(
            Frame::from_json(case).is_err(),
            "{}",
            String::from_utf8_lossy(case)
        );
    }
}
