//! Building and encoding a 1,000,000-row frame (time, float64, nullable string), with a plain
//! memcpy of the same number of bytes as the yardstick for the Arrow encoder.
//!
//! `cargo bench -p plugin-data --bench frame -- --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use plugin_data::{Field, FieldValues, Frame, FrameInclude};

const ROWS: usize = 1_000_000;
const START_NS: i64 = 1_700_000_000_000_000_000;

struct Columns {
    times: Vec<i64>,
    values: Vec<f64>,
    hosts: Vec<Option<String>>,
}

fn columns() -> Columns {
    Columns {
        times: (0..ROWS as i64).map(|i| START_NS + i * 1_000_000).collect(),
        values: (0..ROWS).map(|i| i as f64 * 0.5).collect(),
        hosts: (0..ROWS)
            .map(|i| (i % 10 != 0).then(|| format!("host-{}", i % 100)))
            .collect(),
    }
}

fn build(c: Columns) -> Frame {
    Frame::new("bench")
        .with_field(Field::new("time", FieldValues::time_nanos(c.times)))
        .with_field(Field::new("value", c.values))
        .with_field(Field::new("host", c.hosts))
}

fn benches(c: &mut Criterion) {
    let frame = build(columns());
    let encoded = frame.to_arrow_ipc().expect("encodes");
    let bytes = encoded.len() as u64;

    let mut group = c.benchmark_group("frame_1m_rows");
    group.sample_size(10).warm_up_time(Duration::from_secs(1));

    group.throughput(Throughput::Bytes(bytes));
    group.bench_function("to_arrow_ipc", |b| {
        b.iter(|| black_box(&frame).to_arrow_ipc())
    });
    // The yardstick: allocate and copy the same number of bytes once.
    group.bench_function("memcpy_same_bytes", |b| {
        b.iter(|| black_box(&encoded[..]).to_vec())
    });
    group.bench_function("from_arrow_ipc", |b| {
        b.iter(|| Frame::from_arrow_ipc(black_box(&encoded)))
    });

    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("build_from_vecs", |b| {
        b.iter_batched(columns, build, BatchSize::LargeInput)
    });
    group.bench_function("to_json", |b| {
        b.iter(|| black_box(&frame).to_json(FrameInclude::All))
    });
    group.finish();
}

criterion_group!(frame_benches, benches);
criterion_main!(frame_benches);
