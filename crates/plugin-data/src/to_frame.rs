//! [`ToFrame`]: a frame from a list of structs, one field per struct field (the Go SDK's
//! `data/framestruct` idea, checked at compile time).
//!
//! Derive it with `#[derive(ToFrame)]` (feature `derive`), or implement it by hand with
//! [`ToFrameColumn`] collectors. Each column is collected into a `Vec<T>` (numbers, times) or an
//! arrow-rs builder (booleans, strings) while the rows are walked once, then moved into its
//! Arrow array: no value is copied after it is read from the struct.
//!
//! Column types: `i8`–`i64`, `u8`–`u64`, `f32`, `f64`, `bool`, `String`, `&str`, `Cow<str>`,
//! [`SystemTime`], [`EnumIndex`], and with the `chrono` feature `chrono::DateTime<Utc>`,
//! `DateTime<FixedOffset>` and `NaiveDateTime` (as UTC), with the `time` feature
//! `time::OffsetDateTime` and `UtcDateTime`. `Option<T>` of any of them is the nullable field.
//!
//! # The derive's attributes
//!
//! | attribute | on | effect |
//! |---|---|---|
//! | `#[frame(rename = "name")]` | field | the field's name in the frame (framestruct's tag name) |
//! | `#[frame(skip)]` | field | no field for it (framestruct's `frame:"-"`) |
//! | `#[frame(labels = "k=v,k2=v2")]` | field | labels on the field |
//! | `#[frame(col0)]` | field | make it the first field (framestruct's `col0`) |
//! | `#[frame(rename_all = "camelCase")]` | struct | `lowercase`, `UPPERCASE`, `PascalCase`, `camelCase`, `snake_case`, `SCREAMING_SNAKE_CASE`, `kebab-case`, `SCREAMING-KEBAB-CASE`, as serde |
//! | `#[frame(crate = "path")]` | struct | where `plugin_data` is, when it is re-exported |
//!
//! Unlike framestruct, fields are nullable only when they are `Option`s, and nested structs are
//! not flattened.
#![cfg_attr(
    feature = "derive",
    doc = r##"
```
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use plugin_data::{CellValue, ToFrame};

#[derive(ToFrame)]
#[frame(rename_all = "camelCase")]
struct Reading {
    #[frame(col0)]
    taken_at: SystemTime,
    #[frame(labels = "room=kitchen")]
    temperature: f64,
    note: Option<String>,
    #[frame(skip)]
    _internal: u8,
}

let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
let readings = vec![
    Reading { taken_at: start, temperature: 21.5, note: None, _internal: 0 },
    Reading { taken_at: start + Duration::from_secs(60), temperature: 22.0, note: Some("door open".into()), _internal: 0 },
];
let frame = Reading::to_frame("readings", &readings)?;
let names: Vec<&str> = frame.fields().iter().map(|f| f.name()).collect();
assert_eq!(names, ["takenAt", "temperature", "note"]);
assert!(frame.fields()[2].is_nullable());
assert_eq!(frame.fields()[1].labels().and_then(|l| l.get("room")), Some("kitchen"));
assert_eq!(frame.fields()[2].get(1), Some(CellValue::String("door open")));
# Ok::<(), plugin_data::Error>(())
```

Unsupported field types are compile errors that name the type
("`Vec<f64>` cannot be a frame field"):

```compile_fail,E0277
use plugin_data::ToFrame;

#[derive(ToFrame)]
struct Bad {
    values: Vec<f64>, // a list is not a column type
}
```

So are unknown attributes and malformed labels:

```compile_fail
use plugin_data::ToFrame;

#[derive(ToFrame)]
struct Bad {
    #[frame(labels = "no-equals-sign")]
    value: f64,
}
```

```compile_fail
use plugin_data::ToFrame;

#[derive(ToFrame)]
enum NotAStruct { A, B }
```
"##
)]

use std::borrow::{Borrow, Cow};
use std::sync::Arc;
use std::time::SystemTime;

