//! Building [`HttpClientOptions`] from data source settings, key for key as
//! the Go SDK's `DataSourceInstanceSettings.HTTPClientOptions`.
//!
//! The input, [`DataSourceSettings`], is plain borrowed data (the jsonData
//! value, the decrypted secure values and a few top-level fields) so that
//! this crate does not depend on the SDK's settings type. Unlike Go, which
//! silently ignores values of the wrong type, every malformed value is an
//! [`Error::InvalidSetting`] naming its key; numbers given as strings (as
//! provisioning files sometimes do) are accepted.

use std::{collections::HashMap, fmt, time::Duration};

use http::{HeaderName, HeaderValue, header::HOST};
use serde_json::{Map, Value};

use plugin_backend::{GrafanaConfig, config::keys};

use crate::{
    error::Error,
    options::{
        BasicAuth, DataSourceLabels, HttpClientOptions, PluginInfo, Secret, SigV4Options,
        TlsOptions, TlsVersion,
    },
    proxy::{SecureSocksProxyOptions, SecureSocksProxyTransport},
};

/// Feature toggle forcing TLS 1.3 as minimum and maximum version
/// (`backend/common.go`, `featuretoggles.PluginsForceTLS13`).
pub const FORCE_TLS13_TOGGLE: &str = "pluginsForceTls13";

/// The data source settings the HTTP client options are built from, as plain
/// borrowed values.
///
/// Build it with [`DataSourceSettings::new`] and struct update syntax
/// (`DataSourceSettings { uid: "...", ..DataSourceSettings::new(&json, &secure) }`)
/// so that fields added later keep their defaults. `Debug` lists only the
/// names of the secure values.
#[derive(Clone, Copy, Default)]
pub struct DataSourceSettings<'a> {
    /// The data source's jsonData (an object, or `null`).
    pub json_data: Option<&'a Value>,
    /// The decrypted secureJsonData.
    pub decrypted_secure_json_data: Option<&'a HashMap<String, String>>,
    /// The data source URL.
    pub url: &'a str,
    /// Top-level "basic auth enabled" flag; overrides jsonData `basicAuth`.
    pub basic_auth_enabled: bool,
    /// Top-level basic auth user, used when `basic_auth_enabled`.
    pub basic_auth_user: &'a str,
    /// Top-level (legacy) user: basic auth with secure `password` when basic
    /// auth is not enabled.
    pub user: &'a str,
    /// The data source UID.
    pub uid: &'a str,
    /// The data source name.
    pub name: &'a str,
    /// The data source type, i.e. the plugin ID.
    pub plugin_id: &'a str,
    /// The plugin version; with `plugin_id` it makes the `User-Agent`.
    pub plugin_version: &'a str,
    /// Grafana's configuration for this request (`GF_*` keys): response
    /// limit, feature toggles and the secure SOCKS proxy.
    pub grafana_config: Option<&'a GrafanaConfig>,
}

impl<'a> DataSourceSettings<'a> {
    /// Settings with the given jsonData and decrypted secure values; set the
    /// other public fields as needed.
    pub fn new(
        json_data: &'a Value,
        decrypted_secure_json_data: &'a HashMap<String, String>,
    ) -> Self {
        Self {
            json_data: Some(json_data),
            decrypted_secure_json_data: Some(decrypted_secure_json_data),
            ..Self::default()
        }
    }
}

impl fmt::Debug for DataSourceSettings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secure_keys: Option<Vec<&String>> = self
            .decrypted_secure_json_data
            .map(|values| values.keys().collect());
        f.debug_struct("DataSourceSettings")
            .field("json_data", &self.json_data)
            .field("decrypted_secure_json_data_keys", &secure_keys)
            .field("url", &self.url)
            .field("basic_auth_enabled", &self.basic_auth_enabled)
            .field("basic_auth_user", &self.basic_auth_user)
            .field("user", &self.user)
            .field("uid", &self.uid)
            .field("name", &self.name)
            .field("plugin_id", &self.plugin_id)
            .field("plugin_version", &self.plugin_version)
            .field("grafana_config", &self.grafana_config)
            .finish()
    }
}

