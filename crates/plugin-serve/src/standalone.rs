//! Standalone debugging, as the Go SDK does it: the developer runs the
//! plugin (in a debugger) with `-standalone`, and the copy Grafana starts
//! only points Grafana at it.
//!
//! * **Server mode** (`-standalone`): find the plugin's directory (the
//!   working directory, its parent when that is `pkg`, its `dist` when it
//!   has one, then the first directory below with a `plugin.json` whose
//!   `id` is the plugin id); listen on `GF_PLUGIN_GRPC_ADDRESS_<ID>` (id
//!   upper-cased, `-` → `_`) or a free port on 127.0.0.1; write the address
//!   to `standalone.txt` and the process id to `pid.txt` there (mode
//!   0600); kill the copy Grafana runs so Grafana restarts it as a
//!   locator; serve plain gRPC until SIGINT or SIGTERM; then remove both
//!   files and kill the locator, so Grafana restarts the real plugin.
//! * **Locator mode** (Grafana starts the binary and `standalone.txt`, or
//!   the address variable, names a server): print `1|2|tcp|<address>|grpc`
//!   and stay alive without serving; Grafana connects to the address. A
//!   `pid.txt` naming a process that is gone means the server died: the
//!   binary then serves normally.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::error::Error;

/// The file with the standalone server's address, in the plugin directory.
pub const ADDRESS_FILE: &str = "standalone.txt";

/// The file with the standalone server's process id, in the plugin
/// directory.
pub const PID_FILE: &str = "pid.txt";

/// The variable that fixes a plugin's standalone address:
/// `GF_PLUGIN_GRPC_ADDRESS_<ID>`, the id upper-cased with `-` as `_`.
/// (Grafana's plugin ids are ASCII, so ASCII case mapping is the whole of
/// it, without Unicode's tables.)
pub fn address_env_var(plugin_id: &str) -> String {
    format!(
        "GF_PLUGIN_GRPC_ADDRESS_{}",
        plugin_id.to_ascii_uppercase().replace('-', "_")
    )
}

/// Where a standalone server runs, as found by a locator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    /// The address to hand Grafana, as written by the server.
    pub(crate) address: String,
}

/// The running standalone server a locator should point Grafana at, if
/// any. `None` means: serve normally.
pub(crate) fn find_target(plugin_id: &str, executable_dir: &Path) -> Option<Target> {
    let address = match std::env::var(address_env_var(plugin_id)) {
        Ok(address) if !address.trim().is_empty() => address.trim().to_owned(),
        _ => {
            let text = std::fs::read_to_string(executable_dir.join(ADDRESS_FILE)).ok()?;
            let address = text.trim();
            if address.is_empty() {
                return None;
            }
            address.to_owned()
        }
    };
    // No pid file: an older server, or one started by hand; trust the
    // address. A pid file naming a dead process: the server crashed.
    if let Ok(text) = std::fs::read_to_string(executable_dir.join(PID_FILE)) {
        let text = text.trim();
        if !text.is_empty() {
            match text.parse::<u32>() {
                Ok(pid) if process_is_alive(pid) => {}
                _ => {
                    tracing::debug!(
                        pid = text,
                        "the standalone server is not running; serving normally"
                    );
                    return None;
                }
            }
        }
    }
    Some(Target { address })
}

/// Whether a process with this id exists.
pub(crate) fn process_is_alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    if cfg!(target_os = "linux") {
        return Path::new("/proc").join(pid.to_string()).exists();
    }
    // Elsewhere, `kill -0` checks existence without sending a signal.
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Where and how a standalone server listens.
#[derive(Debug)]
pub(crate) struct Server {
    /// The plugin directory, where the address and pid files go.
    pub(crate) dir: PathBuf,
    /// The address written to `standalone.txt`.
    pub(crate) address: String,
    /// The bound socket.
    pub(crate) listener: TcpListener,
}

