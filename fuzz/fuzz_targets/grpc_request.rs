//! Raw HTTP/2 requests to plugin-serve's server: arbitrary paths, headers
//! (`grpc-timeout`, metadata) and bodies (the message prefix included). Every
//! request gets a gRPC status or a stream reset, within 10 s, and the server
//! keeps serving. Layout of the input: `plugin_fuzz::grpc`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_fuzz::grpc::{Harness, Input};

fuzz_target!(|data: &[u8]| {
    if let Some(input) = Input::parse(data) {
        Harness::with(|harness| harness.call(&input));
    }
});
