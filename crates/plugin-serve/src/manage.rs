//! The entry points: [`serve`] for a plugin that manages its own state,
//! [`ManageOptions`] for [`datasource::manage`](crate::datasource::manage)
//! and [`app::manage`](crate::app::manage), which add instance management,
//! and [`serve_on`] for serving inside another program (tests) on a socket
//! it bound.
//!
//! What one call does is documented on [`serve`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use plugin_backend::{Handler, Plugin};
use plugin_instancemgmt::{InstanceManagedHandler, InstanceManager, InstanceProvider};

use crate::buildinfo::{BuildInfo, Flags};
use crate::error::Error;
use crate::handshake::{HandshakeLine, HostEnvironment, Network};
use crate::listener::{Listener, PluginListener};
use crate::server::{self, ServeOptions, ServerKind};
use crate::shutdown::{SignalPolicy, watch_signals, while_watching};
use crate::standalone;

/// Serves `handler` as the plugin `plugin_id`, the way the Go SDK's
/// `backend.Manage` does; returns once the plugin has shut down.
///
/// In this order:
///
/// 1. `-buildinfo` / `-version`: print the build information (JSON) or the
///    version to stdout and return.
/// 2. Install logging: hclog JSON on stderr (and, with feature `otel`, the
///    tracing layer), before anything logs.
/// 3. Pick the mode: `-standalone` serves the developer's debugger;
///    a `standalone.txt` next to the executable (or
///    `GF_PLUGIN_GRPC_ADDRESS_<ID>`) naming a live server makes this a
///    locator; otherwise this is the plugin Grafana started.
/// 4. Started by Grafana: check the magic cookie (without it, explain and
///    exit 1), start the profiler if asked (feature `pprof`), bind the
///    socket, print the handshake, serve until `Shutdown` or SIGTERM,
///    drain.
/// 5. Run the cleanup hook, flush traces, return.
///
/// The handler is used as it is: wrap it in plugin-backend's middleware
/// first if it should log, recover from panics and so on. For one instance
/// per data source or app, use [`datasource::manage`] or [`app::manage`].
///
/// # Exits
///
/// Nothing here exits the process: `main` does, with the status
/// [`exit_code`](crate::exit_code) gives. `Ok(())` (stopped, or answered
/// `-buildinfo` / `-version`) is status 0. Run by hand without
/// `-standalone` (no go-plugin magic cookie in the environment), this
/// returns [`Error::NotStartedByGrafana`] at once, logging nothing; its
/// message is go-plugin's explanation, which `exit_code` prints on stderr
/// before status 1, as go-plugin does.
///
/// ```no_run
/// use std::process::ExitCode;
///
/// use plugin_backend::{CheckHealthHandler, CheckHealthRequest, CheckHealthResult, Error, Plugin};
/// use plugin_serve::{ServeOptions, build_info};
///
/// struct Health;
///
/// impl CheckHealthHandler for Health {
///     async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
///         Ok(CheckHealthResult::ok("fine"))
///     }
/// }
///
/// #[tokio::main]
/// async fn main() -> ExitCode {
///     let plugin = Plugin::new().with_check_health(Health);
///     let options = ServeOptions::new().with_build_info(build_info!());
///     plugin_serve::exit_code(plugin_serve::serve("my-app", plugin, options).await)
/// }
/// ```
///
/// [`Error::NotStartedByGrafana`]: crate::Error::NotStartedByGrafana
///
/// [`datasource::manage`]: crate::datasource::manage
/// [`app::manage`]: crate::app::manage
pub async fn serve<H: Handler + 'static>(
    plugin_id: &str,
    handler: H,
    options: ServeOptions,
) -> Result<(), Error> {
    // Boxed: the serving future is a few KiB, and copies of it would stay
    // resident on the main thread's stack (docs/footprint.md).
    Box::pin(serve_process(plugin_id, handler, options)).await
}

/// [`serve`], unboxed.
async fn serve_process<H: Handler + 'static>(
    plugin_id: &str,
    handler: H,
    mut options: ServeOptions,
) -> Result<(), Error> {
    let flags = Flags::from_process();
    let build_info = options
        .build_info
        .clone()
        .unwrap_or_else(|| BuildInfo::for_plugin(plugin_id));
    if flags.build_info || flags.version {
        let text = if flags.version {
            build_info.version.clone()
        } else {
            build_info.to_json()
        };
        return print_line(&text);
    }

    let telemetry =
        crate::telemetry::Telemetry::install(plugin_id, &build_info, options.install_logger);
    let result = run_mode(plugin_id, Arc::new(handler), flags, &options).await;
    match &result {
        // Not a failure of the plugin: `main` prints go-plugin's
        // explanation, and nothing else may precede it.
        Ok(()) | Err(Error::NotStartedByGrafana) => {}
        Err(err) => tracing::error!(error = %err, "the plugin stopped with an error"),
    }
    options.run_cleanup().await;
    telemetry.shutdown().await;
    result
}

