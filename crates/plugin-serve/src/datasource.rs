//! Data source plugins: [`manage`] serves one instance per data source.

use std::future::Future;
use std::sync::Arc;

use plugin_backend::{DataSourceInstanceSettings, Handler, PluginContext};
use plugin_instancemgmt::DataSourceInstanceProvider;

use crate::error::Error;
use crate::manage::ManageOptions;

/// Serves a data source plugin: every call goes to the instance of its data
/// source, created by `factory` on first use and again whenever the data
/// source's settings or Grafana's configuration change (the Go SDK's
/// `datasource.Manage`).
///
/// The instance is any [`Handler`], usually a [`Plugin`](plugin_backend::Plugin)
/// with the capabilities the data source has. Calls are wrapped in the
/// SDK's default middleware. Everything else is as [`serve`](crate::serve)
/// describes, including [`Error::NotStartedByGrafana`] when run by hand,
/// which [`exit_code`](crate::exit_code) turns into go-plugin's message and
/// status 1.
///
/// ```no_run
/// use plugin_backend::{
///     CheckHealthHandler, CheckHealthRequest, CheckHealthResult, Error, Plugin,
/// };
/// use plugin_serve::{ManageOptions, build_info};
///
/// struct Database {
///     url: String,
/// }
///
/// impl CheckHealthHandler for Database {
///     async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
///         Ok(CheckHealthResult::ok(format!("{} answers", self.url)))
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> std::process::ExitCode {
///     let served = plugin_serve::datasource::manage(
///         "my-org-database-datasource",
///         |settings, _context| async move {
///             Ok(Plugin::new().with_check_health(Database { url: settings.url.clone() }))
///         },
///         ManageOptions::new().with_build_info(build_info!()),
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
    F: Fn(Arc<DataSourceInstanceSettings>, PluginContext) -> Fut + Send + Sync + 'static,
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
    F: Fn(Arc<DataSourceInstanceSettings>, PluginContext) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<I, plugin_backend::Error>> + Send + 'static,
    I: Handler + 'static,
{
    crate::manage::managed_handler(DataSourceInstanceProvider::new(factory), options)
}
