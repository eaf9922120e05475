//! Resource calls: [`CallResourceRequest`], answered with a stream of
//! [`CallResourceResponse`]s, plus [`send_json`] and [`send_plain_text`].
//!
//! A resource call is an HTTP request that Grafana forwards to the plugin
//! (`/api/datasources/uid/<uid>/resources/<path>`). The response is streamed:
//! the first message carries the status, the headers and the start of the
//! body; later messages carry more body only.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use serde::Serialize;

use crate::context::PluginContext;
use crate::error::Error;
use crate::sender::ResponseSender;

/// An HTTP request to one of the plugin's resources.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CallResourceRequest {
    /// Who and what the request is for.
    pub plugin_context: PluginContext,
    /// The resource path below the plugin's resources root, without a
    /// leading slash (e.g. `namespaces/default`).
    pub path: String,
    /// The HTTP method.
    pub method: Method,
    /// The original request URL (path and query string).
    pub url: String,
    /// The request headers.
    pub headers: HeaderMap,
    /// The request body.
    pub body: Bytes,
}

impl CallResourceRequest {
    /// A `method` request for `path` with no headers or body.
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let path = path.into();
        CallResourceRequest {
            url: format!("/{path}"),
            path,
            method,
            ..CallResourceRequest::default()
        }
    }
}

/// One message of a resource call's response.
///
/// The first message has a status; later messages carry more body and have
/// no status ([`body_chunk`](Self::body_chunk)).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct CallResourceResponse {
    /// The HTTP status; `None` in the body-only messages after the first.
    pub status: Option<StatusCode>,
    /// The response headers (first message only).
    pub headers: HeaderMap,
    /// (Part of) the body.
    pub body: Bytes,
}

impl CallResourceResponse {
    /// The first message of a response with status `status`.
    pub fn new(status: StatusCode) -> Self {
        CallResourceResponse {
            status: Some(status),
            ..CallResourceResponse::default()
        }
    }

    /// A body-only message continuing a response.
    pub fn body_chunk(body: impl Into<Bytes>) -> Self {
        CallResourceResponse {
            body: body.into(),
            ..CallResourceResponse::default()
        }
    }

    /// This message, with header `name: value`.
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.append(name, value);
        self
    }

    /// This message, with body `body`.
    pub fn with_body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }
}

/// Where a resource handler sends its response messages.
pub type CallResourceResponseSender = ResponseSender<CallResourceResponse>;

/// Sends a complete `200 OK` response with `value` as its JSON body.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use plugin_backend::{ResponseSender, resource};
///
/// # futures_util::FutureExt::now_or_never(async {
/// let sent = Arc::new(Mutex::new(Vec::new()));
/// let sink = Arc::clone(&sent);
/// let mut sender = ResponseSender::from_fn(move |message| Ok(sink.lock().unwrap().push(message)));
/// resource::send_json(&mut sender, &serde_json::json!({"ok": true})).await?;
/// let sent = sent.lock().unwrap();
/// assert_eq!(sent[0].headers["content-type"], "application/json");
/// assert_eq!(sent[0].body, r#"{"ok":true}"#);
/// # Ok::<(), plugin_backend::Error>(())
/// # }).unwrap().unwrap();
/// ```
pub async fn send_json<T: Serialize + ?Sized>(
    sender: &mut CallResourceResponseSender,
    value: &T,
) -> Result<(), Error> {
    let body =
        serde_json::to_vec(value).map_err(|source| Error::json("resource response", source))?;
    sender
        .send(
            CallResourceResponse::new(StatusCode::OK)
                .with_header(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )
                .with_body(body),
        )
        .await
}

/// Sends a complete `200 OK` response with `text` as its plain-text body.
pub async fn send_plain_text(
    sender: &mut CallResourceResponseSender,
    text: impl Into<String>,
) -> Result<(), Error> {
    sender
        .send(
            CallResourceResponse::new(StatusCode::OK)
                .with_header(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"))
                .with_body(text.into()),
        )
        .await
}
