//! Filling and resampling time series (data/sqlutil/resample.go `ResampleWideFrame`,
//! data/time_series.go `GetMissing`).
//!
//! [`resample_wide_frame`] puts a time series on a regular grid: one row per `interval` from
//! the range's start to its end. A grid point takes the last row in `(point - interval,
//! point]`; a point without rows is filled by the [`FillMissing`] mode (null, the previous
//! row's value, or a fixed value); without a mode it stays null.

use std::time::Duration;

use plugin_backend::TimeRange;
use plugin_data::convert::FillMissing;
use plugin_data::{CellValue, Field, FieldType, Frame};

use crate::column::{ColumnBuilder, cell_to_value};
use crate::error::Error;
use crate::value::Value;

/// The value a missing point of `field` gets (data/time_series.go `GetMissing`): `None`
/// (null) for [`FillMissing::Null`], the value at `previous_row` for
/// [`FillMissing::Previous`] (null when there is none), and the fill value cast to a
/// numeric field's type for [`FillMissing::Value`] (null for other fields, as Go's
/// `float64ToType` fails on them).
pub fn missing_value<'a>(
    fill: FillMissing,
    field: &'a Field,
    previous_row: Option<usize>,
) -> Value<'a> {
    match fill {
        FillMissing::Previous => previous_row
            .and_then(|row| field.get(row))
            .map_or(Value::Null, cell_to_value),
        FillMissing::Value(v) => match field.field_type() {
            // Go converts with int8(v) and friends: towards zero.
            FieldType::Int8 | FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => {
                Value::Int(v as i64)
            }
            FieldType::UInt8 | FieldType::UInt16 | FieldType::UInt32 | FieldType::UInt64 => {
                Value::UInt(v as u64)
            }
            FieldType::Float32 | FieldType::Float64 => Value::Float(v),
            _ => Value::Null,
        },
        _ => Value::Null,
    }
}

