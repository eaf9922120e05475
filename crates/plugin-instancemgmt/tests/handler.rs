//! `InstanceManagedHandler`: calls reach the right instance, creation
//! failures are answered as the Go SDK answers them, and the context's tenant
//! separates instances.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use plugin_backend::{
    AppInstanceSettings, CheckHealthRequest, CollectMetricsRequest, DataQuery, DataResponse,
    DataSourceInstanceSettings, Endpoint, Error, ErrorSource, Handler, HealthStatus, Plugin,
    PluginContext, QueryDataRequest, QueryDataResponse, query_data_fn,
};
use plugin_instancemgmt::{
    AppInstanceProvider, DataSourceInstanceProvider, InstanceManagedHandler, InstanceManager,
};

fn data_source_context(url: &str) -> PluginContext {
    let mut settings = DataSourceInstanceSettings::default();
    settings.id = 1;
    settings.url = url.to_owned();
    PluginContext::new("test-datasource").with_data_source_instance_settings(settings)
}

fn query(context: PluginContext) -> QueryDataRequest {
    QueryDataRequest::new(
        context,
        vec![DataQuery::new("A", "{}"), DataQuery::new("B", "{}")],
    )
}

/// A handler whose instances answer queries with their URL as the error
/// text, so the test can see which instance answered.
fn echo_url_handler() -> impl Handler {
    InstanceManagedHandler::new(InstanceManager::new(DataSourceInstanceProvider::new(
        |settings, _context| async move {
            let url = settings.url.clone();
            Ok(
                Plugin::new().with_query_data(query_data_fn(move |request: QueryDataRequest| {
                    let url = url.clone();
                    async move {
                        let mut response = QueryDataResponse::new();
                        for query in &request.queries {
                            response.insert(
                                query.ref_id.clone(),
                                DataResponse::from_error(Error::new(url.clone())),
                            );
                        }
                        Ok(response)
                    }
                })),
            )
        },
    )))
}

#[tokio::test]
async fn calls_reach_the_instance_of_their_data_source() {
    let handler = echo_url_handler();
    let response = handler
        .query_data(query(data_source_context("http://db-1")))
        .await
        .unwrap();
    assert_eq!(
        response.responses["B"].error.as_ref().unwrap().to_string(),
        "http://db-1"
    );

    // Capabilities the instance lacks are `Unimplemented`, health checks
    // included, as in Go's automanagement (internal/automanagement/manager.go).
    let health = handler
        .check_health(CheckHealthRequest::new(data_source_context("http://db-1")))
        .await
        .unwrap_err();
    assert!(matches!(
        health,
        Error::Unimplemented(Endpoint::CheckHealth)
    ));
    assert!(handler.implements(Endpoint::CheckHealth));
    // Process-wide endpoints go to the process handler.
    assert!(
        handler
            .collect_metrics(CollectMetricsRequest::default())
            .await
            .is_ok()
    );
}

fn failing_handler(error: fn() -> Error) -> impl Handler {
    InstanceManagedHandler::new(InstanceManager::new(DataSourceInstanceProvider::new(
        move |_settings, _context| {
            let error = error();
            async move { Err::<Plugin, _>(error) }
        },
    )))
}

#[tokio::test]
async fn a_creation_error_with_a_source_answers_the_first_query() {
    let handler = failing_handler(|| Error::downstream("connection refused"));
    let response = handler
        .query_data(query(data_source_context("http://db")))
        .await
        .unwrap();
    let first = &response.responses["A"];
    assert_eq!(
        first.error.as_ref().unwrap().to_string(),
        "connection refused"
    );
    assert_eq!(first.error_source, Some(ErrorSource::Downstream));
    assert_eq!(response.responses.len(), 1);
}

#[tokio::test]
async fn a_creation_error_without_a_source_fails_the_call() {
    let handler = failing_handler(|| Error::new("bad configuration"));
    let error = handler
        .query_data(query(data_source_context("http://db")))
        .await
        .unwrap_err();
    assert_eq!(error.to_string(), "bad configuration");
}

#[tokio::test]
async fn a_creation_error_is_an_unhealthy_result() {
    let handler = failing_handler(|| Error::new("bad configuration"));
    let result = handler
        .check_health(CheckHealthRequest::new(data_source_context("http://db")))
        .await
        .unwrap();
    assert_eq!(result.status, HealthStatus::Error);
    assert_eq!(result.message, "bad configuration");

    let missing = handler
        .check_health(CheckHealthRequest::new(PluginContext::new(
            "test-datasource",
        )))
        .await
        .unwrap();
    assert_eq!(missing.status, HealthStatus::Error);
    assert_eq!(
        missing.message,
        "data source instance settings cannot be empty"
    );
}

#[tokio::test]
async fn the_context_tenant_separates_app_instances() {
    let created = Arc::new(AtomicUsize::new(0));
    let handler = {
        let created = Arc::clone(&created);
        InstanceManagedHandler::new(InstanceManager::new(AppInstanceProvider::new(
            move |_settings, _context| {
                created.fetch_add(1, Ordering::SeqCst);
                async move { Ok(Plugin::new()) }
            },
        )))
    };
    let context =
        PluginContext::new("my-app").with_app_instance_settings(AppInstanceSettings::default());
    let check = |tenant: &str| {
        handler.check_health(CheckHealthRequest::new(
            context.clone().with_tenant_id(tenant),
        ))
    };

    // The instances have no health handler: each check creates or reuses
    // the tenant's instance, then answers `Unimplemented`.
    for tenant in ["", "tenant-a", "tenant-a", "tenant-b", ""] {
        assert!(matches!(
            check(tenant).await,
            Err(Error::Unimplemented(Endpoint::CheckHealth))
        ));
    }
    assert_eq!(
        created.load(Ordering::SeqCst),
        3,
        "no tenant, tenant-a and tenant-b"
    );
}