use arrow_array::builder::StringBuilder;
use arrow_array::types::{
    Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, TimestampNanosecondType,
    UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{ArrowPrimitiveType, BooleanArray, PrimitiveArray};
use arrow_buffer::{BooleanBufferBuilder, NullBuffer, ScalarBuffer};

use crate::error::Error;
use crate::field::{EnumIndex, FieldType, FieldValues, TimeElement};
use crate::frame::Frame;

/// A type whose values become a frame, one row per value and one field per struct field.
///
/// Derive it (feature `derive`) rather than implementing it; see the [module docs](self).
pub trait ToFrame: Sized {
    /// Builds a frame named `name` from the rows, in order. `rows` may yield values or
    /// references (`Vec<T>`, `&[T]`, `&Vec<T>`, any iterator).
    ///
    /// # Errors
    ///
    /// [`Error::ValuesTooLarge`] when the strings of one field total more than 2 GiB.
    fn to_frame<I>(name: impl Into<String>, rows: I) -> Result<Frame, Error>
    where
        I: IntoIterator,
        I::Item: Borrow<Self>;
}

mod sealed {
    // The same message on every trait the derive's bound goes through, so the error a user
    // sees names the column type whichever trait the compiler reports.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be a frame field",
        label = "not a frame column type",
        note = "frame columns are i8-i64, u8-u64, f32, f64, bool, String, &str, Cow<str>, SystemTime, EnumIndex, chrono/time date-times (features), or an Option of one; mark other fields #[frame(skip)]"
    )]
    pub trait Sealed {}
}

/// A Rust type that can be a frame column: the element types listed in the
/// [module docs](self), and `Option`s of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a frame field",
    label = "not a frame column type",
    note = "frame columns are i8-i64, u8-u64, f32, f64, bool, String, &str, Cow<str>, SystemTime, EnumIndex, chrono/time date-times (features), or an Option of one; mark other fields #[frame(skip)]"
)]
pub trait ToFrameColumn: sealed::Sealed {
    /// Collects values of this type into Arrow buffers.
    #[doc(hidden)]
    type Collector: ColumnCollector<Self>;

    /// A collector with room for `capacity` rows.
    #[doc(hidden)]
    fn collector(capacity: usize) -> Self::Collector;
}

/// Collects one column's values, then hands them over as [`FieldValues`] without a copy.
#[doc(hidden)]
pub trait ColumnCollector<T: ?Sized> {
    /// Appends one value.
    fn push(&mut self, value: &T);

    /// The collected values; `field` is the field's index, for errors.
    ///
    /// # Errors
    ///
    /// [`Error::ValuesTooLarge`] when strings overflow Arrow's 32-bit offsets.
    fn finish(self, field: usize) -> Result<FieldValues, Error>;
}

/// A collector that can also take nulls, behind `Option<T>` columns.
#[doc(hidden)]
pub trait NullableCollector<T: ?Sized>: ColumnCollector<T> {
    /// A collector that keeps validity bits.
    fn nullable(capacity: usize) -> Self;
    /// Appends a null.
    fn push_null(&mut self);
}

/// The element types (not `Option`s).
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a frame field",
    label = "not a frame column type",
    note = "frame columns are i8-i64, u8-u64, f32, f64, bool, String, &str, Cow<str>, SystemTime, EnumIndex, chrono/time date-times (features), or an Option of one; mark other fields #[frame(skip)]"
)]
pub trait ColumnElement: sealed::Sealed {
    /// The collector of this element type.
    type Collector: NullableCollector<Self>;
    /// A non-nullable collector.
    fn collector(capacity: usize) -> Self::Collector;
}

impl<T: ColumnElement> sealed::Sealed for Option<T> {}

impl<T: ColumnElement> ToFrameColumn for T {
    type Collector = <T as ColumnElement>::Collector;

    fn collector(capacity: usize) -> Self::Collector {
        <T as ColumnElement>::collector(capacity)
    }
}

impl<T: ColumnElement> ToFrameColumn for Option<T> {
    type Collector = OptionCollector<<T as ColumnElement>::Collector>;

    fn collector(capacity: usize) -> Self::Collector {
        OptionCollector(NullableCollector::nullable(capacity))
    }
}