/// Resamples a time series frame at `interval` over `time_range`
/// (data/sqlutil/resample.go `ResampleWideFrame`).
///
/// The first time field is the grid; string and bool fields repeat the last row seen; other
/// fields are values, filled by `fill` where a grid point has no row. The frame's times must
/// be ascending. An `interval` of zero returns the frame as it is. Field types stay; a value
/// field becomes nullable (Go would panic inserting a null into a non-nullable field).
///
/// # Errors
///
/// [`Error::NotTimeSeries`] for a frame without a time field or without value fields;
/// [`Error::NullTime`] for a null time.
pub fn resample_wide_frame(
    frame: &Frame,
    fill: Option<FillMissing>,
    time_range: TimeRange,
    interval: Duration,
) -> Result<Frame, Error> {
    let fields = frame.fields();
    let time_index = fields
        .iter()
        .position(|f| f.field_type() == FieldType::Time)
        .ok_or(Error::NotTimeSeries)?;
    let is_factor = |f: &Field| matches!(f.field_type(), FieldType::String | FieldType::Bool);
    let is_value = |i: usize| i != time_index && !is_factor(&fields[i]);
    if !(0..fields.len()).any(is_value) {
        return Err(Error::NotTimeSeries);
    }
    if interval.is_zero() {
        return Ok(frame.clone());
    }
    let rows = frame.num_rows()?;
    let times = (0..rows)
        .map(|row| match fields[time_index].get(row) {
            Some(CellValue::Time(t)) => Ok(t),
            _ => Err(Error::NullTime),
        })
        .collect::<Result<Vec<i64>, Error>>()?;
    let out_of_range = || Error::Macro("time range out of the nanosecond range".to_owned());
    let from = time_range
        .from
        .timestamp_nanos_opt()
        .ok_or_else(out_of_range)?;
    let to = time_range
        .to
        .timestamp_nanos_opt()
        .ok_or_else(out_of_range)?;
    let step = i64::try_from(interval.as_nanos()).map_err(|_| out_of_range())?;

    let mut columns: Vec<ColumnBuilder> = fields
        .iter()
        .map(|f| ColumnBuilder::new(f.field_type(), 0))
        .collect();
    let mut last_seen: Option<usize> = None;
    let mut current = from;
    while current <= to {
        // Go restarts at row 0 while the last row seen is row 0 (`if lastSeenRowIdx > 0`);
        // kept, so both pick the same rows.
        let mut row = match last_seen {
            Some(seen) if seen > 0 => seen + 1,
            _ => 0,
        };
        let mut last_in_window = None;
        let previous = current - step;
        while row < rows {
            let t = times[row];
            if t > previous {
                if t > current {
                    break;
                }
                last_in_window = Some(row);
            }
            last_seen = Some(row);
            row += 1;
        }
        for (i, (field, column)) in fields.iter().zip(&mut columns).enumerate() {
            let value = if i == time_index {
                Value::Time(current)
            } else if is_value(i) {
                match (last_in_window, fill) {
                    (Some(row), _) => field.get(row).map_or(Value::Null, cell_to_value),
                    (None, Some(fill)) => missing_value(fill, field, last_seen),
                    (None, None) => Value::Null,
                }
            } else {
                last_seen
                    .and_then(|row| field.get(row))
                    .map_or(Value::Null, cell_to_value)
            };
            // Every value comes from a field of this very type, so it always fits.
            if column.push(&value).is_none() {
                column.push_null();
            }
        }
        current = match current.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }

    let mut resampled = Frame::new(frame.name());
    for ((field, column), i) in fields.iter().zip(columns).zip(0..) {
        let values = column.finish()?;
        let keep_nullable = field.is_nullable() || is_value(i);
        let values = if keep_nullable || values.array().null_count() > 0 {
            values
        } else {
            values.with_nullable(false)?
        };
        let mut out = Field::new(field.name(), values);
        out.set_labels(field.labels().cloned());
        resampled.push_field(out);
    }
    if let Some(meta) = frame.meta() {
        resampled.set_meta(meta.clone());
    }
    Ok(resampled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_data::FieldValues;

    const S: i64 = 1_000_000_000;

    fn range(from_s: i64, to_s: i64) -> TimeRange {
        TimeRange::from_epoch_millis(from_s * 1000, to_s * 1000).unwrap()
    }

    fn values(field: &Field) -> Vec<String> {
        field.iter().map(|c| c.to_string()).collect()
    }

    fn frame() -> Frame {
        // Points at 10 s, 12 s and 30 s.
        Frame::new("wide")
            .with_field(Field::new(
                "time",
                FieldValues::time_nanos(vec![10 * S, 12 * S, 30 * S]),
            ))
            .with_field(Field::new("v", vec![Some(1.0_f64), Some(2.0), Some(3.0)]))
            .with_field(Field::new("n", vec![1_i64, 2, 3]))
    }

    #[test]
    fn fills_by_mode() {
        // Grid 0, 10, 20, 30, 40 (data/sqlutil/resample_test.go's shape).
        let r = range(0, 40);
        let step = Duration::from_secs(10);
        let null = resample_wide_frame(&frame(), Some(FillMissing::Null), r, step).unwrap();
        let times: Vec<_> = null.fields()[0].iter().collect();
        assert_eq!(times, [0, 10, 20, 30, 40].map(|t| CellValue::Time(t * S)));
        assert_eq!(values(&null.fields()[1]), ["null", "1", "2", "3", "null"]);
        assert_eq!(null.fields()[2].field_type(), FieldType::Int64);

        let prev = resample_wide_frame(&frame(), Some(FillMissing::Previous), r, step).unwrap();
        assert_eq!(values(&prev.fields()[1]), ["null", "1", "2", "3", "3"]);
        assert_eq!(values(&prev.fields()[2]), ["null", "1", "2", "3", "3"]);

        let fixed = resample_wide_frame(&frame(), Some(FillMissing::Value(-1.9)), r, step).unwrap();
        assert_eq!(values(&fixed.fields()[1]), ["-1.9", "1", "2", "3", "-1.9"]);
        // Integers get the value cast towards zero, as Go's int64(v).
        assert_eq!(values(&fixed.fields()[2]), ["-1", "1", "2", "3", "-1"]);

        let none = resample_wide_frame(&frame(), None, r, step).unwrap();
        assert_eq!(values(&none.fields()[1]), ["null", "1", "2", "3", "null"]);
    }

    #[test]
    fn factors_repeat_and_errors() {
        let f = frame().with_field(Field::new("host", vec!["a", "b", "c"]));
        let out = resample_wide_frame(
            &f,
            Some(FillMissing::Null),
            range(5, 35),
            Duration::from_secs(10),
        )
        .unwrap();
        // Grid 5, 15, 25, 35: factors repeat the last row seen, even before the first point.
        assert_eq!(values(&out.fields()[3]), ["null", "b", "b", "c"]);
        assert!(out.fields()[3].is_nullable());

        let not_ts = Frame::new("x").with_field(Field::new("v", vec![1.0_f64]));
        assert!(matches!(
            resample_wide_frame(&not_ts, None, range(0, 1), Duration::from_secs(1)),
            Err(Error::NotTimeSeries)
        ));
        let only_time =
            Frame::new("x").with_field(Field::new("t", FieldValues::time_nanos(vec![1])));
        assert!(matches!(
            resample_wide_frame(&only_time, None, range(0, 1), Duration::from_secs(1)),
            Err(Error::NotTimeSeries)
        ));
        let null_time = Frame::new("x")
            .with_field(Field::new(
                "t",
                FieldValues::time_nanos_opt(vec![Some(1), None]),
            ))
            .with_field(Field::new("v", vec![1.0_f64, 2.0]));
        assert!(matches!(
            resample_wide_frame(&null_time, None, range(0, 1), Duration::from_secs(1)),
            Err(Error::NullTime)
        ));
        assert_eq!(
            resample_wide_frame(&frame(), None, range(0, 1), Duration::ZERO).unwrap(),
            frame()
        );
    }
}
