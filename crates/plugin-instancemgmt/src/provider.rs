//! [`InstanceProvider`]: what a manager needs to know about one kind of
//! instance (its cache key, when it is stale, how to build and dispose of
//! it), and [`InstanceRequest`], what an instance is asked for.

use std::fmt;
use std::future::Future;
use std::hash::Hash;

use plugin_backend::PluginContext;

use crate::error::Error;
use crate::instance::ManagedInstance;

/// The request an instance is looked up for: the plugin context and the
/// tenant the call came from.
///
/// The tenant is the context's [`tenant_id`](PluginContext::tenant_id)
/// (which the server fills in from the call's gRPC metadata) unless
/// [`with_tenant_id`](Self::with_tenant_id) overrides it; empty is what
/// single-tenant Grafana sends.
///
/// ```
/// use plugin_backend::PluginContext;
/// use plugin_instancemgmt::InstanceRequest;
///
/// let context = PluginContext::new("my-app");
/// assert_eq!(InstanceRequest::from(&context).tenant_id(), "");
/// let request = InstanceRequest::new(&context).with_tenant_id("stack-42");
/// assert_eq!(request.tenant_id(), "stack-42");
/// let context = context.with_tenant_id("stack-7");
/// assert_eq!(InstanceRequest::new(&context).tenant_id(), "stack-7");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct InstanceRequest<'a> {
    plugin_context: &'a PluginContext,
    tenant_id: &'a str,
}

impl<'a> InstanceRequest<'a> {
    /// A request for `plugin_context`, from its tenant.
    pub fn new(plugin_context: &'a PluginContext) -> Self {
        InstanceRequest {
            plugin_context,
            tenant_id: &plugin_context.tenant_id,
        }
    }

    /// This request, from tenant `tenant_id`.
    pub fn with_tenant_id(self, tenant_id: &'a str) -> Self {
        InstanceRequest { tenant_id, ..self }
    }

    /// The plugin context of the call.
    pub fn plugin_context(&self) -> &'a PluginContext {
        self.plugin_context
    }

    /// The tenant of the call; empty when there is none.
    pub fn tenant_id(&self) -> &'a str {
        self.tenant_id
    }
}

impl<'a> From<&'a PluginContext> for InstanceRequest<'a> {
    fn from(plugin_context: &'a PluginContext) -> Self {
        InstanceRequest::new(plugin_context)
    }
}

/// Knows how to key, check, create and dispose of one kind of instance.
///
/// [`DataSourceInstanceProvider`](crate::DataSourceInstanceProvider) and
/// [`AppInstanceProvider`](crate::AppInstanceProvider) implement the Go
/// SDK's rules; implement this trait for other keying or staleness rules.
///
/// The managers guarantee that [`new_instance`](Self::new_instance) runs at
/// most once at a time per key, and that [`dispose`](Self::dispose) runs
/// exactly once per created instance, after the last
/// [`ManagedInstance`] handle to it is gone.
pub trait InstanceProvider: Send + Sync + 'static {
    /// The instance type, shared by all requests with the same key.
    type Instance: Send + Sync + 'static;

    /// The cache key type.
    type Key: Hash + Eq + Clone + fmt::Debug + Send + Sync + 'static;

    /// The cache key of the instance that serves `request`.
    fn key(&self, request: InstanceRequest<'_>) -> Result<Self::Key, Error>;

    /// Whether `cached`, created for an earlier request with the same key,
    /// is stale for `request` and must be replaced.
    fn needs_update(
        &self,
        request: InstanceRequest<'_>,
        cached: &ManagedInstance<Self::Instance>,
    ) -> bool;

    /// Creates the instance for `request`.
    fn new_instance(
        &self,
        request: InstanceRequest<'_>,
    ) -> impl Future<Output = Result<Self::Instance, plugin_backend::Error>> + Send;

    /// Releases `instance`, once it has been replaced or evicted and the last
    /// request using it has finished. The default just drops it.
    ///
    /// Runs as a task on the Tokio runtime the instance was created on; if
    /// that runtime is gone, the instance is dropped instead.
    fn dispose(&self, instance: Self::Instance) -> impl Future<Output = ()> + Send {
        drop(instance);
        std::future::ready(())
    }
}
