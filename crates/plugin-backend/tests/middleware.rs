//! Middleware order, panic recovery, error sources, status guessing, metrics
//! and the Go SDK's answers for missing capabilities.

mod support;

use std::future::Future;
use std::io;
use std::sync::{Arc, Mutex};

use futures_util::FutureExt as _;
use plugin_backend::middleware::{
    CatchPanicLayer, ErrorSourceLayer, HandlerBuilder, LoggingLayer, MetricsLayer, Middleware, Next,
};
use plugin_backend::rpc::Rpc;
use plugin_backend::{
    AdmissionRequest, CallResourceRequest, CheckHealthRequest, ChunkedDataWriter,
    CollectMetricsRequest, ConversionRequest, DataFrameFormat, DataQuery, DataResponse, Endpoint,
    Error, ErrorSource, Handler, HealthStatus, Plugin, PluginContext, PublishStreamRequest,
    QueryChunkedDataRequest, QueryConversionHandler, QueryConversionResponse, QueryDataHandler,
    QueryDataRequest, QueryDataResponse, RawObject, RunStreamRequest, Status, StreamSender,
    SubscribeStreamRequest, grpc, query_data_fn,
};
use plugin_backend::{CheckHealthResult, CollectMetricsResult};
use plugin_data::{Field, Frame};
use prometheus::Registry;
use support::{block_on, collecting_sender};
use tower_layer::Layer;

fn request(ref_ids: &[&str]) -> QueryDataRequest {
    let queries = ref_ids
        .iter()
        .map(|ref_id| DataQuery::new(*ref_id, "{}"))
        .collect();
    QueryDataRequest::new(PluginContext::new("test-datasource"), queries)
}

/// Answers every query with the response `make` builds.
fn answering(make: fn() -> DataResponse) -> impl QueryDataHandler {
    query_data_fn(move |request: QueryDataRequest| async move {
        Ok(request
            .queries
            .iter()
            .map(|query| (query.ref_id.clone(), make()))
            .collect())
    })
}

fn timeout_error() -> Error {
    Error::new(io::Error::new(
        io::ErrorKind::TimedOut,
        "upstream did not answer",
    ))
}

// --- order -----------------------------------------------------------------

/// A middleware that records when query data requests pass through it, to
/// observe order.
#[derive(Clone)]
struct RecordLayer {
    name: &'static str,
    events: Arc<Mutex<Vec<String>>>,
}

impl RecordLayer {
    fn note(&self, event: &str) {
        self.events
            .lock()
            .unwrap()
            .push(format!("{event} {}", self.name));
    }
}

impl Middleware for RecordLayer {
    async fn call<E: Rpc, H: Handler>(
        &self,
        request: E::Request,
        next: Next<'_, H>,
    ) -> Result<E::Response, Error> {
        if E::ENDPOINT != Endpoint::QueryData {
            return next.call::<E>(request).await;
        }
        self.note("enter");
        let result = next.call::<E>(request).await;
        self.note("leave");
        result
    }
}

#[test]
fn first_layer_added_is_outermost() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let plugin = Plugin::new().with_query_data(query_data_fn(move |_| {
        seen.lock().unwrap().push("handler".to_owned());
        async { Ok(QueryDataResponse::new()) }
    }));
    let handler = HandlerBuilder::new()
        .middleware(RecordLayer {
            name: "outer",
            events: Arc::clone(&events),
        })
        .middleware(RecordLayer {
            name: "inner",
            events: Arc::clone(&events),
        })
        .handler(plugin);
    block_on(handler.query_data(request(&["A"]))).unwrap();
    assert_eq!(
        *events.lock().unwrap(),
        [
            "enter outer",
            "enter inner",
            "handler",
            "leave inner",
            "leave outer"
        ]
    );
}

/// What a plugin implements is visible through every wrapper, since the
/// server registers services by it (backend/serve.go in the Go SDK).
#[test]
fn wrappers_report_what_the_plugin_implements() {
    let plugin =
        Plugin::new().with_query_data(query_data_fn(|_| async { Ok(QueryDataResponse::new()) }));
    let handler = HandlerBuilder::new()
        .layer(LoggingLayer::new())
        .layer(CatchPanicLayer::new())
        .handler(plugin);
    for endpoint in Endpoint::ALL {
        let expected = matches!(endpoint, Endpoint::QueryData | Endpoint::CollectMetrics);
        assert_eq!(handler.implements(endpoint), expected, "{endpoint}");
    }
}

