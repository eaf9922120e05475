//! Reading CSV text into frames: a small RFC 4180 reader (quoted fields,
//! doubled quotes, commas and newlines inside quotes) and column typing.
//!
//! Column types are inferred from the values: a column named `time` whose
//! values are all RFC 3339 timestamps or epoch milliseconds is a time
//! field; a column whose values all parse as numbers is float64; anything
//! else is a string. Empty cells are nulls, which makes the field nullable.

use grafana_plugin::chrono::DateTime;
use grafana_plugin::data::FieldValues;
use grafana_plugin::prelude::*;

/// A parsed CSV file: a header row and data rows of the same width.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Table {
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<Vec<String>>,
}

/// The type a column's values are read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColumnType {
    Time,
    Number,
    Text,
}

impl ColumnType {
    /// The name used in resource answers.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ColumnType::Time => "time",
            ColumnType::Number => "number",
            ColumnType::Text => "string",
        }
    }

    /// Whether `value` is a value of this type.
    fn parses(self, value: &str) -> bool {
        match self {
            ColumnType::Time => parse_time(value).is_some(),
            ColumnType::Number => value.parse::<f64>().is_ok(),
            ColumnType::Text => true,
        }
    }
}

/// The column types and nullability of a table's frames.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Schema {
    /// Each column's type.
    pub(crate) types: Vec<ColumnType>,
    /// Whether each column has an empty or unparsable cell.
    nullable: Vec<bool>,
}

/// Cell `column` of `row`, `None` when empty.
fn cell(row: &[String], column: usize) -> Option<&str> {
    Some(row[column].as_str()).filter(|v| !v.is_empty())
}

impl Table {
    /// Parses CSV text; the first record is the header.
    pub(crate) fn parse(text: &str) -> Result<Table, Error> {
        let mut records = records(text)?.into_iter();
        let header = records
            .next()
            .ok_or_else(|| Error::plugin("the file is empty"))?;
        let mut rows = Vec::new();
        for (index, row) in records.enumerate() {
            if row.len() != header.len() {
                return Err(Error::plugin(format!(
                    "line {} has {} fields, the header has {}",
                    index + 2,
                    row.len(),
                    header.len()
                )));
            }
            rows.push(row);
        }
        Ok(Table { header, rows })
    }

    /// The inferred type of every column.
    pub(crate) fn column_types(&self) -> Vec<ColumnType> {
        (0..self.header.len())
            .map(|column| {
                let mut values = self
                    .rows
                    .iter()
                    .map(|row| row[column].as_str())
                    .filter(|v| !v.is_empty());
                if self.header[column].eq_ignore_ascii_case("time")
                    && values.clone().all(|v| parse_time(v).is_some())
                {
                    ColumnType::Time
                } else if values.all(|v| v.parse::<f64>().is_ok()) {
                    ColumnType::Number
                } else {
                    ColumnType::Text
                }
            })
            .collect()
    }

    /// The schema of the frames of this table: the inferred column types.
    pub(crate) fn schema(&self) -> Schema {
        self.schema_with(self.column_types())
    }

    /// The schema of the frames of this table with columns typed `types`.
    ///
    /// Nullability is the whole column's, so the frames of a replay stream,
    /// one row each, all share the first one's schema; it is worked out here
    /// once, not for every frame. A value that does not parse is a null.
    pub(crate) fn schema_with(&self, types: Vec<ColumnType>) -> Schema {
        let nullable = types
            .iter()
            .enumerate()
            .map(|(column, column_type)| {
                self.rows.iter().any(|row| match cell(row, column) {
                    None => true,
                    Some(value) => !column_type.parses(value),
                })
            })
            .collect();
        Schema { types, nullable }
    }

