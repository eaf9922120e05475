//! In-process mode end to end: handlers served by plugin-serve's server
//! inside the test, called through [`PluginClient`] over a real
//! connection.
//!
//! [`PluginClient`]: plugin_testkit::PluginClient

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use http::{HeaderValue, Method, StatusCode, header};
use plugin_backend::{
    CallResourceHandler, CallResourceRequest, CallResourceResponse, CallResourceResponseSender,
    CheckHealthHandler, CheckHealthRequest, CheckHealthResult, DataQuery, DataResponse,
    DataSourceInstanceSettings, HealthStatus, Plugin, PluginContext, QueryDataHandler,
    QueryDataRequest, QueryDataResponse,
};
use plugin_data::{Field, Frame};
use plugin_serve::ServeOptions;
use plugin_testkit::{Error, InProcessPlugin};

const PLUGIN_ID: &str = "acme-test-datasource";

/// Answers each query with a frame of as many rows as its `{"rows": n}`
/// asks for, after an optional delay.
struct Rows {
    delay: Duration,
}

impl QueryDataHandler for Rows {
    async fn query_data(
        &self,
        request: QueryDataRequest,
    ) -> Result<QueryDataResponse, plugin_backend::Error> {
        #[derive(serde::Deserialize)]
        struct Query {
            rows: i64,
        }
        tokio::time::sleep(self.delay).await;
        let mut response = QueryDataResponse::default();
        for query in &request.queries {
            let Query { rows } = query.parse_json()?;
            let frame = Frame::new(query.ref_id.clone())
                .with_field(Field::new("n", (0..rows).collect::<Vec<i64>>()));
            response
                .responses
                .insert(query.ref_id.clone(), DataResponse::from(frame));
        }
        Ok(response)
    }
}

/// Echoes the request body back in two messages.
struct Echo;

impl CallResourceHandler for Echo {
    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), plugin_backend::Error> {
        let first = CallResourceResponse::new(StatusCode::CREATED)
            .with_header(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))
            .with_body(format!("{} /{}: ", request.method, request.path));
        sender.send(first).await?;
        sender
            .send(CallResourceResponse::body_chunk(request.body))
            .await
    }
}

/// A data source instance: healthy when it has a URL.
struct Instance {
    url: String,
}

impl CheckHealthHandler for Instance {
    async fn check_health(
        &self,
        _: CheckHealthRequest,
    ) -> Result<CheckHealthResult, plugin_backend::Error> {
        Ok(if self.url.is_empty() {
            CheckHealthResult::error("no URL configured")
        } else {
            CheckHealthResult::ok(format!("{} answers", self.url))
        })
    }
}

