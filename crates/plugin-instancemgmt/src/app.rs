//! [`AppInstanceProvider`]: one instance per app plugin and organization,
//! keyed and refreshed by the Go SDK's rules.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use plugin_backend::{AppInstanceSettings, PluginContext};

use crate::error::Error;
use crate::factory::{Factory, settings_or_config_changed};
use crate::instance::ManagedInstance;
use crate::provider::{InstanceProvider, InstanceRequest};

/// Provides app instances from a factory function.
///
/// * **Key**: `"<plugin id>#<org id>"`, prefixed with `"<tenant>#"` when the
///   request has a tenant, exactly as the Go SDK builds it: one app plugin
///   serves several organizations. A request without app settings is an
///   error ([`Error::MissingInstanceSettings`]).
/// * **Stale** when the settings' `updated` time differs from the cached
///   instance's, or when Grafana's configuration differs in any key.
/// * **Created** by the factory, called with the settings and the request's
///   plugin context.
///
/// ```
/// use plugin_instancemgmt::{AppInstanceProvider, InstanceManager};
///
/// struct App {
///     greeting: String,
/// }
///
/// let manager = InstanceManager::new(AppInstanceProvider::new(|_settings, context| async move {
///     Ok(App { greeting: format!("hello, org {}", context.org_id) })
/// }));
/// # let _ = manager;
/// ```
pub struct AppInstanceProvider<F, T> {
    factory: Factory<F, T>,
}

impl<F, Fut, T> AppInstanceProvider<F, T>
where
    F: Fn(Arc<AppInstanceSettings>, PluginContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, plugin_backend::Error>> + Send,
    T: Send + Sync + 'static,
{
    /// A provider creating instances with `factory`.
    pub fn new(factory: F) -> Self {
        AppInstanceProvider {
            factory: Factory::new(factory),
        }
    }

    /// This provider, cleaning up replaced and evicted instances with
    /// `dispose` (otherwise they are simply dropped).
    pub fn with_dispose<D, DFut>(self, dispose: D) -> Self
    where
        D: Fn(T) -> DFut + Send + Sync + 'static,
        DFut: Future<Output = ()> + Send + 'static,
    {
        AppInstanceProvider {
            factory: self.factory.with_dispose(dispose),
        }
    }
}

impl<F, Fut, T> InstanceProvider for AppInstanceProvider<F, T>
where
    F: Fn(Arc<AppInstanceSettings>, PluginContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, plugin_backend::Error>> + Send,
    T: Send + Sync + 'static,
{
    type Instance = T;
    type Key = String;

    fn key(&self, request: InstanceRequest<'_>) -> Result<String, Error> {
        let context = request.plugin_context();
        settings(context)?;
        let key = format!("{}#{}", context.plugin_id, context.org_id);
        Ok(match request.tenant_id() {
            "" => key,
            tenant_id => format!("{tenant_id}#{key}"),
        })
    }

    fn needs_update(&self, request: InstanceRequest<'_>, cached: &ManagedInstance<T>) -> bool {
        settings_or_config_changed(
            KIND,
            request.plugin_context(),
            cached.plugin_context(),
            |context| settings(context).ok().map(|settings| settings.updated),
        )
    }

    async fn new_instance(&self, request: InstanceRequest<'_>) -> Result<T, plugin_backend::Error> {
        let context = request.plugin_context();
        self.factory.create(settings(context)?, context).await
    }

    fn dispose(&self, instance: T) -> impl Future<Output = ()> + Send {
        self.factory.dispose(instance)
    }
}

/// What app settings are called in errors and debug logs.
const KIND: &str = "app";

fn settings(context: &PluginContext) -> Result<&Arc<AppInstanceSettings>, Error> {
    context
        .app_instance_settings
        .as_ref()
        .ok_or(Error::MissingInstanceSettings(KIND))
}

impl<F, T> fmt::Debug for AppInstanceProvider<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.factory.fmt_as("AppInstanceProvider", f)
    }
}
