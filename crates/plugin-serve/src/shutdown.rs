//! Stopping gracefully: one [`Shutdown`] trigger pulled by the host's
//! `GRPCController/Shutdown` call, by SIGTERM, or by the plugin itself.
//!
//! Once pulled, the server stops accepting connections and requests, lets
//! the requests in flight finish within
//! [`ServeOptions::with_shutdown_timeout`](crate::ServeOptions::with_shutdown_timeout),
//! runs the plugin's cleanup hook and returns. Grafana kills a plugin that
//! is still running 2 s after asking it to stop, so the default timeout
//! leaves room for the hook within that grace.
//!
//! SIGINT is ignored while serving Grafana, as go-plugin does: a Ctrl-C in
//! the terminal running Grafana reaches the whole process group, and the
//! plugin must outlive it long enough for Grafana to shut it down in order.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use tokio::sync::watch;

use crate::error::Error;

/// A trigger that stops a running server gracefully.
///
/// Clones share the trigger. [`ServeOptions::with_shutdown`] lets a plugin
/// keep a clone to stop itself.
///
/// ```
/// use plugin_serve::Shutdown;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let shutdown = Shutdown::new();
/// let waiter = shutdown.clone();
/// shutdown.trigger();
/// waiter.triggered().await; // returns at once
/// assert!(waiter.is_triggered());
/// # });
/// ```
///
/// [`ServeOptions::with_shutdown`]: crate::ServeOptions::with_shutdown
#[derive(Clone)]
pub struct Shutdown {
    state: Arc<watch::Sender<bool>>,
}

impl Shutdown {
    /// A trigger that has not been pulled.
    pub fn new() -> Self {
        Shutdown {
            state: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Pulls the trigger; pulling it again does nothing.
    pub fn trigger(&self) {
        self.state.send_replace(true);
    }

    /// Whether the trigger has been pulled.
    pub fn is_triggered(&self) -> bool {
        *self.state.borrow()
    }

    /// Waits until the trigger is pulled.
    pub async fn triggered(&self) {
        let mut receiver = self.state.subscribe();
        // The sender lives as long as `self`, so waiting cannot fail.
        let _ = receiver.wait_for(|triggered| *triggered).await;
    }
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown::new()
    }
}

impl fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shutdown")
            .field("triggered", &self.is_triggered())
            .finish()
    }
}

/// The plugin's own cleanup, run once the server has stopped.
pub(crate) type CleanupHook = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// Which signals stop the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SignalPolicy {
    /// Serving Grafana: SIGTERM stops, SIGINT is ignored.
    Plugin,
    /// Serving a developer's debugger (standalone) or pointing Grafana at
    /// one (locator): SIGTERM and SIGINT both stop.
    Interactive,
}

/// Installs the handlers of the stopping signals and returns the watch that
/// pulls `shutdown` when one arrives.
///
/// Handlers are installed before this returns, so a signal that arrives
/// right after is not lost (nor kills the process). The watch is a future
/// that never completes: run it beside the server with [`while_watching`]
/// rather than spawning it, so that a plugin nobody queries runs no task
/// (docs/footprint.md).
pub(crate) fn watch_signals(
    shutdown: Shutdown,
    policy: SignalPolicy,
) -> Result<impl Future<Output = Infallible> + Send, Error> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};

        let install = |kind, name: &str| {
            signal(kind).map_err(|err| Error::io(format!("installing the {name} handler"), err))
        };
        let mut terminate = install(SignalKind::terminate(), "SIGTERM")?;
        let mut interrupt = install(SignalKind::interrupt(), "SIGINT")?;
        Ok(async move {
            loop {
                tokio::select! {
                    Some(()) = terminate.recv() => {
                        tracing::debug!("received SIGTERM, shutting down");
                        shutdown.trigger();
                    }
                    Some(()) = interrupt.recv() => {
                        if policy == SignalPolicy::Interactive {
                            tracing::debug!("received SIGINT, shutting down");
                            shutdown.trigger();
                        } else {
                            tracing::trace!("received SIGINT, ignoring it: Grafana stops its plugins itself");
                        }
                    }
                    // Both streams end only when the runtime shuts down.
                    else => return std::future::pending().await,
                }
            }
        })
    }
    #[cfg(not(unix))]
    {
        // Windows has no SIGTERM; Grafana stops plugins there through the
        // Shutdown call or by killing them.
        Ok(async move {
            if policy == SignalPolicy::Interactive && tokio::signal::ctrl_c().await.is_ok() {
                shutdown.trigger();
            }
            std::future::pending().await
        })
    }
}

/// Runs `work` to completion while `watch` (from [`watch_signals`]) listens.
pub(crate) async fn while_watching<T>(
    work: impl Future<Output = T>,
    watch: impl Future<Output = Infallible>,
) -> T {
    tokio::select! {
        output = work => output,
        never = watch => match never {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn waiters_wake_when_the_trigger_is_pulled() {
        let shutdown = Shutdown::new();
        let waiter = tokio::spawn({
            let shutdown = shutdown.clone();
            async move { shutdown.triggered().await }
        });
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(!waiter.is_finished());
        shutdown.trigger();
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
        shutdown.trigger();
        assert!(shutdown.is_triggered());
    }
}
