//! The go-plugin handshake: what the host tells the plugin through the
//! environment, and the one line the plugin answers on stdout.
//!
//! Grafana starts a plugin through hashicorp/go-plugin. The host sets a
//! magic cookie and its protocol versions in the environment; the plugin
//! checks the cookie, picks a protocol version, starts listening and prints
//!
//! ```text
//! CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVERCERT
//! 1|2|unix|/tmp/plugin123456|grpc|
//! ```
//!
//! as the **first** line on stdout. Anything printed to stdout before it
//! makes Grafana fail the start with "Unrecognized remote plugin message";
//! this crate writes nothing else to stdout.

use std::fmt;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::error::Error;

/// The environment variable holding go-plugin's magic cookie.
pub const MAGIC_COOKIE_KEY: &str = "grafana_plugin_type";

/// The value Grafana sets for [`MAGIC_COOKIE_KEY`], for data source and app
/// plugins alike.
pub const MAGIC_COOKIE_VALUE: &str = "datasource";

/// go-plugin's own protocol version, the first field of the handshake.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// Grafana's plugin protocol version, the second field of the handshake.
/// Grafana refuses plugins that negotiate less.
pub const APP_PROTOCOL_VERSION: u32 = 2;

/// What go-plugin prints, and what this crate prints to stderr, when the
/// binary is run by hand instead of by Grafana.
pub const NOT_A_PLUGIN_HOST_MESSAGE: &str = "This binary is a Grafana plugin. It is not meant to be executed directly: \
     Grafana starts it and loads it automatically. To debug it without Grafana starting it, run it with -standalone.";

/// The part of the process environment the go-plugin host controls.
///
/// Read once with [`HostEnvironment::from_process`]; tests build one by
/// hand.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct HostEnvironment {
    /// `grafana_plugin_type`.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`: the versions the host speaks, comma
    /// separated.
    pub protocol_versions: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`: where to create the socket.
    pub unix_socket_dir: Option<PathBuf>,
    /// `PLUGIN_UNIX_SOCKET_GROUP`: a group (name or id) that gets write
    /// access to the socket.
    pub unix_socket_group: Option<String>,
    /// `PLUGIN_MIN_PORT`: the lowest TCP port to try.
    pub min_port: Option<String>,
    /// `PLUGIN_MAX_PORT`: the highest TCP port to try.
    pub max_port: Option<String>,
}

impl HostEnvironment {
    /// The host's variables as this process sees them. Empty values count
    /// as unset, as in go-plugin.
    pub fn from_process() -> Self {
        fn var(name: &str) -> Option<String> {
            std::env::var(name).ok().filter(|value| !value.is_empty())
        }
        HostEnvironment {
            magic_cookie: std::env::var(MAGIC_COOKIE_KEY).ok(),
            protocol_versions: var("PLUGIN_PROTOCOL_VERSIONS"),
            unix_socket_dir: var("PLUGIN_UNIX_SOCKET_DIR").map(PathBuf::from),
            unix_socket_group: var("PLUGIN_UNIX_SOCKET_GROUP"),
            min_port: var("PLUGIN_MIN_PORT"),
            max_port: var("PLUGIN_MAX_PORT"),
        }
    }

    /// Whether the magic cookie says Grafana started this process.
    pub fn started_by_grafana(&self) -> bool {
        self.magic_cookie.as_deref() == Some(MAGIC_COOKIE_VALUE)
    }

    /// Checks the magic cookie.
    pub fn check_magic_cookie(&self) -> Result<(), Error> {
        if self.started_by_grafana() {
            Ok(())
        } else {
            Err(Error::NotStartedByGrafana)
        }
    }

    /// The protocol version to announce, and a warning when the host does
    /// not offer it.
    ///
    /// Like go-plugin, the plugin announces its own version (2) even when
    /// the host's list lacks it: the host then refuses the plugin with a
    /// clear message of its own. Versions that do not parse are skipped.
    pub fn negotiate_protocol_version(&self) -> (u32, Option<String>) {
        let Some(offered) = &self.protocol_versions else {
            return (APP_PROTOCOL_VERSION, None);
        };
        let speaks_ours = offered
            .split(',')
            .filter_map(|version| version.trim().parse::<u32>().ok())
            .any(|v| v == APP_PROTOCOL_VERSION);
        if speaks_ours {
            (APP_PROTOCOL_VERSION, None)
        } else {
            let warning = format!(
                "the host offers plugin protocol versions {offered:?}, this plugin speaks {APP_PROTOCOL_VERSION} only"
            );
            (APP_PROTOCOL_VERSION, Some(warning))
        }
    }
}

/// The kind of socket the plugin listens on, as named in the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Network {
    /// A unix domain socket (every platform but Windows).
    Unix,
    /// TCP on the loopback interface.
    Tcp,
}

impl Network {
    /// The name in the handshake line.
    pub fn as_str(self) -> &'static str {
        match self {
            Network::Unix => "unix",
            Network::Tcp => "tcp",
        }
    }
}

/// The handshake line a plugin prints once it listens.
///
/// ```
/// use plugin_serve::handshake::{HandshakeLine, Network};
///
/// let line = HandshakeLine::new(Network::Unix, "/tmp/plugin42");
/// assert_eq!(line.to_string(), "1|2|unix|/tmp/plugin42|grpc|");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandshakeLine {
    network: Network,
    address: String,
    protocol_version: u32,
    server_certificate: bool,
}

