//! The socket Grafana connects to: a unix socket where there are unix
//! sockets, else TCP on 127.0.0.1 within the host's port range.
//!
//! As in go-plugin, the unix socket is created as `plugin<random>` in
//! `PLUGIN_UNIX_SOCKET_DIR` (or the temporary directory), optionally made
//! writable for `PLUGIN_UNIX_SOCKET_GROUP`, and removed when the listener is
//! dropped. Accepted TCP connections get `TCP_NODELAY`: gRPC writes small
//! frames, and Nagle's algorithm would hold each reply back for up to the
//! peer's delayed-ACK timeout (40 ms on Linux).
//!
//! [`Listener`] is the public face of the same type, for
//! [`serve_on`](crate::serve_on): a socket the caller bound itself.

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
#[cfg(unix)]
use std::path::PathBuf;

use tokio::net::{TcpListener, TcpStream};
#[cfg(unix)]
use tokio::net::{UnixListener, UnixStream};

use crate::error::Error;
use crate::handshake::{HostEnvironment, Network};

/// A bound socket, ready to be served.
#[derive(Debug)]
pub(crate) enum PluginListener {
    /// A unix socket and, when this crate created it, the guard that
    /// removes its file.
    #[cfg(unix)]
    Unix {
        listener: UnixListener,
        /// Never read: dropped with the listener, it removes the file.
        #[allow(dead_code)]
        socket_file: Option<SocketFile>,
    },
    /// A TCP socket on the loopback interface.
    Tcp {
        listener: TcpListener,
        address: SocketAddr,
    },
}

/// An accepted connection. One type for both kinds of socket, so the HTTP/2
/// connection code is compiled once.
#[cfg(unix)]
pub(crate) type PluginStream = tokio_util::either::Either<UnixStream, TcpStream>;
/// An accepted connection.
#[cfg(not(unix))]
pub(crate) type PluginStream = TcpStream;

impl PluginListener {
    /// Waits for the next connection. TCP connections get `TCP_NODELAY`.
    pub(crate) async fn accept(&self) -> io::Result<PluginStream> {
        match self {
            #[cfg(unix)]
            PluginListener::Unix { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                Ok(tokio_util::either::Either::Left(stream))
            }
            PluginListener::Tcp { listener, .. } => {
                let (stream, _) = listener.accept().await?;
                // Without it, each small gRPC reply waits for the peer's
                // delayed ACK.
                if let Err(err) = stream.set_nodelay(true) {
                    tracing::debug!(error = %err, "TCP_NODELAY not set on an accepted connection");
                }
                #[cfg(unix)]
                let stream = tokio_util::either::Either::Right(stream);
                Ok(stream)
            }
        }
    }

    /// Binds the socket the host asked for: on unix a unix socket, else TCP.
    pub(crate) async fn bind(env: &HostEnvironment) -> Result<Self, Error> {
        #[cfg(unix)]
        {
            Self::bind_unix(env)
        }
        #[cfg(not(unix))]
        {
            Self::bind_tcp(env).await
        }
    }

    /// The handshake's network field.
    pub(crate) fn network(&self) -> Network {
        match self {
            #[cfg(unix)]
            PluginListener::Unix { .. } => Network::Unix,
            PluginListener::Tcp { .. } => Network::Tcp,
        }
    }

    /// The handshake's address field.
    pub(crate) fn address(&self) -> String {
        match self {
            #[cfg(unix)]
            PluginListener::Unix { listener, .. } => listener
                .local_addr()
                .ok()
                .and_then(|address| address.as_pathname().map(|path| path.display().to_string()))
                .unwrap_or_default(),
            PluginListener::Tcp { address, .. } => address.to_string(),
        }
    }

