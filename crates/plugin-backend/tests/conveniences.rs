//! Query-type routing, bounded concurrency, chunked writing and stream sending.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use plugin_backend::concurrent::{self, DEFAULT_CONCURRENCY};
use plugin_backend::{
    ChunkedDataWriter, DataFrameFormat, DataQuery, DataResponse, Error, GrafanaConfig,
    PluginContext, QueryChunkedDataHandler, QueryChunkedDataRequest, QueryDataHandler,
    QueryDataRequest, QueryDataResponse, QueryTypeMux, StreamSender, query_data_fn,
};
use plugin_data::{Field, Frame, FrameInclude};
use support::{block_on, collecting_sender};

fn queries(specs: &[(&str, &str)]) -> QueryDataRequest {
    let queries = specs
        .iter()
        .map(|(ref_id, query_type)| DataQuery::new(*ref_id, "{}").with_query_type(*query_type))
        .collect();
    QueryDataRequest::new(PluginContext::new("mux-test"), queries)
}

/// Answers every query with a frame named `name`, recording the batch size.
fn named(
    name: &'static str,
    batches: Arc<std::sync::Mutex<Vec<(String, usize)>>>,
) -> impl QueryDataHandler {
    query_data_fn(move |request: QueryDataRequest| {
        batches
            .lock()
            .unwrap()
            .push((name.to_owned(), request.queries.len()));
        async move {
            Ok(request
                .queries
                .iter()
                .map(|q| (q.ref_id.clone(), DataResponse::from(Frame::new(name))))
                .collect::<QueryDataResponse>())
        }
    })
}

#[test]
fn mux_routes_by_query_type_with_fallback() {
    let batches = Arc::default();
    let mux = QueryTypeMux::new()
        .with_handler("logs", named("logs", Arc::clone(&batches)))
        .with_fallback(named("fallback", Arc::clone(&batches)));
    let response = block_on(mux.query_data(queries(&[
        ("A", "logs"),
        ("B", "metrics"),
        ("C", "logs"),
        ("D", ""),
    ])))
    .unwrap();
    let frame_name = |ref_id: &str| response.responses[ref_id].frames[0].name().to_owned();
    assert_eq!(frame_name("A"), "logs");
    assert_eq!(frame_name("B"), "fallback");
    assert_eq!(frame_name("C"), "logs");
    assert_eq!(frame_name("D"), "fallback");
    // One sub-request per handler, holding all of its queries.
    let mut batches = batches.lock().unwrap().clone();
    batches.sort();
    assert_eq!(
        batches,
        [("fallback".to_owned(), 2), ("logs".to_owned(), 2)]
    );
}

#[test]
fn mux_without_fallback_answers_unknown_types_with_an_error() {
    let mux = QueryTypeMux::new().with_handler("logs", named("logs", Arc::default()));
    let response = block_on(mux.query_data(queries(&[("A", "traces"), ("B", "logs")]))).unwrap();
    let error = response.responses["A"].error.as_ref().expect("an error");
    assert_eq!(
        error.to_string(),
        "no handler found for query type 'traces'"
    );
    assert!(response.responses["B"].error.is_none());
}

#[test]
fn concurrency_is_bounded() {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let request = queries(&[("A", ""), ("B", ""), ("C", ""), ("D", ""), ("E", "")]);
    let response = block_on(concurrent::query_data_with_limit(request, 2, |query| {
        let in_flight = Arc::clone(&in_flight);
        let peak = Arc::clone(&peak);
        async move {
            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            for _ in 0..3 {
                tokio::task::yield_now().await;
            }
            in_flight.fetch_sub(1, Ordering::SeqCst);
            DataResponse::from(Frame::new(query.query.ref_id))
        }
    }));
    assert_eq!(response.responses.len(), 5);
    assert_eq!(response.responses["E"].frames[0].name(), "E");
    assert_eq!(peak.load(Ordering::SeqCst), 2);
}

