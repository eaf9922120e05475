//! Data queries: [`QueryDataRequest`] with its [`DataQuery`]s, and
//! [`QueryDataResponse`] with one [`DataResponse`] per query.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use plugin_data::Frame;
use serde::de::DeserializeOwned;

use crate::context::PluginContext;
use crate::error::{Error, ErrorSource};
use crate::status::Status;

/// How frames are encoded on the wire.
///
/// Grafana says which format it wants in each request; the SDK encodes the
/// frames of every response in that format and labels the response with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataFrameFormat {
    /// One Arrow IPC file per frame (the protocol default).
    #[default]
    Arrow,
    /// Grafana's frame JSON, one document per frame.
    Json,
}

/// A query's time range, `from` to `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TimeRange {
    /// The start of the range.
    pub from: DateTime<Utc>,
    /// The end of the range.
    pub to: DateTime<Utc>,
}

impl TimeRange {
    /// The range `from` to `to`.
    pub fn new(from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        TimeRange { from, to }
    }

    /// The range between two epoch-millisecond timestamps, or an error when
    /// one is outside the representable range.
    pub fn from_epoch_millis(from: i64, to: i64) -> Result<Self, Error> {
        Ok(TimeRange {
            from: datetime_from_millis(from, "time range")?,
            to: datetime_from_millis(to, "time range")?,
        })
    }

    /// How long the range is (zero when `to` is before `from`).
    pub fn duration(&self) -> Duration {
        (self.to - self.from).to_std().unwrap_or(Duration::ZERO)
    }
}

impl Default for TimeRange {
    fn default() -> Self {
        TimeRange {
            from: DateTime::UNIX_EPOCH,
            to: DateTime::UNIX_EPOCH,
        }
    }
}

pub(crate) fn datetime_from_millis(
    millis: i64,
    field: &'static str,
) -> Result<DateTime<Utc>, Error> {
    DateTime::from_timestamp_millis(millis).ok_or_else(|| {
        Error::invalid(
            field,
            format!("{millis} ms since the epoch is out of range"),
        )
    })
}

/// One query of a [`QueryDataRequest`].
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct DataQuery {
    /// The query's id within the request; its response is keyed by it.
    pub ref_id: String,
    /// The plugin-defined query type (see [`QueryTypeMux`](crate::QueryTypeMux)).
    pub query_type: String,
    /// The maximum number of points the panel can show.
    pub max_data_points: i64,
    /// The suggested interval between points.
    pub interval: Duration,
    /// The time range to query.
    pub time_range: TimeRange,
    /// The query as the plugin's query editor saved it (JSON).
    pub json: Bytes,
}

impl DataQuery {
    /// A query with id `ref_id` and JSON `json`.
    pub fn new(ref_id: impl Into<String>, json: impl Into<Bytes>) -> Self {
        DataQuery {
            ref_id: ref_id.into(),
            json: json.into(),
            ..DataQuery::default()
        }
    }

    /// This query, with query type `query_type`.
    pub fn with_query_type(mut self, query_type: impl Into<String>) -> Self {
        self.query_type = query_type.into();
        self
    }

    /// This query, over `time_range`.
    pub fn with_time_range(mut self, time_range: TimeRange) -> Self {
        self.time_range = time_range;
        self
    }

    /// Parses the query JSON into the plugin's query type.
    ///
    /// ```
    /// use plugin_backend::DataQuery;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct Query {
    ///     expr: String,
    /// }
    ///
    /// let query = DataQuery::new("A", r#"{"expr":"up","refId":"A"}"#);
    /// assert_eq!(query.parse_json::<Query>()?.expr, "up");
    /// # Ok::<(), plugin_backend::Error>(())
    /// ```
    pub fn parse_json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.json).map_err(|source| Error::json("query JSON", source))
    }
}

/// A request to run queries.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct QueryDataRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// Forwarded HTTP headers and other request metadata
    /// (see [`ForwardHttpHeaders`](crate::ForwardHttpHeaders)).
    pub headers: HashMap<String, String>,
    /// The queries.
    pub queries: Vec<DataQuery>,
    /// The frame encoding Grafana wants in the response.
    pub format: DataFrameFormat,
}

impl QueryDataRequest {
    /// A request for `queries` in `plugin_context`.
    pub fn new(plugin_context: PluginContext, queries: Vec<DataQuery>) -> Self {
        QueryDataRequest {
            plugin_context,
            queries,
            ..QueryDataRequest::default()
        }
    }
}

/// The responses to a [`QueryDataRequest`], one per query, keyed by the
/// query's `ref_id`.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct QueryDataResponse {
    /// The responses by `ref_id`.
    pub responses: HashMap<String, DataResponse>,
}

impl QueryDataResponse {
    /// An empty response.
    pub fn new() -> Self {
        QueryDataResponse::default()
    }

    /// Sets the response to query `ref_id`.
    pub fn insert(&mut self, ref_id: impl Into<String>, response: DataResponse) -> &mut Self {
        self.responses.insert(ref_id.into(), response);
        self
    }

    /// This response, with `response` for query `ref_id`.
    pub fn with_response(mut self, ref_id: impl Into<String>, response: DataResponse) -> Self {
        self.insert(ref_id, response);
        self
    }
}

