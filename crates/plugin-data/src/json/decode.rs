//! Frame JSON → frame. Each column is parsed straight from its raw JSON slice into an Arrow
//! buffer.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use arrow_array::types::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, PrimitiveArray, StringArray, TimestampNanosecondArray,
};
use arrow_buffer::ScalarBuffer;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use serde_json::value::RawValue;

use crate::config::FieldConfig;
use crate::error::Error;
use crate::field::{Field, FieldType, FieldValues, Labels};
use crate::frame::Frame;
use crate::meta::FrameMeta;

const NANOS_PER_MILLI: i64 = 1_000_000;

#[derive(Deserialize)]
struct FrameIn<'a> {
    #[serde(default)]
    schema: Option<SchemaIn>,
    #[serde(borrow, default)]
    data: Option<DataIn<'a>>,
}

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

#[derive(Deserialize)]
struct DataIn<'a> {
    #[serde(borrow, default)]
    values: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    entities: Option<Vec<Option<EntitiesIn>>>,
    #[serde(default)]
    nanos: Option<Vec<Option<Vec<i64>>>>,
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

/// Decodes one frame JSON document; with `known_schema`, the document's own schema (if any)
/// is ignored and the data is read against the given frame's fields.
pub(crate) fn decode_frame(bytes: &[u8], known_schema: Option<&Frame>) -> Result<Frame, Error> {
    let document: FrameIn<'_> = serde_json::from_slice(bytes)?;
    frame_from_document(document, known_schema)
}

fn frame_from_document(
    document: FrameIn<'_>,
    known_schema: Option<&Frame>,
) -> Result<Frame, Error> {
    let mut frame = match (known_schema, document.schema) {
        (Some(schema), _) => schema.empty_like(),
        (None, Some(schema)) => frame_from_schema(schema)?,
        (None, None) => {
            return Err(Error::InvalidJson("frame JSON has no schema".to_owned()));
        }
    };
    if let Some(data) = document.data {
        fill_data(&mut frame, data)?;
    }
    Ok(frame)
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

fn fill_data(frame: &mut Frame, data: DataIn<'_>) -> Result<(), Error> {
    let values = data.values.unwrap_or_default();
    if values.len() != frame.fields().len() {
        return Err(Error::InvalidJson(format!(
            "data has {} value columns but the schema has {} fields",
            values.len(),
            frame.fields().len()
        )));
    }
    let entities = data.entities.unwrap_or_default();
    let nanos = data.nanos.unwrap_or_default();
    for (index, (field, raw)) in frame.fields_mut().iter_mut().zip(values).enumerate() {
        let extras = ColumnExtras {
            entities: entities.get(index).and_then(Option::as_ref),
            nanos: nanos.get(index).and_then(Option::as_deref),
        };
        let array = parse_column(field, raw.get(), &extras)
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

struct ColumnExtras<'e> {
    entities: Option<&'e EntitiesIn>,
    nanos: Option<&'e [i64]>,
}

/// A JSON number, or a string holding one (Go readers accept both for 64-bit integers).
#[derive(Debug, Clone, Copy)]
enum Number<'a> {
    Int(i64),
    UInt(u64),
    Float(f64),
    Text(&'a str),
}

struct NumberCell<'a>(Option<Number<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for NumberCell<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NumberVisitor;
        impl<'de> Visitor<'de> for NumberVisitor {
            type Value = NumberCell<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, a numeric string or null")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(NumberCell(Some(Number::Int(v))))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(NumberCell(Some(Number::UInt(v))))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(NumberCell(Some(Number::Float(v))))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(NumberCell(Some(Number::Text(v))))
            }
            fn visit_str<E: de::Error>(self, _v: &str) -> Result<Self::Value, E> {
                Err(E::custom("numeric strings must not contain escapes"))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(NumberCell(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(NumberCell(None))
            }
        }
        deserializer.deserialize_any(NumberVisitor)
    }
}

/// A string cell, borrowed from the input when it has no escapes.
struct StrCell<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for StrCell<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrVisitor;
        impl<'de> Visitor<'de> for StrVisitor {
            type Value = StrCell<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or null")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(StrCell(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(StrCell(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(StrCell(Some(Cow::Owned(v))))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(StrCell(None))
            }
        }
        deserializer.deserialize_any(StrVisitor)
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

