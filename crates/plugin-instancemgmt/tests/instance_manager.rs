//! Behaviour of the managers: one creation per key under contention, rebuild
//! on settings and config changes, disposal after in-flight work, TTL
//! eviction on a controllable clock, uncached errors, and independence of
//! keys.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::TimeDelta;
use plugin_backend::{
    AppInstanceSettings, DataSourceInstanceSettings, GrafanaConfig, PluginContext,
};
use plugin_instancemgmt::{
    AppInstanceProvider, Clock, DataSourceInstanceProvider, Error, InstanceManager,
    InstanceProvider, InstanceRequest, ManagedInstance, StandardInstanceManager,
    TTL_INSTANCE_MANAGER_TOGGLE, TtlInstanceManager,
};
use tokio::sync::{Notify, mpsc, oneshot};

/// A data source instance: which creation it came from and what URL it saw.
#[derive(Debug)]
struct Client {
    serial: usize,
    url: String,
}

fn data_source(id: i64, url: &str) -> DataSourceInstanceSettings {
    let mut settings = DataSourceInstanceSettings::default();
    settings.id = id;
    settings.url = url.to_owned();
    settings
}

fn context(settings: &DataSourceInstanceSettings) -> PluginContext {
    PluginContext::new("test-datasource").with_data_source_instance_settings(settings.clone())
}

/// A data source provider whose factory counts creations, reports disposals
/// and can be made to fail or to wait.
struct Fixture {
    created: Arc<AtomicUsize>,
    failures_left: Arc<AtomicUsize>,
    disposed: mpsc::UnboundedReceiver<usize>,
}

fn fixture() -> (
    Fixture,
    impl InstanceProvider<Instance = Client, Key = String>,
) {
    let created = Arc::new(AtomicUsize::new(0));
    let failures_left = Arc::new(AtomicUsize::new(0));
    let (dispose_tx, disposed) = mpsc::unbounded_channel();
    let provider = {
        let created = Arc::clone(&created);
        let failures_left = Arc::clone(&failures_left);
        DataSourceInstanceProvider::new(move |settings, _context| {
            let created = Arc::clone(&created);
            let failures_left = Arc::clone(&failures_left);
            async move {
                let serial = created.fetch_add(1, Ordering::SeqCst) + 1;
                if failures_left
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok()
                {
                    return Err(plugin_backend::Error::downstream("database unreachable"));
                }
                Ok(Client {
                    serial,
                    url: settings.url.clone(),
                })
            }
        })
        .with_dispose(move |client: Client| {
            let dispose_tx = dispose_tx.clone();
            async move {
                let _ = dispose_tx.send(client.serial);
            }
        })
    };
    (
        Fixture {
            created,
            failures_left,
            disposed,
        },
        provider,
    )
}

/// Wraps a provider: counts the requests that reached `key`, and wakes
/// `all_arrived` when `expected` of them have.
struct ArrivalCounter<P> {
    inner: P,
    arrived: AtomicUsize,
    expected: usize,
    all_arrived: Arc<Notify>,
}

impl<P: InstanceProvider> InstanceProvider for ArrivalCounter<P> {
    type Instance = P::Instance;
    type Key = P::Key;

    fn key(&self, request: InstanceRequest<'_>) -> Result<P::Key, Error> {
        if self.arrived.fetch_add(1, Ordering::SeqCst) + 1 == self.expected {
            self.all_arrived.notify_one();
        }
        self.inner.key(request)
    }

    fn needs_update(
        &self,
        request: InstanceRequest<'_>,
        cached: &ManagedInstance<P::Instance>,
    ) -> bool {
        self.inner.needs_update(request, cached)
    }

