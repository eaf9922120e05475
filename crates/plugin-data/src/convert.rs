//! Long ↔ wide time-series conversions, as the Go SDK's `data.LongToWide` / `data.WideToLong`.
//!
//! * **Long**: one time field, numeric value fields, and string/bool *factor* fields whose
//!   values identify the series of each row (`time, host, cpu`).
//! * **Wide**: one time field and one numeric field per series, the series identity in the
//!   field's labels (`time, cpu{host=a}, cpu{host=b}`).
//!
//! ```
//! use plugin_data::{Field, FieldValues, Frame, convert};
//!
//! let long = Frame::new("cpu")
//!     .with_field(Field::new("time", FieldValues::time_nanos(vec![1, 1, 2, 2])))
//!     .with_field(Field::new("host", vec!["a", "b", "a", "b"]))
//!     .with_field(Field::new("cpu", vec![0.1_f64, 0.2, 0.3, 0.4]));
//! let wide = convert::long_to_wide(&long, convert::FillMissing::Null)?;
//! assert_eq!(wide.fields().len(), 3); // time, cpu{host=a}, cpu{host=b}
//! assert_eq!(wide.fields()[2].labels().and_then(|l| l.get("host")), Some("b"));
//! assert_eq!(convert::wide_to_long(&wide)?.num_rows()?, 4);
//! # Ok::<(), plugin_data::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{Array, ArrayRef, StringArray, UInt32Array};

use crate::error::Error;
use crate::field::{Field, FieldType, FieldValues, Labels, normalize_array};
use crate::frame::Frame;
use crate::meta::FrameType;

/// How [`long_to_wide`] fills a wide cell whose series has no row at that time.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FillMissing {
    /// Leave a null (the default in the Go SDK).
    Null,
    /// Repeat the series' previous value (null before its first value).
    Previous,
    /// Use this value (float fields only).
    Value(f64),
}

/// Which role each field plays in a time series frame.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeSeriesSchema {
    /// Index of the time field (the first time field).
    pub time_index: usize,
    /// Indexes of numeric value fields.
    pub value_indexes: Vec<usize>,
    /// Indexes of string and bool factor fields.
    pub factor_indexes: Vec<usize>,
}

impl TimeSeriesSchema {
    /// Detects the schema of a frame; `None` when it has no time field.
    pub fn of(frame: &Frame) -> Option<Self> {
        let fields = frame.fields();
        let time_index = fields
            .iter()
            .position(|f| f.field_type() == FieldType::Time)?;
        let indexes = |pred: fn(FieldType) -> bool| -> Vec<usize> {
            (0..fields.len())
                .filter(|&i| i != time_index && pred(fields[i].field_type()))
                .collect()
        };
        Some(TimeSeriesSchema {
            time_index,
            value_indexes: indexes(FieldType::is_numeric),
            factor_indexes: indexes(|t| matches!(t, FieldType::String | FieldType::Bool)),
        })
    }

    /// Long frames have factor fields; wide frames do not.
    pub fn is_long(&self) -> bool {
        !self.factor_indexes.is_empty()
    }
}

fn conversion(message: impl Into<String>) -> Error {
    Error::Conversion(message.into())
}

