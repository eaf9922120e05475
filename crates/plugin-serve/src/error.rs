//! [`Error`]: everything that can stop a plugin from serving.

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

/// Why serving a plugin failed.
///
/// Errors inside a request never end up here: they become a gRPC status or
/// a response error for that request. This type covers starting, running
/// and stopping the server.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The go-plugin magic cookie is missing: the binary was run by hand,
    /// not started by Grafana. Its message is go-plugin's
    /// ([`NOT_A_PLUGIN_HOST_MESSAGE`]); print it and exit with status 1, as
    /// a Go plugin does ([`exit_code`](crate::exit_code)).
    ///
    /// [`NOT_A_PLUGIN_HOST_MESSAGE`]: crate::handshake::NOT_A_PLUGIN_HOST_MESSAGE
    #[error("{}", crate::handshake::NOT_A_PLUGIN_HOST_MESSAGE)]
    NotStartedByGrafana,

    /// An environment variable set by the host (or the developer) has a
    /// value the plugin cannot use.
    #[error("environment variable {name}={value:?} is invalid: {reason}")]
    InvalidEnvironment {
        /// The variable's name.
        name: String,
        /// Its value.
        value: String,
        /// What is wrong with it.
        reason: String,
    },

    /// No listening socket could be created.
    #[error("cannot listen on {address}: {source}")]
    Listen {
        /// The socket path, address or port range that was tried.
        address: String,
        /// Why the last attempt failed.
        #[source]
        source: io::Error,
    },

    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// Standalone mode could not find the plugin's directory.
    #[error("no plugin.json with id {plugin_id:?} under {}", dir.display())]
    PluginDirNotFound {
        /// The plugin id looked for.
        plugin_id: String,
        /// Where the search started.
        dir: PathBuf,
    },
}

impl Error {
    /// An [`Error::Io`] saying what was being done.
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// An [`Error::InvalidEnvironment`].
    pub(crate) fn invalid_env(name: &str, value: &str, reason: impl Into<String>) -> Self {
        Error::InvalidEnvironment {
            name: name.to_owned(),
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

/// The process's exit status for what an entry point returned, the error
/// printed on stderr first: what a Go plugin's `main` does with the error
/// `backend.Manage` returns.
///
/// | served | stderr | status |
/// |---|---|---|
/// | `Ok(())`: stopped on request, or answered `-buildinfo` / `-version` | nothing | 0 |
/// | [`Error::NotStartedByGrafana`]: run by hand | go-plugin's explanation | 1 |
/// | any other error | the error | 1 |
///
/// ```no_run
/// # use plugin_backend::Plugin;
/// # use plugin_serve::ServeOptions;
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     let served = plugin_serve::serve("my-app", Plugin::new(), ServeOptions::new()).await;
///     plugin_serve::exit_code(served)
/// }
/// ```
///
/// A `main` returning `Result<(), plugin_serve::Error>` exits 1 on an
/// error too, but prints it with `Debug`.
pub fn exit_code(served: Result<(), Error>) -> ExitCode {
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // Grafana logs a plugin's stderr; a Go plugin prints its error
            // there the same way.
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
