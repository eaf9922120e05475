//! What [`DataSourceInstanceProvider`](crate::DataSourceInstanceProvider)
//! and [`AppInstanceProvider`](crate::AppInstanceProvider) share: the
//! factory function with its optional dispose hook ([`Factory`]), and the Go
//! SDK's staleness rule ([`settings_or_config_changed`]). The providers keep
//! only what tells them apart: their settings type and their cache key.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use plugin_backend::PluginContext;

/// Async cleanup of an instance, set with `with_dispose`.
///
/// Boxed so that the providers' type parameters stay the factory and the
/// instance, whatever hook is set.
type DisposeFn<T> = Arc<dyn Fn(T) -> BoxFuture<'static, ()> + Send + Sync>;

/// A provider's factory function, which creates instances from their
/// settings, and its optional dispose hook.
pub(crate) struct Factory<F, T> {
    create: F,
    dispose: Option<DisposeFn<T>>,
}

impl<F, T> Factory<F, T> {
    /// Instances created with `create` and simply dropped when done with.
    pub(crate) fn new(create: F) -> Self {
        Factory {
            create,
            dispose: None,
        }
    }

    /// This factory, cleaning up instances with `dispose`.
    pub(crate) fn with_dispose<D, DFut>(self, dispose: D) -> Self
    where
        D: Fn(T) -> DFut + Send + Sync + 'static,
        DFut: Future<Output = ()> + Send + 'static,
    {
        Factory {
            dispose: Some(Arc::new(move |instance| Box::pin(dispose(instance)))),
            ..self
        }
    }

    /// Runs the factory function for `settings`, on behalf of the request
    /// with plugin context `context`.
    pub(crate) fn create<S, Fut>(&self, settings: &Arc<S>, context: &PluginContext) -> Fut
    where
        F: Fn(Arc<S>, PluginContext) -> Fut,
    {
        (self.create)(Arc::clone(settings), context.clone())
    }

    /// Cleans up `instance` with the dispose hook, if one is set.
    pub(crate) fn dispose(&self, instance: T) -> impl Future<Output = ()> + Send + use<F, T> {
        // The hook is called now rather than when the future is first
        // polled, so the future does not borrow the factory.
        let dispose = self.dispose.as_ref().map(|dispose| dispose(instance));
        async move {
            if let Some(dispose) = dispose {
                dispose.await;
            }
        }
    }

    /// Formats the provider `name` holding this factory: the factory
    /// function is opaque, so only whether a dispose hook is set shows.
    pub(crate) fn fmt_as(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("dispose", &self.dispose.is_some())
            .finish_non_exhaustive()
    }
}

/// Whether an instance created for the plugin context `previous` is stale
/// for the plugin context `current`, by the Go SDK's rule: when the
/// instance settings' `updated` time differs (or either context has no
/// settings), or when Grafana's configuration differs in any key.
///
/// `updated` reads the settings' `updated` time from a plugin context;
/// `kind` names the settings ("data source", "app") in the debug logs that
/// say why an instance is stale.
pub(crate) fn settings_or_config_changed<U: PartialEq>(
    kind: &str,
    current: &PluginContext,
    previous: &PluginContext,
    updated: impl Fn(&PluginContext) -> Option<U>,
) -> bool {
    let settings_updated = match (updated(current), updated(previous)) {
        (Some(current), Some(previous)) => current != previous,
        _ => true,
    };
    let config_updated = current.grafana_config != previous.grafana_config;
    if settings_updated {
        tracing::debug!("{kind} instance needs update: {kind} settings changed");
    }
    if config_updated {
        let diff = current.grafana_config.diff(&previous.grafana_config);
        tracing::debug!(
            ?diff,
            "{kind} instance needs update: Grafana config changed"
        );
    }
    settings_updated || config_updated
}
