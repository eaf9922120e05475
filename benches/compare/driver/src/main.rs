//! The measuring side of `cargo xtask bench`: this SDK against the peer SDK
//! (crates.io `grafana-plugin-sdk` 0.5) on the same workload, in one run on
//! one machine.
//!
//! Usage: `bench-driver [--quick] <this SDK's gpx_bench-datasource> <gpx_peer-datasource>`
//! (both built `--release`; `cargo xtask bench` builds and passes them).
//!
//! Both plugins implement the bench-datasource contract
//! (`examples/bench-datasource` and `benches/compare/peer-datasource`) and
//! are started through plugin-testkit exactly as Grafana starts a plugin;
//! every call goes through the handshake's connection, one HTTP/2
//! connection as Grafana uses. Measured, per plugin:
//!
//! * spawn to handshake (median of several starts) and idle RSS after start;
//! * QueryData of 1,000 rows, one and four requests in flight: req/s, p50,
//!   p99;
//! * QueryData of 1,000,000 rows: MB/s of encoded frames, and peak RSS
//!   (`VmHWM`) afterwards;
//! * the size of the stripped release binary.
//!
//! Requests ask for Arrow frames (the peer cannot answer JSON) and answers
//! are timed up to their arrival, undecoded: the client's decoding is the
//! same for both and is not what is compared. Each answer's shape is checked
//! once, decoded, before timing.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use plugin_backend::{
    DataQuery, DataSourceInstanceSettings, PluginContext, QueryDataRequest, TimeRange,
};
use plugin_testkit::{PluginClient, PluginLauncher, RunningPlugin};
use tokio::task::JoinSet;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> anyhow::Result<()> {
    const USAGE: &str =
        "usage: bench-driver [--quick] <gpx_bench-datasource> <gpx_peer-datasource>";
    let (budget, paths) = match args {
        [flag, rest @ ..] if flag == "--quick" => (QUICK, rest),
        rest => (FULL, rest),
    };
    let [ours, peer] = paths else { bail!(USAGE) };
    let contenders = [
        Contender {
            name: "this SDK",
            binary: PathBuf::from(ours),
        },
        Contender {
            name: "grafana-plugin-sdk 0.5",
            binary: PathBuf::from(peer),
        },
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Whichever plugin is measured second runs on a warmer machine and
    // client (seen: up to 25% more MB/s on 1,000,000 rows for the same
    // binary), so rounds alternate the order and the report takes the
    // median of each figure.
    let mut rounds: [Vec<Results>; 2] = [Vec::new(), Vec::new()];
    for round in 0..budget.rounds {
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for index in order {
            let contender = &contenders[index];
            println!(
                "==> round {}/{}: measuring {} ({})",
                round + 1,
                budget.rounds,
                contender.name,
                contender.binary.display()
            );
            rounds[index].push(runtime.block_on(measure(contender, budget))?);
        }
    }
    let results = rounds.map(|rounds| Results::median(&rounds));
    print_report(&contenders, &results, budget.rounds);
    Ok(())
}

/// How long and how often each measurement runs.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Rounds of every measurement, alternating which plugin goes first.
    rounds: usize,
    starts: usize,
    warmup: Duration,
    window: Duration,
    large_queries: usize,
}

const FULL: Budget = Budget {
    rounds: 3,
    starts: 11,
    warmup: Duration::from_millis(500),
    window: Duration::from_secs(4),
    large_queries: 10,
};
const QUICK: Budget = Budget {
    rounds: 1,
    starts: 3,
    warmup: Duration::from_millis(200),
    window: Duration::from_secs(1),
    large_queries: 2,
};

/// One plugin under test.
#[derive(Debug)]
struct Contender {
    name: &'static str,
    binary: PathBuf,
}

/// Everything measured for one plugin.
#[derive(Debug, Default)]
struct Results {
    startup: Duration,
    idle_rss: u64,
    small_one: Throughput,
    small_four: Throughput,
    large_mb_per_s: f64,
    large_rows_per_s: f64,
    large_answer_bytes: usize,
    peak_rss: u64,
    binary_size: u64,
}

impl Results {
    /// Each figure's median over `rounds` (the upper median for an even
    /// count).
    fn median(rounds: &[Results]) -> Results {
        fn of<T: Copy + PartialOrd>(rounds: &[Results], figure: impl Fn(&Results) -> T) -> T {
            let mut values: Vec<T> = rounds.iter().map(figure).collect();
            values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
            values[values.len() / 2]
        }
        let throughput = |load: fn(&Results) -> &Throughput| Throughput {
            requests_per_s: of(rounds, |r| load(r).requests_per_s),
            p50: of(rounds, |r| load(r).p50),
            p99: of(rounds, |r| load(r).p99),
        };
        Results {
            startup: of(rounds, |r| r.startup),
            idle_rss: of(rounds, |r| r.idle_rss),
            small_one: throughput(|r| &r.small_one),
            small_four: throughput(|r| &r.small_four),
            large_mb_per_s: of(rounds, |r| r.large_mb_per_s),
            large_rows_per_s: of(rounds, |r| r.large_rows_per_s),
            large_answer_bytes: of(rounds, |r| r.large_answer_bytes),
            peak_rss: of(rounds, |r| r.peak_rss),
            binary_size: of(rounds, |r| r.binary_size),
        }
    }
}

