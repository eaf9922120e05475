//! The instance managers: [`StandardInstanceManager`] (instances live until
//! replaced), [`TtlInstanceManager`] (instances also expire when idle) and
//! [`InstanceManager`], which picks one of the two per request from
//! Grafana's feature toggles, as the Go SDK's `NewInstanceManagerWrapper`
//! does.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock, Weak};
use std::time::Duration;

use tokio::task::AbortHandle;
use tokio::time::MissedTickBehavior;

use crate::cache::{Expiry, InstanceCache};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::instance::ManagedInstance;
use crate::provider::{InstanceProvider, InstanceRequest};

/// The feature toggle that makes [`InstanceManager`] use its
/// [`TtlInstanceManager`].
pub const TTL_INSTANCE_MANAGER_TOGGLE: &str = "ttlPluginInstanceManager";

/// How long an unused instance stays cached in a [`TtlInstanceManager`]
/// unless configured otherwise: one hour, as in the Go SDK.
pub const DEFAULT_INSTANCE_TTL: Duration = Duration::from_secs(60 * 60);

/// How often a [`TtlInstanceManager`] looks for expired instances unless
/// configured otherwise: every two hours, as in the Go SDK.
pub const DEFAULT_CLEANUP_INTERVAL: Duration = Duration::from_secs(2 * 60 * 60);

/// Caches one instance per key until the provider says it is stale.
///
/// Cloning is cheap and clones share the cache.
///
/// * Concurrent requests for a key that has no fresh instance create it
///   once: one request runs the provider's factory, the others wait for it.
///   Requests for other keys are not held up.
/// * A failed creation is not cached; the next request tries again.
/// * A replaced instance is disposed of when the last request using it
///   finishes (see [`ManagedInstance`]).
pub struct StandardInstanceManager<P: InstanceProvider> {
    cache: Arc<InstanceCache<P>>,
}

impl<P: InstanceProvider> StandardInstanceManager<P> {
    /// A manager creating instances with `provider`.
    pub fn new(provider: P) -> Self {
        StandardInstanceManager::from_shared(Arc::new(provider))
    }

    fn from_shared(provider: Arc<P>) -> Self {
        StandardInstanceManager {
            cache: Arc::new(InstanceCache::new(provider, None)),
        }
    }

    /// The instance for `request`, created if it is not cached or stale.
    pub async fn get(
        &self,
        request: impl Into<InstanceRequest<'_>>,
    ) -> Result<ManagedInstance<P::Instance>, Error> {
        self.cache.get(request.into()).await
    }

    /// Runs `f` with the instance for `request` (the Go SDK's `Do`).
    pub async fn with_instance<F, Fut>(
        &self,
        request: impl Into<InstanceRequest<'_>>,
        f: F,
    ) -> Result<Fut::Output, Error>
    where
        F: FnOnce(ManagedInstance<P::Instance>) -> Fut,
        Fut: Future,
    {
        Ok(f(self.get(request).await?).await)
    }
}

impl<P: InstanceProvider> Clone for StandardInstanceManager<P> {
    fn clone(&self) -> Self {
        StandardInstanceManager {
            cache: Arc::clone(&self.cache),
        }
    }
}

impl<P: InstanceProvider> fmt::Debug for StandardInstanceManager<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StandardInstanceManager")
            .field("cache", &self.cache)
            .finish()
    }
}

/// Like [`StandardInstanceManager`], and an instance that has not been used
/// for its TTL (one hour by default) is evicted and disposed of.
///
/// The expiry is sliding: every request for an instance pushes it back. A
/// background task evicts expired instances every cleanup interval (two
/// hours by default); it starts with the first request, on that request's
/// Tokio runtime, and stops when the last clone of the manager is dropped.
/// An expired instance that the task has not evicted yet is never handed
/// out: it is evicted on the spot and replaced.
///
/// ```
/// use std::time::Duration;
/// use plugin_instancemgmt::{DataSourceInstanceProvider, TtlInstanceManager};
///
/// let provider = DataSourceInstanceProvider::new(|settings, _context| async move { Ok(settings.url.clone()) });
/// let manager = TtlInstanceManager::builder(provider).ttl(Duration::from_secs(600)).build();
/// # let _ = manager;
/// ```
pub struct TtlInstanceManager<P: InstanceProvider> {
    shared: Arc<TtlShared<P>>,
}

struct TtlShared<P: InstanceProvider> {
    cache: Arc<InstanceCache<P>>,
    cleanup_interval: Duration,
    janitor: OnceLock<Option<AbortHandle>>,
}

