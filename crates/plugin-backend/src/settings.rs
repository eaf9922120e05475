//! Instance settings: [`DataSourceInstanceSettings`], [`AppInstanceSettings`]
//! and their decrypted secrets, [`SecureJsonData`].
//!
//! Settings arrive raw (JSON bytes and a map of decrypted strings) with every
//! request. Parsing them into the plugin's own types is deliberately a
//! separate, explicit step ([`DataSourceInstanceSettings::parse_json_data`],
//! [`SecureJsonData::deserialize`]): a plugin should do it once per instance,
//! when its instance is created (which `plugin-instancemgmt` arranges), not
//! on every request.
//!
//! Decrypted secrets never appear in `Debug` output: [`SecureJsonData`]
//! prints its keys with redacted values.

use std::collections::HashMap;
use std::fmt;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Settings of one data source instance: a data source plugin configured in
/// a Grafana organization.
///
/// ```
/// use plugin_backend::DataSourceInstanceSettings;
///
/// #[derive(serde::Deserialize)]
/// struct Options {
///     #[serde(rename = "defaultBucket")]
///     default_bucket: String,
/// }
///
/// #[derive(serde::Deserialize)]
/// struct Secrets {
///     token: String,
/// }
///
/// let mut settings = DataSourceInstanceSettings::default();
/// settings.json_data = br#"{"defaultBucket":"metrics"}"#.to_vec().into();
/// settings.decrypted_secure_json_data.insert("token", "s3cr3t");
///
/// let options: Options = settings.parse_json_data()?;
/// let secrets: Secrets = settings.decrypted_secure_json_data.deserialize()?;
/// assert_eq!(options.default_bucket, "metrics");
/// assert_eq!(secrets.token, "s3cr3t");
/// assert!(!format!("{settings:?}").contains("s3cr3t"));
/// # Ok::<(), plugin_backend::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DataSourceInstanceSettings {
    /// The numeric id (deprecated by Grafana in favour of [`uid`](Self::uid)).
    pub id: i64,
    /// The unique identifier of the data source instance.
    pub uid: String,
    /// The data source's type: the ID of its plugin, which is the
    /// request's plugin ID (the Go SDK's `Type`).
    pub plugin_id: String,
    /// The configured name.
    pub name: String,
    /// The configured URL.
    pub url: String,
    /// A configured user name (not a Grafana user).
    pub user: String,
    /// The configured database.
    pub database: String,
    /// Whether basic authentication is configured.
    pub basic_auth_enabled: bool,
    /// The basic authentication user.
    pub basic_auth_user: String,
    /// The raw JSON data (`jsonData`), as Grafana stores it.
    pub json_data: Bytes,
    /// The decrypted secure JSON data (`secureJsonData`).
    pub decrypted_secure_json_data: SecureJsonData,
    /// When the settings were last changed.
    pub updated: DateTime<Utc>,
    /// The API version the settings were saved with.
    pub api_version: String,
}

impl Default for DataSourceInstanceSettings {
    fn default() -> Self {
        DataSourceInstanceSettings {
            id: 0,
            uid: String::new(),
            plugin_id: String::new(),
            name: String::new(),
            url: String::new(),
            user: String::new(),
            database: String::new(),
            basic_auth_enabled: false,
            basic_auth_user: String::new(),
            json_data: Bytes::new(),
            decrypted_secure_json_data: SecureJsonData::default(),
            updated: DateTime::UNIX_EPOCH,
            api_version: String::new(),
        }
    }
}

impl DataSourceInstanceSettings {
    /// Parses the JSON data into `T`. Empty JSON data parses as `{}`.
    pub fn parse_json_data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        parse_json(&self.json_data, "data source JSON data")
    }
}

/// Settings of one app instance: an app plugin enabled in a Grafana
/// organization.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AppInstanceSettings {
    /// The raw JSON data (`jsonData`), as Grafana stores it.
    pub json_data: Bytes,
    /// The decrypted secure JSON data (`secureJsonData`).
    pub decrypted_secure_json_data: SecureJsonData,
    /// When the settings were last changed.
    pub updated: DateTime<Utc>,
    /// The API version the settings were saved with.
    pub api_version: String,
}