#[test]
fn concurrency_limit_comes_from_grafana_config() {
    let mut request = queries(&[("A", "")]);
    assert_eq!(concurrent::concurrency_limit(&request), DEFAULT_CONCURRENCY);
    request.plugin_context.grafana_config =
        GrafanaConfig::from_iter([("GF_CONCURRENT_QUERY_COUNT", "3")]);
    assert_eq!(concurrent::concurrency_limit(&request), 3);
    request.plugin_context.grafana_config =
        GrafanaConfig::from_iter([("GF_CONCURRENT_QUERY_COUNT", "0")]);
    assert_eq!(concurrent::concurrency_limit(&request), DEFAULT_CONCURRENCY);
}

#[test]
fn a_panicking_query_fails_alone() {
    let response = block_on(concurrent::query_data(
        queries(&[("A", ""), ("B", "")]),
        |query| async move {
            if query.query.ref_id == "A" {
                panic!("query A exploded");
            }
            DataResponse::default()
        },
    ));
    let failed = &response.responses["A"];
    assert_eq!(
        failed.error.as_ref().unwrap().to_string(),
        "panic triggered: query A exploded"
    );
    assert_eq!(
        failed.effective_status(),
        plugin_backend::Status::INTERNAL_SERVER_ERROR
    );
    assert!(response.responses["B"].error.is_none());
}

/// Chunked queries go through the mux one by one, as in Go's
/// `QueryTypeMux.QueryChunkedData` (backend/datasource/query_type_mux.go):
/// to the chunked handler of their type, else to the QueryData handler of
/// their type (or the fallback) with its frames written as `f0`, `f1`, … and
/// its error as an error chunk; a type nobody handles gets Go's error.
#[test]
fn mux_routes_chunked_queries_by_query_type() {
    struct Streaming;
    impl QueryChunkedDataHandler for Streaming {
        async fn query_chunked_data(
            &self,
            request: QueryChunkedDataRequest,
            mut writer: ChunkedDataWriter,
        ) -> Result<(), Error> {
            assert_eq!(request.queries.len(), 1, "one query per call");
            let ref_id = &request.queries[0].ref_id;
            for rows in [vec![1, 2], vec![3]] {
                writer
                    .write_frame(ref_id, "stream", chunk_frame(rows))
                    .await?;
            }
            Ok(())
        }
    }
    let failing = query_data_fn(|request: QueryDataRequest| async move {
        Ok(request
            .queries
            .iter()
            .map(|q| {
                let response = DataResponse::from(chunk_frame(vec![7]))
                    .with_frame(chunk_frame(vec![8, 9]))
                    .with_error(Error::downstream("partly down"));
                (q.ref_id.clone(), response)
            })
            .collect::<QueryDataResponse>())
    });
    let mux = QueryTypeMux::new()
        .with_chunked_handler("logs", Streaming)
        .with_handler("metrics", failing);
    let plain = queries(&[("A", "logs"), ("B", "metrics"), ("C", "traces")]);
    let mut request = QueryChunkedDataRequest::new(plain.plugin_context, plain.queries);
    request.format = DataFrameFormat::Arrow;
    let (sender, chunks) = collecting_sender();
    let writer = ChunkedDataWriter::new(DataFrameFormat::Arrow, sender);
    block_on(mux.query_chunked_data(request, writer)).unwrap();

    let chunks = chunks.lock().unwrap();
    let of = |ref_id: &str| -> Vec<(String, usize, String)> {
        chunks
            .iter()
            .filter(|chunk| chunk.ref_id == ref_id)
            .map(|chunk| {
                let rows = if chunk.frame.is_empty() {
                    0
                } else {
                    Frame::from_arrow_ipc(&chunk.frame)
                        .unwrap()
                        .num_rows()
                        .unwrap()
                };
                (chunk.frame_id.clone(), rows, chunk.error.clone())
            })
            .collect()
    };
    let row = |id: &str, rows: usize, error: &str| (id.to_owned(), rows, error.to_owned());
    assert_eq!(of("A"), [row("stream", 2, ""), row("stream", 1, "")]);
    assert_eq!(
        of("B"),
        [
            row("f0", 1, ""),
            row("f1", 2, ""),
            row("", 0, "partly down")
        ]
    );
    assert_eq!(
        of("C"),
        [row("", 0, "no handler found for query type 'traces'")]
    );
    let error_chunk = chunks
        .iter()
        .find(|chunk| chunk.ref_id == "B" && !chunk.error.is_empty());
    assert_eq!(
        error_chunk.unwrap().error_source,
        Some(plugin_backend::ErrorSource::Downstream)
    );
}

