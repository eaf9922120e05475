//! Error-source tagging: decides who is to blame for errors that do not say.
//!
//! * A failed call whose error has no explicit source but is a timeout or a
//!   connection failure ([`Error::error_source`]) is marked downstream.
//! * Every failed query of a query data response gets an error source when
//!   it has none (downstream for timeouts and connection failures, plugin
//!   otherwise) and a status when it has none ([`Error::guess_status`]), as
//!   the Go SDK's error-source middleware does.

use tower_layer::Layer;

use crate::admission::{AdmissionRequest, MutationResponse, ValidationResponse};
use crate::chunked::{ChunkedDataWriter, QueryChunkedDataRequest};
use crate::conversion::{ConversionRequest, ConversionResponse};
use crate::data::{QueryDataRequest, QueryDataResponse};
use crate::diagnostics::{
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
};
use crate::error::{Error, ErrorSource};
use crate::handler::Handler;
use crate::resource::{CallResourceRequest, CallResourceResponseSender};
use crate::stream::{
    PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamSender,
    SubscribeStreamRequest, SubscribeStreamResponse,
};

/// A [`Layer`] adding [`WithErrorSource`] to a handler.
#[derive(Debug, Clone, Default)]
pub struct ErrorSourceLayer {
    _private: (),
}

impl ErrorSourceLayer {
    /// The error-source layer.
    pub fn new() -> Self {
        ErrorSourceLayer::default()
    }
}

impl<H> Layer<H> for ErrorSourceLayer {
    type Service = WithErrorSource<H>;

    fn layer(&self, inner: H) -> WithErrorSource<H> {
        WithErrorSource { inner }
    }
}

/// A handler that attributes errors; see the [module docs](self).
#[derive(Debug, Clone)]
pub struct WithErrorSource<H> {
    inner: H,
}

impl<H> WithErrorSource<H> {
    /// The wrapped handler.
    pub fn get_ref(&self) -> &H {
        &self.inner
    }
}

/// Marks an unattributed error that looks like a downstream failure as one.
fn tag<T>(result: Result<T, Error>) -> Result<T, Error> {
    result.map_err(
        |error| match (error.explicit_source(), error.error_source()) {
            (None, Some(ErrorSource::Downstream)) => error.with_source(ErrorSource::Downstream),
            _ => error,
        },
    )
}

/// Fills in the error source and status of every failed query.
fn tag_responses(mut response: QueryDataResponse) -> QueryDataResponse {
    for data in response.responses.values_mut() {
        let Some(error) = &data.error else { continue };
        if data.error_source.is_none() {
            data.error_source = Some(error.error_source().unwrap_or(ErrorSource::Plugin));
        }
        if data.status.is_none() {
            data.status = Some(error.guess_status());
        }
    }
    response
}

impl<H: Handler> Handler for WithErrorSource<H> {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        tag(self.inner.query_data(request).await).map(tag_responses)
    }

    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        tag(self.inner.query_chunked_data(request, writer).await)
    }

    async fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        tag(self.inner.call_resource(request, sender).await)
    }

    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        tag(self.inner.check_health(request).await)
    }

    async fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> Result<CollectMetricsResult, Error> {
        tag(self.inner.collect_metrics(request).await)
    }

    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        tag(self.inner.subscribe_stream(request).await)
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        tag(self.inner.publish_stream(request).await)
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> Result<(), Error> {
        tag(self.inner.run_stream(request, sender).await)
    }

    async fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<ValidationResponse, Error> {
        tag(self.inner.validate_admission(request).await)
    }

    async fn mutate_admission(&self, request: AdmissionRequest) -> Result<MutationResponse, Error> {
        tag(self.inner.mutate_admission(request).await)
    }

    async fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> Result<ConversionResponse, Error> {
        tag(self.inner.convert_objects(request).await)
    }
}
