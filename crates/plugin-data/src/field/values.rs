//! [`FieldValues`]: validated Arrow arrays for fields, and the conversions that build them from
//! Rust values without needless copies.
//!
//! A `Vec<T>` of a primitive type moves its allocation into the Arrow buffer
//! ([`ScalarBuffer::from`]), so building a numeric field costs no copy at all. Other inputs
//! (`Vec<Option<T>>`, strings, times, iterators) are converted in one pass.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use arrow_array::builder::{BinaryBuilder, StringBuilder};
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampNanosecondType,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, PrimitiveArray, StringArray,
    TimestampNanosecondArray, UInt16Array,
};
use arrow_buffer::ScalarBuffer;
use arrow_schema::{DataType, TimeUnit};
use serde_json::value::RawValue;

use crate::error::Error;
use crate::field::FieldType;

/// The values of a field: an Arrow array of a supported type, with its Grafana field type and
/// nullability.
///
/// Build one with `From` (for `Vec<T>`, `Vec<Option<T>>`, slices, typed Arrow arrays),
/// [`FromIterator`], [`FieldValues::try_from_array`] (any Arrow array) or the named constructors
/// for types Rust cannot tell apart (nanosecond timestamps as `i64`, enums as `u16`).
///
/// ```
/// use plugin_data::{FieldType, FieldValues};
///
/// let values = FieldValues::from(vec![1.5_f64, 2.5]);
/// assert_eq!(values.field_type(), FieldType::Float64);
/// assert!(!values.is_nullable());
///
/// let values = FieldValues::from(vec![Some("a"), None]);
/// assert_eq!(values.field_type(), FieldType::String);
/// assert!(values.is_nullable());
/// ```
#[derive(Debug, Clone)]
pub struct FieldValues {
    pub(crate) array: ArrayRef,
    pub(crate) field_type: FieldType,
    pub(crate) nullable: bool,
}

impl FieldValues {
    /// Wraps an existing Arrow array without copying it.
    ///
    /// The field is nullable when the array has a validity buffer. `UInt16` arrays become
    /// [`FieldType::UInt16`]; use [`FieldValues::enum_from_array`] for enums. Timestamps in
    /// other units or with a time zone, `LargeUtf8`/`Utf8View` and `LargeBinary`/`BinaryView`
    /// are converted (one copy) to the canonical Grafana layout.
    ///
    /// # Errors
    ///
    /// [`Error::UnsupportedArrowType`] for any other data type.
    pub fn try_from_array(array: ArrayRef) -> Result<Self, Error> {
        let nullable = array.nulls().is_some();
        let (array, field_type) = normalize_array(array, false)?;
        Ok(FieldValues {
            array,
            field_type,
            nullable,
        })
    }

    /// Enum values from a `UInt16` array (indexes into the field config's enum texts).
    pub fn enum_from_array(array: UInt16Array) -> Self {
        let nullable = array.nulls().is_some();
        FieldValues {
            array: Arc::new(array),
            field_type: FieldType::Enum,
            nullable,
        }
    }

    /// Non-null enum values; the vector's allocation becomes the Arrow buffer.
    pub fn enums(indexes: Vec<u16>) -> Self {
        Self::enum_from_array(UInt16Array::new(ScalarBuffer::from(indexes), None))
    }

    /// Nullable enum values.
    pub fn enums_opt(indexes: Vec<Option<u16>>) -> Self {
        let mut values = Self::enum_from_array(indexes.into_iter().collect());
        values.nullable = true;
        values
    }

    /// Non-null times given as nanoseconds since the Unix epoch; the vector's allocation becomes
    /// the Arrow buffer.
    pub fn time_nanos(nanos: Vec<i64>) -> Self {
        FieldValues {
            array: Arc::new(TimestampNanosecondArray::new(
                ScalarBuffer::from(nanos),
                None,
            )),
            field_type: FieldType::Time,
            nullable: false,
        }
    }

