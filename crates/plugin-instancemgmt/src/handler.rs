//! [`InstanceManagedHandler`]: a [`Handler`] that answers each call with the
//! instance the call's plugin context selects (the Go SDK's automanagement,
//! which `datasource.Manage` and `app.Manage` install).

use std::fmt;

use plugin_backend::{
    AdmissionRequest, CallResourceRequest, CallResourceResponseSender, CheckHealthRequest,
    CheckHealthResult, ChunkedDataWriter, CollectMetricsRequest, CollectMetricsResult,
    ConversionRequest, ConversionResponse, DataResponse, Handler, MutationResponse, Plugin,
    PluginContext, PublishStreamRequest, PublishStreamResponse, QueryChunkedDataRequest,
    QueryDataRequest, QueryDataResponse, RunStreamRequest, StreamSender, SubscribeStreamRequest,
    SubscribeStreamResponse, ValidationResponse,
};

use crate::error::Error;
use crate::instance::ManagedInstance;
use crate::manager::InstanceManager;
use crate::provider::{InstanceProvider, InstanceRequest};
use crate::tenant;

/// Serves every call with the instance for the call's plugin context.
///
/// The instance-scoped endpoints (queries, chunked queries, resources,
/// health checks and streams) fetch the instance from the
/// [`InstanceManager`] and call the same endpoint on it; the instance type
/// is any [`Handler`], typically a [`Plugin`] assembled in the factory from
/// the capabilities the instance has (missing ones answer as
/// [`Plugin`] documents). The tenant comes from [`tenant::current`].
///
/// The process-wide endpoints (metrics, admission, conversion) go to a
/// separate handler, [`Plugin::new()`] unless set with
/// [`with_process_handler`](Self::with_process_handler): the process's
/// metrics, and `Unimplemented` for admission and conversion, as with the Go
/// SDK's `Manage` options.
///
/// When the instance cannot be created the call fails as in the Go SDK: a
/// health check reports an error result with the error's text; a query
/// whose error has an [`ErrorSource`](plugin_backend::ErrorSource) gets it
/// as the response of its first query; everything else returns the error.
///
/// ```
/// use plugin_backend::{
///     CheckHealthHandler, CheckHealthRequest, CheckHealthResult, DataSourceInstanceSettings, Error, Handler,
///     HealthStatus, Plugin, PluginContext,
/// };
/// use plugin_instancemgmt::{DataSourceInstanceProvider, InstanceManagedHandler, InstanceManager};
///
/// struct Database {
///     url: String,
/// }
///
/// impl CheckHealthHandler for Database {
///     async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
///         Ok(CheckHealthResult::ok(format!("{} is up", self.url)))
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let handler = InstanceManagedHandler::new(InstanceManager::new(DataSourceInstanceProvider::new(
///     |settings, _context| async move { Ok(Plugin::new().with_check_health(Database { url: settings.url.clone() })) },
/// )));
///
/// let mut settings = DataSourceInstanceSettings::default();
/// settings.url = "db:5432".into();
/// let context = PluginContext::new("my-datasource").with_data_source_instance_settings(settings);
/// let result = handler.check_health(CheckHealthRequest::new(context)).await?;
/// assert_eq!(result.status, HealthStatus::Ok);
/// assert_eq!(result.message, "db:5432 is up");
/// # Ok::<(), Error>(())
/// # }).unwrap();
/// ```
pub struct InstanceManagedHandler<P: InstanceProvider, H = Plugin> {
    manager: InstanceManager<P>,
    process_handler: H,
}

impl<P: InstanceProvider> InstanceManagedHandler<P> {
    /// A handler serving calls with the instances of `manager`.
    pub fn new(manager: InstanceManager<P>) -> Self {
        InstanceManagedHandler {
            manager,
            process_handler: Plugin::new(),
        }
    }
}

impl<P: InstanceProvider, H> InstanceManagedHandler<P, H> {
    /// This handler, answering the process-wide endpoints (metrics,
    /// admission, conversion) with `handler`.
    pub fn with_process_handler<H2: Handler>(self, handler: H2) -> InstanceManagedHandler<P, H2> {
        InstanceManagedHandler {
            manager: self.manager,
            process_handler: handler,
        }
    }

    /// The instance manager.
    pub fn manager(&self) -> &InstanceManager<P> {
        &self.manager
    }

    async fn instance(
        &self,
        context: &PluginContext,
    ) -> Result<ManagedInstance<P::Instance>, Error> {
        let tenant_id = tenant::current();
        let request =
            InstanceRequest::new(context).with_tenant_id(tenant_id.as_deref().unwrap_or_default());
        self.manager.get(request).await
    }
}

impl<P, H> Handler for InstanceManagedHandler<P, H>
where
    P: InstanceProvider,
    P::Instance: Handler,
    H: Handler,
{
    async fn query_data(
        &self,
        request: QueryDataRequest,
    ) -> Result<QueryDataResponse, plugin_backend::Error> {
        match self.instance(&request.plugin_context).await {
            Ok(instance) => instance.query_data(request).await,
            Err(error) => match (error.error_source(), request.queries.first()) {
                // An error with a known source is the first query's answer,
                // so Grafana can attribute it; others fail the call.
                (Some(source), Some(query)) => Ok(QueryDataResponse::new().with_response(
                    query.ref_id.clone(),
                    DataResponse::from_error(error).with_error_source(source),
                )),
                _ => Err(error.into()),
            },
        }
    }

    async fn query_chunked_data(
        &self,
        request: QueryChunkedDataRequest,
        writer: ChunkedDataWriter,
    ) -> Result<(), plugin_backend::Error> {
        let instance = self.instance(&request.plugin_context).await?;
        instance.query_chunked_data(request, writer).await
    }

    async fn call_resource(
        &self,
        request: CallResourceRequest,
        sender: CallResourceResponseSender,
    ) -> Result<(), plugin_backend::Error> {
        let instance = self.instance(&request.plugin_context).await?;
        instance.call_resource(request, sender).await
    }

    async fn check_health(
        &self,
        request: CheckHealthRequest,
    ) -> Result<CheckHealthResult, plugin_backend::Error> {
        match self.instance(&request.plugin_context).await {
            Ok(instance) => instance.check_health(request).await,
            Err(error) => Ok(CheckHealthResult::error(error.to_string())),
        }
    }

    async fn collect_metrics(
        &self,
        request: CollectMetricsRequest,
    ) -> Result<CollectMetricsResult, plugin_backend::Error> {
        // Grafana reads the instance metrics through here, so they are
        // reported (at zero) even before the first instance exists.
        crate::metrics::register_all();
        self.process_handler.collect_metrics(request).await
    }

    async fn subscribe_stream(
        &self,
        request: SubscribeStreamRequest,
    ) -> Result<SubscribeStreamResponse, plugin_backend::Error> {
        let instance = self.instance(&request.plugin_context).await?;
        instance.subscribe_stream(request).await
    }

    async fn publish_stream(
        &self,
        request: PublishStreamRequest,
    ) -> Result<PublishStreamResponse, plugin_backend::Error> {
        let instance = self.instance(&request.plugin_context).await?;
        instance.publish_stream(request).await
    }

    async fn run_stream(
        &self,
        request: RunStreamRequest,
        sender: StreamSender,
    ) -> Result<(), plugin_backend::Error> {
        let instance = self.instance(&request.plugin_context).await?;
        instance.run_stream(request, sender).await
    }

    async fn validate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<ValidationResponse, plugin_backend::Error> {
        self.process_handler.validate_admission(request).await
    }

    async fn mutate_admission(
        &self,
        request: AdmissionRequest,
    ) -> Result<MutationResponse, plugin_backend::Error> {
        self.process_handler.mutate_admission(request).await
    }

    async fn convert_objects(
        &self,
        request: ConversionRequest,
    ) -> Result<ConversionResponse, plugin_backend::Error> {
        self.process_handler.convert_objects(request).await
    }
}

impl<P: InstanceProvider, H: Clone> Clone for InstanceManagedHandler<P, H> {
    fn clone(&self) -> Self {
        InstanceManagedHandler {
            manager: self.manager.clone(),
            process_handler: self.process_handler.clone(),
        }
    }
}

impl<P: InstanceProvider, H: fmt::Debug> fmt::Debug for InstanceManagedHandler<P, H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceManagedHandler")
            .field("manager", &self.manager)
            .field("process_handler", &self.process_handler)
            .finish()
    }
}
