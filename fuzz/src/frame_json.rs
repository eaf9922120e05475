//! Frame JSON documents built from fuzz bytes, shaped like the ones Grafana
//! and the Go SDK write so that the decoder gets past its first checks.
//!
//! Byte-level fuzzing (plugin-data's `json_decode`) rarely produces a
//! document whose schema, columns, `entities` and `nanos` agree, so it
//! seldom reaches cell parsing, entity application or the time columns.
//! Here the fuzzer picks the document's structure (an [`Arbitrary`] tree)
//! and the keys come from the format's own vocabulary most of the time.

use arbitrary::Arbitrary;
use serde_json::{Map, Value, json};

/// Any JSON value; objects keep key order and may repeat keys.
#[derive(Arbitrary, Debug)]
pub enum Json {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A negative or small integer.
    Int(i64),
    /// An integer past `i64::MAX`.
    UInt(u64),
    /// A float (non-finite ones become `null`, as JSON has none).
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(Vec<(Key, Json)>),
}

impl Json {
    fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Int(n) => json!(n),
            Json::UInt(n) => json!(n),
            Json::Float(x) => json!(x),
            Json::Str(s) => json!(s),
            Json::Array(items) => items.iter().map(Json::to_value).collect(),
            Json::Object(entries) => Value::Object(object(
                entries.iter().map(|(k, v)| (k.as_str(), v.to_value())),
            )),
        }
    }
}

/// An object key: one the format knows, most of the time.
#[derive(Arbitrary, Debug)]
pub enum Key {
    /// A key of frame JSON, its meta or its field config.
    Known(KnownKey),
    /// Anything else.
    Other(String),
}

impl Key {
    fn as_str(&self) -> &str {
        match self {
            Key::Known(key) => key.as_str(),
            Key::Other(key) => key,
        }
    }
}

macro_rules! known_keys {
    ($($variant:ident = $key:literal),+ $(,)?) => {
        /// The keys frame JSON, `FrameMeta` and `FieldConfig` read.
        #[derive(Arbitrary, Debug, Clone, Copy)]
        #[allow(missing_docs)]
        pub enum KnownKey { $($variant),+ }

        impl KnownKey {
            fn as_str(self) -> &'static str {
                match self { $(KnownKey::$variant => $key),+ }
            }
        }
    };
}

known_keys! {
    Schema = "schema", Data = "data", Name = "name", RefId = "refId", Meta = "meta",
    Fields = "fields", Type = "type", TypeInfo = "typeInfo", Frame = "frame",
    Nullable = "nullable", Labels = "labels", Config = "config", Values = "values",
    Entities = "entities", Nanos = "nanos", NaN = "NaN", Inf = "Inf", NegInf = "NegInf",
    TypeVersion = "typeVersion", Path = "path", PathSeparator = "pathSeparator",
    Custom = "custom", Stats = "stats", Notices = "notices", Channel = "channel",
    PreferredVis = "preferredVisualisationType", PreferredVisPlugin = "preferredVisualisationPluginId",
    ExecutedQuery = "executedQueryString", DataTopic = "dataTopic", UniqueRowIds = "uniqueRowIdFields",
    Severity = "severity", Text = "text", Link = "link", Inspect = "inspect", Value = "value",
    DisplayName = "displayName", DisplayNameFromDs = "displayNameFromDS", Description = "description",
    Filterable = "filterable", Writeable = "writeable", Unit = "unit", Decimals = "decimals",
    Min = "min", Max = "max", Interval = "interval", Mappings = "mappings", Thresholds = "thresholds",
    Color = "color", Links = "links", NoValue = "noValue", Mode = "mode", Steps = "steps",
    Options = "options", Result = "result", Index = "index", Title = "title", Url = "url",
}

/// A frame JSON document.
#[derive(Arbitrary, Debug)]
pub struct Document {
    schema: Option<Schema>,
    data: Option<Data>,
    /// Data before schema: the decoder's other path (raw data, parsed once
    /// the schema is known).
    data_first: bool,
    extra: Vec<(Key, Json)>,
}

#[derive(Arbitrary, Debug)]
struct Schema {
    name: Option<String>,
    ref_id: Option<String>,
    meta: Option<Vec<(KnownKey, Json)>>,
    fields: Option<Vec<FieldSchema>>,
    extra: Vec<(Key, Json)>,
}

#[derive(Arbitrary, Debug)]
struct FieldSchema {
    name: Option<String>,
    simple_type: Option<SimpleType>,
    frame_type: Option<FrameType>,
    nullable: Option<bool>,
    labels: Option<Vec<(String, String)>>,
    config: Option<Vec<(KnownKey, Json)>>,
}

#[derive(Arbitrary, Debug)]
enum SimpleType {
    Number,
    String,
    Boolean,
    Time,
    Other,
    Enum,
    Invalid(String),
}

#[derive(Arbitrary, Debug)]
enum FrameType {
    Int8,
    Int16,
    Int32,
    Int64,
    UInt8,
    UInt16,
    UInt32,
    UInt64,
    Float32,
    Float64,
    Bool,
    String,
    Time,
    Json,
    Enum,
    Invalid(String),
}

#[derive(Arbitrary, Debug)]
struct Data {
    values: Option<Vec<Column>>,
    entities: Option<Vec<Option<Entities>>>,
    nanos: Option<Vec<Option<Vec<i64>>>>,
}

