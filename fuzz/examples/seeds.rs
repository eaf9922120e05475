//! Writes the seed corpora: real requests, as Grafana sends them, for each
//! converter target and for `grpc_request`. Run from `fuzz/` with
//! `cargo run --example seeds`; the files are `corpus/<target>/seed-*`.

use std::fs;
use std::path::Path;

use plugin_fuzz::grpc::{Input, PATHS, framed};
use plugin_proto::pluginv2;
use prost::Message;

fn main() -> std::io::Result<()> {
    let requests: Vec<(&str, &str, Vec<u8>)> = vec![
        (
            "convert_query_data",
            "/pluginv2.Data/QueryData",
            query_data().encode_to_vec(),
        ),
        (
            "convert_query_chunked_data",
            "/pluginv2.Data/QueryChunkedData",
            query_chunked_data().encode_to_vec(),
        ),
        (
            "convert_check_health",
            "/pluginv2.Diagnostics/CheckHealth",
            check_health().encode_to_vec(),
        ),
        (
            "convert_call_resource",
            "/pluginv2.Resource/CallResource",
            call_resource().encode_to_vec(),
        ),
        (
            "convert_collect_metrics",
            "/pluginv2.Diagnostics/CollectMetrics",
            pluginv2::CollectMetricsRequest {
                plugin_context: Some(context()),
            }
            .encode_to_vec(),
        ),
        (
            "convert_subscribe_stream",
            "/pluginv2.Stream/SubscribeStream",
            pluginv2::SubscribeStreamRequest {
                plugin_context: Some(context()),
                path: "stream/metrics".into(),
                data: br#"{"interval":"1s"}"#.as_slice().into(),
                headers: Default::default(),
            }
            .encode_to_vec(),
        ),
        (
            "convert_run_stream",
            "/pluginv2.Stream/RunStream",
            pluginv2::RunStreamRequest {
                plugin_context: Some(context()),
                path: "stream/metrics".into(),
                data: br#"{"interval":"1s"}"#.as_slice().into(),
                headers: [("X-Grafana-Org-Id".to_owned(), "1".to_owned())].into(),
            }
            .encode_to_vec(),
        ),
        (
            "convert_publish_stream",
            "/pluginv2.Stream/PublishStream",
            pluginv2::PublishStreamRequest {
                plugin_context: Some(context()),
                path: "stream/chat".into(),
                data: br#"{"message":"hello"}"#.as_slice().into(),
                headers: Default::default(),
            }
            .encode_to_vec(),
        ),
        (
            "convert_admission",
            "/pluginv2.AdmissionControl/ValidateAdmission",
            admission().encode_to_vec(),
        ),
        (
            "convert_conversion",
            "/pluginv2.ResourceConversion/ConvertObjects",
            conversion().encode_to_vec(),
        ),
    ];
    for (target, path, message) in &requests {
        write(target, "real", message)?;
        let index = PATHS.iter().position(|p| p == path).expect("a known path");
        let headers = [
            ("grpc-timeout", "5S"),
            ("tenantid", "tenant-1"),
            ("x-grafana-org-id", "1"),
        ];
        let name = path.rsplit('/').next().unwrap_or_default();
        write(
            "grpc_request",
            name,
            &Input::encode(index, &headers, &framed(message)),
        )?;
    }
    let health = tonic_health_check();
    let index = PATHS.len() - 1;
    write(
        "grpc_request",
        "HealthCheck",
        &Input::encode(index, &[], &framed(&health)),
    )?;
    write("grpc_request", "Compressed", &{
        let mut body = framed(&requests[0].2);
        body[0] = 1;
        Input::encode(0, &[("grpc-encoding", "gzip")], &body)
    })?;
    Ok(())
}

fn write(target: &str, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir)?;
    fs::write(dir.join(format!("seed-{name}")), bytes)
}

/// `grpc.health.v1.HealthCheckRequest { service: "plugin" }`, by hand: field
/// 1, length-delimited.
fn tonic_health_check() -> Vec<u8> {
    let mut message = vec![0x0a, 6];
    message.extend_from_slice(b"plugin");
    message
}

