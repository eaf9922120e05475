//! The go-plugin handshake line, parsed the way Grafana's plugin host
//! (hashicorp/go-plugin `client.go`) parses it.
//!
//! A plugin announces where it listens with the first line on its stdout:
//! `CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVERCERT`, for example
//! `1|2|unix|/tmp/plugin123|grpc|`. Grafana accepts only core protocol 1,
//! app protocol 2, the `unix` and `tcp` networks and the `grpc` protocol;
//! [`Handshake::parse`] rejects everything else with the reason Grafana
//! would give.
//!
//! ```
//! use plugin_testkit::{Handshake, PluginAddress};
//!
//! let handshake = Handshake::parse("1|2|unix|/tmp/plugin42|grpc|\n")?;
//! assert_eq!(handshake.address, PluginAddress::Unix("/tmp/plugin42".into()));
//! assert!(Handshake::parse("1|2|tcp|127.0.0.1:10000").is_err()); // no protocol: net/rpc
//! # Ok::<(), String>(())
//! ```

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// go-plugin's core protocol version, the only one any host accepts.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// Grafana's plugin protocol version (`backend/grpcplugin/handshake.go`).
pub const APP_PROTOCOL_VERSION: u32 = 2;

/// Where a plugin listens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PluginAddress {
    /// A unix domain socket (the default on Unix).
    Unix(PathBuf),
    /// A TCP address (the default on Windows, and standalone debugging).
    Tcp(SocketAddr),
}

impl fmt::Display for PluginAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PluginAddress::Unix(path) => write!(f, "unix:{}", path.display()),
            PluginAddress::Tcp(address) => write!(f, "tcp:{address}"),
        }
    }
}

/// A parsed handshake line.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Handshake {
    /// The go-plugin core protocol version (always [`CORE_PROTOCOL_VERSION`]).
    pub core_protocol_version: u32,
    /// The negotiated app protocol version (always [`APP_PROTOCOL_VERSION`]).
    pub app_protocol_version: u32,
    /// Where the plugin's gRPC server listens.
    pub address: PluginAddress,
    /// Whether the plugin announced gRPC broker multiplexing (the optional
    /// seventh field); Grafana never asks for it.
    pub multiplexing: bool,
}

impl Handshake {
    /// Parses a handshake line (surrounding whitespace, such as the newline,
    /// is ignored), returning why Grafana would refuse it.
    ///
    /// # Errors
    ///
    /// The reason as text: fewer than four fields, a core or app protocol
    /// Grafana does not speak, an unknown network, an unparsable address, a
    /// protocol other than `grpc` (none at all means net/rpc), or a server
    /// certificate (AutoMTLS, which Grafana does not request).
    pub fn parse(line: &str) -> Result<Handshake, String> {
        let line = line.trim();
        let parts: Vec<&str> = line.split('|').collect();
        if parts.len() < 4 {
            return Err(format!(
                "expected at least 4 `|`-separated fields, found {}",
                parts.len()
            ));
        }
        let core_protocol_version = parse_version(parts[0], "core protocol version")?;
        if core_protocol_version != CORE_PROTOCOL_VERSION {
            return Err(format!(
                "incompatible core protocol version {core_protocol_version} (the host speaks {CORE_PROTOCOL_VERSION})"
            ));
        }
        let app_protocol_version = parse_version(parts[1], "app protocol version")?;
        if app_protocol_version != APP_PROTOCOL_VERSION {
            return Err(format!(
                "incompatible plugin protocol version {app_protocol_version} (Grafana offers {APP_PROTOCOL_VERSION})"
            ));
        }
        let address = match parts[2] {
            "unix" if !parts[3].is_empty() => PluginAddress::Unix(PathBuf::from(parts[3])),
            "unix" => return Err("empty unix socket path".to_owned()),
            "tcp" => PluginAddress::Tcp(parse_tcp_address(parts[3])?),
            other => return Err(format!("unknown network {other:?} (expected unix or tcp)")),
        };
        // go-plugin defaults to net/rpc when the field is absent; Grafana allows grpc only.
        match parts.get(4).copied() {
            Some("grpc") => {}
            Some(other) => {
                return Err(format!(
                    "unsupported plugin protocol {other:?} (Grafana allows grpc only)"
                ));
            }
            None => {
                return Err(
                    "no protocol field, which means net/rpc (Grafana allows grpc only)".to_owned(),
                );
            }
        }
        // go-plugin ignores short leftovers of old implementations here; a real
        // certificate means AutoMTLS, which Grafana never enables.
        if parts.get(5).is_some_and(|cert| cert.len() > 50) {
            return Err(
                "the plugin sent a server certificate, but Grafana does not use AutoMTLS"
                    .to_owned(),
            );
        }
        let multiplexing = match parts.get(6).copied() {
            None | Some("") => false,
            Some("true") => true,
            Some("false") => false,
            Some(other) => return Err(format!("invalid multiplexing flag {other:?}")),
        };
        Ok(Handshake {
            core_protocol_version,
            app_protocol_version,
            address,
            multiplexing,
        })
    }
}

