//! Frame → frame JSON, written straight into one output buffer sized up front.
//!
//! Each column is written in one pass over its Arrow buffers: numbers are formatted in place
//! (itoa, ryu), strings escaped as jsoniter escapes them ([`super::write`]), and the rows that go
//! into `entities` (`NaN`, `±Inf`) and `nanos` (sub-millisecond time parts) are collected while
//! the values are written. The layout and the order of keys follow `writeDataFrame` in the Go
//! SDK's data/frame_json.go.

use arrow_array::cast::AsArray;
use arrow_array::types::{
    ArrowPrimitiveType, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type,
    TimestampNanosecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, PrimitiveArray};
use arrow_buffer::NullBuffer;

use super::write::{Escape, write_f32, write_f64, write_str};
use crate::error::Error;
use crate::field::{Field, FieldType, Labels};
use crate::frame::{Frame, FrameInclude};

const NANOS_PER_MILLI: i64 = 1_000_000;

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

/// A close estimate of the encoded size, so the output buffer rarely grows.
fn estimated_len(frame: &Frame, include: FrameInclude) -> usize {
    let schema = 256 + frame.fields().len() * 128;
    if !include.data() {
        return schema;
    }
    schema
        + frame
            .fields()
            .iter()
            .map(estimated_column_len)
            .sum::<usize>()
}

fn estimated_column_len(field: &Field) -> usize {
    let rows = field.len();
    let text = |offsets: &[i32]| match (offsets.first(), offsets.last()) {
        (Some(&first), Some(&last)) => usize::try_from(last - first).unwrap_or(0),
        _ => 0,
    };
    // Typical widths plus the comma: a 13-digit millisecond time, a 17-digit float.
    let per_row = match field.field_type() {
        FieldType::Int8 | FieldType::UInt8 => 4,
        FieldType::Int16 | FieldType::UInt16 | FieldType::Enum => 6,
        FieldType::Int32 | FieldType::UInt32 => 11,
        FieldType::Int64 | FieldType::UInt64 => 12,
        FieldType::Float32 => 12,
        FieldType::Float64 => 19,
        FieldType::Bool => 6,
        FieldType::Time => 14,
        FieldType::String => {
            return rows * 3 + text(field.array().as_string::<i32>().value_offsets()) + 2;
        }
        FieldType::Json => {
            return rows + text(field.array().as_binary::<i32>().value_offsets()) + 2;
        }
    };
    rows * per_row + 2
}

/// Writes `"key":` (keys are ASCII literals, so they need no escaping).
fn write_key(out: &mut Vec<u8>, key: &str, first: &mut bool) {
    if !std::mem::take(first) {
        out.push(b',');
    }
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

fn write_schema(out: &mut Vec<u8>, frame: &Frame) -> Result<(), Error> {
    out.push(b'{');
    let mut first = true;
    if !frame.name().is_empty() {
        write_key(out, "name", &mut first);
        write_str(out, frame.name(), Escape::Plain);
    }
    if !frame.ref_id().is_empty() {
        write_key(out, "refId", &mut first);
        write_str(out, frame.ref_id(), Escape::Plain);
    }
    if let Some(meta) = frame.meta() {
        write_key(out, "meta", &mut first);
        serde_json::to_writer(&mut *out, meta)?;
    }
    write_key(out, "fields", &mut first);
    out.push(b'[');
    for (i, field) in frame.fields().iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_field_schema(out, field)?;
    }
    out.extend_from_slice(b"]}");
    Ok(())
}

fn write_field_schema(out: &mut Vec<u8>, field: &Field) -> Result<(), Error> {
    out.push(b'{');
    let mut first = true;
    if !field.name().is_empty() {
        write_key(out, "name", &mut first);
        write_str(out, field.name(), Escape::Plain);
    }
    let field_type = field.field_type();
    write_key(out, "type", &mut first);
    write_str(out, field_type.simple_type(), Escape::Plain);
    write_key(out, "typeInfo", &mut first);
    out.extend_from_slice(b"{\"frame\":");
    write_str(out, field_type.type_info_name(), Escape::Plain);
    if field.is_nullable() {
        out.extend_from_slice(b",\"nullable\":true");
    }
    out.push(b'}');
    if let Some(labels) = field.labels() {
        write_key(out, "labels", &mut first);
        write_labels(out, labels);
    }
    if let Some(config) = field.config() {
        write_key(out, "config", &mut first);
        serde_json::to_writer(&mut *out, config)?;
    }
    out.push(b'}');
    Ok(())
}

