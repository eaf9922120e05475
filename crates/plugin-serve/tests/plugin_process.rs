//! The plugin as Grafana sees it: a child process started with go-plugin's
//! environment by plugin-testkit's [`PluginLauncher`], called over the
//! socket its handshake names, stopped by `Shutdown` or a signal.
//!
//! The plugin is `tests/bin/process_plugin.rs`, a data source served by
//! `plugin_serve::datasource::manage`. It is a test-only `[[example]]`
//! rather than a `[[bin]]`, so it is never installed with the crate; and
//! since Cargo hands integration tests the path of binaries only
//! (`CARGO_BIN_EXE_*`), the first test to need it builds it with
//! `cargo build --example`, with this crate's features and profile
//! (a no-op after `cargo test`, which builds examples anyway), and takes
//! the path from Cargo's JSON messages.
//!
//! Nothing here sleeps to synchronise: each step waits for an event (the
//! handshake, a log line, an answer, the exit), under [`GUARD`] as a
//! failure bound only.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use plugin_backend::{HealthStatus, StreamStatus};
use plugin_proto::go_plugin::{
    self, grpc_broker_client::GrpcBrokerClient, grpc_stdio_client::GrpcStdioClient,
};
use plugin_proto::pluginv2::{self, resource_client::ResourceClient};
use plugin_testkit::{
    Error, LogEntry, PluginAddress, PluginLauncher, RunningPlugin, SHUTDOWN_GRACE, Signal,
};
use tonic::Code;

/// The plugin's id, as in its `plugin.json`.
const PLUGIN_ID: &str = "test-plugin";
/// A secret the plugin receives with every request; it must never be logged.
const PLANTED_SECRET: &str = "hunter2-planted-secret";
/// The longest any awaited event may take before the test fails.
const GUARD: Duration = Duration::from_secs(30);

/// Awaits `future`, failing the test when it takes longer than [`GUARD`].
async fn guarded<T>(what: &str, future: impl Future<Output = T>) -> T {
    tokio::time::timeout(GUARD, future)
        .await
        .unwrap_or_else(|_| panic!("{what}: nothing after {GUARD:?}"))
}

/// The test plugin's executable, built once per test run.
fn plugin_executable() -> &'static Path {
    static EXECUTABLE: OnceLock<PathBuf> = OnceLock::new();
    EXECUTABLE.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = std::process::Command::new(cargo);
        command
            .args(["build", "--quiet", "--example", "process_plugin"])
            // Artifacts as JSON on stdout, compiler errors as text on stderr.
            .arg("--message-format=json-render-diagnostics")
            .arg("--manifest-path")
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"));
        let features: Vec<&str> = [
            ("otel", cfg!(feature = "otel")),
            ("pprof", cfg!(feature = "pprof")),
        ]
        .into_iter()
        .filter_map(|(feature, enabled)| enabled.then_some(feature))
        .collect();
        if !features.is_empty() {
            command.arg("--features").arg(features.join(","));
        }
        if !cfg!(debug_assertions) {
            command.arg("--release");
        }
        let output = command
            .stderr(Stdio::inherit())
            .output()
            .expect("running cargo");
        assert!(output.status.success(), "building the test plugin failed");
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|message| {
                message["reason"] == "compiler-artifact"
                    && message["target"]["name"] == "process_plugin"
            })
            .and_then(|artifact| artifact["executable"].as_str().map(PathBuf::from))
            .expect("cargo names the test plugin's executable")
    })
}

