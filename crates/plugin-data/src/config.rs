//! [`FieldConfig`]: display options of a field, with every JSON key of the Go SDK's
//! `data.FieldConfig`.
//!
//! Keys this crate does not know are kept in [`FieldConfig::other`] (and the `other` maps of the
//! nested types) and written back unchanged.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::string_enum::string_enum;

/// Display options of a field (Go `data.FieldConfig`), serialized with the Go key names.
///
/// `min`, `max` and threshold values follow Go's `ConfFloat64`: `NaN`/`±Inf` are written as
/// `null`, and `null` reads back as `-Inf` (as Grafana's frontend does).
///
/// ```
/// use plugin_data::FieldConfig;
///
/// let config = FieldConfig::default().with_unit("ms").with_decimals(2);
/// assert_eq!(serde_json::to_string(&config).unwrap(), r#"{"unit":"ms","decimals":2}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct FieldConfig {
    /// Overrides the displayed name (`displayName`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub display_name: String,
    /// A display name set by the data source (`displayNameFromDS`).
    #[serde(
        rename = "displayNameFromDS",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub display_name_from_ds: String,
    /// A browsable path for the field (`path`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub path: String,
    /// A human readable description (`description`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Whether ad-hoc filters can use the field (`filterable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filterable: Option<bool>,
    /// Whether the field can be edited (`writeable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writeable: Option<bool>,
    /// The unit (`unit`), e.g. `ms` or `percentunit`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    /// Number of decimals to display (`decimals`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u16>,
    /// Minimum value (`min`); `NaN`/`±Inf` serialize as `null`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "conf_float_opt"
    )]
    pub min: Option<f64>,
    /// Maximum value (`max`); `NaN`/`±Inf` serialize as `null`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "conf_float_opt"
    )]
    pub max: Option<f64>,
    /// Expected interval between values in milliseconds (`interval`; 0 = unset).
    #[serde(
        default,
        skip_serializing_if = "is_zero",
        serialize_with = "go_float::serialize"
    )]
    pub interval: f64,
    /// Value mappings (`mappings`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<ValueMapping>,
    /// Thresholds (`thresholds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<ThresholdsConfig>,
    /// Color options (`color`), free-form.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub color: Map<String, Value>,
    /// Data links (`links`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<DataLink>,
    /// Text shown for missing values (`noValue`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub no_value: String,
    /// Type-specific config (`type`), e.g. the enum texts of an enum field.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub type_config: Option<FieldTypeConfig>,
    /// Panel-specific options (`custom`), free-form.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub custom: Map<String, Value>,
    /// Keys not known to this crate, kept and re-emitted verbatim.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

impl FieldConfig {
    /// Sets `displayName`, builder style.
    pub fn with_display_name(mut self, name: impl Into<String>) -> Self {
        self.display_name = name.into();
        self
    }

    /// Sets `displayNameFromDS`, builder style.
    pub fn with_display_name_from_ds(mut self, name: impl Into<String>) -> Self {
        self.display_name_from_ds = name.into();
        self
    }

    /// Sets `unit`, builder style.
    pub fn with_unit(mut self, unit: impl Into<String>) -> Self {
        self.unit = unit.into();
        self
    }

    /// Sets `decimals`, builder style.
    pub fn with_decimals(mut self, decimals: u16) -> Self {
        self.decimals = Some(decimals);
        self
    }

    /// Sets `min`, builder style.
    pub fn with_min(mut self, min: f64) -> Self {
        self.min = Some(min);
        self
    }

    /// Sets `max`, builder style.
    pub fn with_max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// Sets `interval` (milliseconds), builder style.
    pub fn with_interval_ms(mut self, interval: f64) -> Self {
        self.interval = interval;
        self
    }

    /// Sets `filterable`, builder style.
    pub fn with_filterable(mut self, filterable: bool) -> Self {
        self.filterable = Some(filterable);
        self
    }

    /// Adds a data link, builder style.
    pub fn with_link(mut self, link: DataLink) -> Self {
        self.links.push(link);
        self
    }

