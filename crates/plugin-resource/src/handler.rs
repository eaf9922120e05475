//! [`HttpResourceHandler`]: a [`CallResourceHandler`] that forwards resource
//! calls to a tower HTTP service.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use http::{Request, Response, StatusCode};
use http_body::Body;
use plugin_backend::{
    BoxError, CallResourceHandler, CallResourceRequest, CallResourceResponseSender,
};
use tower_service::Service;

use crate::error::Error;
use crate::request::{ResourceRequestBody, http_request};
use crate::response::{panic_message, send_error_response, send_response, send_text};

/// Answers resource calls with an HTTP service, such as an
/// [`axum::Router`](https://docs.rs/axum/0.8/axum/struct.Router.html):
/// the Rust counterpart of the Go SDK's `httpadapter.New`.
///
/// Each call becomes one `http::Request` (see the [crate docs](crate) for
/// what it carries) sent to a clone of the service; the response is
/// streamed back as it is produced. Clone is how tower services are shared,
/// so the service should be cheap to clone (a `Router` is); wrap others in
/// `tower::buffer::Buffer`.
///
/// * An error from the service becomes a `500 Internal Server Error` with
///   the error's text as a plain-text body.
/// * A panic in the service becomes a `500` too (its message is logged,
///   not sent), so it takes down neither the call nor the process. A panic
///   or a body error after the head was sent ends the call with an
///   [`Error`].
/// * A request whose path does not form a valid request target is answered
///   with `400 Bad Request`.
#[derive(Debug, Clone)]
pub struct HttpResourceHandler<S> {
    service: S,
}

impl<S> HttpResourceHandler<S> {
    /// A handler forwarding resource calls to `service`.
    pub fn new(service: S) -> Self {
        HttpResourceHandler { service }
    }

    /// The service.
    pub fn service(&self) -> &S {
        &self.service
    }

    /// The service, by value.
    pub fn into_service(self) -> S {
        self.service
    }
}

impl<S, B> CallResourceHandler for HttpResourceHandler<S>
where
    S: Service<Request<ResourceRequestBody>, Response = Response<B>> + Clone + Send + Sync,
    S::Future: Send,
    S::Error: Into<BoxError>,
    B: Body + Send,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), plugin_backend::Error> {
        let request = match http_request(request) {
            Ok(request) => request,
            Err(error) => {
                tracing::debug!(%error, "rejected resource request");
                return Ok(
                    send_text(&mut sender, StatusCode::BAD_REQUEST, error.to_string()).await?,
                );
            }
        };

        // Settle the outcome before the next `.await`: the service's error
        // type need not be `Send`, the boxed error is.
        let outcome = AssertUnwindSafe(oneshot(self.service.clone(), request))
            .catch_unwind()
            .await
            .map(|result| result.map_err(Into::<BoxError>::into));
        let response = match outcome {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => {
                tracing::error!(%error, "resource service failed");
                return Ok(send_text(
                    &mut sender,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    error.to_string(),
                )
                .await?);
            }
            Err(panic) => {
                let error = Error::Panic(panic_message(panic.as_ref()));
                tracing::error!(%error, "resource service panicked");
                return Ok(send_error_response(&mut sender, &error).await?);
            }
        };
        send_response(response, &mut sender).await.map_err(|error| {
            if !matches!(error, Error::Send(_)) {
                tracing::error!(%error, "resource response failed after its head was sent");
            }
            error.into()
        })
    }
}

/// Waits for `service` to be ready, then calls it with `request`.
async fn oneshot<S, R>(mut service: S, request: R) -> Result<S::Response, S::Error>
where
    S: Service<R>,
{
    std::future::poll_fn(|cx| service.poll_ready(cx)).await?;
    service.call(request).await
}
