//! Hostile wire input to the proto → SDK converters and to what a handler
//! reads from a converted request: every case is a clear `Err`, never a
//! panic or a stack overflow. (Found by and complementing the fuzz targets
//! in `fuzz/`, docs/fuzzing.md.)

use std::collections::HashMap;

use plugin_backend::{
    AdmissionRequest, CallResourceRequest, CallResourceResponse, CheckHealthRequest,
    ForwardHttpHeaders, PluginContext, QueryDataRequest,
};
use plugin_proto::pluginv2;
use prost::Message;

/// Nesting far past any parser's recursion limit: a recursive descent
/// without a limit overflows the test thread's stack long before this.
const DEPTH: usize = 100_000;

fn nested_arrays(depth: usize) -> Vec<u8> {
    let mut json = vec![b'['; depth];
    json.resize(2 * depth, b']');
    json
}

fn nested_objects(depth: usize) -> Vec<u8> {
    let mut json = br#"{"a":"#.repeat(depth);
    json.extend_from_slice(b"null");
    json.resize(json.len() + depth, b'}');
    json
}

fn wire_context() -> pluginv2::PluginContext {
    pluginv2::PluginContext {
        plugin_id: "acme-test-datasource".into(),
        ..Default::default()
    }
}

fn wire_query(json: Vec<u8>) -> pluginv2::DataQuery {
    pluginv2::DataQuery {
        ref_id: "A".into(),
        time_range: Some(pluginv2::TimeRange::default()),
        json: json.into(),
        ..Default::default()
    }
}

#[test]
fn deeply_nested_json_data_is_a_json_error() {
    for json in [nested_arrays(DEPTH), nested_objects(DEPTH)] {
        let message = pluginv2::PluginContext {
            data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
                json_data: json.clone().into(),
                ..Default::default()
            }),
            app_instance_settings: Some(pluginv2::AppInstanceSettings {
                json_data: json.into(),
                ..Default::default()
            }),
            ..wire_context()
        };
        // The converter keeps the bytes as they are; parsing is the
        // handler's call, and that is where the limit must hold.
        let context = PluginContext::try_from(message).expect("the context converts");
        let settings = context.data_source_instance_settings.as_ref().unwrap();
        let error = settings
            .parse_json_data::<serde_json::Value>()
            .expect_err("100k levels of nesting");
        let text = error.to_string();
        assert!(text.contains("data source JSON data"), "{text}");
        assert!(text.contains("recursion limit"), "{text}");
        let app = context.app_instance_settings.as_ref().unwrap();
        let error = app.parse_json_data::<HashMap<String, serde_json::Value>>();
        assert!(error.is_err(), "app JSON data of 100k levels parsed");
    }
}

#[test]
fn deeply_nested_query_json_is_a_json_error() {
    let message = pluginv2::QueryDataRequest {
        plugin_context: Some(wire_context()),
        queries: vec![
            wire_query(nested_arrays(DEPTH)),
            wire_query(nested_objects(DEPTH)),
        ],
        ..Default::default()
    };
    let request = QueryDataRequest::try_from(message).expect("the request converts");
    for query in &request.queries {
        let error = query
            .parse_json::<serde_json::Value>()
            .expect_err("100k levels of nesting");
        let text = error.to_string();
        assert!(text.contains("query JSON"), "{text}");
        assert!(text.contains("recursion limit"), "{text}");
    }
}

/// A valid message with `marker` in one string field, that field's bytes
/// then replaced by bytes that are not UTF-8.
fn with_bad_utf8(message: &impl Message, marker: &[u8]) -> Vec<u8> {
    let mut bytes = message.encode_to_vec();
    let at = bytes
        .windows(marker.len())
        .position(|window| window == marker)
        .expect("the marker is in the encoding");
    bytes[at..at + marker.len()].fill(0xff);
    bytes
}

