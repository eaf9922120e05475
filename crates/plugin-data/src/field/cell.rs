//! [`CellValue`]: one value of a field, borrowed from its Arrow array.

use std::fmt;

use arrow_array::Array;
use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampNanosecondType,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};

use crate::field::{Field, FieldType};

/// One value of a field, borrowed from the field's Arrow array.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum CellValue<'a> {
    /// A null (only in nullable fields).
    Null,
    /// A signed integer of any width.
    Int(i64),
    /// An unsigned integer of any width.
    UInt(u64),
    /// A `float32` value.
    Float32(f32),
    /// A `float64` value.
    Float64(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    String(&'a str),
    /// A time, as nanoseconds since the Unix epoch.
    Time(i64),
    /// Raw JSON text.
    Json(&'a [u8]),
    /// An enum index.
    Enum(u16),
}

impl CellValue<'_> {
    /// Whether this is [`CellValue::Null`].
    pub fn is_null(&self) -> bool {
        matches!(self, CellValue::Null)
    }

    /// The value as `f64` for numeric values (integers may lose precision), `None` otherwise.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            CellValue::Int(v) => Some(v as f64),
            CellValue::UInt(v) => Some(v as f64),
            CellValue::Float32(v) => Some(f64::from(v)),
            CellValue::Float64(v) => Some(v),
            CellValue::Enum(v) => Some(f64::from(v)),
            _ => None,
        }
    }
}

pub(crate) fn value_at(field: &Field, row: usize) -> Option<CellValue<'_>> {
    let array = field.array();
    if row >= array.len() {
        return None;
    }
    if array.is_null(row) {
        return Some(CellValue::Null);
    }
    Some(match field.field_type() {
        FieldType::Int8 => CellValue::Int(array.as_primitive::<Int8Type>().value(row).into()),
        FieldType::Int16 => CellValue::Int(array.as_primitive::<Int16Type>().value(row).into()),
        FieldType::Int32 => CellValue::Int(array.as_primitive::<Int32Type>().value(row).into()),
        FieldType::Int64 => CellValue::Int(array.as_primitive::<Int64Type>().value(row)),
        FieldType::UInt8 => CellValue::UInt(array.as_primitive::<UInt8Type>().value(row).into()),
        FieldType::UInt16 => CellValue::UInt(array.as_primitive::<UInt16Type>().value(row).into()),
        FieldType::UInt32 => CellValue::UInt(array.as_primitive::<UInt32Type>().value(row).into()),
        FieldType::UInt64 => CellValue::UInt(array.as_primitive::<UInt64Type>().value(row)),
        FieldType::Float32 => CellValue::Float32(array.as_primitive::<Float32Type>().value(row)),
        FieldType::Float64 => CellValue::Float64(array.as_primitive::<Float64Type>().value(row)),
        FieldType::Bool => CellValue::Bool(array.as_boolean().value(row)),
        FieldType::String => CellValue::String(array.as_string::<i32>().value(row)),
        FieldType::Time => {
            CellValue::Time(array.as_primitive::<TimestampNanosecondType>().value(row))
        }
        FieldType::Json => CellValue::Json(array.as_binary::<i32>().value(row)),
        FieldType::Enum => CellValue::Enum(array.as_primitive::<UInt16Type>().value(row)),
    })
}

impl fmt::Display for CellValue<'_> {
    /// Formats like the Go SDK's golden tables (Go `%v`): `null`, shortest floats with
    /// exponents outside `1e-4..1e21`, times as `2006-01-02 15:04:05.999999999 +0000 UTC`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            CellValue::Null => f.write_str("null"),
            CellValue::Int(v) => write!(f, "{v}"),
            CellValue::UInt(v) => write!(f, "{v}"),
            CellValue::Float32(v) => f.write_str(&crate::format::go_float_v(
                f64::from(v),
                &v.to_string(),
                format!("{v:e}"),
            )),
            CellValue::Float64(v) => f.write_str(&crate::format::go_float_v(
                v,
                &v.to_string(),
                format!("{v:e}"),
            )),
            CellValue::Bool(v) => write!(f, "{v}"),
            CellValue::String(v) => f.write_str(v),
            CellValue::Time(ns) => f.write_str(&crate::format::go_time_string(ns)),
            CellValue::Json(v) => f.write_str(&String::from_utf8_lossy(v)),
            CellValue::Enum(v) => write!(f, "{v}"),
        }
    }
}

impl CellValue<'_> {
    /// An owned copy of the value (strings and JSON are copied).
    pub fn to_owned_value(&self) -> OwnedCellValue {
        match *self {
            CellValue::Null => OwnedCellValue::Null,
            CellValue::Int(v) => OwnedCellValue::Int(v),
            CellValue::UInt(v) => OwnedCellValue::UInt(v),
            CellValue::Float32(v) => OwnedCellValue::Float32(v),
            CellValue::Float64(v) => OwnedCellValue::Float64(v),
            CellValue::Bool(v) => OwnedCellValue::Bool(v),
            CellValue::String(v) => OwnedCellValue::String(v.to_owned()),
            CellValue::Time(v) => OwnedCellValue::Time(v),
            CellValue::Json(v) => OwnedCellValue::Json(v.to_vec()),
            CellValue::Enum(v) => OwnedCellValue::Enum(v),
        }
    }

    /// The name of the value's kind, for error messages (`int`, `string`, `null`, ...).
    pub(crate) fn kind_name(&self) -> &'static str {
        match self {
            CellValue::Null => "null",
            CellValue::Int(_) => "int",
            CellValue::UInt(_) => "uint",
            CellValue::Float32(_) => "float32",
            CellValue::Float64(_) => "float64",
            CellValue::Bool(_) => "bool",
            CellValue::String(_) => "string",
            CellValue::Time(_) => "time",
            CellValue::Json(_) => "json",
            CellValue::Enum(_) => "enum",
        }
    }
}

