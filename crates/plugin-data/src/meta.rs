//! [`FrameMeta`]: frame-level metadata, with every JSON key of the Go SDK's `data.FrameMeta`.
//!
//! Keys this crate does not know are kept in [`FrameMeta::other`] and written back unchanged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::FieldConfig;
use crate::string_enum::string_enum;

/// Metadata about a frame (Go `data.FrameMeta`). Serializes with the Go SDK's key names and order.
///
/// ```
/// use plugin_data::{FrameMeta, FrameType};
///
/// let meta = FrameMeta::default()
///     .with_type(FrameType::TimeseriesMulti)
///     .with_executed_query_string("SELECT 1");
/// let json = serde_json::to_string(&meta).unwrap();
/// assert_eq!(json, r#"{"type":"timeseries-multi","typeVersion":[0,0],"executedQueryString":"SELECT 1"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FrameMeta {
    /// The data-plane frame type (`type`).
    #[serde(
        rename = "type",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "frame_type_opt"
    )]
    pub frame_type: Option<FrameType>,
    /// The version of the frame type's contract (`typeVersion`, always written).
    #[serde(default)]
    pub type_version: FrameTypeVersion,
    /// A browsable path on the data source (`path`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// The separator of [`path`](Self::path) (`pathSeparator`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path_separator: String,
    /// Data-source specific values (`custom`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<Value>,
    /// Query statistics (`stats`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stats: Vec<QueryStat>,
    /// Notices shown with the data (`notices`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Notice>,
    /// A Grafana Live channel streaming more of this frame (`channel`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub channel: String,
    /// The visualisation Explore should use (`preferredVisualisationType`, British spelling).
    #[serde(
        rename = "preferredVisualisationType",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "vis_type_opt"
    )]
    pub preferred_visualisation: Option<VisType>,
    /// A panel plugin id Explore should use (`preferredVisualisationPluginId`).
    #[serde(
        rename = "preferredVisualisationPluginId",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub preferred_visualisation_plugin_id: String,
    /// The query as sent to the data source (`executedQueryString`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub executed_query_string: String,
    /// What the data is about, e.g. annotations (`dataTopic`).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "data_topic_opt"
    )]
    pub data_topic: Option<DataTopic>,
    /// Indexes of the fields that together identify a row (`uniqueRowIdFields`).
    #[serde(
        rename = "uniqueRowIdFields",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub unique_row_id_fields: Vec<usize>,
    /// Keys not known to this crate, kept and re-emitted verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Deserializes an optional string enum where `""` (Go's zero value) means absent.
macro_rules! empty_is_none {
    ($fn_name:ident, $ty:ty) => {
        fn $fn_name<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<$ty>, D::Error> {
            let text = Option::<std::borrow::Cow<'de, str>>::deserialize(d)?;
            Ok(text
                .filter(|t| !t.is_empty())
                .map(|t| <$ty>::from(t.as_ref())))
        }
    };
}
empty_is_none!(frame_type_opt, FrameType);
empty_is_none!(vis_type_opt, VisType);
empty_is_none!(data_topic_opt, DataTopic);

impl FrameMeta {
    /// Sets the frame type, builder style.
    pub fn with_type(mut self, frame_type: FrameType) -> Self {
        self.frame_type = Some(frame_type);
        self
    }

    /// Sets the frame type version, builder style.
    pub fn with_type_version(mut self, major: u32, minor: u32) -> Self {
        self.type_version = FrameTypeVersion(major, minor);
        self
    }

    /// Sets the custom metadata, builder style.
    pub fn with_custom(mut self, custom: impl Into<Value>) -> Self {
        self.custom = Some(custom.into());
        self
    }

    /// Sets the executed query string, builder style.
    pub fn with_executed_query_string(mut self, query: impl Into<String>) -> Self {
        self.executed_query_string = query.into();
        self
    }

    /// Adds a notice, builder style.
    pub fn with_notice(mut self, notice: Notice) -> Self {
        self.notices.push(notice);
        self
    }

    /// Sets the preferred visualisation, builder style.
    pub fn with_preferred_visualisation(mut self, vis: VisType) -> Self {
        self.preferred_visualisation = Some(vis);
        self
    }

    /// Sets the Live channel, builder style.
    pub fn with_channel(mut self, channel: impl Into<String>) -> Self {
        self.channel = channel.into();
        self
    }
}

string_enum! {
    /// The data-plane frame type (Go `data.FrameType`); see grafana/dataplane for the contracts.
    pub enum FrameType {
        /// `timeseries-wide`: one time field and several value fields.
        TimeseriesWide => "timeseries-wide",
        /// `timeseries-long`: a time field, value fields and string/bool factor fields.
        TimeseriesLong => "timeseries-long",
        /// `timeseries-multi`: one series per frame.
        TimeseriesMulti => "timeseries-multi",
        /// `timeseries-many`: legacy name of `timeseries-multi`.
        TimeseriesMany => "timeseries-many",
        /// `numeric-wide`.
        NumericWide => "numeric-wide",
        /// `numeric-long`.
        NumericLong => "numeric-long",
        /// `numeric-multi`.
        NumericMulti => "numeric-multi",
        /// `log-lines`.
        LogLines => "log-lines",
        /// `directory-listing`.
        DirectoryListing => "directory-listing",
        /// `table`.
        Table => "table",
    }
}