impl Extend<(String, DataResponse)> for QueryDataResponse {
    fn extend<I: IntoIterator<Item = (String, DataResponse)>>(&mut self, iter: I) {
        self.responses.extend(iter);
    }
}

impl FromIterator<(String, DataResponse)> for QueryDataResponse {
    fn from_iter<I: IntoIterator<Item = (String, DataResponse)>>(iter: I) -> Self {
        QueryDataResponse {
            responses: iter.into_iter().collect(),
        }
    }
}

/// The result of one query: frames, an error, or both.
///
/// A response can carry frames *and* an error (partial data). Its status is
/// explicit when set; otherwise it is guessed from the error
/// ([`Error::guess_status`]) or is 200.
///
/// ```
/// use plugin_backend::{DataResponse, Error, ErrorSource, Status};
/// use plugin_data::{Field, Frame};
///
/// let ok = DataResponse::from_frames(vec![Frame::new("up").with_field(Field::new("v", vec![1_i64]))]);
/// assert_eq!(ok.effective_status(), Status::OK);
///
/// let partial = DataResponse::from_frames(vec![Frame::new("partial")])
///     .with_error(Error::downstream("shard 3 did not answer"))
///     .with_status(Status::BAD_GATEWAY);
/// assert_eq!(partial.error_source, Some(ErrorSource::Downstream));
/// assert_eq!(partial.frames.len(), 1);
/// ```
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct DataResponse {
    /// The frames; a frame with no `ref_id` gets the query's on the wire.
    pub frames: Vec<Frame>,
    /// The error, if the query failed (possibly after producing frames).
    pub error: Option<Error>,
    /// The explicit status; `None` lets the SDK decide.
    pub status: Option<Status>,
    /// Who is to blame for the error.
    pub error_source: Option<ErrorSource>,
    /// Unused by Grafana; carried for completeness of the protocol.
    pub json_meta: Bytes,
}

impl DataResponse {
    /// A successful response with `frames`.
    pub fn from_frames(frames: Vec<Frame>) -> Self {
        DataResponse {
            frames,
            ..DataResponse::default()
        }
    }

    /// A failed response; its error source is the error's
    /// ([`Error::error_source`]).
    pub fn from_error(error: impl Into<Error>) -> Self {
        DataResponse::default().with_error(error)
    }

    /// A failed response with an explicit status, like the Go SDK's
    /// `ErrDataResponse`.
    pub fn error_with_status(status: Status, message: impl Into<String>) -> Self {
        DataResponse::from_error(Error::new(message.into())).with_status(status)
    }

    /// This response, with `error`; the error source becomes the error's.
    pub fn with_error(mut self, error: impl Into<Error>) -> Self {
        let error = error.into();
        self.error_source = error.error_source();
        self.error = Some(error);
        self
    }

    /// This response, with explicit status `status`.
    pub fn with_status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    /// This response, with error source `source`.
    pub fn with_error_source(mut self, source: ErrorSource) -> Self {
        self.error_source = Some(source);
        self
    }

    /// This response, with one more frame.
    pub fn with_frame(mut self, frame: Frame) -> Self {
        self.frames.push(frame);
        self
    }

    /// The status Grafana receives: the explicit one, else one guessed from
    /// the error, else 200.
    pub fn effective_status(&self) -> Status {
        match (self.status, &self.error) {
            (Some(status), _) => status,
            (None, Some(error)) => error.guess_status(),
            (None, None) => Status::OK,
        }
    }
}

impl From<Frame> for DataResponse {
    fn from(frame: Frame) -> Self {
        DataResponse::from_frames(vec![frame])
    }
}

impl From<Vec<Frame>> for DataResponse {
    fn from(frames: Vec<Frame>) -> Self {
        DataResponse::from_frames(frames)
    }
}

impl From<Error> for DataResponse {
    fn from(error: Error) -> Self {
        DataResponse::from_error(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;

    #[test]
    fn status_is_explicit_then_guessed_then_ok() {
        assert_eq!(DataResponse::default().effective_status(), Status::OK);
        let timeout =
            DataResponse::from_error(Error::new(io::Error::from(io::ErrorKind::TimedOut)));
        assert_eq!(timeout.effective_status(), Status::GATEWAY_TIMEOUT);
        assert_eq!(
            timeout
                .with_status(Status::TOO_MANY_REQUESTS)
                .effective_status(),
            Status::TOO_MANY_REQUESTS
        );
        let plain = DataResponse::from_error(Error::new("bad"));
        assert_eq!(plain.effective_status(), Status::INTERNAL_SERVER_ERROR);
        assert_eq!(plain.error_source, None);
    }

    #[test]
    fn out_of_range_times_are_errors() {
        assert!(TimeRange::from_epoch_millis(i64::MAX, 0).is_err());
        assert!(TimeRange::from_epoch_millis(0, i64::MIN).is_err());
        let range = TimeRange::from_epoch_millis(1_000, 61_000).unwrap();
        assert_eq!(range.duration(), Duration::from_secs(60));
    }

    #[test]
    fn invalid_query_json_is_an_error() {
        let query = DataQuery::new("A", "{");
        assert!(matches!(
            query.parse_json::<serde_json::Value>(),
            Err(Error::Json { .. })
        ));
    }
}
