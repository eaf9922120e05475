//! Instance management for Grafana backend plugins: one instance per data
//! source (or per app and organization), created on first use, shared by
//! every request for it, rebuilt when its settings change and disposed of
//! once no request uses it any more.
//!
//! ```
//! use std::sync::Arc;
//! use plugin_backend::{DataSourceInstanceSettings, Error, PluginContext};
//! use plugin_instancemgmt::{DataSourceInstanceProvider, InstanceManager};
//!
//! struct Client {
//!     url: String,
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let manager = InstanceManager::new(DataSourceInstanceProvider::new(|settings, _context| async move {
//!     Ok(Client { url: settings.url.clone() })
//! }));
//!
//! let mut settings = DataSourceInstanceSettings::default();
//! settings.id = 7;
//! settings.url = "http://db-1".into();
//! let context = PluginContext::new("my-datasource").with_data_source_instance_settings(settings.clone());
//!
//! // Every request for data source 7 shares one client...
//! let client = manager.get(&context).await?;
//! assert_eq!(client.url, "http://db-1");
//! assert!(manager.get(&context).await?.ptr_eq(&client));
//!
//! // ...until its settings change: then the next request builds a new one.
//! settings.url = "http://db-2".into();
//! settings.updated += chrono::Duration::seconds(1);
//! let context = PluginContext::new("my-datasource").with_data_source_instance_settings(settings);
//! let url = manager.with_instance(&context, |client| async move { client.url.clone() }).await?;
//! assert_eq!(url, "http://db-2");
//! # Ok::<(), Error>(())
//! # }).unwrap();
//! ```
//!
//! # Pieces
//!
//! * An [`InstanceProvider`] knows one kind of instance: its cache key, when
//!   a cached one is stale, how to create one and how to dispose of one.
//!   [`DataSourceInstanceProvider`] and [`AppInstanceProvider`] implement the
//!   Go SDK's rules around a factory function.
//! * A manager caches instances by key. [`StandardInstanceManager`] keeps
//!   them until they are stale; [`TtlInstanceManager`] also evicts those
//!   unused for an hour (with a [`Clock`] tests can move).
//!   [`InstanceManager`] picks one of the two per request from Grafana's
//!   `ttlPluginInstanceManager` feature toggle, as the Go SDK does.
//! * Managers hand out [`ManagedInstance`] handles. A replaced or evicted
//!   instance is disposed of ([`InstanceProvider::dispose`]) when its last
//!   handle drops, that is when the last request using it has finished.
//! * [`InstanceManagedHandler`] turns a manager into a
//!   [`Handler`](plugin_backend::Handler) that serves each call with the
//!   call's instance: what `plugin-serve` installs for `datasource::manage`
//!   and `app::manage`.
//!
//! # Guarantees
//!
//! * Concurrent requests for a key without a fresh instance run the factory
//!   once; requests for other keys are never blocked by it.
//! * A failed creation is not cached: the next request tries again.
//! * Disposal runs exactly once per instance, after its last user.
//!
//! # Metrics
//!
//! In the default Prometheus registry, as in the Go SDK:
//! `plugins_active_instances` (gauge: instances not yet disposed of) and
//! `plugins_datasource_instances_total` (counter: data source instances
//! created). They are registered on first use: by the first instance, or by
//! the first `CollectMetrics` call through [`InstanceManagedHandler`],
//! which then reports them at zero.

mod app;
mod cache;
mod clock;
mod datasource;
mod error;
mod factory;
mod handler;
mod instance;
mod manager;
mod metrics;
mod provider;

pub use app::AppInstanceProvider;
pub use clock::{Clock, SystemClock};
pub use datasource::DataSourceInstanceProvider;
pub use error::Error;
pub use handler::InstanceManagedHandler;
pub use instance::ManagedInstance;
pub use manager::{
    DEFAULT_CLEANUP_INTERVAL, DEFAULT_INSTANCE_TTL, InstanceManager, StandardInstanceManager,
    TTL_INSTANCE_MANAGER_TOGGLE, TtlInstanceManager, TtlInstanceManagerBuilder,
};
pub use provider::{InstanceProvider, InstanceRequest};
