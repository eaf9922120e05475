//! [`Converter`] and [`StringConverter`]: user rules for columns the default type mapping does
//! not fit (data/sqlutil/converter.go).
//!
//! A converter claims a column by its database type name, by a predicate on that name, or by
//! the column's name; the first converter that claims a column wins
//! (data/sqlutil/scanrow.go `converterMatches`). It gives the column its field type and turns
//! each cell's [`Value`] into the value stored in the frame.
//!
//! ```
//! use plugin_data::FieldType;
//! use plugin_sql::{Converter, StringConverter, Value};
//!
//! // Unix seconds in an INTEGER column named `ts` become times.
//! let seconds = Converter::for_column("unix seconds", "ts", FieldType::Time, |value| {
//!     Ok(match value {
//!         Value::Int(s) => Value::Time(s * 1_000_000_000),
//!         other => other.into_owned(),
//!     })
//! });
//! assert_eq!(seconds.name(), "unix seconds");
//!
//! // Upper-case every TEXT value.
//! let shout = StringConverter::new("shout", "TEXT").with_conversion(|s| Ok(s.to_uppercase()));
//! let shout = Converter::from(shout);
//! assert_eq!(shout.field_type(), FieldType::String);
//! ```

use std::fmt;
use std::sync::Arc;

use plugin_data::FieldType;

use crate::value::Value;

/// The error a converter function returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

type ConvertFn = dyn for<'a> Fn(Value<'a>) -> Result<Value<'static>, BoxError> + Send + Sync;
type TypePredicate = dyn Fn(&str) -> bool + Send + Sync;
type TextFn = dyn Fn(&str) -> Result<String, BoxError> + Send + Sync;
type ReplaceFn = dyn Fn(&str) -> Result<Value<'static>, BoxError> + Send + Sync;

#[derive(Clone)]
enum Claim {
    TypeName(String),
    TypeMatching(Arc<TypePredicate>),
    Column(String),
}

/// A rule that gives matching columns a field type and converts their values.
///
/// Cheap to clone; data sources share one list across queries.
#[derive(Clone)]
pub struct Converter {
    name: String,
    claim: Claim,
    field_type: FieldType,
    convert: Arc<ConvertFn>,
}

impl Converter {
    fn new(
        name: impl Into<String>,
        claim: Claim,
        field_type: FieldType,
        convert: impl for<'a> Fn(Value<'a>) -> Result<Value<'static>, BoxError> + Send + Sync + 'static,
    ) -> Self {
        Converter {
            name: name.into(),
            claim,
            field_type,
            convert: Arc::new(convert),
        }
    }

    /// Claims columns whose database type name is exactly `type_name` (case-sensitive, as
    /// Go's `InputTypeName`), e.g. `"NUMERIC"` or `"UUID"`.
    pub fn for_type_name(
        name: impl Into<String>,
        type_name: impl Into<String>,
        field_type: FieldType,
        convert: impl for<'a> Fn(Value<'a>) -> Result<Value<'static>, BoxError> + Send + Sync + 'static,
    ) -> Self {
        Converter::new(name, Claim::TypeName(type_name.into()), field_type, convert)
    }

    /// Claims columns whose database type name satisfies `matches` (Go's `InputTypeRegex` and
    /// `InputTypeMatcher`); asked once per column, never per row.
    pub fn for_type_matching(
        name: impl Into<String>,
        matches: impl Fn(&str) -> bool + Send + Sync + 'static,
        field_type: FieldType,
        convert: impl for<'a> Fn(Value<'a>) -> Result<Value<'static>, BoxError> + Send + Sync + 'static,
    ) -> Self {
        Converter::new(
            name,
            Claim::TypeMatching(Arc::new(matches)),
            field_type,
            convert,
        )
    }

    /// Claims the column named `column` (case-sensitive, as Go's `InputColumnName`).
    pub fn for_column(
        name: impl Into<String>,
        column: impl Into<String>,
        field_type: FieldType,
        convert: impl for<'a> Fn(Value<'a>) -> Result<Value<'static>, BoxError> + Send + Sync + 'static,
    ) -> Self {
        Converter::new(name, Claim::Column(column.into()), field_type, convert)
    }

    /// Gives the column named `column` the field type `field_type`, its values coerced as
    /// the default mapping coerces them (numeric text to numbers, Unix seconds or time text
    /// to times, …). Meant for SQLite, whose expression columns have no declared type and
    /// so are strings.
    pub fn column_as(column: impl Into<String>, field_type: FieldType) -> Self {
        let column = column.into();
        Converter::for_column(
            format!("{column} as {field_type}"),
            column,
            field_type,
            |value| Ok(value.into_owned()),
        )
    }

    /// The name, used in error messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field type of the columns this converter claims; they are nullable.
    pub fn field_type(&self) -> FieldType {
        self.field_type
    }

    /// Whether this converter claims a column named `column` of database type `type_name`.
    pub fn claims(&self, type_name: &str, column: &str) -> bool {
        match &self.claim {
            Claim::TypeName(name) => !name.is_empty() && name == type_name,
            Claim::TypeMatching(matches) => matches(type_name),
            Claim::Column(name) => !name.is_empty() && name == column,
        }
    }

    /// Converts one cell.
    ///
    /// # Errors
    ///
    /// Whatever the conversion function returns.
    pub fn convert(&self, value: Value<'_>) -> Result<Value<'static>, BoxError> {
        (self.convert)(value)
    }
}

