//! `interop-test-plugin`: a data source that answers every endpoint of the
//! plugin protocol with deterministic answers the Go interop suite
//! (`interop/go/host`) can check with the Go SDK's own decoders.
//!
//! Each endpoint group lives in its own module, and each module documents
//! the contract the Go tests rely on:
//!
//! * [`query`]: QueryData, scenarios chosen by the query JSON
//!   (`all_types`, `rows`, `error`, `request_error`);
//! * [`chunked`]: QueryChunkedData, the same scenarios in several chunks per
//!   frame;
//! * [`resource`]: CallResource `echo`, the request reflected in headers and
//!   the body streamed back in chunks;
//! * [`health`]: CheckHealth with `jsonDetails` describing the request;
//! * [`stream`]: SubscribeStream, RunStream (`count/N`: N packets, then the
//!   end) and PublishStream;
//! * [`admission`]: ValidateAdmission and MutateAdmission on JSON objects;
//! * [`conversion`]: ConvertObjects, rewriting `apiVersion`;
//! * [`diag`]: around all of them, panics and slow queries on request and
//!   the `diag` resource (tokio's task count), for the reliability tests.
//!
//! CollectMetrics is the SDK default (the process's Prometheus registry).
//! Admission and conversion are process-wide, as in the SDK's `manage`, so
//! they sit in [`process_handler`]; everything else is per instance, in
//! [`instance`]. New scenarios go in new modules and are registered there.

mod admission;
mod chunked;
mod conversion;
mod diag;
mod health;
mod query;
mod resource;
mod stream;

use diag::Faults;
use plugin_backend::Plugin;
use plugin_serve::{ManageOptions, build_info};

/// The plugin id Grafana would know it by.
const PLUGIN_ID: &str = "acme-interop-test-datasource";

/// The capabilities of one data source instance; no endpoint keeps state,
/// so every instance is the same.
fn instance() -> Plugin {
    Plugin::new()
        .with_query_data(Faults(query::Queries))
        .with_query_chunked_data(Faults(chunked::ChunkedQueries))
        .with_call_resource(Faults(resource::Echo))
        .with_check_health(Faults(health::Health))
        .with_stream(Faults(stream::Streams))
}

/// The process-wide endpoints: admission and conversion (metrics stay the
/// SDK default).
fn process_handler() -> Plugin {
    Plugin::new()
        .with_admission(Faults(admission::Admission))
        .with_conversion(Faults(conversion::Conversion))
}

#[tokio::main]
async fn main() -> Result<(), plugin_serve::Error> {
    plugin_serve::datasource::manage(
        PLUGIN_ID,
        |settings, _context| async move {
            diag::factory_faults(&settings)?;
            Ok(instance())
        },
        ManageOptions::new()
            .with_build_info(build_info!())
            .with_process_handler(process_handler()),
    )
    .await
}