    /// A unix socket named like go-plugin's in the host's socket directory.
    #[cfg(unix)]
    pub(crate) fn bind_unix(env: &HostEnvironment) -> Result<Self, Error> {
        let dir = env
            .unix_socket_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        let mut last_error = None;
        // A name can be taken by another process between our choice and the
        // bind; a few fresh names make that race harmless.
        for attempt in 0..16_u32 {
            let path = dir.join(format!("plugin{}", unique_suffix(attempt)));
            match UnixListener::bind(&path) {
                Ok(listener) => {
                    let socket_file = SocketFile { path };
                    if let Some(group) = &env.unix_socket_group {
                        socket_file.make_group_writable(group)?;
                    }
                    return Ok(PluginListener::Unix {
                        listener,
                        socket_file: Some(socket_file),
                    });
                }
                Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => last_error = Some(err),
                Err(err) => {
                    return Err(Error::Listen {
                        address: path.display().to_string(),
                        source: err,
                    });
                }
            }
        }
        Err(Error::Listen {
            address: dir.display().to_string(),
            source: last_error.unwrap_or_else(|| std::io::Error::other("no free socket name")),
        })
    }

    /// TCP on 127.0.0.1, on the first free port of
    /// `PLUGIN_MIN_PORT..=PLUGIN_MAX_PORT` (any port when both are unset).
    // go-plugin uses TCP only where there are no unix sockets; the tests
    // exercise it everywhere.
    #[cfg_attr(unix, allow(dead_code))]
    pub(crate) async fn bind_tcp(env: &HostEnvironment) -> Result<Self, Error> {
        let (min, max) = port_range(env)?;
        let mut last_error = None;
        for port in min..=max {
            match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
                Ok(listener) => return Self::from_tcp(listener),
                Err(err) => last_error = Some(err),
            }
        }
        Err(Error::Listen {
            address: format!("127.0.0.1:{min}..={max}"),
            source: last_error.unwrap_or_else(|| std::io::Error::other("empty port range")),
        })
    }

    /// Serves an already bound TCP listener.
    pub(crate) fn from_tcp(listener: TcpListener) -> Result<Self, Error> {
        let address = listener
            .local_addr()
            .map_err(|err| Error::io("reading the listening address", err))?;
        Ok(PluginListener::Tcp { listener, address })
    }
}

/// A socket bound by the caller, to serve a plugin on with
/// [`serve_on`](crate::serve_on): a [`TcpListener`] or, on unix, a
/// [`UnixListener`].
///
/// The socket stays the caller's: a unix socket's file is not removed when
/// serving ends. Accepted TCP connections get `TCP_NODELAY`, as when
/// serving Grafana.
#[derive(Debug)]
pub struct Listener(pub(crate) PluginListener);

impl Listener {
    /// Where the socket listens: a unix socket's path, or a TCP address.
    pub fn address(&self) -> String {
        self.0.address()
    }
}

impl TryFrom<TcpListener> for Listener {
    type Error = Error;

    /// Wraps a bound TCP listener.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the listener's address cannot be read.
    fn try_from(listener: TcpListener) -> Result<Self, Error> {
        PluginListener::from_tcp(listener).map(Listener)
    }
}

#[cfg(unix)]
impl From<UnixListener> for Listener {
    fn from(listener: UnixListener) -> Self {
        Listener(PluginListener::Unix {
            listener,
            socket_file: None,
        })
    }
}

/// The host's port range; unset bounds are 0, as in go-plugin.
#[cfg_attr(unix, allow(dead_code))]
fn port_range(env: &HostEnvironment) -> Result<(u16, u16), Error> {
    let parse = |name: &str, value: &Option<String>| -> Result<u16, Error> {
        match value {
            None => Ok(0),
            Some(text) => text
                .trim()
                .parse()
                .map_err(|_| Error::invalid_env(name, text, "not a port number")),
        }
    };
    let min = parse("PLUGIN_MIN_PORT", &env.min_port)?;
    let max = parse("PLUGIN_MAX_PORT", &env.max_port)?;
    if min > max {
        return Err(Error::invalid_env(
            "PLUGIN_MIN_PORT",
            &min.to_string(),
            format!("greater than PLUGIN_MAX_PORT={max}"),
        ));
    }
    Ok((min, max))
}

