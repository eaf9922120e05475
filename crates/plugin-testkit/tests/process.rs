//! Process mode end to end, without depending on the SDK's server: the
//! "plugin" is a shell script that prints a handshake pointing at a gRPC
//! server this test runs itself, so every step of launching (environment,
//! handshake, connection, health, shutdown, stderr capture) and every
//! response decoding of the client is exercised against known answers.

use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::time::Duration;

use futures_util::StreamExt;
use plugin_backend::{
    CallResourceRequest, CheckHealthRequest, DataQuery, HealthStatus, PluginContext,
    QueryDataRequest,
};
use plugin_data::{Field, Frame, FrameInclude};
use plugin_proto::go_plugin::{self, grpc_controller_server};
use plugin_proto::pluginv2::{
    self, admission_control_server, data_server, diagnostics_server, resource_conversion_server,
    resource_server, stream_server,
};
use plugin_testkit::{Error, MAGIC_COOKIE, PluginLauncher, Signal};
use tokio_stream::wrappers::UnixListenerStream;
use tonic::{Request, Response, Status};

type Answers<T> = Pin<Box<dyn futures_core::Stream<Item = Result<T, Status>> + Send>>;

/// The frame every fake answer is built from.
fn sample(rows: i64) -> Frame {
    Frame::new("sample")
        .with_field(Field::new("n", (0..rows).collect::<Vec<i64>>()))
        .with_field(Field::new(
            "label",
            (0..rows)
                .map(|i| (i % 2 == 0).then(|| format!("row {i}")))
                .collect::<Vec<_>>(),
        ))
}

/// Answers as a plugin would; `Shutdown` drops a file the script waits for.
#[derive(Clone)]
struct FakePlugin {
    stop_file: PathBuf,
}

#[tonic::async_trait]
impl data_server::Data for FakePlugin {
    async fn query_data(
        &self,
        request: Request<pluginv2::QueryDataRequest>,
    ) -> Result<Response<pluginv2::QueryDataResponse>, Status> {
        // "A" in Arrow, "B" in JSON, regardless of the request: the client
        // must follow each response's own format, as Grafana does.
        let request = request.into_inner();
        assert_eq!(
            request.plugin_context.map(|c| c.plugin_id).as_deref(),
            Some("acme-fake-datasource")
        );
        let arrow = pluginv2::DataResponse {
            frames: vec![sample(3).to_arrow_ipc().unwrap()],
            status: 200,
            format: pluginv2::DataFrameFormat::Arrow as i32,
            ..Default::default()
        };
        let json = pluginv2::DataResponse {
            frames: vec![sample(2).to_json(FrameInclude::All).unwrap().into()],
            status: 200,
            format: pluginv2::DataFrameFormat::Json as i32,
            ..Default::default()
        };
        let failed = pluginv2::DataResponse {
            error: "bad query".into(),
            status: 400,
            error_source: "plugin".into(),
            ..Default::default()
        };
        let responses = [
            ("A".into(), arrow),
            ("B".into(), json),
            ("C".into(), failed),
        ]
        .into();
        Ok(Response::new(pluginv2::QueryDataResponse { responses }))
    }

    type QueryChunkedDataStream = Answers<pluginv2::QueryChunkedDataResponse>;

    async fn query_chunked_data(
        &self,
        _: Request<pluginv2::QueryChunkedDataRequest>,
    ) -> Result<Response<Self::QueryChunkedDataStream>, Status> {
        let chunk = |frame: bytes::Bytes| pluginv2::QueryChunkedDataResponse {
            ref_id: "A".into(),
            frame_id: "f0".into(),
            frame,
            status: 200,
            format: pluginv2::DataFrameFormat::Json as i32,
            ..Default::default()
        };
        let chunks = vec![
            Ok(chunk(sample(4).to_json(FrameInclude::All).unwrap().into())),
            Ok(chunk(
                sample(2).to_json(FrameInclude::DataOnly).unwrap().into(),
            )),
        ];
        Ok(Response::new(Box::pin(futures_util::stream::iter(chunks))))
    }
}

#[tonic::async_trait]
impl resource_server::Resource for FakePlugin {
    type CallResourceStream = Answers<pluginv2::CallResourceResponse>;

