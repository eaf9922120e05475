//! Long ↔ wide time-series conversions, with the Go SDK's rules (`data/time_series.go`:
//! `LongToWide`, `LongToWideWithLimit`, `WideToLong`, `SortWideFrameFields`, `TimeSeriesSchema`).
//!
//! * **Long**: a time field, value fields, and string/bool *factor* fields whose values name
//!   the series of each row (`time, host, cpu`).
//! * **Wide**: a time field and one value field per series, the series in the field's labels
//!   (`time, cpu{host=a}, cpu{host=b}`).
//!
//! As in Go: the first time field is the time index; every other field that is not a string or
//! bool is a value field (numbers, but also other times, JSON and enums); the results carry the
//! input's name and meta (with `type` set, and `typeVersion` `[0, 1]` for wide frames) but not its
//! `refId`; output fields carry no config, and wide fields' labels come from the factors only.
//!
//! ```
//! use plugin_data::{Field, FieldValues, Frame, FrameType, convert};
//!
//! let long = Frame::new("cpu")
//!     .with_field(Field::new("time", FieldValues::time_nanos(vec![1, 1, 2, 2])))
//!     .with_field(Field::new("host", vec!["a", "b", "a", "b"]))
//!     .with_field(Field::new("cpu", vec![0.1_f64, 0.2, 0.3, 0.4]));
//! let wide = convert::long_to_wide(&long, None)?;
//! assert_eq!(wide.fields().len(), 3); // time, cpu{host=a}, cpu{host=b}
//! assert_eq!(wide.fields()[2].labels().and_then(|l| l.get("host")), Some("b"));
//! assert_eq!(wide.meta().and_then(|m| m.frame_type.clone()), Some(FrameType::TimeseriesWide));
//! assert_eq!(convert::wide_to_long(&wide)?.num_rows()?, 4);
//! # Ok::<(), plugin_data::Error>(())
//! ```

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampNanosecondType;
use arrow_array::{Array, ArrayRef, StringArray, UInt32Array};

use crate::builder::{FieldSpec, repeated_array};
use crate::error::Error;
use crate::field::{CellValue, Field, FieldType, FieldValues, Labels};
use crate::frame::Frame;
use crate::meta::{FrameMeta, FrameType, FrameTypeVersion};

/// How [`long_to_wide`] fills a wide cell whose series has no row at that time (Go
/// `data.FillMissing`). Without one (`None`), the cell holds the type's zero value, or null when
/// the long field is nullable.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FillMissing {
    /// A null; wide fields become nullable (Go `FillModeNull`).
    Null,
    /// The series' previous value, null before its first; wide fields become nullable (Go
    /// `FillModePrevious`).
    Previous,
    /// This value, converted to each numeric field's type as Go converts (truncating towards
    /// zero; out-of-range values saturate); fields keep the long field's nullability. Non-numeric
    /// value fields get their zero value (Go `FillModeValue`).
    Value(f64),
}

/// Which kind of time series a frame is (Go `data.TimeSeriesType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeSeriesType {
    /// No time field, or no value field.
    Not,
    /// A time field, value fields and at least one string or bool factor field.
    Long,
    /// A time field and value fields, no string or bool fields.
    Wide,
}

impl fmt::Display for TimeSeriesType {
    /// Go's `TimeSeriesType.String()`: `not`, `long`, `wide`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeSeriesType::Not => "not",
            TimeSeriesType::Long => "long",
            TimeSeriesType::Wide => "wide",
        })
    }
}

/// Which role each field plays in a time series frame (Go `Frame.TimeSeriesSchema()`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeSeriesSchema {
    /// Index of the time index: the first time field.
    pub time_index: usize,
    /// Whether the time index is nullable.
    pub time_is_nullable: bool,
    /// Indexes of value fields: every field but the time index and the factors.
    pub value_indexes: Vec<usize>,
    /// Indexes of string and bool factor fields.
    pub factor_indexes: Vec<usize>,
}

