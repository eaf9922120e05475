//! Process mode: start a plugin executable exactly as Grafana does and
//! talk to it over the connection it announces.
//!
//! What [`PluginLauncher::launch`] does, step by step, mirrors Grafana's
//! plugin host (hashicorp/go-plugin's `Client.Start` as configured by
//! Grafana):
//!
//! 1. start the executable with Grafana's environment: the inherited
//!    environment (unless [`skip_host_env`](PluginLauncher::skip_host_env)),
//!    the magic cookie `grafana_plugin_type=datasource`, `PLUGIN_MIN_PORT`,
//!    `PLUGIN_MAX_PORT`, `PLUGIN_PROTOCOL_VERSIONS=2`,
//!    `PLUGIN_UNIX_SOCKET_DIR` (a fresh temporary directory), `GF_VERSION`
//!    and any `GF_PLUGIN_*` settings; stdin is empty;
//! 2. drain stderr into a [`PluginLog`] for the whole life of the process;
//! 3. read the first stdout line within the start timeout (one minute, as
//!    in Grafana) and parse it as a [`Handshake`]; later stdout lines are
//!    drained and kept too;
//! 4. connect a gRPC channel to the announced unix socket or TCP address and
//!    check that the standard health service reports `plugin` as serving
//!    (a check Grafana leaves out; [`PluginLauncher::without_ping`] skips it).
//!
//! [`RunningPlugin::shutdown`] stops it as Grafana does: go-plugin's
//! `GRPCController.Shutdown`, then a kill if the process has not exited
//! within two seconds. To watch a plugin stop by other means (a signal, a
//! `Shutdown` call made through the client while requests are in flight),
//! send it with [`RunningPlugin::signal`] or the client and wait with
//! [`RunningPlugin::wait`].
//!
//! [`PluginLauncher::spawn`] starts the executable the same way without
//! waiting for a handshake, for the modes that print none (`-standalone`,
//! `-buildinfo`) and for plugins that are expected to refuse to start.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::client::PluginClient;
use crate::error::Error;
use crate::handshake::{APP_PROTOCOL_VERSION, Handshake};
use crate::log::{ERROR_TAIL_LINES, PluginLog};

/// go-plugin's magic cookie as Grafana sets it, for data sources and apps
/// alike.
pub const MAGIC_COOKIE: (&str, &str) = ("grafana_plugin_type", "datasource");

/// How long Grafana waits for the handshake line.
pub const DEFAULT_START_TIMEOUT: Duration = Duration::from_secs(60);

/// How long Grafana waits for a plugin to exit after `Shutdown` before it
/// kills it.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// The Grafana version announced in `GF_VERSION` unless one is set.
pub const DEFAULT_GRAFANA_VERSION: &str = "12.3.0";

/// The variables Grafana forwards even when it does not pass its own
/// environment on (`SkipHostEnvVars`).
const ALWAYS_FORWARDED: [&str; 5] = [
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "http_proxy",
    "https_proxy",
];

/// Starts a plugin executable the way Grafana does.
///
/// ```no_run
/// # async fn example() -> Result<(), plugin_testkit::Error> {
/// use plugin_testkit::PluginLauncher;
///
/// let plugin = PluginLauncher::new("dist/gpx_my-plugin_linux_amd64")
///     .plugin_setting("profiling_enabled", "false")
///     .launch()
///     .await?;
/// println!("listening at {}", plugin.handshake().address);
/// plugin.shutdown().await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct PluginLauncher {
    executable: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    inherit_env: bool,
    grafana_version: String,
    start_timeout: Duration,
    current_dir: Option<PathBuf>,
    ping: bool,
    removed_env: Vec<OsString>,
}

impl PluginLauncher {
    /// A launcher for `executable` with Grafana's defaults.
    pub fn new(executable: impl Into<PathBuf>) -> Self {
        PluginLauncher {
            executable: executable.into(),
            args: Vec::new(),
            env: Vec::new(),
            inherit_env: true,
            grafana_version: DEFAULT_GRAFANA_VERSION.to_owned(),
            start_timeout: DEFAULT_START_TIMEOUT,
            current_dir: None,
            ping: true,
            removed_env: Vec::new(),
        }
    }

