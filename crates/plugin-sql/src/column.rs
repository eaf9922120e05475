//! [`ColumnBuilder`]: typed Arrow builders that take [`Value`]s with the Go SDK's coercions.
//!
//! SQLite stores each value with its own storage class, so a column coerces what it is given
//! the way Go's `database/sql` scans a value into the column's scan type (`convertAssign`):
//! integral floats and numeric text become integers, numbers become floats, `0`/`1` and
//! Go's boolean words become bools, anything becomes text, and time text or Unix seconds
//! (milliseconds beyond 13 digits, as mattn/go-sqlite3) become times.

use std::sync::Arc;

use arrow_array::builder::{
    BinaryBuilder, BooleanBuilder, PrimitiveBuilder, StringBuilder, TimestampNanosecondBuilder,
};
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type,
    UInt32Type, UInt64Type,
};
use arrow_array::{ArrayRef, UInt16Array};
use plugin_data::{CellValue, Field, FieldType, FieldValues};

use crate::value::{Value, parse_timestamp};

/// One column under construction; every column is nullable.
#[derive(Debug)]
pub(crate) enum ColumnBuilder {
    Int8(PrimitiveBuilder<Int8Type>),
    Int16(PrimitiveBuilder<Int16Type>),
    Int32(PrimitiveBuilder<Int32Type>),
    Int64(PrimitiveBuilder<Int64Type>),
    UInt8(PrimitiveBuilder<UInt8Type>),
    UInt16(PrimitiveBuilder<UInt16Type>),
    UInt32(PrimitiveBuilder<UInt32Type>),
    UInt64(PrimitiveBuilder<UInt64Type>),
    Float32(PrimitiveBuilder<Float32Type>),
    Float64(PrimitiveBuilder<Float64Type>),
    Bool(BooleanBuilder),
    String(StringBuilder),
    Time(TimestampNanosecondBuilder),
    Json(BinaryBuilder),
    Enum(PrimitiveBuilder<UInt16Type>),
}

