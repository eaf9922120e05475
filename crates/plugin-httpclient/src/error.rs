//! The crate's single error type and the plugin/downstream error-source notion.
//!
//! Grafana shows users whether a failed query is the plugin's fault or the
//! data source's ("downstream"). [`Error::error_source`] answers that for
//! every error this crate produces; the
//! [`ErrorSourceLayer`](crate::middleware::error_source::ErrorSourceLayer)
//! marks the network failures the Go SDK treats as downstream (refused or
//! reset connections, DNS failures, certificate verification failures,
//! unexpected EOF, timeouts and cancellation) by wrapping them in
//! [`Error::Downstream`].

use std::{fmt, io, time::Duration};

pub use plugin_backend::{BoxError, ErrorSource};

/// Which deadline expired in an [`Error::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeoutKind {
    /// The whole request, from sending it to the end of the response body
    /// (jsonData `timeout`).
    Request,
    /// Opening the TCP connection (jsonData `dialTimeout`).
    Dial,
    /// The TLS handshake (jsonData `httpTLSHandshakeTimeout`).
    TlsHandshake,
    /// Connecting through the secure SOCKS proxy (PDC).
    SecureSocksProxy,
}

impl fmt::Display for TimeoutKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Request => "request",
            Self::Dial => "dial",
            Self::TlsHandshake => "TLS handshake",
            Self::SecureSocksProxy => "secure SOCKS proxy connection",
        })
    }
}

/// Every error this crate returns.
///
/// Display messages include the underlying cause so that the text alone,
/// as shown to a Grafana user, says what went wrong; the cause is also
/// available through [`std::error::Error::source`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A data source setting (jsonData or secureJsonData key, or a
    /// programmatic option named after it) is invalid.
    #[error("invalid data source setting `{key}`: {reason}")]
    InvalidSetting {
        /// The settings key, e.g. `tlsCACert` or `timeout`.
        key: String,
        /// What is wrong with the value. Never contains the secret itself.
        reason: String,
    },

    /// The middleware stack cannot be built (a duplicate or unknown name).
    #[error("invalid middleware stack: {0}")]
    MiddlewareStack(String),

    /// The request cannot be sent as given (for example a URI without a
    /// scheme or host).
    #[error("invalid request: {0}")]
    InvalidRequest(String),

    /// Opening a TCP connection failed.
    #[error("connecting to {address} failed: {source}")]
    Connect {
        /// `host:port` that was dialled (the proxy's when a proxy is used).
        address: String,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },

    /// The TLS handshake failed, including certificate verification.
    #[error("TLS handshake with `{server_name}` failed: {source}")]
    Tls {
        /// The server name the certificate was checked against.
        server_name: String,
        /// The underlying error; its inner error is a [`rustls::Error`].
        #[source]
        source: io::Error,
    },

    /// A proxy (HTTP `CONNECT` or the secure SOCKS proxy) refused or broke
    /// the connection.
    #[error("proxy {proxy} failed: {reason}")]
    Proxy {
        /// The proxy's address, without credentials.
        proxy: String,
        /// What the proxy answered or what went wrong.
        reason: String,
    },

    /// A deadline expired.
    #[error("{kind} timed out after {after:?}")]
    Timeout {
        /// Which deadline.
        kind: TimeoutKind,
        /// The configured duration.
        after: Duration,
    },

    /// The response body is larger than the configured response limit
    /// (`GF_RESPONSE_LIMIT`).
    #[error("http: response body too large, response limit is set to: {limit} bytes")]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: u64,
    },

    /// Sending the request or receiving the response failed at the HTTP
    /// layer (connection closed, malformed response, ...).
    #[error("HTTP request failed: {message}")]
    Http {
        /// The causes, outermost first, joined with `": "`.
        message: String,
        /// The underlying hyper error.
        #[source]
        source: BoxError,
    },

    /// Fetching an OAuth 2.0 client-credentials token failed.
    #[error("OAuth2 token request to {token_url} failed: {reason}")]
    OAuth2Token {
        /// The token endpoint.
        token_url: String,
        /// The status and error code, or the transport failure. Never
        /// contains a credential.
        reason: String,
    },

    /// An error marked as caused by the downstream service; see
    /// [`Error::error_source`].
    #[error(transparent)]
    Downstream(Box<Error>),

    /// An error from a user-supplied middleware or request body.
    #[error(transparent)]
    Other(BoxError),
}

impl Error {
    /// Wraps any error, keeping an [`Error`] as is instead of nesting it.
    pub fn other(error: impl Into<BoxError>) -> Self {
        match error.into().downcast::<Error>() {
            Ok(error) => *error,
            Err(other) => Self::Other(other),
        }
    }

    /// Marks this error as caused by the downstream service.
    pub fn into_downstream(self) -> Self {
        if self.is_downstream() {
            self
        } else {
            Self::Downstream(Box::new(self))
        }
    }