fn context() -> pluginv2::PluginContext {
    pluginv2::PluginContext {
        org_id: 1,
        plugin_id: "acme-test-datasource".into(),
        plugin_version: "1.2.3".into(),
        user: Some(pluginv2::User {
            login: "admin".into(),
            name: "Admin".into(),
            email: "admin@example.com".into(),
            role: "Admin".into(),
        }),
        app_instance_settings: None,
        data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
            id: 7,
            uid: "P1A2B3".into(),
            name: "Test".into(),
            url: "http://localhost:9090".into(),
            user: "reader".into(),
            database: "db".into(),
            basic_auth_enabled: true,
            basic_auth_user: "basic".into(),
            json_data: br#"{"timeout":30,"tlsSkipVerify":false,"nested":{"a":[1,2,{"b":null}]}}"#
                .as_slice()
                .into(),
            decrypted_secure_json_data: [("password".to_owned(), "hunter2".to_owned())].into(),
            last_updated_ms: 1_700_000_000_000,
            api_version: "v1".into(),
        }),
        grafana_config: [
            ("GF_APP_URL", "http://localhost:3000/"),
            ("GF_CONCURRENT_QUERY_COUNT", "10"),
            ("GF_INSTANCE_FEATURE_TOGGLES_ENABLE", "a,b"),
            ("GF_SQL_ROW_LIMIT", "100000"),
            ("GF_SECURE_SOCKS_DATASOURCE_PROXY_SERVER_ENABLED", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        user_agent: "Grafana/10.4.0 (linux; amd64)".into(),
        api_version: "v0alpha1".into(),
        namespace: "default".into(),
    }
}

fn queries() -> Vec<pluginv2::DataQuery> {
    vec![
        pluginv2::DataQuery {
            ref_id: "A".into(),
            max_data_points: 1000,
            interval_ms: 15_000,
            time_range: Some(pluginv2::TimeRange {
                from_epoch_ms: 1_700_000_000_000,
                to_epoch_ms: 1_700_003_600_000,
            }),
            json: br#"{"refId":"A","expr":"up","datasource":{"type":"prometheus","uid":"P1"}}"#
                .as_slice()
                .into(),
            query_type: "range".into(),
        },
        pluginv2::DataQuery {
            ref_id: "B".into(),
            time_range: Some(pluginv2::TimeRange::default()),
            json: b"{}".as_slice().into(),
            ..Default::default()
        },
    ]
}

fn query_data() -> pluginv2::QueryDataRequest {
    pluginv2::QueryDataRequest {
        plugin_context: Some(context()),
        headers: [
            ("http_X-Panel-Id".to_owned(), "12".to_owned()),
            ("Authorization".to_owned(), "Bearer abc".to_owned()),
        ]
        .into(),
        queries: queries(),
        format: pluginv2::DataFrameFormat::Arrow as i32,
    }
}

fn query_chunked_data() -> pluginv2::QueryChunkedDataRequest {
    pluginv2::QueryChunkedDataRequest {
        plugin_context: Some(context()),
        headers: Default::default(),
        queries: queries(),
        format: pluginv2::DataFrameFormat::Json as i32,
    }
}

fn check_health() -> pluginv2::CheckHealthRequest {
    pluginv2::CheckHealthRequest {
        plugin_context: Some(context()),
        headers: [("X-Grafana-User".to_owned(), "admin".to_owned())].into(),
    }
}

fn call_resource() -> pluginv2::CallResourceRequest {
    pluginv2::CallResourceRequest {
        plugin_context: Some(context()),
        path: "api/items".into(),
        method: "POST".into(),
        url: "/api/plugins/acme-test-datasource/resources/api/items?limit=5".into(),
        headers: [
            (
                "Content-Type".to_owned(),
                pluginv2::StringList {
                    values: vec!["application/json".into()],
                },
            ),
            (
                "Accept".to_owned(),
                pluginv2::StringList {
                    values: vec!["a/b".into(), "c/d".into()],
                },
            ),
        ]
        .into(),
        body: br#"{"name":"item"}"#.as_slice().into(),
    }
}

fn admission() -> pluginv2::AdmissionRequest {
    pluginv2::AdmissionRequest {
        plugin_context: Some(context()),
        operation: 1,
        kind: Some(pluginv2::GroupVersionKind {
            group: "example.grafana.app".into(),
            version: "v1".into(),
            kind: "Thing".into(),
        }),
        object_bytes: br#"{"spec":{"x":1}}"#.as_slice().into(),
        old_object_bytes: br#"{"spec":{"x":0}}"#.as_slice().into(),
    }
}

fn conversion() -> pluginv2::ConversionRequest {
    pluginv2::ConversionRequest {
        plugin_context: Some(context()),
        uid: "c-1".into(),
        objects: vec![pluginv2::RawObject {
            raw: br#"{"queries":[{"refId":"A","timeRange":{"from":"2024-01-01T00:00:00Z","to":"2024-01-02T00:00:00Z"},"JSON":{"expr":"up"}}]}"#
                .as_slice()
                .into(),
            content_type: "application/json".into(),
        }],
        target_version: Some(pluginv2::GroupVersion { group: "query.grafana.app".into(), version: "v0alpha1".into() }),
    }
}
