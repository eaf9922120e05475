//! Arrow IPC decoding must return `Ok` or `Err` for any input, and what decodes must
//! re-encode and decode to the same frame.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_data::Frame;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = Frame::from_arrow_ipc(data) {
        if let Ok(bytes) = frame.to_arrow_ipc() {
            let again = Frame::from_arrow_ipc(&bytes).expect("own encoding decodes");
            assert_eq!(again, frame);
        }
    }
});