/// The default layers run the handler in its outgoing context, with the
/// headers Go forwards (backend/http_headers.go), so outgoing clients see
/// them without the handler passing them on.
#[test]
fn default_layers_run_the_handler_in_its_outgoing_context() {
    let seen = Arc::new(Mutex::new(None));
    let plugin = Plugin::new().with_query_data(query_data_fn({
        let seen = Arc::clone(&seen);
        move |_| {
            let current = plugin_backend::outgoing::current().map(|context| {
                let headers = context.forwarded_headers();
                (
                    context.endpoint(),
                    headers.get("authorization").cloned(),
                    headers.get("x-dashboard-uid").cloned(),
                    headers.contains_key("x-not-forwarded"),
                )
            });
            *seen.lock().unwrap() = current;
            async { Ok(QueryDataResponse::new()) }
        }
    }));
    let handler = HandlerBuilder::with_default_layers().handler(plugin);
    let mut query = request(&["A"]);
    query
        .headers
        .insert("Authorization".into(), "Bearer t0ken".into());
    query
        .headers
        .insert("http_X-Dashboard-Uid".into(), "d1".into());
    query.headers.insert("X-Not-Forwarded".into(), "x".into());
    block_on(handler.query_data(query)).unwrap();
    let (endpoint, authorization, dashboard, other) = seen
        .lock()
        .unwrap()
        .clone()
        .expect("inside an outgoing scope");
    assert_eq!(endpoint, Some(Endpoint::QueryData));
    assert_eq!(authorization.unwrap(), "Bearer t0ken");
    assert_eq!(dashboard.unwrap(), "d1");
    assert!(!other, "only Go's forwarded headers");
    assert!(plugin_backend::outgoing::current().is_none());
}

#[test]
fn default_layers_see_a_panic_as_an_error() {
    // Panic recovery is innermost, so metrics (outside it) count an error
    // attributed to the plugin instead of losing the request.
    let registry = Registry::new();
    let handler = HandlerBuilder::new()
        .layer(MetricsLayer::with_registry(&registry).unwrap())
        .layer(ErrorSourceLayer::new())
        .layer(CatchPanicLayer::new())
        .handler(Plugin::new().with_query_data(query_data_fn(|_| async { panic!("boom") })));
    let err = block_on(handler.query_data(request(&["A"]))).unwrap_err();
    assert_eq!(err.to_string(), "panic triggered: boom");
    assert_eq!(request_count(&registry, "queryData", "error", "plugin"), 1);
}

// --- panic recovery ----------------------------------------------------------

#[test]
fn a_panicking_handler_becomes_a_grpc_unknown_and_the_process_lives() {
    let handler = CatchPanicLayer::new().layer(
        Plugin::new()
            .with_query_data(query_data_fn(|request: QueryDataRequest| async move {
                if request.queries.is_empty() {
                    panic!("no queries: {}", 42);
                }
                Ok(QueryDataResponse::new())
            }))
            .with_check_health(PanickingHealth),
    );
    let status = block_on(handler.query_data(request(&[])))
        .unwrap_err()
        .into_grpc_status();
    assert_eq!(status.code(), tonic::Code::Unknown);
    assert_eq!(status.message(), "panic triggered: no queries: 42");
    // The same handler keeps serving.
    assert!(block_on(handler.query_data(request(&["A"]))).is_ok());
    assert!(matches!(
        block_on(handler.check_health(CheckHealthRequest::default())),
        Err(Error::Panic(_))
    ));
}

struct PanickingHealth;

fn fail_eagerly() {
    panic!("eager panic");
}

impl plugin_backend::CheckHealthHandler for PanickingHealth {
    // Panics while creating the future, before anything is polled.
    fn check_health(
        &self,
        _: CheckHealthRequest,
    ) -> impl Future<Output = Result<CheckHealthResult, Error>> + Send {
        fail_eagerly();
        async { Ok(CheckHealthResult::ok("")) }
    }
}

