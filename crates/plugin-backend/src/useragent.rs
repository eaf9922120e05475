//! [`UserAgent`]: the Grafana server's user agent,
//! `Grafana/<version> (<os>; <arch>)`.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// The user agent of the Grafana server that made a request, e.g.
/// `Grafana/11.3.0-pre (linux; amd64)`.
///
/// ```
/// use plugin_backend::UserAgent;
///
/// let ua: UserAgent = "Grafana/10.2.1 (darwin; arm64)".parse()?;
/// assert_eq!(ua.grafana_version(), "10.2.1");
/// assert_eq!(ua.os(), "darwin");
/// assert_eq!(ua.arch(), "arm64");
/// assert_eq!(ua.to_string(), "Grafana/10.2.1 (darwin; arm64)");
/// assert!("curl/8.0".parse::<UserAgent>().is_err());
/// # Ok::<(), plugin_backend::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UserAgent {
    grafana_version: String,
    os: String,
    arch: String,
}

impl UserAgent {
    /// A user agent for Grafana `grafana_version` on `os`/`arch`, checked as
    /// [`parse`](str::parse) checks a string.
    pub fn new(grafana_version: &str, os: &str, arch: &str) -> Result<Self, Error> {
        format!("Grafana/{grafana_version} ({os}; {arch})").parse()
    }

    /// The Grafana version, e.g. `10.2.1` or `11.0.0-beta1`.
    pub fn grafana_version(&self) -> &str {
        &self.grafana_version
    }

    /// The operating system, e.g. `linux`.
    pub fn os(&self) -> &str {
        &self.os
    }

    /// The CPU architecture, e.g. `amd64`.
    pub fn arch(&self) -> &str {
        &self.arch
    }
}

impl fmt::Display for UserAgent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Grafana/{} ({}; {})",
            self.grafana_version, self.os, self.arch
        )
    }
}

impl FromStr for UserAgent {
    type Err = Error;

    fn from_str(value: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::invalid(
                "user agent",
                format!("{value:?} is not `Grafana/<version> (<os>; <arch>)`"),
            )
        };
        let rest = value.strip_prefix("Grafana/").ok_or_else(invalid)?;
        let (version, rest) = rest.split_once(" (").ok_or_else(invalid)?;
        let (os, arch) = rest
            .strip_suffix(')')
            .and_then(|inner| inner.split_once("; "))
            .ok_or_else(invalid)?;
        let alphanumeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !is_version(version) || !alphanumeric(os) || !alphanumeric(arch) {
            return Err(invalid());
        }
        Ok(UserAgent {
            grafana_version: version.to_owned(),
            os: os.to_owned(),
            arch: arch.to_owned(),
        })
    }
}

/// `MAJOR.MINOR.PATCH` followed by any non-space suffix (`-beta1`, `+security`).
fn is_version(version: &str) -> bool {
    if version.bytes().any(|b| b.is_ascii_whitespace()) {
        return false;
    }
    let mut rest = version;
    for part in 0..3 {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return false;
        }
        rest = &rest[digits..];
        if part < 2 {
            match rest.strip_prefix('.') {
                Some(tail) => rest = tail,
                None => return false,
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions_with_suffixes() {
        let ua: UserAgent = "Grafana/7.0.0-beta1 (windows; x86)".parse().unwrap();
        assert_eq!(ua.grafana_version(), "7.0.0-beta1");
        assert_eq!(
            UserAgent::new("10.0.0", "linux", "amd64")
                .unwrap()
                .to_string(),
            "Grafana/10.0.0 (linux; amd64)"
        );
    }

    #[test]
    fn rejects_malformed_agents() {
        for bad in [
            "",
            "Grafana/10.0 (linux; amd64)",
            "Grafana/10.0.0 (linux amd64)",
            "Grafana/10.0.0 (li-nux; amd64)",
            "Grafana/10.0.0 (linux; amd64) extra",
            "Grafana/x.0.0 (linux; amd64)",
            "Mozilla/5.0",
        ] {
            assert!(bad.parse::<UserAgent>().is_err(), "{bad:?}");
        }
    }
}