/// Labels in key order with `WriteString` escapes, as `writeLabelsJSON` (data/labels.go).
fn write_labels(out: &mut Vec<u8>, labels: &Labels) {
    out.push(b'{');
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, key, Escape::Plain);
        out.push(b':');
        write_str(out, value, Escape::Plain);
    }
    out.push(b'}');
}

/// Rows of one float column that hold `NaN`, `+Inf` and `-Inf`.
#[derive(Default)]
struct Entities {
    nan: Vec<usize>,
    inf: Vec<usize>,
    neg_inf: Vec<usize>,
}

impl Entities {
    fn add(&mut self, row: usize, value: f64) {
        if value.is_nan() {
            self.nan.push(row);
        } else if value > 0.0 {
            self.inf.push(row);
        } else {
            self.neg_inf.push(row);
        }
    }

    fn is_empty(&self) -> bool {
        self.nan.is_empty() && self.inf.is_empty() && self.neg_inf.is_empty()
    }
}

/// Side tables collected while one column is written.
#[derive(Default)]
struct ColumnExtras {
    entities: Entities,
    /// `(row, sub-millisecond nanoseconds)` for the rows where that part is not zero.
    nanos: Vec<(usize, u32)>,
}

fn write_data(out: &mut Vec<u8>, frame: &Frame) -> Result<(), Error> {
    let rows = frame.num_rows()?;
    let fields = frame.fields();
    let mut extras: Vec<ColumnExtras> = Vec::with_capacity(fields.len());
    out.extend_from_slice(b"{\"values\":[");
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        extras.push(write_column(out, field)?);
    }
    out.push(b']');
    if extras.iter().any(|e| !e.entities.is_empty()) {
        out.extend_from_slice(b",\"entities\":");
        write_entities(out, &extras);
    }
    if extras.iter().any(|e| !e.nanos.is_empty()) {
        out.extend_from_slice(b",\"nanos\":");
        write_nanos(out, &extras, rows);
    }
    out.push(b'}');
    Ok(())
}

fn write_column(out: &mut Vec<u8>, field: &Field) -> Result<ColumnExtras, Error> {
    let array = field.array();
    let mut extras = ColumnExtras::default();
    match field.field_type() {
        FieldType::Int8 => write_integers(out, array.as_primitive::<Int8Type>()),
        FieldType::Int16 => write_integers(out, array.as_primitive::<Int16Type>()),
        FieldType::Int32 => write_integers(out, array.as_primitive::<Int32Type>()),
        FieldType::Int64 => write_integers(out, array.as_primitive::<Int64Type>()),
        FieldType::UInt8 => write_integers(out, array.as_primitive::<UInt8Type>()),
        FieldType::UInt16 | FieldType::Enum => {
            write_integers(out, array.as_primitive::<UInt16Type>())
        }
        FieldType::UInt32 => write_integers(out, array.as_primitive::<UInt32Type>()),
        FieldType::UInt64 => write_integers(out, array.as_primitive::<UInt64Type>()),
        FieldType::Float32 => {
            let floats = array.as_primitive::<Float32Type>();
            let values = floats.values();
            let mut buffer = ryu::Buffer::new();
            write_cells(out, floats.nulls(), values.len(), |out, row| {
                let value = values[row];
                if value.is_finite() {
                    write_f32(out, value, &mut buffer);
                } else {
                    extras.entities.add(row, value.into());
                    out.extend_from_slice(b"null");
                }
            });
        }
        FieldType::Float64 => {
            let floats = array.as_primitive::<Float64Type>();
            let values = floats.values();
            let mut buffer = ryu::Buffer::new();
            write_cells(out, floats.nulls(), values.len(), |out, row| {
                let value = values[row];
                if value.is_finite() {
                    write_f64(out, value, &mut buffer);
                } else {
                    extras.entities.add(row, value);
                    out.extend_from_slice(b"null");
                }
            });
        }
        FieldType::Bool => {
            let bools = array.as_boolean();
            let values = bools.values();
            write_cells(out, bools.nulls(), values.len(), |out, row| {
                out.extend_from_slice(if values.value(row) { b"true" } else { b"false" });
            });
        }
        FieldType::String => {
            let strings = array.as_string::<i32>();
            write_cells(out, strings.nulls(), strings.len(), |out, row| {
                write_str(out, strings.value(row), Escape::Html);
            });
        }
        FieldType::Time => {
            let times = array.as_primitive::<TimestampNanosecondType>();
            let values = times.values();
            let mut buffer = itoa::Buffer::new();
            write_cells(out, times.nulls(), values.len(), |out, row| {
                // Floor division, as Go's `UnixMilli` + `Truncate(time.Millisecond)` do.
                let ns = values[row];
                let millis = ns.div_euclid(NANOS_PER_MILLI);
                out.extend_from_slice(buffer.format(millis).as_bytes());
                let remainder = ns.rem_euclid(NANOS_PER_MILLI);
                if remainder != 0 {
                    // Below one million, so it fits.
                    extras.nanos.push((row, remainder as u32));
                }
            });
        }
        FieldType::Json => write_json_documents(out, field)?,
    }
    Ok(extras)
}

