//! Row-wise frame building: [`FrameBuilder`] (the Go SDK's `NewFrameOfFieldTypes`, `AppendRow`,
//! `Set`, `SetFieldNames`) and [`FrameInputConverter`] with its [`FieldConverter`]s (Go
//! `data.FrameInputConverter`, `data/conversion_input.go`).
//!
//! Values arrive as [`CellValue`]s, checked against each field's type: a wrong type, an integer
//! out of the field's range, a null in a non-nullable field or a row of the wrong length is an
//! [`Error`], and a failed [`FrameBuilder::append_row`] leaves the builder unchanged. Each
//! column is collected straight into the buffers its Arrow array is made of (a `Vec<T>` for
//! numbers and times, arrow-rs builders for booleans, strings and JSON), so
//! [`FrameBuilder::build`] moves them into the frame without copying a value.
//!
//! ```
//! use plugin_data::builder::{FieldSpec, FrameBuilder};
//! use plugin_data::{CellValue, FieldType};
//!
//! let mut builder = FrameBuilder::of_field_types([
//!     FieldSpec::from(FieldType::String),
//!     FieldSpec::nullable(FieldType::Float64),
//! ])
//! .with_name("weights")
//! .with_field_names(["animal", "kg"])?;
//! builder.append_row(&["sloth".into(), 3.5.into()])?;
//! builder.append_row(&["cat".into(), CellValue::Null])?;
//! // A wrong type is an error, not a panic, and the row is not added.
//! assert!(builder.append_row(&[1_i64.into(), 1.0.into()]).is_err());
//! builder.set(1, 1, 4.25.into())?;
//!
//! let frame = builder.build()?;
//! assert_eq!(frame.num_rows()?, 2);
//! assert_eq!(frame.fields()[1].get(1), Some(CellValue::Float64(4.25)));
//! # Ok::<(), plugin_data::Error>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, GenericByteBuilder};
use arrow_array::types::{
    BinaryType, ByteArrayType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampNanosecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type, Utf8Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, BooleanArray, PrimitiveArray};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, ScalarBuffer};

use crate::error::Error;
use crate::field::{CellValue, Field, FieldType, FieldValues, OwnedCellValue};
use crate::frame::Frame;

/// A field's type and nullability: what the Go SDK calls a `FieldType` (`float64` or
/// `*float64`).
///
/// `From<FieldType>` gives the non-nullable variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    field_type: FieldType,
    nullable: bool,
}

impl FieldSpec {
    /// A non-nullable field of this type.
    pub const fn new(field_type: FieldType) -> Self {
        FieldSpec {
            field_type,
            nullable: false,
        }
    }

    /// A nullable field of this type.
    pub const fn nullable(field_type: FieldType) -> Self {
        FieldSpec {
            field_type,
            nullable: true,
        }
    }

    /// The value type.
    pub fn field_type(&self) -> FieldType {
        self.field_type
    }

    /// Whether the field may hold nulls.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
}

impl From<FieldType> for FieldSpec {
    fn from(field_type: FieldType) -> Self {
        FieldSpec::new(field_type)
    }
}

impl fmt::Display for FieldSpec {
    /// The Go SDK's vector type name: `[]float64`, `[]*string`, ...
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let star = if self.nullable { "*" } else { "" };
        write!(f, "[]{star}{}", self.field_type.type_info_name())
    }
}

/// Builds a [`Frame`] row by row, or cell by cell, from values checked against each field's
/// type (Go `data.NewFrameOfFieldTypes` plus `Frame.AppendRow`, `Frame.Set`, `Frame.Extend`
/// and `Frame.SetFieldNames`).
///
/// New rows ([`extend`](Self::extend), [`with_rows`](Self::with_rows)) hold the type's zero
/// value (`0`, `""`, `false`, the Unix epoch), or null in a nullable field, as in Go.
#[derive(Debug)]
pub struct FrameBuilder {
    name: String,
    names: Vec<String>,
    specs: Vec<FieldSpec>,
    columns: Vec<Column>,
    rows: usize,
}

