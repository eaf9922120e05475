//! [`PluginContext`], [`User`] and instance settings ↔ wire messages.

use std::sync::Arc;

use plugin_proto::pluginv2;

use crate::context::{PluginContext, Role, User};
use crate::data::datetime_from_millis;
use crate::error::Error;
use crate::settings::{AppInstanceSettings, DataSourceInstanceSettings};

impl TryFrom<pluginv2::User> for User {
    type Error = Error;

    fn try_from(message: pluginv2::User) -> Result<Self, Error> {
        let role = if message.role.is_empty() {
            None
        } else {
            Some(Role::from(message.role.as_str()))
        };
        Ok(User {
            login: message.login,
            name: message.name,
            email: message.email,
            role,
        })
    }
}

impl From<User> for pluginv2::User {
    fn from(user: User) -> Self {
        pluginv2::User {
            login: user.login,
            name: user.name,
            email: user.email,
            role: user
                .role
                .map(|role| role.as_str().to_owned())
                .unwrap_or_default(),
        }
    }
}

impl DataSourceInstanceSettings {
    /// The settings in a wire message; `plugin_id` becomes
    /// [`plugin_id`](Self::plugin_id), which the message does not carry.
    pub fn try_from_proto(
        message: pluginv2::DataSourceInstanceSettings,
        plugin_id: &str,
    ) -> Result<Self, Error> {
        Ok(DataSourceInstanceSettings {
            id: message.id,
            uid: message.uid,
            plugin_id: plugin_id.to_owned(),
            name: message.name,
            url: message.url,
            user: message.user,
            database: message.database,
            basic_auth_enabled: message.basic_auth_enabled,
            basic_auth_user: message.basic_auth_user,
            json_data: message.json_data,
            decrypted_secure_json_data: message.decrypted_secure_json_data.into(),
            updated: datetime_from_millis(
                message.last_updated_ms,
                "data source settings last update",
            )?,
            api_version: message.api_version,
        })
    }
}

impl From<DataSourceInstanceSettings> for pluginv2::DataSourceInstanceSettings {
    fn from(settings: DataSourceInstanceSettings) -> Self {
        pluginv2::DataSourceInstanceSettings {
            id: settings.id,
            name: settings.name,
            url: settings.url,
            user: settings.user,
            database: settings.database,
            basic_auth_enabled: settings.basic_auth_enabled,
            basic_auth_user: settings.basic_auth_user,
            json_data: settings.json_data,
            decrypted_secure_json_data: settings.decrypted_secure_json_data.into_map(),
            last_updated_ms: settings.updated.timestamp_millis(),
            uid: settings.uid,
            api_version: settings.api_version,
        }
    }
}

impl TryFrom<pluginv2::AppInstanceSettings> for AppInstanceSettings {
    type Error = Error;

    fn try_from(message: pluginv2::AppInstanceSettings) -> Result<Self, Error> {
        Ok(AppInstanceSettings {
            json_data: message.json_data,
            decrypted_secure_json_data: message.decrypted_secure_json_data.into(),
            updated: datetime_from_millis(message.last_updated_ms, "app settings last update")?,
            api_version: message.api_version,
        })
    }
}

impl From<AppInstanceSettings> for pluginv2::AppInstanceSettings {
    fn from(settings: AppInstanceSettings) -> Self {
        pluginv2::AppInstanceSettings {
            json_data: settings.json_data,
            decrypted_secure_json_data: settings.decrypted_secure_json_data.into_map(),
            last_updated_ms: settings.updated.timestamp_millis(),
            api_version: settings.api_version,
        }
    }
}

impl TryFrom<pluginv2::PluginContext> for PluginContext {
    type Error = Error;

    /// Converts a plugin context. A user agent that does not parse becomes
    /// `None` rather than an error, as in the Go SDK: it is informational
    /// and must not fail requests.
    fn try_from(message: pluginv2::PluginContext) -> Result<Self, Error> {
        let data_source_instance_settings = message
            .data_source_instance_settings
            .map(|settings| {
                DataSourceInstanceSettings::try_from_proto(settings, &message.plugin_id)
            })
            .transpose()?
            .map(Arc::new);
        Ok(PluginContext {
            org_id: message.org_id,
            user: message.user.map(User::try_from).transpose()?,
            app_instance_settings: message
                .app_instance_settings
                .map(AppInstanceSettings::try_from)
                .transpose()?
                .map(Arc::new),
            data_source_instance_settings,
            grafana_config: message.grafana_config.into(),
            user_agent: message.user_agent.parse().ok(),
            plugin_id: message.plugin_id,
            plugin_version: message.plugin_version,
            api_version: message.api_version,
            namespace: message.namespace,
            // Not in the message: the server sets it from the call's
            // gRPC metadata.
            tenant_id: String::new(),
        })
    }
}

impl From<PluginContext> for pluginv2::PluginContext {
    fn from(context: PluginContext) -> Self {
        pluginv2::PluginContext {
            org_id: context.org_id,
            plugin_id: context.plugin_id,
            user: context.user.map(Into::into),
            app_instance_settings: context
                .app_instance_settings
                .map(|settings| Arc::unwrap_or_clone(settings).into()),
            data_source_instance_settings: context
                .data_source_instance_settings
                .map(|settings| Arc::unwrap_or_clone(settings).into()),
            grafana_config: context.grafana_config.into_map(),
            plugin_version: context.plugin_version,
            user_agent: context
                .user_agent
                .map(|agent| agent.to_string())
                .unwrap_or_default(),
            api_version: context.api_version,
            namespace: context.namespace,
        }
    }
}