    /// Who caused the error, as Grafana reports it.
    pub fn error_source(&self) -> ErrorSource {
        if self.is_downstream() {
            ErrorSource::Downstream
        } else {
            ErrorSource::Plugin
        }
    }

    /// Whether the error is marked as downstream.
    pub fn is_downstream(&self) -> bool {
        matches!(self, Self::Downstream(_))
    }

    /// Whether the error is a failure the Go SDK's `IsDownstreamHTTPError`
    /// attributes to the downstream service: timeouts, cancellation,
    /// connection failures (refused, reset, unreachable, DNS), certificate
    /// verification failures and a connection closed mid-message.
    ///
    /// Used by the error-source middleware to decide what to mark.
    pub fn is_downstream_http_error(&self) -> bool {
        match self {
            Self::Downstream(_) | Self::Timeout { .. } | Self::Connect { .. } => true,
            Self::Proxy { .. } => true,
            Self::Tls { source, .. } => is_certificate_error(source),
            Self::Http { source, .. } => is_downstream_cause(source.as_ref()),
            Self::Other(source) => is_downstream_cause(source.as_ref()),
            Self::InvalidSetting { .. }
            | Self::MiddlewareStack(_)
            | Self::InvalidRequest(_)
            | Self::ResponseTooLarge { .. }
            | Self::OAuth2Token { .. } => false,
        }
    }

    /// The innermost error of this crate, looking through
    /// [`Error::Downstream`] marks.
    pub fn unmarked(&self) -> &Error {
        match self {
            Self::Downstream(inner) => inner.unmarked(),
            other => other,
        }
    }

    pub(crate) fn invalid_setting(key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::InvalidSetting {
            key: key.into(),
            reason: reason.into(),
        }
    }

    /// Builds [`Error::Http`] from a hyper or hyper-util error, spelling out
    /// the cause chain that their own `Display` leaves out.
    pub(crate) fn http(source: impl Into<BoxError>) -> Self {
        let source = source.into();
        let mut parts = Vec::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(source.as_ref());
        while let Some(error) = next {
            let text = error.to_string();
            // hyper-util's legacy client error only names its kind, e.g.
            // "client error (SendRequest)"; the cause below says more.
            if !text.starts_with("client error (") && parts.last() != Some(&text) {
                parts.push(text);
            }
            next = error.source();
        }
        let message = if parts.is_empty() {
            source.to_string()
        } else {
            parts.join(": ")
        };
        Self::Http { message, source }
    }
}

fn is_certificate_error(error: &io::Error) -> bool {
    error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|tls| {
            matches!(
                tls,
                rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
            )
        })
}

/// Walks a cause chain looking for the network failures Go classifies as
/// downstream.
fn is_downstream_cause(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(ours) = error.downcast_ref::<Error>() {
            if ours.is_downstream_http_error() {
                return true;
            }
        } else if let Some(hyper) = error.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message()
                || hyper.is_canceled()
                || hyper.is_closed()
                || hyper.is_timeout()
            {
                return true;
            }
        } else if let Some(io) = error.downcast_ref::<io::Error>()
            && (matches!(
                io.kind(),
                io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::HostUnreachable
                    | io::ErrorKind::NetworkUnreachable
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::TimedOut
            ) || is_certificate_error(io))
        {
            return true;
        }
        next = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downstream_mark_is_idempotent_and_transparent() {
        let timeout = Error::Timeout {
            kind: TimeoutKind::Request,
            after: Duration::from_secs(1),
        };
        let text = timeout.to_string();
        let marked = timeout.into_downstream().into_downstream();
        assert_eq!(marked.error_source(), ErrorSource::Downstream);
        assert_eq!(marked.to_string(), text);
        assert!(matches!(marked.unmarked(), Error::Timeout { .. }));
        assert!(matches!(marked, Error::Downstream(ref inner) if !inner.is_downstream()));
    }

    #[test]
    fn classification_follows_the_go_sdk() {
        let refused = Error::Connect {
            address: "127.0.0.1:1".into(),
            source: io::ErrorKind::ConnectionRefused.into(),
        };
        assert!(refused.is_downstream_http_error());
        assert!(!refused.is_downstream(), "classification does not mark");
        assert!(!Error::ResponseTooLarge { limit: 1 }.is_downstream_http_error());
        assert!(!Error::invalid_setting("timeout", "negative").is_downstream_http_error());
        let reset = Error::other(io::Error::from(io::ErrorKind::ConnectionReset));
        assert!(reset.is_downstream_http_error());
        let unrelated = Error::other(io::Error::other("boom"));
        assert!(!unrelated.is_downstream_http_error());
    }

    #[test]
    fn other_does_not_nest_our_own_error() {
        let inner = Error::ResponseTooLarge { limit: 5 };
        let wrapped = Error::other(inner);
        assert!(matches!(wrapped, Error::ResponseTooLarge { limit: 5 }));
    }
}
