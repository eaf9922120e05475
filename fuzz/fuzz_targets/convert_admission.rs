//! `pluginv2::AdmissionRequest` bytes → plugin-backend's `AdmissionRequest`:
//! any bytes are an error or a request that survives SDK → wire → SDK
//! unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_fuzz::convert::{check, exercise_context};
use plugin_proto::pluginv2;

fuzz_target!(|data: &[u8]| {
    check::<pluginv2::AdmissionRequest, plugin_backend::AdmissionRequest>(data, |request| {
        exercise_context(&request.plugin_context);
    });
});