    /// Adds a value mapping, builder style.
    pub fn with_mapping(mut self, mapping: ValueMapping) -> Self {
        self.mappings.push(mapping);
        self
    }

    /// Sets the thresholds, builder style.
    pub fn with_thresholds(mut self, thresholds: ThresholdsConfig) -> Self {
        self.thresholds = Some(thresholds);
        self
    }

    /// Sets the enum texts of an enum field (`type.enum.text`), builder style.
    pub fn with_enum_texts<I, S>(mut self, texts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let enum_config = EnumFieldConfig {
            text: texts.into_iter().map(Into::into).collect(),
            ..EnumFieldConfig::default()
        };
        self.type_config = Some(FieldTypeConfig {
            enum_config: Some(enum_config),
            ..Default::default()
        });
        self
    }

    /// The enum config (`type.enum`), if any.
    pub fn enum_config(&self) -> Option<&EnumFieldConfig> {
        self.type_config.as_ref()?.enum_config.as_ref()
    }
}

/// Writes a float as Go does: integral values without a fractional part (`1`, not `1.0`).
pub(crate) fn serialize_go_float<S: Serializer>(value: f64, s: S) -> Result<S::Ok, S::Error> {
    // Below 2^53 every integral f64 is exactly an i64.
    if value.fract() == 0.0 && value.abs() < 9_007_199_254_740_992.0 {
        s.serialize_i64(value as i64)
    } else {
        s.serialize_f64(value)
    }
}

/// [`serialize_go_float`] for a plain `f64` field.
pub(crate) mod go_float {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        serialize_go_float(*value, s)
    }
}

/// Go's `ConfFloat64` as an optional field: non-finite values write `null`; `null` reads `-Inf`.
mod conf_float_opt {
    use super::*;

    pub(super) fn serialize<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) if v.is_finite() => serialize_go_float(*v, s),
            _ => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        // Reached only when the key is present: `null` means -Inf, as in the Go SDK.
        Ok(Some(
            Option::<f64>::deserialize(d)?.unwrap_or(f64::NEG_INFINITY),
        ))
    }
}

/// Go's `ConfFloat64` as a required value.
mod conf_float {
    use super::*;

    pub(super) fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() {
            serialize_go_float(*value, s)
        } else {
            s.serialize_none()
        }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NEG_INFINITY))
    }
}

fn neg_infinity() -> f64 {
    f64::NEG_INFINITY
}

/// Type-specific field config (`type`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FieldTypeConfig {
    /// Enum texts and styles (`enum`).
    #[serde(rename = "enum", default, skip_serializing_if = "Option::is_none")]
    pub enum_config: Option<EnumFieldConfig>,
    /// Keys not known to this crate.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// The texts (and optional colors, icons, descriptions) of an enum field's values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EnumFieldConfig {
    /// Text of each enum index (`text`, always written).
    #[serde(default)]
    pub text: Vec<String>,
    /// Color of each index (`color`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub color: Vec<String>,
    /// Icon of each index (`icon`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub icon: Vec<String>,
    /// Description of each index (`description`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub description: Vec<String>,
}

/// A value mapping (`mappings[]`): `{"type": ..., "options": ...}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "options", rename_all = "lowercase")]
#[non_exhaustive]
pub enum ValueMapping {
    /// `value`: exact values (as strings) to results.
    Value(BTreeMap<String, ValueMappingResult>),
    /// `range`: a numeric range to a result.
    Range {
        /// Lower bound (inclusive); `null` reads as `-Inf`.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "conf_float_opt"
        )]
        from: Option<f64>,
        /// Upper bound (inclusive); `null` reads as `-Inf`.
        #[serde(
            default,
            skip_serializing_if = "Option::is_none",
            with = "conf_float_opt"
        )]
        to: Option<f64>,
        /// What the range maps to.
        result: ValueMappingResult,
    },
    /// `special`: a special value (`true`, `null`, `nan`, ...) to a result.
    Special {
        /// Which special value.
        #[serde(rename = "match")]
        match_value: SpecialValueMatch,
        /// What it maps to.
        result: ValueMappingResult,
    },
    /// `regex`: a regular expression to a result (Grafana frontend type).
    Regex {
        /// The pattern.
        pattern: String,
        /// What matching values map to.
        result: ValueMappingResult,
    },
    /// A mapping type this crate does not know, kept verbatim (the whole object).
    #[serde(untagged)]
    Other(Value),
}