    /// Adds a command-line argument (Grafana passes none).
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable for the plugin.
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// Removes an environment variable from the plugin's environment, even
    /// one the launcher sets itself: without [`MAGIC_COOKIE`], for example,
    /// a plugin must refuse to run, as go-plugin's `Serve` does.
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.removed_env.push(key.into());
        self
    }

    /// Sets a key of the plugin's `[plugin.<id>]` section in grafana.ini,
    /// which Grafana passes as `GF_PLUGIN_<KEY>` (upper-cased).
    pub fn plugin_setting(self, key: &str, value: impl Into<OsString>) -> Self {
        let variable = format!("GF_PLUGIN_{}", key.to_uppercase());
        self.env(variable, value)
    }

    /// Sets the Grafana version announced in `GF_VERSION`.
    pub fn grafana_version(mut self, version: impl Into<String>) -> Self {
        self.grafana_version = version.into();
        self
    }

    /// Enables Grafana feature toggles (`GF_INSTANCE_FEATURE_TOGGLES_ENABLE`).
    pub fn feature_toggles<'a>(self, toggles: impl IntoIterator<Item = &'a str>) -> Self {
        let list = toggles.into_iter().collect::<Vec<_>>().join(",");
        self.env("GF_INSTANCE_FEATURE_TOGGLES_ENABLE", list)
    }

    /// Does not pass this process's environment on, as Grafana with
    /// `SkipHostEnvVars`: only the proxy variables and what the launcher
    /// sets reach the plugin.
    pub fn skip_host_env(mut self) -> Self {
        self.inherit_env = false;
        self
    }

    /// How long to wait for the handshake line (one minute by default).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// The plugin's working directory (Grafana leaves it unset).
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.current_dir = Some(dir.into());
        self
    }

    /// Does not check the gRPC health service after connecting.
    ///
    /// Grafana itself does not ping at connect; this is for plugins built on
    /// SDKs that do not register the `plugin` health service (such as
    /// crates.io `grafana-plugin-sdk` 0.5).
    pub fn without_ping(mut self) -> Self {
        self.ping = false;
        self
    }

    /// The executable this launcher starts.
    pub fn executable(&self) -> &Path {
        &self.executable
    }

    /// Starts the plugin, reads its handshake, connects and (unless
    /// [`without_ping`](Self::without_ping)) checks the health service.
    ///
    /// # Errors
    ///
    /// [`Error::Spawn`], [`Error::StartTimeout`], [`Error::EarlyExit`] and
    /// [`Error::MalformedHandshake`] (these three quote the end of the
    /// plugin's stderr), [`Error::Connect`], and the health check's
    /// [`Error::Rpc`] or [`Error::NotServing`]. The process is killed on
    /// every error.
    pub async fn launch(self) -> Result<RunningPlugin, Error> {
        let socket_dir = tempfile::Builder::new().prefix("plugin").tempdir()?;
        let mut command = self.command(socket_dir.path());
        let started = Instant::now();
        let mut child = command.spawn().map_err(|source| Error::Spawn {
            path: self.executable.clone(),
            source,
        })?;

        let stderr_log = PluginLog::default();
        let stderr_reader = child
            .stderr
            .take()
            .map(|pipe| tokio::spawn(drain_lines(pipe, stderr_log.clone())));
        let mut stdout = BufReader::new(
            child
                .stdout
                .take()
                .ok_or_else(|| std::io::Error::other("no stdout pipe"))?,
        );

        let mut first_line = Vec::new();
        let read = tokio::time::timeout(
            self.start_timeout,
            stdout.read_until(b'\n', &mut first_line),
        )
        .await;
        let startup_time = started.elapsed();
        let failure = match read {
            Err(_) => Some(Error::StartTimeout {
                timeout: self.start_timeout,
                stderr_tail: String::new(),
            }),
            Ok(Err(error)) => Some(Error::Io(error)),
            Ok(Ok(0)) => {
                let status = child.wait().await?;
                Some(Error::EarlyExit {
                    status,
                    stderr_tail: String::new(),
                })
            }
            Ok(Ok(_)) => None,
        };
        if let Some(mut error) = failure {
            let _ = child.kill().await;
            let tail = finish_log(stderr_reader, &stderr_log).await;
            if let Error::StartTimeout { stderr_tail, .. } | Error::EarlyExit { stderr_tail, .. } =
                &mut error
            {
                *stderr_tail = tail;
            }
            return Err(error);
        }

        let line = String::from_utf8_lossy(&first_line).trim_end().to_owned();
        let handshake = match Handshake::parse(&line) {
            Ok(handshake) => handshake,
            Err(reason) => {
                let _ = child.kill().await;
                let stderr_tail = finish_log(stderr_reader, &stderr_log).await;
                return Err(Error::MalformedHandshake {
                    line,
                    reason,
                    stderr_tail,
                });
            }
        };
        // Like go-plugin, keep reading stdout so the plugin never blocks on it.
        let stdout_log = PluginLog::default();
        let stdout_reader = tokio::spawn(drain_lines(stdout, stdout_log.clone()));

        let readers: Vec<JoinHandle<()>> =
            stderr_reader.into_iter().chain([stdout_reader]).collect();

        let connected = async {
            let client = PluginClient::connect(&handshake.address).await?;
            if self.ping {
                client.ping().await?;
            }
            Ok::<_, Error>(client)
        };
        let client = match connected.await {
            Ok(client) => client,
            Err(error) => {
                let _ = child.kill().await;
                return Err(error);
            }
        };
        Ok(RunningPlugin {
            process: PluginProcess {
                child,
                stderr: stderr_log,
                stdout: stdout_log,
                readers,
                _socket_dir: socket_dir,
            },
            handshake,
            handshake_line: line,
            client,
            startup_time,
        })
    }

    /// Starts the plugin with the same environment as
    /// [`launch`](Self::launch), but neither waits for a handshake nor
    /// connects: for the modes that print none (`-standalone`,
    /// `-buildinfo`) and for plugins expected to refuse to start. All of
    /// stdout and stderr is kept.
    ///
    /// ```no_run
    /// # async fn example() -> Result<(), plugin_testkit::Error> {
    /// use plugin_testkit::{MAGIC_COOKIE, PluginLauncher};
    ///
    /// let mut plugin = PluginLauncher::new("dist/gpx_my-plugin_linux_amd64")
    ///     .env_remove(MAGIC_COOKIE.0)
    ///     .spawn()?;
    /// let status = plugin.wait().await?;
    /// assert_eq!(status.code(), Some(1));
    /// assert!(plugin.stderr().contains("This binary is a plugin"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// Must be called on a tokio runtime, which drains the pipes.
    ///
    /// # Errors
    ///
    /// [`Error::Spawn`] when the executable cannot be started, [`Error::Io`]
    /// when no temporary socket directory can be made.
    pub fn spawn(self) -> Result<PluginProcess, Error> {
        let socket_dir = tempfile::Builder::new().prefix("plugin").tempdir()?;
        let mut child = self
            .command(socket_dir.path())
            .spawn()
            .map_err(|source| Error::Spawn {
                path: self.executable.clone(),
                source,
            })?;
        let (stdout, stderr) = (PluginLog::default(), PluginLog::default());
        let readers = [
            child
                .stdout
                .take()
                .map(|pipe| tokio::spawn(drain_lines(pipe, stdout.clone()))),
            child
                .stderr
                .take()
                .map(|pipe| tokio::spawn(drain_lines(pipe, stderr.clone()))),
        ]
        .into_iter()
        .flatten()
        .collect();
        Ok(PluginProcess {
            child,
            stdout,
            stderr,
            readers,
            _socket_dir: socket_dir,
        })
    }

    fn command(&self, socket_dir: &Path) -> Command {
        let mut command = Command::new(&self.executable);
        command.args(&self.args);
        if !self.inherit_env {
            command.env_clear();
            for key in ALWAYS_FORWARDED {
                if let Some(value) = std::env::var_os(key) {
                    command.env(key, value);
                }
            }
        }
        command
            .env(MAGIC_COOKIE.0, MAGIC_COOKIE.1)
            .env("PLUGIN_MIN_PORT", "10000")
            .env("PLUGIN_MAX_PORT", "25000")
            .env("PLUGIN_PROTOCOL_VERSIONS", APP_PROTOCOL_VERSION.to_string())
            .env("PLUGIN_UNIX_SOCKET_DIR", socket_dir)
            .env("GF_VERSION", &self.grafana_version)
            .envs(self.env.iter().map(|(key, value)| (key, value)));
        for key in &self.removed_env {
            command.env_remove(key);
        }
        if let Some(dir) = &self.current_dir {
            command.current_dir(dir);
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }
}