impl TimeSeriesSchema {
    /// The roles of a frame's fields; `None` when it has no time field.
    pub fn of(frame: &Frame) -> Option<Self> {
        let fields = frame.fields();
        let time_index = fields
            .iter()
            .position(|f| f.field_type() == FieldType::Time)?;
        let (factor_indexes, value_indexes) = (0..fields.len())
            .filter(|&i| i != time_index)
            .partition(|&i| matches!(fields[i].field_type(), FieldType::String | FieldType::Bool));
        Some(TimeSeriesSchema {
            time_index,
            time_is_nullable: fields[time_index].is_nullable(),
            value_indexes,
            factor_indexes,
        })
    }

    /// The kind of time series these roles make.
    pub fn series_type(&self) -> TimeSeriesType {
        if self.value_indexes.is_empty() {
            TimeSeriesType::Not
        } else if self.factor_indexes.is_empty() {
            TimeSeriesType::Wide
        } else {
            TimeSeriesType::Long
        }
    }

    /// Whether the frame is a long time series.
    pub fn is_long(&self) -> bool {
        self.series_type() == TimeSeriesType::Long
    }
}

/// The kind of time series a frame is (Go `Frame.TimeSeriesSchema().Type`).
pub fn time_series_type(frame: &Frame) -> TimeSeriesType {
    TimeSeriesSchema::of(frame).map_or(TimeSeriesType::Not, |s| s.series_type())
}

fn conversion(message: impl Into<String>) -> Error {
    Error::Conversion(message.into())
}

// The Go SDK's error texts (`data/time_series_errors.go`), which Grafana users see.
const NULL_TIME_VALUES: &str = "unable to process the data to wide series because input has null time values, make sure all time values are not null";
const SERIES_UNSORTED: &str = "unable to process the data because it is not sorted in ascending order by time, please updated your query to sort the data by time if possible";
const NO_ROWS_LONG: &str = "can not convert to long series, input fields have no rows";
const NO_ROWS_WIDE: &str = "can not convert to wide series, input fields have no rows";
const WIDE_FRAME_TOO_LARGE: &str = "unable to convert the data to wide series because the result is too large, add filters or aggregation to the query to reduce the number of timestamps or series";

/// Converts a long time series frame to wide (Go `data.LongToWide`).
///
/// Times must be non-null and ascending; rows with equal times form one wide row. Each
/// combination of factor values makes one wide field per value field, labelled with the factor
/// names and values (`true`/`false` for bools, `""` for nulls); fields are then ordered by
/// [`sort_wide_frame_fields`] with the factor names as keys.
///
/// # Errors
///
/// [`Error::Conversion`] with the Go SDK's message when the frame is not a long series, has no
/// rows, has null or unsorted times, or two factor fields share a name.
pub fn long_to_wide(frame: &Frame, fill: impl Into<Option<FillMissing>>) -> Result<Frame, Error> {
    long_to_wide_with_limit(frame, fill, 0)
}

