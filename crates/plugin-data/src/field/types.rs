//! [`FieldType`]: the Grafana field types and how each maps to Arrow and to JSON names.

use std::fmt;

use arrow_schema::{DataType, TimeUnit};

/// The type of a [`Field`](crate::Field)'s values, without nullability.
///
/// These are exactly the Go SDK's field types; each also exists as a nullable variant
/// ([`Field::is_nullable`](crate::Field::is_nullable)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// `int8`, Arrow `Int8`.
    Int8,
    /// `int16`, Arrow `Int16`.
    Int16,
    /// `int32`, Arrow `Int32`.
    Int32,
    /// `int64`, Arrow `Int64`.
    Int64,
    /// `uint8`, Arrow `UInt8`.
    UInt8,
    /// `uint16`, Arrow `UInt16`.
    UInt16,
    /// `uint32`, Arrow `UInt32`.
    UInt32,
    /// `uint64`, Arrow `UInt64`.
    UInt64,
    /// `float32`, Arrow `Float32`.
    Float32,
    /// `float64`, Arrow `Float64`.
    Float64,
    /// `bool`, Arrow `Boolean`.
    Bool,
    /// `string`, Arrow `Utf8`.
    String,
    /// `time.Time`: nanoseconds since the Unix epoch, Arrow `Timestamp(Nanosecond, None)`.
    Time,
    /// `json.RawMessage`: raw JSON documents, Arrow `Binary`.
    Json,
    /// `enum`: an index into the field config's enum texts, Arrow `UInt16` with `tstype=enum`.
    Enum,
}

impl FieldType {
    /// Every field type, in the Go SDK's order.
    pub const ALL: [FieldType; 15] = [
        FieldType::Int8,
        FieldType::Int16,
        FieldType::Int32,
        FieldType::Int64,
        FieldType::UInt8,
        FieldType::UInt16,
        FieldType::UInt32,
        FieldType::UInt64,
        FieldType::Float32,
        FieldType::Float64,
        FieldType::Bool,
        FieldType::String,
        FieldType::Time,
        FieldType::Json,
        FieldType::Enum,
    ];

    /// The Arrow data type that stores values of this type.
    pub fn arrow_data_type(self) -> DataType {
        match self {
            FieldType::Int8 => DataType::Int8,
            FieldType::Int16 => DataType::Int16,
            FieldType::Int32 => DataType::Int32,
            FieldType::Int64 => DataType::Int64,
            FieldType::UInt8 => DataType::UInt8,
            FieldType::UInt16 | FieldType::Enum => DataType::UInt16,
            FieldType::UInt32 => DataType::UInt32,
            FieldType::UInt64 => DataType::UInt64,
            FieldType::Float32 => DataType::Float32,
            FieldType::Float64 => DataType::Float64,
            FieldType::Bool => DataType::Boolean,
            FieldType::String => DataType::Utf8,
            FieldType::Time => DataType::Timestamp(TimeUnit::Nanosecond, None),
            FieldType::Json => DataType::Binary,
        }
    }

    /// The Go SDK's item type name, used in JSON `typeInfo.frame` (`float64`, `time.Time`,
    /// `json.RawMessage`, `enum`, ...).
    pub fn type_info_name(self) -> &'static str {
        match self {
            FieldType::Int8 => "int8",
            FieldType::Int16 => "int16",
            FieldType::Int32 => "int32",
            FieldType::Int64 => "int64",
            FieldType::UInt8 => "uint8",
            FieldType::UInt16 => "uint16",
            FieldType::UInt32 => "uint32",
            FieldType::UInt64 => "uint64",
            FieldType::Float32 => "float32",
            FieldType::Float64 => "float64",
            FieldType::Bool => "bool",
            FieldType::String => "string",
            FieldType::Time => "time.Time",
            FieldType::Json => "json.RawMessage",
            FieldType::Enum => "enum",
        }
    }

    /// Parses a `typeInfo.frame` name, including the aliases the Go SDK accepts
    /// (`int`, `double`, `float`, `boolean`, `time`, `json`).
    pub fn from_type_info_name(name: &str) -> Option<FieldType> {
        Some(match name {
            "int8" => FieldType::Int8,
            "int16" => FieldType::Int16,
            "int32" => FieldType::Int32,
            "int64" | "int" => FieldType::Int64,
            "uint8" => FieldType::UInt8,
            "uint16" => FieldType::UInt16,
            "uint32" => FieldType::UInt32,
            "uint64" => FieldType::UInt64,
            "float32" | "float" => FieldType::Float32,
            "float64" | "double" => FieldType::Float64,
            "bool" | "boolean" => FieldType::Bool,
            "string" => FieldType::String,
            "time.Time" | "time" => FieldType::Time,
            "json.RawMessage" | "json" => FieldType::Json,
            "enum" => FieldType::Enum,
            _ => return None,
        })
    }

    /// The TypeScript-side type (`tstype` in Arrow metadata, `type` in JSON schema):
    /// `number`, `string`, `boolean`, `time`, `other` or `enum`.
    pub fn simple_type(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Bool => "boolean",
            FieldType::Time => "time",
            FieldType::Json => "other",
            FieldType::Enum => "enum",
            _ => "number",
        }
    }

    /// The field type a bare `type` (simple type) name implies when `typeInfo` is absent.
    pub fn from_simple_type(name: &str) -> Option<FieldType> {
        Some(match name {
            "number" => FieldType::Float64,
            "string" => FieldType::String,
            "boolean" => FieldType::Bool,
            "time" => FieldType::Time,
            "other" => FieldType::Json,
            "enum" => FieldType::Enum,
            _ => return None,
        })
    }

    /// Whether values are numbers (integers or floats, not enum).
    pub fn is_numeric(self) -> bool {
        self.simple_type() == "number"
    }

    /// Whether values are floating point.
    pub fn is_float(self) -> bool {
        matches!(self, FieldType::Float32 | FieldType::Float64)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.type_info_name())
    }
}