/// Reads `pipe` line by line into `log` until it closes.
async fn drain_lines(pipe: impl AsyncRead + Unpin, log: PluginLog) {
    let mut reader = BufReader::new(pipe);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                log.push(text.trim_end_matches(['\n', '\r']).to_owned());
            }
        }
    }
}

/// Waits briefly for a reader to see the end of its pipe, then returns the
/// log's tail for an error message.
async fn finish_log(reader: Option<JoinHandle<()>>, log: &PluginLog) -> String {
    if let Some(reader) = reader {
        // A grandchild may hold the pipe open; the tail so far is enough then.
        let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
    }
    log.tail(ERROR_TAIL_LINES)
}

/// A plugin process started by [`PluginLauncher`], connected and healthy.
///
/// Dropping it kills the process; [`shutdown`](Self::shutdown) stops it
/// gracefully and reports how it exited.
#[derive(Debug)]
pub struct RunningPlugin {
    process: PluginProcess,
    handshake: Handshake,
    handshake_line: String,
    client: PluginClient,
    startup_time: Duration,
}

impl RunningPlugin {
    /// The client connected to the plugin.
    pub fn client(&self) -> &PluginClient {
        &self.client
    }

    /// The handshake the plugin printed.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// The handshake line exactly as printed, without its line ending.
    pub fn handshake_line(&self) -> &str {
        &self.handshake_line
    }