/// Converts a long time series frame to wide (Go `data.LongToWide`).
///
/// Times must be non-null and ascending; rows with equal times form one wide row. Wide fields
/// are ordered by name then labels and are nullable.
///
/// # Errors
///
/// [`Error::Conversion`] when the frame has no time field, no factors, unsorted or null times,
/// or [`FillMissing::Value`] is used with a non-float field.
pub fn long_to_wide(frame: &Frame, fill: FillMissing) -> Result<Frame, Error> {
    let rows = frame.num_rows()?;
    let schema =
        TimeSeriesSchema::of(frame).ok_or_else(|| conversion("frame has no time field"))?;
    if !schema.is_long() {
        return Err(conversion(
            "frame has no string or bool factor fields: it is not long",
        ));
    }
    let fields = frame.fields();
    let times = fields[schema.time_index]
        .array()
        .as_primitive::<TimestampNanosecondType>();
    if times.null_count() > 0 {
        return Err(conversion("time field has nulls"));
    }

    // One wide row per distinct time, in order.
    let mut time_rows: Vec<u32> = Vec::new();
    let mut row_to_wide = Vec::with_capacity(rows);
    for row in 0..rows {
        let is_new = match time_rows.last() {
            None => true,
            Some(&last) => {
                let (previous, current) = (times.value(last as usize), times.value(row));
                if current < previous {
                    return Err(conversion("times are not ascending"));
                }
                current != previous
            }
        };
        if is_new {
            time_rows.push(u32::try_from(row).map_err(|_| conversion("too many rows"))?);
        }
        row_to_wide.push(time_rows.len() - 1);
    }

    // For each (value field, factor values): the long row feeding each wide row.
    let mut series: HashMap<(usize, Vec<String>), Vec<Option<u32>>> = HashMap::new();
    for (row, &wide_row) in row_to_wide.iter().enumerate() {
        let factors: Vec<String> = schema
            .factor_indexes
            .iter()
            .map(|&i| {
                fields[i]
                    .get(row)
                    .map(|v| {
                        if v.is_null() {
                            String::new()
                        } else {
                            v.to_string()
                        }
                    })
                    .unwrap_or_default()
            })
            .collect();
        for &value_index in &schema.value_indexes {
            let sources = series
                .entry((value_index, factors.clone()))
                .or_insert_with(|| vec![None; time_rows.len()]);
            sources[wide_row] = u32::try_from(row).ok();
        }
    }

    let time_take = UInt32Array::from(time_rows);
    let time_field = &fields[schema.time_index];
    let mut wide = Frame::new(frame.name()).with_ref_id(frame.ref_id());
    if let Some(meta) = frame.meta() {
        let mut meta = meta.clone();
        if meta.frame_type == Some(FrameType::TimeseriesLong) {
            meta.frame_type = Some(FrameType::TimeseriesWide);
        }
        wide.set_meta(meta);
    }
    let time_values = arrow_select::take::take(time_field.array().as_ref(), &time_take, None)?;
    wide.push_field(time_field.clone().with_values_array(time_values, false)?);

    let mut columns: Vec<Field> = Vec::with_capacity(series.len());
    for ((value_index, factors), mut sources) in series {
        let source = &fields[value_index];
        if fill == FillMissing::Previous {
            for i in 1..sources.len() {
                if sources[i].is_none() {
                    sources[i] = sources[i - 1];
                }
            }
        }
        let values =
            arrow_select::take::take(source.array().as_ref(), &UInt32Array::from(sources), None)?;
        let values = match fill {
            FillMissing::Value(fill_value) => fill_nulls(values, fill_value)?,
            _ => values,
        };
        let mut labels = source.labels().cloned().unwrap_or_default();
        for (&factor_index, value) in schema.factor_indexes.iter().zip(factors) {
            labels.insert(fields[factor_index].name(), value);
        }
        let mut column = source.clone().with_values_array(values, true)?;
        column.set_labels(Some(labels));
        columns.push(column);
    }
    columns.sort_by(|a, b| {
        (a.name(), a.labels().map(ToString::to_string))
            .cmp(&(b.name(), b.labels().map(ToString::to_string)))
    });
    Ok(wide.with_fields(columns))
}

fn fill_nulls(values: ArrayRef, fill_value: f64) -> Result<ArrayRef, Error> {
    use arrow_array::types::{Float32Type, Float64Type};
    Ok(match values.data_type() {
        arrow_schema::DataType::Float64 => Arc::new(
            values
                .as_primitive::<Float64Type>()
                .iter()
                .map(|v| Some(v.unwrap_or(fill_value)))
                .collect::<arrow_array::Float64Array>(),
        ),
        arrow_schema::DataType::Float32 => Arc::new(
            values
                .as_primitive::<Float32Type>()
                .iter()
                .map(|v| Some(v.unwrap_or(fill_value as f32)))
                .collect::<arrow_array::Float32Array>(),
        ),
        other => {
            return Err(conversion(format!(
                "cannot fill {other} values with a float"
            )));
        }
    })
}

