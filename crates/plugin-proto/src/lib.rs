//! Grafana's backend plugin protocol as Rust types: the wire layer of the SDK.
//!
//! This crate holds generated code, plus two hand-written `Debug` impls (see
//! below) and [`ScatteredMessage`]. Plugin authors rarely use it directly: `plugin-backend` converts
//! these messages into the SDK's own types, and `plugin-serve` serves them.
//!
//! # Contents
//!
//! | module | protobuf package | what it is |
//! |---|---|---|
//! | [`pluginv2`] | `pluginv2` | Grafana's plugin protocol: the `Data`, `Resource`, `Diagnostics`, `Stream`, `AdmissionControl` and `ResourceConversion` services, their messages and the `DataFrameFormat` enum |
//! | [`go_plugin`] | `plugin` | the hashicorp/go-plugin services a host calls on a plugin: `GRPCController/Shutdown`, `GRPCStdio/StreamStdio`, `GRPCBroker/StartStream` |
//!
//! Every service comes with a tonic server (`*_server`) and client
//! (`*_client`) module. The clients are generic over any tonic `GrpcService`;
//! this crate does not enable tonic's transport.
//!
//! Every protobuf `bytes` field is a [`bytes::Bytes`], so request bodies and
//! encoded frames move between layers without a copy.
//! [`ScatteredMessage`] encodes a `QueryDataResponse` as a list of buffers
//! in which each large frame is its own `Bytes`, so frames also reach the
//! socket without a copy.
//!
//! # Secrets
//!
//! [`pluginv2::DataSourceInstanceSettings`] and
//! [`pluginv2::AppInstanceSettings`] carry decrypted secrets. Their `Debug`
//! output names the secret keys and redacts the values, so logging a request
//! cannot leak them.
//!
//! ```
//! use plugin_proto::pluginv2::DataSourceInstanceSettings;
//!
//! let mut settings = DataSourceInstanceSettings::default();
//! settings
//!     .decrypted_secure_json_data
//!     .insert("apiKey".into(), "hunter2".into());
//! let printed = format!("{settings:?}");
//! assert!(printed.contains("apiKey"));
//! assert!(!printed.contains("hunter2"));
//! ```
//!
//! # Regenerating
//!
//! The code in `src/generated/` is checked in and is generated from the
//! `.proto` files in the workspace's `proto/` directory by `cargo xtask proto`,
//! which uses the pure-Rust compiler protox: building this crate needs neither
//! `protoc` nor a build script. `cargo xtask proto --check` (part of
//! `cargo xtask ci`) fails when the checked-in code is stale.

use std::collections::HashMap;
use std::fmt;

/// Grafana's backend plugin protocol, protobuf package `pluginv2`.
///
/// Names and field numbers match grafana-plugin-sdk-go's `proto/backend.proto`.
#[allow(missing_docs, unreachable_pub, clippy::all, rustdoc::invalid_html_tags)]
#[path = "generated/pluginv2.rs"]
pub mod pluginv2;

/// The hashicorp/go-plugin host services, protobuf package `plugin`.
#[allow(missing_docs, unreachable_pub, clippy::all)]
#[path = "generated/plugin.rs"]
pub mod go_plugin;

mod scatter;

pub use scatter::ScatteredMessage;

/// Prints a secret map as its keys, each with a redacted value.
struct RedactedSecrets<'a>(&'a HashMap<String, String>);

impl fmt::Debug for RedactedSecrets<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut keys: Vec<&str> = self.0.keys().map(String::as_str).collect();
        keys.sort_unstable();
        f.debug_map()
            .entries(keys.into_iter().map(|key| (key, "[redacted]")))
            .finish()
    }
}

impl fmt::Debug for pluginv2::DataSourceInstanceSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataSourceInstanceSettings")
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("name", &self.name)
            .field("url", &self.url)
            .field("user", &self.user)
            .field("database", &self.database)
            .field("basic_auth_enabled", &self.basic_auth_enabled)
            .field("basic_auth_user", &self.basic_auth_user)
            .field("json_data", &self.json_data)
            .field(
                "decrypted_secure_json_data",
                &RedactedSecrets(&self.decrypted_secure_json_data),
            )
            .field("last_updated_ms", &self.last_updated_ms)
            .field("api_version", &self.api_version)
            .finish()
    }
}

impl fmt::Debug for pluginv2::AppInstanceSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppInstanceSettings")
            .field("json_data", &self.json_data)
            .field(
                "decrypted_secure_json_data",
                &RedactedSecrets(&self.decrypted_secure_json_data),
            )
            .field("last_updated_ms", &self.last_updated_ms)
            .field("api_version", &self.api_version)
            .finish()
    }
}