impl FrameBuilder {
    /// A builder of a frame with one field per type, all named `""` and with no rows.
    pub fn of_field_types<I>(specs: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<FieldSpec>,
    {
        let specs: Vec<FieldSpec> = specs.into_iter().map(Into::into).collect();
        FrameBuilder {
            name: String::new(),
            names: vec![String::new(); specs.len()],
            columns: specs.iter().map(|&spec| Column::new(spec)).collect(),
            specs,
            rows: 0,
        }
    }

    /// Sets the frame name, builder style.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Adds `rows` rows of zero values (nulls in nullable fields), builder style, as
    /// `NewFrameOfFieldTypes(name, rows, ...)` does; fill them with [`set`](Self::set).
    pub fn with_rows(mut self, rows: usize) -> Self {
        self.extend(rows);
        self
    }

    /// Reserves room for `additional` more rows in every field.
    pub fn reserve(&mut self, additional: usize) {
        for column in &mut self.columns {
            column.reserve(additional);
        }
    }

    /// Names the fields in order (Go `Frame.SetFieldNames`).
    ///
    /// # Errors
    ///
    /// [`Error::FieldCount`] when the number of names is not the number of fields.
    pub fn set_field_names<I>(&mut self, names: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let names: Vec<String> = names.into_iter().map(Into::into).collect();
        if names.len() != self.specs.len() {
            return Err(Error::FieldCount {
                expected: self.specs.len(),
                actual: names.len(),
            });
        }
        self.names = names;
        Ok(())
    }

    /// Names the fields in order, builder style.
    ///
    /// # Errors
    ///
    /// [`Error::FieldCount`] when the number of names is not the number of fields.
    pub fn with_field_names<I>(mut self, names: I) -> Result<Self, Error>
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.set_field_names(names)?;
        Ok(self)
    }

    /// The field specs, in order.
    pub fn field_specs(&self) -> &[FieldSpec] {
        &self.specs
    }

    /// The number of fields.
    pub fn num_fields(&self) -> usize {
        self.specs.len()
    }

    /// The number of rows so far.
    pub fn num_rows(&self) -> usize {
        self.rows
    }

    /// Adds `rows` rows of zero values (nulls in nullable fields) (Go `Frame.Extend`).
    pub fn extend(&mut self, rows: usize) {
        for column in &mut self.columns {
            column.extend(rows);
        }
        self.rows += rows;
    }

