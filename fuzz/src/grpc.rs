//! The request path of plugin-serve's gRPC server, driven in process.
//!
//! plugin-serve keeps its tower service (the router `serve_on` serves)
//! private, so the target goes through the next best thing: the real server
//! ([`plugin_testkit::InProcessPlugin`], i.e. `plugin_serve::serve_on`) on a
//! unix socket in this process, and raw HTTP/2 requests sent through the
//! client's tonic [`Channel`](tonic::transport::Channel), whose bodies are
//! the fuzz bytes themselves: the 5-byte message prefix (compressed flag,
//! big-endian length) is whatever the fuzzer writes. One server and one
//! connection serve the whole run, so a request that breaks either shows up
//! as a failure of the requests after it.
//!
//! # Input layout
//!
//! ```text
//! byte 0        path: an index into PATHS; any other value takes the first line
//! name: value\n  request headers (gRPC metadata, grpc-timeout, …), until an empty line
//! rest          the request body, sent as it is
//! ```

use std::cell::OnceCell;
use std::time::Duration;

use bytes::Bytes;
use http::uri::PathAndQuery;
use http::{HeaderName, HeaderValue, Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use plugin_backend::{
    AdmissionHandler, AdmissionRequest, CallResourceHandler, CallResourceRequest,
    CallResourceResponse, CallResourceResponseSender, CheckHealthHandler, CheckHealthRequest,
    CheckHealthResult, DataResponse, Error, MutationResponse, Plugin, PublishStreamRequest,
    PublishStreamResponse, QueryConversionHandler, QueryConversionResponse, QueryDataHandler,
    QueryDataRequest, QueryDataResponse, RunStreamRequest, StreamHandler, StreamSender,
    StreamStatus, SubscribeStreamRequest, SubscribeStreamResponse, ValidationResponse,
};
use plugin_data::{Field, Frame};
use plugin_testkit::InProcessPlugin;
use tower::ServiceExt;

/// The methods a fuzz input can pick by index. go-plugin's services and
/// the health service's `Watch` are left out on purpose: `Shutdown` stops
/// the server, and the streams of `StartStream`, `StreamStdio` and `Watch`
/// last until it stops.
pub const PATHS: &[&str] = &[
    "/pluginv2.Data/QueryData",
    "/pluginv2.Data/QueryChunkedData",
    "/pluginv2.Resource/CallResource",
    "/pluginv2.Diagnostics/CheckHealth",
    "/pluginv2.Diagnostics/CollectMetrics",
    "/pluginv2.Stream/SubscribeStream",
    "/pluginv2.Stream/RunStream",
    "/pluginv2.Stream/PublishStream",
    "/pluginv2.AdmissionControl/ValidateAdmission",
    "/pluginv2.AdmissionControl/MutateAdmission",
    "/pluginv2.ResourceConversion/ConvertObjects",
    "/grpc.health.v1.Health/Check",
];

/// Paths a fuzz-chosen path may not start with; see [`PATHS`].
const FORBIDDEN_PREFIXES: &[&str] = &["/plugin.", "/grpc.health.v1.Health/Watch"];

/// How long one request may take before the run fails as a hang. Every
/// handler here answers at once; only a server bug waits this long.
const HANG: Duration = Duration::from_secs(10);

/// One fuzz input: a request.
#[derive(Debug)]
pub struct Input<'a> {
    /// The request path.
    pub path: &'a str,
    /// The request headers, as raw name and value bytes.
    pub headers: Vec<(&'a [u8], &'a [u8])>,
    /// The request body.
    pub body: &'a [u8],
}

impl<'a> Input<'a> {
    /// Reads `data` in the [layout](self#input-layout); `None` when it
    /// names a path that is not UTF-8 or that must not be called.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&selector, mut rest) = data.split_first()?;
        let path = match PATHS.get(usize::from(selector)) {
            Some(path) => path,
            None => {
                let (line, after) = split_line(rest);
                rest = after;
                let path = std::str::from_utf8(line).ok()?;
                if FORBIDDEN_PREFIXES.iter().any(|p| path.starts_with(p)) {
                    return None;
                }
                path
            }
        };
        let mut headers = Vec::new();
        loop {
            let (line, after) = split_line(rest);
            rest = after;
            if line.is_empty() {
                break;
            }
            let at = line.iter().position(|&b| b == b':').unwrap_or(line.len());
            let (name, value) = line.split_at(at);
            let value = value.strip_prefix(b":").unwrap_or_default();
            headers.push((name, value.strip_prefix(b" ").unwrap_or(value)));
        }
        Some(Input {
            path,
            headers,
            body: rest,
        })
    }

    /// The fuzz bytes of a request to `PATHS[path]` (the seed generator's
    /// side of [`parse`](Self::parse)).
    pub fn encode(path: usize, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
        assert!(path < PATHS.len(), "no path {path}");
        let mut data = vec![u8::try_from(path).expect("a small index")];
        for (name, value) in headers {
            data.extend_from_slice(format!("{name}: {value}\n").as_bytes());
        }
        data.push(b'\n');
        data.extend_from_slice(body);
        data
    }
}

/// A line and what follows its `\n`; all of `data` when there is none.
fn split_line(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[]),
    }
}

/// A gRPC message as a unary request body carries it: not compressed, with
/// its length.
pub fn framed(message: &[u8]) -> Vec<u8> {
    let len = u32::try_from(message.len()).expect("a message under 4 GiB");
    let mut body = Vec::with_capacity(message.len() + 5);
    body.push(0);
    body.extend_from_slice(&len.to_be_bytes());
    body.extend_from_slice(message);
    body
}