    /// Nullable times given as nanoseconds since the Unix epoch.
    pub fn time_nanos_opt(nanos: Vec<Option<i64>>) -> Self {
        FieldValues {
            array: Arc::new(nanos.into_iter().collect::<TimestampNanosecondArray>()),
            field_type: FieldType::Time,
            nullable: true,
        }
    }

    /// Non-null JSON values given as raw JSON text (not validated).
    pub fn json_raw<I, B>(documents: I) -> Self
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let array: BinaryArray = documents.into_iter().map(Some).collect();
        FieldValues {
            array: Arc::new(array),
            field_type: FieldType::Json,
            nullable: false,
        }
    }

    /// The Grafana type of the values.
    pub fn field_type(&self) -> FieldType {
        self.field_type
    }

    /// Whether the values are of the nullable variant of their type.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }

    /// Marks the values as nullable (or not).
    ///
    /// # Errors
    ///
    /// [`Error::NullsInNonNullableField`] when `nullable` is false but the values contain nulls.
    pub fn with_nullable(mut self, nullable: bool) -> Result<Self, Error> {
        if !nullable && self.array.null_count() > 0 {
            return Err(Error::NullsInNonNullableField(String::new()));
        }
        self.nullable = nullable;
        Ok(self)
    }

    /// The Arrow array holding the values.
    pub fn array(&self) -> &ArrayRef {
        &self.array
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.array.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.array.is_empty()
    }

    /// Empty values of the given type.
    pub fn empty(field_type: FieldType, nullable: bool) -> Self {
        FieldValues {
            array: arrow_array::new_empty_array(&field_type.arrow_data_type()),
            field_type,
            nullable,
        }
    }
}

impl TryFrom<ArrayRef> for FieldValues {
    type Error = Error;

    fn try_from(array: ArrayRef) -> Result<Self, Error> {
        FieldValues::try_from_array(array)
    }
}

/// Maps an Arrow array to its Grafana field type, converting the few layouts Grafana stores
/// differently. `enum_hint` selects [`FieldType::Enum`] for `UInt16` (Arrow `tstype=enum`).
pub(crate) fn normalize_array(
    array: ArrayRef,
    enum_hint: bool,
) -> Result<(ArrayRef, FieldType), Error> {
    let field_type = match array.data_type() {
        DataType::Int8 => FieldType::Int8,
        DataType::Int16 => FieldType::Int16,
        DataType::Int32 => FieldType::Int32,
        DataType::Int64 => FieldType::Int64,
        DataType::UInt8 => FieldType::UInt8,
        DataType::UInt16 if enum_hint => FieldType::Enum,
        DataType::UInt16 => FieldType::UInt16,
        DataType::UInt32 => FieldType::UInt32,
        DataType::UInt64 => FieldType::UInt64,
        DataType::Float32 => FieldType::Float32,
        DataType::Float64 => FieldType::Float64,
        DataType::Boolean => FieldType::Bool,
        DataType::Utf8 => FieldType::String,
        DataType::Binary => FieldType::Json,
        DataType::Timestamp(TimeUnit::Nanosecond, None) => FieldType::Time,
        DataType::Timestamp(unit, _) => {
            return Ok((
                Arc::new(timestamps_to_nanos(&array, *unit)?),
                FieldType::Time,
            ));
        }
        DataType::LargeUtf8 | DataType::Utf8View => {
            let strings = string_values(&array)?;
            return Ok((Arc::new(strings), FieldType::String));
        }
        DataType::LargeBinary | DataType::BinaryView => {
            let binary = binary_values(&array)?;
            return Ok((Arc::new(binary), FieldType::Json));
        }
        other => return Err(Error::UnsupportedArrowType(other.clone())),
    };
    Ok((array, field_type))
}

