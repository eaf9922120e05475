//! Object conversion between API versions ([`ConversionRequest`] →
//! [`ConversionResponse`]), and query conversion
//! ([`QueryConversionResponse`]), which rides on it.
//!
//! Query conversion follows the Go SDK's adapter: when a plugin has a query
//! conversion handler, every object of a conversion request is first read as
//! a JSON query data request (`{"queries":[...]}`, Go field names accepted).
//! If all of them parse, the query conversion handler converts them and its
//! queries become the response's objects; otherwise the request goes to the
//! ordinary conversion handler.

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::admission::StatusResult;
use crate::context::PluginContext;
use crate::data::{DataQuery, QueryDataRequest, TimeRange};
use crate::error::Error;

/// The content type of JSON objects.
pub const JSON_CONTENT_TYPE: &str = "application/json";

/// An API group and version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct GroupVersion {
    /// The API group.
    pub group: String,
    /// The API version.
    pub version: String,
}

impl GroupVersion {
    /// Version `version` of `group`.
    pub fn new(group: impl Into<String>, version: impl Into<String>) -> Self {
        GroupVersion {
            group: group.into(),
            version: version.into(),
        }
    }
}

/// An encoded object with its content type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RawObject {
    /// The encoded object.
    pub raw: Bytes,
    /// Its content type, e.g. `application/json`.
    pub content_type: String,
}

impl RawObject {
    /// An object `raw` of type `content_type`.
    pub fn new(raw: impl Into<Bytes>, content_type: impl Into<String>) -> Self {
        RawObject {
            raw: raw.into(),
            content_type: content_type.into(),
        }
    }

    /// A JSON object.
    pub fn json(raw: impl Into<Bytes>) -> Self {
        RawObject::new(raw, JSON_CONTENT_TYPE)
    }
}

/// A request to convert objects to another API version.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ConversionRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// The request's id, echoed in the response.
    pub uid: String,
    /// The objects to convert.
    pub objects: Vec<RawObject>,
    /// The version to convert them to.
    pub target_version: GroupVersion,
}

/// The converted objects.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ConversionResponse {
    /// The request's id.
    pub uid: String,
    /// Why conversion failed, when it did.
    pub result: Option<StatusResult>,
    /// The converted objects, in request order.
    pub objects: Vec<RawObject>,
}

impl ConversionResponse {
    /// A response to request `uid` with `objects`.
    pub fn new(uid: impl Into<String>, objects: Vec<RawObject>) -> Self {
        ConversionResponse {
            uid: uid.into(),
            result: None,
            objects,
        }
    }
}

/// The converted queries of a query conversion.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct QueryConversionResponse {
    /// The converted queries; each becomes one JSON object of the response.
    pub queries: Vec<serde_json::Value>,
    /// Why conversion failed, when it did.
    pub result: Option<StatusResult>,
}

impl QueryConversionResponse {
    /// A response with `queries`.
    pub fn new(queries: Vec<serde_json::Value>) -> Self {
        QueryConversionResponse {
            queries,
            result: None,
        }
    }
}

/// Reads every object of `request` as a JSON query data request; `None`
/// when one of them is not one (the request then goes to the ordinary
/// conversion handler).
pub(crate) fn query_data_requests(request: &ConversionRequest) -> Option<Vec<QueryDataRequest>> {
    request
        .objects
        .iter()
        .map(|object| {
            if object.content_type != JSON_CONTENT_TYPE {
                return None;
            }
            let wire: WireQueryDataRequest = serde_json::from_slice(&object.raw).ok()?;
            let queries = wire
                .queries
                .into_iter()
                .map(WireDataQuery::into_query)
                .collect::<Option<Vec<_>>>()?;
            let mut converted = QueryDataRequest::new(request.plugin_context.clone(), queries);
            converted.headers = wire.headers;
            Some(converted)
        })
        .collect()
}

/// The JSON objects of converted queries.
pub(crate) fn query_objects(queries: &[serde_json::Value]) -> Result<Vec<RawObject>, Error> {
    queries
        .iter()
        .map(|query| {
            let raw = serde_json::to_vec(query)
                .map_err(|source| Error::json("converted query", source))?;
            Ok(RawObject::json(raw))
        })
        .collect()
}

/// A query data request as JSON: the Go SDK's struct without JSON tags, whose
/// decoder matches names case-insensitively, so both spellings are accepted.
#[derive(Deserialize)]
struct WireQueryDataRequest {
    #[serde(default, alias = "Headers")]
    headers: HashMap<String, String>,
    #[serde(default, alias = "Queries")]
    queries: Vec<WireDataQuery>,
}

#[derive(Deserialize)]
struct WireDataQuery {
    #[serde(
        default,
        alias = "RefID",
        alias = "refId",
        alias = "refID",
        alias = "RefId"
    )]
    ref_id: String,
    #[serde(default, alias = "QueryType", alias = "queryType")]
    query_type: String,
    #[serde(default, alias = "MaxDataPoints", alias = "maxDataPoints")]
    max_data_points: i64,
    /// Nanoseconds, as Go's `time.Duration`.
    #[serde(default, alias = "Interval")]
    interval: i64,
    #[serde(default, alias = "TimeRange", alias = "timeRange")]
    time_range: Option<WireTimeRange>,
    #[serde(default, alias = "JSON")]
    json: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct WireTimeRange {
    #[serde(alias = "From")]
    from: String,
    #[serde(alias = "To")]
    to: String,
}

impl WireDataQuery {
    fn into_query(self) -> Option<DataQuery> {
        let time_range = match self.time_range {
            Some(range) => TimeRange::new(parse_rfc3339(&range.from)?, parse_rfc3339(&range.to)?),
            None => TimeRange::default(),
        };
        let mut query = DataQuery::new(
            self.ref_id,
            self.json
                .map(|raw| Bytes::from(raw.get().to_owned()))
                .unwrap_or_default(),
        );
        query.query_type = self.query_type;
        query.max_data_points = self.max_data_points;
        query.interval = Duration::from_nanos(u64::try_from(self.interval).ok()?);
        query.time_range = time_range;
        Some(query)
    }
}

fn parse_rfc3339(value: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(objects: Vec<RawObject>) -> ConversionRequest {
        ConversionRequest {
            objects,
            ..ConversionRequest::default()
        }
    }

    #[test]
    fn reads_go_shaped_query_requests() {
        let raw = r#"{"Queries":[{"RefID":"A","JSON":{"expr":"up"},"Interval":1000000000,
            "TimeRange":{"From":"2024-01-01T00:00:00Z","To":"2024-01-01T01:00:00Z"}}]}"#;
        let parsed = query_data_requests(&request(vec![RawObject::json(raw)])).unwrap();
        let query = &parsed[0].queries[0];
        assert_eq!(query.ref_id, "A");
        assert_eq!(query.json, r#"{"expr":"up"}"#);
        assert_eq!(query.interval, Duration::from_secs(1));
        assert_eq!(query.time_range.duration(), Duration::from_secs(3600));
    }

    #[test]
    fn other_objects_are_not_query_requests() {
        assert!(
            query_data_requests(&request(vec![RawObject::new("{}", "application/yaml")])).is_none()
        );
        assert!(query_data_requests(&request(vec![RawObject::json("[1,2]")])).is_none());
        assert!(
            query_data_requests(&request(vec![RawObject::json(
                r#"{"queries":[{"Interval":-1}]}"#
            )]))
            .is_none()
        );
    }
}