/// An owned [`CellValue`]: what a [`FieldConverter`](crate::builder::FieldConverter) produces
/// when it makes new strings or JSON rather than borrowing them from its input.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub enum OwnedCellValue {
    /// A null (only in nullable fields).
    #[default]
    Null,
    /// A signed integer of any width.
    Int(i64),
    /// An unsigned integer of any width.
    UInt(u64),
    /// A `float32` value.
    Float32(f32),
    /// A `float64` value.
    Float64(f64),
    /// A boolean.
    Bool(bool),
    /// A string.
    String(String),
    /// A time, as nanoseconds since the Unix epoch.
    Time(i64),
    /// Raw JSON text.
    Json(Vec<u8>),
    /// An enum index.
    Enum(u16),
}

impl OwnedCellValue {
    /// The value, borrowed.
    pub fn as_cell(&self) -> CellValue<'_> {
        match self {
            OwnedCellValue::Null => CellValue::Null,
            OwnedCellValue::Int(v) => CellValue::Int(*v),
            OwnedCellValue::UInt(v) => CellValue::UInt(*v),
            OwnedCellValue::Float32(v) => CellValue::Float32(*v),
            OwnedCellValue::Float64(v) => CellValue::Float64(*v),
            OwnedCellValue::Bool(v) => CellValue::Bool(*v),
            OwnedCellValue::String(v) => CellValue::String(v),
            OwnedCellValue::Time(v) => CellValue::Time(*v),
            OwnedCellValue::Json(v) => CellValue::Json(v),
            OwnedCellValue::Enum(v) => CellValue::Enum(*v),
        }
    }
}

impl From<CellValue<'_>> for OwnedCellValue {
    fn from(value: CellValue<'_>) -> Self {
        value.to_owned_value()
    }
}

impl From<String> for OwnedCellValue {
    fn from(value: String) -> Self {
        OwnedCellValue::String(value)
    }
}

// `From` for the Rust types a field holds, so rows read naturally:
// `builder.append_row(&[1.5.into(), "a".into(), None::<i64>.into()])`.
macro_rules! cell_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for CellValue<'_> {
            fn from(value: $ty) -> Self {
                CellValue::$variant(value.into())
            }
        }
        impl From<$ty> for OwnedCellValue {
            fn from(value: $ty) -> Self {
                OwnedCellValue::$variant(value.into())
            }
        }
    )*};
}

cell_from! {
    i8 => Int, i16 => Int, i32 => Int, i64 => Int,
    u8 => UInt, u16 => UInt, u32 => UInt, u64 => UInt,
    f32 => Float32, f64 => Float64, bool => Bool,
}

impl From<crate::field::EnumIndex> for CellValue<'_> {
    fn from(value: crate::field::EnumIndex) -> Self {
        CellValue::Enum(value.0)
    }
}

impl From<crate::field::EnumIndex> for OwnedCellValue {
    fn from(value: crate::field::EnumIndex) -> Self {
        OwnedCellValue::Enum(value.0)
    }
}

impl<'a> From<&'a str> for CellValue<'a> {
    fn from(value: &'a str) -> Self {
        CellValue::String(value)
    }
}

impl<'a> From<&'a String> for CellValue<'a> {
    fn from(value: &'a String) -> Self {
        CellValue::String(value)
    }
}

impl From<&str> for OwnedCellValue {
    fn from(value: &str) -> Self {
        OwnedCellValue::String(value.to_owned())
    }
}

macro_rules! cell_from_time {
    ($($(#[$cfg:meta])* $ty:ty),* $(,)?) => {$(
        $(#[$cfg])*
        impl From<$ty> for CellValue<'_> {
            fn from(value: $ty) -> Self {
                CellValue::Time(crate::field::TimeElement::unix_nanos(&value))
            }
        }
        $(#[$cfg])*
        impl From<$ty> for OwnedCellValue {
            fn from(value: $ty) -> Self {
                OwnedCellValue::Time(crate::field::TimeElement::unix_nanos(&value))
            }
        }
    )*};
}

cell_from_time!(
    std::time::SystemTime,
    #[cfg(feature = "chrono")]
    chrono::DateTime<chrono::Utc>,
    #[cfg(feature = "chrono")]
    chrono::DateTime<chrono::FixedOffset>,
    #[cfg(feature = "chrono")]
    chrono::NaiveDateTime,
    #[cfg(feature = "time")]
    time::OffsetDateTime,
    #[cfg(feature = "time")]
    time::UtcDateTime,
);

impl<'a, T: Into<CellValue<'a>>> From<Option<T>> for CellValue<'a> {
    fn from(value: Option<T>) -> Self {
        value.map_or(CellValue::Null, Into::into)
    }
}

impl<T: Into<OwnedCellValue>> From<Option<T>> for OwnedCellValue {
    fn from(value: Option<T>) -> Self {
        value.map_or(OwnedCellValue::Null, Into::into)
    }
}
