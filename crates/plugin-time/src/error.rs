//! The crate's one error type.

/// Why an interval, a duration or a time could not be parsed or computed.
///
/// Messages for Go's duration syntax read as Go's do (`time: invalid
/// duration "x"`), so errors shown to users match those of Go plugins.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was empty.
    #[error("empty input")]
    Empty,
    /// The input is not a duration in Go's syntax (`time.ParseDuration`).
    #[error("time: invalid duration {}", quote(.0))]
    InvalidDuration(String),
    /// A number in the input is not followed by a unit.
    #[error("time: missing unit in duration {}", quote(.0))]
    MissingUnit(String),
    /// A unit that Go's duration syntax does not know.
    #[error("time: unknown unit {} in duration {}", quote(.unit), quote(.input))]
    UnknownUnit {
        /// The unknown unit.
        unit: String,
        /// The whole input.
        input: String,
    },
    /// The interval parsed, but is negative; [`std::time::Duration`] cannot
    /// hold it.
    #[error("negative interval {}", quote(.0))]
    Negative(String),
    /// The value parsed, but is too large to represent.
    #[error("{} is out of range", quote(.0))]
    OutOfRange(String),
    /// A query interval that is neither a number of seconds nor a
    /// duration (`gtime.ParseIntervalStringToTimeDuration`).
    #[error("invalid interval {}", quote(.0))]
    InvalidInterval(String),
    /// A time zone name that is not in the IANA database.
    #[error("unknown time zone {0}")]
    UnknownTimeZone(String),
    /// A time expression that is neither epoch milliseconds, a duration,
    /// nor a date math expression.
    #[error("invalid time {input:?}: {reason} at character {position}")]
    InvalidTime {
        /// The whole input.
        input: String,
        /// What is wrong.
        reason: String,
        /// The 1-based position of the character where the problem
        /// starts.
        position: usize,
    },
}

/// Every error here is the fault of the input a user wrote, so it is a
/// downstream error, as Go's gtime wraps its errors in
/// `backend.DownstreamError`.
impl From<Error> for plugin_backend::Error {
    fn from(err: Error) -> Self {
        plugin_backend::Error::downstream(err)
    }
}

/// Quotes `s` as Go's `time` package does in its errors: ASCII stays,
/// every other byte is written as `\xNN`.
// time/format.go: quote
pub(crate) fn quote(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c.is_ascii() && c >= ' ' {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        } else {
            let mut buf = [0; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
    out
}
