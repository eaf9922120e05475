//! In-process mode: serve a [`Handler`] inside the test process and talk to
//! it with the same [`PluginClient`] as a launched plugin, the Go SDK's
//! `backend.TestStandaloneServe` / `datasourcetest.Manage`.
//!
//! The handler is served by plugin-serve's own server
//! ([`plugin_serve::serve_on`]): the services, message limits, metrics layer
//! and draining a plugin binary has, and a real gRPC connection over a unix
//! socket in a fresh temporary directory (TCP on 127.0.0.1 where there are
//! no unix sockets). Every request and answer therefore goes through the
//! wire conversions Grafana's calls go through, without building a binary.
//!
//! What belongs to the process is not involved: no handshake, environment,
//! signals or logger. Install a `tracing` subscriber in the test to see the
//! plugin's logs.

use plugin_backend::Handler;
use plugin_serve::{Listener, ServeOptions, Shutdown};
use tokio::task::JoinHandle;

use crate::client::PluginClient;
use crate::error::Error;
use crate::handshake::PluginAddress;

/// A handler served inside this process, with a client connected to it.
///
/// Stop it with [`shutdown`](Self::shutdown) to see how serving ended;
/// dropping it also stops the server, without waiting.
///
/// ```
/// use plugin_backend::{
///     CheckHealthHandler, CheckHealthRequest, CheckHealthResult, Error, HealthStatus, Plugin,
///     PluginContext,
/// };
/// use plugin_testkit::InProcessPlugin;
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
/// # async fn main() -> Result<(), plugin_testkit::Error> {
/// let plugin = InProcessPlugin::start(Plugin::new().with_check_health(Health)).await?;
///
/// let request = CheckHealthRequest::new(PluginContext::new("acme-my-datasource"));
/// let health = plugin.client().check_health(request).await?;
/// assert_eq!(health.status, HealthStatus::Ok);
/// assert_eq!(health.message, "fine");
///
/// plugin.shutdown().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct InProcessPlugin {
    client: PluginClient,
    address: PluginAddress,
    shutdown: Shutdown,
    /// The serving task; taken by [`shutdown`](Self::shutdown).
    server: Option<JoinHandle<()>>,
    /// Holds the unix socket; removed (with the socket) on drop.
    _socket_dir: Option<tempfile::TempDir>,
}

impl InProcessPlugin {
    /// Serves `handler` with plugin-serve's default options, connects a
    /// client and checks the health service.
    ///
    /// `handler` is any [`Handler`]: a [`Plugin`](plugin_backend::Plugin),
    /// a handler wrapped in `HandlerBuilder` middleware, or an
    /// instance-managed handler.
    ///
    /// # Errors
    ///
    /// As [`start_with_options`](Self::start_with_options).
    pub async fn start<H: Handler + 'static>(handler: H) -> Result<Self, Error> {
        Self::start_with_options(handler, ServeOptions::new()).await
    }

    /// Serves `handler` with `options` (message limits, shutdown timeout,
    /// cleanup hook; the logger setting does not apply), connects a client
    /// and checks the health service.
    ///
    /// The server stops when `options`' shutdown trigger is pulled, by
    /// [`shutdown`](Self::shutdown), by the client's
    /// [`PluginClient::shutdown`] (go-plugin's `Shutdown` call), or when this
    /// value is dropped. It runs on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when no socket can be bound, [`Error::Serve`] when it
    /// cannot be served, [`Error::Connect`] when the client cannot connect,
    /// and the health check's [`Error::Rpc`] or [`Error::NotServing`]. The
    /// server is stopped on every error.
    pub async fn start_with_options<H: Handler + 'static>(
        handler: H,
        options: ServeOptions,
    ) -> Result<Self, Error> {
        let (listener, address, socket_dir) = bind().await?;
        let shutdown = options.shutdown().clone();
        let server = tokio::spawn(plugin_serve::serve_on(handler, listener, options));
        let connected = async {
            let client = PluginClient::connect(&address).await?;
            client.ping().await?;
            Ok::<_, Error>(client)
        };
        match connected.await {
            Ok(client) => Ok(InProcessPlugin {
                client,
                address,
                shutdown,
                server: Some(server),
                _socket_dir: socket_dir,
            }),
            Err(error) => {
                shutdown.trigger();
                // The server drains nothing: no call got through.
                let _ = server.await;
                Err(error)
            }
        }
    }

    /// The client connected to the plugin.
    pub fn client(&self) -> &PluginClient {
        &self.client
    }

    /// Where the plugin listens.
    pub fn address(&self) -> &PluginAddress {
        &self.address
    }

    /// Stops the server gracefully and waits for it: it stops accepting
    /// calls, lets the calls in flight finish (within the options' shutdown
    /// timeout, 1.5 s by default), runs the cleanup hook, and returns.
    ///
    /// Also fine after the plugin was stopped through
    /// [`PluginClient::shutdown`].
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the server task was cancelled by its runtime
    /// shutting down. A panic in the server task is resumed here, so that it
    /// fails the test.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        self.shutdown.trigger();
        let Some(server) = self.server.take() else {
            return Ok(());
        };
        match server.await {
            Ok(()) => Ok(()),
            Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
            // Only a runtime shutting down cancels the task: nothing aborts it.
            Err(error) => Err(Error::Io(std::io::Error::other(error))),
        }
    }
}

impl Drop for InProcessPlugin {
    fn drop(&mut self) {
        // The task is detached; pulling the trigger lets it drain and end
        // instead of serving until the runtime stops.
        self.shutdown.trigger();
    }
}

/// A fresh socket: a unix socket in a new temporary directory, or TCP on
/// 127.0.0.1 on an ephemeral port where there are no unix sockets.
async fn bind() -> Result<(Listener, PluginAddress, Option<tempfile::TempDir>), Error> {
    #[cfg(unix)]
    {
        let dir = tempfile::Builder::new().prefix("plugin").tempdir()?;
        let path = dir.path().join("plugin.sock");
        let listener = tokio::net::UnixListener::bind(&path)?;
        Ok((listener.into(), PluginAddress::Unix(path), Some(dir)))
    }
    #[cfg(not(unix))]
    {
        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        Ok((
            Listener::try_from(listener)?,
            PluginAddress::Tcp(address),
            None,
        ))
    }
}
