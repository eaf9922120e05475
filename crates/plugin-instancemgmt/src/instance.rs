//! [`ManagedInstance`]: a shared handle to a cached instance, whose last
//! drop disposes of it.

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use plugin_backend::PluginContext;

use crate::metrics;
use crate::provider::InstanceProvider;

/// A shared handle to an instance held by an instance manager.
///
/// It dereferences to the instance. The manager keeps one handle while the
/// instance is cached and gives a clone to every request. When the instance
/// is replaced (its settings changed) or evicted (its TTL ran out), the
/// manager drops its handle; the instance is disposed of when the last
/// request still holding a handle finishes. Requests in flight therefore
/// never see their instance torn down under them, and no timer guesses how
/// long they take (the Go SDK waits a fixed five seconds).
pub struct ManagedInstance<T>(Arc<Inner<T>>);

struct Inner<T> {
    /// `Some` for the whole life of the handle; taken only in `drop`, to
    /// hand the instance to its disposer by value.
    instance: Option<T>,
    plugin_context: PluginContext,
    disposer: Option<Disposer<T>>,
}

type Disposer<T> = Box<dyn FnOnce(T) + Send + Sync>;

impl<T: Send + Sync + 'static> ManagedInstance<T> {
    /// Wraps a freshly created instance; `provider` disposes of it.
    pub(crate) fn new<P>(instance: T, plugin_context: PluginContext, provider: Arc<P>) -> Self
    where
        P: InstanceProvider<Instance = T>,
    {
        // Disposal is async, but it starts in `Drop`: remember the runtime
        // now, while we are certainly inside one.
        let runtime = tokio::runtime::Handle::try_current().ok();
        let disposer: Disposer<T> = Box::new(move |instance| match runtime {
            Some(runtime) => {
                runtime.spawn(async move { provider.dispose(instance).await });
            }
            None => drop(instance),
        });
        metrics::active_instances().inc();
        ManagedInstance(Arc::new(Inner {
            instance: Some(instance),
            plugin_context,
            disposer: Some(disposer),
        }))
    }
}

impl<T> ManagedInstance<T> {
    /// The plugin context of the request the instance was created for
    /// (what [`InstanceProvider::needs_update`] compares with).
    pub fn plugin_context(&self) -> &PluginContext {
        &self.0.plugin_context
    }

    /// Whether `self` and `other` are handles to the same instance.
    pub fn ptr_eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl<T> Deref for ManagedInstance<T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.0
            .instance
            .as_ref()
            .expect("the instance is only taken out when the last handle drops")
    }
}

impl<T> Clone for ManagedInstance<T> {
    fn clone(&self) -> Self {
        ManagedInstance(Arc::clone(&self.0))
    }
}

impl<T: fmt::Debug> fmt::Debug for ManagedInstance<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ManagedInstance").field(&**self).finish()
    }
}

impl<T> Drop for Inner<T> {
    fn drop(&mut self) {
        if let (Some(instance), Some(disposer)) = (self.instance.take(), self.disposer.take()) {
            disposer(instance);
        }
        metrics::active_instances().dec();
    }
}