    async fn call_resource(
        &self,
        request: Request<pluginv2::CallResourceRequest>,
    ) -> Result<Response<Self::CallResourceStream>, Status> {
        let request = request.into_inner();
        let headers = [(
            "Content-Type".to_owned(),
            pluginv2::StringList {
                values: vec!["text/plain".into()],
            },
        )];
        let messages = vec![
            Ok(pluginv2::CallResourceResponse {
                code: 201,
                headers: headers.into(),
                body: format!("{} {} ", request.method, request.path).into(),
            }),
            // Later messages carry body only, as the Go SDK's flushes do.
            Ok(pluginv2::CallResourceResponse {
                code: 0,
                headers: Default::default(),
                body: request.body,
            }),
        ];
        Ok(Response::new(Box::pin(futures_util::stream::iter(
            messages,
        ))))
    }
}

#[tonic::async_trait]
impl diagnostics_server::Diagnostics for FakePlugin {
    async fn check_health(
        &self,
        _: Request<pluginv2::CheckHealthRequest>,
    ) -> Result<Response<pluginv2::CheckHealthResponse>, Status> {
        Ok(Response::new(pluginv2::CheckHealthResponse {
            status: pluginv2::check_health_response::HealthStatus::Error as i32,
            message: "database unreachable".into(),
            json_details: br#"{"host":"db"}"#.to_vec().into(),
        }))
    }

    async fn collect_metrics(
        &self,
        _: Request<pluginv2::CollectMetricsRequest>,
    ) -> Result<Response<pluginv2::CollectMetricsResponse>, Status> {
        Err(Status::unimplemented("no metrics here"))
    }
}

#[tonic::async_trait]
impl stream_server::Stream for FakePlugin {
    async fn subscribe_stream(
        &self,
        _: Request<pluginv2::SubscribeStreamRequest>,
    ) -> Result<Response<pluginv2::SubscribeStreamResponse>, Status> {
        Ok(Response::new(pluginv2::SubscribeStreamResponse::default()))
    }

    async fn publish_stream(
        &self,
        _: Request<pluginv2::PublishStreamRequest>,
    ) -> Result<Response<pluginv2::PublishStreamResponse>, Status> {
        Err(Status::unimplemented("read-only"))
    }

    type RunStreamStream = Answers<pluginv2::StreamPacket>;

    async fn run_stream(
        &self,
        _: Request<pluginv2::RunStreamRequest>,
    ) -> Result<Response<Self::RunStreamStream>, Status> {
        let packet = |include| {
            Ok(pluginv2::StreamPacket {
                data: sample(1).to_json(include).unwrap().into(),
            })
        };
        let packets = vec![packet(FrameInclude::All), packet(FrameInclude::DataOnly)];
        Ok(Response::new(Box::pin(futures_util::stream::iter(packets))))
    }
}

#[tonic::async_trait]
impl admission_control_server::AdmissionControl for FakePlugin {
    async fn validate_admission(
        &self,
        request: Request<pluginv2::AdmissionRequest>,
    ) -> Result<Response<pluginv2::ValidationResponse>, Status> {
        // Objects must be non-empty.
        let allowed = !request.into_inner().object_bytes.is_empty();
        let result = (!allowed).then(|| pluginv2::StatusResult {
            status: "Failure".into(),
            message: "empty object".into(),
            code: 400,
            ..Default::default()
        });
        Ok(Response::new(pluginv2::ValidationResponse {
            allowed,
            result,
            warnings: vec![],
        }))
    }

    async fn mutate_admission(
        &self,
        request: Request<pluginv2::AdmissionRequest>,
    ) -> Result<Response<pluginv2::MutationResponse>, Status> {
        let mut object = request.into_inner().object_bytes.to_vec();
        object.make_ascii_uppercase();
        Ok(Response::new(pluginv2::MutationResponse {
            allowed: true,
            warnings: vec!["upper-cased".into()],
            object_bytes: object.into(),
            ..Default::default()
        }))
    }
}

#[tonic::async_trait]
impl resource_conversion_server::ResourceConversion for FakePlugin {
    async fn convert_objects(
        &self,
        request: Request<pluginv2::ConversionRequest>,
    ) -> Result<Response<pluginv2::ConversionResponse>, Status> {
        let request = request.into_inner();
        Ok(Response::new(pluginv2::ConversionResponse {
            uid: request.uid,
            objects: request.objects.into_iter().rev().collect(),
            ..Default::default()
        }))
    }
}

#[tonic::async_trait]
impl grpc_controller_server::GrpcController for FakePlugin {
    async fn shutdown(
        &self,
        _: Request<go_plugin::Empty>,
    ) -> Result<Response<go_plugin::Empty>, Status> {
        std::fs::write(&self.stop_file, b"").map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(go_plugin::Empty {}))
    }
}

