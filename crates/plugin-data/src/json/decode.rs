//! Frame JSON → frame in one streaming pass.
//!
//! serde visitors parse each column's cells straight into the Arrow buffers of the field's type
//! (no `serde_json::Value` tree, no per-cell allocation). The schema comes before the data in
//! every document Go or this crate writes; a document with the data first has its data kept as
//! a raw slice and parsed once the schema is known. `entities` and `nanos` are applied when the
//! data object ends, since JSON does not fix the order of its keys.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, BinaryBuilder, BooleanBuilder, StringBuilder};
use arrow_array::types::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampNanosecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, PrimitiveArray};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, ScalarBuffer};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::config::FieldConfig;
use crate::error::Error;
use crate::field::{Field, FieldType, FieldValues, Labels};
use crate::frame::Frame;
use crate::meta::FrameMeta;

const NANOS_PER_MILLI: i64 = 1_000_000;

/// Arrow's 32-bit offsets address at most this many bytes of string or JSON values per field.
const MAX_VALUE_BYTES: usize = i32::MAX as usize;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SchemaIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    ref_id: Option<String>,
    #[serde(default)]
    meta: Option<FrameMeta>,
    #[serde(default)]
    fields: Option<Vec<FieldSchemaIn>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FieldSchemaIn {
    #[serde(default)]
    name: Option<String>,
    #[serde(rename = "type", default)]
    simple_type: Option<String>,
    #[serde(default)]
    type_info: Option<TypeInfoIn>,
    #[serde(default)]
    labels: Option<Labels>,
    #[serde(default)]
    config: Option<FieldConfig>,
}

#[derive(Deserialize)]
struct TypeInfoIn {
    #[serde(default)]
    frame: Option<String>,
    #[serde(default)]
    nullable: Option<bool>,
}

#[derive(Deserialize, Default)]
struct EntitiesIn {
    #[serde(rename = "NaN", default)]
    nan: Option<Vec<usize>>,
    #[serde(rename = "Inf", default)]
    inf: Option<Vec<usize>>,
    #[serde(rename = "NegInf", default)]
    neg_inf: Option<Vec<usize>>,
}

/// Where a parse stopped inside a column, so the error can name the field and row.
struct CellFailure {
    field: String,
    /// `None` when the column itself is not an array.
    row: Option<usize>,
}

/// Decodes one frame JSON document; with `known_schema`, the document's own schema (if any)
/// is ignored and the data is read against the given frame's fields.
pub(crate) fn decode_frame(bytes: &[u8], known_schema: Option<&Frame>) -> Result<Frame, Error> {
    let failure = Cell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let document = DocumentSeed {
        known_schema,
        failure: &failure,
    }
    .deserialize(&mut deserializer)
    .and_then(|document| deserializer.end().map(|()| document))
    .map_err(|e| describe(e, failure.take()))?;

    let mut frame = match (known_schema, document.schema) {
        (Some(schema), _) => schema.empty_like(),
        (None, Some(schema)) => schema?,
        (None, None) => {
            return Err(Error::InvalidJson("frame JSON has no schema".to_owned()));
        }
    };
    let data = match document.data {
        DataState::Parsed(data) => Some(data),
        DataState::Raw(raw) => {
            let mut deserializer = serde_json::Deserializer::from_str(raw.get());
            let data = DataSeed {
                fields: frame.fields(),
                failure: &failure,
            }
            .deserialize(&mut deserializer)
            .map_err(|e| describe(e, failure.take()))?;
            Some(data)
        }
        DataState::Absent => None,
    };
    if let Some(data) = data {
        data.fill(&mut frame)?;
    }
    Ok(frame)
}

/// serde_json's error, with the field and row when it stopped on a cell of the wrong type or
/// range; syntax errors stay [`Error::Json`], as they are errors of the document.
fn describe(error: serde_json::Error, failure: Option<CellFailure>) -> Error {
    match failure {
        Some(CellFailure { field, row }) if error.is_data() => Error::InvalidJson(match row {
            Some(row) => format!("field {field:?}: row {row}: {error}"),
            None => format!("field {field:?}: {error}"),
        }),
        _ => Error::Json(error),
    }
}

struct Document<'de> {
    /// The frame built from the document's schema; `None` when the schema is absent or null,
    /// or was ignored for a known one.
    schema: Option<Result<Frame, Error>>,
    data: DataState<'de>,
}

