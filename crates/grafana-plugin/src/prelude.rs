//! The names nearly every plugin uses: `use grafana_plugin::prelude::*;`.
//!
//! Handler traits, the requests and responses of the common endpoints and
//! their statuses, plugin context and settings, errors, frames and fields,
//! and what `main` needs. Everything else is one module away ([`crate::backend`],
//! [`crate::data`], …).

pub use plugin_backend::{
    AppInstanceSettings, CallResourceHandler, CallResourceRequest, CallResourceResponse,
    CallResourceResponseSender, CheckHealthHandler, CheckHealthRequest, CheckHealthResult,
    DataQuery, DataResponse, DataSourceInstanceSettings, Error, ErrorSource, HealthStatus, Plugin,
    PluginContext, PublishStreamRequest, PublishStreamResponse, QueryDataHandler, QueryDataRequest,
    QueryDataResponse, QueryTypeMux, RunStreamRequest, Status, StreamHandler, StreamSender,
    StreamStatus, SubscribeStreamRequest, SubscribeStreamResponse, TimeRange,
};
pub use plugin_data::{Field, FieldConfig, FieldType, Frame, FrameInclude, FrameMeta, Labels};
pub use plugin_serve::{ManageOptions, build_info};
