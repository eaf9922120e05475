//! The plugin as Grafana sees it: a child process started with go-plugin's
//! environment, called over its socket with a gRPC client.
//!
//! This test target has no libtest harness. Run with
//! `PLUGIN_SERVE_TEST_ROLE=plugin`, the binary *is* a plugin (a data source
//! served by `plugin_serve::datasource::manage`); otherwise it runs the
//! tests, each of which spawns `std::env::current_exe()` as that plugin,
//! and ends with the line `N passed, N failed`.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use plugin_proto::go_plugin::{
    self, grpc_broker_client, grpc_controller_client, grpc_stdio_client,
};
use plugin_proto::pluginv2::{
    self, admission_control_client, data_client, diagnostics_client, resource_client,
    resource_conversion_client, stream_client,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint};

/// The environment variable that makes this binary the plugin.
const ROLE_ENV: &str = "PLUGIN_SERVE_TEST_ROLE";
/// The test plugin's id.
const PLUGIN_ID: &str = "test-plugin";
/// A secret the plugin receives with every request; it must never be logged.
const PLANTED_SECRET: &str = "hunter2-planted-secret";
/// How long a test may take at most.
const TEST_TIMEOUT: Duration = Duration::from_secs(60);

type TestResult = Result<(), String>;
type TestFn = fn() -> Pin<Box<dyn Future<Output = TestResult>>>;

fn main() -> ExitCode {
    if std::env::var(ROLE_ENV).as_deref() == Ok("plugin") {
        return plugin::main();
    }
    let tests: Vec<(&str, TestFn)> = vec![
        ("every_service_answers_over_the_unix_socket", || {
            Box::pin(every_service_answers_over_the_unix_socket())
        }),
        ("without_the_cookie_it_exits_1_with_a_message", || {
            Box::pin(without_the_cookie_it_exits_1_with_a_message())
        }),
        ("shutdown_rpc_lets_a_slow_request_finish", || {
            Box::pin(shutdown_rpc_lets_a_slow_request_finish())
        }),
        ("sigterm_lets_a_slow_request_finish", || {
            Box::pin(sigterm_lets_a_slow_request_finish())
        }),
        ("sigint_is_ignored", || Box::pin(sigint_is_ignored())),
        ("log_lines_parse_with_go_plugins_rules", || {
            Box::pin(log_lines_parse_with_go_plugins_rules())
        }),
        ("buildinfo_and_version_flags", || {
            Box::pin(buildinfo_and_version_flags())
        }),
        ("standalone_files_and_locator", || {
            Box::pin(standalone_files_and_locator())
        }),
        #[cfg(feature = "otel")]
        ("otlp_spans_join_the_trace_in_metadata", || {
            Box::pin(otel_sink::otlp_spans_join_the_trace_in_metadata())
        }),
    ];
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in tests {
        if !filter.is_empty() && !filter.iter().any(|pattern| name.contains(pattern.as_str())) {
            continue;
        }
        let started = Instant::now();
        let result = runtime.block_on(async {
            tokio::time::timeout(TEST_TIMEOUT, test())
                .await
                .unwrap_or_else(|_| Err("timed out".into()))
        });
        match result {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({:.2?})", started.elapsed());
            }
            Err(message) => {
                failed += 1;
                println!("test {name} ... FAILED\n    {message}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Turns anything displayable into a test failure.
trait Context<T> {
    fn context(self, what: &str) -> Result<T, String>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: &str) -> Result<T, String> {
        self.map_err(|err| format!("{what}: {err}"))
    }
}

impl<T> Context<T> for Option<T> {
    fn context(self, what: &str) -> Result<T, String> {
        self.ok_or_else(|| format!("{what}: missing"))
    }
}

macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err(format!($($message)+));
        }
    };
}

// ---------------------------------------------------------------------------
// The plugin side.
// ---------------------------------------------------------------------------

mod plugin {
    use std::process::ExitCode;
    use std::time::Duration;

    use http::StatusCode;
    use plugin_backend::{
        CallResourceHandler, CallResourceRequest, CallResourceResponse, CallResourceResponseSender,
        CheckHealthHandler, CheckHealthRequest, CheckHealthResult, DataResponse, Error, Plugin,
        PublishStreamRequest, PublishStreamResponse, QueryDataHandler, QueryDataRequest,
        QueryDataResponse, RunStreamRequest, StreamHandler, StreamSender, StreamStatus,
        SubscribeStreamRequest, SubscribeStreamResponse,
    };
    use plugin_data::{Field, Frame};
    use plugin_serve::{ManageOptions, ServeOptions};