    /// Appends one row, one value per field (Go `Frame.AppendRow`).
    ///
    /// The whole row is checked before anything is written, so on error the builder is
    /// unchanged.
    ///
    /// # Errors
    ///
    /// [`Error::FieldCount`] when the row has the wrong number of values, [`Error::ValueType`]
    /// when a value does not fit its field.
    pub fn append_row(&mut self, row: &[CellValue<'_>]) -> Result<(), Error> {
        if row.len() != self.columns.len() {
            return Err(Error::FieldCount {
                expected: self.columns.len(),
                actual: row.len(),
            });
        }
        for (field, (spec, value)) in self.specs.iter().zip(row).enumerate() {
            check(field, *spec, value)?;
        }
        for (column, value) in self.columns.iter_mut().zip(row) {
            column.push(value);
        }
        self.rows += 1;
        Ok(())
    }

    /// Sets the value of one cell of an existing row (Go `Frame.Set`).
    ///
    /// Numbers, times and booleans are set in place. A string or JSON cell is appended in place
    /// when rows are set in order (the usual `with_rows(n)` then `set` pattern); a cell set
    /// after later rows were written is kept aside and merged by [`build`](Self::build), which
    /// then rebuilds that one column.
    ///
    /// # Errors
    ///
    /// [`Error::IndexOutOfRange`] for a field or row past the end, [`Error::ValueType`] when
    /// the value does not fit the field.
    pub fn set(&mut self, field: usize, row: usize, value: CellValue<'_>) -> Result<(), Error> {
        let Some(&spec) = self.specs.get(field) else {
            return Err(Error::IndexOutOfRange {
                what: "field",
                index: field,
                len: self.specs.len(),
            });
        };
        if row >= self.rows {
            return Err(Error::IndexOutOfRange {
                what: "row",
                index: row,
                len: self.rows,
            });
        }
        check(field, spec, &value)?;
        self.columns[field].set(row, &value);
        Ok(())
    }

    /// Finishes the frame: each column's buffers become its Arrow array without a copy.
    ///
    /// # Errors
    ///
    /// [`Error::ValuesTooLarge`] when one string or JSON field holds more than 2 GiB.
    pub fn build(self) -> Result<Frame, Error> {
        let mut frame = Frame::new(self.name);
        for (index, ((name, spec), column)) in self
            .names
            .into_iter()
            .zip(self.specs)
            .zip(self.columns)
            .enumerate()
        {
            let array = column.finish().ok_or(Error::ValuesTooLarge(index))?;
            frame.push_field(Field::new(
                name,
                FieldValues {
                    array,
                    field_type: spec.field_type,
                    nullable: spec.nullable,
                },
            ));
        }
        Ok(frame)
    }
}

/// An array of `len` copies of `value` (zero values or nulls when `value` is `None`), for the
/// cells [`convert`](crate::convert) fills in.
pub(crate) fn repeated_array(
    spec: FieldSpec,
    value: Option<CellValue<'_>>,
    len: usize,
) -> Result<ArrayRef, Error> {
    let mut column = Column::new(spec);
    match value {
        None => column.extend(len),
        Some(value) => {
            check(0, spec, &value)?;
            for _ in 0..len {
                column.push(&value);
            }
        }
    }
    column.finish().ok_or(Error::ValuesTooLarge(0))
}

/// Checks that `value` fits a field of `spec` (type, integer range, nullability).
fn check(field: usize, spec: FieldSpec, value: &CellValue<'_>) -> Result<(), Error> {
    let fits = match (spec.field_type, *value) {
        (_, CellValue::Null) => spec.nullable,
        (FieldType::Int8, CellValue::Int(v)) => i8::try_from(v).is_ok(),
        (FieldType::Int16, CellValue::Int(v)) => i16::try_from(v).is_ok(),
        (FieldType::Int32, CellValue::Int(v)) => i32::try_from(v).is_ok(),
        (FieldType::UInt8, CellValue::UInt(v)) => u8::try_from(v).is_ok(),
        (FieldType::UInt16, CellValue::UInt(v)) => u16::try_from(v).is_ok(),
        (FieldType::UInt32, CellValue::UInt(v)) => u32::try_from(v).is_ok(),
        (FieldType::Int64, CellValue::Int(_))
        | (FieldType::UInt64, CellValue::UInt(_))
        | (FieldType::Float32, CellValue::Float32(_))
        | (FieldType::Float64, CellValue::Float64(_))
        | (FieldType::Bool, CellValue::Bool(_))
        | (FieldType::String, CellValue::String(_))
        | (FieldType::Time, CellValue::Time(_))
        | (FieldType::Json, CellValue::Json(_))
        | (FieldType::Enum, CellValue::Enum(_)) => true,
        _ => false,
    };
    if fits {
        return Ok(());
    }
    let actual = match value {
        CellValue::Int(v) => format!("int {v}"),
        CellValue::UInt(v) => format!("uint {v}"),
        other => other.kind_name().to_owned(),
    };
    Err(Error::ValueType {
        field,
        expected: spec.to_string(),
        actual,
    })
}

/// The values of one field while it is built, in the layout of its Arrow array.
#[derive(Debug)]
enum Column {
    Int8(PrimitiveColumn<Int8Type>),
    Int16(PrimitiveColumn<Int16Type>),
    Int32(PrimitiveColumn<Int32Type>),
    Int64(PrimitiveColumn<Int64Type>),
    UInt8(PrimitiveColumn<UInt8Type>),
    UInt16(PrimitiveColumn<UInt16Type>),
    UInt32(PrimitiveColumn<UInt32Type>),
    UInt64(PrimitiveColumn<UInt64Type>),
    Float32(PrimitiveColumn<Float32Type>),
    Float64(PrimitiveColumn<Float64Type>),
    Time(PrimitiveColumn<TimestampNanosecondType>),
    Enum(PrimitiveColumn<UInt16Type>),
    Bool(BoolColumn),
    String(ByteColumn<Utf8Type>),
    Json(ByteColumn<BinaryType>),
}

/// Runs the same expression on whichever column variant this is.
macro_rules! each_column {
    ($column:expr, $c:ident => $body:expr) => {
        match $column {
            Column::Int8($c) => $body,
            Column::Int16($c) => $body,
            Column::Int32($c) => $body,
            Column::Int64($c) => $body,
            Column::UInt8($c) => $body,
            Column::UInt16($c) => $body,
            Column::UInt32($c) => $body,
            Column::UInt64($c) => $body,
            Column::Float32($c) => $body,
            Column::Float64($c) => $body,
            Column::Time($c) => $body,
            Column::Enum($c) => $body,
            Column::Bool($c) => $body,
            Column::String($c) => $body,
            Column::Json($c) => $body,
        }
    };
}

impl Column {
    fn new(spec: FieldSpec) -> Self {
        let n = spec.nullable;
        match spec.field_type {
            FieldType::Int8 => Column::Int8(PrimitiveColumn::new(n)),
            FieldType::Int16 => Column::Int16(PrimitiveColumn::new(n)),
            FieldType::Int32 => Column::Int32(PrimitiveColumn::new(n)),
            FieldType::Int64 => Column::Int64(PrimitiveColumn::new(n)),
            FieldType::UInt8 => Column::UInt8(PrimitiveColumn::new(n)),
            FieldType::UInt16 => Column::UInt16(PrimitiveColumn::new(n)),
            FieldType::UInt32 => Column::UInt32(PrimitiveColumn::new(n)),
            FieldType::UInt64 => Column::UInt64(PrimitiveColumn::new(n)),
            FieldType::Float32 => Column::Float32(PrimitiveColumn::new(n)),
            FieldType::Float64 => Column::Float64(PrimitiveColumn::new(n)),
            FieldType::Time => Column::Time(PrimitiveColumn::new(n)),
            FieldType::Enum => Column::Enum(PrimitiveColumn::new(n)),
            FieldType::Bool => Column::Bool(BoolColumn::new(n)),
            FieldType::String => Column::String(ByteColumn::new(n)),
            FieldType::Json => Column::Json(ByteColumn::new(n)),
        }
    }