    /// Everything the plugin wrote to stderr so far (its logs).
    pub fn stderr(&self) -> &PluginLog {
        self.process.stderr()
    }

    /// Everything the plugin wrote to stdout after the handshake line
    /// (Grafana discards it; a well-behaved plugin writes nothing).
    pub fn stdout(&self) -> &PluginLog {
        self.process.stdout()
    }

    /// The process id, while the process runs.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// The time from starting the process to reading its handshake line.
    pub fn startup_time(&self) -> Duration {
        self.startup_time
    }

    /// The process's memory use now (Linux only: read from
    /// `/proc/<pid>/status`).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the process is gone or `/proc` is unavailable.
    pub fn memory_usage(&self) -> Result<MemoryUsage, Error> {
        let pid = self
            .pid()
            .ok_or_else(|| std::io::Error::other("the plugin process has exited"))?;
        MemoryUsage::of_process(pid)
    }

    /// How the process exited, if it has.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the process status cannot be read.
    pub fn try_exit_status(&mut self) -> Result<Option<ExitStatus>, Error> {
        Ok(self.process.child.try_wait()?)
    }

    /// Sends `signal` to the process (see [`PluginProcess::signal`]).
    ///
    /// # Errors
    ///
    /// As [`PluginProcess::signal`].
    #[cfg(unix)]
    pub async fn signal(&self, signal: Signal) -> Result<(), Error> {
        self.process.signal(signal).await
    }

    /// Waits for the process to exit by itself, after a `Shutdown` call
    /// made through [`client`](Self::client), a [`signal`](Self::signal) or
    /// a crash (see [`PluginProcess::wait`]). The plugin's socket directory
    /// stays until this value is dropped, so a test can check that the
    /// plugin removed its socket.
    ///
    /// # Errors
    ///
    /// As [`PluginProcess::wait`].
    pub async fn wait(&mut self) -> Result<ExitStatus, Error> {
        self.process.wait().await
    }

    /// Stops the plugin as Grafana does: `GRPCController.Shutdown`, then a
    /// kill when the process has not exited within [`SHUTDOWN_GRACE`] (or the
    /// call failed). Returns how the process exited; its last log lines are
    /// in [`stderr`](Self::stderr) afterwards.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when waiting for the process fails.
    pub async fn shutdown(mut self) -> Result<ExitStatus, Error> {
        let status = match self.client.shutdown().await {
            Ok(()) => tokio::time::timeout(SHUTDOWN_GRACE, self.process.child.wait())
                .await
                .ok()
                .transpose()?,
            Err(_) => None,
        };
        let status = match status {
            Some(status) => status,
            None => {
                self.process.child.start_kill()?;
                self.process.child.wait().await?
            }
        };
        self.process.finish_readers().await;
        Ok(status)
    }

    /// Kills the process at once and waits for it.
    pub async fn kill(self) {
        self.process.kill().await;
    }
}

/// A plugin process started by [`PluginLauncher::spawn`], without a
/// handshake: its output, signals and exit.
///
/// Dropping it kills the process.
#[derive(Debug)]
pub struct PluginProcess {
    child: Child,
    stdout: PluginLog,
    stderr: PluginLog,
    readers: Vec<JoinHandle<()>>,
    _socket_dir: tempfile::TempDir,
}

