//! Resource calls served by any tower HTTP service, such as an axum
//! `Router`: the Rust counterpart of the Go SDK's `resource/httpadapter`.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//!
//! use axum::extract::{Extension, Path};
//! use axum::routing::get;
//! use axum::{Json, Router};
//! use http::{Method, StatusCode};
//! use plugin_backend::{CallResourceHandler, CallResourceRequest, PluginContext, ResponseSender};
//! use plugin_resource::HttpResourceHandler;
//!
//! let router = Router::new().route(
//!     "/namespaces/{namespace}",
//!     get(|Path(namespace): Path<String>, Extension(context): Extension<PluginContext>| async move {
//!         Json(serde_json::json!({ "namespace": namespace, "org": context.org_id }))
//!     }),
//! );
//! let handler = HttpResourceHandler::new(router);
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let sent = Arc::new(Mutex::new(Vec::new()));
//! let sink = Arc::clone(&sent);
//! let sender = ResponseSender::from_fn(move |message| Ok(sink.lock().unwrap().push(message)));
//!
//! let mut request = CallResourceRequest::new(Method::GET, "namespaces/default");
//! request.plugin_context.org_id = 3;
//! handler.call_resource(request, sender).await?;
//!
//! let head = &sent.lock().unwrap()[0];
//! assert_eq!(head.status, Some(StatusCode::OK));
//! assert_eq!(head.headers["content-type"], "application/json");
//! assert_eq!(head.body, r#"{"namespace":"default","org":3}"#);
//! # Ok::<(), plugin_backend::Error>(())
//! # }).unwrap();
//! ```
//!
//! # The request
//!
//! [`HttpResourceHandler`] builds one `http::Request` per call, as the Go
//! adapter does:
//!
//! * **target**: the call's resource path with a leading `/` added, plus
//!   the raw query of its URL (`/namespaces/default?limit=10`); bytes a
//!   request target cannot hold are percent-encoded;
//! * **method**, **headers** (every value of repeated headers) and **body**
//!   ([`ResourceRequestBody`], the whole body in one chunk) as received;
//! * **extensions**: the call's [`PluginContext`](plugin_backend::PluginContext)
//!   and, when the call has one, its [`User`](plugin_backend::User), for
//!   axum's `Extension` extractor or `request.extensions().get()`.
//!
//! # The response
//!
//! The response is streamed as the service produces it. The first message
//! carries the status, every header (repeated ones such as several
//! `Set-Cookie` included) and any body that is ready at once; each later
//! message carries one more body chunk (chunks above [`MAX_MESSAGE_BODY`]
//! are split). Sending waits for Grafana to take each message, so memory
//! stays bounded by a chunk or two for bodies of any size, endless ones
//! such as server-sent events included; when Grafana cancels the call, the
//! body is dropped and the call ends.
//!
//! A response without a `Content-Type` gets one sniffed from the start of
//! its body, as Go's `http.DetectContentType` does.
//!
//! Errors and panics of the service become `500` responses; see
//! [`HttpResourceHandler`].

mod error;
mod handler;
mod request;
mod response;
mod sniff;

pub use error::Error;
pub use handler::HttpResourceHandler;
pub use request::ResourceRequestBody;
pub use response::MAX_MESSAGE_BODY;