fn rows_query(ref_id: &str, rows: i64) -> DataQuery {
    DataQuery::new(ref_id, format!(r#"{{"rows": {rows}}}"#))
}

/// Data source `id`, configured with `url`.
fn data_source(id: i64, url: &str) -> PluginContext {
    let mut settings = DataSourceInstanceSettings::default();
    settings.id = id;
    settings.uid = format!("uid-{id}");
    settings.url = url.to_owned();
    PluginContext::new(PLUGIN_ID).with_data_source_instance_settings(settings)
}

#[tokio::test]
async fn queries_answer_decoded_frames() {
    let plugin = InProcessPlugin::start(Plugin::new().with_query_data(Rows {
        delay: Duration::ZERO,
    }))
    .await
    .unwrap();
    #[cfg(unix)]
    assert!(matches!(plugin.address(), plugin_testkit::PluginAddress::Unix(path) if path.exists()));

    let request = QueryDataRequest::new(
        PluginContext::new(PLUGIN_ID),
        vec![rows_query("A", 3), rows_query("B", 0)],
    );
    let response = plugin.client().query_data(request).await.unwrap();

    assert_eq!(response.responses.len(), 2);
    let a = &response.responses["A"].frames;
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].name(), "A");
    assert_eq!(a[0].num_rows().unwrap(), 3);
    assert_eq!(response.responses["B"].frames[0].num_rows().unwrap(), 0);
    plugin.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_failing_query_fails_the_call_with_the_handlers_error() {
    let plugin = InProcessPlugin::start(Plugin::new().with_query_data(Rows {
        delay: Duration::ZERO,
    }))
    .await
    .unwrap();
    let request = QueryDataRequest::new(
        PluginContext::new(PLUGIN_ID),
        vec![DataQuery::new("A", "not json")],
    );
    let error = plugin.client().query_data(request).await.unwrap_err();
    assert!(matches!(error, Error::Rpc(_)), "{error:?}");
    plugin.shutdown().await.unwrap();
}

#[tokio::test]
async fn resource_calls_collect_every_message() {
    let plugin = InProcessPlugin::start(Plugin::new().with_call_resource(Echo))
        .await
        .unwrap();
    let mut request = CallResourceRequest::new(Method::POST, "echo");
    request.plugin_context = PluginContext::new(PLUGIN_ID);
    request.body = "hello".into();

    let response = plugin.client().call_resource(request).await.unwrap();

    assert_eq!(response.status, Some(StatusCode::CREATED));
    assert_eq!(response.headers[header::CONTENT_TYPE], "text/plain");
    assert_eq!(response.body, "POST /echo: hello");
    plugin.shutdown().await.unwrap();
}

/// `plugin_serve::datasource::handler` is what `datasource::manage` serves:
/// instance management behind the default middleware, here in process.
#[tokio::test]
async fn the_handler_manage_serves_answers_per_data_source() {
    let created = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let factory = {
        let created = Arc::clone(&created);
        move |settings: Arc<DataSourceInstanceSettings>, _: PluginContext| {
            created.fetch_add(1, Ordering::SeqCst);
            let url = settings.url.clone();
            async move { Ok(Plugin::new().with_check_health(Instance { url })) }
        }
    };
    let handler = plugin_serve::datasource::handler(factory, &plugin_serve::ManageOptions::new());
    let plugin = InProcessPlugin::start(handler).await.unwrap();
    let client = plugin.client();

    let health = client
        .check_health(CheckHealthRequest::new(data_source(1, "http://db:5432")))
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.message, "http://db:5432 answers");

    let health = client
        .check_health(CheckHealthRequest::new(data_source(2, "")))
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Error);

    client
        .check_health(CheckHealthRequest::new(data_source(1, "http://db:5432")))
        .await
        .unwrap();
    assert_eq!(
        created.load(Ordering::SeqCst),
        2,
        "one instance per data source, reused while its settings are unchanged"
    );
    plugin.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_lets_calls_in_flight_finish_then_runs_the_cleanup_hook() {
    let cleaned_up = Arc::new(AtomicBool::new(false));
    let options = ServeOptions::new().on_shutdown({
        let cleaned_up = Arc::clone(&cleaned_up);
        || async move { cleaned_up.store(true, Ordering::SeqCst) }
    });
    let plugin = InProcessPlugin::start_with_options(
        Plugin::new().with_query_data(Rows {
            delay: Duration::from_millis(300),
        }),
        options,
    )
    .await
    .unwrap();
    let client = plugin.client().clone();
    let in_flight = tokio::spawn(async move {
        let request =
            QueryDataRequest::new(PluginContext::new(PLUGIN_ID), vec![rows_query("A", 2)]);
        client.query_data(request).await
    });
    // Let the call reach the handler before shutting down.
    tokio::time::sleep(Duration::from_millis(100)).await;

    let client = plugin.client().clone();
    plugin.shutdown().await.unwrap();

    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.responses["A"].frames[0].num_rows().unwrap(), 2);
    assert!(cleaned_up.load(Ordering::SeqCst));
    assert!(
        client.ping().await.is_err(),
        "a stopped plugin answers no more calls"
    );
}

#[tokio::test]
async fn the_hosts_shutdown_call_stops_the_plugin() {
    let options = ServeOptions::new();
    let stopped = options.shutdown().clone();
    let plugin = InProcessPlugin::start_with_options(Plugin::new(), options)
        .await
        .unwrap();

    plugin.client().shutdown().await.unwrap();

    tokio::time::timeout(Duration::from_secs(5), stopped.triggered())
        .await
        .expect("go-plugin's Shutdown call pulls the trigger");
    plugin.shutdown().await.unwrap();
}

#[tokio::test]
async fn dropping_the_plugin_stops_its_server() {
    let options = ServeOptions::new();
    let stopped = options.shutdown().clone();
    let plugin = InProcessPlugin::start_with_options(Plugin::new(), options)
        .await
        .unwrap();
    drop(plugin);
    assert!(stopped.is_triggered());
}