enum DataState<'de> {
    Absent,
    Parsed(DataIn),
    /// The data came before the schema, or the schema was invalid.
    Raw(&'de RawValue),
}

struct DocumentSeed<'s> {
    known_schema: Option<&'s Frame>,
    failure: &'s Cell<Option<CellFailure>>,
}

impl<'de> DeserializeSeed<'de> for DocumentSeed<'_> {
    type Value = Document<'de>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocumentSeed<'_> {
    type Value = Document<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a frame JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut schema: Option<Result<Frame, Error>> = None;
        let (mut seen_schema, mut seen_data) = (false, false);
        let mut data = DataState::Absent;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "schema" => {
                    if std::mem::replace(&mut seen_schema, true) {
                        return Err(de::Error::duplicate_field("schema"));
                    }
                    let parsed: Option<SchemaIn> = map.next_value()?;
                    if self.known_schema.is_none() {
                        schema = parsed.map(frame_from_schema);
                    }
                }
                "data" => {
                    if std::mem::replace(&mut seen_data, true) {
                        return Err(de::Error::duplicate_field("data"));
                    }
                    let template = self
                        .known_schema
                        .or(schema.as_ref().and_then(|s| s.as_ref().ok()));
                    data = match template {
                        Some(template) => map
                            .next_value_seed(OptionSeed(DataSeed {
                                fields: template.fields(),
                                failure: self.failure,
                            }))?
                            .map_or(DataState::Absent, DataState::Parsed),
                        None => map
                            .next_value::<Option<&'de RawValue>>()?
                            .map_or(DataState::Absent, DataState::Raw),
                    };
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Document { schema, data })
    }
}

fn frame_from_schema(schema: SchemaIn) -> Result<Frame, Error> {
    let mut frame = Frame::new(schema.name.unwrap_or_default());
    frame.set_ref_id(schema.ref_id.unwrap_or_default());
    if let Some(meta) = schema.meta {
        frame.set_meta(meta);
    }
    for field in schema.fields.unwrap_or_default() {
        let name = field.name.unwrap_or_default();
        let type_name = field.type_info.as_ref().and_then(|t| t.frame.as_deref());
        let field_type = match (type_name, field.simple_type.as_deref()) {
            (Some(type_name), _) => FieldType::from_type_info_name(type_name).ok_or_else(|| {
                Error::InvalidJson(format!("field {name:?} has unknown type {type_name:?}"))
            })?,
            (None, Some(simple)) => FieldType::from_simple_type(simple).ok_or_else(|| {
                Error::InvalidJson(format!("field {name:?} has unknown type {simple:?}"))
            })?,
            (None, None) => return Err(Error::InvalidJson(format!("field {name:?} has no type"))),
        };
        let nullable = field.type_info.and_then(|t| t.nullable).unwrap_or(false);
        let mut f = Field::empty(name, field_type, nullable);
        f.set_labels(field.labels);
        f.set_config(field.config);
        frame.push_field(f);
    }
    Ok(frame)
}

/// `null` as `None`, anything else through the inner seed.
struct OptionSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de, S: DeserializeSeed<'de>> Visitor<'de> for OptionSeed<S> {
    type Value = Option<S::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object, an array or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(deserializer).map(Some)
    }
}

/// The parsed `data` object, before `entities` and `nanos` are applied.
struct DataIn {
    columns: Vec<Column>,
    /// How many value columns the document has (more than `columns` when it has too many).
    column_count: usize,
    entities: Vec<Option<EntitiesIn>>,
    nanos: Vec<Option<Vec<i64>>>,
}

impl DataIn {
    fn fill(self, frame: &mut Frame) -> Result<(), Error> {
        if self.column_count != frame.fields().len() {
            return Err(Error::InvalidJson(format!(
                "data has {} value columns but the schema has {} fields",
                self.column_count,
                frame.fields().len()
            )));
        }
        // Every column has the first one's length, as Go's reader requires
        // (data/frame_json.go, readFrameData).
        let rows = self.columns.first().map(Column::len);
        for (index, (field, column)) in frame.fields_mut().iter_mut().zip(self.columns).enumerate()
        {
            if let Some(rows) = rows
                && column.len() != rows
            {
                return Err(Error::InvalidJson(format!(
                    "field {:?} has {} values, the first field {rows}",
                    field.name(),
                    column.len()
                )));
            }
            let entities = self.entities.get(index).and_then(Option::as_ref);
            let nanos = self.nanos.get(index).and_then(Option::as_deref);
            let array = column
                .finish(entities, nanos)
                .map_err(|e| Error::InvalidJson(format!("field {:?}: {e}", field.name())))?;
            let nullable = field.is_nullable();
            field.set_values(FieldValues {
                array,
                field_type: field.field_type(),
                nullable,
            });
        }
        Ok(())
    }
}

