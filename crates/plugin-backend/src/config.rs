//! [`GrafanaConfig`]: the configuration Grafana sends with every request,
//! with typed getters for every key the Go SDK documents.
//!
//! Getters return `Err` for a missing or malformed value (never a silent
//! default, never a panic) unless their documentation says otherwise.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;

use crate::error::Error;
use crate::settings::Redacted;

/// The keys Grafana sends in [`GrafanaConfig`].
pub mod keys {
    /// Grafana's public URL.
    pub const APP_URL: &str = "GF_APP_URL";
    /// Comma-separated enabled feature toggles.
    pub const FEATURE_TOGGLES: &str = "GF_INSTANCE_FEATURE_TOGGLES_ENABLE";
    /// How many queries of one request a plugin should run at once.
    pub const CONCURRENT_QUERY_COUNT: &str = "GF_CONCURRENT_QUERY_COUNT";
    /// The error message Grafana shows users instead of internal errors.
    pub const USER_FACING_DEFAULT_ERROR: &str = "GF_USER_FACING_DEFAULT_ERROR";
    /// Maximum rows a SQL data source returns.
    pub const SQL_ROW_LIMIT: &str = "GF_SQL_ROW_LIMIT";
    /// Default maximum open connections of SQL data sources.
    pub const SQL_MAX_OPEN_CONNS_DEFAULT: &str = "GF_SQL_MAX_OPEN_CONNS_DEFAULT";
    /// Default maximum idle connections of SQL data sources.
    pub const SQL_MAX_IDLE_CONNS_DEFAULT: &str = "GF_SQL_MAX_IDLE_CONNS_DEFAULT";
    /// Default maximum connection lifetime (seconds) of SQL data sources.
    pub const SQL_MAX_CONN_LIFETIME_SECONDS_DEFAULT: &str =
        "GF_SQL_MAX_CONN_LIFETIME_SECONDS_DEFAULT";
    /// Maximum bytes of a downstream HTTP response body.
    pub const RESPONSE_LIMIT: &str = "GF_RESPONSE_LIMIT";
    /// The client secret of the plugin's service account (a secret).
    pub const APP_CLIENT_SECRET: &str = "GF_PLUGIN_APP_CLIENT_SECRET";
    /// Maximum queue size of a Grafana Live client.
    pub const LIVE_CLIENT_QUEUE_MAX_SIZE: &str = "GF_LIVE_CLIENT_QUEUE_MAX_SIZE";
    /// `true` when the secure SOCKS (PDC) proxy is enabled.
    pub const SECURE_SOCKS_PROXY_ENABLED: &str = "GF_SECURE_SOCKS_DATASOURCE_PROXY_SERVER_ENABLED";
    /// Path of the PDC client certificate.
    pub const SECURE_SOCKS_PROXY_CLIENT_CERT: &str = "GF_SECURE_SOCKS_DATASOURCE_PROXY_CLIENT_CERT";
    /// PEM contents of the PDC client certificate.
    pub const SECURE_SOCKS_PROXY_CLIENT_CERT_VAL: &str =
        "GF_SECURE_SOCKS_DATASOURCE_PROXY_CLIENT_CERT_VAL";
    /// Path of the PDC client key.
    pub const SECURE_SOCKS_PROXY_CLIENT_KEY: &str = "GF_SECURE_SOCKS_DATASOURCE_PROXY_CLIENT_KEY";
    /// PEM contents of the PDC client key (a secret).
    pub const SECURE_SOCKS_PROXY_CLIENT_KEY_VAL: &str =
        "GF_SECURE_SOCKS_DATASOURCE_PROXY_CLIENT_KEY_VAL";
    /// Space-separated paths of the PDC root CA certificates.
    pub const SECURE_SOCKS_PROXY_ROOT_CAS: &str = "GF_SECURE_SOCKS_DATASOURCE_PROXY_ROOT_CA_CERT";
    /// Comma-separated PEM contents of the PDC root CA certificates.
    pub const SECURE_SOCKS_PROXY_ROOT_CA_VALS: &str =
        "GF_SECURE_SOCKS_DATASOURCE_PROXY_ROOT_CA_CERT_VALS";
    /// Address of the PDC proxy.
    pub const SECURE_SOCKS_PROXY_ADDRESS: &str = "GF_SECURE_SOCKS_DATASOURCE_PROXY_PROXY_ADDRESS";
    /// TLS server name of the PDC proxy.
    pub const SECURE_SOCKS_PROXY_SERVER_NAME: &str = "GF_SECURE_SOCKS_DATASOURCE_PROXY_SERVER_NAME";
    /// `true` to talk to the PDC proxy without TLS.
    pub const SECURE_SOCKS_PROXY_ALLOW_INSECURE: &str =
        "GF_SECURE_SOCKS_DATASOURCE_PROXY_ALLOW_INSECURE";
}