impl Default for AppInstanceSettings {
    fn default() -> Self {
        AppInstanceSettings {
            json_data: Bytes::new(),
            decrypted_secure_json_data: SecureJsonData::default(),
            updated: DateTime::UNIX_EPOCH,
            api_version: String::new(),
        }
    }
}

impl AppInstanceSettings {
    /// Parses the JSON data into `T`. Empty JSON data parses as `{}`.
    pub fn parse_json_data<T: DeserializeOwned>(&self) -> Result<T, Error> {
        parse_json(&self.json_data, "app JSON data")
    }
}

fn parse_json<T: DeserializeOwned>(json: &[u8], what: &'static str) -> Result<T, Error> {
    // Grafana sends no bytes at all for an instance without JSON data.
    let json: &[u8] = if json.is_empty() { b"{}" } else { json };
    serde_json::from_slice(json).map_err(|source| Error::json(what, source))
}

/// Decrypted secure JSON data: secret strings by key.
///
/// `Debug` prints the keys and hides the values. Read a value with
/// [`get`](Self::get), or deserialize all of them into a struct with
/// [`deserialize`](Self::deserialize).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecureJsonData(HashMap<String, String>);

impl SecureJsonData {
    /// The decrypted value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// Whether a value is set for `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// Sets the value of `key`, returning the old one.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.0.insert(key.into(), value.into())
    }

    /// The keys that have values.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// The number of values.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw map.
    pub fn as_map(&self) -> &HashMap<String, String> {
        &self.0
    }

    /// The raw map, by value.
    pub fn into_map(self) -> HashMap<String, String> {
        self.0
    }

    /// Deserializes the values into `T` (a struct of `String` or
    /// `Option<String>` fields, typically).
    ///
    /// Errors name the missing or unexpected field but never quote a value.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, Error> {
        let object: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(key, value)| (key.clone(), serde_json::Value::String(value.clone())))
            .collect();
        serde_json::from_value(serde_json::Value::Object(object)).map_err(|error| {
            // serde's messages for type mismatches quote the offending value,
            // which here is a secret: keep only the messages that name fields.
            let message = error.to_string();
            let reason =
                if message.starts_with("missing field") || message.starts_with("unknown field") {
                    message
                } else {
                    "a value does not have the expected type".to_owned()
                };
            Error::SecureJson {
                type_name: std::any::type_name::<T>(),
                reason,
            }
        })
    }
}

impl From<HashMap<String, String>> for SecureJsonData {
    fn from(map: HashMap<String, String>) -> Self {
        SecureJsonData(map)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for SecureJsonData {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        SecureJsonData(
            iter.into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        )
    }
}

impl fmt::Debug for SecureJsonData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&str> = self.keys().collect();
        keys.sort_unstable();
        f.debug_map()
            .entries(keys.into_iter().map(|key| (key, Redacted)))
            .finish()
    }
}

/// Prints `[redacted]` in place of a secret.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Secrets {
        password: u32,
    }

    #[test]
    fn invalid_json_data_is_an_error() {
        let settings = DataSourceInstanceSettings {
            json_data: Bytes::from_static(b"{not json"),
            ..Default::default()
        };
        let result: Result<serde_json::Value, _> = settings.parse_json_data();
        assert!(matches!(result, Err(Error::Json { .. })));
    }

    #[test]
    fn empty_json_data_is_an_empty_object() {
        let app = AppInstanceSettings::default();
        let value: serde_json::Value = app.parse_json_data().unwrap();
        assert_eq!(value, serde_json::json!({}));
    }

    #[test]
    fn secure_json_errors_never_quote_values() {
        let secrets: SecureJsonData = [("password", "hunter2")].into_iter().collect();
        let err = secrets.deserialize::<Secrets>().unwrap_err();
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(!format!("{err:?}").contains("hunter2"), "{err:?}");

        let missing = SecureJsonData::default()
            .deserialize::<Secrets>()
            .unwrap_err();
        assert!(
            missing.to_string().contains("missing field `password`"),
            "{missing}"
        );
    }

    #[test]
    fn debug_redacts_values() {
        let secrets: SecureJsonData = [("apiKey", "hunter2"), ("token", "swordfish")]
            .into_iter()
            .collect();
        let printed = format!("{secrets:?}");
        assert_eq!(printed, r#"{"apiKey": [redacted], "token": [redacted]}"#);
    }
}