impl HandshakeLine {
    /// The line for a plugin listening on `address`, speaking protocol
    /// version 2, without TLS.
    pub fn new(network: Network, address: impl Into<String>) -> Self {
        HandshakeLine {
            network,
            address: address.into(),
            protocol_version: APP_PROTOCOL_VERSION,
            server_certificate: true,
        }
    }

    /// This line with another application protocol version.
    pub fn with_protocol_version(mut self, version: u32) -> Self {
        self.protocol_version = version;
        self
    }

    /// This line without the sixth (server certificate) field: the form the
    /// Go SDK's standalone locator prints, `1|2|tcp|<address>|grpc`.
    pub fn without_certificate_field(mut self) -> Self {
        self.server_certificate = false;
        self
    }

    /// Prints the line and a newline to stdout, and flushes.
    pub fn print(&self) -> io::Result<()> {
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "{self}")?;
        stdout.flush()
    }
}

impl fmt::Display for HandshakeLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{CORE_PROTOCOL_VERSION}|{}|{}|{}|grpc",
            self.protocol_version,
            self.network.as_str(),
            self.address
        )?;
        // The sixth field carries the AutoMTLS server certificate; Grafana
        // never asks for mTLS, so it is always empty.
        if self.server_certificate {
            f.write_str("|")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with_versions(versions: &str) -> HostEnvironment {
        HostEnvironment {
            protocol_versions: Some(versions.to_owned()),
            ..HostEnvironment::default()
        }
    }

    #[test]
    fn the_cookie_must_match_exactly() {
        let mut env = HostEnvironment::default();
        assert!(matches!(
            env.check_magic_cookie(),
            Err(Error::NotStartedByGrafana)
        ));
        env.magic_cookie = Some("app".into());
        assert!(env.check_magic_cookie().is_err());
        env.magic_cookie = Some(MAGIC_COOKIE_VALUE.into());
        assert!(env.check_magic_cookie().is_ok());
    }

    #[test]
    fn version_two_is_negotiated_from_the_hosts_list() {
        assert_eq!(
            env_with_versions("2").negotiate_protocol_version(),
            (2, None)
        );
        assert_eq!(
            env_with_versions("1, 2,x").negotiate_protocol_version(),
            (2, None)
        );
        assert_eq!(
            HostEnvironment::default().negotiate_protocol_version(),
            (2, None)
        );
        let (version, warning) = env_with_versions("1,3").negotiate_protocol_version();
        assert_eq!(version, 2);
        assert!(warning.is_some());
    }

    #[test]
    fn lines_have_the_go_plugin_layout() {
        assert_eq!(
            HandshakeLine::new(Network::Tcp, "127.0.0.1:10000").to_string(),
            "1|2|tcp|127.0.0.1:10000|grpc|"
        );
        assert_eq!(
            HandshakeLine::new(Network::Tcp, ":1234")
                .without_certificate_field()
                .to_string(),
            "1|2|tcp|:1234|grpc"
        );
    }
}