#[test]
fn per_query_panic_errors_answer_every_query() {
    let handler = CatchPanicLayer::new()
        .per_query_errors(true)
        .layer(Plugin::new().with_query_data(query_data_fn(|_| async { panic!("bad state") })));
    let response = block_on(handler.query_data(request(&["A", "B"]))).unwrap();
    assert_eq!(response.responses.len(), 2);
    for data in response.responses.values() {
        assert_eq!(
            data.error.as_ref().unwrap().to_string(),
            "panic triggered: bad state"
        );
        assert_eq!(data.effective_status(), Status::INTERNAL_SERVER_ERROR);
        assert_eq!(data.error_source, Some(ErrorSource::Plugin));
    }
}

// --- error source and status -------------------------------------------------

#[test]
fn error_source_layer_attributes_failed_queries_and_guesses_statuses() {
    let plugin = Plugin::new().with_query_data(query_data_fn(|_| async {
        Ok(QueryDataResponse::new()
            .with_response("timeout", DataResponse::from_error(timeout_error()))
            .with_response("bug", DataResponse::from_error(Error::new("nil map")))
            .with_response(
                "refused",
                DataResponse::from_error(Error::new(io::Error::from(
                    io::ErrorKind::ConnectionRefused,
                ))),
            )
            .with_response(
                "denied",
                DataResponse::from_error(Error::new(io::Error::from(
                    io::ErrorKind::PermissionDenied,
                ))),
            )
            .with_response(
                "explicit",
                DataResponse::from_error(Error::downstream("rate limited"))
                    .with_status(Status::TOO_MANY_REQUESTS),
            )
            .with_response("ok", DataResponse::from(Frame::new("ok"))))
    }));
    let handler = ErrorSourceLayer::new().layer(plugin);
    let response = block_on(handler.query_data(request(&[]))).unwrap();
    let check = |ref_id: &str, status: Status, source: Option<ErrorSource>| {
        let data = &response.responses[ref_id];
        assert_eq!(
            (data.status, data.error_source),
            (Some(status), source),
            "{ref_id}"
        );
    };
    check(
        "timeout",
        Status::GATEWAY_TIMEOUT,
        Some(ErrorSource::Downstream),
    );
    check(
        "bug",
        Status::INTERNAL_SERVER_ERROR,
        Some(ErrorSource::Plugin),
    );
    check(
        "refused",
        Status::BAD_GATEWAY,
        Some(ErrorSource::Downstream),
    );
    check("denied", Status::UNAUTHORIZED, Some(ErrorSource::Plugin));
    check(
        "explicit",
        Status::TOO_MANY_REQUESTS,
        Some(ErrorSource::Downstream),
    );
    assert_eq!(response.responses["ok"].status, None);
    assert_eq!(response.responses["ok"].effective_status(), Status::OK);
}

#[test]
fn failed_calls_reach_grafana_with_their_error_source() {
    let plugin = Plugin::new()
        .with_query_data(query_data_fn(|_| async { Err(timeout_error()) }))
        .with_check_health(FailingHealth);
    let handler = ErrorSourceLayer::new().layer(plugin);

    let timeout = block_on(handler.query_data(request(&["A"]))).unwrap_err();
    let status = tonic::Status::from(timeout);
    assert_eq!(status.code(), tonic::Code::Unknown);
    assert_eq!(grpc::error_source(&status), Some(ErrorSource::Downstream));

    let plain = block_on(handler.check_health(CheckHealthRequest::default())).unwrap_err();
    let status = tonic::Status::from(plain);
    assert_eq!(status.code(), tonic::Code::Unknown);
    assert_eq!(grpc::error_source(&status), None);
}

struct FailingHealth;

impl plugin_backend::CheckHealthHandler for FailingHealth {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        Err(Error::new("config missing"))
    }
}

// --- metrics -----------------------------------------------------------------