    fn reserve(&mut self, additional: usize) {
        each_column!(self, c => c.reserve(additional));
    }

    fn extend(&mut self, rows: usize) {
        each_column!(self, c => c.extend(rows));
    }

    /// Appends a value that [`check`] accepted for this column.
    fn push(&mut self, value: &CellValue<'_>) {
        match self {
            Column::String(c) => c.push(string_of(value)),
            Column::Json(c) => c.push(json_of(value)),
            Column::Bool(c) => c.push(bool_of(value)),
            _ => self.write_number(None, value),
        }
    }

    /// Sets a value that [`check`] accepted for this column, in an existing row.
    fn set(&mut self, row: usize, value: &CellValue<'_>) {
        match self {
            Column::String(c) => c.set(row, string_of(value)),
            Column::Json(c) => c.set(row, json_of(value)),
            Column::Bool(c) => c.set(row, bool_of(value)),
            _ => self.write_number(Some(row), value),
        }
    }

    /// Appends (`row` = `None`) or sets a checked number, time or enum value. The casts cannot
    /// truncate: [`check`] has verified the range.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    fn write_number(&mut self, row: Option<usize>, value: &CellValue<'_>) {
        macro_rules! put {
            ($c:expr, $native:ty) => {{
                let v = match *value {
                    CellValue::Int(v) | CellValue::Time(v) => Some(v as $native),
                    CellValue::UInt(v) => Some(v as $native),
                    CellValue::Enum(v) => Some(v as $native),
                    CellValue::Float32(v) => Some(v as $native),
                    CellValue::Float64(v) => Some(v as $native),
                    _ => None,
                };
                match row {
                    None => $c.push(v),
                    Some(row) => $c.set(row, v),
                }
            }};
        }
        match self {
            Column::Int8(c) => put!(c, i8),
            Column::Int16(c) => put!(c, i16),
            Column::Int32(c) => put!(c, i32),
            Column::Int64(c) => put!(c, i64),
            Column::Time(c) => put!(c, i64),
            Column::UInt8(c) => put!(c, u8),
            Column::UInt16(c) | Column::Enum(c) => put!(c, u16),
            Column::UInt32(c) => put!(c, u32),
            Column::UInt64(c) => put!(c, u64),
            Column::Float32(c) => put!(c, f32),
            Column::Float64(c) => put!(c, f64),
            Column::Bool(_) | Column::String(_) | Column::Json(_) => {}
        }
    }