/// Grafana's per-request configuration: a string map with typed getters.
///
/// Cloning is cheap (the map is shared). `Debug` hides the values of secret
/// keys (client secrets, private keys, passwords, tokens).
///
/// ```
/// use plugin_backend::GrafanaConfig;
///
/// let config: GrafanaConfig = [
///     ("GF_CONCURRENT_QUERY_COUNT", "4"),
///     ("GF_INSTANCE_FEATURE_TOGGLES_ENABLE", "fastQueries,betterLogs"),
/// ]
/// .into_iter()
/// .collect();
/// assert_eq!(config.concurrent_query_count()?, 4);
/// assert!(config.feature_toggles().is_enabled("betterLogs"));
/// assert!(config.app_url().is_err() || std::env::var("GF_APP_URL").is_ok());
/// # Ok::<(), plugin_backend::Error>(())
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct GrafanaConfig(Arc<HashMap<String, String>>);

impl GrafanaConfig {
    /// A configuration holding `map`.
    pub fn new(map: HashMap<String, String>) -> Self {
        GrafanaConfig(Arc::new(map))
    }

    /// The raw value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// The raw map.
    pub fn as_map(&self) -> &HashMap<String, String> {
        &self.0
    }

    /// The raw map, by value (cloned only if shared).
    pub fn into_map(self) -> HashMap<String, String> {
        Arc::unwrap_or_clone(self.0)
    }

    /// The keys whose values differ between `self` and `other` (added,
    /// removed or changed), sorted.
    pub fn diff<'a>(&'a self, other: &'a GrafanaConfig) -> Vec<&'a str> {
        let mut changed: Vec<&str> = self
            .0
            .iter()
            .filter(|(key, value)| other.get(key) != Some(value.as_str()))
            .map(|(key, _)| key.as_str())
            .chain(
                other
                    .0
                    .keys()
                    .filter(|key| !self.0.contains_key(*key))
                    .map(String::as_str),
            )
            .collect();
        changed.sort_unstable();
        changed
    }

    fn required(&self, key: &'static str) -> Result<&str, Error> {
        self.get(key)
            .ok_or_else(|| Error::config(key, "not set; a more recent Grafana may be required"))
    }

    fn parse<T: std::str::FromStr>(&self, key: &'static str) -> Result<T, Error>
    where
        T::Err: fmt::Display,
    {
        let value = self.required(key)?;
        value
            .trim()
            .parse()
            .map_err(|err| Error::config(key, format!("{value:?} is not valid: {err}")))
    }

    /// Grafana's public URL (`GF_APP_URL`), falling back to the environment
    /// variable of the same name as the Go SDK does.
    pub fn app_url(&self) -> Result<String, Error> {
        self.get_or_env(keys::APP_URL)
    }

    /// The enabled feature toggles.
    pub fn feature_toggles(&self) -> FeatureToggles<'_> {
        FeatureToggles(self.get(keys::FEATURE_TOGGLES).unwrap_or(""))
    }

    /// How many queries of one request to run at once
    /// (`GF_CONCURRENT_QUERY_COUNT`).
    pub fn concurrent_query_count(&self) -> Result<usize, Error> {
        self.parse(keys::CONCURRENT_QUERY_COUNT)
    }

    /// The defaults for SQL data sources (`GF_SQL_*`); every key must be set.
    pub fn sql(&self) -> Result<SqlConfig, Error> {
        Ok(SqlConfig {
            row_limit: self.parse(keys::SQL_ROW_LIMIT)?,
            default_max_open_conns: self.parse(keys::SQL_MAX_OPEN_CONNS_DEFAULT)?,
            default_max_idle_conns: self.parse(keys::SQL_MAX_IDLE_CONNS_DEFAULT)?,
            default_max_conn_lifetime: Duration::from_secs(
                self.parse(keys::SQL_MAX_CONN_LIFETIME_SECONDS_DEFAULT)?,
            ),
        })
    }