/// Serves the fake plugin on a unix socket in `dir`; returns the socket.
async fn serve_fake_plugin(dir: &Path) -> PathBuf {
    let socket = dir.join("fake.sock");
    let listener = tokio::net::UnixListener::bind(&socket).unwrap();
    let plugin = FakePlugin {
        stop_file: dir.join("stop"),
    };
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_service_status("plugin", tonic_health::ServingStatus::Serving)
        .await;
    let router = tonic::transport::Server::builder()
        .add_service(health_service)
        .add_service(data_server::DataServer::new(plugin.clone()))
        .add_service(resource_server::ResourceServer::new(plugin.clone()))
        .add_service(diagnostics_server::DiagnosticsServer::new(plugin.clone()))
        .add_service(stream_server::StreamServer::new(plugin.clone()))
        .add_service(admission_control_server::AdmissionControlServer::new(
            plugin.clone(),
        ))
        .add_service(resource_conversion_server::ResourceConversionServer::new(
            plugin.clone(),
        ))
        .add_service(grpc_controller_server::GrpcControllerServer::new(plugin));
    tokio::spawn(router.serve_with_incoming(UnixListenerStream::new(listener)));
    socket
}

/// A "plugin" that logs its environment as hclog JSON, prints the handshake
/// for `$FAKE_SOCKET`, and exits once `$FAKE_STOP` exists.
const HANDSHAKING_SCRIPT: &str = r#"
printf '{"@level":"info","@message":"env","cookie":"%s","versions":"%s","socket_dir":"%s","grafana":"%s","profiling":"%s"}\n' \
  "$grafana_plugin_type" "$PLUGIN_PROTOCOL_VERSIONS" "$PLUGIN_UNIX_SOCKET_DIR" "$GF_VERSION" "$GF_PLUGIN_PROFILING_ENABLED" >&2
echo "1|2|unix|$FAKE_SOCKET|grpc|"
echo "stray stdout line"
while [ ! -e "$FAKE_STOP" ]; do sleep 0.02; done
echo '{"@level":"info","@message":"Plugin shutting down"}' >&2
"#;

fn script(body: &str) -> PluginLauncher {
    PluginLauncher::new("/bin/sh").arg("-c").arg(body)
}