/// The broad kind of a [`FrameType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameTypeKind {
    /// Time series.
    Timeseries,
    /// Numeric (no time).
    Numeric,
    /// Logs.
    Logs,
}

impl FrameType {
    /// The kind of data this frame type carries, if it has one.
    pub fn kind(&self) -> Option<FrameTypeKind> {
        match self {
            FrameType::TimeseriesWide
            | FrameType::TimeseriesLong
            | FrameType::TimeseriesMulti
            | FrameType::TimeseriesMany => Some(FrameTypeKind::Timeseries),
            FrameType::NumericWide | FrameType::NumericLong | FrameType::NumericMulti => {
                Some(FrameTypeKind::Numeric)
            }
            FrameType::LogLines => Some(FrameTypeKind::Logs),
            _ => None,
        }
    }

    /// Whether this is a time-series type.
    pub fn is_timeseries(&self) -> bool {
        self.kind() == Some(FrameTypeKind::Timeseries)
    }
}

/// `typeVersion`: `[major, minor]` of the frame type contract.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct FrameTypeVersion(pub u32, pub u32);

impl FrameTypeVersion {
    /// Whether this is `[0, 0]`, the version of frames that predate versioning.
    pub fn is_zero(&self) -> bool {
        self.0 == 0 && self.1 == 0
    }
}

string_enum! {
    /// A visualisation type hint for Explore (`preferredVisualisationType`).
    pub enum VisType {
        /// `graph`.
        Graph => "graph",
        /// `table`.
        Table => "table",
        /// `logs`.
        Logs => "logs",
        /// `trace`.
        Trace => "trace",
        /// `nodeGraph`.
        NodeGraph => "nodeGraph",
        /// `flamegraph`.
        FlameGraph => "flamegraph",
    }
}

string_enum! {
    /// What a frame is about (`dataTopic`).
    pub enum DataTopic {
        /// `annotations`.
        Annotations => "annotations",
    }
}

/// A query statistic: a [`FieldConfig`] describing it plus the `value`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueryStat {
    /// Display options (`displayName`, `unit`, ...), flattened into the stat object.
    #[serde(flatten)]
    pub config: FieldConfig,
    /// The statistic's value.
    #[serde(serialize_with = "crate::config::go_float::serialize")]
    pub value: f64,
}

impl QueryStat {
    /// A statistic with a display name and value.
    pub fn new(display_name: impl Into<String>, value: f64) -> Self {
        QueryStat {
            config: FieldConfig::default().with_display_name(display_name),
            value,
        }
    }
}

string_enum! {
    /// How serious a [`Notice`] is.
    pub enum NoticeSeverity {
        /// `info`.
        Info => "info",
        /// `warning`.
        Warning => "warning",
        /// `error`.
        Error => "error",
    }
}

// The enum comes from a macro, so `#[derive(Default)]` is not available.
#[allow(clippy::derivable_impls)]
impl Default for NoticeSeverity {
    fn default() -> Self {
        NoticeSeverity::Info
    }
}

/// Which inspector tab a [`Notice`] links to; an integer on the wire (0–4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InspectType {
    /// `0`: no link.
    #[default]
    None,
    /// `1`: the meta tab.
    Meta,
    /// `2`: the error tab.
    Error,
    /// `3`: the data tab.
    Data,
    /// `4`: the stats tab.
    Stats,
}

impl InspectType {
    fn code(self) -> u8 {
        match self {
            InspectType::None => 0,
            InspectType::Meta => 1,
            InspectType::Error => 2,
            InspectType::Data => 3,
            InspectType::Stats => 4,
        }
    }

    fn is_none(&self) -> bool {
        *self == InspectType::None
    }
}

impl Serialize for InspectType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u8(self.code())
    }
}

impl<'de> Deserialize<'de> for InspectType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match u64::deserialize(deserializer)? {
            1 => InspectType::Meta,
            2 => InspectType::Error,
            3 => InspectType::Data,
            4 => InspectType::Stats,
            _ => InspectType::None,
        })
    }
}

/// A message shown to the user with the data.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Notice {
    /// How serious the notice is.
    #[serde(default)]
    pub severity: NoticeSeverity,
    /// The message.
    #[serde(default)]
    pub text: String,
    /// An optional link.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub link: String,
    /// An optional inspector tab.
    #[serde(default, skip_serializing_if = "InspectType::is_none")]
    pub inspect: InspectType,
    /// Keys not known to this crate.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl Notice {
    /// A notice with a severity and text.
    pub fn new(severity: NoticeSeverity, text: impl Into<String>) -> Self {
        Notice {
            severity,
            text: text.into(),
            ..Notice::default()
        }
    }
}
