//! `cargo xtask demo [--release]`: the SDK's main job in one command.
//!
//! Builds the example data source (`examples/bench-datasource`), starts it
//! through plugin-testkit exactly as Grafana starts a plugin (environment,
//! handshake, gRPC over the announced unix socket), then drives it like
//! Grafana would: a health check, a query, two resource calls and a few
//! packets of a live stream, printing every decoded frame as a table.
//! Finally it shuts the plugin down with go-plugin's `Shutdown` call.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use plugin_backend::{
    CallResourceRequest, CheckHealthRequest, DataQuery, DataSourceInstanceSettings, PluginContext,
    QueryDataRequest, RunStreamRequest, TimeRange,
};
use plugin_data::Frame;
use plugin_testkit::{PluginLauncher, RunningPlugin};

/// The example the demo drives.
const PACKAGE: &str = "bench-datasource";
/// Its binary, named after plugin.json's `executable`.
const BINARY: &str = "gpx_bench-datasource";
/// Its plugin id.
const PLUGIN_ID: &str = "acme-bench-datasource";

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let release = match args {
        [] => false,
        [flag] if flag == "--release" => true,
        _ => bail!("usage: cargo xtask demo [--release]"),
    };
    println!("==> building {PACKAGE}");
    let binary = crate::cargo_build::build_binary(
        &crate::project_root().join("Cargo.toml"),
        PACKAGE,
        BINARY,
        release,
    )?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(drive(&binary))
}

async fn drive(binary: &Path) -> anyhow::Result<()> {
    println!("==> starting {} as Grafana does", binary.display());
    let plugin = PluginLauncher::new(binary)
        .launch()
        .await
        .context("the plugin did not start")?;
    println!(
        "    handshake: {} (pid {}, {:.1} ms from spawn to handshake)",
        plugin.handshake().address,
        plugin.pid().unwrap_or_default(),
        plugin.startup_time().as_secs_f64() * 1000.0
    );
    let outcome = exercise(&plugin).await;
    print_logs(&plugin);
    println!("==> shutting down");
    let status = plugin.shutdown().await?;
    println!("    plugin exited: {status}");
    outcome
}

/// What Grafana sends for a configured instance of the data source.
fn plugin_context() -> PluginContext {
    let mut settings = DataSourceInstanceSettings::default();
    settings.uid = "demo".to_owned();
    settings.name = "Bench (demo)".to_owned();
    PluginContext::new(PLUGIN_ID).with_data_source_instance_settings(settings)
}

async fn exercise(plugin: &RunningPlugin) -> anyhow::Result<()> {
    let client = plugin.client();

    println!("\n==> CheckHealth");
    let health = client
        .check_health(CheckHealthRequest::new(plugin_context()))
        .await?;
    println!("    {:?}: {}", health.status, health.message);

    println!("\n==> QueryData {{\"rows\": 8}} as refId A, over the last hour");
    let query = DataQuery::new("A", r#"{"rows": 8}"#).with_time_range(last_hour()?);
    let response = client
        .query_data(QueryDataRequest::new(plugin_context(), vec![query]))
        .await?;
    for (ref_id, answer) in plugin_testkit::responses_in_ref_id_order(&response) {
        if let Some(error) = &answer.error {
            println!("    {ref_id}: error {error}");
        }
        for frame in &answer.frames {
            print_frame(frame)?;
        }
    }

    println!("\n==> CallResource POST echo");
    let mut post = CallResourceRequest::new(http::Method::POST, "echo");
    post.plugin_context = plugin_context();
    post.body = "hello from cargo xtask demo".into();
    let echoed = client.call_resource(post).await?;
    println!(
        "    {} {}",
        status_text(echoed.status),
        String::from_utf8_lossy(&echoed.body)
    );

    println!("\n==> CallResource GET echo?verbose=1");
    let mut get = CallResourceRequest::new(http::Method::GET, "echo");
    get.plugin_context = plugin_context();
    get.url = "echo?verbose=1".to_owned();
    let described = client.call_resource(get).await?;
    println!(
        "    {} {}",
        status_text(described.status),
        String::from_utf8_lossy(&described.body)
    );

    println!("\n==> RunStream ticks (4 packets)");
    let mut run = RunStreamRequest::default();
    run.plugin_context = plugin_context();
    run.path = "ticks".to_owned();
    let mut packets = client.run_stream(run).await?;
    for packet in 0..4 {
        let next = tokio::time::timeout(Duration::from_secs(5), packets.next_frame()).await;
        let frame = next
            .context("no stream packet within 5 s")??
            .context("the stream ended early")?;
        if packet == 0 {
            print_frame(&frame)?;
        } else {
            // The schema is known by now: one line per packet is enough.
            let cells: Vec<String> = frame
                .fields()
                .iter()
                .map(|field| {
                    format!(
                        "{}={}",
                        field.name(),
                        field.get(0).map(|v| v.to_string()).unwrap_or_default()
                    )
                })
                .collect();
            println!("    packet {packet}: {}", cells.join(" "));
        }
    }
    // Dropping the stream cancels RunStream, as Grafana does when the last
    // subscriber leaves.
    drop(packets);
    Ok(())
}

/// A resource answer's status line ("200 OK"); "-" when the plugin sent none.
fn status_text(status: Option<http::StatusCode>) -> String {
    status.map_or_else(|| "-".to_owned(), |status| status.to_string())
}

/// The hour before now, as Grafana's default dashboard range.
fn last_hour() -> anyhow::Result<TimeRange> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?;
    let now_ms = i64::try_from(now.as_millis())?;
    Ok(TimeRange::from_epoch_millis(now_ms - 3_600_000, now_ms)?)
}

fn print_frame(frame: &Frame) -> anyhow::Result<()> {
    for line in frame.to_table(10, 12)?.lines() {
        println!("    {line}");
    }
    Ok(())
}

fn print_logs(plugin: &RunningPlugin) {
    let entries = plugin.stderr().entries();
    println!(
        "\n==> the plugin's log ({} hclog lines on stderr; last 5)",
        entries.len()
    );
    for entry in entries.iter().rev().take(5).rev() {
        println!("    [{}] {}", entry.level, entry.message);
    }
}
