//! `pluginv2::SubscribeStreamRequest` bytes → plugin-backend's
//! `SubscribeStreamRequest`: any bytes are an error or a request that survives
//! SDK → wire → SDK unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_fuzz::convert::{check, exercise_context};
use plugin_proto::pluginv2;

fuzz_target!(|data: &[u8]| {
    check::<pluginv2::SubscribeStreamRequest, plugin_backend::SubscribeStreamRequest>(
        data,
        |request| {
            exercise_context(&request.plugin_context);
        },
    );
});