fn timestamps_to_nanos(
    array: &ArrayRef,
    unit: TimeUnit,
) -> Result<TimestampNanosecondArray, Error> {
    use arrow_array::cast::AsArray;
    use arrow_array::types::{
        TimestampMicrosecondType, TimestampMillisecondType, TimestampSecondType,
    };
    let scale: i64 = match unit {
        TimeUnit::Second => 1_000_000_000,
        TimeUnit::Millisecond => 1_000_000,
        TimeUnit::Microsecond => 1_000,
        TimeUnit::Nanosecond => 1,
    };
    let raw: PrimitiveArray<arrow_array::types::Int64Type> = match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .reinterpret_cast(),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .reinterpret_cast(),
        TimeUnit::Microsecond => array
            .as_primitive::<TimestampMicrosecondType>()
            .reinterpret_cast(),
        TimeUnit::Nanosecond => array
            .as_primitive::<TimestampNanosecondType>()
            .reinterpret_cast(),
    };
    let nanos = raw.unary::<_, TimestampNanosecondType>(|v| v.saturating_mul(scale));
    Ok(nanos)
}

fn string_values(array: &ArrayRef) -> Result<StringArray, Error> {
    use arrow_array::cast::AsArray;
    Ok(match array.data_type() {
        DataType::LargeUtf8 => array.as_string::<i64>().iter().collect(),
        DataType::Utf8View => array.as_string_view().iter().collect(),
        other => return Err(Error::UnsupportedArrowType(other.clone())),
    })
}

fn binary_values(array: &ArrayRef) -> Result<BinaryArray, Error> {
    use arrow_array::cast::AsArray;
    Ok(match array.data_type() {
        DataType::LargeBinary => array.as_binary::<i64>().iter().collect(),
        DataType::BinaryView => array.as_binary_view().iter().collect(),
        other => return Err(Error::UnsupportedArrowType(other.clone())),
    })
}

mod sealed {
    pub trait Sealed {}
}

/// A Rust value type that can fill a [`Field`](crate::Field).
///
/// Implemented for `i8`–`i64`, `u8`–`u64`, `f32`, `f64`, `bool`, strings (`String`, `&str`,
/// `Cow<str>`), times ([`SystemTime`], and with the `chrono` / `time` features their date-time
/// types), JSON ([`serde_json::Value`], `Box<RawValue>`) and [`EnumIndex`]. Sealed: the set of
/// Grafana field types is closed.
pub trait FieldElement: sealed::Sealed + Sized {
    /// The Grafana field type of these values.
    const FIELD_TYPE: FieldType;

    /// Builds a non-null array from a vector. Primitive types move the allocation (no copy).
    #[doc(hidden)]
    fn vec_into_array(values: Vec<Self>) -> ArrayRef {
        Self::iter_into_array(values)
    }

    /// Builds a non-null array from an iterator.
    #[doc(hidden)]
    fn iter_into_array<I: IntoIterator<Item = Self>>(values: I) -> ArrayRef;

    /// Builds a nullable array from an iterator of options.
    #[doc(hidden)]
    fn options_into_array<I: IntoIterator<Item = Option<Self>>>(values: I) -> ArrayRef;
}

macro_rules! primitive_element {
    ($($native:ty => $arrow:ty, $variant:ident;)*) => {$(
        impl sealed::Sealed for $native {}
        impl FieldElement for $native {
            const FIELD_TYPE: FieldType = FieldType::$variant;

            fn vec_into_array(values: Vec<Self>) -> ArrayRef {
                // `ScalarBuffer::from(Vec<T>)` takes ownership of the allocation: zero copy.
                Arc::new(PrimitiveArray::<$arrow>::new(ScalarBuffer::from(values), None))
            }

            fn iter_into_array<I: IntoIterator<Item = Self>>(values: I) -> ArrayRef {
                Arc::new(PrimitiveArray::<$arrow>::from_iter_values(values))
            }

            fn options_into_array<I: IntoIterator<Item = Option<Self>>>(values: I) -> ArrayRef {
                Arc::new(values.into_iter().collect::<PrimitiveArray<$arrow>>())
            }
        }

        impl From<PrimitiveArray<$arrow>> for FieldValues {
            fn from(array: PrimitiveArray<$arrow>) -> Self {
                let nullable = array.nulls().is_some();
                FieldValues { array: Arc::new(array), field_type: FieldType::$variant, nullable }
            }
        }
    )*};
}