/// Collects `Option<T>` through the nullable collector of `T`.
#[doc(hidden)]
#[derive(Debug)]
pub struct OptionCollector<C>(C);

impl<T: ColumnElement> ColumnCollector<Option<T>> for OptionCollector<T::Collector> {
    #[inline]
    fn push(&mut self, value: &Option<T>) {
        match value {
            Some(value) => self.0.push(value),
            None => self.0.push_null(),
        }
    }

    fn finish(self, field: usize) -> Result<FieldValues, Error> {
        self.0.finish(field)
    }
}

/// Numbers, times and enums: a `Vec` of Arrow natives (and validity bits when nullable).
#[doc(hidden)]
#[derive(Debug)]
pub struct PrimitiveCollector<A: ArrowPrimitiveType> {
    values: Vec<A::Native>,
    validity: Option<BooleanBufferBuilder>,
    field_type: FieldType,
}

impl<A: ArrowPrimitiveType> PrimitiveCollector<A> {
    fn new(capacity: usize, field_type: FieldType, nullable: bool) -> Self {
        PrimitiveCollector {
            values: Vec::with_capacity(capacity),
            validity: nullable.then(|| BooleanBufferBuilder::new(capacity)),
            field_type,
        }
    }

    #[inline]
    fn push_native(&mut self, value: A::Native) {
        self.values.push(value);
        if let Some(validity) = &mut self.validity {
            validity.append(true);
        }
    }

    fn push_null_native(&mut self) {
        self.values.push(A::Native::default());
        if let Some(validity) = &mut self.validity {
            validity.append(false);
        }
    }

    fn finish_values(self) -> FieldValues {
        let nullable = self.validity.is_some();
        let nulls = self.validity.map(|mut bits| NullBuffer::new(bits.finish()));
        // `ScalarBuffer::from(Vec)` takes the allocation over: no copy.
        let array = PrimitiveArray::<A>::new(ScalarBuffer::from(self.values), nulls);
        FieldValues {
            array: Arc::new(array),
            field_type: self.field_type,
            nullable,
        }
    }
}

macro_rules! primitive_column {
    ($($native:ty => $arrow:ty, $variant:ident, |$v:ident| $to_native:expr;)*) => {$(
        impl sealed::Sealed for $native {}
        impl ColumnElement for $native {
            type Collector = PrimitiveCollector<$arrow>;

            fn collector(capacity: usize) -> Self::Collector {
                PrimitiveCollector::new(capacity, FieldType::$variant, false)
            }
        }
        impl ColumnCollector<$native> for PrimitiveCollector<$arrow> {
            #[inline]
            fn push(&mut self, $v: &$native) {
                self.push_native($to_native);
            }

            fn finish(self, _field: usize) -> Result<FieldValues, Error> {
                Ok(self.finish_values())
            }
        }
        impl NullableCollector<$native> for PrimitiveCollector<$arrow> {
            fn nullable(capacity: usize) -> Self {
                PrimitiveCollector::new(capacity, FieldType::$variant, true)
            }

            fn push_null(&mut self) {
                self.push_null_native();
            }
        }
    )*};
}

primitive_column! {
    i8 => Int8Type, Int8, |v| *v;
    i16 => Int16Type, Int16, |v| *v;
    i32 => Int32Type, Int32, |v| *v;
    i64 => Int64Type, Int64, |v| *v;
    u8 => UInt8Type, UInt8, |v| *v;
    u16 => UInt16Type, UInt16, |v| *v;
    u32 => UInt32Type, UInt32, |v| *v;
    u64 => UInt64Type, UInt64, |v| *v;
    f32 => Float32Type, Float32, |v| *v;
    f64 => Float64Type, Float64, |v| *v;
    EnumIndex => UInt16Type, Enum, |v| v.0;
    SystemTime => TimestampNanosecondType, Time, |v| v.unix_nanos();
}

#[cfg(feature = "chrono")]
primitive_column! {
    chrono::DateTime<chrono::Utc> => TimestampNanosecondType, Time, |v| v.unix_nanos();
    chrono::DateTime<chrono::FixedOffset> => TimestampNanosecondType, Time, |v| v.unix_nanos();
    chrono::NaiveDateTime => TimestampNanosecondType, Time, |v| v.unix_nanos();
}

