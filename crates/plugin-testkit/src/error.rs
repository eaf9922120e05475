//! The crate's single error type.

use std::path::PathBuf;
use std::process::ExitStatus;
use std::time::Duration;

/// Everything that can go wrong launching, driving or checking a plugin.
///
/// Errors about the plugin process carry the tail of its stderr, because
/// that is where a plugin explains why it did not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The plugin executable could not be started at all.
    #[error("cannot start plugin {path}: {source}")]
    Spawn {
        /// The executable.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The plugin printed no handshake line before the start timeout.
    #[error("plugin printed no handshake line within {timeout:?}{}", stderr_section(.stderr_tail))]
    StartTimeout {
        /// How long the launcher waited.
        timeout: Duration,
        /// The last lines the plugin wrote to stderr.
        stderr_tail: String,
    },
    /// The plugin exited before printing its handshake line.
    #[error("plugin exited before its handshake ({status}){}", stderr_section(.stderr_tail))]
    EarlyExit {
        /// How the process ended.
        status: ExitStatus,
        /// The last lines the plugin wrote to stderr.
        stderr_tail: String,
    },
    /// The first line on the plugin's stdout is not a handshake Grafana accepts.
    #[error("unrecognized handshake line {line:?}: {reason}{}", stderr_section(.stderr_tail))]
    MalformedHandshake {
        /// The line as printed (without its newline).
        line: String,
        /// What is wrong with it.
        reason: String,
        /// The last lines the plugin wrote to stderr.
        stderr_tail: String,
    },
    /// The gRPC connection to the plugin could not be made.
    #[error("cannot connect to plugin at {address}: {source}")]
    Connect {
        /// The address from the handshake.
        address: String,
        /// The transport error.
        source: tonic::transport::Error,
    },
    /// The plugin's gRPC health service does not report `plugin` as serving.
    #[error("plugin health service reports {0}")]
    NotServing(String),
    /// A call failed with a gRPC status.
    #[error("gRPC call failed: {0}")]
    Rpc(#[from] tonic::Status),
    /// A response could not be converted to SDK types (malformed message,
    /// undecodable frame).
    #[error(transparent)]
    Backend(#[from] plugin_backend::Error),
    /// A frame could not be encoded, decoded or assembled.
    #[error(transparent)]
    Data(#[from] plugin_data::Error),
    /// An answer breaks the protocol's rules (a chunk's schema changes
    /// mid-frame, a resource call answers no message, stream data arrives
    /// before its schema).
    #[error("invalid response: {0}")]
    InvalidResponse(String),
    /// A response differs from its golden file.
    #[error(
        "response differs from golden file {path} (rerun with UPDATE_GOLDEN=1 to accept):\n{diff}"
    )]
    GoldenMismatch {
        /// The golden file.
        path: PathBuf,
        /// A description of the first difference.
        diff: String,
    },
    /// The in-process server failed (see
    /// [`InProcessPlugin`](crate::InProcessPlugin)).
    #[error("in-process plugin server failed: {0}")]
    Serve(#[from] plugin_serve::Error),
    /// An I/O error (temporary directory, golden file, process pipes).
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
}

fn stderr_section(tail: &str) -> String {
    if tail.is_empty() {
        String::from("; stderr was empty")
    } else {
        format!("; stderr ends with:\n{tail}")
    }
}
