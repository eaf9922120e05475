//! Frame JSON (`Frame::to_json` / `Frame::from_json`) of a 1,000,000-row and a 1,000-row frame:
//! time, float64 with NaN and ±Inf, int64, string (some needing escapes), nullable float64.
//! Throughput is in rows; the encoded size is printed once so MB/s follows from the time.
//!
//! `interop/go/frames/json_bench_test.go` builds the same frame with the Go SDK.
//!
//! `cargo bench -p plugin-data --bench json -- --measurement-time 3`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plugin_data::{Field, FieldValues, Frame, FrameInclude};

const START_NS: i64 = 1_700_000_000_000_000_000;

/// The benchmark frame; `json_bench_test.go` builds the same values.
fn frame(rows: usize) -> Frame {
    let float = |i: usize| match i % 100 {
        7 => f64::NAN,
        51 if i % 1000 == 51 => f64::INFINITY,
        52 if i % 1000 == 52 => f64::NEG_INFINITY,
        _ => i as f64 / 7.0,
    };
    let string = |i: usize| match i % 50 {
        0 => format!("<host & \"{i}\">"),
        _ => format!("host-{}", i % 100),
    };
    Frame::new("bench")
        .with_field(Field::new(
            "time",
            FieldValues::time_nanos((0..rows as i64).map(|i| START_NS + i * 1_000_000).collect()),
        ))
        .with_field(Field::new(
            "value",
            (0..rows).map(float).collect::<Vec<_>>(),
        ))
        .with_field(Field::new(
            "count",
            (0..rows as i64)
                .map(|i| i * 37 - 500_000)
                .collect::<Vec<_>>(),
        ))
        .with_field(Field::new(
            "host",
            (0..rows).map(string).collect::<Vec<_>>(),
        ))
        .with_field(Field::new(
            "maybe",
            (0..rows)
                .map(|i| (i % 3 != 0).then_some((i % 1000) as f64 * 0.25))
                .collect::<Vec<_>>(),
        ))
}

fn bench_rows(c: &mut Criterion, rows: usize, group_name: &str) {
    let frame = frame(rows);
    let json = frame.to_json(FrameInclude::All).expect("encodes");
    eprintln!("{group_name}: frame JSON is {} bytes", json.len());

    let mut group = c.benchmark_group(group_name);
    group
        .throughput(Throughput::Elements(rows as u64))
        .warm_up_time(Duration::from_secs(1));
    if rows >= 100_000 {
        group.sample_size(10);
    }
    group.bench_function("to_json", |b| {
        b.iter(|| black_box(&frame).to_json(FrameInclude::All))
    });
    group.bench_function("from_json", |b| {
        b.iter(|| Frame::from_json(black_box(&json)))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    bench_rows(c, 1_000_000, "json_1m_rows");
    bench_rows(c, 1_000, "json_1k_rows");
}

criterion_group!(json_benches, benches);
criterion_main!(json_benches);
