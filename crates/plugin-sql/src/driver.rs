//! [`SqlDriver`]: what plugin-sql needs from a sqlx database, implemented for SQLite and
//! PostgreSQL.
//!
//! A driver names the field type each database type becomes (the Go SDK asks the driver for a
//! scan type, data/sqlutil/scanrow.go; the drivers here follow mattn/go-sqlite3 and pgx), reads
//! one cell as a [`Value`], and runs SQL text.

use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use plugin_data::FieldType;
use sqlx::{Database, Pool};

use crate::macros::Macros;
use crate::value::Value;

mod sealed {
    pub trait Sealed {}
}

/// A sqlx database that plugin-sql can turn into frames: [`sqlx::Sqlite`] (feature `sqlite`)
/// and [`sqlx::Postgres`] (feature `postgres`).
///
/// Sealed: the type rules of each database live here, next to their tests.
pub trait SqlDriver: Database + sealed::Sealed {
    /// The field type a column of database type `type_name` gets when no
    /// [`Converter`](crate::Converter) claims it; [`FieldType::String`] for types a frame has
    /// no type for. Every column is nullable: neither driver reports nullability, and the Go
    /// SDK assumes nullable then (data/sqlutil/scanrow.go).
    fn field_type(type_name: &str) -> FieldType;

    /// Reads cell `index` of `row`, whose column has database type `type_name` and field type
    /// `field_type`.
    ///
    /// # Errors
    ///
    /// The driver's error when the cell cannot be read.
    fn read<'r>(
        row: &'r Self::Row,
        index: usize,
        type_name: &str,
        field_type: FieldType,
    ) -> Result<Value<'r>, sqlx::Error>;

    /// Runs `sql` as it is (no parameters; several statements allowed where the database
    /// allows them) and streams the rows of its results.
    fn fetch<'a>(
        pool: &'a Pool<Self>,
        sql: &'a str,
    ) -> BoxStream<'a, Result<Self::Row, sqlx::Error>>;

    /// The result columns of `sql` as `(name, database type name)`, without running it. Used
    /// for results without rows, whose columns the rows cannot tell.
    fn describe<'a>(
        pool: &'a Pool<Self>,
        sql: &'a str,
    ) -> BoxFuture<'a, Result<Vec<(String, String)>, sqlx::Error>>;

    /// The macros this database's data sources start from: the Go SDK's defaults plus this
    /// dialect's time macros ([`Macros::sqlite`], [`Macros::postgres`]).
    fn default_macros() -> Macros;
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn columns_of<DB: Database>(columns: &[DB::Column]) -> Vec<(String, String)> {
    use sqlx::{Column, TypeInfo};
    columns
        .iter()
        .map(|c| (c.name().to_owned(), c.type_info().name().to_owned()))
        .collect()
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
fn decode_error(
    index: usize,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: source.into(),
    }
}

#[cfg(feature = "sqlite")]
mod sqlite {
    use super::*;
    use sqlx::{Decode, Executor, Row, Sqlite, TypeInfo, ValueRef};
    use std::borrow::Cow;

    impl sealed::Sealed for Sqlite {}

    impl SqlDriver for Sqlite {
        /// sqlx names a column by its declared type (`INTEGER` for any `*INT*`, `TEXT` for
        /// `*CHAR*`/`*CLOB*`/`*TEXT*`, `REAL` for `*REAL*`/`*FLOA*`/`*DOUB*`, `BOOLEAN`,
        /// `DATE`, `DATETIME` for `DATETIME`/`TIMESTAMP`, `TIME`, `BLOB`) and `NULL` for
        /// expressions, as mattn/go-sqlite3 picks its scan types. Expressions and `TIME`
        /// columns are strings there too.
        fn field_type(type_name: &str) -> FieldType {
            match type_name {
                "INTEGER" => FieldType::Int64,
                "REAL" | "NUMERIC" => FieldType::Float64,
                "BOOLEAN" => FieldType::Bool,
                "DATE" | "DATETIME" => FieldType::Time,
                _ => FieldType::String,
            }
        }

