//! Rows to a [`Frame`]: [`frame_from_rows`] and [`query_frame`] (data/sqlutil/sql.go
//! `FrameFromRows`).
//!
//! Each column becomes one nullable field named after it, typed by the first
//! [`Converter`] that claims it or else by the driver's mapping ([`SqlDriver::field_type`]).
//! Values go straight into typed Arrow builders, one pass, no per-row allocation for numbers
//! and times. A row limit stops reading (and drops the rest of the result) and adds Go's
//! warning notice.

use futures_util::{Stream, StreamExt};
use plugin_data::{FieldType, Frame, FrameMeta, Notice, NoticeSeverity};
use sqlx::{Column, Pool, Row, TypeInfo};

use crate::column::{self, ColumnBuilder};
use crate::converter::Converter;
use crate::driver::SqlDriver;
use crate::error::Error;
use crate::value::Value;

/// How [`frame_from_rows`] builds a frame: converters and an optional row limit.
#[derive(Debug, Clone, Default)]
pub struct FrameOptions {
    converters: Vec<Converter>,
    row_limit: Option<u64>,
}

impl FrameOptions {
    /// No converters, no row limit.
    pub fn new() -> Self {
        FrameOptions::default()
    }

    /// Adds a converter; earlier converters win when several claim a column.
    pub fn with_converter(mut self, converter: impl Into<Converter>) -> Self {
        self.converters.push(converter.into());
        self
    }

    /// Adds converters, in order.
    pub fn with_converters(mut self, converters: impl IntoIterator<Item = Converter>) -> Self {
        self.converters.extend(converters);
        self
    }

    /// Reads at most `limit` rows (`None`: all of them).
    pub fn with_row_limit(mut self, limit: Option<u64>) -> Self {
        self.row_limit = limit;
        self
    }

    /// The converters.
    pub fn converters(&self) -> &[Converter] {
        &self.converters
    }

    /// The row limit.
    pub fn row_limit(&self) -> Option<u64> {
        self.row_limit
    }
}

/// The text of the notice a frame gets when the row limit stopped reading
/// (data/sqlutil/sql.go).
pub fn row_limit_notice(limit: u64) -> Notice {
    Notice::new(
        NoticeSeverity::Warning,
        format!("Results have been limited to {limit} because the SQL row limit was reached"),
    )
}

/// One result column: where its values go and how they get there.
struct ResultColumn {
    name: String,
    type_name: String,
    converter: Option<Converter>,
    builder: ColumnBuilder,
}

fn plan<DB: SqlDriver>(
    columns: Vec<(String, String)>,
    options: &FrameOptions,
    capacity: usize,
) -> Result<Vec<ResultColumn>, Error> {
    // Field names must be unique (data/sqlutil/scanrow.go).
    for (second, (name, _)) in columns.iter().enumerate() {
        if let Some(first) = columns[..second].iter().position(|(n, _)| n == name) {
            return Err(Error::DuplicateColumn {
                name: name.clone(),
                first,
                second,
            });
        }
    }
    Ok(columns
        .into_iter()
        .map(|(name, type_name)| {
            let converter = options
                .converters
                .iter()
                .find(|c| c.claims(&type_name, &name))
                .cloned();
            let field_type = converter
                .as_ref()
                .map_or_else(|| DB::field_type(&type_name), Converter::field_type);
            ResultColumn {
                name,
                type_name,
                converter,
                builder: ColumnBuilder::new(field_type, capacity),
            }
        })
        .collect())
}

fn row_columns<DB: SqlDriver>(row: &DB::Row) -> Vec<(String, String)> {
    row.columns()
        .iter()
        .map(|c| (c.name().to_owned(), c.type_info().name().to_owned()))
        .collect()
}

fn push_row<DB: SqlDriver>(row: &DB::Row, columns: &mut [ResultColumn]) -> Result<(), Error> {
    for (index, column) in columns.iter_mut().enumerate() {
        let field_type = column.builder.field_type();
        let value = DB::read(row, index, &column.type_name, field_type).map_err(Error::Decode)?;
        let pushed = match &column.converter {
            Some(converter) => {
                let converted = converter.convert(value).map_err(|e| Error::Converter {
                    converter: converter.name().to_owned(),
                    column: column.name.clone(),
                    message: e.to_string(),
                })?;
                column
                    .builder
                    .push(&converted)
                    .ok_or_else(|| mismatch(column, field_type, &converted))
            }
            None => column
                .builder
                .push(&value)
                .ok_or_else(|| mismatch(column, field_type, &value)),
        };
        pushed?;
    }
    Ok(())
}

fn mismatch(column: &ResultColumn, field_type: FieldType, value: &Value<'_>) -> Error {
    Error::Conversion {
        column: column.name.clone(),
        expected: field_type.type_info_name(),
        got: format!("{} {:?}", value.kind(), value.to_string()),
    }
}

fn finish(columns: Vec<ResultColumn>, limited: Option<u64>) -> Result<Frame, Error> {
    let mut frame = Frame::new("");
    for column in columns {
        frame.push_field(column::field(&column.name, column.builder)?);
    }
    if let Some(limit) = limited {
        frame.set_meta(FrameMeta::default().with_notice(row_limit_notice(limit)));
    }
    Ok(frame)
}

/// Builds a frame from a stream of rows (data/sqlutil/sql.go `FrameFromRows`).
///
/// The columns come from the first row, so a stream without rows gives a frame without
/// fields; [`query_frame`] asks the database for the columns then.
///
/// # Errors
///
/// [`Error::Query`] when the stream fails, [`Error::DuplicateColumn`], and
/// [`Error::Decode`], [`Error::Conversion`] or [`Error::Converter`] for a cell that does not
/// fit its field.
pub async fn frame_from_rows<DB, S>(rows: S, options: &FrameOptions) -> Result<Frame, Error>
where
    DB: SqlDriver,
    S: Stream<Item = Result<DB::Row, sqlx::Error>>,
{
    let limit = options.row_limit.unwrap_or(u64::MAX);
    if limit == 0 {
        return Ok(Frame::new(""));
    }
    let mut rows = std::pin::pin!(rows);
    let Some(first) = rows.next().await else {
        return Ok(Frame::new(""));
    };
    let first = first.map_err(Error::Query)?;
    let mut columns = plan::<DB>(row_columns::<DB>(&first), options, 1024)?;
    push_row::<DB>(&first, &mut columns)?;
    let mut count = 1_u64;
    while count < limit {
        let Some(row) = rows.next().await else {
            return finish(columns, None);
        };
        push_row::<DB>(&row.map_err(Error::Query)?, &mut columns)?;
        count += 1;
    }
    // Go adds the notice as soon as the limit is reached, more rows or not.
    finish(columns, Some(limit))
}

/// Runs `sql` on `pool` and builds a frame from its rows ([`frame_from_rows`]); a result
/// without rows still gets its columns as empty fields.
///
/// # Errors
///
/// As [`frame_from_rows`].
pub async fn query_frame<DB: SqlDriver>(
    pool: &Pool<DB>,
    sql: &str,
    options: &FrameOptions,
) -> Result<Frame, Error> {
    let frame = frame_from_rows::<DB, _>(DB::fetch(pool, sql), options).await?;
    if !frame.fields().is_empty() || options.row_limit == Some(0) {
        return Ok(frame);
    }
    // No rows, so no columns yet. Statements without results (or several statements) cannot
    // be described: their frame has no fields, as in Go.
    match DB::describe(pool, sql).await {
        Ok(columns) => finish(plan::<DB>(columns, options, 0)?, None),
        Err(_) => Ok(frame),
    }
}
