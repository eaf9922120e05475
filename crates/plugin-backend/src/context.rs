//! [`PluginContext`]: who and what a request is for, and the Grafana [`User`]
//! with their [`Role`].

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::config::GrafanaConfig;
use crate::settings::{AppInstanceSettings, DataSourceInstanceSettings};
use crate::useragent::UserAgent;

/// Everything Grafana tells a plugin about the context of a request: the
/// organization, the plugin, the user, the app or data source instance and
/// Grafana's configuration.
///
/// Every request type carries one. Cloning is cheap: the instance settings
/// and the configuration are shared.
///
/// ```
/// use plugin_backend::{PluginContext, Role, User};
///
/// let mut ctx = PluginContext::new("my-datasource");
/// ctx.user = Some(User::new("admin").with_role(Role::Admin));
/// assert_eq!(ctx.plugin_id, "my-datasource");
/// assert!(ctx.data_source_instance_settings.is_none());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct PluginContext {
    /// The Grafana organization the request comes from.
    ///
    /// Grafana is moving to [`namespace`](Self::namespace) for tenancy.
    pub org_id: i64,
    /// The plugin's id, e.g. `grafana-postgresql-datasource`.
    pub plugin_id: String,
    /// The plugin's version as Grafana knows it.
    pub plugin_version: String,
    /// The user making the request; `None` when Grafana itself makes it
    /// (alerting, recorded queries, background jobs).
    pub user: Option<User>,
    /// The app instance the request targets; set only for app plugins.
    pub app_instance_settings: Option<Arc<AppInstanceSettings>>,
    /// The data source instance the request targets; set only for data
    /// source plugins.
    pub data_source_instance_settings: Option<Arc<DataSourceInstanceSettings>>,
    /// Grafana's per-request configuration.
    pub grafana_config: GrafanaConfig,
    /// The Grafana server's user agent; `None` before Grafana 10.2 or when
    /// it cannot be parsed.
    pub user_agent: Option<UserAgent>,
    /// The API version of the request.
    pub api_version: String,
    /// The Grafana namespace (stack or organization) of the request.
    pub namespace: String,
    /// The tenant of the request in multi-tenant Grafana; empty when there
    /// is none.
    ///
    /// Grafana sends it in the call's gRPC metadata (`tenantID`), not in the
    /// message (the Go SDK keeps it in the `context.Context`); the server
    /// copies it here, and instance management keys instances by it.
    pub tenant_id: String,
}

impl PluginContext {
    /// An otherwise empty context for the plugin `plugin_id`.
    pub fn new(plugin_id: impl Into<String>) -> Self {
        PluginContext {
            plugin_id: plugin_id.into(),
            ..PluginContext::default()
        }
    }

    /// This context, targeting a data source instance.
    pub fn with_data_source_instance_settings(
        mut self,
        settings: impl Into<Arc<DataSourceInstanceSettings>>,
    ) -> Self {
        self.data_source_instance_settings = Some(settings.into());
        self
    }

    /// This context, targeting an app instance.
    pub fn with_app_instance_settings(
        mut self,
        settings: impl Into<Arc<AppInstanceSettings>>,
    ) -> Self {
        self.app_instance_settings = Some(settings.into());
        self
    }

    /// This context, for a request made by `user`.
    pub fn with_user(mut self, user: User) -> Self {
        self.user = Some(user);
        self
    }

    /// This context, with Grafana configuration `config`.
    pub fn with_grafana_config(mut self, config: GrafanaConfig) -> Self {
        self.grafana_config = config;
        self
    }

    /// This context, for tenant `tenant_id`.
    pub fn with_tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant_id = tenant_id.into();
        self
    }

    /// The UID of the data source instance, if the request targets one.
    pub fn data_source_uid(&self) -> Option<&str> {
        self.data_source_instance_settings
            .as_deref()
            .map(|settings| settings.uid.as_str())
    }
}

/// A Grafana user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct User {
    /// The login name.
    pub login: String,
    /// The display name.
    pub name: String,
    /// The e-mail address.
    pub email: String,
    /// The user's role in the organization; `None` when Grafana sent no
    /// role at all (which differs from [`Role::None`]).
    pub role: Option<Role>,
}

impl User {
    /// A user with login `login` and nothing else set.
    pub fn new(login: impl Into<String>) -> Self {
        User {
            login: login.into(),
            ..User::default()
        }
    }

    /// This user, with role `role`.
    pub fn with_role(mut self, role: Role) -> Self {
        self.role = Some(role);
        self
    }

    /// This user, with display name `name`.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// This user, with e-mail address `email`.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = email.into();
        self
    }
}

/// A user's role in a Grafana organization.
///
/// Grafana sends the role as a string and the Go SDK keeps it as one
/// (`backend.User.Role`, backend/common.go), so a role this SDK does not
/// know, such as one a newer Grafana adds, passes through as
/// [`Role::Other`] instead of failing the call.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// `None`: a member with no basic role (permissions come from elsewhere).
    None,
    /// `Viewer`.
    Viewer,
    /// `Editor`.
    Editor,
    /// `Admin`.
    Admin,
    /// A role name this SDK does not know, exactly as Grafana sent it.
    Other(Box<str>),
}

impl Role {
    /// The name Grafana uses on the wire: `None`, `Viewer`, `Editor`,
    /// `Admin`, or the name of an [`Other`](Role::Other) role.
    pub fn as_str(&self) -> &str {
        match self {
            Role::None => "None",
            Role::Viewer => "Viewer",
            Role::Editor => "Editor",
            Role::Admin => "Admin",
            Role::Other(name) => name,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<&str> for Role {
    /// The role named `name`; a name this SDK does not know is kept as
    /// [`Role::Other`].
    fn from(name: &str) -> Self {
        match name {
            "None" => Role::None,
            "Viewer" => Role::Viewer,
            "Editor" => Role::Editor,
            "Admin" => Role::Admin,
            other => Role::Other(other.into()),
        }
    }
}

impl FromStr for Role {
    type Err = std::convert::Infallible;

    /// The role named `name`, as [`Role::from`]; never fails.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Ok(Role::from(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_parses_back_from_its_name() {
        for role in [Role::None, Role::Viewer, Role::Editor, Role::Admin] {
            assert_eq!(Role::from(role.as_str()), role);
        }
    }

    #[test]
    fn unknown_roles_pass_through_by_name() {
        for name in ["Owner", "admin", "SuperEditor"] {
            let role = Role::from(name);
            assert_eq!(role, Role::Other(name.into()));
            assert_eq!(role.as_str(), name);
        }
    }
}
