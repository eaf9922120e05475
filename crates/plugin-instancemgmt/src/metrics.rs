//! The Prometheus metrics of the Go SDK's instance management, registered in
//! the process's default registry (which `CollectMetrics` reports):
//!
//! * `plugins_active_instances` (gauge): instances alive right now, counting
//!   a replaced instance until it is disposed;
//! * `plugins_datasource_instances_total` (counter): data source instances
//!   created since the process started.
//!
//! They are registered when the first instance is created or when metrics
//! are first collected through an
//! [`InstanceManagedHandler`](crate::InstanceManagedHandler), whichever
//! comes first, rather than when the process starts as Go's `promauto`
//! does: Grafana starts every backend plugin it has and queries few of
//! them, and an idle plugin should not pay for what only a collection
//! shows. Collected through the handler, as Grafana does, they read zero
//! before any instance exists, as in Go.

use std::sync::LazyLock;

use prometheus::{IntCounter, IntGauge, Opts};

static ACTIVE_INSTANCES: LazyLock<IntGauge> = LazyLock::new(|| {
    let gauge = IntGauge::with_opts(
        Opts::new("active_instances", "The number of active plugin instances").namespace("plugins"),
    )
    .expect("the metric's name and help are valid constants");
    register(Box::new(gauge.clone()), "plugins_active_instances");
    gauge
});

static DATASOURCE_INSTANCES_CREATED: LazyLock<IntCounter> = LazyLock::new(|| {
    let counter = IntCounter::with_opts(
        Opts::new(
            "datasource_instances_total",
            "The total number of data source instances created",
        )
        .namespace("plugins"),
    )
    .expect("the metric's name and help are valid constants");
    register(
        Box::new(counter.clone()),
        "plugins_datasource_instances_total",
    );
    counter
});

fn register(collector: Box<dyn prometheus::core::Collector>, name: &str) {
    // A second registration of the same name (another copy of this crate in
    // the binary) must not break instance management: the metric then
    // simply goes unreported.
    if let Err(error) = prometheus::default_registry().register(collector) {
        tracing::warn!(metric = name, %error, "could not register instance metric");
    }
}

/// The `plugins_active_instances` gauge.
pub(crate) fn active_instances() -> &'static IntGauge {
    &ACTIVE_INSTANCES
}

/// The `plugins_datasource_instances_total` counter.
pub(crate) fn datasource_instances_created() -> &'static IntCounter {
    &DATASOURCE_INSTANCES_CREATED
}

/// Registers both metrics now, so that a collection reports them (at zero)
/// before the first instance exists, as the Go SDK's `promauto` metrics
/// are.
pub(crate) fn register_all() {
    LazyLock::force(&ACTIVE_INSTANCES);
    LazyLock::force(&DATASOURCE_INSTANCES_CREATED);
}
