//! The property every proto → SDK converter must hold.

use std::fmt::Debug;

use plugin_backend::{DataQuery, PluginContext};
use prost::Message;

/// Decodes `data` as wire message `M` and converts it to SDK request `S`.
///
/// A message prost rejects, or one the converter rejects, is fine: that is
/// an error for the caller. What converts must survive the host side's
/// conversion back (`S` → `M`, what plugin-testkit sends) and convert to
/// the same request again; the SDK value is also handed to `exercise`, the
/// accessors a handler would call on it.
pub fn check<M, S>(data: &[u8], exercise: impl Fn(&S))
where
    M: Message + Default + From<S>,
    S: TryFrom<M> + Clone + PartialEq + Debug,
    S::Error: Debug,
{
    let Ok(message) = M::decode(data) else {
        return;
    };
    let Ok(request) = S::try_from(message) else {
        return;
    };
    exercise(&request);
    let again = M::from(request.clone());
    // The host side's message must itself survive the wire.
    let again = M::decode(again.encode_to_vec().as_slice()).expect("an encoded message decodes");
    let again = S::try_from(again).expect("a converted request converts back");
    assert_eq!(again, request, "SDK → wire → SDK changed the request");
}

/// What a handler reads from a plugin context: typed JSON data, the Grafana
/// config's typed getters, the user agent.
pub fn exercise_context(context: &PluginContext) {
    if let Some(settings) = &context.data_source_instance_settings {
        let _ = settings.parse_json_data::<serde_json::Value>();
        let _ = format!("{settings:?}");
    }
    if let Some(settings) = &context.app_instance_settings {
        let _ = settings.parse_json_data::<serde_json::Value>();
        let _ = format!("{settings:?}");
    }
    let config = &context.grafana_config;
    let _ = config.app_url();
    let _ = config.feature_toggles().iter().count();
    let _ = config.concurrent_query_count();
    let _ = config.sql();
    let _ = config.user_facing_default_error();
    let _ = config.response_limit();
    let _ = config.plugin_app_client_secret();
    let _ = config.live_client_queue_max_size();
    let _ = config.secure_socks_proxy();
    let _ = config.proxy_hash();
    let _ = context.data_source_uid();
    if let Some(agent) = &context.user_agent {
        let _ = agent.to_string();
    }
}

/// What a handler reads from a query: its JSON and its time range.
pub fn exercise_queries(queries: &[DataQuery]) {
    for query in queries {
        let _ = query.parse_json::<serde_json::Value>();
        let _ = query.time_range.duration();
    }
}