/// Writes `[v0,v1,...]`, `null` for null rows, `write_value` for the others.
#[inline]
fn write_cells(
    out: &mut Vec<u8>,
    nulls: Option<&NullBuffer>,
    len: usize,
    mut write_value: impl FnMut(&mut Vec<u8>, usize),
) {
    out.push(b'[');
    if len == 0 {
        out.push(b']');
        return;
    }
    // Every cell is followed by a comma; the last one becomes the closing bracket.
    match nulls.filter(|n| n.null_count() > 0) {
        None => {
            for row in 0..len {
                write_value(out, row);
                out.push(b',');
            }
        }
        Some(nulls) => {
            for row in 0..len {
                if nulls.is_valid(row) {
                    write_value(out, row);
                } else {
                    out.extend_from_slice(b"null");
                }
                out.push(b',');
            }
        }
    }
    if let Some(last) = out.last_mut() {
        *last = b']';
    }
}

fn write_integers<T>(out: &mut Vec<u8>, array: &PrimitiveArray<T>)
where
    T: ArrowPrimitiveType,
    T::Native: itoa::Integer,
{
    let values = array.values();
    let mut buffer = itoa::Buffer::new();
    write_cells(out, array.nulls(), values.len(), |out, row| {
        out.extend_from_slice(buffer.format(values[row]).as_bytes());
    });
}

fn write_json_documents(out: &mut Vec<u8>, field: &Field) -> Result<(), Error> {
    out.push(b'[');
    for (row, value) in field.array().as_binary::<i32>().iter().enumerate() {
        if row > 0 {
            out.push(b',');
        }
        match value {
            // Go writes an empty `json.RawMessage` as null.
            None | Some([]) => out.extend_from_slice(b"null"),
            Some(raw) => {
                // The bytes are embedded verbatim, so they must be one JSON document.
                if serde_json::from_slice::<serde::de::IgnoredAny>(raw).is_err() {
                    return Err(Error::InvalidJson(format!(
                        "field {:?} row {row} does not hold valid JSON",
                        field.name()
                    )));
                }
                out.extend_from_slice(raw);
            }
        }
    }
    out.push(b']');
    Ok(())
}

/// `[null,{"NaN":[rows],"Inf":[rows],"NegInf":[rows]},...]`, one entry per field, empty lists
/// left out (`fieldEntityLookup` with `omitempty`).
fn write_entities(out: &mut Vec<u8>, extras: &[ColumnExtras]) {
    let mut buffer = itoa::Buffer::new();
    let mut write_rows = |out: &mut Vec<u8>, key: &str, rows: &[usize], first: &mut bool| {
        if rows.is_empty() {
            return;
        }
        write_key(out, key, first);
        out.push(b'[');
        for (i, &row) in rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(buffer.format(row).as_bytes());
        }
        out.push(b']');
    };
    out.push(b'[');
    for (i, column) in extras.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        let entities = &column.entities;
        if entities.is_empty() {
            out.extend_from_slice(b"null");
            continue;
        }
        out.push(b'{');
        let mut first = true;
        write_rows(out, "NaN", &entities.nan, &mut first);
        write_rows(out, "Inf", &entities.inf, &mut first);
        write_rows(out, "NegInf", &entities.neg_inf, &mut first);
        out.push(b'}');
    }
    out.push(b']');
}

