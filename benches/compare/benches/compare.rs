//! The same workload on plugin-data and on the peer SDK `grafana-plugin-sdk` 0.5: build a
//! 1,000,000-row frame (time, float64, nullable string) from vectors and encode it to Arrow IPC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

const ROWS: usize = 1_000_000;

struct Columns {
    times: Vec<SystemTime>,
    /// The same instants as nanoseconds since the Unix epoch.
    nanos: Vec<i64>,
    values: Vec<f64>,
    hosts: Vec<Option<String>>,
}

fn columns() -> Columns {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let times: Vec<SystemTime> = (0..ROWS)
        .map(|i| start + Duration::from_millis(i as u64))
        .collect();
    Columns {
        nanos: times
            .iter()
            .map(|t| t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as i64))
            .collect(),
        times,
        values: (0..ROWS).map(|i| i as f64 * 0.5).collect(),
        hosts: (0..ROWS)
            .map(|i| (i % 10 != 0).then(|| format!("host-{}", i % 100)))
            .collect(),
    }
}

// Both routines borrow the times and strings and hand them back, so criterion drops them outside
// the timed region: the figure is the SDK's work (build + encode), not the allocator freeing
// 900,000 input `String`s, which neither SDK needs to own. Each takes the float column by value,
// its natural API: plugin-data moves the allocation into Arrow, the peer copies element by
// element.

type Leftovers = (Vec<SystemTime>, Vec<Option<String>>);

fn ours(c: Columns) -> (Leftovers, bytes::Bytes) {
    use plugin_data::{Field, Frame};
    let frame = Frame::new("bench")
        .with_field(Field::from_values("time", c.times.iter().copied()))
        .with_field(Field::new("value", c.values))
        .with_field(Field::from_values(
            "host",
            c.hosts.iter().map(Option::as_deref),
        ));
    let encoded = frame.to_arrow_ipc().unwrap_or_default();
    ((c.times, c.hosts), encoded)
}

/// plugin-data's fastest input for the same frame: times as nanoseconds, moved into Arrow without
/// a copy like the floats. The peer has no such input (its time fields take date-time values).
fn ours_nanos(c: Columns) -> (Leftovers, bytes::Bytes) {
    use plugin_data::{Field, FieldValues, Frame};
    let frame = Frame::new("bench")
        .with_field(Field::new("time", FieldValues::time_nanos(c.nanos)))
        .with_field(Field::new("value", c.values))
        .with_field(Field::from_values(
            "host",
            c.hosts.iter().map(Option::as_deref),
        ));
    let encoded = frame.to_arrow_ipc().unwrap_or_default();
    ((c.times, c.hosts), encoded)
}

fn peer(c: Columns) -> (Leftovers, impl Sized) {
    use grafana_plugin_sdk::backend::DataResponse;
    use grafana_plugin_sdk::data::Frame;
    use grafana_plugin_sdk::prelude::*;
    let frame = Frame::new("bench")
        .with_field(c.times.iter().copied().into_field("time"))
        .with_field(c.values.into_field("value"))
        .with_field(c.hosts.iter().map(Option::as_deref).into_opt_field("host"));
    // `DataResponse::new` encodes the frames to Arrow IPC eagerly (the bytes stay private).
    let response = frame
        .check()
        .ok()
        .map(|checked| DataResponse::new("A".to_owned(), vec![checked]));
    ((c.times, c.hosts), response)
}

fn compare(c: &mut Criterion) {
    let encoded_len = ours(columns()).1.len();
    let mut group = c.benchmark_group("build_and_encode_1m_rows");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(8))
        .warm_up_time(Duration::from_secs(2));
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("plugin-data", |b| {
        b.iter_batched(columns, ours, BatchSize::LargeInput)
    });
    group.bench_function("plugin-data (time as ns)", |b| {
        b.iter_batched(columns, ours_nanos, BatchSize::LargeInput)
    });
    group.bench_function("grafana-plugin-sdk-0.5", |b| {
        b.iter_batched(columns, peer, BatchSize::LargeInput)
    });
    group.finish();
    eprintln!("plugin-data Arrow file: {encoded_len} bytes");
}

criterion_group!(benches, compare);
criterion_main!(benches);
