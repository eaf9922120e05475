//! The data source `tests/plugin_process.rs` launches: a plugin served by
//! `plugin_serve::datasource::manage`, exactly as a plugin's `main` would
//! serve it, with one handler for every endpoint Grafana calls.
//!
//! Built as a test-only example (see the `[[example]]` in `Cargo.toml`)
//! rather than a binary, so that it is never installed with the crate.
//!
//! * `QueryData`: query JSON `{"rows": N, "sleep_ms": M}` answers a frame
//!   `series` of N rows after M milliseconds (the slow request the
//!   shutdown tests need); it logs `running query` at debug level first.
//! * `CallResource`: two messages, `path=<path>` with status 200, then the
//!   request body.
//! * `CheckHealth`: `<url> is healthy`, logged at info level with `url`.
//! * streams: subscribe and publish succeed; `RunStream` sends `{"n":1}`
//!   and `{"n":2}`, then ends.
//! * no chunked handler, admission or conversion: Grafana gets
//!   `Unimplemented`.
//! * the cleanup hook logs `cleanup hook ran`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use http::StatusCode;
use plugin_backend::{
    CallResourceHandler, CallResourceRequest, CallResourceResponse, CallResourceResponseSender,
    CheckHealthHandler, CheckHealthRequest, CheckHealthResult, DataResponse, Error, Plugin,
    PublishStreamRequest, PublishStreamResponse, QueryDataHandler, QueryDataRequest,
    QueryDataResponse, RunStreamRequest, StreamHandler, StreamSender, StreamStatus,
    SubscribeStreamRequest, SubscribeStreamResponse,
};
use plugin_data::{Field, Frame};
use plugin_serve::{ManageOptions, ServeOptions};

/// The plugin's id (its `plugin.json` id in the standalone test).
const PLUGIN_ID: &str = "test-plugin";

/// One data source instance.
struct TestDataSource {
    url: String,
}

#[derive(serde::Deserialize)]
struct Query {
    #[serde(default)]
    rows: usize,
    #[serde(default)]
    sleep_ms: u64,
}

impl QueryDataHandler for TestDataSource {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        let mut response = QueryDataResponse::new();
        for query in &request.queries {
            let parsed: Query = query.parse_json()?;
            tracing::debug!(ref_id = %query.ref_id, rows = parsed.rows, "running query");
            // The work of a slow query, not synchronisation: the tests wait
            // for the log line above.
            tokio::time::sleep(Duration::from_millis(parsed.sleep_ms)).await;
            let ids: Vec<i64> = (0..parsed.rows as i64).collect();
            let values: Vec<f64> = (0..parsed.rows).map(|row| row as f64).collect();
            let frame = Frame::new("series")
                .with_field(Field::new("id", ids))
                .with_field(Field::new("value", values));
            response.insert(query.ref_id.clone(), DataResponse::from(frame));
        }
        Ok(response)
    }
}

impl CallResourceHandler for TestDataSource {
    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        let head =
            CallResourceResponse::new(StatusCode::OK).with_body(format!("path={}", request.path));
        sender.send(head).await?;
        sender
            .send(CallResourceResponse::body_chunk(request.body))
            .await
    }
}

impl CheckHealthHandler for TestDataSource {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        tracing::info!(url = %self.url, "health check");
        Ok(CheckHealthResult::ok(format!("{} is healthy", self.url)))
    }
}

impl StreamHandler for TestDataSource {
    async fn subscribe_stream(
        &self,
        _: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        Ok(SubscribeStreamResponse::ok())
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        Ok(PublishStreamResponse::new(StreamStatus::Ok, request.data))
    }

    async fn run_stream(&self, _: RunStreamRequest, mut sender: StreamSender) -> Result<(), Error> {
        sender.send_json(r#"{"n":1}"#).await?;
        sender.send_json(r#"{"n":2}"#).await
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = ManageOptions::new().with_serve_options(
        ServeOptions::new()
            .with_build_info(plugin_serve::build_info!())
            .on_shutdown(|| async { tracing::info!("cleanup hook ran") }),
    );
    let served = plugin_serve::datasource::manage(
        PLUGIN_ID,
        |settings, _context| async move {
            let instance = Arc::new(TestDataSource {
                url: settings.url.clone(),
            });
            Ok(Plugin::new()
                .with_query_data(instance.clone())
                .with_call_resource(instance.clone())
                .with_check_health(instance.clone())
                .with_stream(instance))
        },
        options,
    )
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("plugin failed: {err}");
            ExitCode::FAILURE
        }
    }
}
