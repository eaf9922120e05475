//! [`Error`]: everything that can go wrong between a query's JSON and its frame.

use plugin_backend::ErrorSource;

/// An error of this crate.
///
/// Each variant knows who is to blame ([`Error::source_of_blame`]), so a failed query becomes
/// a `DataResponse` error with the right [`ErrorSource`], as sqlds does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The query JSON does not parse into the query model (data/sqlutil/query.go `ErrorJSON`).
    #[error("error unmarshaling query JSON to the Query Model: {0}")]
    QueryJson(#[source] serde_json::Error),
    /// A macro was called with the wrong number of arguments
    /// (data/sqlutil/macros.go `ErrorBadArgumentCount`).
    #[error("unexpected number of arguments: expected {expected}, received {received}")]
    BadArgumentCount {
        /// What the macro expects, e.g. `1 argument`.
        expected: &'static str,
        /// How many arguments it got.
        received: usize,
    },
    /// A macro's argument list has no closing bracket (data/sqlutil/macros.go).
    #[error("failed to parse macro arguments (missing close bracket?)")]
    MissingCloseBracket,
    /// A macro rejected its arguments, e.g. an interval that does not parse.
    #[error("{0}")]
    Macro(String),
    /// The database rejected or failed the query (sqlds `ErrorQuery`).
    #[error("error querying the database: {0}")]
    Query(#[source] sqlx::Error),
    /// A cell could not be read from a result row.
    #[error("could not process SQL results: {0}")]
    Decode(#[source] sqlx::Error),
    /// Two result columns share a name; frames need unique field names
    /// (data/sqlutil/scanrow.go).
    #[error(
        "duplicate column names are not allowed, found identical name {name:?} at column indices {first} and {second}"
    )]
    DuplicateColumn {
        /// The repeated name.
        name: String,
        /// The first column with it.
        first: usize,
        /// The second column with it.
        second: usize,
    },
    /// A value does not fit its column's field type (data/sqlutil/converter.go
    /// `ErrorUnexpectedTypeConversion`).
    #[error("conversion error, column {column:?}: expected {expected} input but got {got}")]
    Conversion {
        /// The column.
        column: String,
        /// The field type the column has.
        expected: &'static str,
        /// What the row held.
        got: String,
    },
    /// A user [`Converter`](crate::Converter) failed.
    #[error("converter {converter:?} failed on column {column:?}: {message}")]
    Converter {
        /// The converter's name.
        converter: String,
        /// The column.
        column: String,
        /// The converter's message.
        message: String,
    },
    /// A frame operation failed (long to wide, for example).
    #[error(transparent)]
    Frame(#[from] plugin_data::Error),
    /// Resampling needs a time series frame (data/sqlutil/resample.go).
    #[error("can not fill missing, not timeseries frame")]
    NotTimeSeries,
    /// Resampling met a null time (data/sqlutil/resample.go).
    #[error("time point is nil")]
    NullTime,
    /// The query asks for something this crate does not do (the `multi` format).
    #[error("{0}")]
    Unsupported(String),
}

impl Error {
    /// Who is to blame: the user's query and the database are downstream; converting
    /// results is the plugin's job (sqlds query.go, datasource.go).
    pub fn source_of_blame(&self) -> ErrorSource {
        match self {
            Error::QueryJson(_)
            | Error::BadArgumentCount { .. }
            | Error::MissingCloseBracket
            | Error::Macro(_)
            | Error::Query(_)
            | Error::DuplicateColumn { .. }
            | Error::Unsupported(_) => ErrorSource::Downstream,
            Error::Conversion { .. }
            | Error::Decode(_)
            | Error::Converter { .. }
            | Error::Frame(_)
            | Error::NotTimeSeries
            | Error::NullTime => ErrorSource::Plugin,
        }
    }
}

impl From<Error> for plugin_backend::Error {
    fn from(error: Error) -> Self {
        let source = error.source_of_blame();
        plugin_backend::Error::new(error).with_source(source)
    }
}
