//! Build information: what `-buildinfo` and `-version` print, and what
//! tracing reports as the service version.
//!
//! `cargo xtask package` sets `GRAFANA_PLUGIN_BUILD_INFO` to
//! `{"time":<epoch ms>,"pluginID":"…","version":"…"}` while compiling the
//! plugin, as the Go SDK's Mage build injects it with linker flags. The
//! [`build_info!`](crate::build_info) macro reads it with `option_env!` *in
//! the plugin's crate*, so cargo rebuilds the plugin when it changes, and
//! falls back to the plugin crate's name and version.

use serde::{Deserialize, Serialize};

/// The environment variable `cargo xtask package` sets at compile time.
pub const BUILD_INFO_ENV: &str = "GRAFANA_PLUGIN_BUILD_INFO";

/// Build information of a plugin binary, with the Go SDK's JSON names.
///
/// ```
/// use plugin_serve::BuildInfo;
///
/// let info = BuildInfo::from_build_env(
///     Some(r#"{"time":1700000000000,"pluginID":"my-ds","version":"1.2.3"}"#),
///     "my-ds-crate",
///     "0.1.0",
/// );
/// assert_eq!(info.version, "1.2.3");
/// assert_eq!(info.to_json(), r#"{"time":1700000000000,"pluginID":"my-ds","version":"1.2.3"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BuildInfo {
    /// Build time, in milliseconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<i64>,
    /// The plugin id.
    #[serde(rename = "pluginID", default, skip_serializing_if = "String::is_empty")]
    pub plugin_id: String,
    /// The plugin version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

impl BuildInfo {
    /// Build information from the compile-time `GRAFANA_PLUGIN_BUILD_INFO`
    /// JSON, else (when unset or malformed) from the plugin crate's name and
    /// version. Use the [`build_info!`](crate::build_info) macro rather than
    /// calling this.
    pub fn from_build_env(
        build_info_json: Option<&str>,
        crate_name: &str,
        crate_version: &str,
    ) -> Self {
        build_info_json
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_else(|| BuildInfo {
                time: None,
                plugin_id: crate_name.to_owned(),
                version: crate_version.to_owned(),
            })
    }

    /// Build information naming only a plugin id.
    pub fn for_plugin(plugin_id: impl Into<String>) -> Self {
        BuildInfo {
            time: None,
            plugin_id: plugin_id.into(),
            version: String::new(),
        }
    }

    /// The JSON `-buildinfo` prints.
    pub fn to_json(&self) -> String {
        // Serializing a struct of strings and integers cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The plugin's [`BuildInfo`], read at compile time in the calling crate.
///
/// ```
/// let info = plugin_serve::build_info!();
/// // Outside `cargo xtask package`: this crate's name and version.
/// assert!(!info.version.is_empty());
/// ```
#[macro_export]
macro_rules! build_info {
    () => {
        $crate::BuildInfo::from_build_env(
            ::core::option_env!("GRAFANA_PLUGIN_BUILD_INFO"),
            ::core::env!("CARGO_PKG_NAME"),
            ::core::env!("CARGO_PKG_VERSION"),
        )
    };
}

/// What the command line asks for, Go `flag`-style (`-name` or `--name`,
/// optionally `=true`/`=false`); anything else is ignored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub(crate) build_info: bool,
    pub(crate) version: bool,
    pub(crate) standalone: bool,
}

impl Flags {
    pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Self {
        let mut flags = Flags::default();
        for arg in args {
            let Some(flag) = arg.strip_prefix("--").or_else(|| arg.strip_prefix('-')) else {
                continue;
            };
            let (name, value) = match flag.split_once('=') {
                Some((name, value)) => (
                    name,
                    matches!(value, "1" | "t" | "T" | "true" | "TRUE" | "True"),
                ),
                None => (flag, true),
            };
            match name {
                "buildinfo" => flags.build_info = value,
                "version" => flags.version = value,
                "standalone" => flags.standalone = value,
                _ => {}
            }
        }
        flags
    }

    pub(crate) fn from_process() -> Self {
        Flags::parse(std::env::args().skip(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Flags {
        Flags::parse(args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn malformed_build_info_falls_back_to_the_crate() {
        let info = BuildInfo::from_build_env(Some("{not json"), "gpx", "0.3.0");
        assert_eq!(
            (info.plugin_id.as_str(), info.version.as_str()),
            ("gpx", "0.3.0")
        );
        assert_eq!(info.to_json(), r#"{"pluginID":"gpx","version":"0.3.0"}"#);
    }

    #[test]
    fn flags_parse_like_go() {
        assert_eq!(parse(&[]), Flags::default());
        assert!(parse(&["-standalone"]).standalone);
        assert!(parse(&["--standalone=true"]).standalone);
        assert!(!parse(&["-standalone=false"]).standalone);
        assert!(parse(&["-buildinfo", "extra"]).build_info);
        assert!(parse(&["-version"]).version);
        assert_eq!(parse(&["standalone", "-other"]), Flags::default());
    }
}