#[tokio::test]
async fn launches_drives_and_shuts_down_a_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let socket = serve_fake_plugin(dir.path()).await;
    let plugin = script(HANDSHAKING_SCRIPT)
        .env("FAKE_SOCKET", &socket)
        .env("FAKE_STOP", dir.path().join("stop"))
        .plugin_setting("profiling_enabled", "false")
        .grafana_version("12.9.1")
        .launch()
        .await
        .unwrap();
    assert_eq!(
        plugin.handshake().address,
        plugin_testkit::PluginAddress::Unix(socket)
    );

    // The environment Grafana sets.
    let env = plugin
        .stderr()
        .entries()
        .into_iter()
        .find(|entry| entry.message == "env")
        .unwrap();
    assert_eq!(env.field("cookie").unwrap(), "datasource");
    assert_eq!(env.field("versions").unwrap(), "2");
    assert_eq!(env.field("grafana").unwrap(), "12.9.1");
    assert_eq!(env.field("profiling").unwrap(), "false");
    let socket_dir = env.field("socket_dir").and_then(|v| v.as_str()).unwrap();
    assert!(
        Path::new(socket_dir).is_dir(),
        "PLUGIN_UNIX_SOCKET_DIR {socket_dir} should exist"
    );

    let client = plugin.client();
    let context = PluginContext::new("acme-fake-datasource");

    // Each response decoded by its own format; errors carried per refId.
    let request = QueryDataRequest::new(context.clone(), vec![DataQuery::new("A", "{}")]);
    let response = client.query_data(request).await.unwrap();
    assert_eq!(response.responses["A"].frames, vec![sample(3)]);
    assert_eq!(response.responses["B"].frames, vec![sample(2)]);
    let failed = &response.responses["C"];
    assert_eq!(failed.error.as_ref().unwrap().to_string(), "bad query");
    assert_eq!(failed.status.unwrap().as_u16(), 400);
    let raw = client
        .query_data_message(QueryDataRequest::new(context.clone(), vec![]))
        .await
        .unwrap();
    assert_eq!(
        raw.responses["A"].format,
        pluginv2::DataFrameFormat::Arrow as i32
    );
    assert_eq!(
        raw.responses["B"].format,
        pluginv2::DataFrameFormat::Json as i32
    );
    let ordered: Vec<&str> = plugin_testkit::responses_in_ref_id_order(&response)
        .iter()
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(ordered, ["A", "B", "C"]);

    // Chunks of one frame id become one frame: 4 rows, then 2 more.
    let chunked = pluginv2::QueryChunkedDataRequest {
        plugin_context: Some(context.clone().into()),
        format: pluginv2::DataFrameFormat::Json as i32,
        ..Default::default()
    };
    let assembled = client.query_chunked_data(chunked).await.unwrap();
    let frame = &assembled.responses["A"].frames[0];
    assert_eq!(frame.num_rows().unwrap(), 6);
    assert_eq!(frame.field("n").unwrap().get(5).unwrap().to_string(), "1");

    // The resource stream, collected.
    let mut call = CallResourceRequest::new(http::Method::POST, "echo");
    call.plugin_context = context.clone();
    call.body = "hello".into();
    let resource = client.call_resource(call).await.unwrap();
    assert_eq!(resource.status, Some(http::StatusCode::CREATED));
    assert_eq!(resource.headers["content-type"], "text/plain");
    assert_eq!(resource.body, "POST echo hello");

    let health = client
        .check_health(CheckHealthRequest::new(context.clone()))
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Error);
    assert_eq!(health.message, "database unreachable");

    let error = client
        .collect_metrics(pluginv2::CollectMetricsRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Rpc(status) if status.code() == tonic::Code::Unimplemented),
        "{error}"
    );

    // Stream packets: a full frame, then data only against its schema.
    let mut packets = client
        .run_stream(pluginv2::RunStreamRequest::default())
        .await
        .unwrap();
    assert_eq!(packets.next_frame().await.unwrap(), Some(sample(1)));
    assert_eq!(packets.next_frame().await.unwrap(), Some(sample(1)));
    assert!(packets.next().await.is_none());

    let subscribed = client
        .subscribe_stream(pluginv2::SubscribeStreamRequest::default())
        .await
        .unwrap();
    assert_eq!(subscribed.status, plugin_backend::StreamStatus::Ok);
    let error = client
        .publish_stream(pluginv2::PublishStreamRequest::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&error, Error::Rpc(status) if status.message() == "read-only"),
        "{error}"
    );

    // Admission and conversion, with SDK types out.
    let admission = |object: &'static str| pluginv2::AdmissionRequest {
        plugin_context: Some(context.clone().into()),
        object_bytes: object.into(),
        ..Default::default()
    };
    let denied = client.validate_admission(admission("")).await.unwrap();
    assert!(!denied.allowed);
    assert_eq!(denied.result.unwrap().message, "empty object");
    assert!(
        client
            .validate_admission(admission("{}"))
            .await
            .unwrap()
            .allowed
    );
    let mutated = client.mutate_admission(admission("abc")).await.unwrap();
    assert_eq!(
        (mutated.object_bytes.as_ref(), mutated.warnings.as_slice()),
        (&b"ABC"[..], &["upper-cased".to_owned()][..])
    );
    let objects = ["a", "b"].map(|raw| pluginv2::RawObject {
        raw: raw.into(),
        content_type: "application/json".into(),
    });
    let converted = client
        .convert_objects(pluginv2::ConversionRequest {
            uid: "u1".into(),
            objects: objects.to_vec(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(converted.uid, "u1");
    assert_eq!(
        converted
            .objects
            .iter()
            .map(|o| o.raw.as_ref())
            .collect::<Vec<_>>(),
        [b"b", b"a"]
    );

    // The script prints it after the handshake, maybe after the calls above.
    assert!(
        plugin
            .stdout()
            .wait_for("stray stdout line", Duration::from_secs(30))
            .await
    );
    assert_eq!(plugin.stdout().lines(), ["stray stdout line"]);
    let stderr = plugin.stderr().clone();
    let status = plugin.shutdown().await.unwrap();
    assert!(status.success(), "{status}");
    assert!(stderr.contains("Plugin shutting down"));
}

#[tokio::test]
async fn a_plugin_that_ignores_shutdown_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let socket = serve_fake_plugin(dir.path()).await;
    // Never looks at the stop file.
    let plugin = script(r#"echo "1|2|unix|$FAKE_SOCKET|grpc|"; exec sleep 30"#)
        .env("FAKE_SOCKET", &socket)
        .launch()
        .await
        .unwrap();
    assert!(plugin.memory_usage().unwrap().resident_bytes > 0);
    let status = plugin.shutdown().await.unwrap();
    assert!(
        !status.success(),
        "a killed process does not exit successfully: {status}"
    );
}

#[tokio::test]
async fn a_malformed_handshake_is_explained_with_stderr() {
    let error = script(r#"echo "config file missing" >&2; echo "Serving on :8080"; sleep 5"#)
        .launch()
        .await
        .unwrap_err();
    let Error::MalformedHandshake {
        line,
        reason,
        stderr_tail,
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!(line, "Serving on :8080");
    assert!(reason.contains("at least 4"), "{reason}");
    assert_eq!(stderr_tail, "config file missing");
}

#[tokio::test]
async fn an_early_exit_reports_status_and_stderr() {
    let error = script(r#"echo "panic: no settings" >&2; exit 3"#)
        .launch()
        .await
        .unwrap_err();
    let Error::EarlyExit {
        status,
        stderr_tail,
    } = &error
    else {
        panic!("{error}")
    };
    assert_eq!(status.code(), Some(3));
    assert_eq!(stderr_tail, "panic: no settings");
    assert!(error.to_string().contains("panic: no settings"));
}

#[tokio::test]
async fn a_silent_plugin_times_out() {
    let error = script("echo starting >&2; sleep 30")
        .start_timeout(Duration::from_millis(300))
        .launch()
        .await
        .unwrap_err();
    let Error::StartTimeout { stderr_tail, .. } = &error else {
        panic!("{error}")
    };
    assert_eq!(stderr_tail, "starting");
}

#[tokio::test]
async fn a_missing_executable_cannot_spawn() {
    let error = PluginLauncher::new("/nonexistent/gpx_plugin")
        .launch()
        .await
        .unwrap_err();
    assert!(matches!(error, Error::Spawn { .. }), "{error}");
}

#[tokio::test]
async fn host_environment_is_inherited_unless_skipped() {
    // cargo sets CARGO_PKG_NAME for the test process; the plugin sees it only when inherited.
    let probe = r#"echo "cargo=${CARGO_PKG_NAME:-unset} cookie=$grafana_plugin_type" >&2; exit 1"#;
    let Error::EarlyExit { stderr_tail, .. } = script(probe).launch().await.unwrap_err() else {
        panic!()
    };
    assert_eq!(stderr_tail, "cargo=plugin-testkit cookie=datasource");
    let Error::EarlyExit { stderr_tail, .. } =
        script(probe).skip_host_env().launch().await.unwrap_err()
    else {
        panic!()
    };
    assert_eq!(stderr_tail, "cargo=unset cookie=datasource");
}

#[tokio::test]
async fn a_plugin_stopped_by_a_signal_is_waited_for() {
    let dir = tempfile::tempdir().unwrap();
    let socket = serve_fake_plugin(dir.path()).await;
    // `wait` returns as soon as the trapped signal arrives; a foreground
    // `sleep` would delay the trap until it ends.
    let body = r#"trap 'echo "got TERM" >&2; exit 7' TERM
echo "1|2|unix|$FAKE_SOCKET|grpc|"
sleep 30 & wait $!"#;
    let mut plugin = script(body)
        .env("FAKE_SOCKET", &socket)
        .launch()
        .await
        .unwrap();
    assert_eq!(
        plugin.handshake_line(),
        format!("1|2|unix|{}|grpc|", socket.display())
    );
    plugin.signal(Signal::Terminate).await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), plugin.wait())
        .await
        .expect("the plugin exits on SIGTERM")
        .unwrap();
    assert_eq!(status.code(), Some(7));
    assert_eq!(plugin.stderr().lines(), ["got TERM"]);
    assert!(plugin.pid().is_none());
    assert!(plugin.signal(Signal::Interrupt).await.is_err());
}

#[tokio::test]
async fn spawn_keeps_all_output_and_env_remove_removes_the_cookie() {
    let probe = r#"echo "cookie=${grafana_plugin_type:-unset}"; echo "refusing" >&2; exit 4"#;
    let mut process = script(probe).env_remove(MAGIC_COOKIE.0).spawn().unwrap();
    let status = tokio::time::timeout(Duration::from_secs(10), process.wait())
        .await
        .expect("the script exits")
        .unwrap();
    assert_eq!(status.code(), Some(4));
    assert_eq!(process.stdout().lines(), ["cookie=unset"]);
    assert_eq!(process.stderr().lines(), ["refusing"]);

    let mut process = script(probe).spawn().unwrap();
    process.wait().await.unwrap();
    assert_eq!(process.stdout().lines(), ["cookie=datasource"]);
}
