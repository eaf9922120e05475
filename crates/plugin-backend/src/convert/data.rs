//! Data queries, responses and chunks ↔ wire messages.

use std::time::Duration;

use bytes::Bytes;
use plugin_data::{Frame, FrameInclude};
use plugin_proto::pluginv2;

use super::required_plugin_context;
use crate::chunked::{QueryChunkedDataRequest, QueryChunkedDataResponse};
use crate::data::{
    DataFrameFormat, DataQuery, DataResponse, QueryDataRequest, QueryDataResponse, TimeRange,
};
use crate::error::{Error, ErrorSource};
use crate::status::Status;

impl TryFrom<pluginv2::TimeRange> for TimeRange {
    type Error = Error;

    fn try_from(message: pluginv2::TimeRange) -> Result<Self, Error> {
        TimeRange::from_epoch_millis(message.from_epoch_ms, message.to_epoch_ms)
    }
}

impl From<TimeRange> for pluginv2::TimeRange {
    fn from(range: TimeRange) -> Self {
        pluginv2::TimeRange {
            from_epoch_ms: range.from.timestamp_millis(),
            to_epoch_ms: range.to.timestamp_millis(),
        }
    }
}

impl TryFrom<pluginv2::DataQuery> for DataQuery {
    type Error = Error;

    fn try_from(message: pluginv2::DataQuery) -> Result<Self, Error> {
        let interval_ms = u64::try_from(message.interval_ms).map_err(|_| {
            Error::invalid(
                "query interval",
                format!("{} ms is negative", message.interval_ms),
            )
        })?;
        Ok(DataQuery {
            ref_id: message.ref_id,
            query_type: message.query_type,
            max_data_points: message.max_data_points,
            interval: Duration::from_millis(interval_ms),
            time_range: message
                .time_range
                .ok_or(Error::MissingField("query time range"))?
                .try_into()?,
            json: message.json,
        })
    }
}

impl From<DataQuery> for pluginv2::DataQuery {
    fn from(query: DataQuery) -> Self {
        pluginv2::DataQuery {
            ref_id: query.ref_id,
            // Saturates only for intervals of hundreds of millions of years,
            // which no message can produce.
            interval_ms: i64::try_from(query.interval.as_millis()).unwrap_or(i64::MAX),
            max_data_points: query.max_data_points,
            time_range: Some(query.time_range.into()),
            json: query.json,
            query_type: query.query_type,
        }
    }
}

fn queries_from_proto(queries: Vec<pluginv2::DataQuery>) -> Result<Vec<DataQuery>, Error> {
    queries.into_iter().map(DataQuery::try_from).collect()
}

impl TryFrom<pluginv2::QueryDataRequest> for QueryDataRequest {
    type Error = Error;

    fn try_from(message: pluginv2::QueryDataRequest) -> Result<Self, Error> {
        Ok(QueryDataRequest {
            plugin_context: required_plugin_context(message.plugin_context)?,
            headers: message.headers,
            queries: queries_from_proto(message.queries)?,
            format: DataFrameFormat::from_wire(message.format)?,
        })
    }
}

impl From<QueryDataRequest> for pluginv2::QueryDataRequest {
    fn from(request: QueryDataRequest) -> Self {
        pluginv2::QueryDataRequest {
            plugin_context: Some(request.plugin_context.into()),
            headers: request.headers,
            queries: request.queries.into_iter().map(Into::into).collect(),
            format: request.format.to_wire(),
        }
    }
}

impl TryFrom<pluginv2::QueryChunkedDataRequest> for QueryChunkedDataRequest {
    type Error = Error;

    fn try_from(message: pluginv2::QueryChunkedDataRequest) -> Result<Self, Error> {
        Ok(QueryChunkedDataRequest {
            plugin_context: required_plugin_context(message.plugin_context)?,
            headers: message.headers,
            queries: queries_from_proto(message.queries)?,
            format: DataFrameFormat::from_wire(message.format)?,
        })
    }
}

impl From<QueryChunkedDataRequest> for pluginv2::QueryChunkedDataRequest {
    fn from(request: QueryChunkedDataRequest) -> Self {
        pluginv2::QueryChunkedDataRequest {
            plugin_context: Some(request.plugin_context.into()),
            headers: request.headers,
            queries: request.queries.into_iter().map(Into::into).collect(),
            format: request.format.to_wire(),
        }
    }
}

