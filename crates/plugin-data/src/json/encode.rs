//! Frame → frame JSON, written straight into one output buffer.

use std::io::Write;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampNanosecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, PrimitiveArray};
use serde::Serialize;

use crate::config::FieldConfig;
use crate::error::Error;
use crate::field::{Field, FieldType, Labels};
use crate::format::write_json_float;
use crate::frame::{Frame, FrameInclude};
use crate::meta::FrameMeta;

const NANOS_PER_MILLI: i64 = 1_000_000;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SchemaOut<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    ref_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    meta: Option<&'a FrameMeta>,
    fields: Vec<FieldSchemaOut<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FieldSchemaOut<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(rename = "type")]
    simple_type: &'static str,
    type_info: TypeInfoOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    labels: Option<&'a Labels>,
    #[serde(skip_serializing_if = "Option::is_none")]
    config: Option<&'a FieldConfig>,
}

#[derive(Serialize)]
struct TypeInfoOut {
    frame: &'static str,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    nullable: bool,
}

/// Rows of one float column that hold `NaN`, `+Inf` and `-Inf`.
#[derive(Serialize, Default)]
struct EntitiesOut {
    #[serde(rename = "NaN", skip_serializing_if = "Vec::is_empty")]
    nan: Vec<usize>,
    #[serde(rename = "Inf", skip_serializing_if = "Vec::is_empty")]
    inf: Vec<usize>,
    #[serde(rename = "NegInf", skip_serializing_if = "Vec::is_empty")]
    neg_inf: Vec<usize>,
}

pub(crate) fn encode_frame(frame: &Frame, include: FrameInclude) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(estimated_len(frame, include));
    write_frame(&mut out, frame, include)?;
    Ok(out)
}

/// Writes one frame JSON object to `out`.
pub(crate) fn write_frame(
    out: &mut Vec<u8>,
    frame: &Frame,
    include: FrameInclude,
) -> Result<(), Error> {
    out.push(b'{');
    if include.schema() {
        out.extend_from_slice(b"\"schema\":");
        write_schema(out, frame)?;
    }
    if include.data() {
        if include.schema() {
            out.push(b',');
        }
        out.extend_from_slice(b"\"data\":");
        write_data(out, frame)?;
    }
    out.push(b'}');
    Ok(())
}

fn estimated_len(frame: &Frame, include: FrameInclude) -> usize {
    let data = if include.data() {
        frame
            .fields()
            .iter()
            .map(|f| f.len() * 12 + 8)
            .sum::<usize>()
    } else {
        0
    };
    256 + frame.fields().len() * 128 + data
}

fn write_schema(out: &mut Vec<u8>, frame: &Frame) -> Result<(), Error> {
    let schema = SchemaOut {
        name: frame.name(),
        ref_id: frame.ref_id(),
        meta: frame.meta(),
        fields: frame
            .fields()
            .iter()
            .map(|f| FieldSchemaOut {
                name: f.name(),
                simple_type: f.field_type().simple_type(),
                type_info: TypeInfoOut {
                    frame: f.field_type().type_info_name(),
                    nullable: f.is_nullable(),
                },
                labels: f.labels(),
                config: f.config(),
            })
            .collect(),
    };
    serde_json::to_writer(out, &schema)?;
    Ok(())
}

fn write_data(out: &mut Vec<u8>, frame: &Frame) -> Result<(), Error> {
    frame.num_rows()?;
    let fields = frame.fields();
    let mut entities: Vec<Option<EntitiesOut>> = Vec::with_capacity(fields.len());
    let mut nanos: Vec<Option<Vec<i64>>> = Vec::with_capacity(fields.len());
    out.extend_from_slice(b"{\"values\":[");
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let column = write_column(out, field)?;
        entities.push(column.entities);
        nanos.push(column.nanos);
    }
    out.push(b']');
    if entities.iter().any(Option::is_some) {
        out.extend_from_slice(b",\"entities\":");
        serde_json::to_writer(&mut *out, &entities)?;
    }
    if nanos.iter().any(Option::is_some) {
        out.extend_from_slice(b",\"nanos\":");
        serde_json::to_writer(&mut *out, &nanos)?;
    }
    out.push(b'}');
    Ok(())
}

/// Side tables produced while writing one column.
#[derive(Default)]
struct ColumnExtras {
    entities: Option<EntitiesOut>,
    nanos: Option<Vec<i64>>,
}

