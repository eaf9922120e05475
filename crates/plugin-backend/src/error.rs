//! The crate's single error type, [`Error`], and the [`ErrorSource`] Grafana
//! uses to blame a failure on the plugin or on the service behind it.
//!
//! An [`Error`] travels two ways to Grafana:
//!
//! * inside a [`DataResponse`](crate::DataResponse) (one query failed): its
//!   text becomes the response's `error`, its [`ErrorSource`] the response's
//!   `errorSource`, and when the response has no explicit status one is
//!   guessed from the error ([`Error::guess_status`]);
//! * as the result of a whole call: `plugin-serve` turns it into a
//!   [`tonic::Status`] with `From<Error>` (see [`Error::into_grpc_status`]),
//!   exactly as the Go SDK does.

use std::borrow::Cow;
use std::fmt;
use std::io;
use std::str::FromStr;

use crate::rpc::Endpoint;
use crate::status::Status;

/// A boxed error from plugin code: anything that implements
/// [`std::error::Error`], and also `&str` and `String` through `Into`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Who is to blame for an error: the plugin itself or a service it called.
///
/// Grafana shows it to users and uses it in its SLOs; the wire form is
/// `plugin` or `downstream`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorSource {
    /// The plugin failed (a bug, a bad query, a missing setting).
    Plugin,
    /// A service behind the plugin failed or could not be reached.
    Downstream,
}

impl ErrorSource {
    /// The wire name: `plugin` or `downstream`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorSource::Plugin => "plugin",
            ErrorSource::Downstream => "downstream",
        }
    }

    /// The source of an error that a downstream HTTP service answered with
    /// `status`, as the Go SDK judges it: statuses that mean the plugin built
    /// a bad request (405, 406, 412, 413, 414, 416, 417, 426, 431, 501) are
    /// the plugin's fault; every other status is the downstream service's.
    pub fn from_http_status(status: u16) -> Self {
        match status {
            405 | 406 | 412 | 413 | 414 | 416 | 417 | 426 | 431 | 501 => ErrorSource::Plugin,
            _ => ErrorSource::Downstream,
        }
    }

    /// Parses the wire form; the empty string means "no source" (`None`).
    pub(crate) fn from_wire(value: &str) -> Result<Option<Self>, Error> {
        if value.is_empty() {
            Ok(None)
        } else {
            value.parse().map(Some)
        }
    }
}

impl fmt::Display for ErrorSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ErrorSource {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Error> {
        match value {
            "plugin" => Ok(ErrorSource::Plugin),
            "downstream" => Ok(ErrorSource::Downstream),
            other => Err(Error::invalid(
                "error source",
                format!("unknown error source {other:?}"),
            )),
        }
    }
}