/// Requests per second and latency percentiles of one load.
#[derive(Debug, Default, Clone, Copy)]
struct Throughput {
    requests_per_s: f64,
    p50: Duration,
    p99: Duration,
}

/// Starts a plugin the way Grafana does: spawned, handshake read, one
/// HTTP/2 connection made, and no call yet. No health-check ping: the peer
/// SDK does not register go-plugin's `plugin` health service, and both
/// plugins are measured in the same state.
async fn launch(contender: &Contender) -> anyhow::Result<RunningPlugin> {
    PluginLauncher::new(&contender.binary)
        .without_ping()
        .launch()
        .await
        .with_context(|| format!("{} did not start", contender.name))
}

async fn measure(contender: &Contender, budget: Budget) -> anyhow::Result<Results> {
    let mut results = Results {
        binary_size: std::fs::metadata(&contender.binary)?.len(),
        ..Results::default()
    };

    let mut startups = Vec::with_capacity(budget.starts);
    for _ in 0..budget.starts {
        let plugin = launch(contender).await?;
        startups.push(plugin.startup_time());
        plugin.kill().await;
    }
    results.startup = percentile(&mut startups, 50);

    let plugin = launch(contender).await?;
    // Let lazy initialisation settle before reading the idle footprint.
    tokio::time::sleep(Duration::from_millis(300)).await;
    results.idle_rss = plugin.memory_usage()?.resident_bytes;
    let client = plugin.client().clone();

    check_answer(&client, 1_000)
        .await
        .with_context(|| format!("{} breaks the contract", contender.name))?;
    results.small_one = load(&client, 1_000, 1, budget).await?;
    results.small_four = load(&client, 1_000, 4, budget).await?;

    check_answer(&client, 1_000_000).await?;
    let request = query(1_000_000)?;
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..budget.large_queries {
        bytes += frame_bytes(&client.query_data_message(request.clone()).await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    results.large_mb_per_s = bytes as f64 / 1e6 / elapsed;
    results.large_rows_per_s = (budget.large_queries * 1_000_000) as f64 / elapsed;
    results.large_answer_bytes = bytes / budget.large_queries.max(1);
    results.peak_rss = plugin.memory_usage()?.peak_resident_bytes;

    plugin.shutdown().await?;
    Ok(results)
}

/// The context Grafana sends for a configured data source (the peer SDK
/// requires JSON data that parses).
fn query(rows: usize) -> anyhow::Result<QueryDataRequest> {
    let mut settings = DataSourceInstanceSettings::default();
    settings.uid = "bench".to_owned();
    settings.json_data = "{}".into();
    let context =
        PluginContext::new("acme-bench-datasource").with_data_source_instance_settings(settings);
    let range = TimeRange::from_epoch_millis(1_795_262_400_000, 1_795_266_000_000)?;
    let query = DataQuery::new("A", format!(r#"{{"rows": {rows}}}"#)).with_time_range(range);
    Ok(QueryDataRequest::new(context, vec![query]))
}

/// Decodes one answer and checks the contract's shape.
async fn check_answer(client: &PluginClient, rows: usize) -> anyhow::Result<()> {
    let response = client.query_data(query(rows)?).await?;
    let answer = response
        .responses
        .get("A")
        .context("no response for refId A")?;
    if let Some(error) = &answer.error {
        bail!("query failed: {error}");
    }
    let frame = answer.frames.first().context("no frame")?;
    ensure!(
        frame.num_rows()? == rows,
        "{} rows instead of {rows}",
        frame.num_rows()?
    );
    let names: Vec<&str> = frame.fields().iter().map(|field| field.name()).collect();
    ensure!(names == ["time", "value", "label"], "fields {names:?}");
    Ok(())
}

fn frame_bytes(response: &plugin_proto::pluginv2::QueryDataResponse) -> usize {
    response
        .responses
        .values()
        .flat_map(|answer| &answer.frames)
        .map(|frame| frame.len())
        .sum()
}

/// Runs `in_flight` request loops on one connection for the budget's window
/// (after a warm-up) and measures them.
async fn load(
    client: &PluginClient,
    rows: usize,
    in_flight: usize,
    budget: Budget,
) -> anyhow::Result<Throughput> {
    let request = query(rows)?;
    let warmup_end = Instant::now() + budget.warmup;
    while Instant::now() < warmup_end {
        client.query_data_message(request.clone()).await?;
    }
    let started = Instant::now();
    let deadline = started + budget.window;
    let mut workers = JoinSet::new();
    for _ in 0..in_flight {
        let (client, request) = (client.clone(), request.clone());
        workers.spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let sent = Instant::now();
                client.query_data_message(request.clone()).await?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, plugin_testkit::Error>(latencies)
        });
    }
    let mut latencies = Vec::new();
    while let Some(worker) = workers.join_next().await {
        latencies.extend(worker??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Throughput {
        requests_per_s: latencies.len() as f64 / elapsed,
        p50: percentile(&mut latencies, 50),
        p99: percentile(&mut latencies, 99),
    })
}

/// The `pct`th percentile (nearest rank) of `samples`.
fn percentile(samples: &mut [Duration], pct: usize) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.sort_unstable();
    let rank = (samples.len() * pct).div_ceil(100).clamp(1, samples.len());
    samples[rank - 1]
}

fn print_report(contenders: &[Contender; 2], results: &[Results; 2], rounds: usize) {
    let [ours, peer] = results;
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1e3);
    let mib = |bytes: u64| format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0));
    let ratio = |a: f64, b: f64| {
        if b > 0.0 {
            format!("{:.2}x", a / b)
        } else {
            "n/a".to_owned()
        }
    };
    let rows: Vec<[String; 4]> = vec![
        [
            "QueryData 1,000 rows, 1 in flight: req/s".into(),
            format!("{:.0}", ours.small_one.requests_per_s),
            format!("{:.0}", peer.small_one.requests_per_s),
            ratio(ours.small_one.requests_per_s, peer.small_one.requests_per_s),
        ],
        [
            "  p50".into(),
            ms(ours.small_one.p50),
            ms(peer.small_one.p50),
            String::new(),
        ],
        [
            "  p99".into(),
            ms(ours.small_one.p99),
            ms(peer.small_one.p99),
            String::new(),
        ],
        [
            "QueryData 1,000 rows, 4 in flight: req/s".into(),
            format!("{:.0}", ours.small_four.requests_per_s),
            format!("{:.0}", peer.small_four.requests_per_s),
            ratio(
                ours.small_four.requests_per_s,
                peer.small_four.requests_per_s,
            ),
        ],
        [
            "  p50".into(),
            ms(ours.small_four.p50),
            ms(peer.small_four.p50),
            String::new(),
        ],
        [
            "  p99".into(),
            ms(ours.small_four.p99),
            ms(peer.small_four.p99),
            String::new(),
        ],
        [
            "QueryData 1,000,000 rows: MB/s of frames".into(),
            format!("{:.0}", ours.large_mb_per_s),
            format!("{:.0}", peer.large_mb_per_s),
            ratio(ours.large_mb_per_s, peer.large_mb_per_s),
        ],
        [
            "  rows/s".into(),
            format!("{:.2e}", ours.large_rows_per_s),
            format!("{:.2e}", peer.large_rows_per_s),
            ratio(ours.large_rows_per_s, peer.large_rows_per_s),
        ],
        [
            "  encoded frame per answer".into(),
            format!("{:.1} MB", ours.large_answer_bytes as f64 / 1e6),
            format!("{:.1} MB", peer.large_answer_bytes as f64 / 1e6),
            String::new(),
        ],
        [
            "spawn to handshake (median)".into(),
            ms(ours.startup),
            ms(peer.startup),
            String::new(),
        ],
        [
            "idle RSS".into(),
            mib(ours.idle_rss),
            mib(peer.idle_rss),
            String::new(),
        ],
        [
            "peak RSS (VmHWM) after 1,000,000 rows".into(),
            mib(ours.peak_rss),
            mib(peer.peak_rss),
            String::new(),
        ],
        [
            "stripped release binary".into(),
            mib(ours.binary_size),
            mib(peer.binary_size),
            String::new(),
        ],
    ];
    println!();
    println!("medians of {rounds} round(s), alternating which plugin goes first");
    println!();
    println!(
        "| workload | {} | {} | ratio |",
        contenders[0].name, contenders[1].name
    );
    println!("|---|---:|---:|---:|");
    for [name, a, b, r] in rows {
        println!("| {name} | {a} | {b} | {r} |");
    }
    println!(
        "\nmachine: {} CPUs; {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        kernel()
    );
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/version")
        .ok()
        .and_then(|version| {
            version
                .split_whitespace()
                .nth(2)
                .map(|release| format!("Linux {release}"))
        })
        .unwrap_or_else(|| std::env::consts::OS.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        assert_eq!(percentile(&mut samples, 50), Duration::from_millis(50));
        assert_eq!(percentile(&mut samples, 99), Duration::from_millis(99));
        assert_eq!(
            percentile(&mut [Duration::from_millis(7)], 99),
            Duration::from_millis(7)
        );
        assert_eq!(percentile(&mut [], 50), Duration::ZERO);
    }

    #[test]
    fn each_figure_takes_its_own_median() {
        let round = |mb_per_s: f64, idle_rss: u64, p50_ms: u64| Results {
            large_mb_per_s: mb_per_s,
            idle_rss,
            small_one: Throughput {
                p50: Duration::from_millis(p50_ms),
                ..Throughput::default()
            },
            ..Results::default()
        };
        let median = Results::median(&[round(300.0, 7, 2), round(100.0, 9, 3), round(200.0, 8, 1)]);
        assert_eq!(median.large_mb_per_s, 200.0);
        assert_eq!(median.idle_rss, 8);
        assert_eq!(median.small_one.p50, Duration::from_millis(2));
        assert_eq!(Results::median(&[round(5.0, 1, 1)]).large_mb_per_s, 5.0);
    }
}