impl<P: InstanceProvider> TtlInstanceManager<P> {
    /// A manager creating instances with `provider`, with the default TTL,
    /// cleanup interval and clock.
    pub fn new(provider: P) -> Self {
        TtlInstanceManager::builder(provider).build()
    }

    /// A builder for a manager with another TTL, cleanup interval or clock.
    pub fn builder(provider: P) -> TtlInstanceManagerBuilder<P> {
        TtlInstanceManagerBuilder {
            provider: Arc::new(provider),
            ttl: DEFAULT_INSTANCE_TTL,
            cleanup_interval: DEFAULT_CLEANUP_INTERVAL,
            clock: Arc::new(SystemClock),
        }
    }

    /// The instance for `request`, created if it is not cached, stale or
    /// expired. Pushes its expiry back by the TTL.
    pub async fn get(
        &self,
        request: impl Into<InstanceRequest<'_>>,
    ) -> Result<ManagedInstance<P::Instance>, Error> {
        self.start_janitor();
        self.shared.cache.get(request.into()).await
    }

    /// Runs `f` with the instance for `request` (the Go SDK's `Do`).
    pub async fn with_instance<F, Fut>(
        &self,
        request: impl Into<InstanceRequest<'_>>,
        f: F,
    ) -> Result<Fut::Output, Error>
    where
        F: FnOnce(ManagedInstance<P::Instance>) -> Fut,
        Fut: Future,
    {
        Ok(f(self.get(request).await?).await)
    }

    /// Evicts every instance whose TTL has run out, now, and returns how
    /// many. The background task calls this every cleanup interval.
    pub fn evict_expired(&self) -> usize {
        self.shared.cache.evict_expired()
    }

    fn start_janitor(&self) {
        self.shared.janitor.get_or_init(|| {
            let runtime = tokio::runtime::Handle::try_current().ok()?;
            let cache = Arc::downgrade(&self.shared.cache);
            let task = runtime.spawn(run_janitor(cache, self.shared.cleanup_interval));
            Some(task.abort_handle())
        });
    }
}

/// Evicts expired instances every `interval` until the cache is gone.
async fn run_janitor<P: InstanceProvider>(cache: Weak<InstanceCache<P>>, interval: Duration) {
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // The first tick completes immediately; nothing can have expired yet.
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let Some(cache) = cache.upgrade() else {
            return;
        };
        cache.evict_expired();
    }
}

impl<P: InstanceProvider> Drop for TtlShared<P> {
    fn drop(&mut self) {
        if let Some(Some(janitor)) = self.janitor.get() {
            janitor.abort();
        }
    }
}