#[test]
fn strings_that_are_not_utf8_are_decode_errors() {
    let marker = b"MARKER-MARKER";
    let marker_text = std::str::from_utf8(marker).unwrap();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "plugin id",
            with_bad_utf8(
                &pluginv2::CheckHealthRequest {
                    plugin_context: Some(pluginv2::PluginContext {
                        plugin_id: marker_text.into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
                marker,
            ),
        ),
        (
            "header key",
            with_bad_utf8(
                &pluginv2::CheckHealthRequest {
                    plugin_context: Some(wire_context()),
                    headers: [(marker_text.to_owned(), "v".to_owned())].into(),
                },
                marker,
            ),
        ),
        (
            "secure JSON value",
            with_bad_utf8(
                &pluginv2::CheckHealthRequest {
                    plugin_context: Some(pluginv2::PluginContext {
                        data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
                            decrypted_secure_json_data: [(
                                "password".to_owned(),
                                marker_text.to_owned(),
                            )]
                            .into(),
                            ..Default::default()
                        }),
                        ..wire_context()
                    }),
                    ..Default::default()
                },
                marker,
            ),
        ),
    ];
    for (what, bytes) in cases {
        let error = pluginv2::CheckHealthRequest::decode(bytes.as_slice())
            .expect_err(what)
            .to_string();
        assert!(error.contains("UTF-8"), "{what}: {error}");
    }
    // A bad header value of a resource call (a `StringList` entry) too.
    let resource = pluginv2::CallResourceRequest {
        plugin_context: Some(wire_context()),
        method: "GET".into(),
        headers: [(
            "accept".to_owned(),
            pluginv2::StringList {
                values: vec![marker_text.into()],
            },
        )]
        .into(),
        ..Default::default()
    };
    let bytes = with_bad_utf8(&resource, marker);
    assert!(pluginv2::CallResourceRequest::decode(bytes.as_slice()).is_err());
}

/// `http::HeaderMap` holds at most 32 768 entries (`MAX_SIZE`); past that,
/// `insert` and `append` panic, and `with_capacity` panics from 24 577 on
/// (it reserves 4/3 of the request, rounded up to a power of two).
const HEADER_MAP_MAX: usize = 32 * 1024;

fn wire_headers(count: usize) -> HashMap<String, pluginv2::StringList> {
    (0..count)
        .map(|i| {
            let values = vec![format!("value-{i}")];
            (format!("x-header-{i}"), pluginv2::StringList { values })
        })
        .collect()
}

fn resource_request(
    headers: HashMap<String, pluginv2::StringList>,
) -> pluginv2::CallResourceRequest {
    pluginv2::CallResourceRequest {
        plugin_context: Some(wire_context()),
        method: "POST".into(),
        headers,
        ..Default::default()
    }
}

#[test]
fn huge_header_maps_convert_and_bad_names_are_errors() {
    const HEADERS: usize = 20_000;
    let mut headers = wire_headers(HEADERS);
    let request = CallResourceRequest::try_from(resource_request(headers.clone()))
        .expect("valid headers convert");
    assert_eq!(request.headers.len(), HEADERS);
    assert_eq!(request.headers["x-header-19999"], "value-19999");

    headers.insert(
        "bad header\r\nname".to_owned(),
        pluginv2::StringList {
            values: vec!["x".into()],
        },
    );
    let error = CallResourceRequest::try_from(resource_request(headers)).expect_err("a bad name");
    assert!(
        error.to_string().contains("not a valid header name"),
        "{error}"
    );

    // Forwarded headers: every third entry valid HTTP, the rest left out.
    let forwarded: HashMap<String, String> = (0..3 * HEADERS)
        .map(|i| match i % 3 {
            0 => (format!("http_X-Ok-{i}"), "v".to_owned()),
            1 => (format!("http_bad name {i}"), "v".to_owned()),
            _ => (format!("http_X-Bad-Value-{i}"), "\r\n".to_owned()),
        })
        .collect();
    let message = pluginv2::QueryDataRequest {
        plugin_context: Some(wire_context()),
        headers: forwarded,
        ..Default::default()
    };
    let request = QueryDataRequest::try_from(message).expect("headers are not validated");
    assert_eq!(request.http_headers().len(), HEADERS);
}

/// Regression (found by this file): a resource call with more headers than
/// a `HeaderMap` holds panics in `convert/resource.rs` `headers_from_proto`
/// (`HeaderMap::with_capacity`, from 24 577 headers on) instead of being an
/// error. 32 769 short headers are ~0.5 MB, well inside the 16 MiB message limit; the same
/// function converts the host side's `CallResourceResponse`.
#[test]
fn more_resource_headers_than_a_header_map_holds_are_an_error() {
    let request = std::panic::catch_unwind(|| {
        CallResourceRequest::try_from(resource_request(wire_headers(HEADER_MAP_MAX + 1)))
    })
    .expect("converting panicked instead of returning an error");
    let error = request.expect_err("too many headers");
    assert!(error.to_string().contains("header"), "{error}");
    let response = pluginv2::CallResourceResponse {
        code: 200,
        headers: wire_headers(HEADER_MAP_MAX + 1),
        ..Default::default()
    };
    let response = std::panic::catch_unwind(|| CallResourceResponse::try_from(response))
        .expect("converting panicked instead of returning an error");
    assert!(response.is_err());
}

