//! Assembling a chunked query answer (`Data/QueryChunkedData`) into whole
//! frames, following the Go SDK's rules (`experimental/datasourcetest`):
//!
//! * every Arrow chunk is a complete Arrow file (schema and rows);
//! * the first JSON chunk of a (refId, frameId) is `{"schema":…,"data":…}`,
//!   later ones `{"data":…}` decoded against that schema;
//! * chunks with the same (refId, frameId) append rows to one frame; frames
//!   keep the order in which their first chunk arrived;
//! * a chunk with an error (and no frame) sets its refId's error and status.

use std::collections::HashMap;

use arrow_array::cast::AsArray;
use plugin_backend::{
    DataFrameFormat, DataResponse, Error as BackendError, QueryChunkedDataResponse,
    QueryDataResponse,
};
use plugin_data::{FieldType, FieldValues, Frame};

use crate::client::has_schema;
use crate::error::Error;

/// Collects chunks in arrival order, then yields the assembled answer.
#[derive(Debug, Default)]
pub(crate) struct ChunkAssembler {
    responses: HashMap<String, PartialResponse>,
}

#[derive(Debug, Default)]
struct PartialResponse {
    /// Frame ids in order of first arrival, with the frame assembled so far.
    frames: Vec<(String, Frame)>,
    response: DataResponse,
}

impl ChunkAssembler {
    pub(crate) fn push(&mut self, chunk: QueryChunkedDataResponse) -> Result<(), Error> {
        let partial = self.responses.entry(chunk.ref_id.clone()).or_default();
        if !chunk.error.is_empty() {
            partial.response.error = Some(BackendError::Handler {
                error: chunk.error.into(),
                error_source: chunk.error_source,
            });
            partial.response.error_source = chunk.error_source;
            partial.response.status = chunk.status;
            return Ok(());
        }
        if chunk.frame.is_empty() {
            return Ok(());
        }
        let existing = partial
            .frames
            .iter_mut()
            .find(|(frame_id, _)| *frame_id == chunk.frame_id);
        match (chunk.format, existing) {
            (DataFrameFormat::Arrow, None) => {
                partial
                    .frames
                    .push((chunk.frame_id, Frame::from_arrow_ipc(&chunk.frame)?));
            }
            (DataFrameFormat::Arrow, Some((_, frame))) => {
                append_rows(frame, &Frame::from_arrow_ipc(&chunk.frame)?)?;
            }
            (DataFrameFormat::Json, None) => {
                if !has_schema(&chunk.frame) {
                    return Err(Error::InvalidResponse(format!(
                        "the first JSON chunk of frame {:?} (refId {:?}) has no schema",
                        chunk.frame_id, chunk.ref_id
                    )));
                }
                partial
                    .frames
                    .push((chunk.frame_id, Frame::from_json(&chunk.frame)?));
            }
            (DataFrameFormat::Json, Some((_, frame))) => {
                let rows = Frame::from_json_data(&frame.empty_like(), &chunk.frame)?;
                append_rows(frame, &rows)?;
            }
        }
        Ok(())
    }

    pub(crate) fn finish(self) -> Result<QueryDataResponse, Error> {
        Ok(self
            .responses
            .into_iter()
            .map(|(ref_id, mut partial)| {
                partial.response.frames =
                    partial.frames.into_iter().map(|(_, frame)| frame).collect();
                (ref_id, partial.response)
            })
            .collect())
    }
}