impl Server {
    /// Finds the plugin directory from the working directory and binds the
    /// standalone address.
    pub(crate) async fn prepare(plugin_id: &str) -> Result<Server, Error> {
        let cwd = std::env::current_dir()
            .map_err(|err| Error::io("reading the working directory", err))?;
        let dir = find_plugin_dir(&cwd, plugin_id)?;
        let (address, listener) = match std::env::var(address_env_var(plugin_id)) {
            Ok(address) if !address.trim().is_empty() => {
                let address = address.trim().to_owned();
                let socket = loopback_address(&address).ok_or_else(|| {
                    Error::invalid_env(&address_env_var(plugin_id), &address, "not HOST:PORT")
                })?;
                let listener = TcpListener::bind(socket)
                    .await
                    .map_err(|source| Error::Listen {
                        address: address.clone(),
                        source,
                    })?;
                (address, listener)
            }
            _ => {
                let listener =
                    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
                        .await
                        .map_err(|source| Error::Listen {
                            address: "127.0.0.1:0".into(),
                            source,
                        })?;
                let port = listener
                    .local_addr()
                    .map_err(|err| Error::io("reading the listening address", err))?
                    .port();
                // The Go SDK's form; Grafana dials it on the local host.
                (format!(":{port}"), listener)
            }
        };
        Ok(Server {
            dir,
            address,
            listener,
        })
    }

    /// Writes `standalone.txt` and `pid.txt`; the returned guard removes
    /// them.
    pub(crate) fn write_files(&self) -> Result<FilesGuard, Error> {
        let guard = FilesGuard {
            dir: self.dir.clone(),
        };
        write_private(&self.dir.join(ADDRESS_FILE), &self.address)?;
        write_private(&self.dir.join(PID_FILE), &std::process::id().to_string())?;
        Ok(guard)
    }
}

/// The socket address for a standalone address (`:PORT`, `HOST:PORT`);
/// an empty or unspecified host means the loopback interface.
fn loopback_address(address: &str) -> Option<SocketAddr> {
    let (host, port) = address.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let ip = match host {
        "" | "0.0.0.0" | "localhost" => Ipv4Addr::LOCALHOST.into(),
        host => host.parse().ok()?,
    };
    Some(SocketAddr::new(ip, port))
}

/// Writes `contents` to a new file readable by the owner only.
fn write_private(path: &Path, contents: &str) -> Result<(), Error> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let write = || -> io::Result<()> {
        io::Write::write_all(&mut options.open(path)?, contents.as_bytes())
    };
    write().map_err(|err| Error::io(format!("writing {}", path.display()), err))
}

/// Removes `standalone.txt` and `pid.txt` when dropped.
#[derive(Debug)]
pub(crate) struct FilesGuard {
    dir: PathBuf,
}

impl Drop for FilesGuard {
    fn drop(&mut self) {
        for file in [ADDRESS_FILE, PID_FILE] {
            let path = self.dir.join(file);
            if let Err(err) = std::fs::remove_file(&path)
                && err.kind() != io::ErrorKind::NotFound
            {
                tracing::error!(path = %path.display(), error = %err, "cannot remove a standalone file");
            }
        }
    }
}

/// The plugin directory: see the [module docs](self).
pub(crate) fn find_plugin_dir(cwd: &Path, plugin_id: &str) -> Result<PathBuf, Error> {
    let mut start = cwd.to_path_buf();
    if start.file_name().is_some_and(|name| name == "pkg")
        && let Some(parent) = start.parent()
    {
        start = parent.to_path_buf();
    }
    if start.join("dist").is_dir() {
        start.push("dist");
    }
    search_plugin_json(&start, plugin_id, 0).ok_or_else(|| Error::PluginDirNotFound {
        plugin_id: plugin_id.to_owned(),
        dir: start.clone(),
    })
}

/// Depth-first search for the directory of a `plugin.json` with this id.
fn search_plugin_json(dir: &Path, plugin_id: &str, depth: usize) -> Option<PathBuf> {
    // A plugin checkout is shallow; the bound keeps a search started in
    // the wrong place (or a symlink loop) from wandering the disk.
    const MAX_DEPTH: usize = 8;
    if plugin_json_id(&dir.join("plugin.json")).as_deref() == Some(plugin_id) {
        return Some(dir.to_path_buf());
    }
    if depth == MAX_DEPTH {
        return None;
    }
    let mut children: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_dir()))
        .map(|entry| entry.path())
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|name| name == "node_modules" || name == "target" || name == ".git")
        })
        .collect();
    children.sort();
    children
        .iter()
        .find_map(|child| search_plugin_json(child, plugin_id, depth + 1))
}

/// A string field of a `plugin.json`, if the file exists and parses.
fn plugin_json_field(path: &Path, field: &str) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json.get(field)?.as_str().map(str::to_owned)
}

