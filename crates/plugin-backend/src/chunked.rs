//! Chunked queries: [`QueryChunkedDataRequest`] answered chunk by chunk
//! through a [`ChunkedDataWriter`].
//!
//! A chunked query streams each frame in pieces. Every chunk names its query
//! (`ref_id`) and its frame (`frame_id`); Grafana appends the rows of chunks
//! with the same frame id. In Arrow every chunk is a complete Arrow file; in
//! JSON the first chunk of a frame carries schema and data and later chunks
//! carry data only.

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use plugin_data::{Frame, FrameInclude};

use crate::context::PluginContext;
use crate::data::{DataFrameFormat, DataQuery, DataResponse};
use crate::error::{Error, ErrorSource};
use crate::sender::ResponseSender;
use crate::status::Status;

/// A request to run queries and stream their frames in chunks.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct QueryChunkedDataRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// Forwarded HTTP headers and other request metadata.
    pub headers: HashMap<String, String>,
    /// The queries.
    pub queries: Vec<DataQuery>,
    /// The frame encoding Grafana wants in the chunks.
    pub format: DataFrameFormat,
}

impl QueryChunkedDataRequest {
    /// A request for `queries` in `plugin_context`.
    pub fn new(plugin_context: PluginContext, queries: Vec<DataQuery>) -> Self {
        QueryChunkedDataRequest {
            plugin_context,
            queries,
            ..QueryChunkedDataRequest::default()
        }
    }
}

/// One chunk of a chunked query's response, as it goes on the wire.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct QueryChunkedDataResponse {
    /// The query the chunk belongs to.
    pub ref_id: String,
    /// The frame the chunk belongs to; empty for an error chunk.
    pub frame_id: String,
    /// The encoded frame (see [`format`](Self::format)); empty for an error chunk.
    pub frame: Bytes,
    /// The error message of an error chunk.
    pub error: String,
    /// The status; `None` when not set on the wire.
    pub status: Option<Status>,
    /// Who is to blame for the error.
    pub error_source: Option<ErrorSource>,
    /// The encoding of [`frame`](Self::frame).
    pub format: DataFrameFormat,
}

/// Writes a chunked query's frames and errors, encoding each frame as the
/// request asked.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use plugin_backend::{ChunkedDataWriter, DataFrameFormat, ResponseSender};
/// use plugin_data::{Field, Frame};
///
/// # futures_util::FutureExt::now_or_never(async {
/// let chunks = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&chunks);
/// let mut writer = ChunkedDataWriter::new(
///     DataFrameFormat::Json,
///     ResponseSender::from_fn(move |chunk| Ok(sink.lock().unwrap().push(chunk))),
/// );
/// for rows in [vec![1_i64, 2], vec![3]] {
///     let frame = Frame::new("series").with_field(Field::new("value", rows));
///     writer.write_frame("A", "f0", frame).await?;
/// }
/// let chunks = chunks.lock().unwrap();
/// assert!(String::from_utf8_lossy(&chunks[0].frame).contains("\"schema\""));
/// assert!(!String::from_utf8_lossy(&chunks[1].frame).contains("\"schema\""));
/// # Ok::<(), plugin_backend::Error>(())
/// # }).unwrap().unwrap();
/// ```
#[derive(Debug)]
pub struct ChunkedDataWriter {
    format: DataFrameFormat,
    sender: ResponseSender<QueryChunkedDataResponse>,
    /// `(ref_id, frame_id)` pairs whose schema went out already (JSON only).
    schema_sent: HashSet<(String, String)>,
}

impl ChunkedDataWriter {
    /// A writer encoding frames in `format` and sending chunks to `sender`.
    pub fn new(format: DataFrameFormat, sender: ResponseSender<QueryChunkedDataResponse>) -> Self {
        ChunkedDataWriter {
            format,
            sender,
            schema_sent: HashSet::new(),
        }
    }

    /// The encoding of the frames.
    pub fn format(&self) -> DataFrameFormat {
        self.format
    }

    /// Sends the next chunk of frame `frame_id` of query `ref_id`, setting
    /// the frame's `ref_id`.
    pub async fn write_frame(
        &mut self,
        ref_id: &str,
        frame_id: &str,
        mut frame: Frame,
    ) -> Result<(), Error> {
        if ref_id.is_empty() {
            return Err(Error::MissingField("chunk ref_id"));
        }
        if frame_id.is_empty() {
            return Err(Error::MissingField("chunk frame_id"));
        }
        frame.set_ref_id(ref_id);
        let encoded = match self.format {
            DataFrameFormat::Arrow => frame.to_arrow_ipc()?,
            DataFrameFormat::Json => {
                let first = !self
                    .schema_sent
                    .contains(&(ref_id.to_owned(), frame_id.to_owned()));
                let include = if first {
                    FrameInclude::All
                } else {
                    FrameInclude::DataOnly
                };
                let json = Bytes::from(frame.to_json(include)?);
                if first {
                    self.schema_sent
                        .insert((ref_id.to_owned(), frame_id.to_owned()));
                }
                json
            }
        };
        self.sender
            .send(QueryChunkedDataResponse {
                ref_id: ref_id.to_owned(),
                frame_id: frame_id.to_owned(),
                frame: encoded,
                status: Some(Status::OK),
                format: self.format,
                ..QueryChunkedDataResponse::default()
            })
            .await
    }

    /// Sends an error chunk for query `ref_id`.
    pub async fn write_error(
        &mut self,
        ref_id: &str,
        status: Status,
        error: Option<&Error>,
    ) -> Result<(), Error> {
        self.sender
            .send(QueryChunkedDataResponse {
                ref_id: ref_id.to_owned(),
                error: error.map(ToString::to_string).unwrap_or_default(),
                status: Some(status),
                error_source: error.and_then(Error::error_source),
                format: self.format,
                ..QueryChunkedDataResponse::default()
            })
            .await
    }

    /// Sends `response`, the answer to query `ref_id`, as chunks: each frame
    /// as frame `f<i>`, then an error chunk if the response failed or has a
    /// status other than OK. This is how the Go SDK's `QueryTypeMux` answers
    /// a chunked query with a plain QueryData handler
    /// (backend/datasource/query_type_mux.go).
    pub async fn write_response(
        &mut self,
        ref_id: &str,
        response: DataResponse,
    ) -> Result<(), Error> {
        let status = response.effective_status();
        let DataResponse {
            frames,
            error,
            error_source,
            ..
        } = response;
        for (index, frame) in frames.into_iter().enumerate() {
            self.write_frame(ref_id, &format!("f{index}"), frame)
                .await?;
        }
        if error.is_none() && status == Status::OK {
            return Ok(());
        }
        self.sender
            .send(QueryChunkedDataResponse {
                ref_id: ref_id.to_owned(),
                error: error.as_ref().map(ToString::to_string).unwrap_or_default(),
                status: Some(status),
                error_source,
                format: self.format,
                ..QueryChunkedDataResponse::default()
            })
            .await
    }

    /// Sends `chunk` as it is (for forwarding chunks between writers).
    pub async fn write_chunk(&mut self, chunk: QueryChunkedDataResponse) -> Result<(), Error> {
        self.sender.send(chunk).await
    }
}