fn request_count(registry: &Registry, endpoint: &str, status: &str, source: &str) -> u64 {
    let families = registry.gather();
    let Some(family) = families
        .iter()
        .find(|family| family.name() == "grafana_plugin_request_total")
    else {
        return 0;
    };
    family
        .get_metric()
        .iter()
        .filter(|metric| {
            let label = |name: &str| {
                metric
                    .get_label()
                    .iter()
                    .find(|l| l.name() == name)
                    .map(|l| l.value().to_owned())
            };
            label("endpoint").as_deref() == Some(endpoint)
                && label("status").as_deref() == Some(status)
                && label("status_source").as_deref() == Some(source)
        })
        .map(|metric| metric.get_counter().get_value() as u64)
        .sum()
}

#[test]
fn metrics_count_requests_by_endpoint_status_and_source() {
    let registry = Registry::new();
    let plugin = Plugin::new().with_query_data(answering(|| {
        DataResponse::from_error(Error::downstream("gone"))
    }));
    let handler = MetricsLayer::with_registry(&registry)
        .unwrap()
        .layer(plugin);
    block_on(handler.query_data(request(&["A"]))).unwrap();
    block_on(handler.query_data(request(&["A"]))).unwrap();
    block_on(handler.check_health(CheckHealthRequest::default())).unwrap();
    block_on(handler.subscribe_stream(SubscribeStreamRequest::default())).unwrap_err();

    assert_eq!(
        request_count(&registry, "queryData", "error", "downstream"),
        2
    );
    assert_eq!(request_count(&registry, "checkHealth", "ok", "plugin"), 1);
    assert_eq!(
        request_count(&registry, "subscribeStream", "error", "plugin"),
        1
    );
    let text = String::from_utf8(
        CollectMetricsResult::from_registry(&registry)
            .unwrap()
            .prometheus_metrics
            .to_vec(),
    )
    .unwrap();
    assert!(
        text.contains("grafana_plugin_request_duration_seconds_bucket"),
        "{text}"
    );
}

#[test]
fn a_request_dropped_before_completion_counts_as_cancelled() {
    let registry = Registry::new();
    let plugin = Plugin::new().with_query_data(query_data_fn(|_| futures_util::future::pending()));
    let handler = LoggingLayer::new().layer(
        MetricsLayer::with_registry(&registry)
            .unwrap()
            .layer(plugin),
    );
    let mut call = Box::pin(handler.query_data(request(&["A"])));
    assert!((&mut call).now_or_never().is_none());
    assert_eq!(
        request_count(&registry, "queryData", "cancelled", "downstream"),
        0
    );
    drop(call);
    assert_eq!(
        request_count(&registry, "queryData", "cancelled", "downstream"),
        1
    );
}

// --- missing capabilities ----------------------------------------------------

#[test]
fn missing_capabilities_answer_as_the_go_sdk() {
    let plugin = Plugin::new();

    let err = block_on(plugin.query_data(request(&["A"]))).unwrap_err();
    assert_eq!(tonic::Status::from(err).code(), tonic::Code::Unimplemented);

    let (sender, sent) = collecting_sender();
    block_on(plugin.call_resource(CallResourceRequest::default(), sender)).unwrap();
    let sent = sent.lock().unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, Some(http::StatusCode::NOT_IMPLEMENTED));

    let (sender, chunks) = collecting_sender();
    let writer = ChunkedDataWriter::new(DataFrameFormat::Arrow, sender);
    block_on(plugin.query_chunked_data(QueryChunkedDataRequest::default(), writer)).unwrap();
    let chunks = chunks.lock().unwrap();
    assert_eq!(chunks.len(), 1);
    assert_eq!(chunks[0].status, Some(Status::NOT_IMPLEMENTED));

    let health = block_on(plugin.check_health(CheckHealthRequest::default())).unwrap();
    assert_eq!(health.status, HealthStatus::Ok);

    let unimplemented = [
        block_on(plugin.subscribe_stream(SubscribeStreamRequest::default())).map(drop),
        block_on(plugin.publish_stream(PublishStreamRequest::default())).map(drop),
        block_on(plugin.run_stream(
            RunStreamRequest::default(),
            StreamSender::new(collecting_sender().0),
        )),
        block_on(plugin.validate_admission(AdmissionRequest::default())).map(drop),
        block_on(plugin.mutate_admission(AdmissionRequest::default())).map(drop),
        block_on(plugin.convert_objects(ConversionRequest::default())).map(drop),
    ];
    for (result, endpoint) in unimplemented.into_iter().zip([
        Endpoint::SubscribeStream,
        Endpoint::PublishStream,
        Endpoint::RunStream,
        Endpoint::ValidateAdmission,
        Endpoint::MutateAdmission,
        Endpoint::ConvertObjects,
    ]) {
        match result {
            Err(Error::Unimplemented(actual)) => assert_eq!(actual, endpoint),
            other => panic!("{endpoint}: expected Unimplemented, got {other:?}"),
        }
    }
}