    /// The message Grafana shows users in place of internal errors
    /// (`GF_USER_FACING_DEFAULT_ERROR`).
    pub fn user_facing_default_error(&self) -> Result<&str, Error> {
        self.required(keys::USER_FACING_DEFAULT_ERROR)
    }

    /// The maximum size in bytes of a downstream response body
    /// (`GF_RESPONSE_LIMIT`); `None` when unset, `0` or negative (no limit:
    /// Go reads an `int64` and limits only when it is above zero,
    /// config/grafana_cfg.go and backend/httpclient/response_limit_middleware.go).
    /// A value that is not a number is an error.
    pub fn response_limit(&self) -> Result<Option<u64>, Error> {
        if self.get(keys::RESPONSE_LIMIT).is_none() {
            return Ok(None);
        }
        let limit: i64 = self.parse(keys::RESPONSE_LIMIT)?;
        Ok(u64::try_from(limit).ok().filter(|&limit| limit > 0))
    }

    /// The client secret of the plugin's service account
    /// (`GF_PLUGIN_APP_CLIENT_SECRET`), falling back to the environment
    /// variable of the same name as the Go SDK does.
    pub fn plugin_app_client_secret(&self) -> Result<String, Error> {
        self.get_or_env(keys::APP_CLIENT_SECRET)
    }

    /// The maximum queue size of a Grafana Live client
    /// (`GF_LIVE_CLIENT_QUEUE_MAX_SIZE`).
    pub fn live_client_queue_max_size(&self) -> Result<usize, Error> {
        self.parse(keys::LIVE_CLIENT_QUEUE_MAX_SIZE)
    }

    /// The secure SOCKS (PDC) proxy settings, or `None` when the proxy is not
    /// enabled.
    pub fn secure_socks_proxy(&self) -> Result<Option<SecureSocksProxyConfig>, Error> {
        if self.get(keys::SECURE_SOCKS_PROXY_ENABLED) != Some("true") {
            return Ok(None);
        }
        let allow_insecure = match self.get(keys::SECURE_SOCKS_PROXY_ALLOW_INSECURE) {
            None | Some("") => false,
            Some(_) => self.parse(keys::SECURE_SOCKS_PROXY_ALLOW_INSECURE)?,
        };
        let text = |key| self.get(key).unwrap_or_default().to_owned();
        let split = |key, separator| {
            self.get(key)
                .filter(|value| !value.is_empty())
                .map(|value| value.split(separator).map(str::to_owned).collect())
                .unwrap_or_default()
        };
        Ok(Some(SecureSocksProxyConfig {
            client_cert: text(keys::SECURE_SOCKS_PROXY_CLIENT_CERT),
            client_cert_val: text(keys::SECURE_SOCKS_PROXY_CLIENT_CERT_VAL),
            client_key: text(keys::SECURE_SOCKS_PROXY_CLIENT_KEY),
            client_key_val: text(keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL),
            root_cas: split(keys::SECURE_SOCKS_PROXY_ROOT_CAS, ' '),
            root_ca_vals: split(keys::SECURE_SOCKS_PROXY_ROOT_CA_VALS, ','),
            proxy_address: text(keys::SECURE_SOCKS_PROXY_ADDRESS),
            server_name: text(keys::SECURE_SOCKS_PROXY_SERVER_NAME),
            allow_insecure,
        }))
    }

    /// A short fingerprint of the PDC client key, for keying data source
    /// instances: the base64 of the key's last three bytes, as the Go SDK
    /// computes it. `None` when no PEM `PRIVATE KEY` is configured.
    pub fn proxy_hash(&self) -> Option<String> {
        let pem = self.get(keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL)?;
        let body = pem
            .split_once("-----BEGIN PRIVATE KEY-----")?
            .1
            .split_once("-----END PRIVATE KEY-----")?
            .0;
        let base64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(base64)
            .ok()?;
        let tail = der.get(der.len().checked_sub(3)?..)?;
        Some(base64::engine::general_purpose::STANDARD.encode(tail))
    }

    fn get_or_env(&self, key: &'static str) -> Result<String, Error> {
        match self.get(key) {
            Some(value) => Ok(value.to_owned()),
            None => std::env::var(key)
                .ok()
                .filter(|value| !value.is_empty())
                .ok_or_else(|| {
                    Error::config(key, "not set; a more recent Grafana may be required")
                }),
        }
    }
}