impl fmt::Debug for Converter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let claim = match &self.claim {
            Claim::TypeName(name) => format!("type {name:?}"),
            Claim::TypeMatching(_) => "type predicate".to_owned(),
            Claim::Column(name) => format!("column {name:?}"),
        };
        f.debug_struct("Converter")
            .field("name", &self.name)
            .field("claims", &claim)
            .field("field_type", &self.field_type)
            .finish_non_exhaustive()
    }
}

/// A converter that sees each value as text (data/sqlutil/converter.go `StringConverter`,
/// kept there for backwards compatibility): an optional conversion of the text, then an
/// optional replacer that turns the text into a value of another field type. Becomes a
/// [`Converter`] with [`From`].
#[derive(Clone)]
pub struct StringConverter {
    name: String,
    type_name: String,
    conversion: Option<Arc<TextFn>>,
    replacer: Option<(FieldType, Arc<ReplaceFn>)>,
}

impl StringConverter {
    /// Claims columns of database type `type_name`; without a conversion or replacer it
    /// stores each value's text.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        StringConverter {
            name: name.into(),
            type_name: type_name.into(),
            conversion: None,
            replacer: None,
        }
    }

    /// Rewrites the text first (Go's `ConversionFunc`).
    pub fn with_conversion(
        mut self,
        conversion: impl Fn(&str) -> Result<String, BoxError> + Send + Sync + 'static,
    ) -> Self {
        self.conversion = Some(Arc::new(conversion));
        self
    }

    /// Replaces the text by a value of `field_type` (Go's `StringFieldReplacer`).
    pub fn with_replacer(
        mut self,
        field_type: FieldType,
        replace: impl Fn(&str) -> Result<Value<'static>, BoxError> + Send + Sync + 'static,
    ) -> Self {
        self.replacer = Some((field_type, Arc::new(replace)));
        self
    }
}

impl fmt::Debug for StringConverter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StringConverter")
            .field("name", &self.name)
            .field("type_name", &self.type_name)
            .field("conversion", &self.conversion.is_some())
            .field("replacer", &self.replacer.as_ref().map(|(t, _)| *t))
            .finish()
    }
}

impl From<StringConverter> for Converter {
    fn from(s: StringConverter) -> Self {
        let field_type = s.replacer.as_ref().map_or(FieldType::String, |(t, _)| *t);
        let StringConverter {
            name,
            type_name,
            conversion,
            replacer,
        } = s;
        Converter::for_type_name(name, type_name, field_type, move |value| {
            if value == Value::Null {
                return Ok(Value::Null);
            }
            let mut text = value.to_string();
            if let Some(conversion) = &conversion {
                text = conversion(&text)?;
            }
            match &replacer {
                Some((_, replace)) => replace(&text),
                None => Ok(Value::from(text)),
            }
        })
    }
}