/// What the server answered.
#[derive(Debug)]
pub enum Outcome {
    /// The request could not be sent as given (a header HTTP/2 forbids,
    /// say); nothing reached the server.
    NotSent,
    /// The connection failed the call: the server reset the stream.
    Reset,
    /// A gRPC answer and its status code.
    Status(tonic::Code),
}

/// The server and a connected client, one per fuzzing thread.
#[derive(Debug)]
pub struct Harness {
    runtime: tokio::runtime::Runtime,
    plugin: InProcessPlugin,
}

thread_local! {
    static HARNESS: OnceCell<Harness> = const { OnceCell::new() };
}

impl Harness {
    /// Runs `f` with this thread's harness, started on first use.
    pub fn with<T>(f: impl FnOnce(&Harness) -> T) -> T {
        HARNESS.with(|cell| f(cell.get_or_init(Harness::start)))
    }

    fn start() -> Harness {
        // One thread: the server runs only while a request is in flight,
        // and every run is the same.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let plugin = runtime
            .block_on(InProcessPlugin::start(plugin()))
            .expect("the in-process plugin starts");
        Harness { runtime, plugin }
    }

    /// Sends `input` and reads the whole answer.
    ///
    /// # Panics
    ///
    /// When the answer takes longer than 10 s, or is a complete gRPC answer
    /// without a `grpc-status`.
    pub fn call(&self, input: &Input<'_>) -> Outcome {
        let Some(request) = request(input) else {
            return Outcome::NotSent;
        };
        let channel = self.plugin.client().channel().clone();
        self.runtime.block_on(async move {
            let answer = async {
                let Ok(response) = channel.oneshot(request).await else {
                    return Outcome::NotSent;
                };
                let (parts, body) = response.into_parts();
                let Ok(body) = body.collect().await else {
                    return Outcome::Reset;
                };
                let status = tonic::Status::from_header_map(&parts.headers)
                    .or_else(|| body.trailers().and_then(tonic::Status::from_header_map))
                    .unwrap_or_else(|| panic!("an answer to {} without a grpc-status", input.path));
                Outcome::Status(status.code())
            };
            tokio::time::timeout(HANG, answer)
                .await
                .unwrap_or_else(|_| panic!("no answer to {} within {HANG:?}", input.path))
        })
    }
}

/// The HTTP/2 request of `input`: a gRPC POST with the input's headers
/// after the usual ones; `None` when its path is no origin-form URI path.
fn request(input: &Input<'_>) -> Option<Request<tonic::body::Body>> {
    let body = tonic::body::Body::new(Full::new(Bytes::copy_from_slice(input.body)));
    let mut request = Request::new(body);
    *request.method_mut() = Method::POST;
    // Only an origin-form path: tonic's channel panics on a URI without
    // one (`add_origin.rs`), which is the client's limit, not the server's.
    if !input.path.starts_with('/') {
        return None;
    }
    *request.uri_mut() = Uri::from(PathAndQuery::try_from(input.path).ok()?);
    let headers = request.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert(http::header::TE, HeaderValue::from_static("trailers"));
    for (name, value) in &input.headers {
        // What `http` cannot even represent cannot be sent by any client.
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            headers.append(name, value);
        }
    }
    Some(request)
}

/// A plugin with a handler for every endpoint whose default answer would
/// end the call before the response path, and for query conversion (the
/// JSON parsing of `ConvertObjects`).
fn plugin() -> Plugin {
    Plugin::new()
        .with_query_data(Echo)
        .with_call_resource(Echo)
        .with_check_health(Echo)
        .with_stream(Echo)
        .with_admission(Echo)
        .with_query_conversion(Echo)
}

/// Answers every call from what the request carries.
#[derive(Debug)]
struct Echo;

impl QueryDataHandler for Echo {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        Ok(request
            .queries
            .iter()
            .map(|query| {
                let response = match query.parse_json::<serde_json::Value>() {
                    Ok(json) => DataResponse::from(
                        Frame::new("echo")
                            .with_field(Field::new("json", vec![json.to_string()]))
                            .with_field(Field::new(
                                "interval",
                                vec![query.interval.as_millis() as u64],
                            )),
                    ),
                    Err(error) => DataResponse::from_error(error),
                };
                (query.ref_id.clone(), response)
            })
            .collect())
    }
}

impl CallResourceHandler for Echo {
    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        let mut response = CallResourceResponse::new(http::StatusCode::OK).with_body(request.body);
        response.headers = request.headers;
        sender.send(response).await
    }
}

impl CheckHealthHandler for Echo {
    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        Ok(CheckHealthResult::ok(request.plugin_context.plugin_id))
    }
}

impl StreamHandler for Echo {
    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        SubscribeStreamResponse::ok().with_initial_data(request.data)
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        Ok(PublishStreamResponse::new(StreamStatus::Ok, request.data))
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        mut sender: StreamSender,
    ) -> Result<(), Error> {
        sender.send_json(request.data).await
    }
}

impl AdmissionHandler for Echo {
    async fn validate_admission(&self, _: AdmissionRequest) -> Result<ValidationResponse, Error> {
        Ok(ValidationResponse::allowed())
    }

    async fn mutate_admission(&self, request: AdmissionRequest) -> Result<MutationResponse, Error> {
        Ok(MutationResponse::allowed(request.object_bytes))
    }
}

impl QueryConversionHandler for Echo {
    async fn convert_query_data_request(
        &self,
        request: QueryDataRequest,
    ) -> Result<QueryConversionResponse, Error> {
        let queries = request.queries.iter().map(|query| {
            query
                .parse_json::<serde_json::Value>()
                .unwrap_or(serde_json::Value::Null)
        });
        Ok(QueryConversionResponse::new(queries.collect()))
    }
}
