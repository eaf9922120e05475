//! `HttpResourceHandler` in front of a real axum `Router`: routing, path and
//! query parameters, JSON, repeated headers, content sniffing, streaming,
//! cancellation, errors and panics.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::body::Body;
use axum::extract::{Extension, Path, Query};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http::HeaderValue;
use plugin_backend::{
    CallResourceHandler, CallResourceRequest, CallResourceResponse, Error, PluginContext,
    ResponseSender, User,
};
use plugin_resource::{HttpResourceHandler, MAX_MESSAGE_BODY};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

/// Everything the handler sent for one call.
#[derive(Debug)]
struct Sent {
    messages: Vec<CallResourceResponse>,
}

impl Sent {
    fn status(&self) -> StatusCode {
        self.messages[0]
            .status
            .expect("the first message has a status")
    }

    fn headers(&self) -> &HeaderMap {
        &self.messages[0].headers
    }

    fn body(&self) -> Vec<u8> {
        self.messages
            .iter()
            .flat_map(|message| message.body.iter().copied())
            .collect()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body()).unwrap()
    }
}

/// A sender into a bounded channel (as the server's is) and its receiver.
fn channel(
    capacity: usize,
) -> (
    ResponseSender<CallResourceResponse>,
    mpsc::Receiver<CallResourceResponse>,
) {
    let (tx, rx) = mpsc::channel(capacity);
    let sink = futures_util::sink::unfold(tx, |tx, message| async move {
        tx.send(message).await.map_err(|_| Error::StreamClosed)?;
        Ok(tx)
    });
    (ResponseSender::new(sink), rx)
}

async fn collect(mut rx: mpsc::Receiver<CallResourceResponse>) -> Vec<CallResourceResponse> {
    let mut messages = Vec::new();
    while let Some(message) = rx.recv().await {
        messages.push(message);
    }
    messages
}

async fn call(handler: &impl CallResourceHandler, request: CallResourceRequest) -> Sent {
    let (sender, rx) = channel(16);
    let (result, messages) = tokio::join!(handler.call_resource(request, sender), collect(rx));
    result.unwrap();
    for later in &messages[1..] {
        assert!(
            later.status.is_none() && later.headers.is_empty(),
            "only the first message has a head"
        );
    }
    Sent { messages }
}

fn request(method: Method, path: &str, url: &str) -> CallResourceRequest {
    let mut request = CallResourceRequest::new(method, path);
    request.url = url.to_owned();
    request
}

fn router() -> Router {
    Router::new()
        .route(
            "/items/{id}",
            get(
                |Path(id): Path<u32>, Query(query): Query<HashMap<String, String>>| async move {
                    Json(json!({ "id": id, "query": query }))
                },
            ),
        )
        .route(
            "/echo",
            post(
                |Extension(context): Extension<PluginContext>,
                 user: Option<Extension<User>>,
                 Json(body): Json<Value>| async move {
                    Json(json!({
                        "plugin": context.plugin_id,
                        "user": user.map(|Extension(user)| user.login),
                        "body": body,
                    }))
                },
            ),
        )
        .route(
            "/cookies",
            get(|headers: HeaderMap| async move {
                let tags = headers.get_all("x-tag").iter().count();
                let mut response = format!("{tags} tags").into_response();
                let cookies = response.headers_mut();
                cookies.append(
                    header::SET_COOKIE,
                    HeaderValue::from_static("session=abc; HttpOnly"),
                );
                cookies.append(header::SET_COOKIE, HeaderValue::from_static("theme=dark"));
                response
            }),
        )
        .route(
            "/page",
            get(|| async {
                Response::new(Body::from("<!DOCTYPE html><html><body>hi</body></html>"))
            }),
        )
        .route("/empty", get(|| async { StatusCode::NO_CONTENT }))
        .route(
            "/big",
            get(|| async { vec![b'x'; 2 * MAX_MESSAGE_BODY + 10] }),
        )
        .route("/panic", get(fall_over))
}

