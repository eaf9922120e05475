//! [`Frame`]: a named table of equally long [`Field`]s, the unit Grafana queries return.

use bytes::Bytes;

use crate::error::Error;
use crate::field::Field;
use crate::meta::FrameMeta;

/// A data frame: a name, a query `refId`, optional [`FrameMeta`] and a list of [`Field`]s.
///
/// Fields are columns; all must have the same length to be encoded
/// ([`Frame::num_rows`] checks it). Field names may repeat, as in the Go SDK.
///
/// ```
/// use plugin_data::{Field, Frame, FrameInclude};
///
/// let frame = Frame::new("cpu")
///     .with_ref_id("A")
///     .with_field(Field::new("value", vec![1.0_f64, 2.0]));
/// let arrow = frame.to_arrow_ipc()?;
/// assert_eq!(Frame::from_arrow_ipc(&arrow)?, frame);
/// let json = frame.to_json(FrameInclude::All)?;
/// assert_eq!(Frame::from_json(&json)?, frame);
/// # Ok::<(), plugin_data::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Frame {
    name: String,
    ref_id: String,
    meta: Option<FrameMeta>,
    fields: Vec<Field>,
}

/// Which parts of a frame [`Frame::to_json`] writes; streaming sends the schema once and then
/// data only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FrameInclude {
    /// `{"schema": ..., "data": ...}`.
    #[default]
    All,
    /// `{"schema": ...}`.
    SchemaOnly,
    /// `{"data": ...}`.
    DataOnly,
}

impl FrameInclude {
    pub(crate) fn schema(self) -> bool {
        matches!(self, FrameInclude::All | FrameInclude::SchemaOnly)
    }

    pub(crate) fn data(self) -> bool {
        matches!(self, FrameInclude::All | FrameInclude::DataOnly)
    }
}

impl Frame {
    /// An empty frame with a name.
    pub fn new(name: impl Into<String>) -> Self {
        Frame {
            name: name.into(),
            ..Frame::default()
        }
    }

    /// The frame name (may be empty).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the frame.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// The `refId` of the query that produced the frame (may be empty).
    pub fn ref_id(&self) -> &str {
        &self.ref_id
    }

    /// Sets the `refId`.
    pub fn set_ref_id(&mut self, ref_id: impl Into<String>) {
        self.ref_id = ref_id.into();
    }

    /// Sets the `refId`, builder style.
    pub fn with_ref_id(mut self, ref_id: impl Into<String>) -> Self {
        self.set_ref_id(ref_id);
        self
    }

    /// The frame metadata, if set.
    pub fn meta(&self) -> Option<&FrameMeta> {
        self.meta.as_ref()
    }

    /// Mutable metadata, created empty if absent.
    pub fn meta_mut(&mut self) -> &mut FrameMeta {
        self.meta.get_or_insert_with(FrameMeta::default)
    }

    /// Sets the metadata.
    pub fn set_meta(&mut self, meta: FrameMeta) {
        self.meta = Some(meta);
    }

    /// Removes and returns the metadata.
    pub fn take_meta(&mut self) -> Option<FrameMeta> {
        self.meta.take()
    }

    /// Sets the metadata, builder style.
    pub fn with_meta(mut self, meta: FrameMeta) -> Self {
        self.set_meta(meta);
        self
    }

    /// The fields (columns).
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Mutable access to the fields.
    pub fn fields_mut(&mut self) -> &mut Vec<Field> {
        &mut self.fields
    }

    /// Takes the fields out of the frame.
    pub fn into_fields(self) -> Vec<Field> {
        self.fields
    }

    /// The first field with this name, if any. Never panics.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name() == name)
    }

    /// The first field with this name, mutably.
    pub fn field_mut(&mut self, name: &str) -> Option<&mut Field> {
        self.fields.iter_mut().find(|f| f.name() == name)
    }

    /// Appends a field.
    pub fn push_field(&mut self, field: Field) {
        self.fields.push(field);
    }

    /// Appends a field, builder style.
    pub fn with_field(mut self, field: Field) -> Self {
        self.push_field(field);
        self
    }

    /// Appends several fields, builder style.
    pub fn with_fields(mut self, fields: impl IntoIterator<Item = Field>) -> Self {
        self.fields.extend(fields);
        self
    }

    /// The number of rows: the common length of all fields (0 for a frame without fields).
    ///
    /// # Errors
    ///
    /// [`Error::FieldLengthMismatch`] when fields differ in length.
    pub fn num_rows(&self) -> Result<usize, Error> {
        let Some(first) = self.fields.first() else {
            return Ok(0);
        };
        let first_len = first.len();
        match self.fields.iter().find(|f| f.len() != first_len) {
            None => Ok(first_len),
            Some(field) => Err(Error::FieldLengthMismatch {
                first_field: first.name().to_owned(),
                first_len,
                field: field.name().to_owned(),
                len: field.len(),
            }),
        }
    }

    /// Encodes the frame as one Arrow IPC file, the format Grafana reads.
    ///
    /// Column data is copied exactly once, into the returned buffer.
    ///
    /// # Errors
    ///
    /// [`Error::FieldLengthMismatch`] when fields differ in length, or an Arrow/JSON error.
    pub fn to_arrow_ipc(&self) -> Result<Bytes, Error> {
        crate::arrow::encode_frame(self)
    }

    /// Decodes one Arrow IPC file (as written by the Go SDK or [`Frame::to_arrow_ipc`]).
    ///
    /// # Errors
    ///
    /// Any malformed input is an error; decoding never panics.
    pub fn from_arrow_ipc(bytes: &[u8]) -> Result<Frame, Error> {
        crate::arrow::decode_frame(bytes)
    }

    /// Encodes the frame as Grafana frame JSON (`{"schema":...,"data":...}`).
    ///
    /// # Errors
    ///
    /// [`Error::FieldLengthMismatch`] when data is included and fields differ in length.
    pub fn to_json(&self, include: FrameInclude) -> Result<Vec<u8>, Error> {
        crate::json::encode_frame(self, include)
    }

    /// Decodes Grafana frame JSON with a schema (and optionally data).
    ///
    /// A schema-only document gives a frame with empty fields. Use
    /// [`Frame::from_json_data`] for data-only documents.
    ///
    /// # Errors
    ///
    /// Malformed JSON, a missing schema, or values that do not fit the schema's types.
    pub fn from_json(bytes: &[u8]) -> Result<Frame, Error> {
        crate::json::decode_frame(bytes, None)
    }

    /// Decodes a frame JSON document (usually data-only, as streamed after the first packet)
    /// against the schema of `schema` (name, refId, meta, field names, types, labels, config).
    ///
    /// # Errors
    ///
    /// Malformed JSON or values that do not fit the schema's types.
    pub fn from_json_data(schema: &Frame, bytes: &[u8]) -> Result<Frame, Error> {
        crate::json::decode_frame(bytes, Some(schema))
    }

    /// A copy of this frame with the same schema but no rows.
    pub fn empty_like(&self) -> Frame {
        Frame {
            name: self.name.clone(),
            ref_id: self.ref_id.clone(),
            meta: self.meta.clone(),
            fields: self.fields.iter().map(Field::empty_like).collect(),
        }
    }

    /// Renders the frame as a readable ASCII table like the Go SDK's golden files
    /// (`Frame.StringTable(100, 10)`): at most `max_fields` columns and `max_rows` rows.
    ///
    /// # Errors
    ///
    /// [`Error::FieldLengthMismatch`] when fields differ in length.
    pub fn to_table(&self, max_fields: usize, max_rows: usize) -> Result<String, Error> {
        crate::table::render(self, max_fields, max_rows)
    }
}
