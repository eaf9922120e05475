//! The cache behind both managers: one slot per key, one creator per key at
//! a time, optional sliding expiry.
//!
//! # Locking
//!
//! A single synchronous mutex guards the map of slots. It is held only for
//! map bookkeeping (never across an `.await`, never while provider code
//! runs), so a request for an instance that is cached and fresh costs one
//! short lock. Creation is serialised per key by the slot's async mutex:
//! concurrent first requests for a key queue on it and all but the first
//! find the instance ready when they get their turn, while requests for
//! other keys never touch it.
//!
//! A slot is removed from the map only when it holds no instance and nobody
//! holds its creation mutex; both facts are checked under the map lock, and
//! the creation mutex is only ever cloned under that lock, so two creators
//! for one key can never hold different mutexes.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::error::Error;
use crate::instance::ManagedInstance;
use crate::provider::{InstanceProvider, InstanceRequest};

/// Sliding expiry: an instance unused for `ttl` is evicted.
#[derive(Debug, Clone)]
pub(crate) struct Expiry {
    pub(crate) ttl: Duration,
    pub(crate) clock: Arc<dyn Clock>,
}

pub(crate) struct InstanceCache<P: InstanceProvider> {
    provider: Arc<P>,
    slots: Mutex<HashMap<P::Key, Slot<P::Instance>>>,
    expiry: Option<Expiry>,
}

struct Slot<T> {
    current: Option<Cached<T>>,
    creation: Arc<tokio::sync::Mutex<()>>,
}

struct Cached<T> {
    instance: ManagedInstance<T>,
    /// `None` without expiry.
    expires_at: Option<Instant>,
}

