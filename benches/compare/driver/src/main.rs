//! The measuring side of `cargo xtask bench`: this SDK against its peers on
//! the same workload, in one run on one machine.
//!
//! Usage: `bench-driver [--quick] <name>=<binary> <name>=<binary>...`, one
//! argument per plugin, this SDK's first: every ratio in the report compares
//! the first plugin with another (`cargo xtask bench` builds the plugins —
//! this SDK's, the Go SDK's and crates.io `grafana-plugin-sdk` 0.5's — and
//! passes them).
//!
//! Every plugin implements the bench-datasource contract
//! (`examples/bench-datasource`, `benches/compare/go-datasource` and
//! `benches/compare/peer-datasource`) and is started through plugin-testkit
//! exactly as Grafana starts a plugin; every call goes through the
//! handshake's connection, one HTTP/2 connection as Grafana uses. Measured,
//! per plugin:
//!
//! * spawn to handshake (median of several starts) and idle RSS after start;
//! * QueryData of 1,000 rows as Arrow, 1, 4, 64 and 256 requests in flight
//!   on the one connection: req/s, p50, p99;
//! * QueryData of 1,000,000 rows as Arrow: MB/s of encoded frames, after the
//!   small loads on the same connection and, on a plugin of its own, on a
//!   fresh connection; peak RSS (`VmHWM`) afterwards;
//! * in the same moment, the bandwidth of a plain copy of as many bytes as
//!   one 1,000,000-row answer over a unix socket pair: what the transfer is
//!   compared with;
//! * the same with `format=JSON` (what current Grafana asks for by default),
//!   one request in flight, when the plugin answers JSON at all;
//! * the size of the stripped release binary.
//!
//! Answers are timed up to their arrival, undecoded: the client's decoding
//! is the same for every plugin and is not what is compared. Before timing,
//! one answer of each size and format is decoded and checked cell by cell
//! against the contract.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use plugin_backend::{
    DataFrameFormat, DataQuery, DataSourceInstanceSettings, PluginContext, QueryDataRequest,
    QueryDataResponse, TimeRange,
};
use plugin_data::{CellValue, Frame};
use plugin_proto::pluginv2;
use plugin_testkit::{PluginClient, PluginLauncher, RunningPlugin};
use tokio::task::JoinSet;

const USAGE: &str = "usage: bench-driver [--quick] <name>=<binary> <name>=<binary>...";