/// Regression (found by this file): `ForwardHttpHeaders::http_headers`
/// (`headers.rs`) panics in `HeaderMap::insert` when a request forwards
/// more than 32 768 valid headers; it cannot fail, so it should stop at the
/// map's capacity.
#[test]
fn more_forwarded_headers_than_a_header_map_holds_are_not_a_panic() {
    let forwarded: HashMap<String, String> = (0..HEADER_MAP_MAX + 1)
        .map(|i| (format!("http_X-Ok-{i}"), "v".to_owned()))
        .collect();
    let message = pluginv2::QueryDataRequest {
        plugin_context: Some(wire_context()),
        headers: forwarded,
        ..Default::default()
    };
    let request = QueryDataRequest::try_from(message).expect("headers are not validated");
    let headers =
        std::panic::catch_unwind(|| request.http_headers()).expect("http_headers panicked");
    assert!(headers.len() <= HEADER_MAP_MAX);
}

#[test]
fn out_of_range_and_unknown_values_are_errors() {
    let context = || Some(wire_context());
    let query = |time_range, interval_ms| pluginv2::QueryDataRequest {
        plugin_context: context(),
        queries: vec![pluginv2::DataQuery {
            time_range,
            interval_ms,
            ..Default::default()
        }],
        ..Default::default()
    };
    let bad_queries = [
        query(
            Some(pluginv2::TimeRange {
                from_epoch_ms: i64::MIN,
                to_epoch_ms: i64::MAX,
            }),
            0,
        ),
        query(Some(pluginv2::TimeRange::default()), -1),
        query(None, 0),
        pluginv2::QueryDataRequest {
            plugin_context: context(),
            format: 7,
            ..Default::default()
        },
        pluginv2::QueryDataRequest::default(),
    ];
    for message in bad_queries {
        let debug = format!("{message:?}");
        assert!(QueryDataRequest::try_from(message).is_err(), "{debug}");
    }

    // (Unknown roles are not errors: they pass through as `Role::Other`.)
    let bad_contexts = [
        pluginv2::PluginContext {
            data_source_instance_settings: Some(pluginv2::DataSourceInstanceSettings {
                last_updated_ms: i64::MAX,
                ..Default::default()
            }),
            ..wire_context()
        },
        pluginv2::PluginContext {
            app_instance_settings: Some(pluginv2::AppInstanceSettings {
                last_updated_ms: i64::MIN,
                ..Default::default()
            }),
            ..wire_context()
        },
    ];
    for message in bad_contexts {
        let debug = format!("{message:?}");
        let request = pluginv2::CheckHealthRequest {
            plugin_context: Some(message),
            ..Default::default()
        };
        assert!(CheckHealthRequest::try_from(request).is_err(), "{debug}");
    }

    let admission = pluginv2::AdmissionRequest {
        plugin_context: context(),
        operation: 9,
        kind: Some(pluginv2::GroupVersionKind::default()),
        ..Default::default()
    };
    assert!(AdmissionRequest::try_from(admission).is_err());
    let method = pluginv2::CallResourceRequest {
        plugin_context: context(),
        method: "GET /evil".into(),
        ..Default::default()
    };
    assert!(CallResourceRequest::try_from(method).is_err());
}

#[test]
fn a_user_agent_that_does_not_parse_is_none() {
    for agent in [
        "",
        "Grafana/",
        "Grafana/1 (",
        "💥/1.0 (linux; amd64)",
        "Grafana/1.0 (;;;;)",
    ] {
        let message = pluginv2::PluginContext {
            user_agent: agent.into(),
            ..wire_context()
        };
        let context = PluginContext::try_from(message).expect("a user agent never fails");
        if let Some(parsed) = &context.user_agent {
            // What parses must print as something that parses the same.
            assert_eq!(
                parsed.to_string().parse().ok().as_ref(),
                Some(parsed),
                "{agent:?}"
            );
        }
    }
}