    async fn new_instance(
        &self,
        request: InstanceRequest<'_>,
    ) -> Result<P::Instance, plugin_backend::Error> {
        self.inner.new_instance(request).await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_requests_create_one_instance() {
    const REQUESTS: usize = 100;
    let created = Arc::new(AtomicUsize::new(0));
    let all_arrived = Arc::new(Notify::new());
    let gate = Arc::new(Notify::new());
    let provider = {
        let created = Arc::clone(&created);
        let gate = Arc::clone(&gate);
        DataSourceInstanceProvider::new(move |settings, _context| {
            let created = Arc::clone(&created);
            let gate = Arc::clone(&gate);
            async move {
                let serial = created.fetch_add(1, Ordering::SeqCst) + 1;
                // Hold the creation until every request is inside `get`.
                gate.notified().await;
                Ok(Client {
                    serial,
                    url: settings.url.clone(),
                })
            }
        })
    };
    let manager = StandardInstanceManager::new(ArrivalCounter {
        inner: provider,
        arrived: AtomicUsize::new(0),
        expected: REQUESTS,
        all_arrived: Arc::clone(&all_arrived),
    });

    let settings = data_source(1, "http://db");
    let requests: Vec<_> = (0..REQUESTS)
        .map(|_| {
            let manager = manager.clone();
            let context = context(&settings);
            tokio::spawn(async move { manager.get(&context).await.map(|client| client.serial) })
        })
        .collect();
    all_arrived.notified().await;
    gate.notify_one();

    for request in requests {
        assert_eq!(request.await.unwrap().unwrap(), 1);
    }
    assert_eq!(created.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn instances_are_rebuilt_when_settings_or_config_change() {
    let (fixture, provider) = fixture();
    let manager = StandardInstanceManager::new(provider);
    let mut settings = data_source(1, "http://db-1");

    let first = manager.get(&context(&settings)).await.unwrap();
    let same = manager.get(&context(&settings)).await.unwrap();
    assert!(same.ptr_eq(&first));

    // New URL but the same `updated` time: Grafana did not save new
    // settings, so the instance stays.
    settings.url = "http://db-2".into();
    assert!(
        manager
            .get(&context(&settings))
            .await
            .unwrap()
            .ptr_eq(&first)
    );

    settings.updated += TimeDelta::seconds(1);
    let updated = manager.get(&context(&settings)).await.unwrap();
    assert!(!updated.ptr_eq(&first));
    assert_eq!(updated.url, "http://db-2");

    let config: GrafanaConfig = [("GF_SQL_ROW_LIMIT", "10")].into_iter().collect();
    let reconfigured = manager
        .get(&context(&settings).with_grafana_config(config.clone()))
        .await
        .unwrap();
    assert!(!reconfigured.ptr_eq(&updated));
    let again = manager
        .get(&context(&settings).with_grafana_config(config))
        .await
        .unwrap();
    assert!(again.ptr_eq(&reconfigured));

    assert_eq!(fixture.created.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn replaced_instances_are_disposed_after_their_last_request() {
    let (mut fixture, provider) = fixture();
    let manager = StandardInstanceManager::new(provider);
    let mut settings = data_source(1, "http://db");

    // A request starts with the first instance and is still running...
    let (finish, finished) = oneshot::channel::<()>();
    let (started, has_started) = oneshot::channel::<()>();
    let in_flight = {
        let manager = manager.clone();
        let context = context(&settings);
        tokio::spawn(async move {
            manager
                .with_instance(&context, |client| async move {
                    started.send(()).unwrap();
                    finished.await.unwrap();
                    client.serial
                })
                .await
        })
    };
    has_started.await.unwrap();

    // ...when the settings change and the next request replaces it.
    settings.updated += TimeDelta::seconds(1);
    let replacement = manager.get(&context(&settings)).await.unwrap();
    assert_eq!(replacement.serial, 2);
    assert!(
        fixture.disposed.try_recv().is_err(),
        "disposed while a request still uses it"
    );

    finish.send(()).unwrap();
    assert_eq!(in_flight.await.unwrap().unwrap(), 1);
    assert_eq!(fixture.disposed.recv().await, Some(1));

    // Dropping the manager disposes of what it still caches.
    drop(replacement);
    drop(manager);
    assert_eq!(fixture.disposed.recv().await, Some(2));
    assert_eq!(
        fixture.disposed.recv().await,
        None,
        "each instance is disposed exactly once"
    );
}

#[tokio::test]
async fn failed_creations_are_not_cached() {
    let (fixture, provider) = fixture();
    let manager = StandardInstanceManager::new(provider);
    let settings = data_source(1, "http://db");
    fixture.failures_left.store(1, Ordering::SeqCst);

    let error = manager.get(&context(&settings)).await.unwrap_err();
    assert!(matches!(error, Error::NewInstance(_)), "{error:?}");
    assert_eq!(error.to_string(), "database unreachable");
    assert_eq!(
        error.error_source(),
        Some(plugin_backend::ErrorSource::Downstream)
    );

    let client = manager.get(&context(&settings)).await.unwrap();
    assert_eq!(client.serial, 2, "the second request creates again");
    assert_eq!(fixture.created.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_slow_creation_does_not_block_other_keys() {
    let slow_started = Arc::new(Notify::new());
    let provider = {
        let slow_started = Arc::clone(&slow_started);
        DataSourceInstanceProvider::new(move |settings, _context| {
            let slow_started = Arc::clone(&slow_started);
            async move {
                if settings.id == 1 {
                    slow_started.notify_one();
                    std::future::pending::<()>().await;
                }
                Ok(Client {
                    serial: 0,
                    url: settings.url.clone(),
                })
            }
        })
    };
    let manager = StandardInstanceManager::new(provider);

    let slow = {
        let manager = manager.clone();
        let context = context(&data_source(1, "http://slow"));
        tokio::spawn(async move { manager.get(&context).await.map(|_| ()) })
    };
    slow_started.notified().await;

    // The bound only turns a hang into a failure; it is not a delay.
    let fast = tokio::time::timeout(
        Duration::from_secs(10),
        manager.get(&context(&data_source(2, "http://fast"))),
    )
    .await
    .expect("a request for another key waited for the slow creation")
    .unwrap();
    assert_eq!(fast.url, "http://fast");
    assert!(!slow.is_finished());
    slow.abort();
}

#[tokio::test]
async fn a_cancelled_creation_does_not_wedge_its_key() {
    let first_started = Arc::new(Notify::new());
    let calls = Arc::new(AtomicUsize::new(0));
    let provider = {
        let first_started = Arc::clone(&first_started);
        let calls = Arc::clone(&calls);
        DataSourceInstanceProvider::new(move |settings, _context| {
            let first_started = Arc::clone(&first_started);
            let serial = calls.fetch_add(1, Ordering::SeqCst) + 1;
            async move {
                if serial == 1 {
                    first_started.notify_one();
                    std::future::pending::<()>().await;
                }
                Ok(Client {
                    serial,
                    url: settings.url.clone(),
                })
            }
        })
    };
    let manager = StandardInstanceManager::new(provider);
    let settings = data_source(1, "http://db");

    let abandoned = {
        let manager = manager.clone();
        let context = context(&settings);
        tokio::spawn(async move { manager.get(&context).await.map(|_| ()) })
    };
    first_started.notified().await;
    abandoned.abort();
    assert!(abandoned.await.unwrap_err().is_cancelled());

    let client = tokio::time::timeout(Duration::from_secs(10), manager.get(&context(&settings)))
        .await
        .expect("the cancelled creation still holds the key")
        .unwrap();
    assert_eq!(client.serial, 2);
}

/// A clock the test moves by hand.
#[derive(Debug, Clone)]
struct ManualClock(Arc<Mutex<Instant>>);

impl ManualClock {
    fn new() -> Self {
        ManualClock(Arc::new(Mutex::new(Instant::now())))
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        *self.0.lock().unwrap()
    }
}

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn ttl_expiry_slides_with_use_and_evicts_idle_instances() {
    let (mut fixture, provider) = fixture();
    let clock = ManualClock::new();
    let manager = TtlInstanceManager::builder(provider)
        .clock(clock.clone())
        .build();
    let settings = data_source(1, "http://db");

    let first = manager.get(&context(&settings)).await.unwrap();
    drop(first);
    clock.advance(59 * MINUTE);
    assert_eq!(manager.get(&context(&settings)).await.unwrap().serial, 1);
    // Used 59 minutes in: the hour starts again.
    clock.advance(59 * MINUTE);
    assert_eq!(manager.evict_expired(), 0);
    assert_eq!(manager.get(&context(&settings)).await.unwrap().serial, 1);

    clock.advance(61 * MINUTE);
    assert_eq!(manager.evict_expired(), 1);
    assert_eq!(fixture.disposed.recv().await, Some(1));
    assert_eq!(manager.get(&context(&settings)).await.unwrap().serial, 2);

    // Expired but not evicted yet: never handed out.
    clock.advance(61 * MINUTE);
    assert_eq!(manager.get(&context(&settings)).await.unwrap().serial, 3);
    assert_eq!(fixture.disposed.recv().await, Some(2));
}

/// Tokio's clock, which `start_paused` tests move.
#[derive(Debug)]
struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
}

#[tokio::test(start_paused = true)]
async fn the_background_task_evicts_expired_instances() {
    let (mut fixture, provider) = fixture();
    let manager = TtlInstanceManager::builder(provider)
        .clock(TokioClock)
        .build();
    drop(
        manager
            .get(&context(&data_source(1, "http://db")))
            .await
            .unwrap(),
    );

    // Nothing else is running, so the paused clock jumps to the task's next
    // tick (two hours on), when the instance is an hour past its TTL.
    let start = tokio::time::Instant::now();
    assert_eq!(fixture.disposed.recv().await, Some(1));
    let waited = start.elapsed();
    let interval = plugin_instancemgmt::DEFAULT_CLEANUP_INTERVAL;
    assert!(
        waited >= interval && waited < interval + Duration::from_secs(1),
        "{waited:?}"
    );
}

#[tokio::test]
async fn the_feature_toggle_selects_the_ttl_manager() {
    let (fixture, provider) = fixture();
    let manager = InstanceManager::new(provider);
    let settings = data_source(1, "http://db");
    let toggled: GrafanaConfig = [(
        "GF_INSTANCE_FEATURE_TOGGLES_ENABLE",
        format!("someToggle,{TTL_INSTANCE_MANAGER_TOGGLE}"),
    )]
    .into_iter()
    .collect();
    let with_ttl = context(&settings).with_grafana_config(toggled);
    let without_ttl = context(&settings);

    let from_ttl = manager.get(&with_ttl).await.unwrap();
    assert!(
        manager
            .ttl()
            .get(&with_ttl)
            .await
            .unwrap()
            .ptr_eq(&from_ttl)
    );
    let from_standard = manager.get(&without_ttl).await.unwrap();
    assert!(
        manager
            .standard()
            .get(&without_ttl)
            .await
            .unwrap()
            .ptr_eq(&from_standard)
    );
    assert!(
        !from_standard.ptr_eq(&from_ttl),
        "the two managers keep separate caches"
    );
    assert_eq!(fixture.created.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn data_source_keys_follow_the_go_sdk() {
    let (_fixture, provider) = fixture();
    let settings = data_source(42, "http://db");
    let context = context(&settings);
    assert_eq!(
        provider.key(InstanceRequest::new(&context)).unwrap(),
        "42##"
    );
    assert_eq!(
        provider
            .key(InstanceRequest::new(&context).with_tenant_id("t1"))
            .unwrap(),
        "42#t1#"
    );

    let missing = PluginContext::new("test-datasource");
    assert!(matches!(
        provider.key(InstanceRequest::new(&missing)),
        Err(Error::MissingInstanceSettings(_))
    ));
    let manager = StandardInstanceManager::new(provider);
    assert!(matches!(
        manager.get(&missing).await,
        Err(Error::MissingInstanceSettings(_))
    ));
}

#[tokio::test]
async fn tenants_get_separate_data_source_instances() {
    let (fixture, provider) = fixture();
    let manager = StandardInstanceManager::new(provider);
    let context = context(&data_source(1, "http://db"));
    let a = manager
        .get(InstanceRequest::new(&context).with_tenant_id("a"))
        .await
        .unwrap();
    let b = manager
        .get(InstanceRequest::new(&context).with_tenant_id("b"))
        .await
        .unwrap();
    assert!(!a.ptr_eq(&b));
    assert_eq!(fixture.created.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn app_instances_are_per_org_and_rebuilt_on_update() {
    let provider = AppInstanceProvider::new(|_settings, context| async move { Ok(context.org_id) });
    let mut settings = AppInstanceSettings::default();
    let app = |org_id: i64, settings: &AppInstanceSettings| {
        let mut context = PluginContext::new("my-app").with_app_instance_settings(settings.clone());
        context.org_id = org_id;
        context
    };

    assert_eq!(
        provider
            .key(InstanceRequest::new(&app(2, &settings)))
            .unwrap(),
        "my-app#2"
    );
    assert_eq!(
        provider
            .key(InstanceRequest::new(&app(2, &settings)).with_tenant_id("t"))
            .unwrap(),
        "t#my-app#2"
    );
    assert!(matches!(
        provider.key(InstanceRequest::new(&PluginContext::new("my-app"))),
        Err(Error::MissingInstanceSettings(_))
    ));

    let manager = StandardInstanceManager::new(provider);
    let org_1 = manager.get(&app(1, &settings)).await.unwrap();
    let org_2 = manager.get(&app(2, &settings)).await.unwrap();
    assert_eq!((*org_1, *org_2), (1, 2));
    assert!(
        manager
            .get(&app(1, &settings))
            .await
            .unwrap()
            .ptr_eq(&org_1)
    );
    settings.updated += TimeDelta::seconds(1);
    assert!(
        !manager
            .get(&app(1, &settings))
            .await
            .unwrap()
            .ptr_eq(&org_1)
    );
}