impl HttpClientOptions {
    /// Builds client options from data source settings, reading every key
    /// the Go SDK reads (see the crate documentation for the table).
    ///
    /// The proxy comes from the process environment (as with
    /// [`HttpClientOptions::default`]); replace
    /// [`HttpClientOptions::proxy`] afterwards to set it explicitly. TLS
    /// material is parsed here so that a bad PEM is reported now, naming
    /// its key.
    pub fn from_data_source_settings(settings: &DataSourceSettings<'_>) -> Result<Self, Error> {
        let empty_object = Map::new();
        let json = match settings.json_data {
            None | Some(Value::Null) => &empty_object,
            Some(Value::Object(map)) => map,
            Some(_) => return Err(Error::invalid_setting("jsonData", "must be a JSON object")),
        };
        let empty_secure = HashMap::new();
        let secure = settings.decrypted_secure_json_data.unwrap_or(&empty_secure);
        let reader = JsonData { json, secure };

        let mut options = HttpClientOptions {
            labels: DataSourceLabels::new(settings.name, settings.uid, settings.plugin_id),
            url: Some(settings.url)
                .filter(|url| !url.is_empty())
                .map(str::to_owned)
                .or(reader.string("url")?),
            ..HttpClientOptions::default()
        };
        if !settings.plugin_id.is_empty() && !settings.plugin_version.is_empty() {
            options.plugin = Some(PluginInfo::new(settings.plugin_id, settings.plugin_version));
        }

        options.basic_auth = basic_auth(settings, &reader)?;
        read_timeouts(&reader, &mut options)?;
        options.tls = tls_options(&reader)?;
        options.headers = custom_headers(&reader)?;

        options.sigv4 = sigv4(&reader)?;
        options.keep_cookies = Some(reader.string_list("keepCookies")?);
        options.oauth_pass_through = reader.bool("oauthPassThru")?;

        let empty_config = GrafanaConfig::default();
        let config = settings.grafana_config.unwrap_or(&empty_config);
        if config.feature_toggles().is_enabled(FORCE_TLS13_TOGGLE) {
            let tls = options.tls.get_or_insert_with(TlsOptions::default);
            tls.min_version = Some(TlsVersion::Tls13);
            tls.max_version = Some(TlsVersion::Tls13);
        }
        options.response_limit = config.response_limit().map_err(config_error)?;
        options.secure_socks_proxy = secure_socks_proxy(settings, &reader, config)?;

        if let Some(tls) = &options.tls {
            crate::tls::client_config(tls)?;
        }
        Ok(options)
    }
}

fn basic_auth(
    settings: &DataSourceSettings<'_>,
    reader: &JsonData<'_>,
) -> Result<Option<BasicAuth>, Error> {
    if settings.basic_auth_enabled {
        return Ok(Some(BasicAuth::new(
            settings.basic_auth_user,
            reader.secret("basicAuthPassword").unwrap_or_default(),
        )));
    }
    if !settings.user.is_empty() {
        return Ok(Some(BasicAuth::new(
            settings.user,
            reader.secret("password").unwrap_or_default(),
        )));
    }
    if reader.bool("basicAuth")? {
        return Ok(Some(BasicAuth::new(
            reader.string("basicAuthUser")?.unwrap_or_default(),
            reader.secret("basicAuthPassword").unwrap_or_default(),
        )));
    }
    Ok(None)
}

/// `backend/http_settings.go`: read only with `sigV4Auth` on.
fn sigv4(reader: &JsonData<'_>) -> Result<Option<SigV4Options>, Error> {
    if !reader.bool("sigV4Auth")? {
        return Ok(None);
    }
    let string = |key| reader.string(key).map(Option::unwrap_or_default);
    Ok(Some(SigV4Options {
        auth_type: string("sigV4AuthType")?,
        region: string("sigV4Region")?,
        service: String::new(),
        access_key: reader
            .secret("sigV4AccessKey")
            .map(|key| key.expose().to_owned())
            .unwrap_or_default(),
        secret_key: reader.secret("sigV4SecretKey").unwrap_or_default(),
        session_token: reader.secret("sigV4SessionToken"),
        assume_role_arn: string("sigV4AssumeRoleArn")?,
        external_id: string("sigV4ExternalId")?,
        profile: string("sigV4Profile")?,
    }))
}

