//! The seam where the SDK's default handler middleware goes around the
//! handlers that [`datasource::manage`](crate::datasource::manage) and
//! [`app::manage`](crate::app::manage) build.

use plugin_backend::Handler;

/// `handler` wrapped in the default middleware (logging, panic recovery,
/// error source, request metrics).
///
/// plugin-backend's middleware module has no default stack yet; until it
/// does, the handler is served as it is.
pub(crate) fn with_default_middleware<H: Handler + 'static>(handler: H) -> impl Handler + 'static {
    handler
}