primitive_element! {
    i8 => Int8Type, Int8;
    i16 => Int16Type, Int16;
    i32 => Int32Type, Int32;
    i64 => Int64Type, Int64;
    u8 => UInt8Type, UInt8;
    u16 => UInt16Type, UInt16;
    u32 => UInt32Type, UInt32;
    u64 => UInt64Type, UInt64;
    f32 => Float32Type, Float32;
    f64 => Float64Type, Float64;
}

impl sealed::Sealed for bool {}
impl FieldElement for bool {
    const FIELD_TYPE: FieldType = FieldType::Bool;

    fn iter_into_array<I: IntoIterator<Item = Self>>(values: I) -> ArrayRef {
        Arc::new(values.into_iter().map(Some).collect::<BooleanArray>())
    }

    fn options_into_array<I: IntoIterator<Item = Option<Self>>>(values: I) -> ArrayRef {
        Arc::new(values.into_iter().collect::<BooleanArray>())
    }
}

impl From<BooleanArray> for FieldValues {
    fn from(array: BooleanArray) -> Self {
        let nullable = array.nulls().is_some();
        FieldValues {
            array: Arc::new(array),
            field_type: FieldType::Bool,
            nullable,
        }
    }
}

/// Builds a string array in one pass into exactly sized offset, data and validity buffers.
///
/// # Panics
///
/// When the strings total more than `i32::MAX` bytes (Arrow `Utf8` offsets are `i32`), as
/// arrow-rs's own builders do.
macro_rules! string_element {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}
        impl FieldElement for $ty {
            const FIELD_TYPE: FieldType = FieldType::String;

            fn vec_into_array(values: Vec<Self>) -> ArrayRef {
                Self::iter_into_array(values)
            }

            fn iter_into_array<I: IntoIterator<Item = Self>>(values: I) -> ArrayRef {
                Arc::new(StringArray::from_iter_values(values))
            }

            fn options_into_array<I: IntoIterator<Item = Option<Self>>>(values: I) -> ArrayRef {
                // One pass straight into the Arrow buffers: no intermediate Vec, and no UTF-8
                // re-validation (the builder only ever receives `str`s).
                let values = values.into_iter();
                let rows = values.size_hint().0;
                let mut builder = StringBuilder::with_capacity(rows, rows * 8);
                for value in values {
                    builder.append_option(value);
                }
                Arc::new(builder.finish())
            }
        }
    )*};
}

string_element!(String, &str, Cow<'_, str>, &String);

impl From<StringArray> for FieldValues {
    fn from(array: StringArray) -> Self {
        let nullable = array.nulls().is_some();
        FieldValues {
            array: Arc::new(array),
            field_type: FieldType::String,
            nullable,
        }
    }
}

impl From<TimestampNanosecondArray> for FieldValues {
    fn from(array: TimestampNanosecondArray) -> Self {
        let nullable = array.nulls().is_some();
        // Grafana times carry no time zone; the instants are the same.
        let array = array.with_timezone_opt(None::<Arc<str>>);
        FieldValues {
            array: Arc::new(array),
            field_type: FieldType::Time,
            nullable,
        }
    }
}

impl From<BinaryArray> for FieldValues {
    fn from(array: BinaryArray) -> Self {
        let nullable = array.nulls().is_some();
        FieldValues {
            array: Arc::new(array),
            field_type: FieldType::Json,
            nullable,
        }
    }
}

/// Nanoseconds since the Unix epoch, saturating outside the `i64` range (years 1677–2262).
fn system_time_nanos(time: &SystemTime) -> i64 {
    // i64 arithmetic instead of `Duration::as_nanos` (u128): this runs once per row.
    fn nanos(d: std::time::Duration) -> Option<i64> {
        i64::try_from(d.as_secs())
            .ok()?
            .checked_mul(1_000_000_000)?
            .checked_add(i64::from(d.subsec_nanos()))
    }
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => nanos(after).unwrap_or(i64::MAX),
        Err(before) => nanos(before.duration()).map_or(i64::MIN, |n| -n),
    }
}

