//! [`Status`]: the HTTP-like status of one query's response.

use std::fmt;

/// The HTTP-like status of a [`DataResponse`](crate::DataResponse) or a
/// chunk of a chunked query, always between 100 and 599.
///
/// Grafana reads it to decide how to present a failed query; it is not an
/// HTTP status of any request the plugin made, though plugins often pass one
/// through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Status(u16);

impl Status {
    /// 200: the query succeeded.
    pub const OK: Status = Status(200);
    /// 400: the query could not be parsed or failed validation.
    pub const BAD_REQUEST: Status = Status(400);
    /// 401: the data source did not accept the credentials.
    pub const UNAUTHORIZED: Status = Status(401);
    /// 403: the data source refuses the action for this user.
    pub const FORBIDDEN: Status = Status(403);
    /// 404: the data source has no such thing.
    pub const NOT_FOUND: Status = Status(404);
    /// 429: the data source rate-limits the plugin.
    pub const TOO_MANY_REQUESTS: Status = Status(429);
    /// 500: an error nothing more specific describes.
    pub const INTERNAL_SERVER_ERROR: Status = Status(500);
    /// 501: the plugin does not support this.
    pub const NOT_IMPLEMENTED: Status = Status(501);
    /// 502: a downstream service answered badly or could not be reached.
    pub const BAD_GATEWAY: Status = Status(502);
    /// 504: a downstream service did not answer in time.
    pub const GATEWAY_TIMEOUT: Status = Status(504);

    /// The status for `code`, or `None` outside 100–599.
    ///
    /// ```
    /// use plugin_backend::Status;
    ///
    /// assert_eq!(Status::from_u16(404), Some(Status::NOT_FOUND));
    /// assert_eq!(Status::from_u16(0), None);
    /// assert_eq!(Status::from_u16(600), None);
    /// ```
    pub const fn from_u16(code: u16) -> Option<Status> {
        if code >= 100 && code < 600 {
            Some(Status(code))
        } else {
            None
        }
    }

    /// The status of a wire `int32`, or `None` when it is not a valid status
    /// (`0` means "not set" on the wire).
    pub(crate) fn from_wire(code: i32) -> Option<Status> {
        u16::try_from(code).ok().and_then(Status::from_u16)
    }

    /// The numeric code.
    pub const fn as_u16(self) -> u16 {
        self.0
    }

    /// Whether the status is 2xx.
    pub const fn is_success(self) -> bool {
        self.0 >= 200 && self.0 < 300
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = http::StatusCode::from_u16(self.0)
            .ok()
            .and_then(|code| code.canonical_reason())
            .unwrap_or("");
        write!(f, "{} {}", self.0, reason)
    }
}

impl From<Status> for http::StatusCode {
    fn from(status: Status) -> Self {
        // Status is 100..=599 by construction, which StatusCode always accepts.
        http::StatusCode::from_u16(status.0).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl From<http::StatusCode> for Status {
    fn from(code: http::StatusCode) -> Self {
        Status::from_u16(code.as_u16()).unwrap_or(Status::INTERNAL_SERVER_ERROR)
    }
}