    /// One data source instance.
    pub(super) struct TestDataSource {
        pub(super) url: String,
    }

    #[derive(serde::Deserialize)]
    struct Query {
        #[serde(default)]
        rows: usize,
        #[serde(default)]
        sleep_ms: u64,
    }

    impl QueryDataHandler for TestDataSource {
        async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
            let mut response = QueryDataResponse::new();
            for query in &request.queries {
                let parsed: Query = query.parse_json()?;
                tracing::debug!(ref_id = %query.ref_id, rows = parsed.rows, "running query");
                tokio::time::sleep(Duration::from_millis(parsed.sleep_ms)).await;
                let values: Vec<f64> = (0..parsed.rows).map(|row| row as f64).collect();
                let ids: Vec<i64> = (0..parsed.rows as i64).collect();
                let frame = Frame::new("series")
                    .with_field(Field::new("id", ids))
                    .with_field(Field::new("value", values));
                response.insert(query.ref_id.clone(), DataResponse::from(frame));
            }
            Ok(response)
        }
    }

    impl CallResourceHandler for TestDataSource {
        async fn call_resource(
            &self,
            request: CallResourceRequest,
            mut sender: CallResourceResponseSender,
        ) -> Result<(), Error> {
            sender
                .send(
                    CallResourceResponse::new(StatusCode::OK)
                        .with_body(format!("path={}", request.path)),
                )
                .await?;
            sender
                .send(CallResourceResponse::body_chunk(request.body))
                .await
        }
    }

    impl CheckHealthHandler for TestDataSource {
        async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
            tracing::info!(url = %self.url, "health check");
            Ok(CheckHealthResult::ok(format!("{} is healthy", self.url)))
        }
    }

    impl StreamHandler for TestDataSource {
        async fn subscribe_stream(
            &self,
            _: SubscribeStreamRequest,
        ) -> Result<SubscribeStreamResponse, Error> {
            Ok(SubscribeStreamResponse::ok())
        }

        async fn publish_stream(
            &self,
            request: PublishStreamRequest,
        ) -> Result<PublishStreamResponse, Error> {
            Ok(PublishStreamResponse::new(StreamStatus::Ok, request.data))
        }

        async fn run_stream(
            &self,
            _: RunStreamRequest,
            mut sender: StreamSender,
        ) -> Result<(), Error> {
            sender.send_json(r#"{"n":1}"#).await?;
            sender.send_json(r#"{"n":2}"#).await
        }
    }

    pub(super) fn main() -> ExitCode {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let result = runtime.block_on(async {
            let options = ManageOptions::new().with_serve_options(
                ServeOptions::new()
                    .with_build_info(plugin_serve::build_info!())
                    .on_shutdown(|| async { tracing::info!("cleanup hook ran") }),
            );
            plugin_serve::datasource::manage(
                super::PLUGIN_ID,
                |settings, _context| async move {
                    let instance = std::sync::Arc::new(TestDataSource {
                        url: settings.url.clone(),
                    });
                    Ok(Plugin::new()
                        .with_query_data(instance.clone())
                        .with_call_resource(instance.clone())
                        .with_check_health(instance.clone())
                        .with_stream(instance))
                },
                options,
            )
            .await
        });
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("plugin failed: {err}");
                ExitCode::FAILURE
            }
        }
    }
}

// ---------------------------------------------------------------------------
// The host side.
// ---------------------------------------------------------------------------

/// A running plugin process.
struct PluginProcess {
    child: Child,
    /// The handshake line.
    handshake: String,
    /// Everything after the handshake on stdout.
    stdout_rest: tokio::task::JoinHandle<String>,
    /// Every stderr line so far.
    stderr: Arc<Mutex<Vec<String>>>,
    _socket_dir: Option<tempfile::TempDir>,
}

/// The environment Grafana gives a plugin (without the host's own).
fn grafana_environment(command: &mut Command, socket_dir: &Path) {
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(ROLE_ENV, "plugin")
        .env("grafana_plugin_type", "datasource")
        .env("PLUGIN_PROTOCOL_VERSIONS", "2")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir)
        .env("GF_VERSION", "12.3.0")
        .env("GF_PLUGIN_LOG_LEVEL", "debug");
}

impl PluginProcess {
    /// Starts the plugin as Grafana does, with `extra` environment, and
    /// reads its handshake.
    async fn start(extra: &[(&str, &str)]) -> Result<PluginProcess, String> {
        let socket_dir = tempfile::tempdir().context("socket dir")?;
        let mut command = Command::new(std::env::current_exe().context("current exe")?);
        grafana_environment(&mut command, socket_dir.path());
        command.envs(extra.iter().copied());
        let mut process = PluginProcess::spawn(command).await?;
        process._socket_dir = Some(socket_dir);
        Ok(process)
    }

