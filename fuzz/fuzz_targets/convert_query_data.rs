//! `pluginv2::QueryDataRequest` bytes → plugin-backend's `QueryDataRequest`:
//! any bytes are an error or a request that survives SDK → wire → SDK
//! unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plugin_fuzz::convert::{check, exercise_context};
use plugin_proto::pluginv2;

fuzz_target!(|data: &[u8]| {
    check::<pluginv2::QueryDataRequest, plugin_backend::QueryDataRequest>(data, |request| {
        exercise_context(&request.plugin_context);
        plugin_fuzz::convert::exercise_queries(&request.queries);
        let _ = plugin_backend::ForwardHttpHeaders::http_headers(request);
    });
});
