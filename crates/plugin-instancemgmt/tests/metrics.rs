//! The instance metrics in the default Prometheus registry.
//!
//! One test in its own binary: the registry is global to the process, so
//! no other test may create instances meanwhile.

use chrono::TimeDelta;
use plugin_backend::{
    CollectMetricsRequest, DataSourceInstanceSettings, Handler, Plugin, PluginContext,
};
use plugin_instancemgmt::{
    DataSourceInstanceProvider, InstanceManagedHandler, InstanceManager, StandardInstanceManager,
};

fn is_registered(name: &str) -> bool {
    prometheus::default_registry()
        .gather()
        .iter()
        .any(|family| family.name() == name)
}

fn metric(name: &str) -> f64 {
    let families = prometheus::default_registry().gather();
    let family = families
        .iter()
        .find(|family| family.name() == name)
        .unwrap_or_else(|| panic!("{name} is not registered"));
    let metric = &family.get_metric()[0];
    match family.get_field_type() {
        prometheus::proto::MetricType::GAUGE => metric.get_gauge().get_value(),
        _ => metric.get_counter().get_value(),
    }
}

#[tokio::test]
async fn active_instances_and_created_data_sources_are_counted() {
    let handler = InstanceManagedHandler::new(InstanceManager::new(
        DataSourceInstanceProvider::new(|_settings, _context| async { Ok(Plugin::new()) }),
    ));
    let manager = StandardInstanceManager::new(DataSourceInstanceProvider::new(
        |settings, _context| async move { Ok(settings.id) },
    ));
    // An idle plugin registers nothing…
    assert!(!is_registered("plugins_active_instances"));
    assert!(!is_registered("plugins_datasource_instances_total"));
    // … but a collection through the handler, as Grafana's, reports both at
    // zero before any instance exists.
    let collected = handler
        .collect_metrics(CollectMetricsRequest::default())
        .await
        .unwrap();
    let text = String::from_utf8(collected.prometheus_metrics.to_vec()).unwrap();
    assert!(text.contains("\nplugins_active_instances 0\n"), "{text}");
    assert!(
        text.contains("\nplugins_datasource_instances_total 0\n"),
        "{text}"
    );
    assert_eq!(metric("plugins_active_instances"), 0.0);
    assert_eq!(metric("plugins_datasource_instances_total"), 0.0);

    let mut settings = DataSourceInstanceSettings::default();
    let context = |settings: &DataSourceInstanceSettings| {
        PluginContext::new("test-datasource").with_data_source_instance_settings(settings.clone())
    };
    let first = manager.get(&context(&settings)).await.unwrap();
    assert_eq!(metric("plugins_active_instances"), 1.0);

    settings.updated += TimeDelta::seconds(1);
    let second = manager.get(&context(&settings)).await.unwrap();
    // The replaced instance is alive until its last user lets go.
    assert_eq!(metric("plugins_active_instances"), 2.0);
    drop(first);
    assert_eq!(metric("plugins_active_instances"), 1.0);
    assert_eq!(metric("plugins_datasource_instances_total"), 2.0);

    drop(second);
    drop(manager);
    assert_eq!(metric("plugins_active_instances"), 0.0);
}