/// [`long_to_wide`] with a ceiling on the wide frame's size in cells (rows × fields); `0`
/// means no ceiling (Go `data.LongToWideWithLimit`). The conversion stops as soon as the frame
/// would grow past it.
///
/// # Errors
///
/// As [`long_to_wide`], and [`Error::Conversion`] with Go's `ErrorWideFrameTooLarge` message.
pub fn long_to_wide_with_limit(
    frame: &Frame,
    fill: impl Into<Option<FillMissing>>,
    cell_limit: usize,
) -> Result<Frame, Error> {
    let fill = fill.into();
    let schema = TimeSeriesSchema::of(frame);
    let series_type = schema
        .as_ref()
        .map_or(TimeSeriesType::Not, TimeSeriesSchema::series_type);
    let Some(schema) = schema.filter(|_| series_type == TimeSeriesType::Long) else {
        return Err(conversion(format!(
            "can not convert to wide series, expected long format series input but got {series_type} series"
        )));
    };
    let rows = frame.num_rows()?;
    if rows == 0 {
        return Err(conversion(NO_ROWS_WIDE));
    }
    let fields = frame.fields();
    let factor_names: Vec<&str> = schema
        .factor_indexes
        .iter()
        .map(|&i| fields[i].name())
        .collect();
    if let Some(name) = factor_names
        .iter()
        .enumerate()
        .find_map(|(i, n)| factor_names[..i].contains(n).then_some(n))
    {
        return Err(conversion(format!("duplicate key '{name}' in labels")));
    }
    let times = fields[schema.time_index]
        .array()
        .as_primitive::<TimestampNanosecondType>();
    let factors: Vec<Vec<String>> = schema
        .factor_indexes
        .iter()
        .map(|&i| factor_strings(&fields[i]))
        .collect();

    // One pass over the long rows: wide rows (distinct times) and, per series (factor values,
    // in order of first appearance), the long row that feeds each wide row it has.
    let mut wide_times: Vec<i64> = Vec::new();
    let mut series_of: HashMap<Vec<&str>, usize> = HashMap::new();
    let mut series: Vec<Series<'_>> = Vec::new();
    let values_per_series = schema.value_indexes.len();
    for row in 0..rows {
        if times.is_null(row) {
            return Err(conversion(NULL_TIME_VALUES));
        }
        let time = times.value(row);
        match wide_times.last() {
            Some(&last) if time < last => return Err(conversion(SERIES_UNSORTED)),
            Some(&last) if time == last => {}
            _ => wide_times.push(time),
        }
        let wide_row = wide_times.len() - 1;
        let key: Vec<&str> = factors.iter().map(|f| f[row].as_str()).collect();
        let index = match series_of.get(&key) {
            Some(&index) => index,
            None => {
                series.push(Series {
                    factors: key.clone(),
                    rows: Vec::new(),
                });
                series_of.insert(key, series.len() - 1);
                series.len() - 1
            }
        };
        series[index].set(wide_row, row)?;
        if cell_limit > 0 {
            let cells_per_row = 1 + series.len() * values_per_series;
            if cells_per_row > cell_limit / wide_times.len() {
                return Err(conversion(format!(
                    "{WIDE_FRAME_TOO_LARGE}: {} rows and {cells_per_row} fields exceed the limit of {cell_limit} cells",
                    wide_times.len()
                )));
            }
        }
    }

    let mut wide = Frame::new(frame.name());
    let time_field = &fields[schema.time_index];
    wide.push_field(Field::new(
        time_field.name(),
        FieldValues::time_nanos(wide_times.clone()),
    ));
    let wide_rows = wide_times.len();
    // Per value field: the long values followed by the one value missing cells take.
    let sources: Vec<(FieldSpec, ArrayRef, u32)> = schema
        .value_indexes
        .iter()
        .map(|&i| value_source(&fields[i], fill))
        .collect::<Result<_, _>>()?;
    for s in &series {
        let labels: Labels = factor_names
            .iter()
            .zip(&s.factors)
            .map(|(k, v)| (*k, *v))
            .collect();
        let picks = s.picks(wide_rows, fill == Some(FillMissing::Previous));
        for (&value_index, (spec, source, missing)) in schema.value_indexes.iter().zip(&sources) {
            let take = UInt32Array::from_iter_values(picks.iter().map(|p| p.unwrap_or(*missing)));
            let array = arrow_select::take::take(source.as_ref(), &take, None)?;
            let field = Field::new(
                fields[value_index].name(),
                FieldValues {
                    array,
                    field_type: spec.field_type(),
                    nullable: spec.is_nullable(),
                },
            )
            .with_labels(labels.clone());
            wide.push_field(field);
        }
    }
    sort_wide_frame_fields(&mut wide, &factor_names)?;

    let mut meta = frame.meta().cloned().unwrap_or_default();
    meta.frame_type = Some(FrameType::TimeseriesWide);
    // A type version above [0, 0] says the frame follows the dataplane contract.
    meta.type_version = FrameTypeVersion(0, 1);
    wide.set_meta(meta);
    Ok(wide)
}

