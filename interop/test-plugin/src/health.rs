//! CheckHealth: always OK, with `jsonDetails` describing what the plugin
//! received, so the host can check the request and the environment arrived.
//!
//! Message `interop test plugin is healthy`; `jsonDetails`:
//! `{"pluginId", "orgId", "uid", "name", "user", "headers", "env"}` where
//! `uid`/`name` are the data source's, `user` the user's login (or null),
//! `headers` the request headers and `env` the values of `GF_VERSION`,
//! `GF_EDITION` and `GF_PLUGIN_INTEROP` in the plugin's environment (null
//! when unset).

use plugin_backend::{CheckHealthHandler, CheckHealthRequest, CheckHealthResult, Error};
use serde_json::json;

/// The environment variables reported in `jsonDetails.env`.
const REPORTED_ENV: [&str; 3] = ["GF_VERSION", "GF_EDITION", "GF_PLUGIN_INTEROP"];

/// The health check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Health;

impl CheckHealthHandler for Health {
    async fn check_health(&self, request: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        let context = &request.plugin_context;
        let settings = context.data_source_instance_settings.as_deref();
        let env: serde_json::Map<String, serde_json::Value> = REPORTED_ENV
            .iter()
            .map(|name| ((*name).to_owned(), json!(std::env::var(name).ok())))
            .collect();
        let details = json!({
            "pluginId": context.plugin_id,
            "orgId": context.org_id,
            "uid": settings.map(|settings| settings.uid.as_str()),
            "name": settings.map(|settings| settings.name.as_str()),
            "user": context.user.as_ref().map(|user| user.login.as_str()),
            "headers": request.headers,
            "env": env,
        });
        CheckHealthResult::ok("interop test plugin is healthy").with_json_details(&details)
    }
}
