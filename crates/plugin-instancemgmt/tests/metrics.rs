//! The instance metrics in the default Prometheus registry.
//!
//! One test in its own binary: the registry is global to the process, so
//! no other test may create instances meanwhile.

use chrono::TimeDelta;
use plugin_backend::{DataSourceInstanceSettings, PluginContext};
use plugin_instancemgmt::{DataSourceInstanceProvider, StandardInstanceManager};

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
    let manager = StandardInstanceManager::new(DataSourceInstanceProvider::new(
        |settings, _context| async move { Ok(settings.id) },
    ));
    // Registered, at zero, before any instance exists.
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
