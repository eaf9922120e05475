//! Error-source tagging: decides who is to blame for errors that do not say.
//!
//! * A failed call whose error has no explicit source but is a timeout or a
//!   connection failure ([`Error::error_source`]) is marked downstream.
//! * Every failed query of a query data response gets an error source when
//!   it has none (downstream for timeouts and connection failures, plugin
//!   otherwise) and a status when it has none ([`Error::guess_status`]), as
//!   the Go SDK's error-source middleware does.

use super::{Layered, Middleware, Next};
use crate::data::QueryDataResponse;
use crate::error::{Error, ErrorSource};
use crate::handler::Handler;
use crate::rpc::{self, Rpc};

/// The error-source [`Middleware`].
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

/// A handler that attributes errors; see the [module docs](self).
pub type WithErrorSource<H> = Layered<ErrorSourceLayer, H>;

impl Middleware for ErrorSourceLayer {
    async fn call<E: Rpc, H: Handler>(
        &self,
        request: E::Request,
        next: Next<'_, H>,
    ) -> Result<E::Response, Error> {
        let mut response = tag(next.call::<E>(request).await)?;
        if let Some(response) = rpc::downcast_mut::<E::Response, QueryDataResponse>(&mut response) {
            tag_responses(response);
        }
        Ok(response)
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
fn tag_responses(response: &mut QueryDataResponse) {
    for data in response.responses.values_mut() {
        let Some(error) = &data.error else { continue };
        if data.error_source.is_none() {
            data.error_source = Some(error.error_source().unwrap_or(ErrorSource::Plugin));
        }
        if data.status.is_none() {
            data.status = Some(error.guess_status());
        }
    }
}