/// Whether the value of a configuration key must be hidden in `Debug` output.
fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_uppercase();
    [
        "SECRET",
        "PASSWORD",
        "TOKEN",
        "PRIVATE",
        "KEY_VAL",
        "EXTERNAL_ID",
    ]
    .iter()
    .any(|marker| key.contains(marker))
}

impl fmt::Debug for GrafanaConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut entries: Vec<(&String, &String)> = self.0.iter().collect();
        entries.sort_unstable();
        let mut map = f.debug_map();
        for (key, value) in entries {
            if is_secret_key(key) {
                map.entry(key, &Redacted);
            } else {
                map.entry(key, value);
            }
        }
        map.finish()
    }
}

impl From<HashMap<String, String>> for GrafanaConfig {
    fn from(map: HashMap<String, String>) -> Self {
        GrafanaConfig::new(map)
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for GrafanaConfig {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        GrafanaConfig::new(
            iter.into_iter()
                .map(|(key, value)| (key.into(), value.into()))
                .collect(),
        )
    }
}

/// The feature toggles enabled in Grafana.
#[derive(Debug, Clone, Copy)]
pub struct FeatureToggles<'a>(&'a str);

impl<'a> FeatureToggles<'a> {
    /// Whether toggle `name` is enabled.
    pub fn is_enabled(&self, name: &str) -> bool {
        self.iter().any(|enabled| enabled == name)
    }

    /// The enabled toggles.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
    }
}

/// Grafana's defaults for SQL data sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqlConfig {
    /// Maximum rows a query returns.
    pub row_limit: i64,
    /// Default maximum open connections.
    pub default_max_open_conns: u32,
    /// Default maximum idle connections.
    pub default_max_idle_conns: u32,
    /// Default maximum lifetime of a connection.
    pub default_max_conn_lifetime: Duration,
}

/// Settings of Grafana's secure SOCKS proxy (private data source connect).
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SecureSocksProxyConfig {
    /// Path of the client certificate (deprecated in favour of
    /// [`client_cert_val`](Self::client_cert_val)).
    pub client_cert: String,
    /// PEM contents of the client certificate.
    pub client_cert_val: String,
    /// Path of the client key (deprecated).
    pub client_key: String,
    /// PEM contents of the client key; hidden in `Debug` output.
    pub client_key_val: String,
    /// Paths of the root CA certificates (deprecated).
    pub root_cas: Vec<String>,
    /// PEM contents of the root CA certificates.
    pub root_ca_vals: Vec<String>,
    /// Address of the proxy.
    pub proxy_address: String,
    /// TLS server name of the proxy.
    pub server_name: String,
    /// Whether to talk to the proxy without TLS.
    pub allow_insecure: bool,
}