        fn read<'r>(
            row: &'r Self::Row,
            index: usize,
            _type_name: &str,
            _field_type: FieldType,
        ) -> Result<Value<'r>, sqlx::Error> {
            let raw = row.try_get_raw(index)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            // SQLite types values, not columns: read each by its storage class and let the
            // column coerce it. The class is matched by name without copying it.
            enum Class {
                Integer,
                Real,
                Blob,
                Text,
            }
            let class = match raw.type_info().name() {
                "INTEGER" => Class::Integer,
                "REAL" => Class::Real,
                "BLOB" => Class::Blob,
                _ => Class::Text,
            };
            let decode = |e| decode_error(index, e);
            let value = match class {
                Class::Integer => {
                    Value::Int(<i64 as Decode<'r, Sqlite>>::decode(raw).map_err(decode)?)
                }
                Class::Real => {
                    Value::Float(<f64 as Decode<'r, Sqlite>>::decode(raw).map_err(decode)?)
                }
                Class::Blob => Value::Bytes(Cow::Borrowed(
                    <&[u8] as Decode<'r, Sqlite>>::decode(raw).map_err(decode)?,
                )),
                Class::Text => Value::Text(Cow::Borrowed(
                    <&str as Decode<'r, Sqlite>>::decode(raw).map_err(decode)?,
                )),
            };
            Ok(value)
        }

        fn fetch<'a>(
            pool: &'a Pool<Self>,
            sql: &'a str,
        ) -> BoxStream<'a, Result<Self::Row, sqlx::Error>> {
            sqlx::raw_sql(sql).fetch(pool)
        }

        fn describe<'a>(
            pool: &'a Pool<Self>,
            sql: &'a str,
        ) -> BoxFuture<'a, Result<Vec<(String, String)>, sqlx::Error>> {
            Box::pin(async move { Ok(columns_of::<Sqlite>(pool.describe(sql).await?.columns())) })
        }

        fn default_macros() -> Macros {
            Macros::sqlite()
        }
    }
}