fn read_timeouts(reader: &JsonData<'_>, options: &mut HttpClientOptions) -> Result<(), Error> {
    let timeouts = &mut options.timeouts;
    for (key, slot) in [
        ("timeout", &mut timeouts.request),
        ("dialTimeout", &mut timeouts.dial),
        ("httpKeepAlive", &mut timeouts.keep_alive),
        ("httpTLSHandshakeTimeout", &mut timeouts.tls_handshake),
        ("httpIdleConnTimeout", &mut timeouts.idle_connection),
    ] {
        if let Some(seconds) = reader.seconds(key)? {
            // Go: a zero duration means "no timeout".
            *slot = Some(seconds).filter(|duration| !duration.is_zero());
        }
    }
    // Validated, then not applied: see `Timeouts` for why.
    reader.seconds("httpExpectContinueTimeout")?;
    for (key, slot) in [
        ("httpMaxConnsPerHost", &mut timeouts.max_conns_per_host),
        ("httpMaxIdleConns", &mut timeouts.max_idle_conns),
        (
            "httpMaxIdleConnsPerHost",
            &mut timeouts.max_idle_conns_per_host,
        ),
    ] {
        if let Some(count) = reader.count(key)? {
            *slot = count;
        }
    }
    Ok(())
}

fn tls_options(reader: &JsonData<'_>) -> Result<Option<TlsOptions>, Error> {
    let client_auth = reader.bool("tlsAuth")?;
    let with_ca = reader.bool("tlsAuthWithCACert")?;
    let skip_verify = reader.bool("tlsSkipVerify")?;
    if !(client_auth || with_ca || skip_verify) {
        return Ok(None);
    }
    let mut tls = TlsOptions {
        insecure_skip_verify: skip_verify,
        ..TlsOptions::default()
    };
    // Go reads the server name and certificates only with one of the
    // certificate options on, so stale secrets of a disabled option are
    // ignored.
    if client_auth || with_ca {
        tls.server_name = reader.string("serverName")?.filter(|name| !name.is_empty());
        tls.ca_certificate = reader
            .secret("tlsCACert")
            .map(|pem| pem.expose().to_owned());
        tls.client_certificate = reader
            .secret("tlsClientCert")
            .map(|pem| pem.expose().to_owned());
        tls.client_key = reader.secret("tlsClientKey");
    }
    Ok(Some(tls))
}

fn custom_headers(reader: &JsonData<'_>) -> Result<http::HeaderMap, Error> {
    let mut headers = http::HeaderMap::new();
    for index in 1.. {
        let name_key = format!("httpHeaderName{index}");
        let Some(name) = reader.string(&name_key)? else {
            break;
        };
        let value_key = format!("httpHeaderValue{index}");
        let Some(value) = reader.secret(&value_key) else {
            continue;
        };
        let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| {
            Error::invalid_setting(
                &name_key,
                format!("`{name}` is not a valid HTTP header name"),
            )
        })?;
        let mut value = HeaderValue::from_str(value.expose())
            .map_err(|_| Error::invalid_setting(&value_key, "not a valid HTTP header value"))?;
        // Custom header values live in secureJsonData: often API keys.
        value.set_sensitive(name != HOST);
        headers.append(name, value);
    }
    Ok(headers)
}