/// `[null,[ns per row],...]`: a full row-length list (zeros included) for each time field with
/// a sub-millisecond part, as Go writes it.
fn write_nanos(out: &mut Vec<u8>, extras: &[ColumnExtras], rows: usize) {
    let mut buffer = itoa::Buffer::new();
    out.push(b'[');
    for (i, column) in extras.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if column.nanos.is_empty() {
            out.extend_from_slice(b"null");
            continue;
        }
        out.reserve(rows * 2 + column.nanos.len() * 7);
        out.push(b'[');
        let mut pending = column.nanos.iter().peekable();
        for row in 0..rows {
            if row > 0 {
                out.push(b',');
            }
            match pending.next_if(|(r, _)| *r == row) {
                Some(&(_, ns)) => out.extend_from_slice(buffer.format(ns).as_bytes()),
                None => out.push(b'0'),
            }
        }
        out.push(b']');
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::FieldValues;

    /// The expected bytes are what the Go SDK's `Frame.MarshalJSON` writes for the same frame
    /// (checked with grafana-plugin-sdk-go v0.300.0): names and labels with `WriteString`
    /// escapes, string values with HTML escapes, jsoniter's float layout, `entities`, `nanos`.
    #[test]
    fn bytes_equal_go_marshal_json() {
        let s = "a\"b\\c\n\r\t\u{1}\u{8}\u{c}\u{1f}<>&\u{2028}\u{2029}\u{2027}é€😀\u{7f}";
        let frame = Frame::new(format!("name {s}"))
            .with_field(
                Field::new(
                    format!("f {s}"),
                    vec![
                        Some(s),
                        None,
                        Some(""),
                        Some("x"),
                        Some("<"),
                        Some("\u{2028}"),
                        Some("é"),
                    ],
                )
                .with_labels(Labels::from([("k<&>", s)])),
            )
            .with_field(Field::new(
                "f64",
                vec![-0.0_f64, 1e-7, 1e21, 9.9e-7, 1e20, 5e-324, f64::MAX],
            ))
            .with_field(Field::new(
                "f32",
                vec![
                    -0.0_f32,
                    1e-7,
                    1e21,
                    0.1,
                    3.402_823_5e38,
                    16_777_216.0,
                    f32::NAN,
                ],
            ))
            .with_field(Field::new(
                "t",
                FieldValues::time_nanos_opt(vec![
                    Some(-1),
                    None,
                    Some(1_500_000),
                    Some(i64::MIN),
                    Some(i64::MAX),
                    Some(0),
                    Some(5),
                ]),
            ));
        let plain = r#"a\"b\\c\n\r\t\u0001\u0008\u000c\u001f<>&"#.to_owned()
            + "\u{2028}\u{2029}\u{2027}é€😀\u{7f}";
        let html = r#"a\"b\\c\n\r\t\u0001\u0008\u000c\u001f\u003c\u003e\u0026\u2028\u2029"#
            .to_owned()
            + "\u{2027}é€😀\u{7f}";
        let expected = format!(
            concat!(
                r#"{{"schema":{{"name":"name {plain}","fields":["#,
                r#"{{"name":"f {plain}","type":"string","typeInfo":{{"frame":"string","nullable":true}},"labels":{{"k<&>":"{plain}"}}}},"#,
                r#"{{"name":"f64","type":"number","typeInfo":{{"frame":"float64"}}}},"#,
                r#"{{"name":"f32","type":"number","typeInfo":{{"frame":"float32"}}}},"#,
                r#"{{"name":"t","type":"time","typeInfo":{{"frame":"time.Time","nullable":true}}}}]}},"#,
                r#""data":{{"values":[["{html}",null,"","x","\u003c","\u2028","é"],"#,
                r#"[-0,1e-07,1e+21,9.9e-07,100000000000000000000,5e-324,1.7976931348623157e+308],"#,
                r#"[-0,1e-07,1e+21,0.1,3.4028235e+38,16777216,null],"#,
                r#"[-1,null,1,-9223372036855,9223372036854,0,0]],"#,
                r#""entities":[null,null,{{"NaN":[6]}},null],"#,
                r#""nanos":[null,null,null,[999999,0,500000,224192,775807,0,5]]}}}}"#,
            ),
            plain = plain,
            html = html,
        );
        let json = frame.to_json(FrameInclude::All).expect("encodes");
        assert_eq!(String::from_utf8_lossy(&json), expected);
    }
}
