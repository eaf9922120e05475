//! Adapters to the SDK's `plugin-backend` types: options from
//! [`DataSourceInstanceSettings`] or a [`PluginContext`], request extensions
//! from the context, and the conversion of [`Error`] into the SDK's.

use http::HeaderValue;
use plugin_backend::{DataSourceInstanceSettings, PluginContext};
use serde_json::Value;

use crate::{
    error::Error,
    extensions::{Endpoint, GrafanaUserAgent},
    options::HttpClientOptions,
    settings::DataSourceSettings,
};

impl HttpClientOptions {
    /// Options from the data source's settings alone: no Grafana
    /// configuration (response limit, TLS 1.3 toggle, secure SOCKS proxy)
    /// and no plugin version for the user agent. Prefer
    /// [`from_plugin_context`](Self::from_plugin_context) inside a request.
    pub fn from_settings(settings: &DataSourceInstanceSettings) -> Result<Self, Error> {
        from_backend(settings, "", None)
    }

    /// Options from the request's plugin context: its data source settings,
    /// plugin version and Grafana configuration.
    pub fn from_plugin_context(context: &PluginContext) -> Result<Self, Error> {
        let settings = context
            .data_source_instance_settings
            .as_deref()
            .ok_or_else(|| {
                Error::invalid_setting(
                    "dataSourceInstanceSettings",
                    "the plugin context has no data source settings",
                )
            })?;
        from_backend(settings, &context.plugin_version, Some(context))
    }
}

fn from_backend(
    settings: &DataSourceInstanceSettings,
    plugin_version: &str,
    context: Option<&PluginContext>,
) -> Result<HttpClientOptions, Error> {
    let json_data: Value = if settings.json_data.iter().all(u8::is_ascii_whitespace) {
        Value::Null
    } else {
        serde_json::from_slice(&settings.json_data)
            .map_err(|error| Error::invalid_setting("jsonData", format!("invalid JSON: {error}")))?
    };
    let parts = DataSourceSettings {
        json_data: Some(&json_data),
        decrypted_secure_json_data: Some(settings.decrypted_secure_json_data.as_map()),
        url: &settings.url,
        basic_auth_enabled: settings.basic_auth_enabled,
        basic_auth_user: &settings.basic_auth_user,
        user: &settings.user,
        uid: &settings.uid,
        name: &settings.name,
        plugin_id: &settings.plugin_id,
        plugin_version,
        grafana_config: context.map(|context| &context.grafana_config),
    };
    HttpClientOptions::from_data_source_settings(&parts)
}

/// Inserts the request extensions the default middleware reads from a
/// plugin context: Grafana's user agent and the endpoint label.
///
/// Inside a handler call the SDK's [`plugin_backend::outgoing`] scope
/// already provides both; this is for requests made elsewhere.
pub fn insert_context_extensions(
    extensions: &mut http::Extensions,
    context: &PluginContext,
    endpoint: Endpoint,
) {
    extensions.insert(endpoint);
    if let Some(user_agent) = &context.user_agent
        && let Ok(value) = HeaderValue::from_str(&user_agent.to_string())
    {
        extensions.insert(GrafanaUserAgent(value));
    }
}

impl From<Error> for plugin_backend::Error {
    /// Keeps the error's source, so a downstream HTTP failure is reported
    /// to Grafana as downstream.
    fn from(error: Error) -> Self {
        let source = error.error_source();
        plugin_backend::Error::new(error).with_source(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_backend::GrafanaConfig;
    use std::{collections::HashMap, sync::Arc};

    fn settings() -> DataSourceInstanceSettings {
        let mut settings = DataSourceInstanceSettings::default();
        settings.uid = "uid-1".into();
        settings.name = "DS".into();
        settings.plugin_id = "grafana-test-datasource".into();
        settings.basic_auth_enabled = true;
        settings.basic_auth_user = "admin".into();
        settings.json_data =
            bytes::Bytes::from_static(br#"{"timeout": 3, "httpHeaderName1": "X-Key"}"#);
        settings
            .decrypted_secure_json_data
            .insert("basicAuthPassword", "pw");
        settings
            .decrypted_secure_json_data
            .insert("httpHeaderValue1", "v");
        settings
    }

    #[test]
    fn options_from_instance_settings() {
        let options = HttpClientOptions::from_settings(&settings()).unwrap();
        assert_eq!(
            options.timeouts.request,
            Some(std::time::Duration::from_secs(3))
        );
        let auth = options.basic_auth.unwrap();
        assert_eq!(
            (auth.user.as_str(), auth.password.expose()),
            ("admin", "pw")
        );
        assert_eq!(options.headers["x-key"], "v");
        assert_eq!(options.labels.data_source_type, "grafana-test-datasource");
        assert!(
            options.plugin.is_none(),
            "no version without a plugin context"
        );
    }

    #[test]
    fn options_from_plugin_context_use_version_and_config() {
        let mut context = PluginContext::new("grafana-test-datasource");
        context.plugin_version = "2.0.0".into();
        context.data_source_instance_settings = Some(Arc::new(settings()));
        context.grafana_config = GrafanaConfig::new(HashMap::from([(
            "GF_RESPONSE_LIMIT".to_owned(),
            "10".to_owned(),
        )]));
        let options = HttpClientOptions::from_plugin_context(&context).unwrap();
        assert_eq!(options.response_limit, Some(10));
        assert_eq!(options.plugin.unwrap().version, "2.0.0");

        let empty = PluginContext::new("grafana-test-datasource");
        assert!(matches!(
            HttpClientOptions::from_plugin_context(&empty),
            Err(Error::InvalidSetting { .. })
        ));
    }

    #[test]
    fn invalid_json_data_names_the_key() {
        let mut settings = settings();
        settings.json_data = bytes::Bytes::from_static(b"{not json");
        match HttpClientOptions::from_settings(&settings) {
            Err(Error::InvalidSetting { key, .. }) => assert_eq!(key, "jsonData"),
            other => panic!("expected invalid jsonData, got {other:?}"),
        }
    }

    #[test]
    fn errors_keep_their_source() {
        let downstream = Error::Timeout {
            kind: crate::TimeoutKind::Request,
            after: std::time::Duration::from_secs(1),
        }
        .into_downstream();
        let converted = plugin_backend::Error::from(downstream);
        assert_eq!(
            converted.error_source(),
            Some(plugin_backend::ErrorSource::Downstream)
        );
        let plugin = plugin_backend::Error::from(Error::ResponseTooLarge { limit: 1 });
        assert_eq!(
            plugin.error_source(),
            Some(plugin_backend::ErrorSource::Plugin)
        );
    }
}
