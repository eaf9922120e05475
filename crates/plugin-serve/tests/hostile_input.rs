//! Hostile requests to the server `serve_on` runs, over a real socket:
//! oversized messages, broken framing, strings that are not UTF-8, huge
//! metadata, malformed `grpc-timeout`, JSON nested 100k deep. Every one is
//! answered with a clear gRPC status (or, for header lists HTTP/2 refuses,
//! an HTTP 431 or a closed connection), and the server goes on serving. The
//! fuzz target `grpc_request` (docs/fuzzing.md) explores the same surface at
//! random.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http2::SendRequest;
use plugin_backend::{
    CallResourceHandler, CallResourceRequest, CallResourceResponse, CallResourceResponseSender,
    CheckHealthHandler, CheckHealthRequest, CheckHealthResult, DataResponse, Error, Plugin,
    QueryDataHandler, QueryDataRequest, QueryDataResponse,
};
use plugin_proto::pluginv2::{
    self, data_client::DataClient, diagnostics_client::DiagnosticsClient,
    resource_client::ResourceClient,
};
use plugin_serve::{Listener, ServeOptions, Shutdown};
use prost::Message;
use tonic::Code;
use tonic::transport::{Channel, Endpoint};
use tower::ServiceExt;

/// The receive limit of the server under test, small so that tests stay
/// small.
const LIMIT: usize = 64 * 1024;

/// JSON nesting far past any parser's recursion limit.
const DEPTH: usize = 100_000;

/// Answers from what each request carries; the JSON of queries and data
/// source settings is parsed as a plugin would.
struct Echo;

impl QueryDataHandler for Echo {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        Ok(request
            .queries
            .iter()
            .map(|query| {
                let response = match query.parse_json::<serde_json::Value>() {
                    Ok(_) => DataResponse::default(),
                    Err(error) => DataResponse::from_error(error),
                };
                (query.ref_id.clone(), response)
            })
            .collect())
    }
}

impl CheckHealthHandler for Echo {
    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        let Some(settings) = &request.plugin_context.data_source_instance_settings else {
            return Ok(CheckHealthResult::ok(format!(
                "{} headers",
                request.headers.len()
            )));
        };
        Ok(match settings.parse_json_data::<serde_json::Value>() {
            Ok(_) => CheckHealthResult::ok("settings parse"),
            Err(error) => CheckHealthResult::error(error.to_string()),
        })
    }
}

impl CallResourceHandler for Echo {
    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        let count = request.headers.len().to_string();
        sender
            .send(CallResourceResponse::new(http::StatusCode::OK).with_body(count))
            .await
    }
}

/// A running server and a client connection to it.
struct Server {
    address: String,
    channel: Channel,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    /// A server with a receive limit of [`LIMIT`].
    async fn start() -> Server {
        Server::with_receive_limit(LIMIT).await
    }

    async fn with_receive_limit(limit: usize) -> Server {
        let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let listener = Listener::try_from(socket).unwrap();
        let address = listener.address();
        let options = ServeOptions::new().with_max_receive_message_size(limit);
        let shutdown = options.shutdown().clone();
        let plugin = Plugin::new()
            .with_query_data(Echo)
            .with_check_health(Echo)
            .with_call_resource(Echo);
        let task = tokio::spawn(plugin_serve::serve_on(plugin, listener, options));
        let channel = connect(&address).await;
        Server {
            address,
            channel,
            shutdown,
            task,
        }
    }

    /// A health check that must succeed: the server still serves, on the
    /// same connection.
    async fn assert_serving(&self) {
        assert_serves(self.channel.clone()).await;
    }

    /// A health check on a new connection that must succeed.
    async fn assert_serving_new_connections(&self) {
        assert_serves(connect(&self.address).await).await;
    }

    async fn stop(self) {
        self.shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the server stops")
            .unwrap();
    }

    /// Sends `body` as it is to `path`, with `headers` after the usual
    /// gRPC ones, and returns the call's status.
    async fn raw_call(&self, path: &str, headers: &[(&str, &str)], body: Vec<u8>) -> tonic::Status {
        let mut request = http::Request::new(tonic::body::Body::new(Full::new(Bytes::from(body))));
        *request.method_mut() = http::Method::POST;
        *request.uri_mut() = http::Uri::try_from(path).unwrap();
        let map = request.headers_mut();
        map.insert("content-type", "application/grpc".parse().unwrap());
        map.insert("te", "trailers".parse().unwrap());
        for (name, value) in headers {
            map.append(
                http::HeaderName::try_from(*name).unwrap(),
                value.parse().unwrap(),
            );
        }
        let response = self
            .channel
            .clone()
            .oneshot(request)
            .await
            .expect("the server answers");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("the answer is complete");
        tonic::Status::from_header_map(&parts.headers)
            .or_else(|| body.trailers().and_then(tonic::Status::from_header_map))
            .expect("a gRPC status")
    }
}

