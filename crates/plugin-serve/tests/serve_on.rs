//! [`plugin_serve::serve_on`]: the server Grafana talks to, on a socket the
//! test bound, stopped through go-plugin's controller or the trigger.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use plugin_backend::{
    CheckHealthHandler, CheckHealthRequest, CheckHealthResult, Error, HealthStatus, Plugin,
    PluginContext,
};
use plugin_proto::go_plugin::{self, grpc_controller_client::GrpcControllerClient};
use plugin_proto::pluginv2::{self, diagnostics_client::DiagnosticsClient};
use plugin_serve::{HEALTH_SERVICE_NAME, Listener, ServeOptions};
use prost::Message;
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

struct Healthy;

impl CheckHealthHandler for Healthy {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        Ok(CheckHealthResult::ok("all good"))
    }
}

async fn tcp_listener() -> Listener {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Listener::try_from(socket).unwrap()
}

async fn connect(address: &str) -> Channel {
    Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Pulls `shutdown` and waits, at most 5 s, for `serve_on` to return.
async fn stop(shutdown: &plugin_serve::Shutdown, server: tokio::task::JoinHandle<()>) {
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops once triggered")
        .unwrap();
}

#[tokio::test]
async fn serves_the_plugin_and_stops_on_the_hosts_shutdown_call() {
    let listener = tcp_listener().await;
    let address = listener.address();
    let cleaned_up = Arc::new(AtomicBool::new(false));
    let options = ServeOptions::new().on_shutdown({
        let cleaned_up = Arc::clone(&cleaned_up);
        || async move { cleaned_up.store(true, Ordering::SeqCst) }
    });
    let server = tokio::spawn(plugin_serve::serve_on(
        Plugin::new().with_check_health(Healthy),
        listener,
        options,
    ));
    let channel = connect(&address).await;

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: HEALTH_SERVICE_NAME.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);

    let result = DiagnosticsClient::new(channel.clone())
        .check_health(pluginv2::CheckHealthRequest::from(CheckHealthRequest::new(
            PluginContext::new("acme-test-datasource"),
        )))
        .await
        .unwrap()
        .into_inner();
    let result = CheckHealthResult::try_from(result).unwrap();
    assert_eq!(result.status, HealthStatus::Ok);
    assert_eq!(result.message, "all good");

    // The controller is served: a client stops the server as Grafana stops
    // a plugin process.
    GrpcControllerClient::new(channel)
        .shutdown(go_plugin::Empty {})
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops after the Shutdown call")
        .unwrap();
    assert!(
        cleaned_up.load(Ordering::SeqCst),
        "the cleanup hook ran before serve_on returned"
    );
}

#[tokio::test]
async fn stops_when_the_options_trigger_is_pulled() {
    let listener = tcp_listener().await;
    let options = ServeOptions::new();
    let shutdown = options.shutdown().clone();
    let server = tokio::spawn(plugin_serve::serve_on(Plugin::new(), listener, options));
    stop(&shutdown, server).await;
}

#[cfg(unix)]
#[tokio::test]
async fn leaves_the_callers_unix_socket_file_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.sock");
    let listener = Listener::from(tokio::net::UnixListener::bind(&path).unwrap());
    assert_eq!(listener.address(), path.display().to_string());
    let options = ServeOptions::new();
    options.shutdown().trigger();
    plugin_serve::serve_on(Plugin::new(), listener, options).await;
    assert!(path.exists(), "the socket file belongs to the caller");
}

/// Sets its flag when dropped: shows that a handler was cancelled.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A health check that never answers, and says when it is dropped.
struct Stalling {
    dropped: Arc<AtomicBool>,
}

impl CheckHealthHandler for Stalling {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        let _cancelled = SetOnDrop(Arc::clone(&self.dropped));
        std::future::pending::<()>().await;
        Ok(CheckHealthResult::ok("too late"))
    }
}

