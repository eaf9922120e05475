//! Arrow IPC file → frame.
//!
//! The envelope (magic bytes, footer length) is checked before arrow-ipc sees the bytes;
//! arrow-ipc then verifies the flatbuffers and validates every array.

use std::io::Cursor;
use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_ipc::reader::FileReader;
use arrow_schema::{Metadata, Schema};

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
    let footer = check_envelope(bytes)?;
    check_blocks(bytes, footer)?;
    let reader = FileReader::try_new(Cursor::new(bytes), None)?;
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<RecordBatch>, _>>()?;
    let columns = columns_of(&schema, &batches)?;
    frame_from_parts(&schema, columns)
}

/// Rejects inputs that cannot be an Arrow file before arrow-ipc parses offsets out of them.
/// Returns the range of the footer flatbuffer.
fn check_envelope(bytes: &[u8]) -> Result<std::ops::Range<usize>, Error> {
    if bytes.len() < MIN_FILE_LEN {
        return Err(Error::InvalidArrow(format!(
            "{} bytes is too short",
            bytes.len()
        )));
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
    match usize::try_from(footer_len) {
        Ok(len) if len > 0 && len <= trailer_start - 8 => Ok(trailer_start - len..trailer_start),
        _ => Err(Error::InvalidArrow(format!(
            "footer length {footer_len} out of range"
        ))),
    }
}

fn invalid(what: impl Into<String>) -> Error {
    Error::InvalidArrow(what.into())
}

/// Checks that every block the footer lists, and every buffer each block's message lists, lies
/// inside the file. arrow-ipc trusts these offsets (and panics on out-of-range slices), so
/// they are validated here first.
fn check_blocks(bytes: &[u8], footer_range: std::ops::Range<usize>) -> Result<(), Error> {
    let data_end = footer_range.start;
    let footer_bytes = bytes
        .get(footer_range)
        .ok_or_else(|| invalid("footer out of range"))?;
    let footer =
        arrow_ipc::root_as_footer(footer_bytes).map_err(|e| invalid(format!("footer: {e}")))?;
    let blocks = footer
        .recordBatches()
        .into_iter()
        .flatten()
        .chain(footer.dictionaries().into_iter().flatten());
    for block in blocks {
        let to_usize = |v: i64, what: &str| {
            usize::try_from(v).map_err(|_| invalid(format!("negative {what}")))
        };
        let offset = to_usize(block.offset(), "block offset")?;
        let meta_len = to_usize(i64::from(block.metaDataLength()), "metadata length")?;
        let body_len = to_usize(block.bodyLength(), "body length")?;
        if offset % 8 != 0 || meta_len % 8 != 0 {
            return Err(invalid("block is not 8-byte aligned"));
        }
        let block_end = offset
            .checked_add(meta_len)
            .and_then(|end| end.checked_add(body_len))
            .filter(|&end| end <= data_end)
            .ok_or_else(|| invalid("block extends past the data section"))?;
        let meta = bytes
            .get(offset..offset + meta_len)
            .ok_or_else(|| invalid("block out of range"))?;
        // Messages start with 0xFFFFFFFF + length (current format) or just the length (legacy).
        let (prefix_len, message_len): (usize, i32) = match meta {
            [0xff, 0xff, 0xff, 0xff, a, b, c, d, ..] => (8, i32::from_le_bytes([*a, *b, *c, *d])),
            [a, b, c, d, ..] => (4, i32::from_le_bytes([*a, *b, *c, *d])),
            _ => return Err(invalid("block metadata too short")),
        };
        let message_len = to_usize(i64::from(message_len), "message length")?;
        let message_bytes = meta
            .get(prefix_len..prefix_len.saturating_add(message_len))
            .ok_or_else(|| invalid("message length exceeds its block"))?;
        let message = arrow_ipc::root_as_message(message_bytes)
            .map_err(|e| invalid(format!("message: {e}")))?;
        let batch = message
            .header_as_record_batch()
            .or_else(|| message.header_as_dictionary_batch().and_then(|d| d.data()));
        let Some(batch) = batch else { continue };
        check_buffer_widths(&footer, &batch)?;
        for buffer in batch.buffers().into_iter().flatten() {
            let start = to_usize(buffer.offset(), "buffer offset")?;
            let len = to_usize(buffer.length(), "buffer length")?;
            // The format requires 8-byte aligned buffers; arrow-rs asserts alignment when it
            // views a buffer as typed values.
            if start % 8 != 0 {
                return Err(invalid(format!(
                    "buffer offset {start} is not 8-byte aligned"
                )));
            }
            if start.checked_add(len).is_none_or(|end| end > body_len) {
                return Err(invalid(format!(
                    "buffer {start}+{len} exceeds the block body ({body_len})"
                )));
            }
        }
        debug_assert!(block_end <= bytes.len());
    }
    Ok(())
}

/// One array per schema field, concatenating several record batches if the file has them.
fn columns_of(schema: &Schema, batches: &[RecordBatch]) -> Result<Vec<ArrayRef>, Error> {
    match batches {
        [] => Ok(schema
            .fields()
            .iter()
            .map(|f| arrow_array::new_empty_array(f.data_type()))
            .collect()),
        [batch] => Ok(batch.columns().to_vec()),
        _ => (0..schema.fields().len())
            .map(|i| {
                let parts: Vec<&dyn arrow_array::Array> = batches
                    .iter()
                    .filter_map(|b| b.columns().get(i))
                    .map(|c| c.as_ref())
                    .collect();
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
        let meta: FrameMeta =
            serde_json::from_str(meta).map_err(|source| Error::InvalidMetadata {
                key: KEY_META,
                owner: format!("frame {name:?}"),
                source,
            })?;
        frame.set_meta(meta);
    }
    for (arrow_field, array) in schema.fields().iter().zip(columns) {
        frame.push_field(field_from_parts(
            arrow_field.name(),
            arrow_field.metadata(),
            arrow_field.is_nullable(),
            array,
        )?);
    }
    Ok(frame)
}

fn field_from_parts(
    name: &str,
    metadata: &Metadata,
    nullable: bool,
    array: ArrayRef,
) -> Result<Field, Error> {
    let owner = || format!("field {name:?}");
    let labels =
        match metadata.get(KEY_LABELS) {
            Some(json) => Some(serde_json::from_str::<Labels>(json).map_err(|source| {
                Error::InvalidMetadata {
                    key: KEY_LABELS,
                    owner: owner(),
                    source,
                }
            })?),
            None => None,
        };
    let config = match metadata.get(KEY_CONFIG) {
        Some(json) => Some(serde_json::from_str::<FieldConfig>(json).map_err(|source| {
            Error::InvalidMetadata {
                key: KEY_CONFIG,
                owner: owner(),
                source,
            }
        })?),
        None => None,
    };
    let enum_hint = metadata.get(KEY_TSTYPE).is_some_and(|t| t == "enum");
    let (array, field_type) = normalize_array(array, enum_hint)?;
    // The Arrow nullable flag, not the data, decides nullability (as in the Go SDK). arrow-ipc
    // has already rejected nulls in non-nullable columns.
    let values = FieldValues {
        array: Arc::clone(&array),
        field_type,
        nullable,
    };
    Ok(Field::from_parts(name.to_owned(), labels, config, values))
}

/// The element width of each buffer of a flat column type (`None` for validity and bit-packed
/// buffers), or `None` when this check does not cover the type (views, nested types).
fn buffer_widths(field: &arrow_ipc::Field<'_>) -> Option<Vec<Option<usize>>> {
    use arrow_ipc::{Precision, Type};
    let values = |width: usize| Some(vec![None, Some(width)]);
    match field.type_type() {
        Type::Int => values(usize::try_from(field.type_as_int()?.bitWidth()).ok()? / 8),
        Type::FloatingPoint => match field.type_as_floating_point()?.precision() {
            Precision::HALF => values(2),
            Precision::SINGLE => values(4),
            _ => values(8),
        },
        Type::Timestamp => values(8),
        Type::Bool => Some(vec![None, None]),
        Type::Utf8 | Type::Binary => Some(vec![None, Some(4), None]),
        Type::LargeUtf8 | Type::LargeBinary => Some(vec![None, Some(8), None]),
        _ => None,
    }
}

/// Checks that each typed buffer's length is a whole number of elements (arrow-rs asserts it).
fn check_buffer_widths(
    footer: &arrow_ipc::Footer<'_>,
    batch: &arrow_ipc::RecordBatch<'_>,
) -> Result<(), Error> {
    let (Some(fields), Some(buffers)) = (footer.schema().and_then(|s| s.fields()), batch.buffers())
    else {
        return Ok(());
    };
    let mut buffers = buffers.iter();
    for field in fields {
        // Past a type this check does not model, buffer positions are unknown: stop.
        let Some(widths) = buffer_widths(&field) else {
            return Ok(());
        };
        for width in widths {
            let Some(buffer) = buffers.next() else {
                return Ok(());
            };
            let len =
                usize::try_from(buffer.length()).map_err(|_| invalid("negative buffer length"))?;
            if width.is_some_and(|w| w > 0 && len % w != 0) {
                return Err(invalid(format!(
                    "buffer length {len} is not a multiple of {width:?}"
                )));
            }
        }
    }
    Ok(())
}