async fn connect(address: &str) -> Channel {
    Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn assert_serves(channel: Channel) {
    let result = DiagnosticsClient::new(channel)
        .check_health(health_request(Default::default()))
        .await
        .expect("the server still answers")
        .into_inner();
    assert_eq!(
        result.status,
        pluginv2::check_health_response::HealthStatus::Ok as i32
    );
}

fn context() -> pluginv2::PluginContext {
    pluginv2::PluginContext {
        plugin_id: "acme-test-datasource".into(),
        ..Default::default()
    }
}

fn health_request(
    headers: std::collections::HashMap<String, String>,
) -> pluginv2::CheckHealthRequest {
    pluginv2::CheckHealthRequest {
        plugin_context: Some(context()),
        headers,
    }
}

fn query_request(json: Vec<u8>) -> pluginv2::QueryDataRequest {
    pluginv2::QueryDataRequest {
        plugin_context: Some(context()),
        queries: vec![pluginv2::DataQuery {
            ref_id: "A".into(),
            time_range: Some(pluginv2::TimeRange::default()),
            json: json.into(),
            ..Default::default()
        }],
        ..Default::default()
    }
}

/// A unary request body: not compressed, with the message's length.
fn framed(message: &[u8]) -> Vec<u8> {
    let mut body = vec![0];
    body.extend_from_slice(&(message.len() as u32).to_be_bytes());
    body.extend_from_slice(message);
    body
}

fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut json = vec![b'['; depth];
    json.resize(2 * depth, b']');
    json
}

/// Headers `x-big-<i>: <value>` whose total is about `bytes`.
fn big_headers(bytes: usize) -> std::collections::HashMap<String, String> {
    let value = "v".repeat(100);
    (0..bytes / 100)
        .map(|i| (format!("x-big-{i}"), value.clone()))
        .collect()
}

#[tokio::test]
async fn a_query_over_the_receive_limit_is_resource_exhausted() {
    let server = Server::start().await;
    let oversized = query_request(vec![b' '; 2 * LIMIT]);
    let status = DataClient::new(server.channel.clone())
        .query_data(oversized)
        .await
        .expect_err("over the limit");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains(&LIMIT.to_string()), "{status:?}");

    // A prefix announcing 4 GiB is refused from the prefix alone.
    let status = server
        .raw_call(
            "/pluginv2.Data/QueryData",
            &[],
            vec![0, 0xff, 0xff, 0xff, 0xff, 1, 2],
        )
        .await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    server.assert_serving().await;
    server.stop().await;
}

#[tokio::test]
async fn a_message_over_the_receive_limit_fails_every_rpc_clearly() {
    let server = Server::start().await;
    let status = DiagnosticsClient::new(server.channel.clone())
        .check_health(health_request(big_headers(2 * LIMIT)))
        .await
        .expect_err("over the limit");
    // `ResourceExhausted`, as grpc-go answers, and the message names the
    // limit.
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains(&LIMIT.to_string()), "{status:?}");
    let mut resource = ResourceClient::new(server.channel.clone());
    let request = pluginv2::CallResourceRequest {
        plugin_context: Some(context()),
        method: "POST".into(),
        body: vec![0; 2 * LIMIT].into(),
        ..Default::default()
    };
    let status = resource
        .call_resource(request)
        .await
        .expect_err("over the limit");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    server.assert_serving().await;
    server.stop().await;
}

