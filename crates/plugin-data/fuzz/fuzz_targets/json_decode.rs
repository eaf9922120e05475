//! Frame JSON decoding must return `Ok` or `Err` for any input; data-only decoding against a
//! fixed schema too.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_data::{Field, Frame, FrameInclude};

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = Frame::from_json(data) {
        let _ = frame.to_json(FrameInclude::All);
        let _ = frame.to_arrow_ipc();
    }
    let schema = Frame::new("s")
        .with_field(Field::new("t", plugin_data::FieldValues::time_nanos(vec![])))
        .with_field(Field::new("v", Vec::<Option<f64>>::new()));
    let _ = Frame::from_json_data(&schema, data);
});