fn chunk_frame(values: Vec<i64>) -> Frame {
    Frame::new("series").with_field(Field::new("value", values))
}

#[test]
fn arrow_chunks_are_complete_arrow_files() {
    let (sender, chunks) = collecting_sender();
    let mut writer = ChunkedDataWriter::new(DataFrameFormat::Arrow, sender);
    block_on(async {
        writer
            .write_frame("A", "f0", chunk_frame(vec![1, 2]))
            .await?;
        writer.write_frame("A", "f0", chunk_frame(vec![3])).await
    })
    .unwrap();
    let chunks = chunks.lock().unwrap();
    let rows: Vec<usize> = chunks
        .iter()
        .map(|chunk| {
            assert_eq!(
                (chunk.ref_id.as_str(), chunk.frame_id.as_str(), chunk.format),
                ("A", "f0", DataFrameFormat::Arrow)
            );
            let frame =
                Frame::from_arrow_ipc(&chunk.frame).expect("every chunk is a full Arrow file");
            assert_eq!(frame.ref_id(), "A");
            frame.num_rows().unwrap()
        })
        .collect();
    assert_eq!(rows, [2, 1]);
}

#[test]
fn json_chunks_send_the_schema_once_per_frame() {
    let (sender, chunks) = collecting_sender();
    let mut writer = ChunkedDataWriter::new(DataFrameFormat::Json, sender);
    block_on(async {
        writer.write_frame("A", "f0", chunk_frame(vec![1])).await?;
        writer.write_frame("A", "f0", chunk_frame(vec![2])).await?;
        writer.write_frame("A", "f1", chunk_frame(vec![3])).await?;
        writer
            .write_error(
                "B",
                plugin_backend::Status::BAD_GATEWAY,
                Some(&Error::downstream("down")),
            )
            .await
    })
    .unwrap();
    let chunks = chunks.lock().unwrap();
    let has_schema = |index: usize| {
        let json: serde_json::Value = serde_json::from_slice(&chunks[index].frame).unwrap();
        assert!(json.get("data").is_some());
        json.get("schema").is_some()
    };
    assert_eq!(
        [has_schema(0), has_schema(1), has_schema(2)],
        [true, false, true]
    );
    assert_eq!(chunks[3].error, "down");
    assert_eq!(
        chunks[3].error_source,
        Some(plugin_backend::ErrorSource::Downstream)
    );
    assert!(chunks[3].frame.is_empty());
}

#[test]
fn chunks_need_ids() {
    let (sender, _) = collecting_sender();
    let mut writer = ChunkedDataWriter::new(DataFrameFormat::Json, sender);
    assert!(block_on(writer.write_frame("", "f0", chunk_frame(vec![1]))).is_err());
    assert!(block_on(writer.write_frame("A", "", chunk_frame(vec![1]))).is_err());
}

#[test]
fn stream_sender_sends_frames_json_and_bytes() {
    let (sender, packets) = collecting_sender();
    let mut stream = StreamSender::new(sender);
    let frame = chunk_frame(vec![7]);
    block_on(async {
        stream.send_frame(&frame, FrameInclude::All).await?;
        stream.send_frame(&frame, FrameInclude::DataOnly).await?;
        stream.send_json(r#"{"tick":1}"#).await?;
        stream.send_bytes("raw").await
    })
    .unwrap();
    assert!(matches!(
        block_on(stream.send_json("{oops")),
        Err(Error::Json { .. })
    ));
    let packets = packets.lock().unwrap();
    assert_eq!(packets.len(), 4);
    assert_eq!(Frame::from_json(&packets[0].data).unwrap(), frame);
    assert_eq!(packets[2].data, r#"{"tick":1}"#);
    assert_eq!(packets[3].data, "raw");
}