/// The start of every query's time range, epoch milliseconds.
const START_MS: i64 = 1_795_262_400_000;

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
    let (budget, specs) = match args {
        [flag, rest @ ..] if flag == "--quick" => (QUICK, rest),
        rest => (FULL, rest),
    };
    let contenders = specs
        .iter()
        .map(|spec| Contender::parse(spec))
        .collect::<anyhow::Result<Vec<_>>>()?;
    ensure!(contenders.len() >= 2, "{USAGE}");
    let load_before = load_average();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Whichever plugin is measured later runs on a warmer machine and client
    // (seen: up to 25% more MB/s on 1,000,000 rows for the same binary), so
    // each round rotates the order — over as many rounds as plugins, each
    // plugin takes each place once — and the report takes each figure's
    // median over the rounds.
    let mut rounds: Vec<Vec<Results>> = contenders.iter().map(|_| Vec::new()).collect();
    for round in 0..budget.rounds {
        for place in 0..contenders.len() {
            let index = (round + place) % contenders.len();
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
    let results: Vec<Results> = rounds
        .iter()
        .map(|rounds| Results::median(rounds))
        .collect();
    print_report(&contenders, &results, budget.rounds);
    println!(
        "load average (1 min) at start / end: {} / {}",
        load_before,
        load_average()
    );
    Ok(())
}

/// How long and how often each measurement runs.
#[derive(Debug, Clone, Copy)]
struct Budget {
    /// Rounds of every measurement, rotating which plugin goes first.
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
    /// Its column in the report.
    name: String,
    binary: PathBuf,
}

impl Contender {
    /// Parses `<name>=<binary>`.
    fn parse(spec: &str) -> anyhow::Result<Contender> {
        let Some((name, binary)) = spec.split_once('=') else {
            bail!("{spec:?} is not <name>=<binary>; {USAGE}");
        };
        ensure!(
            !name.is_empty() && !binary.is_empty(),
            "{spec:?}: empty name or binary; {USAGE}"
        );
        Ok(Contender {
            name: name.to_owned(),
            binary: PathBuf::from(binary),
        })
    }
}

/// The median of `figure` over `items` (the upper median for an even
/// count).
fn median_of<T, V: Copy + PartialOrd>(items: &[T], figure: impl Fn(&T) -> V) -> V {
    let mut values: Vec<V> = items.iter().map(figure).collect();
    values.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    values[values.len() / 2]
}

/// Everything measured for one plugin.
#[derive(Debug, Default, Clone)]
struct Results {
    startup: Duration,
    idle_rss: u64,
    small_one: Throughput,
    small_four: Throughput,
    small_64: Throughput,
    small_256: Throughput,
    /// 1,000,000-row answers after the small loads on the same connection.
    large: Large,
    /// 1,000,000-row answers on a fresh connection of a fresh plugin.
    large_fresh: Large,
    /// MB/s of a plain copy of one answer's bytes over a unix socket pair.
    raw_socket_mb_per_s: f64,
    peak_rss: u64,
    /// Loads that failed, with the reason (their figures are n/a).
    failures: Vec<String>,
    /// `None` when the plugin answers a `format=JSON` request with Arrow
    /// frames.
    json: Option<JsonResults>,
    binary_size: u64,
}

impl Results {
    /// Each figure's median over `rounds`.
    fn median(rounds: &[Results]) -> Results {
        let json: Option<Vec<JsonResults>> = rounds.iter().map(|r| r.json.clone()).collect();
        Results {
            startup: median_of(rounds, |r| r.startup),
            idle_rss: median_of(rounds, |r| r.idle_rss),
            small_one: Throughput::median(rounds, |r| &r.small_one),
            small_four: Throughput::median(rounds, |r| &r.small_four),
            small_64: Throughput::median(rounds, |r| &r.small_64),
            small_256: Throughput::median(rounds, |r| &r.small_256),
            large: Large::median(rounds, |r| &r.large),
            large_fresh: Large::median(rounds, |r| &r.large_fresh),
            raw_socket_mb_per_s: median_of(rounds, |r| r.raw_socket_mb_per_s),
            peak_rss: median_of(rounds, |r| r.peak_rss),
            failures: rounds.iter().flat_map(|r| r.failures.clone()).collect(),
            json: json
                .filter(|json| !json.is_empty())
                .map(|json| JsonResults {
                    small_one: Throughput::median(&json, |j| &j.small_one),
                    large: Large::median(&json, |j| &j.large),
                    peak_rss: median_of(&json, |j| j.peak_rss),
                }),
            binary_size: median_of(rounds, |r| r.binary_size),
        }
    }
}

/// The figures of `format=JSON` requests.
#[derive(Debug, Default, Clone)]
struct JsonResults {
    small_one: Throughput,
    large: Large,
    /// `VmHWM` after the JSON answers too.
    peak_rss: u64,
}

/// Requests per second and latency percentiles of one load.
#[derive(Debug, Default, Clone, Copy)]
struct Throughput {
    requests_per_s: f64,
    p50: Duration,
    p99: Duration,
}

impl Throughput {
    fn median<T>(items: &[T], load: impl Fn(&T) -> &Throughput) -> Throughput {
        Throughput {
            requests_per_s: median_of(items, |i| load(i).requests_per_s),
            p50: median_of(items, |i| load(i).p50),
            p99: median_of(items, |i| load(i).p99),
        }
    }
}

/// Consecutive 1,000,000-row answers.
#[derive(Debug, Default, Clone, Copy)]
struct Large {
    mb_per_s: f64,
    rows_per_s: f64,
    answer_bytes: usize,
}

impl Large {
    fn median<T>(items: &[T], large: impl Fn(&T) -> &Large) -> Large {
        Large {
            mb_per_s: median_of(items, |i| large(i).mb_per_s),
            rows_per_s: median_of(items, |i| large(i).rows_per_s),
            answer_bytes: median_of(items, |i| large(i).answer_bytes),
        }
    }
}

/// Starts a plugin the way Grafana does: spawned, handshake read, one
/// HTTP/2 connection made, and no call yet. No health-check ping: the
/// crate 0.5 does not register go-plugin's `plugin` health service, and
/// every plugin is measured in the same state.
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

    // Large answers on a fresh connection, before any small call: the
    // client's flow-control windows then start from the handshake's.
    let plugin = launch(contender).await?;
    check_answer(plugin.client(), 1_000_000, DataFrameFormat::Arrow)
        .await
        .with_context(|| format!("{} breaks the contract", contender.name))?;
    results.large_fresh = large_load(plugin.client(), DataFrameFormat::Arrow, budget).await?;
    plugin.kill().await;

    let plugin = launch(contender).await?;
    // Let lazy initialisation settle before reading the idle footprint.
    tokio::time::sleep(Duration::from_millis(300)).await;
    results.idle_rss = plugin.memory_usage()?.resident_bytes;
    let client = plugin.client().clone();
    let breaks = || format!("{} breaks the contract", contender.name);

    let arrow = DataFrameFormat::Arrow;
    let answered = check_answer(&client, 1_000, arrow)
        .await
        .with_context(breaks)?;
    ensure!(
        answered == arrow,
        "{}: Arrow asked, {answered:?} answered",
        contender.name
    );
    results.small_one = load(&client, query(1_000, arrow)?, 1, budget).await?;
    results.small_four = load(&client, query(1_000, arrow)?, 4, budget).await?;
    // The many-in-flight loads may be refused by the client's HTTP/2 stack
    // (h2 0.4.20 ends a connection that receives many small DATA frames:
    // GOAWAY `too_many_data_frames`); such a load is reported n/a with the
    // reason, and the channel reconnects for the rest.
    for (in_flight, slot) in [(64, &mut results.small_64), (256, &mut results.small_256)] {
        match load(&client, query(1_000, arrow)?, in_flight, budget).await {
            Ok(throughput) => *slot = throughput,
            Err(error) => results.failures.push(format!(
                "{}: {in_flight} in flight failed: {error:#}",
                contender.name
            )),
        }
    }
    check_answer(&client, 1_000_000, arrow)
        .await
        .with_context(breaks)?;
    results.large = large_load(&client, arrow, budget).await?;
    results.raw_socket_mb_per_s = raw_socket_copy(results.large.answer_bytes, budget)?;
    results.peak_rss = plugin.memory_usage()?.peak_resident_bytes;

    let json = DataFrameFormat::Json;
    if check_answer(&client, 1_000, json)
        .await
        .with_context(breaks)?
        == json
    {
        check_answer(&client, 1_000_000, json)
            .await
            .with_context(breaks)?;
        let small_one = load(&client, query(1_000, json)?, 1, budget).await?;
        let large = large_load(&client, json, budget).await?;
        results.json = Some(JsonResults {
            small_one,
            large,
            peak_rss: plugin.memory_usage()?.peak_resident_bytes,
        });
    }

    plugin.shutdown().await?;
    Ok(results)
}