struct DataSeed<'s> {
    fields: &'s [Field],
    failure: &'s Cell<Option<CellFailure>>,
}

impl<'de> DeserializeSeed<'de> for DataSeed<'_> {
    type Value = DataIn;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DataSeed<'_> {
    type Value = DataIn;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a frame data object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values: Option<Option<(Vec<Column>, usize)>> = None;
        let mut entities: Option<Option<Vec<Option<EntitiesIn>>>> = None;
        let mut nanos: Option<Option<Vec<Option<Vec<i64>>>>> = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "values" if values.is_some() => return Err(de::Error::duplicate_field("values")),
                "values" => {
                    values = Some(map.next_value_seed(OptionSeed(ColumnsSeed {
                        fields: self.fields,
                        failure: self.failure,
                    }))?);
                }
                "entities" if entities.is_some() => {
                    return Err(de::Error::duplicate_field("entities"));
                }
                "entities" => entities = Some(map.next_value()?),
                "nanos" if nanos.is_some() => return Err(de::Error::duplicate_field("nanos")),
                "nanos" => nanos = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let (columns, column_count) = values.flatten().unwrap_or_default();
        Ok(DataIn {
            columns,
            column_count,
            entities: entities.flatten().unwrap_or_default(),
            nanos: nanos.flatten().unwrap_or_default(),
        })
    }
}

/// The `values` array: one column per field, parsed by the field's type.
struct ColumnsSeed<'s> {
    fields: &'s [Field],
    failure: &'s Cell<Option<CellFailure>>,
}

impl<'de> DeserializeSeed<'de> for ColumnsSeed<'_> {
    type Value = (Vec<Column>, usize);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ColumnsSeed<'_> {
    type Value = (Vec<Column>, usize);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of value columns")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut columns = Vec::with_capacity(self.fields.len());
        // Every column of a frame has the same length, so the first one sizes the others.
        let mut rows = 0;
        for field in self.fields {
            let seed = ColumnSeed {
                field,
                rows,
                failure: self.failure,
            };
            match seq.next_element_seed(seed) {
                Ok(Some(column)) => {
                    rows = column.len();
                    columns.push(column);
                }
                Ok(None) => {
                    let count = columns.len();
                    return Ok((columns, count));
                }
                Err(e) => {
                    // A failed cell has already said where it failed.
                    let failure = self.failure.take().or_else(|| {
                        Some(CellFailure {
                            field: field.name().to_owned(),
                            row: None,
                        })
                    });
                    self.failure.set(failure);
                    return Err(e);
                }
            }
        }
        let mut count = columns.len();
        while seq.next_element::<IgnoredAny>()?.is_some() {
            count += 1;
        }
        Ok((columns, count))
    }
}

/// One parsed column: finished, or waiting for the `entities` or `nanos` that follow it.
enum Column {
    Done(ArrayRef),
    Float32(Numbers<Float32Type>),
    Float64(Numbers<Float64Type>),
    Time(Numbers<TimestampNanosecondType>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Done(array) => array.len(),
            Column::Float32(c) => c.values.len(),
            Column::Float64(c) => c.values.len(),
            Column::Time(c) => c.values.len(),
        }
    }

    fn finish(
        self,
        entities: Option<&EntitiesIn>,
        nanos: Option<&[i64]>,
    ) -> Result<ArrayRef, String> {
        match self {
            Column::Done(array) => Ok(array),
            Column::Float32(mut c) => {
                c.apply_entities(entities, |v| v as f32)?;
                Ok(Arc::new(c.finish()))
            }
            Column::Float64(mut c) => {
                c.apply_entities(entities, |v| v)?;
                Ok(Arc::new(c.finish()))
            }
            Column::Time(mut c) => {
                c.millis_to_nanos(nanos)?;
                Ok(Arc::new(c.finish()))
            }
        }
    }
}

struct ColumnSeed<'s> {
    field: &'s Field,
    /// Expected rows, for the first allocation.
    rows: usize,
    failure: &'s Cell<Option<CellFailure>>,
}

