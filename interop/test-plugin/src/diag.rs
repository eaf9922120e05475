//! Faults on request and the runtime's figures, for the Go reliability
//! tests (`interop/go/host/load_test.go`, `faults_test.go`).
//!
//! [`Faults`] wraps each capability handler of the plugin and forwards
//! every call to it, except:
//!
//! * any call whose plugin context names data source uid `panic` panics at
//!   once, on every endpoint that has a context (not CollectMetrics);
//! * `panic-midway` panics after part of the answer is out: CallResource
//!   path `panic-midway` after the head and one body chunk, RunStream path
//!   `panic-midway` after two packets, QueryChunkedData query refId
//!   `panic-midway` after one frame of that query;
//! * a QueryData query with `"sleepMillis": N` (at most 10 000) in its JSON
//!   makes the call wait N ms before the queries run: a slow query, counted
//!   in `sleeping` while it waits;
//! * the instance factory panics for data source uid `factory-panic` and
//!   fails for `factory-error` ([`factory_faults`]);
//! * CallResource path `diag` answers the figures as JSON:
//!   `{"alive_tasks": tokio's count of unfinished tasks (this call's own
//!   included), "workers": the runtime's worker threads, "sleeping": slow
//!   queries waiting now}`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::StatusCode;
use plugin_backend::{
    AdmissionHandler, AdmissionRequest, CallResourceHandler, CallResourceRequest,
    CallResourceResponse, CallResourceResponseSender, CheckHealthHandler, CheckHealthRequest,
    CheckHealthResult, ChunkedDataWriter, ConversionHandler, ConversionRequest, ConversionResponse,
    DataSourceInstanceSettings, Endpoint, Error, MutationResponse, PluginContext,
    PublishStreamRequest, PublishStreamResponse, QueryChunkedDataHandler, QueryChunkedDataRequest,
    QueryDataHandler, QueryDataRequest, QueryDataResponse, RunStreamRequest, StreamHandler,
    StreamSender, SubscribeStreamRequest, SubscribeStreamResponse, ValidationResponse, resource,
};
use plugin_data::{Field, Frame, FrameInclude};
use serde_json::json;

/// The data source uid whose calls panic.
const PANIC_UID: &str = "panic";

/// The data source uids whose instance factory panics or fails.
const FACTORY_PANIC_UID: &str = "factory-panic";
const FACTORY_ERROR_UID: &str = "factory-error";

/// The path or refId of a call that panics part-way through its answer.
const PANIC_MIDWAY: &str = "panic-midway";

/// The longest slow query.
const MAX_SLEEP_MILLIS: u64 = 10_000;

/// Slow queries waiting now.
static SLEEPING: AtomicUsize = AtomicUsize::new(0);

/// A capability handler with the faults of the [module docs](self).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Faults<H>(pub(crate) H);

/// Panics if `context` names the panicking data source.
fn panic_if_asked(endpoint: Endpoint, context: &PluginContext) {
    let uid = context
        .data_source_instance_settings
        .as_deref()
        .map(|settings| settings.uid.as_str());
    if uid == Some(PANIC_UID) {
        panic!("the test plugin panics in {endpoint} as asked");
    }
}

/// Panics or fails in the instance factory when the data source's uid asks
/// for it; called first by the factory in `main`.
pub(crate) fn factory_faults(settings: &DataSourceInstanceSettings) -> Result<(), Error> {
    match settings.uid.as_str() {
        FACTORY_PANIC_UID => panic!("the test plugin's instance factory panics as asked"),
        FACTORY_ERROR_UID => Err(Error::plugin(
            "the test plugin's instance factory fails as asked",
        )),
        _ => Ok(()),
    }
}

/// Counts a slow query while it waits.
#[derive(Debug)]
struct Sleeping;

impl Sleeping {
    fn enter() -> Self {
        SLEEPING.fetch_add(1, Ordering::SeqCst);
        Sleeping
    }
}