#[test]
fn collect_metrics_defaults_to_the_default_registry() {
    let handler = HandlerBuilder::with_default_layers()
        .handler(Plugin::new().with_query_data(answering(DataResponse::default)));
    block_on(handler.query_data(request(&["A"]))).unwrap();
    let metrics = block_on(handler.collect_metrics(CollectMetricsRequest::default())).unwrap();
    let text = String::from_utf8(metrics.prometheus_metrics.to_vec()).unwrap();
    assert!(text.contains(r#"grafana_plugin_request_total{endpoint="queryData",status="ok",status_source="plugin"}"#), "{text}");
}

// --- query conversion ----------------------------------------------------------

struct UpgradeQueries;

impl QueryConversionHandler for UpgradeQueries {
    async fn convert_query_data_request(
        &self,
        request: QueryDataRequest,
    ) -> Result<QueryConversionResponse, Error> {
        let queries = request
            .queries
            .iter()
            .map(|query| serde_json::json!({"refId": query.ref_id, "upgraded": true}))
            .collect();
        Ok(QueryConversionResponse::new(queries))
    }
}

#[test]
fn query_conversion_rides_on_convert_objects() {
    let plugin = Plugin::new().with_query_conversion(UpgradeQueries);
    let mut request = ConversionRequest::default();
    request.uid = "c1".into();
    request.objects = vec![RawObject::json(
        r#"{"queries":[{"refId":"A"},{"RefID":"B"}]}"#,
    )];
    let response = block_on(plugin.convert_objects(request)).unwrap();
    assert_eq!(response.uid, "c1");
    let converted: Vec<serde_json::Value> = response
        .objects
        .iter()
        .map(|object| serde_json::from_slice(&object.raw).unwrap())
        .collect();
    assert_eq!(
        converted,
        [
            serde_json::json!({"refId": "A", "upgraded": true}),
            serde_json::json!({"refId": "B", "upgraded": true})
        ]
    );

    // Objects that are not query requests go to the conversion handler,
    // which this plugin does not have.
    let mut yaml = ConversionRequest::default();
    yaml.objects = vec![RawObject::new("a: 1", "application/yaml")];
    assert!(matches!(
        block_on(plugin.convert_objects(yaml)),
        Err(Error::Unimplemented(_))
    ));
}

// --- format selection ----------------------------------------------------------

#[test]
fn frames_are_encoded_in_the_requested_format_with_ref_ids_filled() {
    let plugin = Plugin::new().with_query_data(answering(|| {
        DataResponse::from(Frame::new("series").with_field(Field::new("value", vec![1_i64, 2, 3])))
    }));
    for (format, wire) in [(DataFrameFormat::Json, 1), (DataFrameFormat::Arrow, 0)] {
        let mut query_request = request(&["A"]);
        query_request.format = format;
        let response = block_on(plugin.query_data(query_request)).unwrap();
        let message = response.into_proto(format).unwrap();
        let data = &message.responses["A"];
        assert_eq!(data.format, wire);
        assert_eq!(data.status, 200);
        let frame = match format {
            DataFrameFormat::Json => {
                let json: serde_json::Value =
                    serde_json::from_slice(&data.frames[0]).expect("frames are JSON");
                assert_eq!(json["schema"]["refId"], "A");
                Frame::from_json(&data.frames[0]).unwrap()
            }
            DataFrameFormat::Arrow => {
                assert!(
                    data.frames[0].starts_with(b"ARROW1"),
                    "frames are Arrow IPC files"
                );
                Frame::from_arrow_ipc(&data.frames[0]).unwrap()
            }
        };
        assert_eq!(frame.ref_id(), "A");
        assert_eq!(frame.num_rows().unwrap(), 3);
    }
}
