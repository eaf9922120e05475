//! The crate's single error type, [`Error`].

/// Why an instance could not be handed out.
///
/// Converts into [`plugin_backend::Error`] (what handlers return) without
/// losing the factory's error: its message and its
/// [`ErrorSource`](plugin_backend::ErrorSource) survive.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request carries no settings of the kind the provider needs (a
    /// data source provider asked for a request without data source
    /// settings, for example).
    #[error("{0} instance settings cannot be empty")]
    MissingInstanceSettings(&'static str),
    /// The provider failed to create the instance. Failures are not cached:
    /// the next request for the same key tries again.
    #[error(transparent)]
    NewInstance(plugin_backend::Error),
}

impl Error {
    /// Who is to blame, when the factory said so or the failure looks like
    /// a downstream one (see [`plugin_backend::Error::error_source`]).
    pub fn error_source(&self) -> Option<plugin_backend::ErrorSource> {
        match self {
            Error::MissingInstanceSettings(_) => None,
            Error::NewInstance(error) => error.error_source(),
        }
    }
}

impl From<Error> for plugin_backend::Error {
    fn from(error: Error) -> Self {
        match error {
            // Hand the factory's error back as it was, so its variant and
            // source reach Grafana exactly as the plugin produced them.
            Error::NewInstance(error) => error,
            other @ Error::MissingInstanceSettings(_) => plugin_backend::Error::plugin(other),
        }
    }
}