/// The test plugin as Grafana starts it, logging at debug level.
fn launcher() -> PluginLauncher {
    PluginLauncher::new(plugin_executable()).plugin_setting("log_level", "debug")
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

fn health_request() -> pluginv2::CheckHealthRequest {
    pluginv2::CheckHealthRequest {
        plugin_context: Some(plugin_context()),
        ..Default::default()
    }
}

/// The gRPC code of a call that must fail.
fn code_of<T: std::fmt::Debug>(result: Result<T, Error>) -> Code {
    match result {
        Err(Error::Rpc(status)) => status.code(),
        other => panic!("expected a gRPC error, got {other:?}"),
    }
}

/// Waits until the plugin's log has a line containing `text`.
async fn log_line(plugin: &RunningPlugin, text: &str) {
    let seen = plugin.stderr().wait_for(text, GUARD).await;
    assert!(
        seen,
        "no log line with {text:?}: {:#?}",
        plugin.stderr().lines()
    );
}

/// Waits for the plugin to exit by itself; returns its exit code.
async fn exit_code(plugin: &mut RunningPlugin) -> Option<i32> {
    guarded("exit", plugin.wait()).await.unwrap().code()
}

#[tokio::test]
async fn every_service_answers_over_the_unix_socket() {
    let mut plugin = launcher().launch().await.unwrap();
    let PluginAddress::Unix(socket) = plugin.handshake().address.clone() else {
        panic!("not a unix socket: {}", plugin.handshake_line());
    };
    assert_eq!(
        plugin.handshake_line(),
        format!("1|2|unix|{}|grpc|", socket.display())
    );
    assert!(socket.exists(), "socket {socket:?} missing");
    let client = plugin.client().clone();
    let channel = client.channel().clone();

    // go-plugin's host opens these two streams at once and keeps them.
    let mut stdio = GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    let mut broker = GrpcBrokerClient::new(channel.clone())
        .start_stream(futures_util::stream::pending::<go_plugin::ConnInfo>())
        .await
        .unwrap()
        .into_inner();
    client.ping().await.unwrap();

    let response = client.query_data(query_request(1000, 0)).await.unwrap();
    let answer = &response.responses["A"];
    assert!(answer.error.is_none(), "{:?}", answer.error);
    assert_eq!(answer.frames.len(), 1);
    assert_eq!(answer.frames[0].num_rows().unwrap(), 1000);

    // Without a chunked handler the instance answers `Unimplemented`, as Go's
    // automanagement does (internal/automanagement/manager.go).
    let chunked = pluginv2::QueryChunkedDataRequest {
        plugin_context: Some(plugin_context()),
        queries: query_request(1, 0).queries,
        ..Default::default()
    };
    let chunks = client.query_chunked_data_chunks(chunked).await;
    assert_eq!(code_of(chunks), Code::Unimplemented);

    // Raw, to see the plugin's two messages rather than their concatenation.
    let mut resource = ResourceClient::new(channel.clone())
        .call_resource(pluginv2::CallResourceRequest {
            plugin_context: Some(plugin_context()),
            path: "echo".into(),
            method: "POST".into(),
            body: Bytes::from_static(b"hello"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let first = resource.message().await.unwrap().expect("a first message");
    let second = resource.message().await.unwrap().expect("a second message");
    assert_eq!((first.code, first.body.as_ref()), (200, &b"path=echo"[..]));
    assert_eq!(second.body, "hello");
    assert!(resource.message().await.unwrap().is_none());

    let health = client.check_health(health_request()).await.unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.message, "http://db.local is healthy");

    let metrics = client
        .collect_metrics(pluginv2::CollectMetricsRequest {
            plugin_context: Some(plugin_context()),
        })
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&metrics.prometheus_metrics);
    for expected in [
        r#"grpc_server_handled_total{grpc_code="OK",grpc_method="QueryData",grpc_service="pluginv2.Data",grpc_type="unary"} 1"#,
        "grpc_server_handling_seconds_bucket",
        // Registered on first use, and still reported: the handler
        // middleware's request count and instance management's gauge.
        r#"grafana_plugin_request_total{endpoint="queryData",status="ok",status_source="plugin"} 1"#,
        "\nplugins_active_instances 1\n",
    ] {
        assert!(text.contains(expected), "no {expected:?} in:\n{text}");
    }

    let subscribed = client
        .subscribe_stream(pluginv2::SubscribeStreamRequest {
            plugin_context: Some(plugin_context()),
            path: "p".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(subscribed.status, StreamStatus::Ok);
    let mut packets = client
        .run_stream(pluginv2::RunStreamRequest {
            plugin_context: Some(plugin_context()),
            path: "p".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut received = Vec::new();
    while let Some(packet) = packets.next_packet().await.unwrap() {
        received.push(packet.data);
    }
    assert_eq!(received, [&br#"{"n":1}"#[..], &br#"{"n":2}"#[..]]);
    let published = client
        .publish_stream(pluginv2::PublishStreamRequest {
            plugin_context: Some(plugin_context()),
            path: "p".into(),
            data: Bytes::from_static(b"{}"),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(published.data, "{}");

    let admission = client
        .validate_admission(pluginv2::AdmissionRequest {
            plugin_context: Some(plugin_context()),
            kind: Some(pluginv2::GroupVersionKind::default()),
            ..Default::default()
        })
        .await;
    assert_eq!(code_of(admission), Code::Unimplemented);
    let conversion = client
        .convert_objects(pluginv2::ConversionRequest {
            plugin_context: Some(plugin_context()),
            target_version: Some(pluginv2::GroupVersion::default()),
            ..Default::default()
        })
        .await;
    assert_eq!(code_of(conversion), Code::Unimplemented);

    // A malformed request is an error status, and the plugin lives on.
    let malformed = client
        .query_data_message(pluginv2::QueryDataRequest::default())
        .await;
    assert_eq!(code_of(malformed), Code::InvalidArgument);

    let stopping = Instant::now();
    client.shutdown().await.unwrap();
    assert!(guarded("stdio", stdio.message()).await.unwrap().is_none());
    let broker_end = guarded("broker", broker.message()).await;
    assert!(matches!(broker_end, Ok(None) | Err(_)), "{broker_end:?}");
    assert_eq!(exit_code(&mut plugin).await, Some(0));
    let took = stopping.elapsed();
    assert!(took < SHUTDOWN_GRACE, "took {took:?} to exit");
    assert_eq!(plugin.stdout().lines(), Vec::<String>::new());
    assert!(!socket.exists(), "the socket file was not removed");
    assert!(!plugin.stderr().contains(PLANTED_SECRET));
}

#[tokio::test]
async fn without_the_cookie_it_exits_1_with_a_message() {
    let socket_dir = tempfile::tempdir().unwrap();
    let mut process = launcher()
        .env_remove("grafana_plugin_type")
        .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir.path())
        .spawn()
        .unwrap();
    let status = guarded("exit", process.wait()).await.unwrap();
    assert_eq!(status.code(), Some(1));
    assert_eq!(process.stdout().lines(), Vec::<String>::new());
    // go-plugin's refusal (server.go, `Serve`), in plugin-serve's words.
    let message = plugin_serve::handshake::NOT_A_PLUGIN_HOST_MESSAGE;
    assert!(
        process.stderr().contains(message),
        "{:?}",
        process.stderr().lines()
    );
    let created: Vec<_> = std::fs::read_dir(socket_dir.path()).unwrap().collect();
    assert!(created.is_empty(), "a socket was created: {created:?}");
}

/// Starts a slow query, stops the plugin with `stop` while it runs, and
/// checks that the query completes after the stop was taken in (log line
/// `stopped`), and that the plugin exits 0 before Grafana would kill it.
async fn slow_request_survives(
    stop: impl AsyncFnOnce(&RunningPlugin),
    stopped: &str,
) -> RunningPlugin {
    let mut plugin = launcher().launch().await.unwrap();
    let client = plugin.client().clone();
    let slow = tokio::spawn(async move { client.query_data(query_request(10, 800)).await });
    log_line(&plugin, "running query").await;

    let stopping = Instant::now();
    stop(&plugin).await;
    let answer = guarded("the slow query", slow).await.unwrap().unwrap();
    assert_eq!(answer.responses["A"].frames.len(), 1, "{answer:?}");
    assert_eq!(exit_code(&mut plugin).await, Some(0));
    let took = stopping.elapsed();
    assert!(took < SHUTDOWN_GRACE, "took {took:?} from stop to exit");

    // The query finished after the plugin had begun to stop.
    let lines = plugin.stderr().lines();
    let position = |text: &str| lines.iter().position(|line| line.contains(text));
    let (stop_at, done_at) = (position(stopped), position("Plugin Request Completed"));
    assert!(
        matches!((stop_at, done_at), (Some(stop), Some(done)) if stop < done),
        "{lines:#?}"
    );
    assert!(plugin.stderr().contains("cleanup hook ran"), "{lines:#?}");
    // New requests are refused once stopped.
    assert!(
        plugin
            .client()
            .query_data(query_request(1, 0))
            .await
            .is_err()
    );
    plugin
}

#[tokio::test]
async fn shutdown_rpc_lets_a_slow_request_finish() {
    slow_request_survives(
        async |plugin| plugin.client().shutdown().await.unwrap(),
        "the host asked the plugin to shut down",
    )
    .await;
}

#[tokio::test]
async fn sigterm_lets_a_slow_request_finish() {
    slow_request_survives(
        async |plugin| plugin.signal(Signal::Terminate).await.unwrap(),
        "received SIGTERM, shutting down",
    )
    .await;
}

#[tokio::test]
async fn sigint_is_ignored() {
    // The trace line is the plugin's word that it saw the signal.
    let mut plugin = launcher()
        .plugin_setting("log_level", "trace")
        .launch()
        .await
        .unwrap();
    plugin.signal(Signal::Interrupt).await.unwrap();
    log_line(&plugin, "received SIGINT, ignoring it").await;
    let health = plugin.client().check_health(health_request()).await;
    assert!(health.is_ok(), "the plugin stopped on SIGINT: {health:?}");
    plugin.client().shutdown().await.unwrap();
    assert_eq!(exit_code(&mut plugin).await, Some(0));
}

#[tokio::test]
async fn log_lines_parse_with_go_plugins_rules() {
    let mut plugin = launcher().launch().await.unwrap();
    plugin
        .client()
        .check_health(health_request())
        .await
        .unwrap();
    plugin.client().shutdown().await.unwrap();
    assert_eq!(exit_code(&mut plugin).await, Some(0));

    let lines = plugin.stderr().lines();
    let entries: Vec<LogEntry> = lines
        .iter()
        .map(|line| LogEntry::parse_strict(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect();
    assert!(
        entries.iter().any(|entry| entry.message == "health check"
            && entry.level == "info"
            && entry.field("url") == Some(&"http://db.local".into())),
        "no health check line in {lines:#?}"
    );
    // The SDK's request log, named as in Go (backend/logger_middleware.go).
    for message in ["Plugin Request Started", "Plugin Request Completed"] {
        assert!(
            entries.iter().any(|entry| entry.message == message),
            "no {message:?} in {lines:#?}"
        );
    }
    assert!(!plugin.stderr().contains(PLANTED_SECRET));
}

/// Runs the plugin with one command-line flag; returns its stdout.
async fn run_with_flag(flag: &str) -> String {
    let mut process = PluginLauncher::new(plugin_executable())
        .skip_host_env()
        .env_remove("grafana_plugin_type")
        .arg(flag)
        .spawn()
        .unwrap();
    let status = guarded(flag, process.wait()).await.unwrap();
    assert!(status.success(), "{flag}: {status}");
    process.stdout().lines().join("\n")
}

#[tokio::test]
async fn buildinfo_and_version_flags() {
    let info: serde_json::Value = serde_json::from_str(&run_with_flag("-buildinfo").await).unwrap();
    assert_eq!(info["pluginID"], "plugin-serve", "{info}");
    assert!(info["version"].is_string(), "{info}");
    assert_eq!(run_with_flag("-version").await, env!("CARGO_PKG_VERSION"));
}

#[tokio::test]
async fn standalone_files_and_locator() {
    let plugin_dir = tempfile::tempdir().unwrap();
    // No `executable`: the server then logs, right after writing its files,
    // that it restarts no copy of Grafana's, which is the event to wait for.
    std::fs::write(
        plugin_dir.path().join("plugin.json"),
        format!(r#"{{"id":"{PLUGIN_ID}"}}"#),
    )
    .unwrap();

    // The developer's copy, started with `-standalone`.
    let mut server = launcher()
        .arg("-standalone")
        .current_dir(plugin_dir.path())
        .spawn()
        .unwrap();
    let written = server
        .stderr()
        .wait_for("not restarting Grafana's copy", GUARD)
        .await;
    assert!(written, "{:#?}", server.stderr().lines());
    let address_file = plugin_dir.path().join("standalone.txt");
    let pid_file = plugin_dir.path().join("pid.txt");
    let address = std::fs::read_to_string(&address_file).unwrap();
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    assert_eq!(Some(pid), server.pid().map(|pid| pid.to_string()));
    let port = address
        .strip_prefix(':')
        .unwrap_or_else(|| panic!("address {address:?}"));

    // Grafana's copy becomes a locator pointing at it, and Grafana talks to
    // the standalone server through the locator's line.
    let mut locator = launcher()
        .env("GF_PLUGIN_GRPC_ADDRESS_TEST_PLUGIN", &address)
        .launch()
        .await
        .unwrap();
    assert_eq!(locator.handshake_line(), format!("1|2|tcp|{address}|grpc"));
    assert_eq!(
        locator.handshake().address,
        PluginAddress::Tcp(format!("127.0.0.1:{port}").parse().unwrap())
    );
    let health = locator.client().check_health(health_request()).await;
    assert_eq!(health.unwrap().status, HealthStatus::Ok);
    // ...and its Shutdown call must not stop the developer's server.
    assert_eq!(
        code_of(locator.client().shutdown().await),
        Code::Unimplemented
    );

    locator.signal(Signal::Terminate).await.unwrap();
    assert_eq!(exit_code(&mut locator).await, Some(0));

    // A Ctrl-C stops the developer's copy, which removes its files.
    server.signal(Signal::Interrupt).await.unwrap();
    let status = guarded("standalone exit", server.wait()).await.unwrap();
    assert_eq!(status.code(), Some(0));
    assert!(!address_file.exists() && !pid_file.exists());
}

#[cfg(feature = "otel")]
mod otel {
    //! Spans exported over OTLP join the trace whose context Grafana sends
    //! in the request metadata.

    use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
        TraceService, TraceServiceServer,
    };
    use opentelemetry_proto::tonic::collector::trace::v1::{
        ExportTraceServiceRequest, ExportTraceServiceResponse,
    };
    use opentelemetry_proto::tonic::trace::v1::Span;
    use plugin_proto::pluginv2::diagnostics_client::DiagnosticsClient;
    use tokio::sync::watch;

    use super::*;

    /// An OTLP collector publishing every span it has received.
    struct Sink {
        spans: watch::Sender<Vec<Span>>,
    }

    #[tonic::async_trait]
    impl TraceService for Sink {
        async fn export(
            &self,
            request: tonic::Request<ExportTraceServiceRequest>,
        ) -> Result<tonic::Response<ExportTraceServiceResponse>, tonic::Status> {
            let received = request
                .into_inner()
                .resource_spans
                .into_iter()
                .flat_map(|resource| resource.scope_spans)
                .flat_map(|scope| scope.spans);
            self.spans.send_modify(|spans| spans.extend(received));
            Ok(tonic::Response::new(ExportTraceServiceResponse {
                partial_success: None,
            }))
        }
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|byte| format!("{byte:02x}")).collect()
    }

    #[tokio::test]
    async fn otlp_spans_join_the_trace_in_metadata() {
        let incoming =
            tonic::transport::server::TcpIncoming::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let address = incoming.local_addr().unwrap().to_string();
        let (spans, mut received) = watch::channel(Vec::new());
        let sink = tokio::spawn(
            tonic::transport::Server::builder()
                .add_service(TraceServiceServer::new(Sink { spans }))
                .serve_with_incoming(incoming),
        );

        let mut plugin = launcher()
            .env("GF_INSTANCE_OTLP_ADDRESS", &address)
            .env("GF_INSTANCE_OTLP_PROPAGATION", "w3c")
            .env("GF_INSTANCE_OTLP_SAMPLER_TYPE", "const")
            .env("GF_INSTANCE_OTLP_SAMPLER_PARAM", "1.000000")
            .launch()
            .await
            .unwrap();
        let (trace_id, parent_span_id) = ("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7");
        let mut request = tonic::Request::new(health_request());
        let traceparent = format!("00-{trace_id}-{parent_span_id}-01");
        request
            .metadata_mut()
            .insert("traceparent", traceparent.parse().unwrap());
        DiagnosticsClient::new(plugin.client().channel().clone())
            .check_health(request)
            .await
            .unwrap();
        plugin.client().shutdown().await.unwrap();
        assert_eq!(exit_code(&mut plugin).await, Some(0));

        let joined = |spans: &Vec<Span>| {
            spans.iter().any(|span| {
                hex(&span.trace_id) == trace_id
                    && hex(&span.parent_span_id) == parent_span_id
                    && span.name == "pluginv2.Diagnostics/CheckHealth"
            })
        };
        let waited = tokio::time::timeout(GUARD, received.wait_for(joined))
            .await
            .is_ok_and(|seen| seen.is_ok());
        assert!(
            waited,
            "no span joined the trace; received {:?}; stderr {:#?}",
            received
                .borrow()
                .iter()
                .map(|span| span.name.as_str())
                .collect::<Vec<_>>(),
            plugin.stderr().lines()
        );
        sink.abort();
    }
}