impl<P: InstanceProvider> Clone for TtlInstanceManager<P> {
    fn clone(&self) -> Self {
        TtlInstanceManager {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<P: InstanceProvider> fmt::Debug for TtlInstanceManager<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TtlInstanceManager")
            .field("cache", &self.shared.cache)
            .field("cleanup_interval", &self.shared.cleanup_interval)
            .finish_non_exhaustive()
    }
}

/// Configures a [`TtlInstanceManager`]; see [`TtlInstanceManager::builder`].
pub struct TtlInstanceManagerBuilder<P: InstanceProvider> {
    provider: Arc<P>,
    ttl: Duration,
    cleanup_interval: Duration,
    clock: Arc<dyn Clock>,
}

impl<P: InstanceProvider> TtlInstanceManagerBuilder<P> {
    /// How long an unused instance stays cached (default
    /// [`DEFAULT_INSTANCE_TTL`]).
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How often the background task evicts expired instances (default
    /// [`DEFAULT_CLEANUP_INTERVAL`]). A zero interval is raised to one
    /// millisecond, since the task cannot tick continuously.
    pub fn cleanup_interval(mut self, interval: Duration) -> Self {
        self.cleanup_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// The clock expiry is measured with (default [`SystemClock`]).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The manager.
    pub fn build(self) -> TtlInstanceManager<P> {
        let expiry = Expiry {
            ttl: self.ttl,
            clock: self.clock,
        };
        TtlInstanceManager {
            shared: Arc::new(TtlShared {
                cache: Arc::new(InstanceCache::new(self.provider, Some(expiry))),
                cleanup_interval: self.cleanup_interval,
                janitor: OnceLock::new(),
            }),
        }
    }
}

impl<P: InstanceProvider> fmt::Debug for TtlInstanceManagerBuilder<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TtlInstanceManagerBuilder")
            .field("ttl", &self.ttl)
            .field("cleanup_interval", &self.cleanup_interval)
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// The manager plugins use: per request, a [`TtlInstanceManager`] when
/// Grafana has the `ttlPluginInstanceManager` feature toggle on
/// ([`TTL_INSTANCE_MANAGER_TOGGLE`]), else a [`StandardInstanceManager`].
///
/// The two managers keep separate caches, as in the Go SDK: flipping the
/// toggle changes the Grafana config, which makes every instance stale
/// anyway. Cloning is cheap and clones share both caches.
///
/// ```
/// use plugin_backend::{DataSourceInstanceSettings, PluginContext};
/// use plugin_instancemgmt::{DataSourceInstanceProvider, InstanceManager};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let manager = InstanceManager::new(DataSourceInstanceProvider::new(|settings, _context| async move {
///     Ok(format!("client for {}", settings.url))
/// }));
///
/// let mut settings = DataSourceInstanceSettings::default();
/// settings.url = "http://db:5432".into();
/// let context = PluginContext::new("my-datasource").with_data_source_instance_settings(settings);
///
/// let client = manager.get(&context).await?;
/// assert_eq!(*client, "client for http://db:5432");
/// assert!(manager.get(&context).await?.ptr_eq(&client), "served from the cache");
/// # Ok::<(), plugin_instancemgmt::Error>(())
/// # }).unwrap();
/// ```
pub struct InstanceManager<P: InstanceProvider> {
    standard: StandardInstanceManager<P>,
    ttl: TtlInstanceManager<P>,
}

impl<P: InstanceProvider> InstanceManager<P> {
    /// A manager creating instances with `provider`, with a default
    /// [`TtlInstanceManager`].
    pub fn new(provider: P) -> Self {
        let provider = Arc::new(provider);
        let ttl = TtlInstanceManagerBuilder {
            provider: Arc::clone(&provider),
            ttl: DEFAULT_INSTANCE_TTL,
            cleanup_interval: DEFAULT_CLEANUP_INTERVAL,
            clock: Arc::new(SystemClock),
        }
        .build();
        InstanceManager {
            standard: StandardInstanceManager::from_shared(provider),
            ttl,
        }
    }

    /// A manager choosing between `standard` and `ttl` (for a TTL manager
    /// with other options).
    pub fn from_managers(standard: StandardInstanceManager<P>, ttl: TtlInstanceManager<P>) -> Self {
        InstanceManager { standard, ttl }
    }

    /// The instance for `request`, from the manager the request's Grafana
    /// config selects.
    pub async fn get(
        &self,
        request: impl Into<InstanceRequest<'_>>,
    ) -> Result<ManagedInstance<P::Instance>, Error> {
        let request = request.into();
        if uses_ttl_manager(request) {
            self.ttl.get(request).await
        } else {
            self.standard.get(request).await
        }
    }

    /// Runs `f` with the instance for `request` (the Go SDK's `Do`).
    pub async fn with_instance<F, Fut>(
        &self,
        request: impl Into<InstanceRequest<'_>>,
        f: F,
    ) -> Result<Fut::Output, Error>
    where
        F: FnOnce(ManagedInstance<P::Instance>) -> Fut,
        Fut: Future,
    {
        Ok(f(self.get(request).await?).await)
    }

    /// The standard manager.
    pub fn standard(&self) -> &StandardInstanceManager<P> {
        &self.standard
    }

    /// The TTL manager.
    pub fn ttl(&self) -> &TtlInstanceManager<P> {
        &self.ttl
    }
}

fn uses_ttl_manager(request: InstanceRequest<'_>) -> bool {
    request
        .plugin_context()
        .grafana_config
        .feature_toggles()
        .is_enabled(TTL_INSTANCE_MANAGER_TOGGLE)
}

impl<P: InstanceProvider> Clone for InstanceManager<P> {
    fn clone(&self) -> Self {
        InstanceManager {
            standard: self.standard.clone(),
            ttl: self.ttl.clone(),
        }
    }
}

impl<P: InstanceProvider> fmt::Debug for InstanceManager<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceManager")
            .field("standard", &self.standard)
            .field("ttl", &self.ttl)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_cleanup_interval_is_raised() {
        struct Unit;
        impl InstanceProvider for Unit {
            type Instance = ();
            type Key = ();
            fn key(&self, _: InstanceRequest<'_>) -> Result<(), Error> {
                Ok(())
            }
            fn needs_update(&self, _: InstanceRequest<'_>, _: &ManagedInstance<()>) -> bool {
                false
            }
            async fn new_instance(
                &self,
                _: InstanceRequest<'_>,
            ) -> Result<(), plugin_backend::Error> {
                Ok(())
            }
        }
        let manager = TtlInstanceManager::builder(Unit)
            .cleanup_interval(Duration::ZERO)
            .build();
        assert_eq!(manager.shared.cleanup_interval, Duration::from_millis(1));
    }
}
