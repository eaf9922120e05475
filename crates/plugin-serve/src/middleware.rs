//! The SDK's default handler middleware around the handlers that
//! [`datasource::manage`](crate::datasource::manage) and
//! [`app::manage`](crate::app::manage) build.

use plugin_backend::Handler;
use plugin_backend::middleware::{DefaultHandler, HandlerBuilder};

/// `handler` wrapped in plugin-backend's default layers, outermost first:
/// logging, request metrics, error source, panic recovery.
pub(crate) fn with_default_middleware<H: Handler + 'static>(handler: H) -> DefaultHandler<H> {
    HandlerBuilder::with_default_layers().handler(handler)
}