fn plugin_json_id(path: &Path) -> Option<String> {
    plugin_json_field(path, "id")
}

/// Kills the copies of the plugin's executable other than this process
/// (`pgrep -f` + `kill -9`, as the Go SDK does), so that Grafana restarts
/// the plugin and finds the standalone server, or the real plugin again.
pub(crate) fn kill_running_plugin(dir: &Path) {
    let Some(executable) = plugin_json_field(&dir.join("plugin.json"), "executable") else {
        tracing::debug!("plugin.json names no executable; not restarting Grafana's copy");
        return;
    };
    let executable = dir.join(executable.trim_start_matches("../"));
    let output = match Command::new("pgrep").arg("-f").arg(&executable).output() {
        Ok(output) => output,
        Err(err) => {
            tracing::debug!(error = %err, "pgrep unavailable; not restarting Grafana's copy");
            return;
        }
    };
    let own_pid = std::process::id();
    for pid in String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .filter_map(|pid| pid.parse::<u32>().ok())
    {
        if pid == own_pid {
            continue;
        }
        tracing::info!(
            pid,
            "killing the running copy of the plugin so that Grafana restarts it"
        );
        if let Err(err) = Command::new("kill").args(["-9", &pid.to_string()]).status() {
            tracing::error!(pid, error = %err, "cannot kill the running copy of the plugin");
        }
    }
}

/// How often a locator says it is still there.
pub(crate) const LOCATOR_HEARTBEAT: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    fn write_plugin(dir: &Path, id: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("plugin.json"),
            format!(r#"{{"id":"{id}","executable":"gpx_test"}}"#),
        )
        .unwrap();
    }

    #[test]
    fn the_address_variable_is_named_after_the_plugin() {
        assert_eq!(
            address_env_var("my-org-datasource"),
            "GF_PLUGIN_GRPC_ADDRESS_MY_ORG_DATASOURCE"
        );
    }

    #[test]
    fn plugin_dirs_are_found_like_the_go_sdk() {
        let root = tempfile::tempdir().unwrap();
        write_plugin(&root.path().join("src"), "my-ds");
        write_plugin(&root.path().join("dist/datasource"), "my-ds");
        std::fs::create_dir(root.path().join("pkg")).unwrap();

        // `dist` wins, also from `pkg`.
        let found = find_plugin_dir(&root.path().join("pkg"), "my-ds").unwrap();
        assert_eq!(found, root.path().join("dist/datasource"));
        assert!(matches!(
            find_plugin_dir(root.path(), "other"),
            Err(Error::PluginDirNotFound { .. })
        ));
    }

    #[test]
    fn addresses_bind_on_loopback() {
        assert_eq!(
            loopback_address(":1234"),
            Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 1234)))
        );
        assert_eq!(
            loopback_address("127.0.0.1:80"),
            Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 80)))
        );
        assert_eq!(
            loopback_address("[::1]:80"),
            Some("[::1]:80".parse().unwrap())
        );
        assert_eq!(loopback_address("nonsense"), None);
    }

    #[test]
    fn locators_need_an_address_and_a_live_pid() {
        let dir = tempfile::tempdir().unwrap();
        let id = "locator-test-plugin-without-env";
        assert_eq!(find_target(id, dir.path()), None);
        std::fs::write(dir.path().join(ADDRESS_FILE), ":1234").unwrap();
        assert_eq!(
            find_target(id, dir.path()),
            Some(Target {
                address: ":1234".into()
            })
        );
        std::fs::write(dir.path().join(PID_FILE), std::process::id().to_string()).unwrap();
        assert!(find_target(id, dir.path()).is_some());
        std::fs::write(dir.path().join(PID_FILE), "999999999").unwrap();
        assert_eq!(
            find_target(id, dir.path()),
            None,
            "a stale pid means: serve normally"
        );
        std::fs::write(dir.path().join(PID_FILE), "garbage").unwrap();
        assert_eq!(find_target(id, dir.path()), None);
    }

    #[test]
    fn files_are_private_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let guard = FilesGuard {
            dir: dir.path().to_owned(),
        };
        write_private(&dir.path().join(ADDRESS_FILE), ":1").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(ADDRESS_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        drop(guard);
        assert!(!dir.path().join(ADDRESS_FILE).exists());
    }
}
