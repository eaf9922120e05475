//! [`AppInstanceProvider`]: one instance per app plugin and organization,
//! keyed and refreshed by the Go SDK's rules.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use plugin_backend::{AppInstanceSettings, PluginContext};

use crate::datasource::DisposeFn;
use crate::error::Error;
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
    factory: F,
    dispose: Option<DisposeFn<T>>,
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
            factory,
            dispose: None,
        }
    }

    /// This provider, cleaning up replaced and evicted instances with
    /// `dispose` (otherwise they are simply dropped).
    pub fn with_dispose<D, DFut>(mut self, dispose: D) -> Self
    where
        D: Fn(T) -> DFut + Send + Sync + 'static,
        DFut: Future<Output = ()> + Send + 'static,
    {
        self.dispose = Some(Arc::new(move |instance| Box::pin(dispose(instance))));
        self
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
        let current = request.plugin_context();
        let previous = cached.plugin_context();
        let settings_updated = match (
            &current.app_instance_settings,
            &previous.app_instance_settings,
        ) {
            (Some(current), Some(previous)) => current.updated != previous.updated,
            _ => true,
        };
        let config_updated = current.grafana_config != previous.grafana_config;
        if settings_updated {
            tracing::debug!("app instance needs update: app settings changed");
        }
        if config_updated {
            let diff = current.grafana_config.diff(&previous.grafana_config);
            tracing::debug!(?diff, "app instance needs update: Grafana config changed");
        }
        settings_updated || config_updated
    }

    async fn new_instance(&self, request: InstanceRequest<'_>) -> Result<T, plugin_backend::Error> {
        let context = request.plugin_context();
        let settings = settings(context).map_err(plugin_backend::Error::from)?;
        (self.factory)(Arc::clone(settings), context.clone()).await
    }

    fn dispose(&self, instance: T) -> impl Future<Output = ()> + Send {
        let dispose = self.dispose.as_ref().map(|dispose| dispose(instance));
        async move {
            if let Some(dispose) = dispose {
                dispose.await;
            }
        }
    }
}

fn settings(context: &PluginContext) -> Result<&Arc<AppInstanceSettings>, Error> {
    context
        .app_instance_settings
        .as_ref()
        .ok_or(Error::MissingInstanceSettings("app"))
}

impl<F, T> fmt::Debug for AppInstanceProvider<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppInstanceProvider")
            .field("dispose", &self.dispose.is_some())
            .finish_non_exhaustive()
    }
}