fn parse_column(field: &Field, raw: &str, extras: &ColumnExtras<'_>) -> Result<ArrayRef, Error> {
    let nullable = field.is_nullable();
    Ok(match field.field_type() {
        FieldType::Int8 => numbers::<Int8Type>(raw, nullable)?,
        FieldType::Int16 => numbers::<Int16Type>(raw, nullable)?,
        FieldType::Int32 => numbers::<Int32Type>(raw, nullable)?,
        FieldType::Int64 => numbers::<Int64Type>(raw, nullable)?,
        FieldType::UInt8 => numbers::<UInt8Type>(raw, nullable)?,
        FieldType::UInt16 | FieldType::Enum => numbers::<UInt16Type>(raw, nullable)?,
        FieldType::UInt32 => numbers::<UInt32Type>(raw, nullable)?,
        FieldType::UInt64 => numbers::<UInt64Type>(raw, nullable)?,
        FieldType::Float32 => floats::<Float32Type>(raw, nullable, extras.entities, |v| v as f32)?,
        FieldType::Float64 => floats::<Float64Type>(raw, nullable, extras.entities, |v| v)?,
        FieldType::Bool => {
            let cells: Vec<Option<bool>> = serde_json::from_str(raw)?;
            let array: BooleanArray = if nullable {
                cells.into_iter().collect()
            } else {
                cells
                    .into_iter()
                    .map(|v| Some(v.unwrap_or(false)))
                    .collect()
            };
            Arc::new(array)
        }
        FieldType::String => {
            let cells: Vec<StrCell<'_>> = serde_json::from_str(raw)?;
            let array: StringArray = if nullable {
                cells.iter().map(|c| c.0.as_deref()).collect()
            } else {
                cells
                    .iter()
                    .map(|c| Some(c.0.as_deref().unwrap_or("")))
                    .collect()
            };
            Arc::new(array)
        }
        FieldType::Time => times(raw, nullable, extras.nanos)?,
        FieldType::Json => {
            let cells: Vec<&RawValue> = serde_json::from_str(raw)?;
            let array: BinaryArray = cells
                .iter()
                .map(|c| {
                    let text = c.get();
                    if nullable && text == "null" {
                        None
                    } else {
                        Some(compact_json(text).into_owned().into_bytes())
                    }
                })
                .collect();
            Arc::new(array)
        }
    })
}

fn numbers<T>(raw: &str, nullable: bool) -> Result<ArrayRef, Error>
where
    T: ArrowPrimitiveType,
    T::Native: FromNumber,
{
    let cells: Vec<NumberCell<'_>> = serde_json::from_str(raw)?;
    let convert = |(row, cell): (usize, &NumberCell<'_>)| -> Result<Option<T::Native>, Error> {
        cell.0
            .map(|n| {
                T::Native::from_number(n).ok_or_else(|| {
                    Error::InvalidJson(format!("row {row}: {n:?} is not a valid {}", T::DATA_TYPE))
                })
            })
            .transpose()
    };
    if nullable {
        let values = cells
            .iter()
            .enumerate()
            .map(convert)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(values.into_iter().collect::<PrimitiveArray<T>>()))
    } else {
        let values = cells
            .iter()
            .enumerate()
            .map(|c| convert(c).map(Option::unwrap_or_default))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Arc::new(PrimitiveArray::<T>::new(
            ScalarBuffer::from(values),
            None,
        )))
    }
}

fn floats<T>(
    raw: &str,
    nullable: bool,
    entities: Option<&EntitiesIn>,
    narrow: impl Fn(f64) -> T::Native,
) -> Result<ArrayRef, Error>
where
    T: ArrowPrimitiveType,
    T::Native: FromNumber,
{
    let cells: Vec<NumberCell<'_>> = serde_json::from_str(raw)?;
    let mut values: Vec<Option<T::Native>> = Vec::with_capacity(cells.len());
    for (row, cell) in cells.iter().enumerate() {
        values.push(
            cell.0
                .map(|n| {
                    T::Native::from_number(n).ok_or_else(|| {
                        Error::InvalidJson(format!("row {row}: {n:?} is not a number"))
                    })
                })
                .transpose()?,
        );
    }
    if let Some(entities) = entities {
        let replacements = [
            (&entities.nan, f64::NAN),
            (&entities.inf, f64::INFINITY),
            (&entities.neg_inf, f64::NEG_INFINITY),
        ];
        for (rows, value) in replacements {
            for &row in rows.iter().flatten() {
                let slot = values.get_mut(row).ok_or_else(|| {
                    Error::InvalidJson(format!("entity row {row} is out of range"))
                })?;
                *slot = Some(narrow(value));
            }
        }
    }
    if nullable {
        Ok(Arc::new(values.into_iter().collect::<PrimitiveArray<T>>()))
    } else {
        let values: Vec<T::Native> = values.into_iter().map(Option::unwrap_or_default).collect();
        Ok(Arc::new(PrimitiveArray::<T>::new(
            ScalarBuffer::from(values),
            None,
        )))
    }
}

fn times(raw: &str, nullable: bool, nanos: Option<&[i64]>) -> Result<ArrayRef, Error> {
    let cells: Vec<NumberCell<'_>> = serde_json::from_str(raw)?;
    let mut values: Vec<Option<i64>> = Vec::with_capacity(cells.len());
    for (row, cell) in cells.iter().enumerate() {
        let Some(number) = cell.0 else {
            values.push(None);
            continue;
        };
        let millis = i64::from_number(number)
            .ok_or_else(|| Error::InvalidJson(format!("row {row}: {number:?} is not a time")))?;
        let extra = nanos.and_then(|n| n.get(row)).copied().unwrap_or(0);
        // In i128: the floor-divided milliseconds of times near `i64::MIN` overflow i64 before
        // the (positive) sub-millisecond part is added back.
        let ns = i128::from(millis) * i128::from(NANOS_PER_MILLI) + i128::from(extra);
        let ns = i64::try_from(ns)
            .map_err(|_| Error::InvalidJson(format!("row {row}: time out of range")))?;
        values.push(Some(ns));
    }
    if nullable {
        Ok(Arc::new(
            values.into_iter().collect::<TimestampNanosecondArray>(),
        ))
    } else {
        let values: Vec<i64> = values.into_iter().map(Option::unwrap_or_default).collect();
        Ok(Arc::new(TimestampNanosecondArray::new(
            ScalarBuffer::from(values),
            None,
        )))
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
