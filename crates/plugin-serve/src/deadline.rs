//! The client's deadline: gRPC's `grpc-timeout` request header.
//!
//! grpc-go (Grafana's side) sends the time left on the caller's context as
//! `grpc-timeout`: at most eight digits and a unit, `H` hours, `M` minutes,
//! `S` seconds, `m` milliseconds, `u` microseconds or `n` nanoseconds. A
//! call still running when it expires is dropped, which cancels the
//! handler, and answered `DeadlineExceeded`. A malformed header is ignored,
//! as grpc-go and tonic ignore it: a client bug must not fail every call.

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use http::HeaderMap;
use tonic::Status;

/// The request header carrying the deadline.
const GRPC_TIMEOUT: &str = "grpc-timeout";

/// The deadline a request carries, if it carries a well-formed one.
pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(GRPC_TIMEOUT)?;
    let parsed = value.to_str().ok().and_then(parse);
    if parsed.is_none() {
        tracing::debug!(value = ?value, "ignoring a malformed grpc-timeout header");
    }
    parsed
}

/// Parses a `grpc-timeout` value such as `1500m`.
fn parse(value: &str) -> Option<Duration> {
    let unit_at = value.len().checked_sub(1)?;
    let (digits, unit) = value.split_at_checked(unit_at)?;
    // Eight digits at most (the gRPC spec), so no unit can overflow a u64.
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount * 3600),
        "M" => Duration::from_secs(amount * 60),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

/// Runs `call` for at most `deadline`; past it, drops the call and answers
/// `DeadlineExceeded`.
pub(crate) async fn limit<F>(
    call: F,
    deadline: Duration,
) -> Result<http::Response<tonic::body::Body>, Infallible>
where
    F: Future<Output = Result<http::Response<tonic::body::Body>, Infallible>>,
{
    match tokio::time::timeout(deadline, call).await {
        Ok(response) => response,
        Err(_) => Ok(Status::deadline_exceeded("the client's deadline expired").into_http()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_parses() {
        assert_eq!(parse("2H"), Some(Duration::from_secs(7200)));
        assert_eq!(parse("3M"), Some(Duration::from_secs(180)));
        assert_eq!(parse("30S"), Some(Duration::from_secs(30)));
        assert_eq!(parse("1500m"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("250u"), Some(Duration::from_micros(250)));
        assert_eq!(parse("99999999n"), Some(Duration::from_nanos(99_999_999)));
    }

    #[test]
    fn malformed_values_are_none() {
        for value in [
            "",
            "S",
            "m5",
            "123456789S",
            "12x",
            "-5S",
            "+5S",
            "1.5S",
            "5 S",
            "5é",
        ] {
            assert_eq!(parse(value), None, "{value:?}");
        }
    }

    #[test]
    fn the_header_is_read_and_malformed_ones_ignored() {
        let mut headers = HeaderMap::new();
        assert_eq!(from_headers(&headers), None);
        headers.insert(GRPC_TIMEOUT, "20S".parse().unwrap());
        assert_eq!(from_headers(&headers), Some(Duration::from_secs(20)));
        headers.insert(GRPC_TIMEOUT, "soon".parse().unwrap());
        assert_eq!(from_headers(&headers), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_past_its_deadline_is_deadline_exceeded() {
        let slow = async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            Ok(http::Response::new(tonic::body::Body::default()))
        };
        let response = limit(slow, Duration::from_millis(50)).await.unwrap();
        let status = Status::from_header_map(response.headers()).expect("a grpc-status header");
        assert_eq!(status.code(), tonic::Code::DeadlineExceeded);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_within_its_deadline_is_untouched() {
        let quick = async {
            let mut response = http::Response::new(tonic::body::Body::default());
            response
                .headers_mut()
                .insert("x-answer", "42".parse().unwrap());
            Ok(response)
        };
        let response = limit(quick, Duration::from_secs(1)).await.unwrap();
        assert_eq!(response.headers()["x-answer"], "42");
        assert!(Status::from_header_map(response.headers()).is_none());
    }
}