impl Drop for Sleeping {
    fn drop(&mut self) {
        SLEEPING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The longest `sleepMillis` of the request's queries.
fn sleep_of(request: &QueryDataRequest) -> Option<Duration> {
    request
        .queries
        .iter()
        .filter_map(|query| {
            serde_json::from_slice::<serde_json::Value>(&query.json)
                .ok()?
                .get("sleepMillis")?
                .as_u64()
        })
        .max()
        .map(|millis| Duration::from_millis(millis.min(MAX_SLEEP_MILLIS)))
}

impl<H: QueryDataHandler> QueryDataHandler for Faults<H> {
    async fn query_data(&self, request: QueryDataRequest) -> Result<QueryDataResponse, Error> {
        panic_if_asked(Endpoint::QueryData, &request.plugin_context);
        if let Some(duration) = sleep_of(&request) {
            let _sleeping = Sleeping::enter();
            tokio::time::sleep(duration).await;
        }
        self.0.query_data(request).await
    }
}

impl<H: QueryChunkedDataHandler> QueryChunkedDataHandler for Faults<H> {
    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        mut writer: ChunkedDataWriter,
    ) -> Result<(), Error> {
        panic_if_asked(Endpoint::QueryChunkedData, &request.plugin_context);
        if request
            .queries
            .iter()
            .any(|query| query.ref_id == PANIC_MIDWAY)
        {
            writer
                .write_frame(PANIC_MIDWAY, "before", Frame::new("before"))
                .await?;
            panic!("the test plugin panics in queryChunkedData after one frame, as asked");
        }
        self.0.query_chunked_data(request, writer).await
    }
}

impl<H: CallResourceHandler> CallResourceHandler for Faults<H> {
    async fn call_resource(
        &self,
        request: CallResourceRequest,
        mut sender: CallResourceResponseSender,
    ) -> Result<(), Error> {
        panic_if_asked(Endpoint::CallResource, &request.plugin_context);
        match request.path.trim_matches('/') {
            "diag" => resource::send_json(&mut sender, &figures()).await,
            PANIC_MIDWAY => {
                sender
                    .send(CallResourceResponse::new(StatusCode::OK))
                    .await?;
                sender
                    .send(CallResourceResponse::body_chunk("before the panic"))
                    .await?;
                panic!("the test plugin panics in callResource after the head, as asked");
            }
            _ => self.0.call_resource(request, sender).await,
        }
    }
}

impl<H: CheckHealthHandler> CheckHealthHandler for Faults<H> {
    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        panic_if_asked(Endpoint::CheckHealth, &request.plugin_context);
        self.0.check_health(request).await
    }
}

impl<H: StreamHandler> StreamHandler for Faults<H> {
    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, Error> {
        panic_if_asked(Endpoint::SubscribeStream, &request.plugin_context);
        self.0.subscribe_stream(request).await
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, Error> {
        panic_if_asked(Endpoint::PublishStream, &request.plugin_context);
        self.0.publish_stream(request).await
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        mut sender: StreamSender,
    ) -> Result<(), Error> {
        panic_if_asked(Endpoint::RunStream, &request.plugin_context);
        if request.path == PANIC_MIDWAY {
            let frame = Frame::new("before").with_field(Field::new("n", vec![0_i64]));
            sender.send_frame(&frame, FrameInclude::All).await?;
            sender.send_frame(&frame, FrameInclude::DataOnly).await?;
            panic!("the test plugin panics in runStream after two packets, as asked");
        }
        self.0.run_stream(request, sender).await
    }
}

impl<H: AdmissionHandler> AdmissionHandler for Faults<H> {
    async fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<ValidationResponse, Error> {
        panic_if_asked(Endpoint::ValidateAdmission, &request.plugin_context);
        self.0.validate_admission(request).await
    }

    async fn mutate_admission(&self, request: AdmissionRequest) -> Result<MutationResponse, Error> {
        panic_if_asked(Endpoint::MutateAdmission, &request.plugin_context);
        self.0.mutate_admission(request).await
    }
}

impl<H: ConversionHandler> ConversionHandler for Faults<H> {
    async fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> Result<ConversionResponse, Error> {
        panic_if_asked(Endpoint::ConvertObjects, &request.plugin_context);
        self.0.convert_objects(request).await
    }
}

/// The figures the `diag` resource answers.
fn figures() -> serde_json::Value {
    let metrics = tokio::runtime::Handle::current().metrics();
    json!({
        "alive_tasks": metrics.num_alive_tasks(),
        "workers": metrics.num_workers(),
        "sleeping": SLEEPING.load(Ordering::SeqCst),
    })
}