impl fmt::Debug for SecureSocksProxyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecureSocksProxyConfig")
            .field("client_cert", &self.client_cert)
            .field("client_cert_val", &self.client_cert_val)
            .field("client_key", &self.client_key)
            .field("client_key_val", &Redacted)
            .field("root_cas", &self.root_cas)
            .field("root_ca_vals", &self.root_ca_vals)
            .field("proxy_address", &self.proxy_address)
            .field("server_name", &self.server_name)
            .field("allow_insecure", &self.allow_insecure)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> GrafanaConfig {
        pairs.iter().copied().collect()
    }

    #[test]
    fn typed_getters_parse_values() {
        let cfg = config(&[
            (keys::SQL_ROW_LIMIT, "1000000"),
            (keys::SQL_MAX_OPEN_CONNS_DEFAULT, "100"),
            (keys::SQL_MAX_IDLE_CONNS_DEFAULT, "50"),
            (keys::SQL_MAX_CONN_LIFETIME_SECONDS_DEFAULT, "14400"),
            (keys::RESPONSE_LIMIT, "2048"),
            (
                keys::USER_FACING_DEFAULT_ERROR,
                "please inspect Grafana server log",
            ),
            (keys::APP_CLIENT_SECRET, "client-secret"),
            (keys::LIVE_CLIENT_QUEUE_MAX_SIZE, "64"),
        ]);
        let sql = cfg.sql().unwrap();
        assert_eq!(sql.row_limit, 1_000_000);
        assert_eq!(sql.default_max_open_conns, 100);
        assert_eq!(sql.default_max_idle_conns, 50);
        assert_eq!(sql.default_max_conn_lifetime, Duration::from_secs(14_400));
        assert_eq!(cfg.response_limit().unwrap(), Some(2048));
        assert_eq!(
            cfg.user_facing_default_error().unwrap(),
            "please inspect Grafana server log"
        );
        assert_eq!(cfg.plugin_app_client_secret().unwrap(), "client-secret");
        assert_eq!(cfg.live_client_queue_max_size().unwrap(), 64);
    }

    #[test]
    fn a_response_limit_of_zero_or_less_is_no_limit() {
        for unlimited in ["0", "-1"] {
            let cfg = config(&[(keys::RESPONSE_LIMIT, unlimited)]);
            assert_eq!(cfg.response_limit().unwrap(), None, "{unlimited}");
        }
    }

    #[test]
    fn malformed_values_are_errors() {
        let cfg = config(&[
            (keys::CONCURRENT_QUERY_COUNT, "many"),
            (keys::RESPONSE_LIMIT, "lots"),
        ]);
        assert!(matches!(
            cfg.concurrent_query_count(),
            Err(Error::Config { .. })
        ));
        assert!(matches!(cfg.response_limit(), Err(Error::Config { .. })));
        assert!(matches!(
            cfg.sql(),
            Err(Error::Config {
                key: keys::SQL_ROW_LIMIT,
                ..
            })
        ));
        assert!(cfg.user_facing_default_error().is_err());
    }

    #[test]
    fn secure_socks_proxy_settings() {
        assert_eq!(GrafanaConfig::default().secure_socks_proxy().unwrap(), None);
        let cfg = config(&[
            (keys::SECURE_SOCKS_PROXY_ENABLED, "true"),
            (keys::SECURE_SOCKS_PROXY_ADDRESS, "proxy:8443"),
            (keys::SECURE_SOCKS_PROXY_ROOT_CA_VALS, "pem-a,pem-b"),
            (keys::SECURE_SOCKS_PROXY_ROOT_CAS, "/a.pem /b.pem"),
            (keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL, "private-key-pem"),
            (keys::SECURE_SOCKS_PROXY_ALLOW_INSECURE, "true"),
        ]);
        let proxy = cfg.secure_socks_proxy().unwrap().unwrap();
        assert_eq!(proxy.proxy_address, "proxy:8443");
        assert_eq!(proxy.root_ca_vals, ["pem-a", "pem-b"]);
        assert_eq!(proxy.root_cas, ["/a.pem", "/b.pem"]);
        assert!(proxy.allow_insecure);
        assert!(!format!("{proxy:?}").contains("private-key-pem"));
        assert!(!format!("{cfg:?}").contains("private-key-pem"));

        let bad = config(&[
            (keys::SECURE_SOCKS_PROXY_ENABLED, "true"),
            (keys::SECURE_SOCKS_PROXY_ALLOW_INSECURE, "maybe"),
        ]);
        assert!(bad.secure_socks_proxy().is_err());
    }

    #[test]
    fn proxy_hash_is_the_base64_of_the_last_three_key_bytes() {
        let der = [1u8, 2, 3, 4, 5, 6];
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            base64::engine::general_purpose::STANDARD.encode(der)
        );
        let cfg = config(&[(keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL, &pem)]);
        let expected = base64::engine::general_purpose::STANDARD.encode([4u8, 5, 6]);
        assert_eq!(cfg.proxy_hash(), Some(expected));
        assert_eq!(
            config(&[(keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL, "junk")]).proxy_hash(),
            None
        );
    }

    #[test]
    fn diff_lists_changed_keys() {
        let a = config(&[("A", "1"), ("B", "2"), ("C", "3")]);
        let b = config(&[("A", "1"), ("B", "20"), ("D", "4")]);
        assert_eq!(a.diff(&b), ["B", "C", "D"]);
        assert!(a.diff(&a.clone()).is_empty());
    }

    #[test]
    fn debug_hides_secret_values() {
        let cfg = config(&[
            (keys::APP_CLIENT_SECRET, "swordfish"),
            (keys::APP_URL, "http://grafana"),
        ]);
        let printed = format!("{cfg:?}");
        assert!(!printed.contains("swordfish"), "{printed}");
        assert!(printed.contains("http://grafana"), "{printed}");
    }
}