    /// The finished array; `None` when string or JSON offsets would overflow.
    fn finish(self) -> Option<ArrayRef> {
        each_column!(self, c => c.finish())
    }
}

fn string_of<'v>(value: &CellValue<'v>) -> Option<&'v str> {
    match *value {
        CellValue::String(s) => Some(s),
        _ => None,
    }
}

fn json_of<'v>(value: &CellValue<'v>) -> Option<&'v [u8]> {
    match *value {
        CellValue::Json(s) => Some(s),
        _ => None,
    }
}

fn bool_of(value: &CellValue<'_>) -> Option<bool> {
    match *value {
        CellValue::Bool(b) => Some(b),
        _ => None,
    }
}

/// Validity bits, kept only for nullable fields.
#[derive(Debug)]
struct Validity(Option<BooleanBufferBuilder>);

impl Validity {
    fn new(nullable: bool) -> Self {
        Validity(nullable.then(|| BooleanBufferBuilder::new(0)))
    }

    fn reserve(&mut self, additional: usize) {
        if let Some(bits) = &mut self.0 {
            bits.reserve(additional);
        }
    }

    fn push(&mut self, valid: bool) {
        if let Some(bits) = &mut self.0 {
            bits.append(valid);
        }
    }

    fn extend_null(&mut self, rows: usize) {
        if let Some(bits) = &mut self.0 {
            bits.append_n(rows, false);
        }
    }

    fn set(&mut self, row: usize, valid: bool) {
        if let Some(bits) = &mut self.0 {
            bits.set_bit(row, valid);
        }
    }

    fn finish(self) -> Option<NullBuffer> {
        self.0.map(|mut bits| NullBuffer::new(bits.finish()))
    }
}

/// A number, time or enum field: a `Vec` that becomes the Arrow values buffer as it is.
#[derive(Debug)]
struct PrimitiveColumn<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    validity: Validity,
}

impl<T: ArrowPrimitiveType> PrimitiveColumn<T> {
    fn new(nullable: bool) -> Self {
        PrimitiveColumn {
            values: Vec::new(),
            validity: Validity::new(nullable),
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.values.reserve(additional);
        self.validity.reserve(additional);
    }

    fn extend(&mut self, rows: usize) {
        self.values
            .resize(self.values.len() + rows, T::Native::default());
        self.validity.extend_null(rows);
    }

    fn push(&mut self, value: Option<T::Native>) {
        self.values.push(value.unwrap_or_default());
        self.validity.push(value.is_some());
    }

    fn set(&mut self, row: usize, value: Option<T::Native>) {
        self.values[row] = value.unwrap_or_default();
        self.validity.set(row, value.is_some());
    }

    fn finish(self) -> Option<ArrayRef> {
        // `ScalarBuffer::from(Vec)` takes the allocation over: no copy.
        let values = ScalarBuffer::from(self.values);
        Some(Arc::new(PrimitiveArray::<T>::new(
            values,
            self.validity.finish(),
        )))
    }
}

/// A bool field: bit-packed values and validity.
#[derive(Debug)]
struct BoolColumn {
    values: BooleanBufferBuilder,
    validity: Validity,
}

impl BoolColumn {
    fn new(nullable: bool) -> Self {
        BoolColumn {
            values: BooleanBufferBuilder::new(0),
            validity: Validity::new(nullable),
        }
    }

