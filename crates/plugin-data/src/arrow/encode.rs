//! Frame → Arrow IPC file.
//!
//! arrow-ipc 60's `FileWriter` writes record batch body buffers straight from the arrays into
//! the writer (no intermediate body buffer). Writing into a `Vec` presized for the whole file
//! therefore copies each column exactly once, and the `Vec` becomes the returned [`Bytes`]
//! without another copy.

use std::sync::Arc;

use arrow_array::{Array, RecordBatch, RecordBatchOptions};
use arrow_ipc::writer::FileWriter;
use arrow_schema::{Field as ArrowField, Metadata, Schema};
use bytes::Bytes;

use super::{KEY_CONFIG, KEY_LABELS, KEY_META, KEY_NAME, KEY_REF_ID, KEY_TSTYPE};
use crate::error::Error;
use crate::field::Field;
use crate::frame::Frame;

/// IPC buffers are padded to 64 bytes (arrow-ipc's default alignment).
const ALIGNMENT: usize = 64;

pub(crate) fn encode_frame(frame: &Frame) -> Result<Bytes, Error> {
    let num_rows = frame.num_rows()?;
    let schema = Arc::new(frame_schema(frame)?);
    let columns = frame
        .fields()
        .iter()
        .map(|f| Arc::clone(f.array()))
        .collect();
    let options = RecordBatchOptions::new().with_row_count(Some(num_rows));
    let batch = RecordBatch::try_new_with_options(Arc::clone(&schema), columns, &options)?;

    let mut out = Vec::with_capacity(estimated_file_len(&schema, &batch));
    let mut writer = FileWriter::try_new(&mut out, &schema)?;
    writer.write(&batch)?;
    writer.finish()?;
    drop(writer);
    Ok(Bytes::from(out))
}

/// The Arrow schema of a frame, with the Go SDK's metadata keys.
pub(crate) fn frame_schema(frame: &Frame) -> Result<Schema, Error> {
    let fields = frame
        .fields()
        .iter()
        .map(arrow_field)
        .collect::<Result<Vec<_>, _>>()?;
    let mut metadata = Metadata::default();
    metadata.insert(KEY_NAME, frame.name());
    metadata.insert(KEY_REF_ID, frame.ref_id());
    if let Some(meta) = frame.meta() {
        metadata.insert(KEY_META, serde_json::to_string(meta)?);
    }
    Ok(Schema::new_with_metadata(fields, metadata))
}

fn arrow_field(field: &Field) -> Result<ArrowField, Error> {
    let mut metadata = Metadata::default();
    metadata.insert(KEY_TSTYPE, field.field_type().simple_type());
    // Labels and config are independent keys: each is written exactly when it is set.
    if let Some(labels) = field.labels() {
        metadata.insert(KEY_LABELS, serde_json::to_string(labels)?);
    }
    if let Some(config) = field.config() {
        metadata.insert(KEY_CONFIG, serde_json::to_string(config)?);
    }
    Ok(ArrowField::new(
        field.name(),
        field.array().data_type().clone(),
        field.is_nullable(),
    )
    .with_metadata(metadata))
}

/// An upper bound of the file size, so the output `Vec` never reallocates (which would copy
/// the column data a second time).
fn estimated_file_len(schema: &Schema, batch: &RecordBatch) -> usize {
    let metadata_len =
        |m: &Metadata| -> usize { m.iter().map(|(k, v)| k.len() + v.len() + 32).sum() };
    // The schema is written twice (schema message and footer); flatbuffers add per-field
    // tables, vtables and padding.
    let schema_len = metadata_len(schema.metadata())
        + schema
            .fields()
            .iter()
            .map(|f| f.name().len() + metadata_len(f.metadata()) + 256)
            .sum::<usize>();
    let body_len: usize = batch
        .columns()
        .iter()
        .map(|c| {
            let data = c.to_data();
            let buffers: usize = data.buffers().iter().map(|b| b.len() + ALIGNMENT).sum();
            let nulls = data.nulls().map_or(0, |n| n.buffer().len() + ALIGNMENT);
            buffers + nulls + ALIGNMENT
        })
        .sum();
    let batch_header_len = 256 + batch.num_columns() * 64;
    2 * schema_len + body_len + batch_header_len + 1024
}
