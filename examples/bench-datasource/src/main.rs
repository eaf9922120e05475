//! The benchmark data source, `acme-bench-datasource`.
//!
//! Its contract is fixed, because `cargo xtask bench` drives the same
//! contract on this SDK and on the peer SDK
//! (`benches/compare/peer-datasource`), and `cargo xtask demo` shows it off:
//!
//! * **query** `{"rows": N}`: one frame `bench` of N rows with fields `time`
//!   (one per second from the query's start), `value` (float64 `i * 0.5`)
//!   and `label` (nullable string: **null on rows 0, 3, 6…**, else
//!   `row <i>`);
//! * **resource** `echo`: `POST` answers the request body; any other method
//!   a JSON description of the request (`{"method":…,"url":…}`);
//! * **stream** `ticks`: a one-row frame (`time`, `value` = tick number)
//!   every 20 ms, the schema in the first packet only;
//! * **health**: always OK.

use std::fmt::Write as _;
use std::time::Duration;

use grafana_plugin::bytes::Bytes;
use grafana_plugin::data::FieldValues;
use grafana_plugin::data::arrow_reexport::array::builder::StringBuilder;
use grafana_plugin::http::{Method, StatusCode, header};
use grafana_plugin::prelude::*;
use grafana_plugin::serde::Deserialize;
use grafana_plugin::{serde_json, tokio};

/// The plugin id in plugin.json.
const PLUGIN_ID: &str = "acme-bench-datasource";

/// More rows than this are refused rather than risking the host's memory.
const MAX_ROWS: usize = 20_000_000;

/// The interval between two packets of the `ticks` stream.
const TICK_INTERVAL: Duration = Duration::from_millis(20);

/// A query: how many rows to return.
#[derive(Debug, Deserialize)]
#[serde(crate = "grafana_plugin::serde")]
struct BenchQuery {
    rows: usize,
}

/// The data source; it keeps no state, so one value serves every instance.
#[derive(Debug, Clone, Copy)]
struct BenchDataSource;

/// The `bench` frame of `rows` rows starting at `start_nanos`.
fn bench_frame(rows: usize, start_nanos: i64) -> Frame {
    const SECOND: i64 = 1_000_000_000;
    // Each Vec's allocation becomes the Arrow buffer of its field: no copy.
    let times: Vec<i64> = (0..rows as i64)
        .map(|i| start_nanos.saturating_add(i * SECOND))
        .collect();
    let values: Vec<f64> = (0..rows).map(|i| i as f64 * 0.5).collect();
    // Labels are written straight into one Arrow string buffer: no `String`
    // per row, and the finished array becomes the field without a copy.
    let mut labels = StringBuilder::with_capacity(rows, rows * 10);
    for i in 0..rows {
        if i % 3 == 0 {
            labels.append_null();
        } else {
            // Writing into the builder's buffer cannot fail.
            let _ = write!(labels, "row {i}");
            labels.append_value("");
        }
    }
    // The field is nullable by contract, even for a frame too short to hold a
    // null; marking an array without nulls as nullable cannot fail.
    let labels = FieldValues::from(labels.finish());
    let labels = labels.clone().with_nullable(true).unwrap_or(labels);
    Frame::new("bench")
        .with_field(Field::new("time", FieldValues::time_nanos(times)))
        .with_field(Field::new("value", values))
        .with_field(Field::new("label", labels))
}

fn answer(query: &DataQuery) -> DataResponse {
    let BenchQuery { rows } = match query.parse_json() {
        Ok(parsed) => parsed,
        Err(error) => return DataResponse::from_error(error),
    };
    if rows > MAX_ROWS {
        return DataResponse::from_error(Error::plugin(format!(
            "at most {MAX_ROWS} rows, asked for {rows}"
        )));
    }
    let Some(start) = query.time_range.from.timestamp_nanos_opt() else {
        return DataResponse::from_error(Error::plugin(
            "the query starts outside the representable time range",
        ));
    };
    DataResponse::from(bench_frame(rows, start))
}

impl QueryDataHandler for BenchDataSource {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        Ok(request
            .queries
            .iter()
            .map(|query| (query.ref_id.clone(), answer(query)))
            .collect())
    }
}

impl CallResourceHandler for BenchDataSource {
    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        let response = match (request.path.trim_matches('/'), &request.method) {
            ("echo", &Method::POST) => {
                CallResourceResponse::new(StatusCode::OK).with_body(request.body)
            }
            ("echo", method) => {
                let description =
                    serde_json::json!({ "method": method.as_str(), "url": request.url });
                CallResourceResponse::new(StatusCode::OK)
                    .with_header(
                        header::CONTENT_TYPE,
                        header::HeaderValue::from_static("application/json"),
                    )
                    .with_body(Bytes::from(description.to_string()))
            }
            _ => CallResourceResponse::new(StatusCode::NOT_FOUND).with_body("no such resource"),
        };
        sender.send(response).await
    }
}

impl CheckHealthHandler for BenchDataSource {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        Ok(CheckHealthResult::ok("bench data source is ready"))
    }
}

impl StreamHandler for BenchDataSource {
    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        Ok(match request.path.as_str() {
            "ticks" => SubscribeStreamResponse::ok(),
            _ => SubscribeStreamResponse::with_status(StreamStatus::NotFound),
        })
    }

    async fn publish_stream(
        &self,
        _: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        Ok(PublishStreamResponse::new(
            StreamStatus::PermissionDenied,
            Bytes::new(),
        ))
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        mut sender: StreamSender,
    ) -> Result<(), Error> {
        if request.path != "ticks" {
            return Err(Error::plugin(format!("no stream {:?}", request.path)));
        }
        let mut interval = tokio::time::interval(TICK_INTERVAL);
        let mut include = FrameInclude::All;
        for tick in 0_u32.. {
            interval.tick().await;
            let frame = Frame::new("ticks")
                .with_field(Field::new("time", vec![std::time::SystemTime::now()]))
                .with_field(Field::new("value", vec![f64::from(tick)]));
            // Fails once Grafana (or the test) stops listening: the stream ends.
            sender.send_frame(&frame, include).await?;
            include = FrameInclude::DataOnly;
        }
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    grafana_plugin::run(grafana_plugin::datasource::manage(
        PLUGIN_ID,
        |_settings, _context| async move {
            Ok(Plugin::new()
                .with_query_data(BenchDataSource)
                .with_call_resource(BenchDataSource)
                .with_check_health(BenchDataSource)
                .with_stream(BenchDataSource))
        },
        ManageOptions::new().with_build_info(build_info!()),
    ))
}