    fn reserve(&mut self, additional: usize) {
        self.values.reserve(additional);
        self.validity.reserve(additional);
    }

    fn extend(&mut self, rows: usize) {
        self.values.append_n(rows, false);
        self.validity.extend_null(rows);
    }

    fn push(&mut self, value: Option<bool>) {
        self.values.append(value.unwrap_or_default());
        self.validity.push(value.is_some());
    }

    fn set(&mut self, row: usize, value: Option<bool>) {
        self.values.set_bit(row, value.unwrap_or_default());
        self.validity.set(row, value.is_some());
    }

    fn finish(mut self) -> Option<ArrayRef> {
        Some(Arc::new(BooleanArray::new(
            self.values.finish(),
            self.validity.finish(),
        )))
    }
}

/// A string or JSON field, written straight into an arrow-rs byte builder.
///
/// Rows added by `extend` stay pending (`len` counts them, the builder does not) until a later
/// row is written, so setting rows in order appends. Cells set behind the builder's end go into
/// `late` and are merged once, by `finish`.
struct ByteColumn<T: ByteArrayType> {
    builder: GenericByteBuilder<T>,
    nullable: bool,
    /// Rows so far, including pending ones.
    len: usize,
    /// Bytes in the builder, to report offset overflow instead of panicking.
    bytes: usize,
    late: HashMap<usize, Option<Box<T::Native>>>,
}

impl<T> ByteColumn<T>
where
    T: ByteArrayType,
    T::Native: AsRef<T::Native> + AsRef<[u8]> + EmptyNative,
    for<'x> Box<T::Native>: From<&'x T::Native>,
{
    fn new(nullable: bool) -> Self {
        ByteColumn {
            builder: GenericByteBuilder::new(),
            nullable,
            len: 0,
            bytes: 0,
            late: HashMap::new(),
        }
    }

    fn reserve(&mut self, _additional: usize) {
        // Value sizes are unknown; the builder grows geometrically.
    }

    fn extend(&mut self, rows: usize) {
        self.len += rows;
    }

    /// Writes the pending rows before `row` into the builder.
    fn fill_to(&mut self, row: usize) {
        let pending = row - self.builder.len();
        if self.nullable {
            self.builder.append_nulls(pending);
        } else {
            let empty: &[u8] = &[];
            // `""` / empty JSON: zero bytes per row, only offsets.
            for _ in 0..pending {
                self.builder
                    .append_value(T::Native::from_bytes_unchecked_empty(empty));
            }
        }
    }

    fn append(&mut self, value: Option<&T::Native>) {
        match value {
            Some(value) => {
                self.bytes = self
                    .bytes
                    .saturating_add(AsRef::<[u8]>::as_ref(value).len());
                if self.bytes <= i32::MAX as usize {
                    self.builder.append_value(value);
                } else {
                    // Keep row counts consistent; `finish` reports the overflow.
                    self.builder.append_null();
                }
            }
            None => self.builder.append_null(),
        }
    }

    fn push(&mut self, value: Option<&T::Native>) {
        let end = self.len;
        self.fill_to(end);
        self.append(value);
        self.len += 1;
    }

    fn set(&mut self, row: usize, value: Option<&T::Native>) {
        if row >= self.builder.len() {
            self.fill_to(row);
            self.append(value);
            self.late.remove(&row);
        } else {
            self.late.insert(row, value.map(Box::from));
        }
    }

    fn finish(mut self) -> Option<ArrayRef> {
        let end = self.len;
        self.fill_to(end);
        if self.bytes > i32::MAX as usize {
            return None;
        }
        let array = self.builder.finish();
        if self.late.is_empty() {
            return Some(Arc::new(array));
        }
        // Cells set out of order: one rebuild of this column.
        let mut rebuilt = GenericByteBuilder::<T>::with_capacity(array.len(), self.bytes);
        let mut bytes = 0_usize;
        for row in 0..array.len() {
            let value: Option<&T::Native> = match self.late.get(&row) {
                Some(late) => late.as_deref(),
                None => array.is_valid(row).then(|| array.value(row)),
            };
            if let Some(value) = value {
                bytes = bytes.saturating_add(AsRef::<[u8]>::as_ref(value).len());
                if bytes > i32::MAX as usize {
                    return None;
                }
            }
            rebuilt.append_option(value);
        }
        Some(Arc::new(rebuilt.finish()))
    }
}

impl<T: ByteArrayType> fmt::Debug for ByteColumn<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ByteColumn")
            .field("len", &self.len)
            .field("bytes", &self.bytes)
            .field("late", &self.late.len())
            .finish_non_exhaustive()
    }
}