impl<'s> ColumnSeed<'s> {
    fn cells<'de, D, C>(&self, deserializer: D) -> Result<C, D::Error>
    where
        D: Deserializer<'de>,
        C: Cells<'de>,
    {
        deserializer.deserialize_seq(CellsVisitor {
            cells: C::with_capacity(self.rows, self.field.is_nullable()),
            seed: self,
            marker: PhantomData,
        })
    }
}

impl<'de> DeserializeSeed<'de> for ColumnSeed<'_> {
    type Value = Column;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        let done = |array: ArrayRef| Column::Done(array);
        Ok(match self.field.field_type() {
            FieldType::Int8 => done(Arc::new(self.cells::<_, Numbers<Int8Type>>(d)?.finish())),
            FieldType::Int16 => done(Arc::new(self.cells::<_, Numbers<Int16Type>>(d)?.finish())),
            FieldType::Int32 => done(Arc::new(self.cells::<_, Numbers<Int32Type>>(d)?.finish())),
            FieldType::Int64 => done(Arc::new(self.cells::<_, Numbers<Int64Type>>(d)?.finish())),
            FieldType::UInt8 => done(Arc::new(self.cells::<_, Numbers<UInt8Type>>(d)?.finish())),
            FieldType::UInt16 | FieldType::Enum => {
                done(Arc::new(self.cells::<_, Numbers<UInt16Type>>(d)?.finish()))
            }
            FieldType::UInt32 => done(Arc::new(self.cells::<_, Numbers<UInt32Type>>(d)?.finish())),
            FieldType::UInt64 => done(Arc::new(self.cells::<_, Numbers<UInt64Type>>(d)?.finish())),
            FieldType::Float32 => Column::Float32(self.cells(d)?),
            FieldType::Float64 => Column::Float64(self.cells(d)?),
            FieldType::Time => Column::Time(self.cells(d)?),
            FieldType::Bool => done(Arc::new(self.cells::<_, Bools>(d)?.builder.finish())),
            FieldType::String => done(Arc::new(self.cells::<_, Strings>(d)?.builder.finish())),
            FieldType::Json => done(Arc::new(self.cells::<_, Documents>(d)?.builder.finish())),
        })
    }
}

/// The cells of one column as they are parsed.
trait Cells<'de>: Sized {
    fn with_capacity(rows: usize, nullable: bool) -> Self;
    /// Reads one cell.
    fn read<D: Deserializer<'de>>(&mut self, cell: D) -> Result<(), D::Error>;
    /// The number of cells read so far.
    fn len(&self) -> usize;
}

struct CellsVisitor<'s, 'de, C> {
    cells: C,
    seed: &'s ColumnSeed<'s>,
    marker: PhantomData<&'de ()>,
}

impl<'de, C: Cells<'de>> Visitor<'de> for CellsVisitor<'_, 'de, C> {
    type Value = C;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of values")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<Self::Value, A::Error> {
        loop {
            match seq.next_element_seed(CellSeed(&mut self.cells)) {
                Ok(Some(())) => {}
                Ok(None) => return Ok(self.cells),
                Err(e) => {
                    self.seed.failure.set(Some(CellFailure {
                        field: self.seed.field.name().to_owned(),
                        row: Some(self.cells.len()),
                    }));
                    return Err(e);
                }
            }
        }
    }
}

struct CellSeed<'c, C>(&'c mut C);

impl<'de, C: Cells<'de>> DeserializeSeed<'de> for CellSeed<'_, C> {
    type Value = ();

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        self.0.read(deserializer)
    }
}

/// A JSON number, or a string holding one (Go readers accept both for 64-bit integers).
#[derive(Debug, Clone, Copy)]
enum Number<'a> {
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(&'a str),
}

/// Reads a number cell: `Some(number)` or `None` for null.
struct NumberVisitor;

