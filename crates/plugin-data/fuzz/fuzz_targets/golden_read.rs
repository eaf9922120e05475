//! Golden-file sniffing and reading must return `Ok` or `Err` for any input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = plugin_data::golden::read_any(data);
});
