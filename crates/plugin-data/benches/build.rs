//! Building a 1,000,000-row frame from 1,000,000 structs (time, float64, int64, nullable
//! string): with `#[derive(ToFrame)]`, with the row-wise `FrameBuilder`, and by hand, one
//! column at a time into `Vec`s moved into `Field::new`. The derive's target is within 2× of by
//! hand.
//!
//! `cargo bench -p plugin-data --features derive --bench build -- --measurement-time 3`

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use plugin_data::builder::{FieldSpec, FrameBuilder};
use plugin_data::{CellValue, Field, FieldType, Frame, ToFrame};

const ROWS: usize = 1_000_000;

#[derive(ToFrame)]
struct Sample {
    time: SystemTime,
    value: f64,
    count: i64,
    host: Option<String>,
}

fn samples() -> Vec<Sample> {
    let start = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    (0..ROWS)
        .map(|i| Sample {
            time: start + Duration::from_millis(i as u64),
            value: i as f64 * 0.5,
            count: i as i64,
            host: (i % 10 != 0).then(|| format!("host-{}", i % 100)),
        })
        .collect()
}

fn by_derive(rows: &[Sample]) -> Frame {
    Sample::to_frame("bench", rows).expect("builds")
}

fn by_row_builder(rows: &[Sample]) -> Frame {
    let mut builder = FrameBuilder::of_field_types([
        FieldSpec::new(FieldType::Time),
        FieldSpec::new(FieldType::Float64),
        FieldSpec::new(FieldType::Int64),
        FieldSpec::nullable(FieldType::String),
    ])
    .with_name("bench")
    .with_field_names(["time", "value", "count", "host"])
    .expect("four names");
    builder.reserve(rows.len());
    for row in rows {
        builder
            .append_row(&[
                row.time.into(),
                row.value.into(),
                row.count.into(),
                row.host
                    .as_deref()
                    .map_or(CellValue::Null, CellValue::String),
            ])
            .expect("fits");
    }
    builder.build().expect("builds")
}

fn by_hand(rows: &[Sample]) -> Frame {
    Frame::new("bench")
        .with_field(Field::new(
            "time",
            rows.iter().map(|r| r.time).collect::<Vec<_>>(),
        ))
        .with_field(Field::new(
            "value",
            rows.iter().map(|r| r.value).collect::<Vec<_>>(),
        ))
        .with_field(Field::new(
            "count",
            rows.iter().map(|r| r.count).collect::<Vec<_>>(),
        ))
        .with_field(Field::new(
            "host",
            rows.iter().map(|r| r.host.as_deref()).collect::<Vec<_>>(),
        ))
}

fn benches(c: &mut Criterion) {
    let rows = samples();
    // The three paths build the same frame.
    let expected = by_hand(&rows);
    assert_eq!(by_derive(&rows), expected);
    assert_eq!(by_row_builder(&rows), expected);

    let mut group = c.benchmark_group("structs_1m_to_frame");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("derive", |b| b.iter(|| by_derive(black_box(&rows))));
    group.bench_function("row_builder", |b| {
        b.iter(|| by_row_builder(black_box(&rows)))
    });
    group.bench_function("by_hand", |b| b.iter(|| by_hand(black_box(&rows))));
    group.finish();
}

criterion_group!(build_benches, benches);
criterion_main!(build_benches);