/// Everything that can go wrong in this crate and in the handlers built on it.
///
/// Plugin code creates errors with [`Error::new`], [`Error::plugin`] and
/// [`Error::downstream`]; the other variants come from the SDK itself
/// (malformed messages from Grafana, frame encoding, panics, missing
/// handlers). Converting a malformed message never panics: it returns one of
/// these.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error returned by plugin code, optionally attributed to the plugin
    /// or to a downstream service.
    #[error("{error}")]
    Handler {
        /// The plugin's error.
        error: BoxError,
        /// Who is to blame, when the plugin said so.
        error_source: Option<ErrorSource>,
    },
    /// A message field is missing, out of range or not one of its allowed
    /// values (for example a time outside the representable range or an
    /// unknown role).
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// The field, e.g. `time range` or `user role`.
        field: &'static str,
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
    /// A message that the protocol requires is absent, e.g. the plugin context.
    #[error("missing {0}")]
    MissingField(&'static str),
    /// JSON (settings, a query, stream data) does not parse into the type
    /// asked for.
    #[error("invalid {what}: {source}")]
    Json {
        /// What was being parsed, e.g. `data source JSON data`.
        what: &'static str,
        /// The parser's error.
        source: serde_json::Error,
    },
    /// Decrypted secure JSON does not deserialize into the type asked for.
    ///
    /// The reason never quotes a value, so it cannot leak a secret.
    #[error("invalid decrypted secure JSON data for {type_name}: {reason}")]
    SecureJson {
        /// The Rust type that was asked for.
        type_name: &'static str,
        /// What is wrong, naming fields but never values.
        reason: String,
    },
    /// A Grafana configuration key is missing or malformed.
    #[error("Grafana config {key}: {reason}")]
    Config {
        /// The configuration key, e.g. `GF_CONCURRENT_QUERY_COUNT`.
        key: &'static str,
        /// What is wrong with it.
        reason: Cow<'static, str>,
    },
    /// The plugin does not implement this endpoint.
    #[error("{0} is not implemented")]
    Unimplemented(Endpoint),
    /// A handler panicked; the payload's message, when it had one.
    #[error("panic triggered: {0}")]
    Panic(String),
    /// A frame could not be encoded or decoded.
    #[error("data frame: {0}")]
    Frame(#[from] plugin_data::Error),
    /// The receiving end of a streamed response is gone (Grafana cancelled
    /// the call or the connection dropped).
    #[error("the response stream is closed")]
    StreamClosed,
    /// Collecting Prometheus metrics failed.
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

impl Error {
    /// An error from plugin code, not attributed to plugin or downstream.
    ///
    /// The error-source middleware and [`Error::error_source`] still treat
    /// timeouts and connection failures inside it as downstream errors.
    ///
    /// ```
    /// use plugin_backend::Error;
    ///
    /// let err = Error::new("query is empty");
    /// assert_eq!(err.to_string(), "query is empty");
    /// ```
    pub fn new(error: impl Into<BoxError>) -> Self {
        Error::Handler {
            error: error.into(),
            error_source: None,
        }
    }

    /// An error that is the plugin's fault.
    pub fn plugin(error: impl Into<BoxError>) -> Self {
        Error::Handler {
            error: error.into(),
            error_source: Some(ErrorSource::Plugin),
        }
    }

    /// An error that is a downstream service's fault.
    pub fn downstream(error: impl Into<BoxError>) -> Self {
        Error::Handler {
            error: error.into(),
            error_source: Some(ErrorSource::Downstream),
        }
    }

    /// This error, attributed to `source`.
    pub fn with_source(self, source: ErrorSource) -> Self {
        match self {
            Error::Handler { error, .. } => Error::Handler {
                error,
                error_source: Some(source),
            },
            other => Error::Handler {
                error: Box::new(other),
                error_source: Some(source),
            },
        }
    }

    /// Who is to blame for this error, if that is known.
    ///
    /// An explicit attribution ([`Error::plugin`], [`Error::downstream`],
    /// [`Error::with_source`]) wins; otherwise timeouts and connection
    /// failures anywhere in the error chain are downstream errors, as in the
    /// Go SDK. `None` means nobody said and nothing suggests a downstream
    /// failure.
    pub fn error_source(&self) -> Option<ErrorSource> {
        if let Some(source) = self.explicit_source() {
            return Some(source);
        }
        match self.chain_io_kind() {
            Some(kind) if is_timeout(kind) || is_connection_failure(kind) => {
                Some(ErrorSource::Downstream)
            }
            _ => None,
        }
    }

    /// The attribution given by plugin code, looking through nested SDK errors.
    pub(crate) fn explicit_source(&self) -> Option<ErrorSource> {
        match self {
            Error::Handler {
                error_source: Some(source),
                ..
            } => Some(*source),
            Error::Handler {
                error,
                error_source: None,
            } => error
                .downcast_ref::<Error>()
                .and_then(Error::explicit_source),
            _ => None,
        }
    }

    /// The HTTP-like status a data response with this error gets when the
    /// plugin did not set one, as the Go SDK guesses it: a timeout is 504, a
    /// permission error 401, a refused or broken connection 502, anything
    /// else 500.
    ///
    /// The guess looks at [`std::io::Error`] kinds anywhere in the error
    /// chain, so wrap a timeout from another library as
    /// `io::Error::new(io::ErrorKind::TimedOut, err)` to have it counted.
    ///
    /// ```
    /// use std::io;
    /// use plugin_backend::{Error, Status};
    ///
    /// let timeout = Error::new(io::Error::new(io::ErrorKind::TimedOut, "slow database"));
    /// assert_eq!(timeout.guess_status(), Status::GATEWAY_TIMEOUT);
    /// assert_eq!(Error::new("bad query").guess_status(), Status::INTERNAL_SERVER_ERROR);
    /// ```
    pub fn guess_status(&self) -> Status {
        match self.chain_io_kind() {
            Some(kind) if is_timeout(kind) => Status::GATEWAY_TIMEOUT,
            Some(io::ErrorKind::PermissionDenied) => Status::UNAUTHORIZED,
            Some(kind) if is_connection_failure(kind) => Status::BAD_GATEWAY,
            _ => Status::INTERNAL_SERVER_ERROR,
        }
    }

    /// The first [`io::ErrorKind`] in the error chain that says something
    /// about the failure (`Other` and `Uncategorized`-like kinds are skipped).
    fn chain_io_kind(&self) -> Option<io::ErrorKind> {
        let Error::Handler { error, .. } = self else {
            return None;
        };
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error.as_ref());
        while let Some(current) = next {
            if let Some(io_error) = current.downcast_ref::<io::Error>() {
                let kind = io_error.kind();
                if kind != io::ErrorKind::Other {
                    return Some(kind);
                }
            }
            if let Some(inner) = current.downcast_ref::<Error>() {
                return inner.chain_io_kind();
            }
            next = current.source();
        }
        None
    }

    pub(crate) fn invalid(field: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        Error::InvalidField {
            field,
            reason: reason.into(),
        }
    }

    pub(crate) fn config(key: &'static str, reason: impl Into<Cow<'static, str>>) -> Self {
        Error::Config {
            key,
            reason: reason.into(),
        }
    }

    pub(crate) fn json(what: &'static str, source: serde_json::Error) -> Self {
        Error::Json { what, source }
    }
}

/// An I/O error is a plugin error; a timeout or a failed connection among
/// them is attributed downstream when the response is built (see
/// [`Error::guess_status`]).
impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Error::new(error)
    }
}

