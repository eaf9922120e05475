//! The crate's single error type.

use arrow_schema::{ArrowError, DataType};

/// Everything that can go wrong building, encoding or decoding frames.
///
/// Decoders never panic on malformed input; they return one of these instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The fields of a frame have different lengths, so the frame has no row count.
    #[error("field {field:?} has {len} values but field {first_field:?} has {first_len}")]
    FieldLengthMismatch {
        /// Name of the first field of the frame.
        first_field: String,
        /// Length of the first field.
        first_len: usize,
        /// Name of the first field whose length differs.
        field: String,
        /// Length of that field.
        len: usize,
    },
    /// An Arrow array (or Arrow field) type that Grafana frames cannot hold.
    #[error("unsupported Arrow data type {0} for a Grafana field")]
    UnsupportedArrowType(DataType),
    /// A non-nullable field was given values containing nulls.
    #[error("field {0:?} is not nullable but its values contain nulls")]
    NullsInNonNullableField(String),
    /// The bytes are not a valid Arrow IPC file.
    #[error("invalid Arrow IPC file: {0}")]
    InvalidArrow(String),
    /// An error reported by arrow-rs.
    #[error("Arrow error: {0}")]
    Arrow(#[from] ArrowError),
    /// The bytes are not valid frame JSON (or golden JSON).
    #[error("invalid frame JSON: {0}")]
    InvalidJson(String),
    /// A JSON (de)serialization error from serde_json.
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// Metadata (`meta`, `config`, `labels`) stored in an Arrow schema is not valid JSON of the
    /// expected shape.
    #[error("invalid {key} metadata on {owner}: {source}")]
    InvalidMetadata {
        /// The metadata key (`meta`, `config` or `labels`).
        key: &'static str,
        /// The frame or field the metadata belongs to.
        owner: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// A golden file (Go SDK `.txt` / `.jsonc`) could not be parsed.
    #[error("invalid golden file: {0}")]
    InvalidGolden(String),
    /// A frame cannot be converted between long and wide layouts.
    #[error("cannot convert frame: {0}")]
    Conversion(String),
    /// An I/O error while reading or writing a file.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A row, or a list of field names, does not have one entry per field
    /// ([`FrameBuilder`](crate::builder::FrameBuilder)).
    #[error("expected {expected} values, one per field, but got {actual}")]
    FieldCount {
        /// The number of fields.
        expected: usize,
        /// The number of values given.
        actual: usize,
    },
    /// A value does not fit the type of the field it is written to.
    #[error("field {field}: a {actual} value does not fit a {expected} field")]
    ValueType {
        /// The index of the field.
        field: usize,
        /// The field's type, as the Go SDK names it (`[]float64`, `[]*string`, ...).
        expected: String,
        /// The kind of value given (`int`, `string`, `null`, ...), or `int 300` when an integer
        /// is out of the field's range.
        actual: String,
    },
    /// A field or row index past the end.
    #[error("{what} index {index} is out of range (len {len})")]
    IndexOutOfRange {
        /// `field` or `row`.
        what: &'static str,
        /// The index given.
        index: usize,
        /// The number of fields or rows.
        len: usize,
    },
    /// Strings or JSON of one field total more than Arrow's 32-bit offsets can address (2 GiB).
    #[error("field {0}: values exceed 2 GiB of text")]
    ValuesTooLarge(usize),
    /// A [`FieldConverter`](crate::builder::FieldConverter) rejected its input.
    #[error("field {field}: conversion failed: {source}")]
    InputConversion {
        /// The index of the field.
        field: usize,
        /// The converter's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}
