//! The bench-datasource contract on the peer SDK (`grafana-plugin-sdk` 0.5),
//! written the way its documentation and example show.
//!
//! * Query `{"rows": N}`: one frame `bench` of N rows: `time` (one per second
//!   from the query's start), `value` (float64 `i * 0.5`) and `label`
//!   (nullable string: null on rows 0, 3, 6…, else `row <i>`).
//! * Resource `echo`: POST returns the body; other methods a JSON
//!   description of the request.
//! * Stream `ticks`: a one-row frame (`time`, `value`) every 20 ms.

use std::time::Duration;

use bytes::Bytes;
use chrono::{TimeDelta, Utc};
use futures_util::stream::{FuturesOrdered, StreamExt};
use grafana_plugin_sdk::{backend, data, prelude::*};
use serde::Deserialize;

#[derive(Clone, Debug, Default, GrafanaPlugin)]
#[grafana_plugin(plugin_type = "datasource")]
struct BenchDataSource;

#[derive(Debug, Deserialize)]
struct BenchQuery {
    rows: usize,
}

#[derive(Debug, thiserror::Error)]
#[error("query {ref_id}: {source}")]
struct QueryError {
    ref_id: String,
    source: data::Error,
}

impl backend::DataQueryError for QueryError {
    fn ref_id(self) -> String {
        self.ref_id
    }
}

fn bench_frame(rows: usize, start: chrono::DateTime<Utc>) -> data::Frame {
    let times: Vec<_> = (0..rows)
        .map(|i| start + TimeDelta::seconds(i as i64))
        .collect();
    let values: Vec<f64> = (0..rows).map(|i| i as f64 * 0.5).collect();
    let labels: Vec<Option<String>> = (0..rows)
        .map(|i| (i % 3 != 0).then(|| format!("row {i}")))
        .collect();
    [
        times.into_field("time"),
        values.into_field("value"),
        labels.into_opt_field("label"),
    ]
    .into_frame("bench")
}

#[tonic::async_trait]
impl backend::DataService for BenchDataSource {
    type Query = BenchQuery;
    type QueryError = QueryError;
    type Stream = backend::BoxDataResponseStream<Self::QueryError>;

    async fn query_data(
        &self,
        request: backend::QueryDataRequest<Self::Query, Self>,
    ) -> Self::Stream {
        Box::pin(
            request
                .queries
                .into_iter()
                .map(|query| async move {
                    let frame = bench_frame(query.query.rows, query.time_range.from);
                    let checked = frame.check().map_err(|source| QueryError {
                        ref_id: query.ref_id.clone(),
                        source,
                    })?;
                    Ok(backend::DataResponse::new(
                        query.ref_id.clone(),
                        vec![checked],
                    ))
                })
                .collect::<FuturesOrdered<_>>(),
        )
    }
}

#[derive(Debug, thiserror::Error)]
enum ResourceError {
    #[error("not found")]
    NotFound,
    #[error("HTTP error: {0}")]
    Http(#[from] http::Error),
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
}

impl backend::ErrIntoHttpResponse for ResourceError {
    fn into_http_response(self) -> Result<http::Response<Bytes>, Box<dyn std::error::Error>> {
        let status = match self {
            ResourceError::NotFound => http::StatusCode::NOT_FOUND,
            _ => http::StatusCode::INTERNAL_SERVER_ERROR,
        };
        Ok(http::Response::builder()
            .status(status)
            .body(Bytes::from(self.to_string()))?)
    }
}

#[tonic::async_trait]
impl backend::ResourceService for BenchDataSource {
    type Error = ResourceError;
    type InitialResponse = http::Response<Bytes>;
    type Stream = backend::BoxResourceStream<Self::Error>;

    async fn call_resource(
        &self,
        request: backend::CallResourceRequest<Self>,
    ) -> Result<(Self::InitialResponse, Self::Stream), Self::Error> {
        let request = request.request;
        if request.uri().path().trim_start_matches('/') != "echo" {
            return Err(ResourceError::NotFound);
        }
        let response = if request.method() == http::Method::POST {
            http::Response::new(request.into_body())
        } else {
            let description = serde_json::json!({
                "method": request.method().as_str(),
                "url": request.uri().to_string(),
            });
            http::Response::builder()
                .header(http::header::CONTENT_TYPE, "application/json")
                .body(Bytes::from(serde_json::to_vec(&description)?))?
        };
        Ok((response, Box::pin(futures_util::stream::empty())))
    }
}

#[derive(Debug, thiserror::Error)]
enum StreamError {
    #[error("cannot convert frame: {0}")]
    Conversion(#[from] backend::ConvertToError),
    #[error("invalid frame: {0}")]
    Frame(#[from] data::Error),
}

#[tonic::async_trait]
impl backend::StreamService for BenchDataSource {
    type JsonValue = ();
    type Error = StreamError;
    type Stream = backend::BoxRunStream<Self::Error>;

    async fn subscribe_stream(
        &self,
        request: backend::SubscribeStreamRequest<Self>,
    ) -> Result<backend::SubscribeStreamResponse, Self::Error> {
        Ok(if request.path.as_str() == "ticks" {
            backend::SubscribeStreamResponse::ok(None)
        } else {
            backend::SubscribeStreamResponse::not_found()
        })
    }

    async fn run_stream(
        &self,
        _request: backend::RunStreamRequest<Self>,
    ) -> Result<Self::Stream, Self::Error> {
        let interval = tokio::time::interval(Duration::from_millis(20));
        let ticks =
            futures_util::stream::unfold((interval, 0_u64), |(mut interval, tick)| async move {
                interval.tick().await;
                let frame = [
                    vec![Utc::now()].into_field("time"),
                    vec![tick as f64].into_field("value"),
                ]
                .into_frame("ticks");
                let packet = frame
                    .check()
                    .map_err(StreamError::from)
                    .and_then(|checked| {
                        backend::StreamPacket::from_frame(checked).map_err(StreamError::from)
                    });
                Some((packet, (interval, tick + 1)))
            });
        Ok(ticks.boxed())
    }

    async fn publish_stream(
        &self,
        _request: backend::PublishStreamRequest<Self>,
    ) -> Result<backend::PublishStreamResponse, Self::Error> {
        Ok(backend::PublishStreamResponse::permission_denied(
            serde_json::Value::Null,
        ))
    }
}

#[grafana_plugin_sdk::main(services(data, resource, stream), init_subscriber = true)]
async fn plugin() -> BenchDataSource {
    BenchDataSource
}
