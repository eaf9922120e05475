//! Conversions between the wire messages of `plugin-proto` and the SDK types,
//! in both directions.
//!
//! * **Plugin side** (what `plugin-serve` uses): a request message becomes an
//!   SDK request with `TryFrom` (validating as it goes: a missing plugin
//!   context, an out-of-range time, an unknown role or enum value is an
//!   [`Error`], never a panic), and an SDK response becomes a message with
//!   `From`, or with [`QueryDataResponse::into_proto`] /
//!   [`DataResponse::into_proto`] where frames must be encoded in the format
//!   the request asked for.
//! * **Host side** (what a test kit acting as Grafana uses): an SDK request
//!   becomes a message with `From`, and a response message becomes an SDK
//!   response with `TryFrom` (decoding frames by each response's own
//!   `format`).
//!
//! ```
//! use plugin_backend::{PluginContext, QueryDataRequest};
//! use plugin_proto::pluginv2;
//!
//! let message = pluginv2::QueryDataRequest {
//!     plugin_context: Some(pluginv2::PluginContext { plugin_id: "my-ds".into(), ..Default::default() }),
//!     ..Default::default()
//! };
//! let request = QueryDataRequest::try_from(message.clone())?;
//! assert_eq!(request.plugin_context.plugin_id, "my-ds");
//! assert_eq!(pluginv2::QueryDataRequest::from(request), message);
//!
//! // A request without its plugin context is malformed.
//! assert!(QueryDataRequest::try_from(pluginv2::QueryDataRequest::default()).is_err());
//! # Ok::<(), plugin_backend::Error>(())
//! ```
//!
//! [`Error`]: crate::Error
//! [`QueryDataResponse::into_proto`]: crate::QueryDataResponse::into_proto
//! [`DataResponse::into_proto`]: crate::DataResponse::into_proto

mod admission;
mod context;
mod data;
mod diagnostics;
mod resource;
mod stream;

use plugin_proto::pluginv2;

use crate::context::PluginContext;
use crate::data::DataFrameFormat;
use crate::error::Error;

/// The SDK plugin context of a request's optional context message, which
/// every request must have.
fn required_plugin_context(
    message: Option<pluginv2::PluginContext>,
) -> Result<PluginContext, Error> {
    message
        .ok_or(Error::MissingField("plugin context"))?
        .try_into()
}

impl DataFrameFormat {
    /// The format of a wire enum value; unknown values are errors.
    pub(crate) fn from_wire(value: i32) -> Result<Self, Error> {
        match pluginv2::DataFrameFormat::try_from(value) {
            Ok(pluginv2::DataFrameFormat::Arrow) => Ok(DataFrameFormat::Arrow),
            Ok(pluginv2::DataFrameFormat::Json) => Ok(DataFrameFormat::Json),
            Err(_) => Err(Error::invalid(
                "data frame format",
                format!("unknown format {value}"),
            )),
        }
    }

    /// The wire enum value.
    pub(crate) fn to_wire(self) -> i32 {
        match self {
            DataFrameFormat::Arrow => pluginv2::DataFrameFormat::Arrow as i32,
            DataFrameFormat::Json => pluginv2::DataFrameFormat::Json as i32,
        }
    }
}