/// Serves `handler` on `listener`, bound by the caller, until
/// `options`' [shutdown trigger](ServeOptions::shutdown) is pulled, then
/// drains and runs the [cleanup hook](ServeOptions::on_shutdown): the
/// serving part of [`serve`] alone, for running a plugin inside another
/// program, such as its tests.
///
/// The server is the one Grafana talks to, with the same services, limits,
/// metrics and draining: the `pluginv2` services, health (`plugin` =
/// `SERVING`), and go-plugin's controller, stdio and broker, so a client's
/// `GRPCController/Shutdown` stops it as it stops a plugin process. What
/// belongs to the process is left out: no command-line flags, no magic
/// cookie check, no handshake on stdout, no signal handling, no logger
/// (install a `tracing` subscriber to see the plugin's logs), no profiler.
///
/// ```
/// use plugin_backend::{CheckHealthHandler, CheckHealthRequest, CheckHealthResult, Error, Plugin};
/// use plugin_serve::{Listener, ServeOptions};
///
/// struct Health;
///
/// impl CheckHealthHandler for Health {
///     async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
///         Ok(CheckHealthResult::ok("fine"))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), plugin_serve::Error> {
/// let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
/// let listener = Listener::try_from(socket)?;
/// println!("serving on {}", listener.address());
///
/// let options = ServeOptions::new();
/// let shutdown = options.shutdown().clone();
/// let server = tokio::spawn(plugin_serve::serve_on(
///     Plugin::new().with_check_health(Health),
///     listener,
///     options,
/// ));
/// // … connect and call it …
/// shutdown.trigger();
/// server.await.unwrap();
/// # Ok(())
/// # }
/// ```
///
/// Serving itself cannot fail: an error accepting or on one connection is
/// logged and the server goes on.
pub async fn serve_on<H: Handler + 'static>(
    handler: H,
    listener: Listener,
    mut options: ServeOptions,
) {
    server::run(
        Arc::new(handler),
        listener.0,
        ServerKind::GoPlugin,
        options.server_config(),
    )
    .await;
    options.run_cleanup().await;
}

/// Serves in the mode the command line and the environment select.
async fn run_mode<H: Handler + 'static>(
    plugin_id: &str,
    handler: Arc<H>,
    flags: Flags,
    options: &ServeOptions,
) -> Result<(), Error> {
    if flags.standalone {
        return serve_standalone(plugin_id, handler, options).await;
    }
    let executable_dir = std::env::current_exe()
        .ok()
        .and_then(|path| path.parent().map(ToOwned::to_owned));
    if let Some(target) = executable_dir.and_then(|dir| standalone::find_target(plugin_id, &dir)) {
        return run_locator(&target.address, options).await;
    }

    let env = HostEnvironment::from_process();
    env.check_magic_cookie()?;
    #[cfg(feature = "pprof")]
    crate::pprof::start_from_env(plugin_id);

    let (protocol_version, warning) = env.negotiate_protocol_version();
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
    let listener = PluginListener::bind(&env).await?;
    let signals = watch_signals(options.shutdown.clone(), SignalPolicy::Plugin)?;
    let line = HandshakeLine::new(listener.network(), listener.address())
        .with_protocol_version(protocol_version);
    line.print()
        .map_err(|err| Error::io("printing the handshake", err))?;
    let server = server::run(
        handler,
        listener,
        ServerKind::GoPlugin,
        options.server_config(),
    );
    while_watching(server, signals).await;
    Ok(())
}

/// `-standalone`: serve plain gRPC for a debugger, announced through the
/// plugin directory's `standalone.txt`.
async fn serve_standalone<H: Handler + 'static>(
    plugin_id: &str,
    handler: Arc<H>,
    options: &ServeOptions,
) -> Result<(), Error> {
    #[cfg(feature = "pprof")]
    crate::pprof::start_from_env(plugin_id);

    let standalone = standalone::Server::prepare(plugin_id).await?;
    tracing::info!(dir = %standalone.dir.display(), address = %standalone.address, "serving standalone");
    let files = standalone.write_files()?;
    standalone::kill_running_plugin(&standalone.dir);
    let signals = watch_signals(options.shutdown.clone(), SignalPolicy::Interactive)?;

    let listener = PluginListener::from_tcp(standalone.listener)?;
    let server = server::run(
        handler,
        listener,
        ServerKind::Standalone,
        options.server_config(),
    );
    while_watching(server, signals).await;
    drop(files);
    // Grafana's copy is a locator pointing at this server; killing it makes
    // Grafana start the real plugin again.
    standalone::kill_running_plugin(&standalone.dir);
    tracing::debug!("standalone server stopped");
    Ok(())
}