/// A series of a long frame: its factor values and `(wide row, long row)` pairs in order.
struct Series<'a> {
    factors: Vec<&'a str>,
    rows: Vec<(u32, u32)>,
}

impl Series<'_> {
    fn set(&mut self, wide_row: usize, long_row: usize) -> Result<(), Error> {
        let too_many = || conversion("too many rows for one frame");
        let wide_row = u32::try_from(wide_row).map_err(|_| too_many())?;
        let long_row = u32::try_from(long_row).map_err(|_| too_many())?;
        match self.rows.last_mut() {
            // Two long rows of one series at one time: the later wins, as in Go.
            Some(last) if last.0 == wide_row => last.1 = long_row,
            _ => self.rows.push((wide_row, long_row)),
        }
        Ok(())
    }

    /// The long row for each wide row, `None` where the series has none (carried forward from
    /// the previous wide row with `previous`).
    fn picks(&self, wide_rows: usize, previous: bool) -> Vec<Option<u32>> {
        let mut picks = vec![None; wide_rows];
        for &(wide_row, long_row) in &self.rows {
            picks[wide_row as usize] = Some(long_row);
        }
        if previous {
            for i in 1..picks.len() {
                if picks[i].is_none() {
                    picks[i] = picks[i - 1];
                }
            }
        }
        picks
    }
}

/// A factor field's values as label values: strings as they are, bools as `true`/`false`,
/// nulls as the zero value (`""`, `false`), as Go's `ConcreteAt` gives them.
fn factor_strings(field: &Field) -> Vec<String> {
    field
        .iter()
        .map(|v| match v {
            CellValue::String(s) => s.to_owned(),
            CellValue::Bool(b) => b.to_string(),
            CellValue::Null if field.field_type() == FieldType::Bool => "false".to_owned(),
            _ => String::new(),
        })
        .collect()
}

/// The wide field spec for a long value field, and an array of the long values with one more
/// value at the end (at the returned index) for the cells a series is missing.
fn value_source(
    field: &Field,
    fill: Option<FillMissing>,
) -> Result<(FieldSpec, ArrayRef, u32), Error> {
    let long_spec = if field.is_nullable() {
        FieldSpec::nullable(field.field_type())
    } else {
        FieldSpec::new(field.field_type())
    };
    let (spec, missing) = match fill {
        None => (long_spec, repeated_array(long_spec, None, 1)?),
        Some(FillMissing::Null | FillMissing::Previous) => {
            let spec = FieldSpec::nullable(field.field_type());
            (spec, repeated_array(spec, None, 1)?)
        }
        Some(FillMissing::Value(value)) => {
            let cell = numeric_cell(field.field_type(), value);
            (long_spec, repeated_array(long_spec, cell, 1)?)
        }
    };
    let missing_index = u32::try_from(field.len()).map_err(|_| conversion("too many rows"))?;
    let source = arrow_select::concat::concat(&[field.array().as_ref(), missing.as_ref()])?;
    Ok((spec, source, missing_index))
}

/// A fill value as a value of a numeric field type (Go `float64ToType`); `None` for others.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn numeric_cell(field_type: FieldType, v: f64) -> Option<CellValue<'static>> {
    // `as` truncates towards zero like Go's conversion and saturates where Go's is undefined.
    Some(match field_type {
        FieldType::Int8 => CellValue::Int((v as i8).into()),
        FieldType::Int16 => CellValue::Int((v as i16).into()),
        FieldType::Int32 => CellValue::Int((v as i32).into()),
        FieldType::Int64 => CellValue::Int(v as i64),
        FieldType::UInt8 => CellValue::UInt((v as u8).into()),
        FieldType::UInt16 => CellValue::UInt((v as u16).into()),
        FieldType::UInt32 => CellValue::UInt((v as u32).into()),
        FieldType::UInt64 => CellValue::UInt(v as u64),
        FieldType::Float32 => CellValue::Float32(v as f32),
        FieldType::Float64 => CellValue::Float64(v),
        _ => return None,
    })
}