    async fn spawn(mut command: Command) -> Result<PluginProcess, String> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().context("spawning the plugin")?;
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut stderr_lines = BufReader::new(child.stderr.take().context("stderr")?).lines();
        let collected = Arc::clone(&stderr);
        tokio::spawn(async move {
            while let Ok(Some(line)) = stderr_lines.next_line().await {
                collected.lock().unwrap().push(line);
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().context("stdout")?);
        let mut handshake = String::new();
        let read =
            tokio::time::timeout(Duration::from_secs(20), stdout.read_line(&mut handshake)).await;
        if !matches!(read, Ok(Ok(n)) if n > 0) {
            return Err(format!(
                "no handshake; stderr: {:?}",
                stderr.lock().unwrap()
            ));
        }
        let stdout_rest = tokio::spawn(async move {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest).await;
            rest
        });
        Ok(PluginProcess {
            child,
            handshake: handshake.trim_end_matches('\n').to_owned(),
            stdout_rest,
            stderr,
            _socket_dir: None,
        })
    }

    /// A gRPC channel to the plugin's socket, as the handshake names it.
    async fn channel(&self) -> Result<Channel, String> {
        connect(&self.handshake).await
    }

    fn pid(&self) -> u32 {
        self.child.id().unwrap_or_default()
    }

    /// Waits for the process to exit; returns its code and how long it took.
    async fn wait(&mut self, limit: Duration) -> Result<(i32, Duration), String> {
        let started = Instant::now();
        let status = tokio::time::timeout(limit, self.child.wait())
            .await
            .map_err(|_| format!("still running after {limit:?}"))?
            .context("waiting for the plugin")?;
        Ok((status.code().unwrap_or(-1), started.elapsed()))
    }

    fn stderr(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }
}

/// Connects to the address of a handshake line (`unix` or `tcp`).
async fn connect(handshake: &str) -> Result<Channel, String> {
    let parts: Vec<&str> = handshake.split('|').collect();
    ensure!(parts.len() >= 5, "malformed handshake {handshake:?}");
    let (network, address) = (parts[2], parts[3].to_owned());
    let channel = match network {
        "unix" => Endpoint::from_static("http://plugin")
            .connect_with_connector(tower::service_fn(move |_: http::Uri| {
                let path = address.clone();
                async move {
                    Ok::<_, std::io::Error>(TokioIo::new(
                        tokio::net::UnixStream::connect(path).await?,
                    ))
                }
            }))
            .await
            .context("connecting over the unix socket")?,
        "tcp" => {
            let address = if address.starts_with(':') {
                format!("127.0.0.1{address}")
            } else {
                address
            };
            Endpoint::from_shared(format!("http://{address}"))
                .context("endpoint")?
                .connect()
                .await
                .context("connecting over TCP")?
        }
        other => return Err(format!("unknown network {other:?}")),
    };
    Ok(channel)
}