/// A value that is an instant in time, stored as nanoseconds since the Unix epoch.
pub(crate) trait TimeElement {
    fn unix_nanos(&self) -> i64;
}

impl TimeElement for SystemTime {
    fn unix_nanos(&self) -> i64 {
        system_time_nanos(self)
    }
}

#[cfg(feature = "chrono")]
impl<Tz: chrono::TimeZone> TimeElement for chrono::DateTime<Tz> {
    fn unix_nanos(&self) -> i64 {
        self.timestamp_nanos_opt()
            .unwrap_or(if self.timestamp() < 0 {
                i64::MIN
            } else {
                i64::MAX
            })
    }
}

#[cfg(feature = "chrono")]
impl TimeElement for chrono::NaiveDateTime {
    fn unix_nanos(&self) -> i64 {
        self.and_utc().unix_nanos()
    }
}

#[cfg(feature = "time")]
impl TimeElement for time::OffsetDateTime {
    fn unix_nanos(&self) -> i64 {
        let nanos = self.unix_timestamp_nanos();
        i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
    }
}

#[cfg(feature = "time")]
impl TimeElement for time::UtcDateTime {
    fn unix_nanos(&self) -> i64 {
        let nanos = self.unix_timestamp_nanos();
        i64::try_from(nanos).unwrap_or(if nanos < 0 { i64::MIN } else { i64::MAX })
    }
}