/// Converts a wide time series frame to long (Go `data.WideToLong`).
///
/// The long frame has the time field, one field per value field name (sorted by name, of the
/// wide fields' type), and one string field per label key (sorted). Each wide row becomes one
/// long row per distinct label set, in the order of the label sets' Go map keys; a value field
/// with no series for a label set holds its zero value there (null when nullable).
///
/// # Errors
///
/// [`Error::Conversion`] with the Go SDK's message when the frame is not a wide series, has no
/// rows or null times, or two value fields share a name but not a type.
pub fn wide_to_long(frame: &Frame) -> Result<Frame, Error> {
    let schema = TimeSeriesSchema::of(frame);
    let series_type = schema
        .as_ref()
        .map_or(TimeSeriesType::Not, TimeSeriesSchema::series_type);
    let Some(schema) = schema.filter(|_| series_type == TimeSeriesType::Wide) else {
        return Err(conversion(format!(
            "can not convert to long series, expected wide format series input but got {series_type} series"
        )));
    };
    let rows = frame.num_rows()?;
    if rows == 0 {
        return Err(conversion(NO_ROWS_LONG));
    }
    let fields = frame.fields();
    let empty = Labels::new();
    let labels_of = |i: usize| fields[i].labels().unwrap_or(&empty);

    // Value names with their spec; label sets by Go's map key; label keys.
    let mut specs: BTreeMap<&str, FieldSpec> = BTreeMap::new();
    let mut label_sets: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut factor_names: BTreeSet<&str> = BTreeSet::new();
    for &i in &schema.value_indexes {
        let field = &fields[i];
        let spec = if field.is_nullable() {
            FieldSpec::nullable(field.field_type())
        } else {
            FieldSpec::new(field.field_type())
        };
        match specs.get(field.name()) {
            Some(&known) if known != spec => {
                return Err(conversion(format!(
                    "two fields in input frame may not have the same name but different types, field name {} has type {} but also type {} and field idx {i}",
                    field.name(),
                    go_field_type(known),
                    go_field_type(spec),
                )));
            }
            Some(_) => {}
            None => {
                specs.insert(field.name(), spec);
            }
        }
        label_sets
            .entry(go_labels_key(labels_of(i)))
            .or_default()
            .push(i);
        factor_names.extend(labels_of(i).iter().map(|(k, _)| k));
    }
    let sets: Vec<&[usize]> = label_sets.values().map(Vec::as_slice).collect();
    // Row numbers below are `u32` take indexes.
    rows.checked_mul(sets.len())
        .filter(|&n| u32::try_from(n).is_ok())
        .ok_or_else(|| conversion("too many rows for one frame"))?;

    let time_field = &fields[schema.time_index];
    if time_field.array().null_count() > 0 {
        return Err(conversion("time may not have nil values"));
    }
    let mut long = Frame::new(frame.name());
    let time_take: UInt32Array = (0..rows)
        .flat_map(|row| std::iter::repeat_n(row as u32, sets.len()))
        .collect();
    let times = arrow_select::take::take(time_field.array().as_ref(), &time_take, None)?;
    long.push_field(Field::new(
        time_field.name(),
        FieldValues {
            array: times,
            field_type: FieldType::Time,
            nullable: false,
        },
    ));

    for (&name, &spec) in &specs {
        // The wide field feeding each label set (the last of that name, as Go overwrites), then
        // a zero value for label sets without one.
        let by_set: Vec<Option<usize>> = sets
            .iter()
            .map(|set| {
                set.iter()
                    .rev()
                    .copied()
                    .find(|&i| fields[i].name() == name)
            })
            .collect();
        let zero = repeated_array(spec, None, 1)?;
        let mut arrays: Vec<&dyn Array> = by_set
            .iter()
            .flatten()
            .map(|&i| fields[i].array().as_ref())
            .collect();
        let zero_slot = arrays.len();
        arrays.push(zero.as_ref());
        let mut slots = Vec::with_capacity(by_set.len());
        let mut next = 0;
        for source in &by_set {
            slots.push(source.map(|_| {
                next += 1;
                next - 1
            }));
        }
        let picks: Vec<(usize, usize)> = (0..rows)
            .flat_map(|row| {
                slots
                    .iter()
                    .map(move |slot| slot.map_or((zero_slot, 0), |s| (s, row)))
            })
            .collect();
        let values = arrow_select::interleave::interleave(&arrays, &picks)?;
        long.push_field(Field::new(
            name,
            FieldValues {
                array: values,
                field_type: spec.field_type(),
                nullable: spec.is_nullable(),
            },
        ));
    }
    for key in &factor_names {
        let per_set: Vec<&str> = sets
            .iter()
            .map(|set| labels_of(set[0]).get(key).unwrap_or(""))
            .collect();
        let column: StringArray = (0..rows)
            .flat_map(|_| per_set.iter().map(|v| Some(*v)))
            .collect();
        long.push_field(Field::new(*key, column));
    }

    let mut meta = frame.meta().cloned().unwrap_or_else(FrameMeta::default);
    meta.frame_type = Some(FrameType::TimeseriesLong);
    long.set_meta(meta);
    Ok(long)
}