/// Appends the rows of `more` to `frame`; both must have the same fields.
fn append_rows(frame: &mut Frame, more: &Frame) -> Result<(), Error> {
    if frame.fields().len() != more.fields().len() {
        return Err(Error::InvalidResponse(format!(
            "a chunk of frame {:?} has {} fields, the frame has {}",
            frame.name(),
            more.fields().len(),
            frame.fields().len()
        )));
    }
    for (field, extra) in frame.fields_mut().iter_mut().zip(more.fields()) {
        if field.field_type() != extra.field_type() {
            return Err(Error::InvalidResponse(format!(
                "field {:?} changes type from {:?} to {:?} between chunks",
                field.name(),
                field.field_type(),
                extra.field_type()
            )));
        }
        let nullable = field.is_nullable() || extra.is_nullable();
        let joined =
            arrow_select::concat::concat(&[field.array().as_ref(), extra.array().as_ref()])
                .map_err(plugin_data::Error::from)?;
        let values = match field.field_type() {
            // A bare UInt16 array would read back as uint16, not enum.
            FieldType::Enum => FieldValues::enum_from_array(joined.as_primitive().clone()),
            _ => FieldValues::try_from_array(joined)?,
        };
        field.set_values(values.with_nullable(nullable)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_backend::Status;
    use plugin_data::{Field, FrameInclude};

    fn chunk(
        ref_id: &str,
        frame_id: &str,
        format: DataFrameFormat,
        frame: bytes::Bytes,
    ) -> QueryChunkedDataResponse {
        let mut chunk = QueryChunkedDataResponse::default();
        chunk.ref_id = ref_id.to_owned();
        chunk.frame_id = frame_id.to_owned();
        chunk.format = format;
        chunk.frame = frame;
        chunk.status = Some(Status::OK);
        chunk
    }

    fn rows(values: Vec<Option<&str>>, start: i64) -> Frame {
        let count = i64::try_from(values.len()).unwrap();
        Frame::new("logs")
            .with_field(Field::new(
                "n",
                (start..start + count).collect::<Vec<i64>>(),
            ))
            .with_field(Field::new("line", values))
    }

    #[test]
    fn arrow_chunks_with_one_frame_id_become_one_frame() {
        let mut assembler = ChunkAssembler::default();
        let first = rows(vec![Some("a"), None], 0);
        let second = rows(vec![Some("c")], 2);
        let other = Frame::new("other").with_field(Field::new("x", vec![1.5_f64]));
        assembler
            .push(chunk(
                "A",
                "f0",
                DataFrameFormat::Arrow,
                first.to_arrow_ipc().unwrap(),
            ))
            .unwrap();
        assembler
            .push(chunk(
                "A",
                "f1",
                DataFrameFormat::Arrow,
                other.to_arrow_ipc().unwrap(),
            ))
            .unwrap();
        assembler
            .push(chunk(
                "A",
                "f0",
                DataFrameFormat::Arrow,
                second.to_arrow_ipc().unwrap(),
            ))
            .unwrap();
        let response = assembler.finish().unwrap();
        let frames = &response.responses["A"].frames;
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], rows(vec![Some("a"), None, Some("c")], 0));
        assert_eq!(frames[1], other);
    }

    #[test]
    fn json_data_only_chunks_use_the_first_schema() {
        let mut assembler = ChunkAssembler::default();
        let first = rows(vec![Some("a")], 0);
        let second = rows(vec![None, Some("z")], 1);
        let json = |frame: &Frame, include| bytes::Bytes::from(frame.to_json(include).unwrap());
        assembler
            .push(chunk(
                "B",
                "f0",
                DataFrameFormat::Json,
                json(&first, FrameInclude::All),
            ))
            .unwrap();
        assembler
            .push(chunk(
                "B",
                "f0",
                DataFrameFormat::Json,
                json(&second, FrameInclude::DataOnly),
            ))
            .unwrap();
        let response = assembler.finish().unwrap();
        assert_eq!(
            response.responses["B"].frames,
            vec![rows(vec![Some("a"), None, Some("z")], 0)]
        );
    }

    #[test]
    fn rule_breaking_chunks_are_errors() {
        let frame = rows(vec![Some("a")], 0);
        let mut assembler = ChunkAssembler::default();
        let data_only = bytes::Bytes::from(frame.to_json(FrameInclude::DataOnly).unwrap());
        let error = assembler
            .push(chunk("A", "f0", DataFrameFormat::Json, data_only))
            .unwrap_err();
        assert!(matches!(error, Error::InvalidResponse(_)), "{error}");

        let mut assembler = ChunkAssembler::default();
        assembler
            .push(chunk(
                "A",
                "f0",
                DataFrameFormat::Arrow,
                frame.to_arrow_ipc().unwrap(),
            ))
            .unwrap();
        let different = Frame::new("logs").with_field(Field::new("n", vec![1_i64]));
        let error = assembler
            .push(chunk(
                "A",
                "f0",
                DataFrameFormat::Arrow,
                different.to_arrow_ipc().unwrap(),
            ))
            .unwrap_err();
        assert!(error.to_string().contains("has 1 fields"), "{error}");
    }

    #[test]
    fn error_chunks_set_the_response_error() {
        let mut assembler = ChunkAssembler::default();
        let mut failed = chunk("A", "", DataFrameFormat::Arrow, bytes::Bytes::new());
        failed.error = "upstream timed out".to_owned();
        failed.status = Some(Status::GATEWAY_TIMEOUT);
        assembler.push(failed).unwrap();
        let response = assembler.finish().unwrap();
        let a = &response.responses["A"];
        assert_eq!(
            a.error.as_ref().map(ToString::to_string).as_deref(),
            Some("upstream timed out")
        );
        assert_eq!(a.status, Some(Status::GATEWAY_TIMEOUT));
        assert!(a.frames.is_empty());
    }

    #[test]
    fn enum_fields_stay_enums_when_appended() {
        let mut frame =
            Frame::new("f").with_field(Field::new("state", FieldValues::enums(vec![0, 1])));
        let copy = frame.clone();
        append_rows(&mut frame, &copy).unwrap();
        assert_eq!(frame.fields()[0].field_type(), FieldType::Enum);
        assert_eq!(frame.fields()[0].len(), 4);
    }
}