impl From<serde_json::Error> for Error {
    fn from(source: serde_json::Error) -> Self {
        Error::json("JSON", source)
    }
}

impl From<http::Error> for Error {
    fn from(error: http::Error) -> Self {
        Error::new(error)
    }
}

impl Error {
    /// The HTTP status this error answers a resource call with: 400 for
    /// input that does not parse or is invalid, 501 for an endpoint the
    /// plugin lacks, otherwise [`guess_status`](Self::guess_status).
    pub fn http_status(&self) -> Status {
        match self {
            Error::InvalidField { .. }
            | Error::MissingField(_)
            | Error::Json { .. }
            | Error::SecureJson { .. } => Status::BAD_REQUEST,
            Error::Unimplemented(_) => Status::NOT_IMPLEMENTED,
            _ => self.guess_status(),
        }
    }
}

/// An axum handler (a resource route) can return the SDK's error: it
/// answers with [`Error::http_status`] and the error's message as plain
/// text.
#[cfg(feature = "axum")]
impl axum_core::response::IntoResponse for Error {
    fn into_response(self) -> axum_core::response::Response {
        let status = http::StatusCode::from(self.http_status());
        (status, self.to_string()).into_response()
    }
}

fn is_timeout(kind: io::ErrorKind) -> bool {
    matches!(kind, io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock)
}

