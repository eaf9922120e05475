//! The crate's single error type, [`Error`].

use plugin_backend::BoxError;

/// Why a resource call could not be answered in full.
///
/// Failures before the response head is sent never surface as errors: they
/// become an HTTP error response (`400` for a request that is not valid
/// HTTP, `500` for a failing or panicking service). Once the head is out the
/// status cannot change, so a later failure ends the call with one of these.
/// Converts into [`plugin_backend::Error`], which is what
/// [`CallResourceHandler`](plugin_backend::CallResourceHandler) returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request's path and query do not form a valid request target.
    #[error("invalid resource URL {url:?}: {source}")]
    InvalidUrl {
        /// The request target built from the path and query.
        url: String,
        /// Why `http` rejected it.
        source: http::Error,
    },
    /// The response body failed after the response head was sent.
    #[error("resource response body: {0}")]
    Body(BoxError),
    /// The service panicked while producing the response body.
    #[error("resource handler panicked: {0}")]
    Panic(String),
    /// A response message could not be sent, typically because Grafana
    /// cancelled the call.
    #[error(transparent)]
    Send(plugin_backend::Error),
}

impl From<Error> for plugin_backend::Error {
    fn from(error: Error) -> Self {
        match error {
            // Keep the sender's error as it is (`StreamClosed` tells the
            // server that nobody is listening any more).
            Error::Send(error) => error,
            Error::Panic(message) => plugin_backend::Error::Panic(message),
            other => plugin_backend::Error::new(other),
        }
    }
}