/// The empty value of a byte type (`""` or empty bytes), without unsafe code.
trait EmptyNative {
    fn from_bytes_unchecked_empty(empty: &[u8]) -> &Self;
}

impl EmptyNative for str {
    fn from_bytes_unchecked_empty(_empty: &[u8]) -> &Self {
        ""
    }
}

impl EmptyNative for [u8] {
    fn from_bytes_unchecked_empty(empty: &[u8]) -> &Self {
        empty
    }
}

/// Converts one input value to the value of a field (Go `data.FieldConverter`): the output
/// field's type and a conversion function.
///
/// `I` is the input type of the whole [`FrameInputConverter`] (`str` for text, an enum of your
/// API's value kinds, ...).
pub struct FieldConverter<I: ?Sized> {
    output: FieldSpec,
    convert: ConvertFn<I>,
}

type ConvertFn<I> = Box<dyn Fn(&I) -> Result<OwnedCellValue, BoxError> + Send + Sync>;

/// The error a [`FieldConverter`] function returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl<I: ?Sized> FieldConverter<I> {
    /// A converter to a field of `output` type through `convert`.
    pub fn new<F, V, E>(output: impl Into<FieldSpec>, convert: F) -> Self
    where
        F: Fn(&I) -> Result<V, E> + Send + Sync + 'static,
        V: Into<OwnedCellValue>,
        E: Into<BoxError>,
    {
        FieldConverter {
            output: output.into(),
            convert: Box::new(move |input| convert(input).map(Into::into).map_err(Into::into)),
        }
    }

    /// A converter that passes the input through (Go: a nil `Converter`).
    pub fn identity(output: impl Into<FieldSpec>) -> Self
    where
        for<'a> &'a I: Into<CellValue<'a>>,
    {
        FieldConverter {
            output: output.into(),
            convert: Box::new(|input| Ok(input.into().to_owned_value())),
        }
    }

    /// The output field's type.
    pub fn output(&self) -> FieldSpec {
        self.output
    }
}

impl<I: ?Sized> fmt::Debug for FieldConverter<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FieldConverter")
            .field("output", &self.output)
            .finish_non_exhaustive()
    }
}

