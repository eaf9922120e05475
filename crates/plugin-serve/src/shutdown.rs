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
/// and keeps its idle footprint to what serving needs.
pub(crate) fn watch_signals(
    shutdown: Shutdown,
    policy: SignalPolicy,
) -> Result<impl Future<Output = Infallible> + Send, Error> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};

        let register = |signal, name: &str| {
            SignalPipe::register(signal)
                .map_err(|err| Error::io(format!("installing the {name} handler"), err))
        };
        let mut terminate = register(SIGTERM, "SIGTERM")?;
        let mut interrupt = register(SIGINT, "SIGINT")?;
        Ok(async move {
            // A pipe that fails (it cannot, short of the process running
            // out of resources) stops being watched; the other one goes on.
            let (mut terminate_open, mut interrupt_open) = (true, true);
            loop {
                tokio::select! {
                    received = terminate.recv(), if terminate_open => match received {
                        Ok(()) => {
                            tracing::debug!("received SIGTERM, shutting down");
                            shutdown.trigger();
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "cannot wait for SIGTERM any more");
                            terminate_open = false;
                        }
                    },
                    received = interrupt.recv(), if interrupt_open => match received {
                        Ok(()) if policy == SignalPolicy::Interactive => {
                            tracing::debug!("received SIGINT, shutting down");
                            shutdown.trigger();
                        }
                        Ok(()) => {
                            tracing::trace!("received SIGINT, ignoring it: Grafana stops its plugins itself");
                        }
                        Err(err) => {
                            tracing::warn!(error = %err, "cannot wait for SIGINT any more");
                            interrupt_open = false;
                        }
                    },
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

/// One signal's self-pipe: signal-hook's handler writes a byte to one end
/// of a socket pair (all a signal handler may safely do), and the runtime
/// waits on the other.
///
/// This is tokio's own technique for one signal at a time; tokio's `signal`
/// feature would also set up its registry for every signal in every
/// runtime, at start-up, whether a plugin waits for signals or not.
#[cfg(unix)]
struct SignalPipe {
    read: tokio::net::UnixStream,
}

#[cfg(unix)]
impl SignalPipe {
    /// Installs the handler of `signal`, from now on for the life of the
    /// process: the signal no longer has its default action.
    fn register(signal: std::os::raw::c_int) -> std::io::Result<SignalPipe> {
        let (read, write) = std::os::unix::net::UnixStream::pair()?;
        read.set_nonblocking(true)?;
        let read = tokio::net::UnixStream::from_std(read)?;
        signal_hook::low_level::pipe::register(signal, write)?;
        Ok(SignalPipe { read })
    }

    /// Waits for the next delivery. Deliveries that arrived meanwhile are
    /// drained together: they ask for the same thing.
    async fn recv(&mut self) -> std::io::Result<()> {
        let mut bytes = [0; 16];
        loop {
            self.read.readable().await?;
            match self.read.try_read(&mut bytes) {
                Ok(0) => {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the signal pipe was closed",
                    ));
                }
                Ok(_) => return Ok(()),
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(err) => return Err(err),
            }
        }
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

    #[cfg(unix)]
    #[tokio::test]
    async fn a_signal_pipe_wakes_once_per_burst_of_deliveries() {
        use signal_hook::consts::SIGUSR2;
        use signal_hook::low_level::raise;

        let mut pipe = SignalPipe::register(SIGUSR2).unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), pipe.recv()).await;
        assert!(waiting.is_err(), "woke without a signal");

        // Two deliveries before anyone waits ask for the same thing once.
        raise(SIGUSR2).unwrap();
        raise(SIGUSR2).unwrap();
        tokio::time::timeout(Duration::from_secs(5), pipe.recv())
            .await
            .expect("the signal wakes the pipe")
            .unwrap();
        let again = tokio::time::timeout(Duration::from_millis(50), pipe.recv()).await;
        assert!(again.is_err(), "a burst woke the pipe twice");

        raise(SIGUSR2).unwrap();
        tokio::time::timeout(Duration::from_secs(5), pipe.recv())
            .await
            .expect("a later signal wakes the pipe again")
            .unwrap();
    }

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
