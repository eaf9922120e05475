//! The tenant of the current call, for handlers that cannot receive it as an
//! argument.
//!
//! Grafana sends the tenant in the gRPC metadata (`tenantID`), outside every
//! request message, and the Go SDK passes it in the `context.Context`. The
//! [`Handler`](plugin_backend::Handler) methods have no such parameter, so
//! the server runs each call inside [`scope`] and
//! [`InstanceManagedHandler`](crate::InstanceManagedHandler) reads it back
//! with [`current`]. Code that calls a manager directly should pass the
//! tenant in the [`InstanceRequest`](crate::InstanceRequest) instead.

use std::future::Future;
use std::sync::Arc;

tokio::task_local! {
    static TENANT_ID: Arc<str>;
}

/// Runs `future` with `tenant_id` as the current tenant.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use plugin_instancemgmt::tenant;
///
/// assert_eq!(tenant::current(), None);
/// let seen = tenant::scope("stack-7", async { tenant::current() }).await;
/// assert_eq!(seen.as_deref(), Some("stack-7"));
/// # });
/// ```
pub async fn scope<F: Future>(tenant_id: impl Into<Arc<str>>, future: F) -> F::Output {
    TENANT_ID.scope(tenant_id.into(), future).await
}

/// The tenant of the [`scope`] the caller runs in, if any.
pub fn current() -> Option<Arc<str>> {
    TENANT_ID.try_with(Arc::clone).ok()
}