/// Locator mode: point Grafana at a standalone server and stay alive.
async fn run_locator(address: &str, options: &ServeOptions) -> Result<(), Error> {
    tracing::debug!(address, "a standalone server runs; pointing Grafana at it");
    let signals = watch_signals(options.shutdown.clone(), SignalPolicy::Interactive)?;
    HandshakeLine::new(Network::Tcp, address)
        .without_certificate_field()
        .print()
        .map_err(|err| Error::io("printing the handshake", err))?;
    let mut heartbeat = tokio::time::interval(standalone::LOCATOR_HEARTBEAT);
    let stopping = options.shutdown.triggered();
    tokio::pin!(stopping, signals);
    loop {
        tokio::select! {
            () = &mut stopping => return Ok(()),
            never = &mut signals => match never {},
            _ = heartbeat.tick() => tracing::debug!(address, "using the standalone server"),
        }
    }
}

/// Prints one line to stdout (the `-buildinfo` / `-version` answer).
fn print_line(text: &str) -> Result<(), Error> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|err| Error::io("printing build information", err))
}

/// Options of [`datasource::manage`](crate::datasource::manage) and
/// [`app::manage`](crate::app::manage): how to serve, and the handlers of
/// the endpoints that belong to the process rather than to an instance.
///
/// ```
/// use plugin_backend::Plugin;
/// use plugin_serve::{ManageOptions, ServeOptions, build_info};
///
/// let options = ManageOptions::new()
///     .with_serve_options(ServeOptions::new().with_build_info(build_info!()))
///     .with_process_handler(Plugin::new()); // admission, conversion, metrics
/// # let _ = options;
/// ```
#[derive(Default)]
pub struct ManageOptions {
    pub(crate) serve: ServeOptions,
    pub(crate) process_handler: Plugin,
}

impl ManageOptions {
    /// Default serving options; metrics from the default Prometheus
    /// registry, admission and conversion unimplemented.
    pub fn new() -> Self {
        ManageOptions::default()
    }

    /// Serves with `options`.
    pub fn with_serve_options(mut self, options: ServeOptions) -> Self {
        self.serve = options;
        self
    }

    /// Sets the build information (see
    /// [`ServeOptions::with_build_info`]).
    pub fn with_build_info(mut self, build_info: BuildInfo) -> Self {
        self.serve = self.serve.with_build_info(build_info);
        self
    }

    /// Answers the process-wide endpoints (`CollectMetrics`,
    /// `ValidateAdmission`, `MutateAdmission`, `ConvertObjects`, including
    /// query conversion) with `handler`, as the Go SDK's `ManageOpts`
    /// handlers do. Its other capabilities are not used.
    pub fn with_process_handler(mut self, handler: Plugin) -> Self {
        self.process_handler = handler;
        self
    }
}

impl fmt::Debug for ManageOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManageOptions")
            .field("serve", &self.serve)
            .field("process_handler", &self.process_handler)
            .finish()
    }
}

/// The handler `datasource::manage` and `app::manage` serve: instances of
/// `provider` under instance management, the process-wide endpoints
/// answered by the options' process handler, all in the SDK's default
/// middleware.
pub(crate) fn managed_handler<P>(provider: P, options: &ManageOptions) -> impl Handler + 'static
where
    P: InstanceProvider,
    P::Instance: Handler,
{
    let handler = InstanceManagedHandler::new(InstanceManager::new(provider))
        .with_process_handler(options.process_handler.clone());
    crate::middleware::with_default_middleware(handler)
}

/// Serves a [`managed_handler`]; boxed for the reason given in [`serve`],
/// once for both `datasource::manage` and `app::manage`.
pub(crate) fn manage<H: Handler + 'static>(
    plugin_id: &str,
    handler: H,
    options: ManageOptions,
) -> Pin<Box<impl Future<Output = Result<(), Error>>>> {
    Box::pin(serve_process(plugin_id, handler, options.serve))
}