/// One column of `data.values`.
#[derive(Arbitrary, Debug)]
enum Column {
    Ints(Vec<Option<i64>>),
    UInts(Vec<Option<u64>>),
    Floats(Vec<Option<f64>>),
    Bools(Vec<Option<bool>>),
    Strings(Vec<Option<String>>),
    Cells(Vec<Json>),
    NotAnArray(Json),
}

#[derive(Arbitrary, Debug)]
struct Entities {
    nan: Option<Vec<u16>>,
    inf: Option<Vec<u16>>,
    neg_inf: Option<Vec<u16>>,
}

impl Document {
    /// The document as JSON text.
    pub fn to_json(&self) -> String {
        let schema = self
            .schema
            .as_ref()
            .map(|schema| ("schema", schema.to_value()));
        let data = self.data.as_ref().map(|data| ("data", data.to_value()));
        let parts = if self.data_first {
            [data, schema]
        } else {
            [schema, data]
        };
        let extra = self.extra.iter().map(|(k, v)| (k.as_str(), v.to_value()));
        Value::Object(object(parts.into_iter().flatten().chain(extra))).to_string()
    }
}

impl Schema {
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        if let Some(name) = &self.name {
            map.insert("name".into(), json!(name));
        }
        if let Some(ref_id) = &self.ref_id {
            map.insert("refId".into(), json!(ref_id));
        }
        if let Some(meta) = &self.meta {
            map.insert("meta".into(), Value::Object(known(meta)));
        }
        if let Some(fields) = &self.fields {
            map.insert(
                "fields".into(),
                fields.iter().map(FieldSchema::to_value).collect(),
            );
        }
        map.extend(
            self.extra
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_value())),
        );
        Value::Object(map)
    }
}

impl FieldSchema {
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        if let Some(name) = &self.name {
            map.insert("name".into(), json!(name));
        }
        if let Some(simple) = &self.simple_type {
            map.insert("type".into(), json!(simple.as_str()));
        }
        if self.frame_type.is_some() || self.nullable.is_some() {
            let mut info = Map::new();
            if let Some(frame) = &self.frame_type {
                info.insert("frame".into(), json!(frame.as_str()));
            }
            if let Some(nullable) = self.nullable {
                info.insert("nullable".into(), json!(nullable));
            }
            map.insert("typeInfo".into(), Value::Object(info));
        }
        if let Some(labels) = &self.labels {
            map.insert(
                "labels".into(),
                Value::Object(object(labels.iter().map(|(k, v)| (k.as_str(), json!(v))))),
            );
        }
        if let Some(config) = &self.config {
            map.insert("config".into(), Value::Object(known(config)));
        }
        Value::Object(map)
    }
}

impl SimpleType {
    fn as_str(&self) -> &str {
        match self {
            SimpleType::Number => "number",
            SimpleType::String => "string",
            SimpleType::Boolean => "boolean",
            SimpleType::Time => "time",
            SimpleType::Other => "other",
            SimpleType::Enum => "enum",
            SimpleType::Invalid(other) => other,
        }
    }
}

impl FrameType {
    fn as_str(&self) -> &str {
        match self {
            FrameType::Int8 => "int8",
            FrameType::Int16 => "int16",
            FrameType::Int32 => "int32",
            FrameType::Int64 => "int64",
            FrameType::UInt8 => "uint8",
            FrameType::UInt16 => "uint16",
            FrameType::UInt32 => "uint32",
            FrameType::UInt64 => "uint64",
            FrameType::Float32 => "float32",
            FrameType::Float64 => "float64",
            FrameType::Bool => "bool",
            FrameType::String => "string",
            FrameType::Time => "time.Time",
            FrameType::Json => "json.RawMessage",
            FrameType::Enum => "enum",
            FrameType::Invalid(other) => other,
        }
    }
}

impl Data {
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        if let Some(values) = &self.values {
            map.insert(
                "values".into(),
                values.iter().map(Column::to_value).collect(),
            );
        }
        if let Some(entities) = &self.entities {
            let entities = entities
                .iter()
                .map(|e| e.as_ref().map_or(Value::Null, Entities::to_value));
            map.insert("entities".into(), entities.collect());
        }
        if let Some(nanos) = &self.nanos {
            map.insert("nanos".into(), nanos.iter().map(|n| json!(n)).collect());
        }
        Value::Object(map)
    }
}

impl Column {
    fn to_value(&self) -> Value {
        match self {
            Column::Ints(cells) => json!(cells),
            Column::UInts(cells) => json!(cells),
            Column::Floats(cells) => json!(cells),
            Column::Bools(cells) => json!(cells),
            Column::Strings(cells) => json!(cells),
            Column::Cells(cells) => cells.iter().map(Json::to_value).collect(),
            Column::NotAnArray(value) => value.to_value(),
        }
    }
}

impl Entities {
    fn to_value(&self) -> Value {
        let mut map = Map::new();
        for (key, rows) in [
            ("NaN", &self.nan),
            ("Inf", &self.inf),
            ("NegInf", &self.neg_inf),
        ] {
            if let Some(rows) = rows {
                map.insert(key.into(), json!(rows));
            }
        }
        Value::Object(map)
    }
}

fn known(entries: &[(KnownKey, Json)]) -> Map<String, Value> {
    object(entries.iter().map(|(k, v)| (k.as_str(), v.to_value())))
}

fn object<'a>(entries: impl Iterator<Item = (&'a str, Value)>) -> Map<String, Value> {
    entries.map(|(k, v)| (k.to_owned(), v)).collect()
}
