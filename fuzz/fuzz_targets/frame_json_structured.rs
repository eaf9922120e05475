//! Frame JSON documents with the format's structure (schema, typed fields,
//! columns, `entities`, `nanos`, meta and config keys) built from the fuzz
//! bytes, so the decoder's deep paths are reached; plugin-data's
//! `json_decode` covers unstructured bytes. A document that decodes must
//! survive frame JSON (full and data-only) and Arrow IPC round trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_data::{Frame, FrameInclude};
use plugin_fuzz::frame_json::Document;

fuzz_target!(|document: Document| {
    let json = document.to_json();
    let Ok(frame) = Frame::from_json(json.as_bytes()) else {
        return;
    };
    // Found here once: columns of different lengths decoded; the decoder
    // refuses them now (plugin-data's tests/hostile_input.rs).
    frame.num_rows().expect("a decoded frame's columns have one length");
    let again = frame
        .to_json(FrameInclude::All)
        .expect("a decoded frame encodes");
    let again = Frame::from_json(&again).expect("an encoded frame decodes");
    assert_eq!(again, frame, "frame JSON round trip of {json}");

    let data = frame
        .to_json(FrameInclude::DataOnly)
        .expect("a decoded frame's data encodes");
    let again = Frame::from_json_data(&frame, &data).expect("its data decodes against it");
    assert_eq!(again, frame, "data-only round trip of {json}");

    if let Ok(ipc) = frame.to_arrow_ipc() {
        let again = Frame::from_arrow_ipc(&ipc).expect("an encoded frame decodes");
        assert_eq!(again, frame, "Arrow round trip of {json}");
    }
});