macro_rules! time_element {
    ($(#[$cfg:meta])* $ty:ty) => {
        $(#[$cfg])*
        impl sealed::Sealed for $ty {}
        $(#[$cfg])*
        impl FieldElement for $ty {
            const FIELD_TYPE: FieldType = FieldType::Time;

            fn iter_into_array<I: IntoIterator<Item = Self>>(values: I) -> ArrayRef {
                Arc::new(TimestampNanosecondArray::from_iter_values(
                    values.into_iter().map(|t| t.unix_nanos()),
                ))
            }

            fn options_into_array<I: IntoIterator<Item = Option<Self>>>(values: I) -> ArrayRef {
                Arc::new(
                    values
                        .into_iter()
                        .map(|t| t.map(|t| t.unix_nanos()))
                        .collect::<TimestampNanosecondArray>(),
                )
            }
        }
    };
}

time_element!(SystemTime);
time_element!(#[cfg(feature = "chrono")] chrono::DateTime<chrono::Utc>);
time_element!(#[cfg(feature = "chrono")] chrono::DateTime<chrono::FixedOffset>);
time_element!(
    #[cfg(feature = "chrono")]
    chrono::NaiveDateTime
);
time_element!(
    #[cfg(feature = "time")]
    time::OffsetDateTime
);
time_element!(
    #[cfg(feature = "time")]
    time::UtcDateTime
);

/// Writes each JSON value into a binary array.
fn json_into_array<T, I>(values: I) -> ArrayRef
where
    T: serde::Serialize,
    I: IntoIterator<Item = Option<T>>,
{
    let mut builder = BinaryBuilder::new();
    for value in values {
        match value {
            Some(value) => {
                // Serializing a `Value`/`RawValue` into memory cannot fail (no non-string keys,
                // no I/O), so an error here would be a serde_json bug; store `null` then.
                if serde_json::to_writer(&mut builder, &value).is_err() {
                    std::io::Write::write_all(&mut builder, b"null").ok();
                }
                builder.append_value(b"");
            }
            None => builder.append_null(),
        }
    }
    Arc::new(builder.finish())
}

macro_rules! json_element {
    ($($ty:ty),*) => {$(
        impl sealed::Sealed for $ty {}
        impl FieldElement for $ty {
            const FIELD_TYPE: FieldType = FieldType::Json;

            fn iter_into_array<I: IntoIterator<Item = Self>>(values: I) -> ArrayRef {
                json_into_array(values.into_iter().map(Some))
            }

            fn options_into_array<I: IntoIterator<Item = Option<Self>>>(values: I) -> ArrayRef {
                json_into_array(values)
            }
        }
    )*};
}

json_element!(serde_json::Value, Box<RawValue>, &RawValue);

/// An enum field value: an index into the field config's enum texts
/// ([`EnumFieldConfig::text`](crate::EnumFieldConfig::text)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct EnumIndex(pub u16);

impl sealed::Sealed for EnumIndex {}
impl FieldElement for EnumIndex {
    const FIELD_TYPE: FieldType = FieldType::Enum;

    fn vec_into_array(values: Vec<Self>) -> ArrayRef {
        // Same size and alignment: the standard library reuses the allocation in place.
        let indexes: Vec<u16> = values.into_iter().map(|EnumIndex(i)| i).collect();
        Arc::new(UInt16Array::new(ScalarBuffer::from(indexes), None))
    }

    fn iter_into_array<I: IntoIterator<Item = Self>>(values: I) -> ArrayRef {
        Arc::new(UInt16Array::from_iter_values(
            values.into_iter().map(|EnumIndex(i)| i),
        ))
    }

    fn options_into_array<I: IntoIterator<Item = Option<Self>>>(values: I) -> ArrayRef {
        Arc::new(
            values
                .into_iter()
                .map(|v| v.map(|EnumIndex(i)| i))
                .collect::<UInt16Array>(),
        )
    }
}

impl<T: FieldElement> From<Vec<T>> for FieldValues {
    fn from(values: Vec<T>) -> Self {
        FieldValues {
            array: T::vec_into_array(values),
            field_type: T::FIELD_TYPE,
            nullable: false,
        }
    }
}

impl<T: FieldElement> From<Vec<Option<T>>> for FieldValues {
    fn from(values: Vec<Option<T>>) -> Self {
        FieldValues {
            array: T::options_into_array(values),
            field_type: T::FIELD_TYPE,
            nullable: true,
        }
    }
}

impl<T: FieldElement + Clone> From<&[T]> for FieldValues {
    fn from(values: &[T]) -> Self {
        FieldValues {
            array: T::iter_into_array(values.iter().cloned()),
            field_type: T::FIELD_TYPE,
            nullable: false,
        }
    }
}

impl<T: FieldElement + Clone> From<&[Option<T>]> for FieldValues {
    fn from(values: &[Option<T>]) -> Self {
        FieldValues {
            array: T::options_into_array(values.iter().cloned()),
            field_type: T::FIELD_TYPE,
            nullable: true,
        }
    }
}

impl<T: FieldElement, const N: usize> From<[T; N]> for FieldValues {
    fn from(values: [T; N]) -> Self {
        FieldValues {
            array: T::iter_into_array(values),
            field_type: T::FIELD_TYPE,
            nullable: false,
        }
    }
}

impl<T: FieldElement> FromIterator<T> for FieldValues {
    fn from_iter<I: IntoIterator<Item = T>>(values: I) -> Self {
        FieldValues {
            array: T::iter_into_array(values),
            field_type: T::FIELD_TYPE,
            nullable: false,
        }
    }
}

impl<T: FieldElement> FromIterator<Option<T>> for FieldValues {
    fn from_iter<I: IntoIterator<Item = Option<T>>>(values: I) -> Self {
        FieldValues {
            array: T::options_into_array(values),
            field_type: T::FIELD_TYPE,
            nullable: true,
        }
    }
}