impl<'de> Visitor<'de> for NumberVisitor {
    type Value = Option<Number<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a numeric string or null")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Number::Int(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Number::UInt(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Number::Float(v)))
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Number::Text(v)))
    }

    fn visit_str<E: de::Error>(self, _v: &str) -> Result<Self::Value, E> {
        Err(E::custom("numeric strings must not contain escapes"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// Conversion of a JSON number into a column's native type, with range checks.
trait FromNumber: Sized + Default + Copy {
    fn from_number(number: Number<'_>) -> Option<Self>;
}

macro_rules! integer_from_number {
    ($($ty:ty),*) => {$(
        impl FromNumber for $ty {
            fn from_number(number: Number<'_>) -> Option<Self> {
                match number {
                    Number::Int(v) => <$ty>::try_from(v).ok(),
                    Number::UInt(v) => <$ty>::try_from(v).ok(),
                    // Go truncates float input toward zero.
                    Number::Float(v) if v.is_finite() => {
                        let t = v.trunc();
                        (t >= <$ty>::MIN as f64 && t <= <$ty>::MAX as f64).then(|| t as $ty)
                    }
                    Number::Float(_) => None,
                    Number::Text(s) => s.trim().parse::<i128>().ok().and_then(|v| <$ty>::try_from(v).ok()),
                }
            }
        }
    )*};
}
integer_from_number!(i8, i16, i32, i64, u8, u16, u32, u64);

impl FromNumber for f64 {
    fn from_number(number: Number<'_>) -> Option<Self> {
        match number {
            Number::Int(v) => Some(v as f64),
            Number::UInt(v) => Some(v as f64),
            Number::Float(v) => Some(v),
            Number::Text(s) => s.trim().parse().ok(),
        }
    }
}

impl FromNumber for f32 {
    fn from_number(number: Number<'_>) -> Option<Self> {
        match number {
            Number::Text(s) => s.trim().parse().ok(),
            other => f64::from_number(other).map(|v| v as f32),
        }
    }
}

/// A numeric column: values, and validity bits when the field is nullable (a null in a
/// non-nullable field reads as zero, as Go reads it).
struct Numbers<T: ArrowPrimitiveType> {
    values: Vec<T::Native>,
    validity: Option<BooleanBufferBuilder>,
}

impl<'de, T> Cells<'de> for Numbers<T>
where
    T: ArrowPrimitiveType,
    T::Native: FromNumber,
{
    fn with_capacity(rows: usize, nullable: bool) -> Self {
        Numbers {
            values: Vec::with_capacity(rows),
            validity: nullable.then(|| BooleanBufferBuilder::new(rows)),
        }
    }

    #[inline]
    fn read<D: Deserializer<'de>>(&mut self, cell: D) -> Result<(), D::Error> {
        let value = match cell.deserialize_any(NumberVisitor)? {
            Some(number) => Some(T::Native::from_number(number).ok_or_else(|| {
                de::Error::custom(format_args!("{number:?} is not a valid {}", T::DATA_TYPE))
            })?),
            None => None,
        };
        self.values.push(value.unwrap_or_default());
        if let Some(validity) = &mut self.validity {
            validity.append(value.is_some());
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.values.len()
    }
}

impl<T: ArrowPrimitiveType> Numbers<T> {
    fn finish(self) -> PrimitiveArray<T> {
        let nulls = self
            .validity
            .map(|mut v| NullBuffer::new(v.finish()))
            .filter(|n| n.null_count() > 0);
        PrimitiveArray::new(ScalarBuffer::from(self.values), nulls)
    }

    /// Puts `NaN` and `±Inf` back at the rows `entities` lists (written there as null).
    fn apply_entities(
        &mut self,
        entities: Option<&EntitiesIn>,
        narrow: impl Fn(f64) -> T::Native,
    ) -> Result<(), String> {
        let Some(entities) = entities else {
            return Ok(());
        };
        let replacements = [
            (&entities.nan, f64::NAN),
            (&entities.inf, f64::INFINITY),
            (&entities.neg_inf, f64::NEG_INFINITY),
        ];
        for (rows, value) in replacements {
            for &row in rows.iter().flatten() {
                let slot = self
                    .values
                    .get_mut(row)
                    .ok_or_else(|| format!("entity row {row} is out of range"))?;
                *slot = narrow(value);
                if let Some(validity) = &mut self.validity {
                    validity.set_bit(row, true);
                }
            }
        }
        Ok(())
    }
}

impl Numbers<TimestampNanosecondType> {
    /// Turns the epoch milliseconds read into nanoseconds, adding the sub-millisecond parts.
    fn millis_to_nanos(&mut self, nanos: Option<&[i64]>) -> Result<(), String> {
        let nanos = nanos.unwrap_or_default();
        for (row, value) in self.values.iter_mut().enumerate() {
            let extra = nanos.get(row).copied().unwrap_or(0);
            // In i128: the floor-divided milliseconds of times near `i64::MIN` overflow i64
            // before the (positive) sub-millisecond part is added back.
            let ns = i128::from(*value) * i128::from(NANOS_PER_MILLI) + i128::from(extra);
            *value = i64::try_from(ns).map_err(|_| format!("row {row}: time out of range"))?;
        }
        Ok(())
    }
}

/// A bool column (null in a non-nullable field reads as `false`).
struct Bools {
    builder: BooleanBuilder,
    nullable: bool,
}

impl<'de> Cells<'de> for Bools {
    fn with_capacity(rows: usize, nullable: bool) -> Self {
        Bools {
            builder: BooleanBuilder::with_capacity(rows),
            nullable,
        }
    }

    #[inline]
    fn read<D: Deserializer<'de>>(&mut self, cell: D) -> Result<(), D::Error> {
        match Option::<bool>::deserialize(cell)? {
            Some(v) => self.builder.append_value(v),
            None if self.nullable => self.builder.append_null(),
            None => self.builder.append_value(false),
        }
        Ok(())
    }

    fn len(&self) -> usize {
        self.builder.len()
    }
}

/// A string column (null in a non-nullable field reads as `""`).
struct Strings {
    builder: StringBuilder,
    nullable: bool,
}

impl<'de> Cells<'de> for Strings {
    fn with_capacity(rows: usize, nullable: bool) -> Self {
        Strings {
            builder: StringBuilder::with_capacity(rows, rows * 8),
            nullable,
        }
    }

    #[inline]
    fn read<D: Deserializer<'de>>(&mut self, cell: D) -> Result<(), D::Error> {
        cell.deserialize_any(StringVisitor(self))
    }

    fn len(&self) -> usize {
        self.builder.len()
    }
}

struct StringVisitor<'c>(&'c mut Strings);

impl<'de> Visitor<'de> for StringVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        let builder = &mut self.0.builder;
        if builder.values_slice().len() + v.len() > MAX_VALUE_BYTES {
            return Err(E::custom("the field's values exceed 2 GiB of text"));
        }
        builder.append_value(v);
        Ok(())
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        if self.0.nullable {
            self.0.builder.append_null();
        } else {
            self.0.builder.append_value("");
        }
        Ok(())
    }
}