fn write_column(out: &mut Vec<u8>, field: &Field) -> Result<ColumnExtras, Error> {
    let array = field.array();
    let mut extras = ColumnExtras::default();
    out.push(b'[');
    match field.field_type() {
        FieldType::Int8 => write_integers(out, array.as_primitive::<Int8Type>())?,
        FieldType::Int16 => write_integers(out, array.as_primitive::<Int16Type>())?,
        FieldType::Int32 => write_integers(out, array.as_primitive::<Int32Type>())?,
        FieldType::Int64 => write_integers(out, array.as_primitive::<Int64Type>())?,
        FieldType::UInt8 => write_integers(out, array.as_primitive::<UInt8Type>())?,
        FieldType::UInt16 | FieldType::Enum => {
            write_integers(out, array.as_primitive::<UInt16Type>())?
        }
        FieldType::UInt32 => write_integers(out, array.as_primitive::<UInt32Type>())?,
        FieldType::UInt64 => write_integers(out, array.as_primitive::<UInt64Type>())?,
        FieldType::Float32 => {
            let floats = array.as_primitive::<Float32Type>();
            extras.entities = write_floats(
                out,
                floats.len(),
                |i| floats.is_valid(i).then(|| floats.value(i)),
                |out, v| {
                    write_json_float(
                        out,
                        v.abs().into(),
                        format_args!("{v}"),
                        format_args!("{v:e}"),
                    )
                },
            )?;
        }
        FieldType::Float64 => {
            let floats = array.as_primitive::<Float64Type>();
            extras.entities = write_floats(
                out,
                floats.len(),
                |i| floats.is_valid(i).then(|| floats.value(i)),
                |out, v| write_json_float(out, v.abs(), format_args!("{v}"), format_args!("{v:e}")),
            )?;
        }
        FieldType::Bool => {
            let bools = array.as_boolean();
            for i in 0..bools.len() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(match bools.is_valid(i).then(|| bools.value(i)) {
                    Some(true) => b"true",
                    Some(false) => b"false",
                    None => b"null",
                });
            }
        }
        FieldType::String => {
            for (i, value) in array.as_string::<i32>().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match value {
                    Some(s) => serde_json::to_writer(&mut *out, s)?,
                    None => out.extend_from_slice(b"null"),
                }
            }
        }
        FieldType::Time => {
            extras.nanos = write_times(out, array.as_primitive::<TimestampNanosecondType>())?
        }
        FieldType::Json => {
            for (i, value) in array.as_binary::<i32>().iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match value {
                    // Go writes an empty `json.RawMessage` as null.
                    None | Some([]) => out.extend_from_slice(b"null"),
                    Some(raw) => {
                        // The bytes are embedded verbatim, so they must be one JSON document.
                        if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_err() {
                            return Err(Error::InvalidJson(format!(
                                "field {:?} row {i} does not hold valid JSON",
                                field.name()
                            )));
                        }
                        out.extend_from_slice(raw);
                    }
                }
            }
        }
    }
    out.push(b']');
    Ok(extras)
}

fn write_integers<T>(out: &mut Vec<u8>, array: &PrimitiveArray<T>) -> Result<(), Error>
where
    T: ArrowPrimitiveType,
    T::Native: std::fmt::Display,
{
    let values = array.values();
    match array.nulls() {
        None => {
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write!(out, "{v}")?;
            }
        }
        Some(nulls) => {
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if nulls.is_valid(i) {
                    write!(out, "{v}")?;
                } else {
                    out.extend_from_slice(b"null");
                }
            }
        }
    }
    Ok(())
}

fn write_floats<F: Copy + Into<f64>>(
    out: &mut Vec<u8>,
    len: usize,
    value_at: impl Fn(usize) -> Option<F>,
    write_finite: impl Fn(&mut Vec<u8>, F) -> std::io::Result<()>,
) -> Result<Option<EntitiesOut>, Error> {
    let mut entities: Option<EntitiesOut> = None;
    for i in 0..len {
        if i > 0 {
            out.push(b',');
        }
        let Some(value) = value_at(i) else {
            out.extend_from_slice(b"null");
            continue;
        };
        let wide: f64 = value.into();
        if wide == 0.0 && wide.is_sign_negative() {
            // "-0" would read back as the integer 0; "-0.0" keeps the sign.
            out.extend_from_slice(b"-0.0");
            continue;
        }
        if wide.is_finite() {
            write_finite(out, value)?;
            continue;
        }
        let rows = entities.get_or_insert_with(EntitiesOut::default);
        if wide.is_nan() {
            rows.nan.push(i);
        } else if wide > 0.0 {
            rows.inf.push(i);
        } else {
            rows.neg_inf.push(i);
        }
        out.extend_from_slice(b"null");
    }
    Ok(entities)
}

/// Writes epoch milliseconds; returns the per-row sub-millisecond remainders if any is non-zero.
fn write_times(
    out: &mut Vec<u8>,
    array: &PrimitiveArray<TimestampNanosecondType>,
) -> Result<Option<Vec<i64>>, Error> {
    let mut nanos: Option<Vec<i64>> = None;
    for (i, value) in array.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let Some(ns) = value else {
            out.extend_from_slice(b"null");
            continue;
        };
        // Floor division, as Go's `UnixMilli` + `Truncate(time.Millisecond)` do.
        let millis = ns.div_euclid(NANOS_PER_MILLI);
        let remainder = ns.rem_euclid(NANOS_PER_MILLI);
        write!(out, "{millis}")?;
        if remainder != 0 {
            nanos.get_or_insert_with(|| vec![0; array.len()])[i] = remainder;
        }
    }
    Ok(nanos)
}
