//! [`DataSourceInstanceProvider`]: one instance per data source, keyed and
//! refreshed by the Go SDK's rules.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use plugin_backend::{DataSourceInstanceSettings, PluginContext};

use crate::error::Error;
use crate::factory::{Factory, settings_or_config_changed};
use crate::instance::ManagedInstance;
use crate::provider::{InstanceProvider, InstanceRequest};

/// Provides data source instances from a factory function.
///
/// * **Key**: `"<id>#<tenant>#<proxy hash>"`: the data source's numeric id,
///   the request's tenant and the fingerprint of the secure SOCKS proxy key
///   ([`GrafanaConfig::proxy_hash`](plugin_backend::GrafanaConfig::proxy_hash)),
///   exactly as the Go SDK builds it. A request without data source settings
///   is an error ([`Error::MissingInstanceSettings`]).
/// * **Stale** when the settings' `updated` time differs from the cached
///   instance's, or when Grafana's configuration differs in any key.
/// * **Created** by the factory, called with the settings and the request's
///   plugin context. Every creation counts in
///   `plugins_datasource_instances_total`.
///
/// ```
/// use plugin_backend::Error;
/// use plugin_instancemgmt::DataSourceInstanceProvider;
///
/// #[derive(serde::Deserialize)]
/// struct Options {
///     timeout_seconds: u64,
/// }
///
/// struct Client {
///     url: String,
///     timeout_seconds: u64,
/// }
///
/// let provider = DataSourceInstanceProvider::new(|settings, _context| async move {
///     let options: Options = settings.parse_json_data()?;
///     Ok::<_, Error>(Client { url: settings.url.clone(), timeout_seconds: options.timeout_seconds })
/// })
/// .with_dispose(|client: Client| async move {
///     // e.g. close a connection pool
///     drop(client);
/// });
/// # let _ = provider;
/// ```
pub struct DataSourceInstanceProvider<F, T> {
    factory: Factory<F, T>,
}

impl<F, Fut, T> DataSourceInstanceProvider<F, T>
where
    F: Fn(Arc<DataSourceInstanceSettings>, PluginContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, plugin_backend::Error>> + Send,
    T: Send + Sync + 'static,
{
    /// A provider creating instances with `factory`.
    pub fn new(factory: F) -> Self {
        DataSourceInstanceProvider {
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
        DataSourceInstanceProvider {
            factory: self.factory.with_dispose(dispose),
        }
    }
}

impl<F, Fut, T> InstanceProvider for DataSourceInstanceProvider<F, T>
where
    F: Fn(Arc<DataSourceInstanceSettings>, PluginContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, plugin_backend::Error>> + Send,
    T: Send + Sync + 'static,
{
    type Instance = T;
    type Key = String;

    fn key(&self, request: InstanceRequest<'_>) -> Result<String, Error> {
        let context = request.plugin_context();
        let settings = settings(context)?;
        let proxy_hash = context.grafana_config.proxy_hash().unwrap_or_default();
        Ok(format!(
            "{}#{}#{}",
            settings.id,
            request.tenant_id(),
            proxy_hash
        ))
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
        let settings = settings(context)?;
        crate::metrics::datasource_instances_created().inc();
        self.factory.create(settings, context).await
    }

    fn dispose(&self, instance: T) -> impl Future<Output = ()> + Send {
        self.factory.dispose(instance)
    }
}

/// What data source settings are called in errors and debug logs.
const KIND: &str = "data source";

fn settings(context: &PluginContext) -> Result<&Arc<DataSourceInstanceSettings>, Error> {
    context
        .data_source_instance_settings
        .as_ref()
        .ok_or(Error::MissingInstanceSettings(KIND))
}

impl<F, T> fmt::Debug for DataSourceInstanceProvider<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.factory.fmt_as("DataSourceInstanceProvider", f)
    }
}