/// Builds a frame from raw inputs, each column through its own [`FieldConverter`] (Go
/// `data.FrameInputConverter`, `data/conversion_input.go`).
///
/// ```
/// use plugin_data::builder::{FieldConverter, FrameInputConverter};
/// use plugin_data::{CellValue, FieldType};
///
/// // A table of text from some API: animal, weight, epoch seconds.
/// let rows = [["sloth", "3.5", "1586014367"], ["sloth", "5.5", "1586100767"]];
/// let converters = vec![
///     FieldConverter::identity(FieldType::String),
///     FieldConverter::new(FieldType::Float64, |v: &str| v.parse::<f64>()),
///     FieldConverter::new(FieldType::Time, |v: &str| {
///         v.parse::<i64>().map(|s| CellValue::Time(s * 1_000_000_000).to_owned_value())
///     }),
/// ];
/// let mut input = FrameInputConverter::new(converters, rows.len());
/// input.set_field_names(["Animal", "Weight (lbs)", "Time"])?;
/// for (row, cells) in rows.iter().enumerate() {
///     for (field, cell) in cells.iter().enumerate() {
///         input.set(field, row, cell)?;
///     }
/// }
/// // Bad input is an error naming the field.
/// assert!(input.set(1, 0, "heavy").is_err());
/// let mut frame = input.build()?;
/// frame.set_name("Converted");
/// assert_eq!(frame.fields()[1].get(1), Some(CellValue::Float64(5.5)));
/// # Ok::<(), plugin_data::Error>(())
/// ```
#[derive(Debug)]
pub struct FrameInputConverter<I: ?Sized> {
    builder: FrameBuilder,
    converters: Vec<FieldConverter<I>>,
}

impl<I: ?Sized> FrameInputConverter<I> {
    /// A converter whose frame has one field per converter, of its output type, and `rows` rows
    /// of zero values (Go `NewFrameInputConverter`).
    pub fn new(converters: Vec<FieldConverter<I>>, rows: usize) -> Self {
        let builder = FrameBuilder::of_field_types(converters.iter().map(FieldConverter::output))
            .with_rows(rows);
        FrameInputConverter {
            builder,
            converters,
        }
    }

    /// Names the fields in order.
    ///
    /// # Errors
    ///
    /// [`Error::FieldCount`] when the number of names is not the number of fields.
    pub fn set_field_names<N>(&mut self, names: N) -> Result<(), Error>
    where
        N: IntoIterator,
        N::Item: Into<String>,
    {
        self.builder.set_field_names(names)
    }

    /// The frame being built.
    pub fn builder(&self) -> &FrameBuilder {
        &self.builder
    }

    /// The frame being built, mutably (to extend it, for example).
    pub fn builder_mut(&mut self) -> &mut FrameBuilder {
        &mut self.builder
    }

    fn convert(&self, field: usize, input: &I) -> Result<OwnedCellValue, Error> {
        let converter = self.converters.get(field).ok_or(Error::IndexOutOfRange {
            what: "field",
            index: field,
            len: self.converters.len(),
        })?;
        (converter.convert)(input).map_err(|source| Error::InputConversion { field, source })
    }

    /// Converts `input` with the field's converter and sets the cell (Go
    /// `FrameInputConverter.Set`).
    ///
    /// # Errors
    ///
    /// [`Error::InputConversion`] when the converter fails, and the errors of
    /// [`FrameBuilder::set`].
    pub fn set(&mut self, field: usize, row: usize, input: &I) -> Result<(), Error> {
        let value = self.convert(field, input)?;
        self.builder.set(field, row, value.as_cell())
    }

    /// Converts one input per field and appends them as a row.
    ///
    /// # Errors
    ///
    /// [`Error::InputConversion`] when a converter fails, and the errors of
    /// [`FrameBuilder::append_row`]; the frame is unchanged then.
    pub fn append_row<'i>(&mut self, inputs: impl IntoIterator<Item = &'i I>) -> Result<(), Error>
    where
        I: 'i,
    {
        let values = inputs
            .into_iter()
            .enumerate()
            .map(|(field, input)| self.convert(field, input))
            .collect::<Result<Vec<_>, _>>()?;
        let cells: Vec<CellValue<'_>> = values.iter().map(OwnedCellValue::as_cell).collect();
        self.builder.append_row(&cells)
    }

    /// Finishes the frame.
    ///
    /// # Errors
    ///
    /// The errors of [`FrameBuilder::build`].
    pub fn build(self) -> Result<Frame, Error> {
        self.builder.build()
    }
}