/// A TCP address as go-plugin's `net.ResolveTCPAddr` takes it, including
/// the Go SDK's standalone form `:PORT`: Go dials an empty host on the
/// loopback interface.
fn parse_tcp_address(text: &str) -> Result<SocketAddr, String> {
    let invalid = |error: &dyn fmt::Display| format!("invalid tcp address {text:?}: {error}");
    match text.strip_prefix(':') {
        Some(port) => port
            .parse::<u16>()
            .map(|port| SocketAddr::from((Ipv4Addr::LOCALHOST, port)))
            .map_err(|error| invalid(&error)),
        None => text.parse().map_err(|error| invalid(&error)),
    }
}

fn parse_version(field: &str, what: &str) -> Result<u32, String> {
    field
        .parse()
        .map_err(|error| format!("invalid {what} {field:?}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_what_the_go_sdk_prints() {
        let unix = Handshake::parse("1|2|unix|/tmp/plugin123456|grpc|\n").unwrap();
        assert_eq!(
            unix.address,
            PluginAddress::Unix("/tmp/plugin123456".into())
        );
        assert_eq!(
            (unix.core_protocol_version, unix.app_protocol_version),
            (1, 2)
        );
        assert!(!unix.multiplexing);

        let tcp = Handshake::parse("1|2|tcp|127.0.0.1:10000|grpc").unwrap();
        assert_eq!(
            tcp.address,
            PluginAddress::Tcp("127.0.0.1:10000".parse().unwrap())
        );

        // A locator pointing Grafana at a standalone server (the Go SDK's form).
        let locator = Handshake::parse("1|2|tcp|:10001|grpc").unwrap();
        assert_eq!(
            locator.address,
            PluginAddress::Tcp("127.0.0.1:10001".parse().unwrap())
        );

        let multiplexed = Handshake::parse("1|2|unix|/s|grpc||true").unwrap();
        assert!(multiplexed.multiplexing);
    }

    #[test]
    fn rejects_what_grafana_rejects() {
        let reason = |line: &str| Handshake::parse(line).unwrap_err();
        assert!(reason("Serving on :8080").contains("at least 4"));
        assert!(reason("2|2|unix|/s|grpc|").contains("core protocol"));
        assert!(reason("1|1|unix|/s|grpc|").contains("plugin protocol version 1"));
        assert!(reason("x|2|unix|/s|grpc|").contains("invalid core protocol version"));
        assert!(reason("1|2|udp|/s|grpc|").contains("unknown network"));
        assert!(reason("1|2|tcp|localhost|grpc|").contains("invalid tcp address"));
        assert!(reason("1|2|tcp|:http|grpc|").contains("invalid tcp address"));
        assert!(reason("1|2|unix|/s").contains("net/rpc"));
        assert!(reason("1|2|unix|/s|netrpc|").contains("grpc only"));
        assert!(reason(&format!("1|2|unix|/s|grpc|{}", "A".repeat(64))).contains("AutoMTLS"));
        assert!(reason("1|2|unix||grpc|").contains("empty"));
    }
}