fn is_connection_failure(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::NotConnected
            | io::ErrorKind::AddrNotAvailable
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::NetworkDown
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_source_wins_over_inference() {
        let timeout = io::Error::new(io::ErrorKind::TimedOut, "slow");
        assert_eq!(
            Error::plugin(timeout).error_source(),
            Some(ErrorSource::Plugin)
        );
    }

    #[test]
    fn timeouts_and_connection_failures_are_downstream() {
        for kind in [io::ErrorKind::TimedOut, io::ErrorKind::ConnectionRefused] {
            let err = Error::new(io::Error::new(kind, "boom"));
            assert_eq!(
                err.error_source(),
                Some(ErrorSource::Downstream),
                "{kind:?}"
            );
        }
        assert_eq!(Error::new("bad query").error_source(), None);
    }

    #[test]
    fn status_is_guessed_through_the_source_chain() {
        #[derive(Debug, thiserror::Error)]
        #[error("request failed")]
        struct Wrapper(#[source] io::Error);

        let refused = Error::new(Wrapper(io::Error::from(io::ErrorKind::ConnectionRefused)));
        assert_eq!(refused.guess_status(), Status::BAD_GATEWAY);
        let denied = Error::new(io::Error::from(io::ErrorKind::PermissionDenied));
        assert_eq!(denied.guess_status(), Status::UNAUTHORIZED);
        let nested = Error::new(Error::new(io::Error::from(io::ErrorKind::TimedOut)));
        assert_eq!(nested.guess_status(), Status::GATEWAY_TIMEOUT);
        assert_eq!(
            Error::Panic("x".into()).guess_status(),
            Status::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn with_source_keeps_the_message() {
        let err = Error::MissingField("plugin context").with_source(ErrorSource::Downstream);
        assert_eq!(err.to_string(), "missing plugin context");
        assert_eq!(err.error_source(), Some(ErrorSource::Downstream));
    }

    #[test]
    fn error_source_wire_names() {
        assert_eq!(ErrorSource::from_wire("").unwrap(), None);
        assert_eq!(
            ErrorSource::from_wire("downstream").unwrap(),
            Some(ErrorSource::Downstream)
        );
        assert!(ErrorSource::from_wire("elsewhere").is_err());
        assert_eq!(ErrorSource::from_http_status(404), ErrorSource::Downstream);
        assert_eq!(ErrorSource::from_http_status(413), ErrorSource::Plugin);
    }

    /// `?` works on the errors plugin code meets most, and each keeps what
    /// the SDK reads from it.
    #[test]
    fn common_errors_convert_with_question_mark() {
        fn read() -> Result<(), Error> {
            Err(io::Error::from(io::ErrorKind::ConnectionRefused))?
        }
        fn parse() -> Result<u32, Error> {
            Ok(serde_json::from_str::<u32>("nope")?)
        }
        fn build() -> Result<http::Request<()>, Error> {
            Ok(http::Request::builder().uri("bad uri").body(())?)
        }
        assert_eq!(read().unwrap_err().guess_status(), Status::BAD_GATEWAY);
        let parsed = parse().unwrap_err();
        assert!(matches!(parsed, Error::Json { what: "JSON", .. }));
        assert_eq!(parsed.http_status(), Status::BAD_REQUEST);
        assert_eq!(
            build().unwrap_err().http_status(),
            Status::INTERNAL_SERVER_ERROR
        );
        assert_eq!(
            Error::Unimplemented(Endpoint::CallResource).http_status(),
            Status::NOT_IMPLEMENTED
        );
    }

    #[cfg(feature = "axum")]
    #[test]
    fn errors_are_axum_responses() {
        use axum_core::response::IntoResponse;

        let response = Error::MissingField("name").into_response();
        assert_eq!(response.status(), http::StatusCode::BAD_REQUEST);
        let response = Error::downstream(io::Error::from(io::ErrorKind::TimedOut)).into_response();
        assert_eq!(response.status(), http::StatusCode::GATEWAY_TIMEOUT);
    }
}