/// A plugin context for data source 1, carrying a secret.
fn plugin_context() -> pluginv2::PluginContext {
    pluginv2::PluginContext {
        org_id: 1,
        plugin_id: PLUGIN_ID.into(),
        data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
            id: 1,
            uid: "ds-1".into(),
            name: "Test data source".into(),
            url: "http://db.local".into(),
            json_data: Bytes::from_static(b"{}"),
            decrypted_secure_json_data: HashMap::from([("apiKey".into(), PLANTED_SECRET.into())]),
            last_updated_ms: 1_700_000_000_000,
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn query_request(rows: usize, sleep_ms: u64) -> pluginv2::QueryDataRequest {
    pluginv2::QueryDataRequest {
        plugin_context: Some(plugin_context()),
        queries: vec![pluginv2::DataQuery {
            ref_id: "A".into(),
            json: Bytes::from(format!(r#"{{"rows":{rows},"sleep_ms":{sleep_ms}}}"#)),
            time_range: Some(pluginv2::TimeRange {
                from_epoch_ms: 1_700_000_000_000,
                to_epoch_ms: 1_700_000_060_000,
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Asks the plugin to shut down, as go-plugin's `Kill` does.
async fn shutdown(channel: &Channel) -> TestResult {
    grpc_controller_client::GrpcControllerClient::new(channel.clone())
        .shutdown(go_plugin::Empty {})
        .await
        .context("Shutdown")?;
    Ok(())
}

/// Sends `signal` (a `kill` name, e.g. `TERM`) to `pid`.
async fn send_signal(pid: u32, signal: &str) -> TestResult {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .await
        .context("kill")?;
    ensure!(status.success(), "kill -{signal} {pid} failed");
    Ok(())
}

async fn every_service_answers_over_the_unix_socket() -> TestResult {
    let mut plugin = PluginProcess::start(&[]).await?;
    let parts: Vec<&str> = plugin.handshake.split('|').collect();
    ensure!(
        parts.len() == 6
            && parts[..3] == ["1", "2", "unix"]
            && parts[4] == "grpc"
            && parts[5].is_empty(),
        "handshake {:?}",
        plugin.handshake
    );
    let socket = PathBuf::from(parts[3]);
    ensure!(socket.exists(), "socket {socket:?} missing");
    let channel = plugin.channel().await?;

    // go-plugin's host opens these two streams at once and keeps them.
    let mut stdio = grpc_stdio_client::GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .context("StreamStdio")?
        .into_inner();
    let mut broker = grpc_broker_client::GrpcBrokerClient::new(channel.clone())
        .start_stream(futures_util::stream::pending::<go_plugin::ConnInfo>())
        .await
        .context("StartStream")?
        .into_inner();

    let health = tonic_health::pb::health_client::HealthClient::new(channel.clone())
        .check(tonic_health::pb::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .context("Health/Check")?
        .into_inner();
    ensure!(
        health.status == tonic_health::pb::health_check_response::ServingStatus::Serving as i32,
        "health {health:?}"
    );

    let mut data = data_client::DataClient::new(channel.clone());
    let response = data
        .query_data(query_request(1000, 0))
        .await
        .context("QueryData")?
        .into_inner();
    let answer = response.responses.get("A").context("response A")?;
    ensure!(
        answer.error.is_empty() && answer.frames.len() == 1,
        "QueryData answer {:?}",
        answer.error
    );
    let frame =
        plugin_data::Frame::from_arrow_ipc(&answer.frames[0]).context("decoding the frame")?;
    let rows = frame.num_rows().context("rows")?;
    ensure!(rows == 1000, "{rows} rows");

    // Without a chunked handler the instance answers `Unimplemented`, as Go's
    // automanagement does (internal/automanagement/manager.go).
    let chunked = data
        .query_chunked_data(pluginv2::QueryChunkedDataRequest {
            plugin_context: Some(plugin_context()),
            queries: query_request(1, 0).queries,
            ..Default::default()
        })
        .await;
    let unimplemented = match chunked {
        Err(status) => status.code(),
        Ok(response) => match response.into_inner().message().await {
            Err(status) => status.code(),
            Ok(message) => return Err(format!("chunked without a handler answered {message:?}")),
        },
    };
    ensure!(
        unimplemented == tonic::Code::Unimplemented,
        "chunked without a handler: {unimplemented:?}"
    );

    let mut resource = resource_client::ResourceClient::new(channel.clone())
        .call_resource(pluginv2::CallResourceRequest {
            plugin_context: Some(plugin_context()),
            path: "echo".into(),
            method: "POST".into(),
            body: Bytes::from_static(b"hello"),
            ..Default::default()
        })
        .await
        .context("CallResource")?
        .into_inner();
    let first = resource
        .message()
        .await
        .context("first")?
        .context("a first message")?;
    let second = resource
        .message()
        .await
        .context("second")?
        .context("a second message")?;
    ensure!(
        first.code == 200 && first.body == "path=echo" && second.body == "hello",
        "resource {first:?} {second:?}"
    );
    ensure!(
        resource.message().await.context("end")?.is_none(),
        "more resource messages"
    );

    let mut diagnostics = diagnostics_client::DiagnosticsClient::new(channel.clone());
    let health = diagnostics
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(plugin_context()),
            ..Default::default()
        })
        .await
        .context("CheckHealth")?
        .into_inner();
    ensure!(
        health.status == 1 && health.message == "http://db.local is healthy",
        "CheckHealth {health:?}"
    );
    let metrics = diagnostics
        .collect_metrics(pluginv2::CollectMetricsRequest {
            plugin_context: Some(plugin_context()),
        })
        .await
        .context("CollectMetrics")?
        .into_inner();
    let text =
        String::from_utf8_lossy(&metrics.metrics.context("payload")?.prometheus).into_owned();
    ensure!(
        text.contains(r#"grpc_server_handled_total{grpc_code="OK",grpc_method="QueryData",grpc_service="pluginv2.Data",grpc_type="unary"} 1"#),
        "metrics lack the QueryData count:\n{text}"
    );
    ensure!(
        text.contains("grpc_server_handling_seconds_bucket"),
        "metrics lack the histogram"
    );
    // Registered on first use, and still reported: the handler middleware's
    // request count and instance management's gauge.
    ensure!(
        text.contains(r#"grafana_plugin_request_total{endpoint="queryData",status="ok",status_source="plugin"} 1"#),
        "metrics lack the plugin request count:\n{text}"
    );
    ensure!(
        text.contains("\nplugins_active_instances 1\n"),
        "metrics lack the active instances:\n{text}"
    );

    let mut stream = stream_client::StreamClient::new(channel.clone());
    let subscribed = stream
        .subscribe_stream(pluginv2::SubscribeStreamRequest {
            plugin_context: Some(plugin_context()),
            path: "p".into(),
            ..Default::default()
        })
        .await
        .context("SubscribeStream")?
        .into_inner();
    ensure!(subscribed.status == 0, "SubscribeStream {subscribed:?}");
    let mut packets = stream
        .run_stream(pluginv2::RunStreamRequest {
            plugin_context: Some(plugin_context()),
            path: "p".into(),
            ..Default::default()
        })
        .await
        .context("RunStream")?
        .into_inner();
    let mut received = Vec::new();
    while let Some(packet) = packets.message().await.context("packet")? {
        received.push(packet.data);
    }
    ensure!(
        received
            == [
                Bytes::from_static(br#"{"n":1}"#),
                Bytes::from_static(br#"{"n":2}"#)
            ],
        "packets {received:?}"
    );
    let published = stream
        .publish_stream(pluginv2::PublishStreamRequest {
            plugin_context: Some(plugin_context()),
            path: "p".into(),
            data: Bytes::from_static(b"{}"),
            ..Default::default()
        })
        .await
        .context("PublishStream")?
        .into_inner();
    ensure!(published.data == "{}", "PublishStream {published:?}");

    let admission = admission_control_client::AdmissionControlClient::new(channel.clone())
        .validate_admission(pluginv2::AdmissionRequest {
            plugin_context: Some(plugin_context()),
            kind: Some(pluginv2::GroupVersionKind::default()),
            ..Default::default()
        })
        .await;
    ensure!(
        matches!(&admission, Err(status) if status.code() == tonic::Code::Unimplemented),
        "admission {admission:?}"
    );
    let conversion = resource_conversion_client::ResourceConversionClient::new(channel.clone())
        .convert_objects(pluginv2::ConversionRequest {
            plugin_context: Some(plugin_context()),
            target_version: Some(pluginv2::GroupVersion::default()),
            ..Default::default()
        })
        .await;
    ensure!(
        matches!(&conversion, Err(status) if status.code() == tonic::Code::Unimplemented),
        "conversion {conversion:?}"
    );

    // A malformed request is an error status, and the plugin lives on.
    let malformed = data.query_data(pluginv2::QueryDataRequest::default()).await;
    ensure!(
        matches!(&malformed, Err(status) if status.code() == tonic::Code::InvalidArgument),
        "malformed {malformed:?}"
    );

    shutdown(&channel).await?;
    ensure!(
        stdio.message().await.context("stdio end")?.is_none(),
        "stdio sent data"
    );
    ensure!(
        matches!(broker.message().await, Ok(None) | Err(_)),
        "broker sent data"
    );
    let (code, took) = plugin.wait(Duration::from_secs(3)).await?;
    ensure!(code == 0, "exit code {code}");
    ensure!(took < Duration::from_secs(2), "took {took:?} to exit");
    let rest = (&mut plugin.stdout_rest).await.context("stdout")?;
    ensure!(rest.is_empty(), "stdout after the handshake: {rest:?}");
    ensure!(!socket.exists(), "the socket file was not removed");
    let stderr = plugin.stderr().join("\n");
    ensure!(
        !stderr.contains(PLANTED_SECRET),
        "the secret reached the log"
    );
    Ok(())
}

async fn without_the_cookie_it_exits_1_with_a_message() -> TestResult {
    let socket_dir = tempfile::tempdir().context("dir")?;
    let mut command = Command::new(std::env::current_exe().context("exe")?);
    grafana_environment(&mut command, socket_dir.path());
    command.env_remove("grafana_plugin_type");
    let output = tokio::time::timeout(Duration::from_secs(20), command.output())
        .await
        .context("timeout")?
        .context("run")?;
    ensure!(
        output.status.code() == Some(1),
        "exit status {:?}",
        output.status
    );
    ensure!(
        output.stdout.is_empty(),
        "stdout {:?}",
        String::from_utf8_lossy(&output.stdout)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    ensure!(
        stderr.contains("This binary is a Grafana plugin"),
        "stderr {stderr:?}"
    );
    ensure!(
        std::fs::read_dir(socket_dir.path())
            .context("socket dir")?
            .next()
            .is_none(),
        "a socket was created"
    );
    Ok(())
}

/// Starts a slow query, stops the plugin with `stop` while it runs, and
/// checks that the query completes and the plugin exits 0 within 2 s.
async fn slow_request_survives(
    stop: impl AsyncFnOnce(&PluginProcess, &Channel) -> TestResult,
) -> Result<PluginProcess, String> {
    let mut plugin = PluginProcess::start(&[]).await?;
    let channel = plugin.channel().await?;
    let mut data = data_client::DataClient::new(channel.clone());
    let slow = tokio::spawn(async move { data.query_data(query_request(10, 800)).await });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stopping = Instant::now();
    stop(&plugin, &channel).await?;
    let answer = slow
        .await
        .context("join")?
        .context("the slow query")?
        .into_inner();
    ensure!(
        answer
            .responses
            .get("A")
            .is_some_and(|a| a.frames.len() == 1),
        "slow query answer {answer:?}"
    );
    let (code, _) = plugin.wait(Duration::from_secs(3)).await?;
    let took = stopping.elapsed();
    ensure!(code == 0, "exit code {code}; stderr {:?}", plugin.stderr());
    ensure!(
        took < Duration::from_secs(2),
        "took {took:?} from stop to exit"
    );
    // New requests are refused once stopping.
    let refused = data_client::DataClient::new(channel)
        .query_data(query_request(1, 0))
        .await;
    ensure!(refused.is_err(), "a request after shutdown succeeded");
    Ok(plugin)
}

async fn shutdown_rpc_lets_a_slow_request_finish() -> TestResult {
    slow_request_survives(async |_, channel| shutdown(channel).await)
        .await
        .map(drop)
}

async fn sigterm_lets_a_slow_request_finish() -> TestResult {
    let plugin =
        slow_request_survives(async |plugin, _| send_signal(plugin.pid(), "TERM").await).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stderr = plugin.stderr().join("\n");
    ensure!(
        stderr.contains("cleanup hook ran"),
        "the cleanup hook did not run: {stderr}"
    );
    Ok(())
}

async fn sigint_is_ignored() -> TestResult {
    let mut plugin = PluginProcess::start(&[]).await?;
    let channel = plugin.channel().await?;
    send_signal(plugin.pid(), "INT").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let health = diagnostics_client::DiagnosticsClient::new(channel.clone())
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(plugin_context()),
            ..Default::default()
        })
        .await;
    ensure!(health.is_ok(), "the plugin stopped on SIGINT: {health:?}");
    shutdown(&channel).await?;
    let (code, _) = plugin.wait(Duration::from_secs(3)).await?;
    ensure!(code == 0, "exit code {code}");
    Ok(())
}

async fn log_lines_parse_with_go_plugins_rules() -> TestResult {
    let mut plugin = PluginProcess::start(&[]).await?;
    let channel = plugin.channel().await?;
    diagnostics_client::DiagnosticsClient::new(channel.clone())
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(plugin_context()),
            ..Default::default()
        })
        .await
        .context("CheckHealth")?;
    shutdown(&channel).await?;
    plugin.wait(Duration::from_secs(3)).await?;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let lines = plugin.stderr();
    ensure!(!lines.is_empty(), "no log lines");
    let mut saw_health = false;
    for line in &lines {
        let entry = go_plugin_log_entry(line).map_err(|err| format!("{err}: {line}"))?;
        saw_health |= entry.message == "health check"
            && entry.level == "info"
            && entry
                .fields
                .get("url")
                .is_some_and(|url| url == "http://db.local");
        ensure!(
            !line.contains(PLANTED_SECRET),
            "the secret reached the log: {line}"
        );
    }
    ensure!(saw_health, "no health check line in {lines:#?}");
    Ok(())
}

/// A log line as go-plugin's `parseJSON` reads it.
#[derive(Debug)]
struct LogEntry {
    message: String,
    level: String,
    fields: serde_json::Map<String, serde_json::Value>,
}

/// Parses `line` with go-plugin's rules (`log_entry.go`): a JSON object
/// whose `@message` and `@level` are strings (the host type-asserts them)
/// and whose `@timestamp` parses with `2006-01-02T15:04:05.000000Z07:00`.
fn go_plugin_log_entry(line: &str) -> Result<LogEntry, String> {
    let mut object: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(line).context("not a JSON object")?;
    let message = object
        .remove("@message")
        .context("@message")?
        .as_str()
        .context("@message is a string")?
        .to_owned();
    let level = object
        .remove("@level")
        .context("@level")?
        .as_str()
        .context("@level is a string")?
        .to_owned();
    ensure!(
        ["trace", "debug", "info", "warn", "error"].contains(&level.as_str()),
        "level {level:?}"
    );
    let timestamp = object.remove("@timestamp").context("@timestamp")?;
    let timestamp = timestamp.as_str().context("@timestamp is a string")?;
    ensure!(
        matches_go_layout(timestamp),
        "timestamp {timestamp:?} does not parse with go-plugin's layout"
    );
    Ok(LogEntry {
        message,
        level,
        fields: object,
    })
}

/// Whether `text` parses with Go's `2006-01-02T15:04:05.000000Z07:00`:
/// exactly six fractional digits, then `Z` or `±hh:mm`.
fn matches_go_layout(text: &str) -> bool {
    let bytes = text.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        bytes
            .get(range)
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    let fixed = bytes.len() >= 27
        && digits(0..4)
        && bytes[4] == b'-'
        && digits(5..7)
        && bytes[7] == b'-'
        && digits(8..10)
        && bytes[10] == b'T'
        && digits(11..13)
        && bytes[13] == b':'
        && digits(14..16)
        && bytes[16] == b':'
        && digits(17..19)
        && bytes[19] == b'.'
        && digits(20..26);
    let zone = &text[26.min(text.len())..];
    let zone_ok = zone == "Z"
        || (zone.len() == 6
            && (zone.starts_with('+') || zone.starts_with('-'))
            && digits(27..29)
            && bytes[29] == b':'
            && digits(30..32));
    fixed && zone_ok && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}

async fn buildinfo_and_version_flags() -> TestResult {
    let exe = std::env::current_exe().context("exe")?;
    let output = Command::new(&exe)
        .env_clear()
        .env(ROLE_ENV, "plugin")
        .arg("-buildinfo")
        .output()
        .await
        .context("run")?;
    ensure!(output.status.success(), "-buildinfo failed");
    let info: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("build info JSON")?;
    ensure!(
        info["pluginID"] == "plugin-serve" && info["version"].is_string(),
        "build info {info}"
    );
    let output = Command::new(&exe)
        .env_clear()
        .env(ROLE_ENV, "plugin")
        .arg("-version")
        .output()
        .await
        .context("run")?;
    ensure!(
        String::from_utf8_lossy(&output.stdout).trim() == env!("CARGO_PKG_VERSION"),
        "version {output:?}"
    );
    Ok(())
}

async fn standalone_files_and_locator() -> TestResult {
    let plugin_dir = tempfile::tempdir().context("plugin dir")?;
    std::fs::write(
        plugin_dir.path().join("plugin.json"),
        format!(r#"{{"id":"{PLUGIN_ID}","executable":"gpx_plugin_serve_test_not_running"}}"#),
    )
    .context("plugin.json")?;

    // The developer's copy: no go-plugin environment, `-standalone`.
    let mut command = Command::new(std::env::current_exe().context("exe")?);
    command
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env(ROLE_ENV, "plugin")
        .arg("-standalone")
        .current_dir(plugin_dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut server = command.spawn().context("standalone")?;
    let address_file = plugin_dir.path().join("standalone.txt");
    let pid_file = plugin_dir.path().join("pid.txt");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(address_file.exists() && pid_file.exists()) {
        ensure!(
            Instant::now() < deadline,
            "standalone.txt and pid.txt were not written"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let address = std::fs::read_to_string(&address_file).context("standalone.txt")?;
    let pid = std::fs::read_to_string(&pid_file).context("pid.txt")?;
    ensure!(
        pid == server.id().unwrap_or_default().to_string(),
        "pid.txt {pid:?}"
    );
    ensure!(address.starts_with(':'), "address {address:?}");

    // Grafana's copy becomes a locator pointing at it.
    let socket_dir = tempfile::tempdir().context("socket dir")?;
    let mut command = Command::new(std::env::current_exe().context("exe")?);
    grafana_environment(&mut command, socket_dir.path());
    command.env("GF_PLUGIN_GRPC_ADDRESS_TEST_PLUGIN", &address);
    let mut locator = PluginProcess::spawn(command).await?;
    ensure!(
        locator.handshake == format!("1|2|tcp|{address}|grpc"),
        "locator printed {:?}",
        locator.handshake
    );

    // Grafana talks to the standalone server through the locator's line.
    let channel = connect(&locator.handshake).await?;
    let health = diagnostics_client::DiagnosticsClient::new(channel.clone())
        .check_health(pluginv2::CheckHealthRequest {
            plugin_context: Some(plugin_context()),
            ..Default::default()
        })
        .await
        .context("CheckHealth on the standalone server")?
        .into_inner();
    ensure!(health.status == 1, "health {health:?}");
    // ...and its Shutdown call must not stop the developer's server.
    let refused = grpc_controller_client::GrpcControllerClient::new(channel)
        .shutdown(go_plugin::Empty {})
        .await;
    ensure!(
        matches!(&refused, Err(status) if status.code() == tonic::Code::Unimplemented),
        "Shutdown {refused:?}"
    );

    send_signal(locator.pid(), "TERM").await?;
    let (code, _) = locator.wait(Duration::from_secs(3)).await?;
    ensure!(code == 0, "locator exit code {code}");

    send_signal(server.id().unwrap_or_default(), "INT").await?;
    let status = tokio::time::timeout(Duration::from_secs(3), server.wait())
        .await
        .context("standalone exit")?
        .context("wait")?;
    ensure!(status.code() == Some(0), "standalone exit {status:?}");
    ensure!(
        !address_file.exists() && !pid_file.exists(),
        "the standalone files were not removed"
    );
    Ok(())
}

#[cfg(feature = "otel")]
mod otel_sink {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use opentelemetry_proto::tonic::trace::v1::Span;
    use plugin_proto::pluginv2::{self, diagnostics_client};

    use super::{Context, PluginProcess, TestResult, plugin_context, shutdown};

    /// An OTLP collector keeping every span it receives.
    #[derive(Clone, Default)]
    struct Sink {
        spans: Arc<Mutex<Vec<Span>>>,
    }

    #[tonic::async_trait]
    impl TraceService for Sink {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let mut spans = self.spans.lock().unwrap();
            for resource in request.into_inner().resource_spans {
                for scope in resource.scope_spans {
                    spans.extend(scope.spans);
                }
            }
            Ok(tonic::Response::new(ExportTraceServiceResponse {
                partial_success: None,
            }))
        }
    }

    pub(super) async fn otlp_spans_join_the_trace_in_metadata() -> TestResult {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("bind")?;
        let address = listener.local_addr().context("address")?;
        let sink = Sink::default();
        let server = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(sink.clone()))
                .serve_with_incoming(tokio_stream_incoming(listener)),
        );

        let address = address.to_string();
        let mut plugin = PluginProcess::start(&[
            ("GF_INSTANCE_OTLP_ADDRESS", address.as_str()),
            ("GF_INSTANCE_OTLP_PROPAGATION", "w3c"),
            ("GF_INSTANCE_OTLP_SAMPLER_TYPE", "const"),
            ("GF_INSTANCE_OTLP_SAMPLER_PARAM", "1.000000"),
        ])
        .await?;
        let channel = plugin.channel().await?;
        let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
        let parent_span_id = "00f067aa0ba902b7";
        let mut request = tonic::Request::new(pluginv2::CheckHealthRequest {
            plugin_context: Some(plugin_context()),
            ..Default::default()
        });
        request.metadata_mut().insert(
            "traceparent",
            format!("00-{trace_id}-{parent_span_id}-01")
                .parse()
                .context("metadata")?,
        );
        diagnostics_client::DiagnosticsClient::new(channel.clone())
            .check_health(request)
            .await
            .context("CheckHealth")?;
        shutdown(&channel).await?;
        let (code, _) = plugin.wait(Duration::from_secs(3)).await?;
        ensure!(code == 0, "exit code {code}");

        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let joined = sink.spans.lock().unwrap().iter().any(|span| {
                hex(&span.trace_id) == trace_id
                    && hex(&span.parent_span_id) == parent_span_id
                    && span.name == "pluginv2.Diagnostics/CheckHealth"
            });
            if joined {
                break;
            }
            if Instant::now() > deadline {
                let names: Vec<String> = sink
                    .spans
                    .lock()
                    .unwrap()
                    .iter()
                    .map(|span| {
                        format!(
                            "{} trace={} parent={}",
                            span.name,
                            hex(&span.trace_id),
                            hex(&span.parent_span_id)
                        )
                    })
                    .collect();
                return Err(format!(
                    "no span joined the trace; received {names:?}; stderr {:?}",
                    plugin.stderr()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server.abort();
        Ok(())
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    fn tokio_stream_incoming(
        listener: tokio::net::TcpListener,
    ) -> impl tonic::codegen::tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>>
    {
        futures_util::stream::unfold(listener, |listener| async move {
            let accepted = listener.accept().await.map(|(stream, _)| stream);
            Some((accepted, listener))
        })
    }
}