/// The context Grafana sends for a configured data source (the crate 0.5
/// requires JSON data that parses), asking for `rows` rows in `format`.
fn query(rows: usize, format: DataFrameFormat) -> anyhow::Result<QueryDataRequest> {
    let mut settings = DataSourceInstanceSettings::default();
    settings.uid = "bench".to_owned();
    settings.json_data = "{}".into();
    let context =
        PluginContext::new("acme-bench-datasource").with_data_source_instance_settings(settings);
    let range = TimeRange::from_epoch_millis(START_MS, START_MS + 3_600_000)?;
    let query = DataQuery::new("A", format!(r#"{{"rows": {rows}}}"#)).with_time_range(range);
    let mut request = QueryDataRequest::new(context, vec![query]);
    request.format = format;
    Ok(request)
}

/// Asks for `rows` rows in `format`, decodes the answer by the format it
/// says it has, checks every cell against the contract and returns that
/// format.
async fn check_answer(
    client: &PluginClient,
    rows: usize,
    format: DataFrameFormat,
) -> anyhow::Result<DataFrameFormat> {
    let message = client.query_data_message(query(rows, format)?).await?;
    let answered = match message.responses.get("A").map(|answer| answer.format) {
        Some(wire) if wire == pluginv2::DataFrameFormat::Json as i32 => DataFrameFormat::Json,
        _ => DataFrameFormat::Arrow,
    };
    let response = QueryDataResponse::try_from(message)?;
    let answer = response
        .responses
        .get("A")
        .context("no response for refId A")?;
    if let Some(error) = &answer.error {
        bail!("query failed: {error}");
    }
    let [frame] = answer.frames.as_slice() else {
        bail!("{} frames instead of one", answer.frames.len());
    };
    check_frame(frame, rows).with_context(|| format!("{rows} rows as {answered:?}"))?;
    Ok(answered)
}

/// The contract's frame: `bench` with `time` (one per second from the
/// query's start), `value` (`i * 0.5`) and `label` (nullable; null on rows
/// 0, 3, 6…, else `row <i>`).
fn check_frame(frame: &Frame, rows: usize) -> anyhow::Result<()> {
    ensure!(frame.name() == "bench", "frame {:?}", frame.name());
    ensure!(
        frame.num_rows()? == rows,
        "{} rows instead of {rows}",
        frame.num_rows()?
    );
    let fields: Vec<(&str, String)> = frame
        .fields()
        .iter()
        .map(|field| (field.name(), field.go_type_name()))
        .collect();
    ensure!(
        fields
            == [
                ("time", "[]time.Time".to_owned()),
                ("value", "[]float64".to_owned()),
                ("label", "[]*string".to_owned()),
            ],
        "fields {fields:?}"
    );
    let [time, value, label] = frame.fields() else {
        unreachable!("three fields checked above");
    };
    let start = START_MS * 1_000_000;
    for row in 0..rows {
        let expected_label = (row % 3 != 0).then(|| format!("row {row}"));
        let ok = time.get(row) == Some(CellValue::Time(start + row as i64 * 1_000_000_000))
            && value.get(row) == Some(CellValue::Float64(row as f64 * 0.5))
            && label.get(row)
                == Some(
                    expected_label
                        .as_deref()
                        .map_or(CellValue::Null, CellValue::String),
                );
        ensure!(
            ok,
            "row {row}: {:?}, {:?}, {:?}",
            time.get(row),
            value.get(row),
            label.get(row)
        );
    }
    Ok(())
}

fn frame_bytes(response: &pluginv2::QueryDataResponse) -> usize {
    response
        .responses
        .values()
        .flat_map(|answer| &answer.frames)
        .map(|frame| frame.len())
        .sum()
}

/// The budget's number of 1,000,000-row queries in `format`, one after the
/// other.
async fn large_load(
    client: &PluginClient,
    format: DataFrameFormat,
    budget: Budget,
) -> anyhow::Result<Large> {
    const ROWS: usize = 1_000_000;
    let request = query(ROWS, format)?;
    let started = Instant::now();
    let mut bytes = 0;
    for _ in 0..budget.large_queries {
        bytes += frame_bytes(&client.query_data_message(request.clone()).await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Large {
        mb_per_s: bytes as f64 / 1e6 / elapsed,
        rows_per_s: (budget.large_queries * ROWS) as f64 / elapsed,
        answer_bytes: bytes / budget.large_queries.max(1),
    })
}

/// MB/s of a plain copy of `bytes` bytes, the budget's number of times,
/// over a unix socket pair: one thread writes the whole buffer with one
/// `write_all`, the other reads it into a 256 KiB buffer. The same kernel
/// path as the plugin's answer, without HTTP/2 or gRPC.
fn raw_socket_copy(bytes: usize, budget: Budget) -> anyhow::Result<f64> {
    use std::io::{Read, Write};
    use std::os::unix::net::UnixStream;

    let (mut writer, mut reader) = UnixStream::pair()?;
    let payload = vec![0x5a_u8; bytes];
    let copies = budget.large_queries;
    let sender = std::thread::spawn(move || -> std::io::Result<()> {
        for _ in 0..copies {
            writer.write_all(&payload)?;
        }
        Ok(())
    });
    let mut buffer = vec![0_u8; 256 * 1024];
    let started = Instant::now();
    let mut received = 0;
    while received < bytes * copies {
        match reader.read(&mut buffer)? {
            0 => bail!("the socket pair closed after {received} bytes"),
            n => received += n,
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    sender
        .join()
        .map_err(|_| anyhow::anyhow!("the writing thread panicked"))??;
    Ok(received as f64 / 1e6 / elapsed)
}

/// Runs `in_flight` loops of `request` on one connection for the budget's
/// window (after a warm-up) and measures them.
async fn load(
    client: &PluginClient,
    request: QueryDataRequest,
    in_flight: usize,
    budget: Budget,
) -> anyhow::Result<Throughput> {
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

/// How a figure is shown.
#[derive(Debug, Clone, Copy)]
enum Unit {
    /// A rate, rounded.
    PerSecond,
    /// A rate of rows, in scientific notation.
    RowsPerSecond,
    /// Seconds, shown in milliseconds.
    Millis,
    /// Bytes, shown in MiB.
    MiB,
    /// Bytes, shown in MB.
    MB,
    /// A factor, shown as `<n>x`.
    Factor,
}

impl Unit {
    fn show(self, value: f64) -> String {
        match self {
            Unit::PerSecond => format!("{value:.0}"),
            Unit::RowsPerSecond => format!("{value:.2e}"),
            Unit::Millis => format!("{:.3} ms", value * 1e3),
            Unit::MiB => format!("{:.1} MiB", value / (1024.0 * 1024.0)),
            Unit::MB => format!("{:.1} MB", value / 1e6),
            Unit::Factor => format!("{value:.2}x"),
        }
    }
}

/// How a line reads its figure from a plugin's results: `None` when the
/// plugin has none (JSON not answered).
type Figure = Box<dyn Fn(&Results) -> Option<f64>>;

/// One line of the report.
struct Line {
    name: &'static str,
    unit: Unit,
    /// Whether higher is better and the line gets ratios (first plugin over
    /// each other).
    ratio: bool,
    figure: Figure,
}

impl Line {
    fn new(
        name: &'static str,
        unit: Unit,
        ratio: bool,
        figure: impl Fn(&Results) -> Option<f64> + 'static,
    ) -> Line {
        Line {
            name,
            unit,
            ratio,
            figure: Box::new(figure),
        }
    }
}

/// The three lines of a load of small queries: req/s, p50, p99.
fn throughput_lines(name: &'static str, load: fn(&Results) -> &Throughput) -> [Line; 3] {
    [
        // A load that failed in most rounds has no requests: n/a.
        Line::new(name, Unit::PerSecond, true, move |r| {
            let load = load(r);
            (load.requests_per_s > 0.0).then_some(load.requests_per_s)
        }),
        Line::new("  p50", Unit::Millis, false, move |r| {
            let load = load(r);
            (load.requests_per_s > 0.0).then_some(load.p50.as_secs_f64())
        }),
        Line::new("  p99", Unit::Millis, false, move |r| {
            let load = load(r);
            (load.requests_per_s > 0.0).then_some(load.p99.as_secs_f64())
        }),
    ]
}

fn lines() -> Vec<Line> {
    let json = |figure: fn(&JsonResults) -> f64| move |r: &Results| r.json.as_ref().map(figure);
    let mut lines = Vec::new();
    lines.extend(throughput_lines(
        "QueryData 1,000 rows, 1 in flight: req/s",
        |r| &r.small_one,
    ));
    lines.extend(throughput_lines(
        "QueryData 1,000 rows, 4 in flight: req/s",
        |r| &r.small_four,
    ));
    lines.extend(throughput_lines(
        "QueryData 1,000 rows, 64 in flight: req/s",
        |r| &r.small_64,
    ));
    lines.extend(throughput_lines(
        "QueryData 1,000 rows, 256 in flight: req/s",
        |r| &r.small_256,
    ));
    lines.extend([
        Line::new(
            "QueryData 1,000,000 rows, after the small loads: MB/s of frames",
            Unit::PerSecond,
            true,
            |r| Some(r.large.mb_per_s),
        ),
        Line::new("  rows/s", Unit::RowsPerSecond, true, |r| {
            Some(r.large.rows_per_s)
        }),
        Line::new("  encoded frame per answer", Unit::MB, false, |r| {
            Some(r.large.answer_bytes as f64)
        }),
        Line::new(
            "  raw unix-socket copy of as many bytes, same moment: MB/s",
            Unit::PerSecond,
            false,
            |r| Some(r.raw_socket_mb_per_s),
        ),
        Line::new("  raw copy / transfer", Unit::Factor, false, |r| {
            (r.large.mb_per_s > 0.0).then(|| r.raw_socket_mb_per_s / r.large.mb_per_s)
        }),
        Line::new(
            "QueryData 1,000,000 rows, fresh connection: MB/s of frames",
            Unit::PerSecond,
            true,
            |r| Some(r.large_fresh.mb_per_s),
        ),
        Line::new("  rows/s", Unit::RowsPerSecond, true, |r| {
            Some(r.large_fresh.rows_per_s)
        }),
    ]);
    let [json_rps, json_p50, json_p99] =
        throughput_lines("QueryData JSON 1,000 rows, 1 in flight: req/s", |r| {
            &r.small_one
        });
    // The JSON loads exist only for plugins that answer JSON.
    let of_json = |line: Line, figure: fn(&JsonResults) -> f64| Line {
        figure: Box::new(json(figure)),
        ..line
    };
    lines.extend([
        of_json(json_rps, |j| j.small_one.requests_per_s),
        of_json(json_p50, |j| j.small_one.p50.as_secs_f64()),
        of_json(json_p99, |j| j.small_one.p99.as_secs_f64()),
        Line::new(
            "QueryData JSON 1,000,000 rows: MB/s of frames",
            Unit::PerSecond,
            true,
            json(|j| j.large.mb_per_s),
        ),
        Line::new(
            "  rows/s",
            Unit::RowsPerSecond,
            true,
            json(|j| j.large.rows_per_s),
        ),
        Line::new(
            "  encoded frame per answer",
            Unit::MB,
            false,
            json(|j| j.large.answer_bytes as f64),
        ),
        Line::new("spawn to handshake (median)", Unit::Millis, false, |r| {
            Some(r.startup.as_secs_f64())
        }),
        Line::new("idle RSS", Unit::MiB, false, |r| Some(r.idle_rss as f64)),
        Line::new(
            "peak RSS (VmHWM) after 1,000,000 rows",
            Unit::MiB,
            false,
            |r| Some(r.peak_rss as f64),
        ),
        Line::new(
            "  ... and after the JSON answers too",
            Unit::MiB,
            false,
            json(|j| j.peak_rss as f64),
        ),
        Line::new("stripped release binary", Unit::MiB, false, |r| {
            Some(r.binary_size as f64)
        }),
    ]);
    lines
}

/// The report's cells for `results` (one per plugin, then one ratio per
/// plugin after the first), line by line.
fn report_rows(results: &[Results]) -> Vec<Vec<String>> {
    lines()
        .iter()
        .map(|line| {
            let figures: Vec<Option<f64>> = results.iter().map(|r| (line.figure)(r)).collect();
            let mut cells = vec![line.name.to_owned()];
            cells.extend(
                figures
                    .iter()
                    .map(|figure| figure.map_or_else(|| "n/a".to_owned(), |v| line.unit.show(v))),
            );
            cells.extend(figures[1..].iter().map(|other| match (figures[0], *other) {
                (Some(first), Some(other)) if line.ratio && other > 0.0 => {
                    format!("{:.2}x", first / other)
                }
                _ => String::new(),
            }));
            cells
        })
        .collect()
}

fn print_report(contenders: &[Contender], results: &[Results], rounds: usize) {
    println!();
    println!("medians of {rounds} round(s), rotating which plugin goes first");
    println!();
    let first = &contenders[0].name;
    let mut header = vec!["workload".to_owned()];
    header.extend(contenders.iter().map(|c| c.name.clone()));
    header.extend(
        contenders[1..]
            .iter()
            .map(|c| format!("{first} vs {}", c.name)),
    );
    println!("| {} |", header.join(" | "));
    println!("|---|{}", "---:|".repeat(header.len() - 1));
    for row in report_rows(results) {
        println!("| {} |", row.join(" | "));
    }
    println!();
    for (contender, result) in contenders.iter().zip(results) {
        for failure in &result.failures {
            println!("n/a in some rounds: {failure}");
        }
        if result.json.is_none() {
            println!(
                "n/a: {} answers a format=JSON request with Arrow frames (DataResponse.format = ARROW)",
                contender.name
            );
        }
    }
    println!(
        "machine: {} CPUs; {}",
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

/// The one-minute load average, or `?` where `/proc/loadavg` is missing.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|load| load.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".to_owned())
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

    fn round(mb_per_s: f64, idle_rss: u64, p50_ms: u64) -> Results {
        Results {
            large: Large {
                mb_per_s,
                ..Large::default()
            },
            idle_rss,
            small_one: Throughput {
                requests_per_s: 1.0,
                p50: Duration::from_millis(p50_ms),
                ..Throughput::default()
            },
            ..Results::default()
        }
    }

    #[test]
    fn each_figure_takes_its_own_median() {
        let median = Results::median(&[round(300.0, 7, 2), round(100.0, 9, 3), round(200.0, 8, 1)]);
        assert_eq!(median.large.mb_per_s, 200.0);
        assert_eq!(median.idle_rss, 8);
        assert_eq!(median.small_one.p50, Duration::from_millis(2));
        assert_eq!(Results::median(&[round(5.0, 1, 1)]).large.mb_per_s, 5.0);
    }

    #[test]
    fn json_figures_need_every_round() {
        let with_json = |requests_per_s| Results {
            json: Some(JsonResults {
                small_one: Throughput {
                    requests_per_s,
                    ..Throughput::default()
                },
                ..JsonResults::default()
            }),
            ..Results::default()
        };
        let median = Results::median(&[with_json(1.0), with_json(3.0), with_json(2.0)]);
        assert_eq!(median.json.map(|j| j.small_one.requests_per_s), Some(2.0));
        let mixed = Results::median(&[with_json(1.0), Results::default()]);
        assert!(mixed.json.is_none());
    }

    #[test]
    fn ratios_compare_the_first_plugin_and_skip_missing_figures() {
        let fast = Results {
            json: Some(JsonResults::default()),
            ..round(300.0, 1, 1)
        };
        let rows = report_rows(&[fast, round(100.0, 1, 1), round(150.0, 1, 1)]);
        let mb_per_s = rows
            .iter()
            .find(|row| row[0] == "QueryData 1,000,000 rows, after the small loads: MB/s of frames")
            .unwrap();
        assert_eq!(mb_per_s[1..], ["300", "100", "150", "3.00x", "2.00x"]);
        let json = rows
            .iter()
            .find(|row| row[0].starts_with("QueryData JSON 1,000 rows"))
            .unwrap();
        assert_eq!(json[1..], ["0", "n/a", "n/a", "", ""]);
        let p50 = &rows[1];
        assert_eq!(p50[1..], ["1.000 ms", "1.000 ms", "1.000 ms", "", ""]);
    }

    #[test]
    fn the_raw_copy_moves_every_byte() {
        let budget = Budget {
            large_queries: 3,
            ..QUICK
        };
        let mb_per_s = raw_socket_copy(1_000_003, budget).unwrap();
        assert!(mb_per_s.is_finite() && mb_per_s > 0.0, "{mb_per_s}");
    }

    #[test]
    fn the_raw_copy_factor_divides_raw_by_transfer() {
        let result = Results {
            large: Large {
                mb_per_s: 500.0,
                ..Large::default()
            },
            raw_socket_mb_per_s: 6_000.0,
            ..Results::default()
        };
        let rows = report_rows(&[result, Results::default()]);
        let factor = rows
            .iter()
            .find(|row| row[0] == "  raw copy / transfer")
            .unwrap();
        // No transfer measured: no factor.
        assert_eq!(factor[1..], ["12.00x", "n/a", ""]);
    }

    #[test]
    fn contenders_are_name_equals_binary() {
        let contender = Contender::parse("this SDK=/tmp/a=b").unwrap();
        assert_eq!(contender.name, "this SDK");
        assert_eq!(contender.binary, PathBuf::from("/tmp/a=b"));
        assert!(Contender::parse("/tmp/plugin").is_err());
        assert!(Contender::parse("=/tmp/plugin").is_err());
    }
}