/// A JSON column: each cell's document, compacted, as bytes.
struct Documents {
    builder: BinaryBuilder,
    nullable: bool,
}

impl<'de> Cells<'de> for Documents {
    fn with_capacity(rows: usize, nullable: bool) -> Self {
        Documents {
            builder: BinaryBuilder::with_capacity(rows, rows * 16),
            nullable,
        }
    }

    #[inline]
    fn read<D: Deserializer<'de>>(&mut self, cell: D) -> Result<(), D::Error> {
        let text = <&'de RawValue>::deserialize(cell)?.get();
        if self.nullable && text == "null" {
            self.builder.append_null();
            return Ok(());
        }
        let document = compact_json(text);
        if self.builder.values_slice().len() + document.len() > MAX_VALUE_BYTES {
            return Err(de::Error::custom("the field's values exceed 2 GiB of JSON"));
        }
        self.builder.append_value(document.as_bytes());
        Ok(())
    }

    fn len(&self) -> usize {
        self.builder.len()
    }
}

/// Removes insignificant whitespace from a JSON document (the input may be pretty-printed;
/// the Arrow encoding of the same frame holds compact JSON).
fn compact_json(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(|b| b.is_ascii_whitespace()) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            let was_escaped = escaped;
            escaped = !was_escaped && c == '\\';
            in_string = was_escaped || c != '"';
            out.push(c);
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_ascii_whitespace() {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use arrow_array::cast::AsArray;

    use super::*;
    use crate::frame::FrameInclude;

    fn decode(json: &str) -> Result<Frame, Error> {
        Frame::from_json(json.as_bytes())
    }

    fn invalid_message(result: Result<Frame, Error>) -> String {
        match result {
            Err(Error::InvalidJson(message)) => message,
            other => panic!("expected Error::InvalidJson, got {other:?}"),
        }
    }

    #[test]
    fn negative_zero_keeps_its_sign() {
        let frame = Frame::new("z")
            .with_field(Field::new("f64", vec![-0.0_f64, 0.0]))
            .with_field(Field::new("f32", vec![-0.0_f32, 1.5]));
        let json = frame.to_json(FrameInclude::All).expect("encodes");
        let text = String::from_utf8_lossy(&json);
        assert!(
            text.contains("[-0,0]") && text.contains("[-0,1.5]"),
            "{text}"
        );
        let decoded = Frame::from_json(&json).expect("decodes");
        let f64s = decoded.fields()[0].array().as_primitive::<Float64Type>();
        assert!(f64s.value(0).is_sign_negative() && f64s.value(1).is_sign_positive());
        let f32s = decoded.fields()[1].array().as_primitive::<Float32Type>();
        assert!(f32s.value(0).is_sign_negative());
    }

    #[test]
    fn data_before_schema_reads_as_schema_first() {
        let schema = r#""schema":{"fields":[{"name":"a","typeInfo":{"frame":"int64"}}]}"#;
        let data = r#""data":{"values":[[1,2]]}"#;
        let first = decode(&format!("{{{schema},{data}}}")).expect("schema first");
        let second = decode(&format!("{{{data},{schema}}}")).expect("data first");
        assert_eq!(first, second);
        assert_eq!(first.num_rows().ok(), Some(2));
    }

    #[test]
    fn entities_apply_in_any_key_order_and_on_null_rows() {
        let frame = decode(
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"float64","nullable":true}}]},
                "data":{"entities":[{"NaN":[1],"Inf":[0],"NegInf":[3]}],"values":[[null,null,3,null,null]]}}"#,
        )
        .expect("decodes");
        let values: Vec<Option<f64>> = frame.fields()[0]
            .array()
            .as_primitive::<Float64Type>()
            .iter()
            .collect();
        assert_eq!(values[0], Some(f64::INFINITY));
        assert!(values[1].is_some_and(f64::is_nan));
        assert_eq!(values[2..], [Some(3.0), Some(f64::NEG_INFINITY), None]);
    }

    #[test]
    fn nanos_restore_sub_millisecond_times_around_nulls() {
        let frame = decode(
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"time.Time","nullable":true}}]},
                "data":{"values":[[1,null,-1]],"nanos":[[5,0,999999]]}}"#,
        )
        .expect("decodes");
        let times: Vec<Option<i64>> = frame.fields()[0]
            .array()
            .as_primitive::<TimestampNanosecondType>()
            .iter()
            .collect();
        assert_eq!(times, [Some(1_000_005), None, Some(-1)]);
    }

    #[test]
    fn nulls_in_non_nullable_fields_read_as_zero_values() {
        let frame = decode(
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"int32"}},{"typeInfo":{"frame":"string"}},
                {"typeInfo":{"frame":"bool"}},{"typeInfo":{"frame":"float64"}}]},
                "data":{"values":[[null,7],[null,"a\u003cb"],[null,true],[null,1e400]]}}"#,
        );
        // 1e400 does not fit an f64: serde_json rejects it as a number out of range.
        assert!(frame.is_err());
        let frame = decode(
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"int32"}},{"typeInfo":{"frame":"string"}},
                {"typeInfo":{"frame":"bool"}},{"typeInfo":{"frame":"float64"}}]},
                "data":{"values":[[null,7],[null,"a\u003cb"],[null,true],[null,"2.5"]]}}"#,
        )
        .expect("decodes");
        let fields = frame.fields();
        assert!(fields.iter().all(|f| f.array().null_count() == 0));
        assert_eq!(
            fields[0].array().as_primitive::<Int32Type>().values(),
            &[0, 7]
        );
        let strings = fields[1].array().as_string::<i32>();
        assert_eq!((strings.value(0), strings.value(1)), ("", "a<b"));
        let bools = fields[2].array().as_boolean();
        assert_eq!((bools.value(0), bools.value(1)), (false, true));
        let floats = fields[3].array().as_primitive::<Float64Type>();
        assert_eq!(floats.values(), &[0.0, 2.5]);
    }

    #[test]
    fn cell_errors_name_the_field_and_row() {
        let message = invalid_message(decode(
            r#"{"schema":{"fields":[{"name":"small","typeInfo":{"frame":"int8"}}]},
                "data":{"values":[[1,2,300]]}}"#,
        ));
        assert!(
            message.contains(r#"field "small": row 2: UInt(300) is not a valid Int8"#),
            "{message}"
        );
        let message = invalid_message(decode(
            r#"{"schema":{"fields":[{"name":"s","typeInfo":{"frame":"string"}}]},
                "data":{"values":[["a",{"b":1}]]}}"#,
        ));
        assert!(
            message.contains(r#"field "s": row 1: invalid type: map"#),
            "{message}"
        );
        let message = invalid_message(decode(
            r#"{"schema":{"fields":[{"name":"t","typeInfo":{"frame":"time.Time"}}]},
                "data":{"values":[["x"]]}}"#,
        ));
        assert!(
            message.contains(r#"field "t": row 0: Text("x")"#),
            "{message}"
        );
        let message = invalid_message(decode(
            r#"{"schema":{"fields":[{"name":"n","typeInfo":{"frame":"int8"}}]},
                "data":{"values":[5]}}"#,
        ));
        assert!(
            message.contains(r#"field "n": invalid type: integer `5`"#),
            "{message}"
        );
    }

    #[test]
    fn syntax_errors_stay_json_errors() {
        let result = decode(
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"int8"}}]},"data":{"values":[[1,2"#,
        );
        assert!(matches!(result, Err(Error::Json(_))), "{result:?}");
        let result = decode(r#"{"schema":{"fields":[]}} trailing"#);
        assert!(matches!(result, Err(Error::Json(_))), "{result:?}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        for json in [
            r#"{"schema":{"fields":[]},"schema":{"fields":[]}}"#,
            r#"{"schema":{"fields":[]},"data":{"values":[]},"data":{"values":[]}}"#,
            r#"{"schema":{"fields":[]},"data":{"values":[],"values":[]}}"#,
            r#"{"schema":{"fields":[]},"data":{"values":[],"nanos":null,"nanos":null}}"#,
        ] {
            assert!(decode(json).is_err(), "{json}");
        }
    }

    #[test]
    fn column_counts_must_match_the_fields() {
        let message = invalid_message(decode(
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"int8"}}]},"data":{"values":[[1],[2],[3]]}}"#,
        ));
        assert_eq!(
            message,
            "data has 3 value columns but the schema has 1 fields"
        );
        let message = invalid_message(decode(
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"int8"}},{"typeInfo":{"frame":"int8"}}]},"data":{"values":null}}"#,
        ));
        assert_eq!(
            message,
            "data has 0 value columns but the schema has 2 fields"
        );
    }

    #[test]
    fn unknown_types_are_errors_wherever_the_data_is() {
        for json in [
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"nope"}}]},"data":{"values":[[1]]}}"#,
            r#"{"data":{"values":[[1]]},"schema":{"fields":[{"typeInfo":{"frame":"nope"}}]}}"#,
        ] {
            let message = invalid_message(decode(json));
            assert!(message.contains("unknown type"), "{message}");
        }
    }

    /// serde_json skips a raw value without recursing, so a deep JSON cell is kept; anything it
    /// parses into Rust values stops at its recursion limit with an error.
    #[test]
    fn deep_nesting_is_kept_in_json_cells_and_an_error_elsewhere() {
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        let cell = format!(
            r#"{{"schema":{{"fields":[{{"typeInfo":{{"frame":"json.RawMessage"}}}}]}},"data":{{"values":[[{deep}]]}}}}"#
        );
        let frame = decode(&cell).expect("a deep document is one JSON value");
        assert_eq!(
            frame.fields()[0].array().as_binary::<i32>().value(0),
            deep.as_bytes()
        );
        let again = frame.to_json(FrameInclude::All).expect("encodes");
        assert_eq!(Frame::from_json(&again).expect("decodes again"), frame);
        let meta = format!(r#"{{"schema":{{"meta":{{"custom":{deep}}},"fields":[]}}}}"#);
        assert!(matches!(decode(&meta), Err(Error::Json(_))));
        let number = format!(
            r#"{{"schema":{{"fields":[{{"typeInfo":{{"frame":"int8"}}}}]}},"data":{{"values":[[{deep}]]}}}}"#
        );
        assert!(decode(&number).is_err());
    }

    #[test]
    fn json_cells_are_compacted() {
        let frame = decode(
            r#"{"schema":{"fields":[{"typeInfo":{"frame":"json.RawMessage","nullable":true}}]},
                "data":{"values":[[{ "a" : [1, 2], "b": " x y " }, null]]}}"#,
        )
        .expect("decodes");
        let documents = frame.fields()[0].array().as_binary::<i32>();
        assert_eq!(documents.value(0), br#"{"a":[1,2],"b":" x y "}"#);
        assert!(documents.is_null(1));
    }
}
