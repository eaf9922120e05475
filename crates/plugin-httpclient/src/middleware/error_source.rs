//! Downstream error tagging: errors the Go SDK's `IsDownstreamHTTPError`
//! attributes to the data source (see
//! [`Error::is_downstream_http_error`]) are wrapped in
//! [`Error::Downstream`], both when sending the request and while reading
//! the response body.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use http::{Request, Response};
use http_body::Frame;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::{body::Body, error::Error};

/// Layer tagging downstream errors; see the [module docs](self).
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorSourceLayer;

impl ErrorSourceLayer {
    /// The layer.
    pub fn new() -> Self {
        Self
    }
}

impl<S> Layer<S> for ErrorSourceLayer {
    type Service = ErrorSourceService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ErrorSourceService { inner }
    }
}

/// Service produced by [`ErrorSourceLayer`].
#[derive(Clone, Debug)]
pub struct ErrorSourceService<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for ErrorSourceService<S>
where
    S: Service<Request<B>, Response = Response<Body>, Error = Error>,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = ErrorSourceFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(tag)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ErrorSourceFuture {
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    /// Future of [`ErrorSourceService`].
    #[derive(Debug)]
    pub struct ErrorSourceFuture<F> {
        #[pin]
        inner: F,
    }
}

impl<F> Future for ErrorSourceFuture<F>
where
    F: Future<Output = Result<Response<Body>, Error>>,
{
    type Output = Result<Response<Body>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().inner.poll(cx).map(|result| match result {
            Ok(response) => Ok(response.map(|body| Body::from_body(TaggedBody { inner: body }))),
            Err(error) => Err(tag(error)),
        })
    }
}

fn tag(error: Error) -> Error {
    if error.is_downstream_http_error() {
        error.into_downstream()
    } else {
        error
    }
}

/// A response body whose errors are tagged like the request's.
struct TaggedBody {
    inner: Body,
}

impl http_body::Body for TaggedBody {
    type Data = bytes::Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner)
            .poll_frame(cx)
            .map(|frame| frame.map(|result| result.map_err(tag)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