/// grpc-go answers a request message over the server's limit with
/// `ResourceExhausted` on every RPC (`rpc_util.go`, `recvAndDecompress`:
/// "grpc: received message larger than max"), and so does plugin-serve.
#[tokio::test]
async fn every_rpc_answers_an_oversized_message_resource_exhausted_as_grpc_go() {
    let server = Server::start().await;
    let status = DiagnosticsClient::new(server.channel.clone())
        .check_health(health_request(big_headers(2 * LIMIT)))
        .await
        .expect_err("over the limit");
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn broken_framing_is_a_clear_status() {
    let server = Server::start().await;
    let message = health_request(Default::default()).encode_to_vec();
    let mut compressed = framed(&message);
    compressed[0] = 1;
    let mut short = framed(&message);
    short.truncate(short.len() - 1);
    for path in [
        "/pluginv2.Data/QueryData",
        "/pluginv2.Diagnostics/CheckHealth",
    ] {
        for (what, body) in [
            ("no body", vec![]),
            ("half a prefix", vec![0, 0, 0]),
            ("compressed without an encoding", compressed.clone()),
            ("a message shorter than its prefix says", short.clone()),
            ("a flag that is neither 0 nor 1", {
                let mut body = framed(&message);
                body[0] = 7;
                body
            }),
        ] {
            let status = server.raw_call(path, &[], body).await;
            assert_ne!(status.code(), Code::Ok, "{path}, {what}");
            assert!(!status.message().is_empty(), "{path}, {what}: {status:?}");
        }
    }
    // QueryData's own route takes exactly one message and refuses a second;
    // tonic's unary services answer the first and drop the rest, so only
    // QueryData's answer is asserted.
    let query = query_request(b"{}".to_vec()).encode_to_vec();
    let mut two_queries = framed(&query);
    two_queries.extend(framed(&query));
    let status = server
        .raw_call("/pluginv2.Data/QueryData", &[], two_queries)
        .await;
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    server.assert_serving().await;
    server.stop().await;
}

/// A valid message with `marker` in one string field, that field's bytes
/// then replaced by bytes that are not UTF-8.
fn with_bad_utf8(message: &impl Message, marker: &[u8]) -> Vec<u8> {
    let mut bytes = message.encode_to_vec();
    let at = bytes
        .windows(marker.len())
        .position(|window| window == marker)
        .expect("the marker is in the encoding");
    bytes[at..at + marker.len()].fill(0xff);
    bytes
}

#[tokio::test]
async fn strings_that_are_not_utf8_are_internal_decode_errors() {
    let server = Server::start().await;
    let marker = "MARKER-MARKER";
    let mut query = query_request(b"{}".to_vec());
    query.queries[0].ref_id = marker.into();
    let mut health = health_request(Default::default());
    health.plugin_context.as_mut().unwrap().plugin_id = marker.into();
    for (path, bytes) in [
        (
            "/pluginv2.Data/QueryData",
            with_bad_utf8(&query, marker.as_bytes()),
        ),
        (
            "/pluginv2.Diagnostics/CheckHealth",
            with_bad_utf8(&health, marker.as_bytes()),
        ),
    ] {
        // As grpc-go: a message that does not unmarshal is `Internal`.
        let status = server.raw_call(path, &[], framed(&bytes)).await;
        assert_eq!(status.code(), Code::Internal, "{path}: {status:?}");
        assert!(status.message().contains("UTF-8"), "{path}: {status:?}");
    }
    server.assert_serving().await;
    server.stop().await;
}

/// A health check request carrying `count` metadata entries of 1000 bytes.
fn with_big_metadata(count: usize) -> tonic::Request<pluginv2::CheckHealthRequest> {
    let value: tonic::metadata::MetadataValue<_> = "v".repeat(1000).parse().unwrap();
    let mut request = tonic::Request::new(health_request(Default::default()));
    for i in 0..count {
        let name: tonic::metadata::MetadataKey<_> = format!("x-big-{i}").parse().unwrap();
        request.metadata_mut().insert(name, value.clone());
    }
    request
}

/// One HTTP/2 connection of its own to `address`, to tell what happens to
/// the connection (a tonic `Channel` reconnects behind the caller's back).
async fn h2_connection(address: &str) -> SendRequest<Full<Bytes>> {
    let stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let (sender, connection) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(stream),
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    sender
}

/// A health check to `address` with `count` headers of 1000 bytes.
fn health_with_big_headers(address: &str, count: usize) -> http::Request<Full<Bytes>> {
    let body = framed(&health_request(Default::default()).encode_to_vec());
    let mut request =
        http::Request::post(format!("http://{address}/pluginv2.Diagnostics/CheckHealth"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
    let value = "v".repeat(1000);
    for i in 0..count {
        request = request.header(format!("x-big-{i}"), value.as_str());
    }
    request.body(Full::new(Bytes::from(body))).unwrap()
}

/// Metadata is served up to grpc-go's header-list limit of 16 MiB
/// (`defaultServerMaxHeaderListSize`, internal/transport/defaults.go).
/// hyper's default of 16 KiB answered 20 kB with HTTP 431 and closed the
/// whole connection (GOAWAY COMPRESSION_ERROR) on 200 kB.
#[tokio::test]
async fn metadata_within_grpc_gos_header_list_limit_is_served() {
    let server = Server::start().await;
    let mut connection = h2_connection(&server.address).await;
    for kilobytes in [20, 200] {
        let response = connection
            .send_request(health_with_big_headers(&server.address, kilobytes))
            .await
            .expect("an answer");
        assert_eq!(response.status(), http::StatusCode::OK, "{kilobytes} kB");
    }
    DiagnosticsClient::new(server.channel.clone())
        .check_health(with_big_metadata(200))
        .await
        .expect("200 kB of metadata is served");
    server.stop().await;
}

/// Past the limit the call is refused, and the server goes on serving.
#[tokio::test]
async fn metadata_beyond_the_header_list_limit_is_refused_and_the_server_goes_on() {
    let server = Server::start().await;
    let mut connection = h2_connection(&server.address).await;
    let over = connection
        .send_request(health_with_big_headers(&server.address, 17 * 1024))
        .await;
    assert!(
        over.as_ref()
            .map_or(true, |response| response.status() != http::StatusCode::OK),
        "17 MiB of headers answered: {over:?}"
    );
    server.assert_serving_new_connections().await;
    server.stop().await;
}

#[tokio::test]
async fn malformed_grpc_timeouts_are_ignored() {
    let server = Server::start().await;
    let body = framed(&health_request(Default::default()).encode_to_vec());
    for timeout in [
        "",
        "S",
        "123456789S",
        "-1S",
        "1.5S",
        "5 S",
        "99999999H",
        "1x",
        "é",
    ] {
        let status = server
            .raw_call(
                "/pluginv2.Diagnostics/CheckHealth",
                &[("grpc-timeout", timeout)],
                body.clone(),
            )
            .await;
        assert_eq!(
            status.code(),
            Code::Ok,
            "grpc-timeout {timeout:?}: {status:?}"
        );
    }
    let status = server
        .raw_call(
            "/pluginv2.Diagnostics/CheckHealth",
            &[("grpc-timeout", "5S"), ("grpc-timeout", "junk")],
            body,
        )
        .await;
    assert_eq!(status.code(), Code::Ok, "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn deeply_nested_json_is_an_error_answer_not_a_crash() {
    let server = Server::with_receive_limit(plugin_serve::DEFAULT_MAX_RECEIVE_MESSAGE_SIZE).await;
    let deep = nested_arrays(DEPTH);

    let response = DataClient::new(server.channel.clone())
        .query_data(query_request(deep.clone()))
        .await
        .expect("answered")
        .into_inner();
    let error = &response.responses["A"].error;
    assert!(error.contains("recursion limit"), "{error}");

    let mut health = health_request(Default::default());
    health
        .plugin_context
        .as_mut()
        .unwrap()
        .data_source_instance_settings = Some(pluginv2::DataSourceInstanceSettings {
        json_data: deep.into(),
        ..Default::default()
    });
    let result = DiagnosticsClient::new(server.channel.clone())
        .check_health(health)
        .await
        .expect("answered")
        .into_inner();
    assert_eq!(
        result.status,
        pluginv2::check_health_response::HealthStatus::Error as i32
    );
    assert!(
        result.message.contains("recursion limit"),
        "{}",
        result.message
    );
    server.assert_serving().await;
    server.stop().await;
}

/// Regression (found by the hostile-input tests of plugin-backend): a
/// resource call with more headers than an `http::HeaderMap` holds makes
/// plugin-backend's converter panic (`convert/resource.rs`,
/// `headers_from_proto`). The panic happens in the adapter, before the
/// handler and its panic middleware, so the call ends in a reset stream
/// instead of `InvalidArgument`.
#[tokio::test]
async fn more_resource_headers_than_a_header_map_holds_are_invalid_argument() {
    let server = Server::with_receive_limit(plugin_serve::DEFAULT_MAX_RECEIVE_MESSAGE_SIZE).await;
    let headers = (0..40_000)
        .map(|i| {
            (
                format!("x-{i}"),
                pluginv2::StringList {
                    values: vec![String::new()],
                },
            )
        })
        .collect();
    let request = pluginv2::CallResourceRequest {
        plugin_context: Some(context()),
        method: "GET".into(),
        headers,
        ..Default::default()
    };
    let result = ResourceClient::new(server.channel.clone())
        .call_resource(request)
        .await;
    let status = match result {
        Ok(response) => response
            .into_inner()
            .message()
            .await
            .expect_err("the call fails"),
        Err(status) => status,
    };
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    server.assert_serving().await;
    server.stop().await;
}