#[cfg(feature = "time")]
primitive_column! {
    time::OffsetDateTime => TimestampNanosecondType, Time, |v| v.unix_nanos();
    time::UtcDateTime => TimestampNanosecondType, Time, |v| v.unix_nanos();
}

/// Booleans: bit-packed values (and validity bits when nullable).
#[doc(hidden)]
#[derive(Debug)]
pub struct BoolCollector {
    values: BooleanBufferBuilder,
    validity: Option<BooleanBufferBuilder>,
}

impl sealed::Sealed for bool {}
impl ColumnElement for bool {
    type Collector = BoolCollector;

    fn collector(capacity: usize) -> Self::Collector {
        BoolCollector {
            values: BooleanBufferBuilder::new(capacity),
            validity: None,
        }
    }
}

impl ColumnCollector<bool> for BoolCollector {
    #[inline]
    fn push(&mut self, value: &bool) {
        self.values.append(*value);
        if let Some(validity) = &mut self.validity {
            validity.append(true);
        }
    }

    fn finish(mut self, _field: usize) -> Result<FieldValues, Error> {
        let nullable = self.validity.is_some();
        let nulls = self.validity.map(|mut bits| NullBuffer::new(bits.finish()));
        Ok(FieldValues {
            array: Arc::new(BooleanArray::new(self.values.finish(), nulls)),
            field_type: FieldType::Bool,
            nullable,
        })
    }
}

impl NullableCollector<bool> for BoolCollector {
    fn nullable(capacity: usize) -> Self {
        BoolCollector {
            values: BooleanBufferBuilder::new(capacity),
            validity: Some(BooleanBufferBuilder::new(capacity)),
        }
    }

    fn push_null(&mut self) {
        self.values.append(false);
        if let Some(validity) = &mut self.validity {
            validity.append(false);
        }
    }
}

/// Strings: written straight into Arrow's offset and data buffers.
#[doc(hidden)]
#[derive(Debug)]
pub struct StringCollector {
    builder: StringBuilder,
    bytes: usize,
    nullable: bool,
}

impl StringCollector {
    fn new(capacity: usize, nullable: bool) -> Self {
        StringCollector {
            // A guess at the data size; the builder grows geometrically past it.
            builder: StringBuilder::with_capacity(capacity, capacity.saturating_mul(8)),
            bytes: 0,
            nullable,
        }
    }

    #[inline]
    fn push_str(&mut self, value: &str) {
        self.bytes = self.bytes.saturating_add(value.len());
        if self.bytes <= i32::MAX as usize {
            self.builder.append_value(value);
        } else {
            // Past Arrow's 32-bit offsets: `finish` reports it instead of the builder panicking.
            self.builder.append_null();
        }
    }
}

macro_rules! string_column {
    ($($(#[$lt:lifetime])? $ty:ty),*) => {$(
        impl$(<$lt>)? sealed::Sealed for $ty {}
        impl$(<$lt>)? ColumnElement for $ty {
            type Collector = StringCollector;

            fn collector(capacity: usize) -> Self::Collector {
                StringCollector::new(capacity, false)
            }
        }
        impl$(<$lt>)? ColumnCollector<$ty> for StringCollector {
            #[inline]
            fn push(&mut self, value: &$ty) {
                self.push_str(value);
            }

            fn finish(mut self, field: usize) -> Result<FieldValues, Error> {
                if self.bytes > i32::MAX as usize {
                    return Err(Error::ValuesTooLarge(field));
                }
                Ok(FieldValues {
                    array: Arc::new(self.builder.finish()),
                    field_type: FieldType::String,
                    nullable: self.nullable,
                })
            }
        }
        impl$(<$lt>)? NullableCollector<$ty> for StringCollector {
            fn nullable(capacity: usize) -> Self {
                StringCollector::new(capacity, true)
            }

            fn push_null(&mut self) {
                self.builder.append_null();
            }
        }
    )*};
}

string_column!(String, #['a] &'a str, #['a] Cow<'a, str>);
