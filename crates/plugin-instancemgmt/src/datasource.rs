//! [`DataSourceInstanceProvider`]: one instance per data source, keyed and
//! refreshed by the Go SDK's rules.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use plugin_backend::{DataSourceInstanceSettings, PluginContext};

use crate::error::Error;
use crate::instance::ManagedInstance;
use crate::provider::{InstanceProvider, InstanceRequest};

/// Async cleanup of an instance, set with `with_dispose`.
pub(crate) type DisposeFn<T> = Arc<dyn Fn(T) -> BoxFuture<'static, ()> + Send + Sync>;

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
///     let options: Options = settings.json_data()?;
///     Ok::<_, Error>(Client { url: settings.url.clone(), timeout_seconds: options.timeout_seconds })
/// })
/// .with_dispose(|client: Client| async move {
///     // e.g. close a connection pool
///     drop(client);
/// });
/// # let _ = provider;
/// ```
pub struct DataSourceInstanceProvider<F, T> {
    factory: F,
    dispose: Option<DisposeFn<T>>,
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
        let current = request.plugin_context();
        let previous = cached.plugin_context();
        let settings_updated = match (
            &current.data_source_instance_settings,
            &previous.data_source_instance_settings,
        ) {
            (Some(current), Some(previous)) => current.updated != previous.updated,
            _ => true,
        };
        let config_updated = current.grafana_config != previous.grafana_config;
        if settings_updated {
            tracing::debug!("data source instance needs update: data source settings changed");
        }
        if config_updated {
            let diff = current.grafana_config.diff(&previous.grafana_config);
            tracing::debug!(
                ?diff,
                "data source instance needs update: Grafana config changed"
            );
        }
        settings_updated || config_updated
    }

    async fn new_instance(&self, request: InstanceRequest<'_>) -> Result<T, plugin_backend::Error> {
        let context = request.plugin_context();
        let settings = settings(context).map_err(plugin_backend::Error::from)?;
        crate::metrics::datasource_instances_created().inc();
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

fn settings(context: &PluginContext) -> Result<&Arc<DataSourceInstanceSettings>, Error> {
    context
        .data_source_instance_settings
        .as_ref()
        .ok_or(Error::MissingInstanceSettings("data source"))
}

impl<F, T> fmt::Debug for DataSourceInstanceProvider<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataSourceInstanceProvider")
            .field("dispose", &self.dispose.is_some())
            .finish_non_exhaustive()
    }
}