/// Go's name for a field type with nullability (`float64`, `*float64`), as in its errors.
fn go_field_type(spec: FieldSpec) -> String {
    let star = if spec.is_nullable() { "*" } else { "" };
    format!("{star}{}", spec.field_type().type_info_name())
}

/// The map key Go groups label sets by: the JSON of the sorted `[key, value]` pairs, as
/// `encoding/json` writes it (HTML characters escaped). Its byte order decides the order of a
/// long frame's rows.
fn go_labels_key(labels: &Labels) -> String {
    let mut key = String::from("[");
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            key.push(',');
        }
        key.push('[');
        go_json_string(&mut key, k);
        key.push(',');
        go_json_string(&mut key, v);
        key.push(']');
    }
    key.push(']');
    key
}

/// Appends `s` as a JSON string the way Go's `encoding/json` escapes it.
fn go_json_string(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c < ' ' || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Orders a wide frame's fields as Go's `data.SortWideFrameFields` does: the time index first,
/// then by name, then fields without labels, then by the values of `keys` in order (a missing
/// key sorts as `""`), or by the labels' text when `keys` is empty.
///
/// # Errors
///
/// [`Error::Conversion`] when the frame is not a wide time series.
pub fn sort_wide_frame_fields(frame: &mut Frame, keys: &[&str]) -> Result<(), Error> {
    let schema = TimeSeriesSchema::of(frame)
        .filter(|s| s.series_type() == TimeSeriesType::Wide)
        .ok_or_else(|| {
            conversion("field sorting for a wide time series frame called on a series that is not a wide frame")
        })?;
    let fields = frame.fields_mut();
    // As Go: the time index trades places with the last field and leaves, the rest are sorted,
    // and it comes back first. The trade matters for fields that compare equal.
    let last = fields.len() - 1;
    fields.swap(schema.time_index, last);
    let Some(time) = fields.pop() else {
        return Ok(());
    };
    let keys: Vec<&str> = keys.to_vec();
    go_stable_sort(fields, |a, b| wide_field_less(a, b, &keys));
    fields.insert(0, time);
    Ok(())
}

/// Go's comparison for [`sort_wide_frame_fields`]. It is not a strict order (two fields with the
/// same name and no labels are each "less" than the other), which is why the sort is Go's own
/// algorithm rather than the standard library's, which may panic on such orders.
fn wide_field_less(a: &Field, b: &Field, keys: &[&str]) -> bool {
    if a.name() != b.name() {
        return a.name() < b.name();
    }
    match (a.labels(), b.labels()) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(la), Some(lb)) if keys.is_empty() => la.to_string() < lb.to_string(),
        (Some(la), Some(lb)) => {
            for key in keys {
                let (va, vb) = (la.get(key).unwrap_or(""), lb.get(key).unwrap_or(""));
                if va != vb {
                    return va < vb;
                }
            }
            false
        }
    }
}