impl QueryDataResponse {
    /// The wire message, with every frame encoded in `format` (the format
    /// of the request this answers) and every response labelled with it.
    ///
    /// Frames without a `ref_id` get their response's key.
    pub fn into_proto(self, format: DataFrameFormat) -> Result<pluginv2::QueryDataResponse, Error> {
        let responses = self
            .responses
            .into_iter()
            .map(|(ref_id, response)| {
                let message = response.into_proto(&ref_id, format)?;
                Ok((ref_id, message))
            })
            .collect::<Result<_, Error>>()?;
        Ok(pluginv2::QueryDataResponse { responses })
    }
}

impl DataResponse {
    /// The wire message of the response to query `ref_id`, with frames
    /// encoded in `format`.
    ///
    /// The status is the [effective](DataResponse::effective_status) one;
    /// frames without a `ref_id` get `ref_id`.
    pub fn into_proto(
        self,
        ref_id: &str,
        format: DataFrameFormat,
    ) -> Result<pluginv2::DataResponse, Error> {
        let status = self.effective_status();
        let frames = self
            .frames
            .into_iter()
            .map(|mut frame| {
                if frame.ref_id().is_empty() {
                    frame.set_ref_id(ref_id);
                }
                encode_frame(&frame, format)
            })
            .collect::<Result<_, Error>>()?;
        Ok(pluginv2::DataResponse {
            frames,
            error: self
                .error
                .map(|error| error.to_string())
                .unwrap_or_default(),
            json_meta: self.json_meta,
            status: i32::from(status.as_u16()),
            error_source: self
                .error_source
                .map(|source| source.as_str().to_owned())
                .unwrap_or_default(),
            format: format.to_wire(),
        })
    }
}

fn encode_frame(frame: &Frame, format: DataFrameFormat) -> Result<Bytes, Error> {
    Ok(match format {
        DataFrameFormat::Arrow => frame.to_arrow_ipc()?,
        DataFrameFormat::Json => frame.to_json(FrameInclude::All)?.into(),
    })
}

fn decode_frame(bytes: &[u8], format: DataFrameFormat) -> Result<Frame, Error> {
    Ok(match format {
        DataFrameFormat::Arrow => Frame::from_arrow_ipc(bytes)?,
        DataFrameFormat::Json => Frame::from_json(bytes)?,
    })
}

impl TryFrom<pluginv2::DataResponse> for DataResponse {
    type Error = Error;

    /// Decodes a response as Grafana does: frames by the response's own
    /// `format`, an unset or invalid status as `None`.
    fn try_from(message: pluginv2::DataResponse) -> Result<Self, Error> {
        let format = DataFrameFormat::from_wire(message.format)?;
        let frames = message
            .frames
            .iter()
            .map(|bytes| decode_frame(bytes, format))
            .collect::<Result<_, _>>()?;
        let error_source = ErrorSource::from_wire(&message.error_source)?;
        let error = (!message.error.is_empty()).then(|| Error::Handler {
            error: message.error.into(),
            error_source,
        });
        Ok(DataResponse {
            frames,
            error,
            status: Status::from_wire(message.status),
            error_source,
            json_meta: message.json_meta,
        })
    }
}

impl TryFrom<pluginv2::QueryDataResponse> for QueryDataResponse {
    type Error = Error;

    fn try_from(message: pluginv2::QueryDataResponse) -> Result<Self, Error> {
        message
            .responses
            .into_iter()
            .map(|(ref_id, response)| Ok((ref_id, DataResponse::try_from(response)?)))
            .collect()
    }
}

impl TryFrom<pluginv2::QueryChunkedDataResponse> for QueryChunkedDataResponse {
    type Error = Error;

    fn try_from(message: pluginv2::QueryChunkedDataResponse) -> Result<Self, Error> {
        Ok(QueryChunkedDataResponse {
            ref_id: message.ref_id,
            frame_id: message.frame_id,
            frame: message.frame,
            error: message.error,
            status: Status::from_wire(message.status),
            error_source: ErrorSource::from_wire(&message.error_source)?,
            format: DataFrameFormat::from_wire(message.format)?,
        })
    }
}

impl From<QueryChunkedDataResponse> for pluginv2::QueryChunkedDataResponse {
    fn from(chunk: QueryChunkedDataResponse) -> Self {
        pluginv2::QueryChunkedDataResponse {
            ref_id: chunk.ref_id,
            frame_id: chunk.frame_id,
            frame: chunk.frame,
            error: chunk.error,
            status: chunk
                .status
                .map(|status| i32::from(status.as_u16()))
                .unwrap_or_default(),
            error_source: chunk
                .error_source
                .map(|source| source.as_str().to_owned())
                .unwrap_or_default(),
            format: chunk.format.to_wire(),
        }
    }
}