impl PluginProcess {
    /// The process id, while the process runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Everything the process wrote to stdout so far.
    pub fn stdout(&self) -> &PluginLog {
        &self.stdout
    }

    /// Everything the process wrote to stderr so far (its logs).
    pub fn stderr(&self) -> &PluginLog {
        &self.stderr
    }

    /// Sends `signal` to the process. It returns once the signal is sent;
    /// wait for what the plugin does about it in its log or with
    /// [`wait`](Self::wait).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the process has exited or `kill` fails.
    #[cfg(unix)]
    pub async fn signal(&self, signal: Signal) -> Result<(), Error> {
        let pid = self
            .pid()
            .ok_or_else(|| std::io::Error::other("the plugin process has exited"))?;
        // kill(1) rather than kill(2): the workspace has no unsafe code.
        let status = Command::new("kill")
            .arg(format!("-{}", signal.name()))
            .arg(pid.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status()
            .await?;
        if status.success() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!("kill -{} {pid}: {status}", signal.name())).into())
        }
    }

    /// Waits for the process to exit, then for its stdout and stderr to
    /// close, so that [`stdout`](Self::stdout) and [`stderr`](Self::stderr)
    /// hold everything it wrote. There is no timeout: wrap the call in
    /// `tokio::time::timeout` to bound a test.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when waiting for the process fails.
    pub async fn wait(&mut self) -> Result<ExitStatus, Error> {
        let status = self.child.wait().await?;
        self.finish_readers().await;
        Ok(status)
    }

    /// Kills the process at once and waits for it.
    pub async fn kill(mut self) {
        let _ = self.child.kill().await;
        self.finish_readers().await;
    }

    async fn finish_readers(&mut self) {
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
    }
}

/// A signal a test sends to a plugin process (Unix only).
#[cfg(unix)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signal {
    /// `SIGINT`, which a Ctrl-C in Grafana's terminal sends to its plugins
    /// too; go-plugin's `Serve` ignores it, because Grafana stops its
    /// plugins itself.
    Interrupt,
    /// `SIGTERM`, with which a service manager stops a process.
    Terminate,
}

#[cfg(unix)]
impl Signal {
    /// The name `kill -<name>` takes.
    fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "INT",
            Signal::Terminate => "TERM",
        }
    }
}

/// A process's resident memory, from `/proc/<pid>/status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryUsage {
    /// `VmRSS`: resident set size now, in bytes.
    pub resident_bytes: u64,
    /// `VmHWM`: the peak resident set size so far, in bytes.
    pub peak_resident_bytes: u64,
}

impl MemoryUsage {
    /// Reads the memory use of process `pid` (Linux only).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the status file cannot be read or lacks the fields.
    pub fn of_process(pid: u32) -> Result<MemoryUsage, Error> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        MemoryUsage::parse(&status).ok_or_else(|| {
            Error::Io(std::io::Error::other(format!(
                "no VmRSS/VmHWM in /proc/{pid}/status"
            )))
        })
    }

    fn parse(status: &str) -> Option<MemoryUsage> {
        let kilobytes = |key: &str| -> Option<u64> {
            let line = status.lines().find(|line| line.starts_with(key))?;
            line[key.len()..]
                .trim()
                .trim_end_matches("kB")
                .trim()
                .parse()
                .ok()
        };
        Some(MemoryUsage {
            resident_bytes: kilobytes("VmRSS:")? * 1024,
            peak_resident_bytes: kilobytes("VmHWM:")? * 1024,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_usage_reads_proc_status() {
        let status = "Name:\tgpx\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t3\n";
        let usage = MemoryUsage::parse(status).unwrap();
        assert_eq!(usage.resident_bytes, 10 * 1024 * 1024);
        assert_eq!(usage.peak_resident_bytes, 20 * 1024 * 1024);
        assert!(MemoryUsage::parse("Name:\tgpx\n").is_none());
    }

    #[test]
    fn plugin_settings_become_gf_plugin_variables() {
        let launcher = PluginLauncher::new("/bin/true").plugin_setting("profiling_enabled", "true");
        assert_eq!(
            launcher.env,
            vec![(
                OsString::from("GF_PLUGIN_PROFILING_ENABLED"),
                OsString::from("true")
            )]
        );
    }
}