/// Go's `sort.SliceStable`: insertion sort on blocks of 20, then in-place symmetric merges
/// (SymMerge, Kim & Kutzner). The same algorithm gives the same order for any comparison, even
/// one that is not a strict order, and never panics.
fn go_stable_sort<T>(data: &mut [T], less: impl Fn(&T, &T) -> bool) {
    let n = data.len();
    let less = |data: &[T], i: usize, j: usize| less(&data[i], &data[j]);
    let mut block = 20;
    let (mut a, mut b) = (0, block);
    while b <= n {
        insertion_sort(data, a, b, &less);
        a = b;
        b += block;
    }
    insertion_sort(data, a, n, &less);
    while block < n {
        let (mut a, mut b) = (0, 2 * block);
        while b <= n {
            sym_merge(data, a, a + block, b, &less);
            a = b;
            b += 2 * block;
        }
        let m = a + block;
        if m < n {
            sym_merge(data, a, m, n, &less);
        }
        block *= 2;
    }
}

fn insertion_sort<T>(
    data: &mut [T],
    a: usize,
    b: usize,
    less: &impl Fn(&[T], usize, usize) -> bool,
) {
    for i in a + 1..b {
        let mut j = i;
        while j > a && less(data, j, j - 1) {
            data.swap(j, j - 1);
            j -= 1;
        }
    }
}

/// Merges the sorted runs `data[a..m]` and `data[m..b]` in place.
fn sym_merge<T>(
    data: &mut [T],
    a: usize,
    m: usize,
    b: usize,
    less: &impl Fn(&[T], usize, usize) -> bool,
) {
    if m - a == 1 {
        // Insert data[a] into data[m..b] by binary search.
        let (mut i, mut j) = (m, b);
        while i < j {
            let h = (i + j) / 2;
            if less(data, h, a) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        for k in a..i - 1 {
            data.swap(k, k + 1);
        }
        return;
    }
    if b - m == 1 {
        // Insert data[m] into data[a..m] by binary search.
        let (mut i, mut j) = (a, m);
        while i < j {
            let h = (i + j) / 2;
            if !less(data, m, h) {
                i = h + 1;
            } else {
                j = h;
            }
        }
        let mut k = m;
        while k > i {
            data.swap(k, k - 1);
            k -= 1;
        }
        return;
    }
    let mid = (a + b) / 2;
    let n = mid + m;
    let (mut start, mut r) = if m > mid { (n - b, mid) } else { (a, m) };
    let p = n - 1;
    while start < r {
        let c = (start + r) / 2;
        if !less(data, p - c, c) {
            start = c + 1;
        } else {
            r = c;
        }
    }
    let end = n - start;
    if start < m && m < end {
        data[start..end].rotate_left(m - start);
    }
    if a < start && start < mid {
        sym_merge(data, a, start, mid, less);
    }
    if mid < end && end < b {
        sym_merge(data, mid, end, b, less);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_stable_sort_is_a_stable_sort_for_strict_orders() {
        // Many sizes to cross the 20-element blocks and the merge paths.
        for n in [0_usize, 1, 2, 19, 20, 21, 40, 41, 97, 300] {
            let mut items: Vec<(u32, usize)> =
                (0..n).map(|i| (((i * 7919) % 13) as u32, i)).collect();
            let mut expected = items.clone();
            expected.sort_by_key(|&(k, _)| k);
            go_stable_sort(&mut items, |x, y| x.0 < y.0);
            assert_eq!(items, expected, "n = {n}");
        }
    }

    #[test]
    fn go_labels_key_escapes_as_encoding_json() {
        let labels: Labels = [
            ("Location", "Central & South America"),
            ("a", "<\"\n\u{1}>"),
        ]
        .into();
        assert_eq!(
            go_labels_key(&labels),
            r#"[["Location","Central \u0026 South America"],["a","\u003c\"\n\u0001\u003e"]]"#
        );
        assert_eq!(go_labels_key(&Labels::new()), "[]");
    }
}