#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use sqlx::postgres::PgValueFormat;
    use sqlx::{Executor, Postgres, Row, ValueRef};
    use std::borrow::Cow;

    impl sealed::Sealed for Postgres {}

    /// Microseconds from 1970-01-01 to 2000-01-01, PostgreSQL's binary epoch.
    const PG_EPOCH_MICROS: i64 = 946_684_800_000_000;

    fn parse<T: std::str::FromStr>(index: usize, text: &str, what: &str) -> Result<T, sqlx::Error> {
        text.parse()
            .map_err(|_| decode_error(index, format!("{text:?} is not a valid {what}")))
    }

    /// `bytea` in text form: `\x` and hex digits.
    fn unhex(index: usize, text: &str) -> Result<Vec<u8>, sqlx::Error> {
        let hex = text
            .strip_prefix("\\x")
            .ok_or_else(|| decode_error(index, "bytea text without \\x prefix"))?;
        let digit = |b: u8| (b as char).to_digit(16);
        hex.as_bytes()
            .chunks(2)
            .map(|pair| match pair {
                [h, l] => Some((digit(*h)? * 16 + digit(*l)?) as u8),
                _ => None,
            })
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| decode_error(index, "bytea text is not hex"))
    }

    fn be<const N: usize>(index: usize, bytes: &[u8]) -> Result<[u8; N], sqlx::Error> {
        bytes
            .try_into()
            .map_err(|_| decode_error(index, format!("expected {N} bytes, got {}", bytes.len())))
    }

    impl SqlDriver for Postgres {
        /// pgx's scan types (`stdlib` `ColumnTypeScanType`): `int2`/`int4`/`int8` →
        /// int16/int32/int64, `float4`/`float8` and `numeric` → float32/float64/float64,
        /// `bool`, `date`/`timestamp`/`timestamptz` → time; everything else as its text.
        fn field_type(type_name: &str) -> FieldType {
            match type_name {
                "INT2" => FieldType::Int16,
                "INT4" => FieldType::Int32,
                "INT8" => FieldType::Int64,
                "FLOAT4" => FieldType::Float32,
                "FLOAT8" | "NUMERIC" => FieldType::Float64,
                "BOOL" => FieldType::Bool,
                "DATE" | "TIMESTAMP" | "TIMESTAMPTZ" => FieldType::Time,
                _ => FieldType::String,
            }
        }

        fn read<'r>(
            row: &'r Self::Row,
            index: usize,
            type_name: &str,
            field_type: FieldType,
        ) -> Result<Value<'r>, sqlx::Error> {
            let raw = row.try_get_raw(index)?;
            if raw.is_null() {
                return Ok(Value::Null);
            }
            if raw.format() == PgValueFormat::Binary {
                return read_binary(
                    index,
                    raw.as_bytes().map_err(|e| decode_error(index, e))?,
                    type_name,
                );
            }
            // Plain SQL runs over the simple query protocol: every value is text.
            let text = raw.as_str().map_err(|e| decode_error(index, e))?;
            Ok(match field_type {
                FieldType::Int16 | FieldType::Int32 | FieldType::Int64 => {
                    Value::Int(parse(index, text, "integer")?)
                }
                FieldType::Float32 | FieldType::Float64 => Value::Float(parse_float(index, text)?),
                FieldType::Bool => Value::Bool(match text {
                    "t" => true,
                    "f" => false,
                    other => {
                        return Err(decode_error(index, format!("{other:?} is not a boolean")));
                    }
                }),
                FieldType::Time => {
                    Value::Time(crate::value::parse_timestamp(text).ok_or_else(|| {
                        decode_error(
                            index,
                            format!("{text:?} is not a timestamp a frame can hold"),
                        )
                    })?)
                }
                _ if type_name == "BYTEA" => Value::Bytes(Cow::Owned(unhex(index, text)?)),
                _ => Value::Text(Cow::Borrowed(text)),
            })
        }

        fn fetch<'a>(
            pool: &'a Pool<Self>,
            sql: &'a str,
        ) -> BoxStream<'a, Result<Self::Row, sqlx::Error>> {
            sqlx::raw_sql(sql).fetch(pool)
        }

        fn describe<'a>(
            pool: &'a Pool<Self>,
            sql: &'a str,
        ) -> BoxFuture<'a, Result<Vec<(String, String)>, sqlx::Error>> {
            Box::pin(async move { Ok(columns_of::<Postgres>(pool.describe(sql).await?.columns())) })
        }

        fn default_macros() -> Macros {
            Macros::postgres()
        }
    }

    /// PostgreSQL's text form of floats: `NaN`, `Infinity`, `-Infinity` or a decimal.
    fn parse_float(index: usize, text: &str) -> Result<f64, sqlx::Error> {
        match text {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            _ => parse(index, text, "number"),
        }
    }

    /// Binary values, for rows that come from prepared statements (`sqlx::query`) rather
    /// than [`SqlDriver::fetch`].
    fn read_binary<'r>(
        index: usize,
        bytes: &'r [u8],
        type_name: &str,
    ) -> Result<Value<'r>, sqlx::Error> {
        Ok(match type_name {
            "INT2" => Value::Int(i16::from_be_bytes(be(index, bytes)?).into()),
            "INT4" => Value::Int(i32::from_be_bytes(be(index, bytes)?).into()),
            "INT8" => Value::Int(i64::from_be_bytes(be(index, bytes)?)),
            "FLOAT4" => Value::Float(f32::from_be_bytes(be(index, bytes)?).into()),
            "FLOAT8" => Value::Float(f64::from_be_bytes(be(index, bytes)?)),
            "BOOL" => Value::Bool(be::<1>(index, bytes)?[0] != 0),
            "TIMESTAMP" | "TIMESTAMPTZ" => {
                let micros = i64::from_be_bytes(be(index, bytes)?);
                Value::Time(
                    micros
                        .checked_add(PG_EPOCH_MICROS)
                        .and_then(|m| m.checked_mul(1_000))
                        .ok_or_else(|| decode_error(index, "timestamp out of range"))?,
                )
            }
            "DATE" => {
                let days = i64::from(i32::from_be_bytes(be(index, bytes)?));
                Value::Time(
                    (days * 86_400_000_000 + PG_EPOCH_MICROS)
                        .checked_mul(1_000)
                        .ok_or_else(|| decode_error(index, "date out of range"))?,
                )
            }
            "NUMERIC" => {
                return Err(decode_error(
                    index,
                    "binary NUMERIC is not supported; run the SQL through SqlDriver::fetch",
                ));
            }
            _ => match std::str::from_utf8(bytes) {
                Ok(text) => Value::Text(Cow::Borrowed(text)),
                Err(_) => Value::Bytes(Cow::Borrowed(bytes)),
            },
        })
    }
}