async fn fall_over() -> StatusCode {
    panic!("the handler fell over")
}

#[tokio::test]
async fn routes_with_path_and_query_parameters() {
    let handler = HttpResourceHandler::new(router());
    let sent = call(
        &handler,
        request(
            Method::GET,
            "items/42",
            "/api/plugins/x/resources/items/42?limit=10&name=a%20b",
        ),
    )
    .await;
    assert_eq!(sent.status(), StatusCode::OK);
    assert_eq!(sent.headers()[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        sent.json(),
        json!({ "id": 42, "query": { "limit": "10", "name": "a b" } })
    );
    assert_eq!(
        sent.messages.len(),
        1,
        "a ready body goes out with the head"
    );

    let not_found = call(&handler, request(Method::GET, "nowhere", "/nowhere")).await;
    assert_eq!(not_found.status(), StatusCode::NOT_FOUND);
    let bad_id = call(&handler, request(Method::GET, "items/abc", "/items/abc")).await;
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
    let wrong_method = call(&handler, request(Method::DELETE, "items/1", "/items/1")).await;
    assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn json_in_and_out_with_the_plugin_context_and_user() {
    let handler = HttpResourceHandler::new(router());
    let mut echo = request(Method::POST, "echo", "/echo");
    echo.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    echo.body = Bytes::from_static(br#"{"answer": 42}"#);
    echo.plugin_context = PluginContext::new("my-app").with_user(User::new("grafana-admin"));

    let sent = call(&handler, echo).await;
    assert_eq!(sent.status(), StatusCode::OK);
    assert_eq!(
        sent.json(),
        json!({ "plugin": "my-app", "user": "grafana-admin", "body": { "answer": 42 } })
    );

    let mut anonymous = request(Method::POST, "echo", "/echo");
    anonymous.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    anonymous.body = Bytes::from_static(b"[]");
    assert_eq!(call(&handler, anonymous).await.json()["user"], Value::Null);
}

#[tokio::test]
async fn repeated_headers_survive_both_ways() {
    let handler = HttpResourceHandler::new(router());
    let mut request = request(Method::GET, "cookies", "/cookies");
    request
        .headers
        .append("x-tag", HeaderValue::from_static("a"));
    request
        .headers
        .append("x-tag", HeaderValue::from_static("b"));

    let sent = call(&handler, request).await;
    let cookies: Vec<_> = sent.headers().get_all(header::SET_COOKIE).iter().collect();
    assert_eq!(cookies, ["session=abc; HttpOnly", "theme=dark"]);
    assert_eq!(sent.body(), b"2 tags");
}

#[tokio::test]
async fn a_missing_content_type_is_sniffed() {
    let handler = HttpResourceHandler::new(router());
    let page = call(&handler, request(Method::GET, "page", "/page")).await;
    assert_eq!(
        page.headers()[header::CONTENT_TYPE],
        "text/html; charset=utf-8"
    );

    let empty = call(&handler, request(Method::GET, "empty", "/empty")).await;
    assert_eq!(empty.status(), StatusCode::NO_CONTENT);
    assert!(
        empty.headers().get(header::CONTENT_TYPE).is_none(),
        "nothing to sniff"
    );
    assert!(empty.body().is_empty());
}

#[tokio::test]
async fn large_chunks_are_split_into_several_messages() {
    let handler = HttpResourceHandler::new(router());
    let sent = call(&handler, request(Method::GET, "big", "/big")).await;
    let sizes: Vec<usize> = sent
        .messages
        .iter()
        .map(|message| message.body.len())
        .collect();
    assert_eq!(sizes, [MAX_MESSAGE_BODY, MAX_MESSAGE_BODY, 10]);
    assert_eq!(
        sent.headers()[header::CONTENT_TYPE],
        "application/octet-stream"
    );
}

#[tokio::test]
async fn a_service_error_is_a_500_with_its_message() {
    let failing = tower::service_fn(|_request: http::Request<_>| async {
        Err::<Response, _>(std::io::Error::other("database is down"))
    });
    let sent = call(
        &HttpResourceHandler::new(failing),
        request(Method::GET, "x", "/x"),
    )
    .await;
    assert_eq!(sent.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(sent.body(), b"database is down");
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_and_the_router_keeps_serving() {
    let handler = HttpResourceHandler::new(router());
    let sent = call(&handler, request(Method::GET, "panic", "/panic")).await;
    assert_eq!(sent.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = String::from_utf8(sent.body()).unwrap();
    assert!(
        body.contains("panicked") && !body.contains("fell over"),
        "{body}"
    );

    let after = call(&handler, request(Method::GET, "items/1", "/items/1")).await;
    assert_eq!(after.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_body_failing_mid_stream_fails_the_call_after_the_head() {
    let router = Router::new().route(
        "/file",
        get(|| async {
            let chunks = stream::iter([
                Ok(Bytes::from_static(b"partial")),
                Err(std::io::Error::other("disk read failed")),
            ]);
            Body::from_stream(chunks)
        }),
    );
    let handler = HttpResourceHandler::new(router);

    let (sender, rx) = channel(16);
    let (result, messages) = tokio::join!(
        handler.call_resource(request(Method::GET, "file", "/file"), sender),
        collect(rx)
    );
    assert!(result.unwrap_err().to_string().contains("disk read failed"));
    assert_eq!(messages[0].status, Some(StatusCode::OK));
    let body: Vec<u8> = messages
        .iter()
        .flat_map(|message| message.body.to_vec())
        .collect();
    assert_eq!(body, b"partial");
}

/// Sets its flag when dropped: tells the test the body was dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn an_endless_event_stream_ends_when_the_consumer_cancels() {
    let dropped = Arc::new(AtomicBool::new(false));
    let (first_event_tx, first_event_rx) = oneshot::channel::<()>();
    let router = {
        let dropped = Arc::clone(&dropped);
        let first_event_rx = Arc::new(std::sync::Mutex::new(Some(first_event_rx)));
        Router::new().route(
            "/events",
            get(move || {
                let flag = DropFlag(Arc::clone(&dropped));
                let first_event = first_event_rx.lock().unwrap().take().unwrap();
                async move {
                    // No event until the test says so, then an endless run.
                    let events = stream::once(first_event).flat_map(move |_| {
                        let _flag = &flag;
                        stream::iter(0u64..).map(|n| Ok::<_, Infallible>(format!("data: {n}\n\n")))
                    });
                    (
                        [(header::CONTENT_TYPE, "text/event-stream")],
                        Body::from_stream(events),
                    )
                }
            }),
        )
    };
    let handler = HttpResourceHandler::new(router);
    let (sender, mut rx) = channel(2);
    let call = tokio::spawn(async move {
        handler
            .call_resource(request(Method::GET, "events", "/events"), sender)
            .await
    });

    // The head arrives before any event exists.
    let head = rx.recv().await.unwrap();
    assert_eq!(head.status, Some(StatusCode::OK));
    assert_eq!(head.headers[header::CONTENT_TYPE], "text/event-stream");
    assert!(head.body.is_empty());

    first_event_tx.send(()).unwrap();
    for n in 0..3 {
        assert_eq!(rx.recv().await.unwrap().body, format!("data: {n}\n\n"));
    }
    drop(rx);

    let result = call.await.unwrap();
    assert!(matches!(result, Err(Error::StreamClosed)), "{result:?}");
    assert!(
        dropped.load(Ordering::SeqCst),
        "the endless body was dropped"
    );
}

#[tokio::test]
async fn an_unusable_path_is_a_400() {
    let handler = HttpResourceHandler::new(router());
    let long_path = "a/".repeat(40_000);
    let sent = call(&handler, request(Method::GET, &long_path, "")).await;
    assert_eq!(sent.status(), StatusCode::BAD_REQUEST);
}