    /// The frame of rows `rows` (a range of data row indexes), with
    /// `schema`.
    pub(crate) fn to_frame(
        &self,
        name: &str,
        schema: &Schema,
        rows: std::ops::Range<usize>,
    ) -> Frame {
        let fields = self
            .header
            .iter()
            .zip(schema.types.iter().zip(&schema.nullable))
            .enumerate()
            .map(|(column, (name, (column_type, &nullable)))| {
                let cells = self.rows[rows.clone()].iter().map(|row| cell(row, column));
                let values: FieldValues = match column_type {
                    ColumnType::Time => {
                        let times = cells.map(|c| c.and_then(parse_time));
                        if nullable {
                            FieldValues::time_nanos_opt(times.collect())
                        } else {
                            FieldValues::time_nanos(times.flatten().collect())
                        }
                    }
                    ColumnType::Number => {
                        let numbers = cells.map(|c| c.and_then(|v| v.parse::<f64>().ok()));
                        if nullable {
                            numbers.collect::<Vec<_>>().into()
                        } else {
                            numbers.flatten().collect::<Vec<_>>().into()
                        }
                    }
                    ColumnType::Text if nullable => cells.collect::<Vec<_>>().into(),
                    ColumnType::Text => cells.flatten().collect::<Vec<_>>().into(),
                };
                Field::new(name.as_str(), values)
            });
        Frame::new(name).with_fields(fields)
    }
}

/// An RFC 3339 timestamp or integer epoch milliseconds, as nanoseconds.
fn parse_time(value: &str) -> Option<i64> {
    if let Ok(millis) = value.parse::<i64>() {
        return millis.checked_mul(1_000_000);
    }
    DateTime::parse_from_rfc3339(value)
        .ok()?
        .timestamp_nanos_opt()
}

/// Splits CSV text into records of fields, honouring quotes.
fn records(text: &str) -> Result<Vec<Vec<String>>, Error> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, in_quotes) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            ('"', true) => in_quotes = false,
            ('"', false) if field.is_empty() => in_quotes = true,
            (',', false) => record.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (c, _) => field.push(c),
        }
    }
    if in_quotes {
        return Err(Error::plugin("a quoted field is not closed"));
    }
    // The last record may lack its newline.
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;
    use grafana_plugin::data::CellValue;

    #[test]
    fn quotes_commas_and_newlines() {
        let table =
            Table::parse("name,note\r\n\"a, b\",\"say \"\"hi\"\"\"\nc,\"two\nlines\"").unwrap();
        assert_eq!(table.header, ["name", "note"]);
        assert_eq!(table.rows, [["a, b", "say \"hi\""], ["c", "two\nlines"]]);
        assert!(Table::parse("a\n\"open").is_err());
        assert!(
            Table::parse("a,b\n1\n")
                .unwrap_err()
                .to_string()
                .contains("line 2 has 1 fields")
        );
    }

    #[test]
    fn columns_are_typed_from_their_values() {
        let table = Table::parse(
            "time,temp,room\n2026-11-21T10:00:00Z,21.5,kitchen\n1795262460000,,hall\n",
        )
        .unwrap();
        let types = table.column_types();
        assert_eq!(
            types,
            [ColumnType::Time, ColumnType::Number, ColumnType::Text]
        );
        let frame = table.to_frame("rooms", &table.schema(), 0..2);
        assert_eq!(frame.fields()[0].field_type(), FieldType::Time);
        let temp = frame.field("temp").unwrap();
        assert!(temp.is_nullable());
        assert_eq!(temp.get(0), Some(CellValue::Float64(21.5)));
        assert_eq!(temp.get(1), Some(CellValue::Null));
        assert!(!frame.field("room").unwrap().is_nullable());
    }

    /// A replay stream sends one row per frame; every frame has the whole
    /// column's nullability, so a later null is not read as 0 against the
    /// first frame's schema (Go's `AppendJSONData` does that).
    #[test]
    fn one_row_frames_share_the_columns_schema() {
        let table = Table::parse(
            "temp,room
21.5,kitchen
,hall
",
        )
        .unwrap();
        let schema = table.schema();
        let first = table.to_frame("rooms", &schema, 0..1);
        let second = table.to_frame("rooms", &schema, 1..2);
        assert!(first.field("temp").unwrap().is_nullable());
        assert_eq!(
            first.field("temp").unwrap().get(0),
            Some(CellValue::Float64(21.5))
        );
        assert_eq!(second.field("temp").unwrap().get(0), Some(CellValue::Null));
        assert!(!first.field("room").unwrap().is_nullable());
    }

    /// A value that does not parse as its column's type is a null, never a
    /// shorter column.
    #[test]
    fn unparsable_values_are_nulls() {
        let table = Table::parse(
            "temp
1.5
warm
",
        )
        .unwrap();
        let frame = table.to_frame("t", &table.schema_with(vec![ColumnType::Number]), 0..2);
        let temp = frame.field("temp").unwrap();
        assert_eq!(temp.len(), 2);
        assert_eq!(temp.get(1), Some(CellValue::Null));
    }
}