#[tokio::test]
async fn a_call_past_the_clients_deadline_is_cancelled_and_deadline_exceeded() {
    let listener = tcp_listener().await;
    let address = listener.address();
    let dropped = Arc::new(AtomicBool::new(false));
    let plugin = Plugin::new().with_check_health(Stalling {
        dropped: Arc::clone(&dropped),
    });
    let options = ServeOptions::new();
    let shutdown = options.shutdown().clone();
    let server = tokio::spawn(plugin_serve::serve_on(plugin, listener, options));

    // A raw HTTP/2 call carrying `grpc-timeout`, the header grpc-go sends
    // for a context's deadline. Not a tonic client: tonic's channel enforces
    // that header itself, and its timer could answer before the server.
    let message = pluginv2::CheckHealthRequest::from(CheckHealthRequest::new(PluginContext::new(
        "acme-test-datasource",
    )));
    let mut body = vec![0u8];
    body.extend((message.encoded_len() as u32).to_be_bytes());
    body.extend(message.encode_to_vec());
    let request = http::Request::post(format!("http://{address}/pluginv2.Diagnostics/CheckHealth"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-timeout", "200m")
        .body(http_body_util::Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    let response = tokio::time::timeout(Duration::from_secs(5), sender.send_request(request))
        .await
        .expect("the server answers once the deadline passes")
        .unwrap();
    let status =
        tonic::Status::from_header_map(response.headers()).expect("a trailers-only answer");
    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(
        dropped.load(Ordering::SeqCst),
        "the handler is dropped when the deadline passes"
    );

    stop(&shutdown, server).await;
}

#[tokio::test]
async fn unknown_services_and_methods_are_unimplemented() {
    let listener = tcp_listener().await;
    let address = listener.address();
    let options = ServeOptions::new();
    let shutdown = options.shutdown().clone();
    let server = tokio::spawn(plugin_serve::serve_on(Plugin::new(), listener, options));
    let mut grpc = tonic::client::Grpc::new(connect(&address).await);

    for path in [
        "/pluginv2.NoSuchService/Call",
        "/pluginv2.Data/NoSuchMethod",
        "/not-a-grpc-path",
    ] {
        grpc.ready().await.unwrap();
        let status = grpc
            .unary::<_, go_plugin::Empty, _>(
                tonic::Request::new(go_plugin::Empty {}),
                http::uri::PathAndQuery::from_static(path),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .expect_err(path);
        assert_eq!(
            status.code(),
            tonic::Code::Unimplemented,
            "{path}: {status:?}"
        );
    }

    stop(&shutdown, server).await;
}

/// Only the services of endpoints the plugin implements are registered, as
/// the Go SDK's `GRPCServeOpts` registers them (backend/serve.go): a plugin
/// with only queries has no Resource or Stream service, while Diagnostics is
/// always there and, without a health handler, answers OK as Go's
/// diagnostics adapter does (backend/diagnostics_adapter.go).
#[tokio::test]
async fn only_implemented_services_are_registered() {
    let listener = tcp_listener().await;
    let address = listener.address();
    let options = ServeOptions::new();
    let shutdown = options.shutdown().clone();
    let server = tokio::spawn(plugin_serve::serve_on(
        Plugin::new().with_query_data(Rows),
        listener,
        options,
    ));
    let channel = connect(&address).await;

    let mut data = pluginv2::data_client::DataClient::new(channel.clone());
    let answer = data.query_data(rows_request(3)).await.unwrap().into_inner();
    assert!(answer.responses["A"].error.is_empty());

    let mut grpc = tonic::client::Grpc::new(channel.clone());
    for path in [
        "/pluginv2.Resource/CallResource",
        "/pluginv2.Stream/SubscribeStream",
        "/pluginv2.AdmissionControl/ValidateAdmission",
        "/pluginv2.ResourceConversion/ConvertObjects",
    ] {
        grpc.ready().await.unwrap();
        let status = grpc
            .unary::<_, go_plugin::Empty, _>(
                tonic::Request::new(go_plugin::Empty {}),
                http::uri::PathAndQuery::from_static(path),
                tonic_prost::ProstCodec::default(),
            )
            .await
            .expect_err(path);
        assert_eq!(status.code(), tonic::Code::Unimplemented, "{path}");
        assert!(
            status.message().starts_with("unknown service"),
            "{path}: {status:?}"
        );
    }

    let health = DiagnosticsClient::new(channel)
        .check_health(pluginv2::CheckHealthRequest::from(CheckHealthRequest::new(
            PluginContext::new("acme-test-datasource"),
        )))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        health.status,
        pluginv2::check_health_response::HealthStatus::Ok as i32
    );

    stop(&shutdown, server).await;
}

/// Answers every query with a frame of `rows` float64 values, `rows` taken
/// from the query's JSON.
struct Rows;

impl plugin_backend::QueryDataHandler for Rows {
    async fn query_data(
        &self,
        request: plugin_backend::QueryDataRequest,
    ) -> Result<plugin_backend::QueryDataResponse, Error> {
        #[derive(serde::Deserialize)]
        struct Query {
            rows: usize,
        }
        let mut response = plugin_backend::QueryDataResponse::new();
        for query in &request.queries {
            let Query { rows } = query.parse_json()?;
            let values: Vec<f64> = (0..rows).map(|row| row as f64).collect();
            let frame = plugin_data::Frame::new("values")
                .with_field(plugin_data::Field::new("value", values));
            response.insert(
                query.ref_id.clone(),
                plugin_backend::DataResponse::from(frame),
            );
        }
        Ok(response)
    }
}

fn rows_request(rows: usize) -> pluginv2::QueryDataRequest {
    pluginv2::QueryDataRequest {
        plugin_context: Some(PluginContext::new("acme-test-datasource").into()),
        queries: vec![pluginv2::DataQuery {
            ref_id: "A".into(),
            json: format!(r#"{{"rows":{rows}}}"#).into(),
            time_range: Some(pluginv2::TimeRange {
                from_epoch_ms: 1_700_000_000_000,
                to_epoch_ms: 1_700_000_060_000,
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

#[tokio::test]
async fn query_data_answers_large_frames_and_enforces_both_limits() {
    use plugin_proto::pluginv2::data_client::DataClient;

    let listener = tcp_listener().await;
    let address = listener.address();
    let options = ServeOptions::new()
        .with_max_receive_message_size(4096)
        .with_max_send_message_size(1 << 20);
    let shutdown = options.shutdown().clone();
    let server = tokio::spawn(plugin_serve::serve_on(
        Plugin::new().with_query_data(Rows),
        listener,
        options,
    ));
    let mut data = DataClient::new(connect(&address).await);

    // 100,000 float64s: a frame of about 800 kB, sent as its own buffer.
    let answer = data
        .query_data(rows_request(100_000))
        .await
        .unwrap()
        .into_inner();
    let frame = &answer.responses["A"].frames[0];
    let frame = plugin_data::Frame::from_arrow_ipc(frame).unwrap();
    assert_eq!(frame.num_rows().unwrap(), 100_000);

    // 200,000 rows encode to more than the 1 MiB send limit.
    let status = data
        .query_data(rows_request(200_000))
        .await
        .expect_err("over the send limit");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");

    // A request over the 4 KiB receive limit.
    let mut request = rows_request(1);
    request.queries[0].query_type = "x".repeat(5000);
    let status = data
        .query_data(request)
        .await
        .expect_err("over the receive limit");
    assert_eq!(status.code(), tonic::Code::ResourceExhausted, "{status:?}");

    // A body that is no protobuf message: an error status, and the server
    // goes on.
    let mut grpc = tonic::client::Grpc::new(connect(&address).await);
    grpc.ready().await.unwrap();
    let status = grpc
        .unary::<_, go_plugin::Empty, _>(
            tonic::Request::new(pluginv2::DataQuery {
                ref_id: "\u{1}".repeat(3),
                ..Default::default()
            }),
            http::uri::PathAndQuery::from_static("/pluginv2.Data/QueryData"),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .expect_err("not a QueryDataRequest");
    assert!(
        matches!(
            status.code(),
            tonic::Code::Internal | tonic::Code::InvalidArgument
        ),
        "{status:?}"
    );
    let again = data
        .query_data(rows_request(10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.responses.len(), 1);

    stop(&shutdown, server).await;
}
