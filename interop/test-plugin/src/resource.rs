//! CallResource: `echo` reflects the request, the body streamed back in
//! chunks.
//!
//! A call to path `echo` (any method) is answered by one message with status
//! 200 and headers only:
//!
//! * `content-type: application/octet-stream`;
//! * `x-echo-method`, `x-echo-path`, `x-echo-url`: the request's method,
//!   path and URL as the plugin received them;
//! * `x-echo-header-<name>`: every value of request header `<name>`, in
//!   order (repeated headers stay repeated);
//!
//! then by one body-only message per `x-chunk-size` bytes of the request
//! body (default 4; an empty body sends no body message). Any other path
//! is a 404 with body `no such resource`.

use http::header::{self, HeaderName, HeaderValue};
use http::{HeaderMap, StatusCode};
use plugin_backend::{
    CallResourceHandler, CallResourceRequest, CallResourceResponse, CallResourceResponseSender,
    Error,
};

/// The request header that sets the size of the body chunks.
const CHUNK_SIZE_HEADER: &str = "x-chunk-size";

/// The chunk size when the request does not set one.
const DEFAULT_CHUNK_SIZE: usize = 4;

/// The echo resource.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Echo;

/// A header value from text the plugin received. gRPC strings may hold
/// characters a header value cannot; those are escaped, so the echo never
/// fails.
fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or_else(|_| {
        HeaderValue::from_str(&text.escape_default().to_string())
            .unwrap_or(HeaderValue::from_static("?"))
    })
}

/// The echo headers describing `request`.
fn echo_headers(request: &CallResourceRequest) -> Result<HeaderMap, Error> {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert("x-echo-method", value(request.method.as_str()));
    headers.insert("x-echo-path", value(&request.path));
    headers.insert("x-echo-url", value(&request.url));
    for (name, header_value) in &request.headers {
        let echoed = HeaderName::try_from(format!("x-echo-header-{name}")).map_err(Error::new)?;
        headers.append(echoed, header_value.clone());
    }
    Ok(headers)
}

/// The body chunk size the request asks for.
fn chunk_size(request: &CallResourceRequest) -> Result<usize, Error> {
    let Some(size) = request.headers.get(CHUNK_SIZE_HEADER) else {
        return Ok(DEFAULT_CHUNK_SIZE);
    };
    size.to_str()
        .ok()
        .and_then(|size| size.parse::<usize>().ok())
        .filter(|&size| size > 0)
        .ok_or_else(|| Error::plugin(format!("{CHUNK_SIZE_HEADER} must be a positive integer")))
}

impl CallResourceHandler for Echo {
    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        if request.path.trim_matches('/') != "echo" {
            return sender
                .send(
                    CallResourceResponse::new(StatusCode::NOT_FOUND).with_body("no such resource"),
                )
                .await;
        }
        let size = match chunk_size(&request) {
            Ok(size) => size,
            Err(error) => {
                return sender
                    .send(
                        CallResourceResponse::new(StatusCode::BAD_REQUEST)
                            .with_body(error.to_string()),
                    )
                    .await;
            }
        };
        let mut head = CallResourceResponse::new(StatusCode::OK);
        head.headers = echo_headers(&request)?;
        sender.send(head).await?;
        let body = request.body;
        let mut start = 0;
        while start < body.len() {
            let end = body.len().min(start + size);
            // `Bytes::slice` shares the request's buffer: no copy.
            sender
                .send(CallResourceResponse::body_chunk(body.slice(start..end)))
                .await?;
            start = end;
        }
        Ok(())
    }
}