/// A suffix that differs between processes and attempts.
#[cfg(unix)]
fn unique_suffix(attempt: u32) -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    ((u64::from(std::process::id()) << 32) | u64::from(nanos))
        .wrapping_add(u64::from(attempt).wrapping_mul(7919))
        % 10_000_000_000
}

/// The file of a unix socket, removed when dropped (as go-plugin's
/// listener does on close).
#[cfg(unix)]
#[derive(Debug)]
pub(crate) struct SocketFile {
    path: PathBuf,
}

#[cfg(unix)]
impl SocketFile {
    /// Gives `group` (a name or a numeric id) read and write access to the
    /// socket: mode 0660 and that group as owner.
    fn make_group_writable(&self, group: &str) -> Result<(), Error> {
        use std::os::unix::fs::PermissionsExt;

        let gid = group_id(group).ok_or_else(|| {
            Error::invalid_env("PLUGIN_UNIX_SOCKET_GROUP", group, "no such group")
        })?;
        std::os::unix::fs::chown(&self.path, None, Some(gid)).map_err(|err| {
            Error::io(
                format!("changing the group of {}", self.path.display()),
                err,
            )
        })?;
        std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o660))
            .map_err(|err| Error::io(format!("changing the mode of {}", self.path.display()), err))
    }

    /// The socket's path.
    #[cfg(test)]
    pub(crate) fn path(&self) -> &std::path::Path {
        &self.path
    }
}

#[cfg(unix)]
impl Drop for SocketFile {
    fn drop(&mut self) {
        // Nothing useful can be done when removal fails; the host's socket
        // directory is temporary anyway.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The id of a group given by id or by name (looked up in `/etc/group`).
#[cfg(unix)]
fn group_id(group: &str) -> Option<u32> {
    if let Ok(id) = group.parse() {
        return Some(id);
    }
    let groups = std::fs::read_to_string("/etc/group").ok()?;
    groups.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let id = fields.nth(1)?;
        (name == group).then(|| id.parse().ok()).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn unix_sockets_are_created_in_the_hosts_directory_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let env = HostEnvironment {
            unix_socket_dir: Some(dir.path().to_owned()),
            ..HostEnvironment::default()
        };
        let listener = PluginListener::bind(&env).await.unwrap();
        assert_eq!(listener.network(), Network::Unix);
        let PluginListener::Unix {
            socket_file: Some(socket_file),
            ..
        } = &listener
        else {
            unreachable!()
        };
        let path = socket_file.path().to_owned();
        assert!(path.starts_with(dir.path()));
        assert!(
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("plugin")
        );
        assert!(path.exists());
        drop(listener);
        assert!(!path.exists());
    }

    #[tokio::test]
    async fn tcp_uses_the_hosts_port_range_on_loopback() {
        let taken = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = taken.local_addr().unwrap().port();
        let env = HostEnvironment {
            min_port: Some(port.to_string()),
            max_port: Some(port.saturating_add(20).to_string()),
            ..HostEnvironment::default()
        };
        let listener = PluginListener::bind_tcp(&env).await.unwrap();
        let address: SocketAddr = listener.address().parse().unwrap();
        assert!(address.ip().is_loopback());
        assert!(address.port() > port && address.port() <= port.saturating_add(20));
    }

    #[tokio::test]
    async fn bad_port_ranges_are_errors() {
        let env = HostEnvironment {
            min_port: Some("9".into()),
            max_port: Some("x".into()),
            ..HostEnvironment::default()
        };
        assert!(matches!(
            PluginListener::bind_tcp(&env).await,
            Err(Error::InvalidEnvironment { .. })
        ));
        let env = HostEnvironment {
            min_port: Some("9".into()),
            max_port: Some("8".into()),
            ..HostEnvironment::default()
        };
        assert!(matches!(
            PluginListener::bind_tcp(&env).await,
            Err(Error::InvalidEnvironment { .. })
        ));
    }
}
