//! QueryChunkedData: the QueryData scenarios ([`crate::query`]), frames sent
//! in several chunks.
//!
//! * `rows`: frame id `rows`, `chunkRows` rows per chunk (the last chunk
//!   may be shorter; zero rows is one empty chunk), then a second frame,
//!   id `rows-2`, of one chunk with the same N rows, so a consumer must both
//!   merge chunks of one frame and keep two frames apart;
//! * `all_types`: frame id `all`, the fixture twice (two chunks), so the
//!   merged frame holds every row twice;
//! * `error`: one error chunk with the status, the message and the source;
//! * `request_error`: the call fails with a downstream error.
//!
//! Every frame chunk has status 200 and the request's format
//! (`backend/chunked.go` in the Go SDK: Arrow chunks are whole Arrow files,
//! JSON chunks after the first of a frame are data-only).

use crate::query::{Scenario, error_response, rows_frame};
use plugin_backend::{
    ChunkedDataWriter, DataQuery, Error, QueryChunkedDataHandler, QueryChunkedDataRequest, Status,
};

/// The QueryChunkedData handler.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChunkedQueries;

async fn answer(query: &DataQuery, writer: &mut ChunkedDataWriter) -> Result<(), Error> {
    let ref_id = query.ref_id.as_str();
    let scenario = match Scenario::of(query) {
        Ok(scenario) => scenario,
        Err(error) => {
            return writer
                .write_error(ref_id, Status::BAD_REQUEST, Some(&error))
                .await;
        }
    };
    match scenario {
        Scenario::Rows { rows, chunk_rows } => {
            let mut start = 0;
            loop {
                let end = rows.min(start + chunk_rows);
                writer
                    .write_frame(ref_id, "rows", rows_frame(query, start..end))
                    .await?;
                start = end;
                if start >= rows {
                    break;
                }
            }
            writer
                .write_frame(ref_id, "rows-2", rows_frame(query, 0..rows))
                .await
        }
        Scenario::AllTypes => {
            for _ in 0..2 {
                writer
                    .write_frame(ref_id, "all", plugin_testkit::fixtures::all_field_types())
                    .await?;
            }
            Ok(())
        }
        Scenario::Error {
            status,
            error_source,
            message,
        } => {
            let response = error_response(status, error_source.as_deref(), message)?;
            writer.write_response(ref_id, response).await
        }
        Scenario::Log { message } => {
            tracing::info!("{message}");
            Ok(())
        }
        Scenario::RequestError { message } => Err(Error::downstream(message)),
    }
}

impl QueryChunkedDataHandler for ChunkedQueries {
    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        mut writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        for query in &request.queries {
            answer(query, &mut writer).await?;
        }
        Ok(())
    }
}
