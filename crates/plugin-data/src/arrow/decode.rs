//! Arrow IPC file → frame.
//!
//! The envelope (magic bytes, footer length) is checked before arrow-ipc sees the bytes;
//! arrow-ipc then verifies the flatbuffers and validates every array.

use std::collections::HashMap;
use std::io::Cursor;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_ipc::reader::FileReader;
use arrow_schema::Schema;

use super::{KEY_CONFIG, KEY_LABELS, KEY_META, KEY_NAME, KEY_REF_ID, KEY_TSTYPE};
use crate::config::FieldConfig;
use crate::error::Error;
use crate::field::{Field, FieldValues, Labels, normalize_array};
use crate::frame::Frame;
use crate::meta::FrameMeta;

const MAGIC: &[u8; 6] = b"ARROW1";
/// Magic, padding to 8, and at least the end-of-file trailer (footer length + magic).
const MIN_FILE_LEN: usize = 8 + 4 + MAGIC.len();

pub(crate) fn decode_frame(bytes: &[u8]) -> Result<Frame, Error> {
    check_envelope(bytes)?;
    let reader = FileReader::try_new(Cursor::new(bytes), None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<RecordBatch>, _>>()?;
    let columns = columns_of(&schema, &batches)?;
    frame_from_parts(&schema, columns)
}

/// Rejects inputs that cannot be an Arrow file before arrow-ipc parses offsets out of them.
fn check_envelope(bytes: &[u8]) -> Result<(), Error> {
    if bytes.len() < MIN_FILE_LEN {
        return Err(Error::InvalidArrow(format!("{} bytes is too short", bytes.len())));
    }
    if !bytes.starts_with(MAGIC) || !bytes.ends_with(MAGIC) {
        return Err(Error::InvalidArrow("missing ARROW1 magic bytes".to_owned()));
    }
    let trailer_start = bytes.len() - MAGIC.len() - 4;
    let footer_len = bytes
        .get(trailer_start..trailer_start + 4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(i32::from_le_bytes)
        .ok_or_else(|| Error::InvalidArrow("missing footer length".to_owned()))?;
    let footer_fits = usize::try_from(footer_len).is_ok_and(|len| len > 0 && len <= trailer_start - 8);
    if !footer_fits {
        return Err(Error::InvalidArrow(format!("footer length {footer_len} out of range")));
    }
    Ok(())
}

/// One array per schema field, concatenating several record batches if the file has them.
fn columns_of(schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<ArrayRef>, Error> {
    match batches {
        [] => Ok(schema.fields().iter().map(|f| arrow_array::new_empty_array(f.data_type())).collect()),
        [batch] => Ok(batch.columns().to_vec()),
        _ => (0..schema.fields().len())
            .map(|i| {
                let parts: Vec<&dyn arrow_array::Array> =
                    batches.iter().filter_map(|b| b.columns().get(i)).map(|c| c.as_ref()).collect();
                Ok(arrow_select::concat::concat(&parts)?)
            })
            .collect(),
    }
}

fn frame_from_parts(schema: &Schema, columns: Vec<ArrayRef>) -> Result<Frame, Error> {
    let metadata = schema.metadata();
    let name = metadata.get(KEY_NAME).cloned().unwrap_or_default();
    let mut frame = Frame::new(name.clone());
    if let Some(ref_id) = metadata.get(KEY_REF_ID) {
        frame.set_ref_id(ref_id.clone());
    }
    if let Some(meta) = metadata.get(KEY_META) {
        let meta: FrameMeta = serde_json::from_str(meta)
            .map_err(|source| Error::InvalidMetadata { key: KEY_META, owner: format!("frame {name:?}"), source })?;
        frame.set_meta(meta);
    }
    for (arrow_field, array) in schema.fields().iter().zip(columns) {
        frame.push_field(field_from_parts(arrow_field.name(), arrow_field.metadata(), arrow_field.is_nullable(), array)?);
    }
    Ok(frame)
}

fn field_from_parts(
    name: &str,
    metadata: &HashMap<String, String>,
    nullable: bool,
    array: ArrayRef,
) -> Result<Field, Error> {
    let owner = || format!("field {name:?}");
    let labels = match metadata.get(KEY_LABELS) {
        Some(json) => Some(
            serde_json::from_str::<Labels>(json)
                .map_err(|source| Error::InvalidMetadata { key: KEY_LABELS, owner: owner(), source })?,
        ),
        None => None,
    };
    let config = match metadata.get(KEY_CONFIG) {
        Some(json) => Some(
            serde_json::from_str::<FieldConfig>(json)
                .map_err(|source| Error::InvalidMetadata { key: KEY_CONFIG, owner: owner(), source })?,
        ),
        None => None,
    };
    let enum_hint = metadata.get(KEY_TSTYPE).is_some_and(|t| t == "enum");
    let (array, field_type) = normalize_array(array, enum_hint)?;
    // The Arrow nullable flag, not the data, decides nullability (as in the Go SDK). arrow-ipc
    // has already rejected nulls in non-nullable columns.
    let values = FieldValues { array: Arc::clone(&array), field_type, nullable };
    Ok(Field::from_parts(name.to_owned(), labels, config, values))
}