fn as_i64(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::Int(v) => Some(*v),
        Value::UInt(v) => i64::try_from(*v).ok(),
        // Only integral floats fit, as Go's strconv.ParseInt of the float's text.
        Value::Float(v) if v.fract() == 0.0 && v.abs() < 9.2e18 => Some(*v as i64),
        Value::Text(t) => t.trim().parse().ok(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn as_u64(value: &Value<'_>) -> Option<u64> {
    match value {
        Value::UInt(v) => Some(*v),
        Value::Text(t) => t.trim().parse().ok(),
        other => as_i64(other).and_then(|v| u64::try_from(v).ok()),
    }
}

fn as_f64(value: &Value<'_>) -> Option<f64> {
    match value {
        Value::Float(v) => Some(*v),
        Value::Int(v) => Some(*v as f64),
        Value::UInt(v) => Some(*v as f64),
        Value::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn as_bool(value: &Value<'_>) -> Option<bool> {
    match value {
        Value::Bool(v) => Some(*v),
        Value::Int(0) => Some(false),
        Value::Int(1) => Some(true),
        // Go's strconv.ParseBool words.
        Value::Text(t) => match t.as_ref() {
            "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
            "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

fn as_time(value: &Value<'_>) -> Option<i64> {
    match value {
        Value::Time(v) => Some(*v),
        Value::Text(t) => parse_timestamp(t),
        // mattn/go-sqlite3: 13-digit integers are milliseconds, smaller ones seconds.
        Value::Int(v) if v.unsigned_abs() > 1_000_000_000_000 => v.checked_mul(1_000_000),
        Value::Int(v) => v.checked_mul(1_000_000_000),
        _ => None,
    }
}

macro_rules! push_int {
    ($builder:expr, $value:expr, $ty:ty, $get:ident) => {{
        let v = $get($value).and_then(|v| <$ty>::try_from(v).ok())?;
        $builder.append_value(v);
    }};
}

impl ColumnBuilder {
    pub(crate) fn new(field_type: FieldType, capacity: usize) -> Self {
        match field_type {
            FieldType::Int8 => ColumnBuilder::Int8(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::Int16 => ColumnBuilder::Int16(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::Int32 => ColumnBuilder::Int32(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::Int64 => ColumnBuilder::Int64(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::UInt8 => ColumnBuilder::UInt8(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::UInt16 => ColumnBuilder::UInt16(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::UInt32 => ColumnBuilder::UInt32(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::UInt64 => ColumnBuilder::UInt64(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::Float32 => ColumnBuilder::Float32(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::Float64 => ColumnBuilder::Float64(PrimitiveBuilder::with_capacity(capacity)),
            FieldType::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(capacity)),
            FieldType::Time => {
                ColumnBuilder::Time(TimestampNanosecondBuilder::with_capacity(capacity))
            }
            FieldType::Json => ColumnBuilder::Json(BinaryBuilder::with_capacity(capacity, 0)),
            FieldType::Enum => ColumnBuilder::Enum(PrimitiveBuilder::with_capacity(capacity)),
            // String, and any type a later plugin-data adds: text holds everything.
            _ => ColumnBuilder::String(StringBuilder::with_capacity(capacity, capacity * 8)),
        }
    }

    pub(crate) fn field_type(&self) -> FieldType {
        match self {
            ColumnBuilder::Int8(_) => FieldType::Int8,
            ColumnBuilder::Int16(_) => FieldType::Int16,
            ColumnBuilder::Int32(_) => FieldType::Int32,
            ColumnBuilder::Int64(_) => FieldType::Int64,
            ColumnBuilder::UInt8(_) => FieldType::UInt8,
            ColumnBuilder::UInt16(_) => FieldType::UInt16,
            ColumnBuilder::UInt32(_) => FieldType::UInt32,
            ColumnBuilder::UInt64(_) => FieldType::UInt64,
            ColumnBuilder::Float32(_) => FieldType::Float32,
            ColumnBuilder::Float64(_) => FieldType::Float64,
            ColumnBuilder::Bool(_) => FieldType::Bool,
            ColumnBuilder::String(_) => FieldType::String,
            ColumnBuilder::Time(_) => FieldType::Time,
            ColumnBuilder::Json(_) => FieldType::Json,
            ColumnBuilder::Enum(_) => FieldType::Enum,
        }
    }

    /// Appends `value`, coerced to this column's type; `None` when it does not fit.
    pub(crate) fn push(&mut self, value: &Value<'_>) -> Option<()> {
        if matches!(value, Value::Null) {
            self.push_null();
            return Some(());
        }
        match self {
            ColumnBuilder::Int8(b) => push_int!(b, value, i8, as_i64),
            ColumnBuilder::Int16(b) => push_int!(b, value, i16, as_i64),
            ColumnBuilder::Int32(b) => push_int!(b, value, i32, as_i64),
            ColumnBuilder::Int64(b) => b.append_value(as_i64(value)?),
            ColumnBuilder::UInt8(b) => push_int!(b, value, u8, as_u64),
            ColumnBuilder::UInt16(b) => push_int!(b, value, u16, as_u64),
            ColumnBuilder::UInt32(b) => push_int!(b, value, u32, as_u64),
            ColumnBuilder::UInt64(b) => b.append_value(as_u64(value)?),
            ColumnBuilder::Enum(b) => push_int!(b, value, u16, as_u64),
            ColumnBuilder::Float32(b) => b.append_value(as_f64(value)? as f32),
            ColumnBuilder::Float64(b) => b.append_value(as_f64(value)?),
            ColumnBuilder::Bool(b) => b.append_value(as_bool(value)?),
            ColumnBuilder::Time(b) => b.append_value(as_time(value)?),
            ColumnBuilder::String(b) => match value {
                Value::Text(t) => b.append_value(t),
                Value::Bytes(bytes) => b.append_value(String::from_utf8_lossy(bytes)),
                other => b.append_value(other.to_string()),
            },
            ColumnBuilder::Json(b) => match value {
                Value::Text(t) => b.append_value(t.as_bytes()),
                Value::Bytes(bytes) => b.append_value(bytes),
                _ => return None,
            },
        }
        Some(())
    }

    pub(crate) fn push_null(&mut self) {
        match self {
            ColumnBuilder::Int8(b) => b.append_null(),
            ColumnBuilder::Int16(b) => b.append_null(),
            ColumnBuilder::Int32(b) => b.append_null(),
            ColumnBuilder::Int64(b) => b.append_null(),
            ColumnBuilder::UInt8(b) => b.append_null(),
            ColumnBuilder::UInt16(b) => b.append_null(),
            ColumnBuilder::UInt32(b) => b.append_null(),
            ColumnBuilder::UInt64(b) => b.append_null(),
            ColumnBuilder::Enum(b) => b.append_null(),
            ColumnBuilder::Float32(b) => b.append_null(),
            ColumnBuilder::Float64(b) => b.append_null(),
            ColumnBuilder::Bool(b) => b.append_null(),
            ColumnBuilder::String(b) => b.append_null(),
            ColumnBuilder::Time(b) => b.append_null(),
            ColumnBuilder::Json(b) => b.append_null(),
        }
    }

    /// The finished values; nullable whether or not a null was pushed.
    pub(crate) fn finish(self) -> Result<FieldValues, plugin_data::Error> {
        let array: ArrayRef = match self {
            ColumnBuilder::Enum(mut b) => {
                let array: UInt16Array = b.finish();
                return FieldValues::enum_from_array(array).with_nullable(true);
            }
            ColumnBuilder::Int8(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int16(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int32(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Int64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::UInt8(mut b) => Arc::new(b.finish()),
            ColumnBuilder::UInt16(mut b) => Arc::new(b.finish()),
            ColumnBuilder::UInt32(mut b) => Arc::new(b.finish()),
            ColumnBuilder::UInt64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Float32(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Float64(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(mut b) => Arc::new(b.finish()),
            ColumnBuilder::String(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Time(mut b) => Arc::new(b.finish()),
            ColumnBuilder::Json(mut b) => Arc::new(b.finish()),
        };
        FieldValues::try_from_array(array)?.with_nullable(true)
    }
}

/// A frame cell as a [`Value`], to copy cells between fields (resampling).
pub(crate) fn cell_to_value<'a>(cell: CellValue<'a>) -> Value<'a> {
    match cell {
        CellValue::Int(v) => Value::Int(v),
        CellValue::UInt(v) => Value::UInt(v),
        CellValue::Enum(v) => Value::UInt(u64::from(v)),
        CellValue::Float32(v) => Value::Float(f64::from(v)),
        CellValue::Float64(v) => Value::Float(v),
        CellValue::Bool(v) => Value::Bool(v),
        CellValue::String(v) => Value::Text(v.into()),
        CellValue::Time(v) => Value::Time(v),
        CellValue::Json(v) => Value::Bytes(v.into()),
        _ => Value::Null,
    }
}

/// A field named `name` from a finished column.
pub(crate) fn field(name: &str, column: ColumnBuilder) -> Result<Field, plugin_data::Error> {
    Ok(Field::new(name, column.finish()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pushed value as the field holds it (`Debug` of its cell), `None` when refused.
    fn one(field_type: FieldType, value: Value<'_>) -> Option<String> {
        let mut column = ColumnBuilder::new(field_type, 1);
        column.push(&value)?;
        let field = Field::new("x", column.finish().unwrap());
        assert!(field.is_nullable());
        Some(format!("{:?}", field.get(0).unwrap()))
    }

    #[test]
    fn coerces_like_go_convert_assign() {
        assert_eq!(
            one(FieldType::Int64, Value::Float(2.0)),
            Some("Int(2)".into())
        );
        assert_eq!(one(FieldType::Int64, Value::Float(2.5)), None);
        assert_eq!(
            one(FieldType::Int64, Value::from("42")),
            Some("Int(42)".into())
        );
        assert_eq!(one(FieldType::Int8, Value::Int(300)), None);
        assert_eq!(one(FieldType::UInt8, Value::Int(-1)), None);
        assert_eq!(
            one(FieldType::Float64, Value::Int(3)),
            Some("Float64(3.0)".into())
        );
        assert_eq!(one(FieldType::Float64, Value::from("x")), None);
        assert_eq!(
            one(FieldType::Bool, Value::Int(1)),
            Some("Bool(true)".into())
        );
        assert_eq!(
            one(FieldType::Bool, Value::from("F")),
            Some("Bool(false)".into())
        );
        assert_eq!(one(FieldType::Bool, Value::Int(2)), None);
        assert_eq!(
            one(FieldType::String, Value::Int(7)),
            Some("String(\"7\")".into())
        );
        assert_eq!(
            one(FieldType::Time, Value::Int(1)),
            Some("Time(1000000000)".into())
        );
        assert_eq!(
            one(FieldType::Time, Value::Int(1_700_000_000_000)),
            Some("Time(1700000000000000000)".into())
        );
        assert_eq!(one(FieldType::Time, Value::Float(1.0)), None);
        assert_eq!(one(FieldType::Int64, Value::Null), Some("Null".into()));
    }
}
