//! Serving costs, measured from the host's side on a real plugin process:
//! spawn-to-handshake time, idle resident memory, and `QueryData` latency
//! (one request in flight, 1,000 rows) over the unix socket.
//!
//! No libtest harness: with `PLUGIN_SERVE_BENCH_ROLE=plugin` the binary is
//! the plugin; otherwise it measures, spawning `std::env::current_exe()`.
//! Run with `cargo bench -p plugin-serve --bench serve`.

use std::collections::HashMap;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper_util::rt::TokioIo;
use plugin_proto::go_plugin::{self, grpc_controller_client};
use plugin_proto::pluginv2::{self, data_client};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tonic::transport::{Channel, Endpoint};

const ROLE_ENV: &str = "PLUGIN_SERVE_BENCH_ROLE";
const PLUGIN_ID: &str = "bench-plugin";
const ROWS: usize = 1_000;
const WARMUP: usize = 200;
const SAMPLES: usize = 2_000;
const SPAWNS: usize = 10;

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    if std::env::var(ROLE_ENV).as_deref() == Ok("plugin") {
        return match runtime.block_on(plugin()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("{err}");
                ExitCode::FAILURE
            }
        };
    }
    // `cargo bench` passes `--bench`; nothing else is accepted.
    match runtime.block_on(measure()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("benchmark failed: {err}");
            ExitCode::FAILURE
        }
    }
}

/// The plugin: a data source answering every query with `ROWS` rows.
async fn plugin() -> Result<(), plugin_serve::Error> {
    use plugin_backend::{
        DataResponse, Error, Plugin, QueryDataRequest, QueryDataResponse, query_data_fn,
    };
    use plugin_data::{Field, Frame};

    plugin_serve::datasource::manage(
        PLUGIN_ID,
        |_settings, _context| async move {
            Ok(Plugin::new().with_query_data(query_data_fn(
                |request: QueryDataRequest| async move {
                    let mut response = QueryDataResponse::new();
                    for query in &request.queries {
                        let time: Vec<i64> = (0..ROWS as i64)
                            .map(|row| 1_700_000_000_000 + row * 1_000)
                            .collect();
                        let value: Vec<f64> = (0..ROWS).map(|row| row as f64 * 0.5).collect();
                        let frame = Frame::new("series")
                            .with_field(Field::new("time", time))
                            .with_field(Field::new("value", value));
                        response.insert(query.ref_id.clone(), DataResponse::from(frame));
                    }
                    Ok::<_, Error>(response)
                },
            )))
        },
        plugin_serve::ManageOptions::new(),
    )
    .await
}

struct Plugin {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

async fn start() -> Result<(Plugin, Duration), String> {
    let dir = tempfile::tempdir().map_err(|err| err.to_string())?;
    let started = Instant::now();
    let mut child = Command::new(std::env::current_exe().map_err(|err| err.to_string())?)
        .env_clear()
        .env(ROLE_ENV, "plugin")
        .env("grafana_plugin_type", "datasource")
        .env("PLUGIN_PROTOCOL_VERSIONS", "2")
        .env("PLUGIN_UNIX_SOCKET_DIR", dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| err.to_string())?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().ok_or("stdout")?)
        .read_line(&mut line)
        .await
        .map_err(|err| err.to_string())?;
    let elapsed = started.elapsed();
    let address = line
        .trim_end()
        .split('|')
        .nth(3)
        .ok_or("handshake")?
        .to_owned();
    Ok((
        Plugin {
            child,
            address,
            _dir: dir,
        },
        elapsed,
    ))
}

async fn connect(path: &str) -> Result<Channel, String> {
    let path = path.to_owned();
    Endpoint::from_static("http://plugin")
        .connect_with_connector(tower::service_fn(move |_: http::Uri| {
            let path = path.clone();
            async move {
                Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(path).await?))
            }
        }))
        .await
        .map_err(|err| err.to_string())
}

async fn stop(mut plugin: Plugin, channel: Channel) -> Result<(), String> {
    grpc_controller_client::GrpcControllerClient::new(channel)
        .shutdown(go_plugin::Empty {})
        .await
        .map_err(|err| err.to_string())?;
    plugin.child.wait().await.map_err(|err| err.to_string())?;
    Ok(())
}

fn request() -> pluginv2::QueryDataRequest {
    pluginv2::QueryDataRequest {
        plugin_context: Some(pluginv2::PluginContext {
            plugin_id: PLUGIN_ID.into(),
            data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
                id: 1,
                uid: "bench".into(),
                json_data: Bytes::from_static(b"{}"),
                decrypted_secure_json_data: HashMap::new(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        queries: vec![pluginv2::DataQuery {
            ref_id: "A".into(),
            json: Bytes::from_static(b"{}"),
            time_range: Some(pluginv2::TimeRange {
                from_epoch_ms: 0,
                to_epoch_ms: 1,
            }),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// Resident memory of `pid` in KiB (Linux).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|line| {
        line.strip_prefix("VmRSS:")?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure() -> Result<(), String> {
    let mut spawn_times = Vec::new();
    for _ in 0..SPAWNS {
        let (plugin, elapsed) = start().await?;
        spawn_times.push(elapsed);
        let channel = connect(&plugin.address).await?;
        stop(plugin, channel).await?;
    }
    spawn_times.sort();

    let (plugin, _) = start().await?;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle_rss = rss_kib(plugin.child.id().unwrap_or_default());
    let channel = connect(&plugin.address).await?;
    let mut client = data_client::DataClient::new(channel.clone());
    for _ in 0..WARMUP {
        client
            .query_data(request())
            .await
            .map_err(|err| err.to_string())?;
    }
    let mut latencies = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let started = Instant::now();
        let response = client
            .query_data(request())
            .await
            .map_err(|err| err.to_string())?
            .into_inner();
        latencies.push(started.elapsed());
        if response
            .responses
            .get("A")
            .is_none_or(|answer| answer.frames.len() != 1)
        {
            return Err("unexpected answer".into());
        }
    }
    let busy_rss = rss_kib(plugin.child.id().unwrap_or_default());
    stop(plugin, channel).await?;
    latencies.sort();

    println!(
        "spawn to handshake: median {:.2?} (min {:.2?}, {SPAWNS} spawns)",
        percentile(&spawn_times, 0.5),
        spawn_times[0]
    );
    println!(
        "idle RSS: {} KiB; after {} queries: {} KiB",
        idle_rss.unwrap_or(0),
        WARMUP + SAMPLES,
        busy_rss.unwrap_or(0)
    );
    println!(
        "QueryData {ROWS} rows, 1 in flight, unix socket: p50 {:.1?}, p90 {:.1?}, p99 {:.1?} ({SAMPLES} samples)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99)
    );
    Ok(())
}
