//! App plugins: [`manage`] serves one instance per app and organization.

use std::future::Future;
use std::sync::Arc;

use plugin_backend::{AppInstanceSettings, Handler, PluginContext};
use plugin_instancemgmt::AppInstanceProvider;

use crate::error::Error;
use crate::manage::ManageOptions;

/// Serves an app plugin: every call goes to the instance of its
/// organization's app, created by `factory` on first use and again whenever
/// the app's settings or Grafana's configuration change (the Go SDK's
/// `app.Manage`).
///
/// Otherwise as [`datasource::manage`](crate::datasource::manage).
///
/// ```no_run
/// use plugin_backend::Plugin;
/// use plugin_serve::ManageOptions;
///
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     let served = plugin_serve::app::manage(
///         "my-org-app",
///         |_settings, _context| async move { Ok(Plugin::new()) },
///         ManageOptions::new(),
///     )
///     .await;
///     plugin_serve::exit_code(served)
/// }
/// ```
pub async fn manage<F, Fut, I>(
    plugin_id: &str,
    factory: F,
    options: ManageOptions,
) -> Result<(), Error>
where
    F: Fn(Arc<AppInstanceSettings>, PluginContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<I, plugin_backend::Error>> + Send + 'static,
    I: Handler + 'static,
{
    crate::manage::manage(plugin_id, handler(factory, &options), options).await
}

/// The handler [`manage`] serves, built from the same `factory` and
/// `options`: instance management and the SDK's default middleware. Hand it
/// to an in-process test harness (plugin-testkit's) to test the plugin
/// exactly as it runs, without a process.
pub fn handler<F, Fut, I>(factory: F, options: &ManageOptions) -> impl Handler + 'static
where
    F: Fn(Arc<AppInstanceSettings>, PluginContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<I, plugin_backend::Error>> + Send + 'static,
    I: Handler + 'static,
{
    crate::manage::managed_handler(AppInstanceProvider::new(factory), options)
}