/// What a value mapping maps to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ValueMappingResult {
    /// Display text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Display color.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub color: String,
    /// Ordering in the UI.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub index: i64,
    /// Keys not known to this crate (e.g. `icon`).
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

fn is_zero_i64(value: &i64) -> bool {
    *value == 0
}

string_enum! {
    /// The special values a [`ValueMapping::Special`] can match.
    pub enum SpecialValueMatch {
        /// `true`.
        True => "true",
        /// `false`.
        False => "false",
        /// `null`.
        Null => "null",
        /// `nan`.
        NaN => "nan",
        /// `null+nan`.
        NullAndNaN => "null+nan",
        /// `empty`.
        Empty => "empty",
    }
}

/// Thresholds (`thresholds`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThresholdsConfig {
    /// `absolute` or `percentage`.
    pub mode: ThresholdsMode,
    /// The steps, lowest first; the first value is usually `-Inf` (written `null`).
    #[serde(default)]
    pub steps: Vec<Threshold>,
}

impl ThresholdsConfig {
    /// Thresholds with the given mode and steps.
    pub fn new(mode: ThresholdsMode, steps: Vec<Threshold>) -> Self {
        ThresholdsConfig { mode, steps }
    }
}

string_enum! {
    /// How threshold values are interpreted.
    pub enum ThresholdsMode {
        /// `absolute`.
        Absolute => "absolute",
        /// `percentage`.
        Percentage => "percentage",
    }
}

/// One threshold step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Threshold {
    /// The step's lower bound; `-Inf` is written `null`.
    #[serde(default = "neg_infinity", with = "conf_float")]
    pub value: f64,
    /// Color.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub color: String,
    /// State name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub state: String,
}

impl Threshold {
    /// A step with a value and color.
    pub fn new(value: f64, color: impl Into<String>) -> Self {
        Threshold {
            value,
            color: color.into(),
            state: String::new(),
        }
    }
}

/// A data link (`links[]`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DataLink {
    /// Link title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Open in a new tab.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub target_blank: bool,
    /// Target URL.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    /// An internal link to another data source query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<InternalDataLink>,
    /// Keys not known to this crate.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl DataLink {
    /// A link with a title and URL.
    pub fn new(title: impl Into<String>, url: impl Into<String>) -> Self {
        DataLink {
            title: title.into(),
            url: url.into(),
            ..DataLink::default()
        }
    }
}

/// The internal part of a data link (`links[].internal`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InternalDataLink {
    /// The query to run (free-form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<Value>,
    /// Target data source UID (`datasourceUid`).
    #[serde(
        rename = "datasourceUid",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub datasource_uid: String,
    /// Target data source name (`datasourceName`).
    #[serde(
        rename = "datasourceName",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub datasource_name: String,
    /// Explore panels state (`panelsState`, free-form).
    #[serde(
        rename = "panelsState",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub panels_state: Option<Value>,
    /// Transformations extracting variables (`transformations`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformations: Option<Vec<LinkTransformationConfig>>,
    /// Time range (`timeRange`).
    #[serde(rename = "timeRange", default, skip_serializing_if = "Option::is_none")]
    pub time_range: Option<LinkTimeRange>,
    /// Keys not known to this crate.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// A transformation in an internal data link.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct LinkTransformationConfig {
    /// `regex` or `logfmt`.
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    pub transformation_type: String,
    /// Source field.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub field: String,
    /// Expression.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub expression: String,
    /// Variable name to map the value to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub map_value: String,
}

/// A time range in an internal data link; RFC 3339 strings as Go writes `time.Time`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct LinkTimeRange {
    /// Start.
    #[serde(default)]
    pub from: String,
    /// End.
    #[serde(default)]
    pub to: String,
}