fn secure_socks_proxy(
    settings: &DataSourceSettings<'_>,
    reader: &JsonData<'_>,
    config: &GrafanaConfig,
) -> Result<Option<SecureSocksProxyOptions>, Error> {
    if !reader.bool("enableSecureSocksProxy")? {
        return Ok(None);
    }
    let Some(proxy) = config.secure_socks_proxy().map_err(config_error)? else {
        return Ok(None);
    };
    let transport = if proxy.allow_insecure {
        SecureSocksProxyTransport::Insecure
    } else {
        // backend/proxy/secure_socks_proxy.go: the PEM values, else the
        // legacy file paths.
        let value_or_file = |value: &str, path_key: &str, path: &str| match (value, path) {
            ("", "") => Ok(None),
            ("", path) => read_file(path_key, path).map(Some),
            (value, _) => Ok(Some(value.to_owned())),
        };
        let client_certificate = value_or_file(
            &proxy.client_cert_val,
            keys::SECURE_SOCKS_PROXY_CLIENT_CERT,
            &proxy.client_cert,
        )?;
        let client_key = value_or_file(
            &proxy.client_key_val,
            keys::SECURE_SOCKS_PROXY_CLIENT_KEY,
            &proxy.client_key,
        )?;
        let mut root_cas = proxy.root_ca_vals.clone();
        if root_cas.is_empty() {
            for path in proxy.root_cas.iter().filter(|path| !path.is_empty()) {
                root_cas.push(read_file(keys::SECURE_SOCKS_PROXY_ROOT_CAS, path)?);
            }
        }
        SecureSocksProxyTransport::Tls {
            client_certificate: client_certificate.ok_or_else(|| {
                Error::invalid_setting(keys::SECURE_SOCKS_PROXY_CLIENT_CERT_VAL, "missing")
            })?,
            client_key: client_key
                .ok_or_else(|| {
                    Error::invalid_setting(keys::SECURE_SOCKS_PROXY_CLIENT_KEY_VAL, "missing")
                })?
                .into(),
            root_cas,
            server_name: proxy.server_name.clone(),
        }
    };
    let username = reader
        .string("secureSocksProxyUsername")?
        .unwrap_or_else(|| settings.uid.to_owned());
    if proxy.proxy_address.is_empty() {
        return Err(Error::invalid_setting(
            keys::SECURE_SOCKS_PROXY_ADDRESS,
            "missing",
        ));
    }
    Ok(Some(SecureSocksProxyOptions {
        proxy_address: proxy.proxy_address.clone(),
        username,
        password: reader
            .secret("secureSocksProxyPassword")
            .unwrap_or_default(),
        timeout: reader
            .seconds("timeout")?
            .unwrap_or(Duration::from_secs(30)),
        keep_alive: reader
            .seconds("keepAlive")?
            .unwrap_or(Duration::from_secs(30)),
        transport,
    }))
}

/// A malformed Grafana configuration value, as this crate's error.
fn config_error(error: plugin_backend::Error) -> Error {
    match error {
        plugin_backend::Error::Config { key, reason } => Error::invalid_setting(key, reason),
        other => Error::invalid_setting("grafanaConfig", other.to_string()),
    }
}

fn read_file(key: &str, path: &str) -> Result<String, Error> {
    std::fs::read_to_string(path)
        .map_err(|error| Error::invalid_setting(key, format!("cannot read `{path}`: {error}")))
}

fn parse_bool(text: &str) -> Option<bool> {
    // The spellings Go's strconv.ParseBool accepts.
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Typed access to jsonData and secureJsonData, with errors naming the key.
struct JsonData<'a> {
    json: &'a Map<String, Value>,
    secure: &'a HashMap<String, String>,
}