impl<T> Slot<T> {
    fn new() -> Self {
        Slot {
            current: None,
            creation: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Whether the slot can go: no instance, and nobody but the map holds
    /// its creation mutex.
    fn is_unused(&self) -> bool {
        self.current.is_none() && Arc::strong_count(&self.creation) == 1
    }
}

impl<P: InstanceProvider> InstanceCache<P> {
    pub(crate) fn new(provider: Arc<P>, expiry: Option<Expiry>) -> Self {
        InstanceCache {
            provider,
            slots: Mutex::new(HashMap::new()),
            expiry,
        }
    }

    /// The instance for `request`: the cached one if it is fresh, else a new
    /// one (created by exactly one of the requests that want it).
    pub(crate) async fn get(
        &self,
        request: InstanceRequest<'_>,
    ) -> Result<ManagedInstance<P::Instance>, Error> {
        let key = self.provider.key(request)?;

        let (cached, creation) = self.lookup(&key);
        if let Some(instance) = cached
            && !self.provider.needs_update(request, &instance)
        {
            return Ok(instance);
        }

        // From here on this request may leave an empty slot behind (its
        // creation fails, or the caller gives up waiting): the ticket
        // removes it again when nobody else is using it.
        let ticket = CreationTicket {
            cache: self,
            key: &key,
            creation,
        };
        let _creating = ticket.creation.lock().await;

        // Whoever held the creation lock before us may have built exactly
        // what we need: check again.
        let (cached, _) = self.lookup(&key);
        if let Some(stale) = cached {
            if !self.provider.needs_update(request, &stale) {
                return Ok(stale);
            }
            tracing::debug!(
                ?key,
                "instance needs update: settings or Grafana config changed"
            );
            // Uncache it now; it is disposed of once its last user is done.
            self.remove_if_current(&key, &stale);
        }

        match self.provider.new_instance(request).await {
            Ok(instance) => {
                tracing::debug!(?key, "instance created");
                let instance = ManagedInstance::new(
                    instance,
                    request.plugin_context().clone(),
                    Arc::clone(&self.provider),
                );
                let replaced = self.store(&key, instance.clone());
                drop(replaced);
                Ok(instance)
            }
            Err(error) => {
                tracing::debug!(?key, %error, "instance creation failed");
                Err(Error::NewInstance(error))
            }
        }
    }

    /// Evicts every expired instance; returns how many.
    pub(crate) fn evict_expired(&self) -> usize {
        let Some(expiry) = &self.expiry else {
            return 0;
        };
        let now = expiry.clock.now();
        let mut evicted = Vec::new();
        {
            let mut slots = self.lock();
            slots.retain(|key, slot| {
                if slot
                    .current
                    .as_ref()
                    .is_some_and(|cached| is_expired(cached, now))
                {
                    tracing::debug!(?key, "evicted instance");
                    evicted.extend(slot.current.take());
                }
                !slot.is_unused()
            });
        }
        // Dropped outside the lock: the last drop starts disposal.
        evicted.len()
    }

    /// The cached, unexpired instance for `key` (its expiry pushed back) and
    /// the key's creation mutex.
    fn lookup(
        &self,
        key: &P::Key,
    ) -> (
        Option<ManagedInstance<P::Instance>>,
        Arc<tokio::sync::Mutex<()>>,
    ) {
        let now = self.expiry.as_ref().map(|expiry| expiry.clock.now());
        let mut expired = None;
        let found = {
            let mut slots = self.lock();
            let slot = match slots.get_mut(key) {
                Some(slot) => slot,
                None => slots.entry(key.clone()).or_insert_with(Slot::new),
            };
            if let (Some(now), Some(cached)) = (now, &slot.current)
                && is_expired(cached, now)
            {
                expired = slot.current.take();
            }
            let instance = slot.current.as_mut().map(|cached| {
                if let (Some(now), Some(expiry)) = (now, &self.expiry) {
                    cached.expires_at = Some(now + expiry.ttl);
                }
                cached.instance.clone()
            });
            (instance, Arc::clone(&slot.creation))
        };
        drop(expired);
        found
    }

    /// Caches `instance` for `key`, returning what it replaces (to be
    /// dropped by the caller, outside the lock).
    fn store(
        &self,
        key: &P::Key,
        instance: ManagedInstance<P::Instance>,
    ) -> Option<Cached<P::Instance>> {
        let expires_at = self
            .expiry
            .as_ref()
            .map(|expiry| expiry.clock.now() + expiry.ttl);
        let mut slots = self.lock();
        let slot = slots.entry(key.clone()).or_insert_with(Slot::new);
        slot.current.replace(Cached {
            instance,
            expires_at,
        })
    }

    fn remove_if_current(&self, key: &P::Key, stale: &ManagedInstance<P::Instance>) {
        let removed = {
            let mut slots = self.lock();
            slots.get_mut(key).and_then(|slot| match &slot.current {
                Some(cached) if cached.instance.ptr_eq(stale) => slot.current.take(),
                _ => None,
            })
        };
        drop(removed);
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<P::Key, Slot<P::Instance>>> {
        // No code that can panic runs under this lock, but if something ever
        // did, the map is still consistent: every update is a single step.
        self.slots.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    pub(crate) fn slot_count(&self) -> usize {
        self.lock().len()
    }
}

/// A request's hold on a key's creation mutex; on drop, removes the key's
/// slot if it was left empty and unused.
struct CreationTicket<'a, P: InstanceProvider> {
    cache: &'a InstanceCache<P>,
    key: &'a P::Key,
    creation: Arc<tokio::sync::Mutex<()>>,
}

impl<P: InstanceProvider> Drop for CreationTicket<'_, P> {
    fn drop(&mut self) {
        let mut slots = self.cache.lock();
        let Some(slot) = slots.get(self.key) else {
            return;
        };
        // Unused apart from this ticket: no instance, and the only other
        // holder of the creation mutex is the map itself.
        let unused = slot.current.is_none()
            && Arc::ptr_eq(&slot.creation, &self.creation)
            && Arc::strong_count(&self.creation) == 2;
        if unused {
            slots.remove(self.key);
        }
    }
}

fn is_expired<T>(cached: &Cached<T>, now: Instant) -> bool {
    cached
        .expires_at
        .is_some_and(|expires_at| expires_at <= now)
}

impl<P: InstanceProvider> fmt::Debug for InstanceCache<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slots = self.lock();
        f.debug_struct("InstanceCache")
            .field("keys", &slots.keys().collect::<Vec<_>>())
            .field("expiry", &self.expiry)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use plugin_backend::PluginContext;

    use super::*;

    /// Keys by plugin id; fails while `fail` is set.
    struct Flaky {
        fail: AtomicBool,
    }

    impl InstanceProvider for Flaky {
        type Instance = String;
        type Key = String;

        fn key(&self, request: InstanceRequest<'_>) -> Result<String, Error> {
            Ok(request.plugin_context().plugin_id.clone())
        }

        fn needs_update(&self, _: InstanceRequest<'_>, _: &ManagedInstance<String>) -> bool {
            false
        }

        async fn new_instance(
            &self,
            request: InstanceRequest<'_>,
        ) -> Result<String, plugin_backend::Error> {
            if self.fail.load(Ordering::SeqCst) {
                return Err(plugin_backend::Error::new("no"));
            }
            Ok(request.plugin_context().plugin_id.clone())
        }
    }

    #[tokio::test]
    async fn failed_creations_leave_no_slot_behind() {
        let cache = InstanceCache::new(
            Arc::new(Flaky {
                fail: AtomicBool::new(true),
            }),
            None,
        );
        let context = PluginContext::new("a");
        assert!(cache.get(InstanceRequest::new(&context)).await.is_err());
        assert_eq!(cache.slot_count(), 0);

        cache.provider.fail.store(false, Ordering::SeqCst);
        assert_eq!(
            *cache.get(InstanceRequest::new(&context)).await.unwrap(),
            "a"
        );
        assert_eq!(cache.slot_count(), 1);
    }
}