/// Converts a wide time series frame to long (Go `data.WideToLong`).
///
/// Value fields with the same name become one long field; each distinct label key becomes a
/// string factor field (sorted), and each (time, label set) pair becomes a row.
///
/// # Errors
///
/// [`Error::Conversion`] when the frame has no time field, has factor fields already, or value
/// fields sharing a name have different types.
pub fn wide_to_long(frame: &Frame) -> Result<Frame, Error> {
    let rows = frame.num_rows()?;
    let schema =
        TimeSeriesSchema::of(frame).ok_or_else(|| conversion("frame has no time field"))?;
    if schema.is_long() {
        return Err(conversion(
            "frame has string or bool fields: it is not wide",
        ));
    }
    let fields = frame.fields();
    let empty = Labels::new();
    let labels_of = |i: usize| fields[i].labels().unwrap_or(&empty);

    let value_names: BTreeSet<&str> = schema
        .value_indexes
        .iter()
        .map(|&i| fields[i].name())
        .collect();
    let factor_names: BTreeSet<&str> = schema
        .value_indexes
        .iter()
        .flat_map(|&i| labels_of(i).iter().map(|(k, _)| k))
        .collect();
    let label_sets: BTreeSet<&Labels> =
        schema.value_indexes.iter().map(|&i| labels_of(i)).collect();
    let mut by_series: BTreeMap<(&str, &Labels), usize> = BTreeMap::new();
    for &i in &schema.value_indexes {
        by_series
            .entry((fields[i].name(), labels_of(i)))
            .or_insert(i);
    }

    let long_rows = rows * label_sets.len();
    let mut time_take: Vec<u32> = Vec::with_capacity(long_rows);
    for row in 0..rows {
        let row = u32::try_from(row).map_err(|_| conversion("too many rows"))?;
        time_take.extend(std::iter::repeat_n(row, label_sets.len()));
    }
    let time_field = &fields[schema.time_index];
    let time_values = arrow_select::take::take(
        time_field.array().as_ref(),
        &UInt32Array::from(time_take),
        None,
    )?;
    let mut long = Frame::new(frame.name()).with_ref_id(frame.ref_id());
    if let Some(meta) = frame.meta() {
        let mut meta = meta.clone();
        if meta.frame_type == Some(FrameType::TimeseriesWide) {
            meta.frame_type = Some(FrameType::TimeseriesLong);
        }
        long.set_meta(meta);
    }
    long.push_field(time_field.clone().with_values_array(time_values, false)?);

    for name in &value_names {
        let sources: Vec<Option<usize>> = label_sets
            .iter()
            .map(|labels| by_series.get(&(*name, *labels)).copied())
            .collect();
        let template = sources
            .iter()
            .flatten()
            .next()
            .map(|&i| &fields[i])
            .ok_or_else(|| conversion("no source"))?;
        if sources
            .iter()
            .flatten()
            .any(|&i| fields[i].field_type() != template.field_type())
        {
            return Err(conversion(format!(
                "fields named {name:?} have different types"
            )));
        }
        // Interleave from the series' arrays, with an all-null array for missing series.
        let null_source = arrow_array::new_null_array(template.array().data_type(), 1);
        let mut arrays: Vec<&dyn Array> = sources
            .iter()
            .flatten()
            .map(|&i| fields[i].array().as_ref())
            .collect();
        let null_slot = arrays.len();
        arrays.push(null_source.as_ref());
        let mut slot_of = Vec::with_capacity(sources.len());
        let mut next = 0;
        for source in &sources {
            slot_of.push(source.map(|_| {
                next += 1;
                next - 1
            }));
        }
        let mut picks = Vec::with_capacity(long_rows);
        for row in 0..rows {
            for slot in &slot_of {
                picks.push(slot.map_or((null_slot, 0), |s| (s, row)));
            }
        }
        let values = arrow_select::interleave::interleave(&arrays, &picks)?;
        let nullable = values.null_count() > 0 || template.is_nullable();
        let mut field = Field::new(
            *name,
            FieldValues::try_from_array(values)?.with_nullable(nullable)?,
        );
        field.set_config(template.config().cloned());
        long.push_field(field);
    }
    for key in &factor_names {
        let column: StringArray = (0..rows)
            .flat_map(|_| {
                label_sets
                    .iter()
                    .map(|labels| Some(labels.get(key).unwrap_or("").to_owned()))
            })
            .collect();
        long.push_field(Field::new(*key, column));
    }
    Ok(long)
}

impl Field {
    /// This field (name, labels, config) with other values of the same Arrow type.
    fn with_values_array(self, array: ArrayRef, nullable: bool) -> Result<Field, Error> {
        let enum_hint = self.field_type() == FieldType::Enum;
        let (array, field_type) = normalize_array(array, enum_hint)?;
        let nullable = nullable || array.null_count() > 0;
        let mut field = self;
        field.set_values(FieldValues {
            array,
            field_type,
            nullable,
        });
        Ok(field)
    }
}