impl JsonData<'_> {
    fn secret(&self, key: &str) -> Option<Secret> {
        self.secure
            .get(key)
            .map(|value| Secret::new(value.as_str()))
    }

    fn string(&self, key: &str) -> Result<Option<String>, Error> {
        match self.json.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(Error::invalid_setting(
                key,
                format!("expected a string, found {other}"),
            )),
        }
    }

    /// An array of strings; missing or `null` is empty.
    fn string_list(&self, key: &str) -> Result<Vec<String>, Error> {
        let invalid = |found: &Value| {
            Error::invalid_setting(key, format!("expected an array of strings, found {found}"))
        };
        match self.json.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| match item {
                    Value::String(text) => Ok(text.clone()),
                    other => Err(invalid(other)),
                })
                .collect(),
            Some(other) => Err(invalid(other)),
        }
    }

    fn bool(&self, key: &str) -> Result<bool, Error> {
        match self.json.get(key) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(flag)) => Ok(*flag),
            Some(Value::String(text)) => parse_bool(text).ok_or_else(|| {
                Error::invalid_setting(key, format!("expected a boolean, found {text:?}"))
            }),
            Some(other) => Err(Error::invalid_setting(
                key,
                format!("expected a boolean, found {other}"),
            )),
        }
    }

    fn number(&self, key: &str) -> Result<Option<f64>, Error> {
        let number = match self.json.get(key) {
            None | Some(Value::Null) => return Ok(None),
            Some(Value::Number(number)) => number.as_f64(),
            Some(Value::String(text)) if text.trim().is_empty() => return Ok(None),
            Some(Value::String(text)) => text.trim().parse::<f64>().ok(),
            Some(_) => None,
        };
        match number {
            Some(number) if number.is_finite() && number >= 0.0 => Ok(Some(number)),
            Some(number) if number < 0.0 => Err(Error::invalid_setting(
                key,
                format!("must not be negative, found {number}"),
            )),
            _ => Err(Error::invalid_setting(
                key,
                format!("expected a number, found {}", self.json[key]),
            )),
        }
    }

    /// A duration in (possibly fractional) seconds.
    fn seconds(&self, key: &str) -> Result<Option<Duration>, Error> {
        self.number(key)?
            .map(|seconds| {
                Duration::try_from_secs_f64(seconds).map_err(|_| {
                    Error::invalid_setting(key, format!("{seconds} seconds is out of range"))
                })
            })
            .transpose()
    }

    fn count(&self, key: &str) -> Result<Option<usize>, Error> {
        self.number(key)?
            .map(|count| {
                if count.fract() == 0.0 && count <= usize::MAX as f64 {
                    // Exact: checked integral and in range above.
                    Ok(count as usize)
                } else {
                    Err(Error::invalid_setting(
                        key,
                        format!("expected a whole number, found {count}"),
                    ))
                }
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn options(json: Value, secure: &[(&str, &str)]) -> Result<HttpClientOptions, Error> {
        let secure: HashMap<String, String> = secure
            .iter()
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .collect();
        HttpClientOptions::from_data_source_settings(&DataSourceSettings::new(&json, &secure))
    }

    fn invalid_key(error: Error) -> String {
        match error {
            Error::InvalidSetting { key, .. } => key,
            other => panic!("expected InvalidSetting, got {other:?}"),
        }
    }

    #[test]
    fn defaults_match_the_go_sdk() {
        let options = options(Value::Null, &[]).unwrap();
        assert_eq!(options.timeouts, crate::Timeouts::default());
        assert!(options.basic_auth.is_none());
        assert!(options.tls.is_none());
        assert!(options.headers.is_empty());
        assert!(options.secure_socks_proxy.is_none());
        assert_eq!(options.response_limit, None);
    }

    #[test]
    fn timeouts_and_pool_sizes_are_read_in_seconds() {
        let options = options(
            json!({
                "timeout": 5, "dialTimeout": "2", "httpKeepAlive": 0, "httpTLSHandshakeTimeout": 1.5,
                "httpIdleConnTimeout": 60, "httpMaxConnsPerHost": 4, "httpMaxIdleConns": 8,
                "httpMaxIdleConnsPerHost": 2,
            }),
            &[],
        )
        .unwrap();
        let timeouts = options.timeouts;
        assert_eq!(timeouts.request, Some(Duration::from_secs(5)));
        assert_eq!(timeouts.dial, Some(Duration::from_secs(2)));
        assert_eq!(timeouts.keep_alive, None, "zero means no timeout");
        assert_eq!(timeouts.tls_handshake, Some(Duration::from_millis(1500)));
        assert_eq!(timeouts.idle_connection, Some(Duration::from_secs(60)));
        assert_eq!(
            (
                timeouts.max_conns_per_host,
                timeouts.max_idle_conns,
                timeouts.max_idle_conns_per_host
            ),
            (4, 8, 2)
        );
    }

    #[test]
    fn invalid_values_name_their_key() {
        assert_eq!(
            invalid_key(options(json!({"timeout": -1}), &[]).unwrap_err()),
            "timeout"
        );
        assert_eq!(
            invalid_key(options(json!({"dialTimeout": "soon"}), &[]).unwrap_err()),
            "dialTimeout"
        );
        assert_eq!(
            invalid_key(options(json!({"httpMaxIdleConns": 1.5}), &[]).unwrap_err()),
            "httpMaxIdleConns"
        );
        assert_eq!(
            invalid_key(options(json!({"tlsSkipVerify": 3}), &[]).unwrap_err()),
            "tlsSkipVerify"
        );
        assert_eq!(
            invalid_key(options(json!([1]), &[]).unwrap_err()),
            "jsonData"
        );
        let error = options(json!({"timeout": -1}), &[]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid data source setting `timeout`: must not be negative, found -1"
        );
    }

    #[test]
    fn bad_pem_is_reported_with_its_key_and_without_the_secret() {
        let error = options(
            json!({"tlsAuthWithCACert": true}),
            &[(
                "tlsCACert",
                "-----BEGIN CERTIFICATE-----\nnot base64 !!!\n-----END CERTIFICATE-----\n",
            )],
        )
        .unwrap_err();
        let text = error.to_string();
        assert_eq!(invalid_key(error), "tlsCACert");
        assert!(!text.contains("not base64"), "{text}");

        let error = options(
            json!({"tlsAuth": true}),
            &[("tlsClientCert", "garbage"), ("tlsClientKey", "garbage")],
        )
        .unwrap_err();
        assert_eq!(invalid_key(error), "tlsClientCert");
    }

    #[test]
    fn basic_auth_precedence_follows_go() {
        let json = json!({"basicAuth": true, "basicAuthUser": "json-user"});
        let secure: HashMap<String, String> = [
            ("basicAuthPassword".to_owned(), "bap".to_owned()),
            ("password".to_owned(), "legacy".to_owned()),
        ]
        .into();
        let read = |settings: DataSourceSettings<'_>| {
            HttpClientOptions::from_data_source_settings(&settings)
                .unwrap()
                .basic_auth
                .unwrap()
        };

        let from_json = read(DataSourceSettings::new(&json, &secure));
        assert_eq!(
            (from_json.user.as_str(), from_json.password.expose()),
            ("json-user", "bap")
        );

        let top_level = read(DataSourceSettings {
            basic_auth_enabled: true,
            basic_auth_user: "top",
            user: "legacy-user",
            ..DataSourceSettings::new(&json, &secure)
        });
        assert_eq!(
            (top_level.user.as_str(), top_level.password.expose()),
            ("top", "bap")
        );

        let legacy = read(DataSourceSettings {
            user: "legacy-user",
            ..DataSourceSettings::new(&Value::Null, &secure)
        });
        assert_eq!(
            (legacy.user.as_str(), legacy.password.expose()),
            ("legacy-user", "legacy")
        );
    }

    #[test]
    fn custom_headers_stop_at_the_first_missing_name_and_are_sensitive() {
        let options = options(
            json!({"httpHeaderName1": "X-Api-Key", "httpHeaderName2": "X-No-Value", "httpHeaderName3": "X-Org", "httpHeaderName5": "X-Ignored"}),
            &[("httpHeaderValue1", "k3y"), ("httpHeaderValue3", "7"), ("httpHeaderValue5", "x")],
        )
        .unwrap();
        let headers = options.headers;
        assert_eq!(headers.len(), 2);
        assert_eq!(headers["x-api-key"], "k3y");
        assert!(headers["x-api-key"].is_sensitive());
        assert_eq!(headers["x-org"], "7");
        assert!(!format!("{headers:?}").contains("k3y"));

        let error = options_error_key(
            json!({"httpHeaderName1": "bad header"}),
            &[("httpHeaderValue1", "v")],
        );
        assert_eq!(error, "httpHeaderName1");
        let error = options_error_key(
            json!({"httpHeaderName1": "X-A"}),
            &[("httpHeaderValue1", "a\nb")],
        );
        assert_eq!(error, "httpHeaderValue1");
    }

    fn options_error_key(json: Value, secure: &[(&str, &str)]) -> String {
        invalid_key(options(json, secure).unwrap_err())
    }

    #[test]
    fn tls_secrets_are_read_only_with_a_certificate_option() {
        let secure = [("tlsCACert", "ignored")];
        let skip_only =
            options(json!({"tlsSkipVerify": true, "serverName": "db"}), &secure).unwrap();
        let tls = skip_only.tls.unwrap();
        assert!(tls.insecure_skip_verify);
        assert_eq!((tls.ca_certificate, tls.server_name), (None, None));
        assert!(options(json!({}), &secure).unwrap().tls.is_none());
    }

    #[test]
    fn grafana_config_sets_response_limit_and_forces_tls13() {
        let json = json!({});
        let secure = HashMap::new();
        let config: GrafanaConfig = [
            (keys::RESPONSE_LIMIT, "1024"),
            (keys::FEATURE_TOGGLES, "someToggle,pluginsForceTls13"),
        ]
        .into_iter()
        .collect();
        let settings = DataSourceSettings {
            grafana_config: Some(&config),
            ..DataSourceSettings::new(&json, &secure)
        };
        let options = HttpClientOptions::from_data_source_settings(&settings).unwrap();
        assert_eq!(options.response_limit, Some(1024));
        let tls = options.tls.unwrap();
        assert_eq!(
            (tls.min_version, tls.max_version),
            (Some(TlsVersion::Tls13), Some(TlsVersion::Tls13))
        );
    }

    #[test]
    fn forwarding_settings_are_read() {
        let options = options(
            json!({"keepCookies": ["session", "tenant"], "oauthPassThru": true}),
            &[],
        )
        .unwrap();
        assert_eq!(
            options.keep_cookies.as_deref(),
            Some(&["session".to_owned(), "tenant".to_owned()][..])
        );
        assert!(options.oauth_pass_through);
        assert!(
            !options.forward_http_headers,
            "the plugin's choice, as in Go"
        );
        let none = self::options(json!({}), &[]).unwrap();
        assert_eq!(none.keep_cookies.as_deref(), Some(&[][..]));
        assert_eq!(
            invalid_key(self::options(json!({"keepCookies": "session"}), &[]).unwrap_err()),
            "keepCookies"
        );
    }

    #[test]
    fn secure_socks_proxy_needs_both_data_source_and_grafana() {
        let json = json!({"enableSecureSocksProxy": true, "timeout": 7});
        let secure: HashMap<String, String> =
            [("secureSocksProxyPassword".to_owned(), "pw".to_owned())].into();
        let config: GrafanaConfig = [
            (keys::SECURE_SOCKS_PROXY_ENABLED, "true"),
            (keys::SECURE_SOCKS_PROXY_ALLOW_INSECURE, "true"),
            (keys::SECURE_SOCKS_PROXY_ADDRESS, "127.0.0.1:1080"),
        ]
        .into_iter()
        .collect();
        let settings = DataSourceSettings {
            uid: "ds-uid",
            grafana_config: Some(&config),
            ..DataSourceSettings::new(&json, &secure)
        };
        let proxy = HttpClientOptions::from_data_source_settings(&settings)
            .unwrap()
            .secure_socks_proxy
            .unwrap();
        assert_eq!(proxy.username, "ds-uid", "defaults to the data source UID");
        assert_eq!(proxy.password.expose(), "pw");
        assert_eq!(proxy.timeout, Duration::from_secs(7));
        assert_eq!(proxy.transport, SecureSocksProxyTransport::Insecure);

        let without_grafana = DataSourceSettings {
            grafana_config: None,
            ..settings
        };
        let options = HttpClientOptions::from_data_source_settings(&without_grafana).unwrap();
        assert!(options.secure_socks_proxy.is_none());
    }

    #[test]
    fn settings_debug_hides_secure_values() {
        let json = json!({});
        let secure: HashMap<String, String> =
            [("password".to_owned(), "hunter2".to_owned())].into();
        let text = format!("{:?}", DataSourceSettings::new(&json, &secure));
        assert!(
            text.contains("password") && !text.contains("hunter2"),
            "{text}"
        );
    }
}
