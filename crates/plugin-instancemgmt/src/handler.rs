//! [`InstanceManagedHandler`]: a [`Handler`] that answers each call with the
//! instance the call's plugin context selects (the Go SDK's automanagement,
//! which `datasource.Manage` and `app.Manage` install).

use std::fmt;

use plugin_backend::rpc::{self, Rpc, Scope};
use plugin_backend::{
    CheckHealthResult, DataResponse, Endpoint, Handler, Plugin, PluginContext, QueryDataRequest,
    QueryDataResponse,
};

use crate::error::Error;
use crate::instance::ManagedInstance;
use crate::manager::InstanceManager;
use crate::provider::{InstanceProvider, InstanceRequest};

/// Serves every call with the instance for the call's plugin context.
///
/// The instance-scoped endpoints ([`Scope::Instance`]: queries, chunked
/// queries, resources, health checks and streams) fetch the instance from
/// the [`InstanceManager`] and call the same endpoint on it; the instance
/// type is any [`Handler`], typically a [`Plugin`] assembled in the factory
/// from the capabilities the instance has. An endpoint the instance does not
/// [implement](Handler::implements) fails with `Unimplemented`, as in the Go
/// SDK's automanagement, health checks included. The tenant is the context's
/// [`tenant_id`](PluginContext::tenant_id).
///
/// The process-wide endpoints ([`Scope::Process`]: metrics, admission,
/// conversion) go to a
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
        self.manager.get(InstanceRequest::new(context)).await
    }
}

impl<P, H> Handler for InstanceManagedHandler<P, H>
where
    P: InstanceProvider,
    P::Instance: Handler,
    H: Handler,
{
    async fn call<E: Rpc>(
        &self,
        request: E::Request,
    ) -> Result<E::Response, plugin_backend::Error> {
        match E::ENDPOINT.scope() {
            Scope::Instance => match self.instance(E::plugin_context(&request)).await {
                // Go's automanagement answers an endpoint the instance lacks
                // with `Unimplemented` (internal/automanagement/manager.go),
                // which Grafana shows as "not implemented"; for a health
                // check too, not a healthy result.
                Ok(instance) if !instance.implements(E::ENDPOINT) => {
                    Err(plugin_backend::Error::Unimplemented(E::ENDPOINT))
                }
                Ok(instance) => instance.call::<E>(request).await,
                Err(error) => instance_failure::<E>(&request, error),
            },
            Scope::Process => {
                if E::ENDPOINT == Endpoint::CollectMetrics {
                    // Grafana reads the instance metrics through here, so
                    // they are reported (at zero) even before the first
                    // instance exists.
                    crate::metrics::register_all();
                }
                self.process_handler.call::<E>(request).await
            }
        }
    }

    /// Every instance endpoint, since which capabilities an instance has is
    /// known only once it exists (Go's `Manage` registers every service,
    /// backend/datasource/manage.go); the process handler's own for the
    /// rest.
    fn implements(&self, endpoint: Endpoint) -> bool {
        match endpoint.scope() {
            Scope::Instance => true,
            Scope::Process => self.process_handler.implements(endpoint),
        }
    }
}

/// The answer to a call whose instance cannot be created, as the Go SDK
/// gives it: a health check reports an error result with the error's text;
/// a query whose error has a source gets it as the response of its first
/// query, so Grafana can attribute it; everything else fails the call.
fn instance_failure<E: Rpc>(
    request: &E::Request,
    error: Error,
) -> Result<E::Response, plugin_backend::Error> {
    if E::ENDPOINT == Endpoint::CheckHealth {
        let result = CheckHealthResult::error(error.to_string());
        if let Ok(result) = rpc::downcast::<_, E::Response>(result) {
            return Ok(result);
        }
    }
    let first_query = rpc::downcast_ref::<E::Request, QueryDataRequest>(request)
        .and_then(|request| request.queries.first());
    if let (Some(source), Some(query)) = (error.error_source(), first_query) {
        let response = QueryDataResponse::new().with_response(
            query.ref_id.clone(),
            DataResponse::from_error(error).with_error_source(source),
        );
        return rpc::downcast::<_, E::Response>(response)
            .map_err(|_| plugin_backend::Error::new("a query data answer for another endpoint"));
    }
    Err(error.into())
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
