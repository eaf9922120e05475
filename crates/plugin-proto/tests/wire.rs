//! Wire-format checks: messages encode to the exact bytes their field numbers
//! and wire types imply, and decode back equal.
//!
//! The expected bytes are worked out by hand from the protocol, one field at a
//! time (tag = field number << 3 | wire type; 0 = varint, 2 = length-delimited),
//! so a renumbered field or a changed type fails here even if both ends of a
//! test were regenerated together.

use std::collections::HashMap;

use bytes::Bytes;
use plugin_proto::pluginv2::{
    CallResourceRequest, DataFrameFormat, DataQuery, DataResponse, PluginContext, QueryDataRequest,
    StringList, TimeRange, User,
};
use prost::Message;

/// Encodes `message`, compares with `expected`, and decodes it back.
fn assert_wire<M: Message + Default + PartialEq + std::fmt::Debug>(message: &M, expected: &[u8]) {
    let encoded = message.encode_to_vec();
    assert_eq!(
        encoded, expected,
        "encoded bytes differ\n got: {encoded:02x?}\nwant: {expected:02x?}"
    );
    let decoded = M::decode(expected).expect("expected bytes decode");
    assert_eq!(&decoded, message);
}

#[test]
fn data_query() {
    let query = DataQuery {
        ref_id: "A".into(),
        max_data_points: 100,
        interval_ms: 1000,
        // A negative int64 is a ten-byte varint: the protocol uses int64, not
        // sint64, for epoch milliseconds.
        time_range: Some(TimeRange {
            from_epoch_ms: -1,
            to_epoch_ms: 2,
        }),
        json: Bytes::from_static(b"{}"),
        query_type: "t".into(),
    };
    #[rustfmt::skip]
    let expected = [
        0x0a, 0x01, b'A',                       // 1 refId: string "A"
        0x10, 0x64,                             // 2 maxDataPoints: varint 100
        0x18, 0xe8, 0x07,                       // 3 intervalMS: varint 1000
        0x22, 0x0d,                             // 4 timeRange: 13 bytes
            0x08, 0xff, 0xff, 0xff, 0xff, 0xff, //   1 fromEpochMS: -1
            0xff, 0xff, 0xff, 0xff, 0x01,
            0x10, 0x02,                         //   2 toEpochMS: 2
        0x2a, 0x02, b'{', b'}',                 // 5 json: bytes "{}"
        0x32, 0x01, b't',                       // 6 queryType: string "t"
    ];
    assert_wire(&query, &expected);
}

#[test]
fn query_data_request_with_every_field() {
    let request = QueryDataRequest {
        plugin_context: Some(PluginContext {
            org_id: 1,
            plugin_id: "p".into(),
            user: Some(User {
                login: "u".into(),
                ..User::default()
            }),
            namespace: "ns".into(),
            ..PluginContext::default()
        }),
        headers: HashMap::from([("k".into(), "v".into())]),
        queries: vec![DataQuery {
            ref_id: "A".into(),
            ..DataQuery::default()
        }],
        format: DataFrameFormat::Json.into(),
    };
    #[rustfmt::skip]
    let expected = [
        0x0a, 0x0e,                             // 1 pluginContext: 14 bytes
            0x08, 0x01,                         //   1 orgId: 1
            0x12, 0x01, b'p',                   //   2 pluginId: "p"
            0x1a, 0x03,                         //   3 user: 3 bytes
                0x0a, 0x01, b'u',               //     1 login: "u"
            0x52, 0x02, b'n', b's',             //   10 namespace: "ns"
        0x12, 0x06,                             // 2 headers: map entry, 6 bytes
            0x0a, 0x01, b'k',                   //   1 key: "k"
            0x12, 0x01, b'v',                   //   2 value: "v"
        0x1a, 0x03,                             // 3 queries: one DataQuery, 3 bytes
            0x0a, 0x01, b'A',                   //   1 refId: "A"
        0x20, 0x01,                             // 4 format: JSON (1)
    ];
    assert_wire(&request, &expected);
}

#[test]
fn data_response_with_format_and_error_source() {
    let response = DataResponse {
        frames: vec![Bytes::from_static(b"ab"), Bytes::from_static(b"c")],
        error: "e".into(),
        json_meta: Bytes::from_static(b"{}"),
        status: 400,
        error_source: "downstream".into(),
        format: DataFrameFormat::Json.into(),
    };
    #[rustfmt::skip]
    let expected = [
        0x0a, 0x02, b'a', b'b',                 // 1 frames[0]: bytes "ab"
        0x0a, 0x01, b'c',                       // 1 frames[1]: bytes "c"
        0x12, 0x01, b'e',                       // 2 error: "e"
        0x1a, 0x02, b'{', b'}',                 // 3 jsonMeta: "{}"
        0x20, 0x90, 0x03,                       // 4 status: varint 400
        0x2a, 0x0a,                             // 5 errorSource: "downstream"
            b'd', b'o', b'w', b'n', b's', b't', b'r', b'e', b'a', b'm',
        0x30, 0x01,                             // 6 format: JSON (1)
    ];
    assert_wire(&response, &expected);
}

#[test]
fn arrow_is_the_default_format_and_costs_no_bytes() {
    let response = DataResponse {
        status: 200,
        format: DataFrameFormat::Arrow.into(),
        ..DataResponse::default()
    };
    assert_wire(&response, &[0x20, 0xc8, 0x01]); // 4 status: 200; format omitted
    assert_eq!(
        DataResponse::decode(&[][..]).expect("empty").format(),
        DataFrameFormat::Arrow
    );
}

#[test]
fn call_resource_request_with_multi_value_headers() {
    let request = CallResourceRequest {
        plugin_context: None,
        path: "p".into(),
        method: "GET".into(),
        url: "/p?x=1".into(),
        headers: HashMap::from([(
            "Accept".into(),
            StringList {
                values: vec!["a".into(), "b".into()],
            },
        )]),
        body: Bytes::from_static(b"hi"),
    };
    #[rustfmt::skip]
    let expected = [
        0x12, 0x01, b'p',                       // 2 path: "p"
        0x1a, 0x03, b'G', b'E', b'T',           // 3 method: "GET"
        0x22, 0x06, b'/', b'p', b'?', b'x', b'=', b'1', // 4 url
        0x2a, 0x10,                             // 5 headers: map entry, 16 bytes
            0x0a, 0x06, b'A', b'c', b'c', b'e', b'p', b't', // 1 key
            0x12, 0x06,                         //   2 value: StringList, 6 bytes
                0x0a, 0x01, b'a',               //     1 values[0]: "a"
                0x0a, 0x01, b'b',               //     1 values[1]: "b"
        0x32, 0x02, b'h', b'i',                 // 6 body: "hi"
    ];
    assert_wire(&request, &expected);
}

#[test]
fn decoding_keeps_every_header_value() {
    let request = CallResourceRequest {
        headers: HashMap::from([
            (
                "Set-Cookie".into(),
                StringList {
                    values: vec!["a=1".into(), "b=2".into()],
                },
            ),
            (
                "Accept".into(),
                StringList {
                    values: vec!["*/*".into()],
                },
            ),
        ]),
        ..CallResourceRequest::default()
    };
    let decoded = CallResourceRequest::decode(request.encode_to_vec().as_slice()).expect("decode");
    assert_eq!(decoded.headers["Set-Cookie"].values, ["a=1", "b=2"]);
    assert_eq!(decoded.headers["Accept"].values, ["*/*"]);
}

#[test]
fn bytes_fields_decode_without_copying_from_bytes_input() {
    // Decoding from a `Bytes` buffer slices it: the body points into the
    // original allocation instead of a fresh copy.
    let request = CallResourceRequest {
        body: Bytes::from(vec![7u8; 1024]),
        ..CallResourceRequest::default()
    };
    let wire = Bytes::from(request.encode_to_vec());
    let decoded = CallResourceRequest::decode(wire.clone()).expect("decode");
    let body = decoded.body.as_ptr() as usize;
    let start = wire.as_ptr() as usize;
    assert!(body >= start && body + decoded.body.len() <= start + wire.len());
}

#[test]
fn truncated_input_is_an_error() {
    let query = DataQuery {
        ref_id: "A".into(),
        json: Bytes::from_static(b"{\"x\":1}"),
        ..DataQuery::default()
    };
    let encoded = query.encode_to_vec();
    for cut in 1..encoded.len() {
        // Some prefixes happen to be complete messages; none may panic, and
        // cutting inside the json field must fail.
        let result = DataQuery::decode(&encoded[..cut]);
        if cut > 3 && cut < encoded.len() {
            assert!(result.is_err(), "prefix of {cut} bytes decoded");
        }
    }
}

#[test]
fn service_names_are_the_ones_grafana_dials() {
    use plugin_proto::{go_plugin, pluginv2};

    let names = [
        pluginv2::resource_server::SERVICE_NAME,
        pluginv2::data_server::SERVICE_NAME,
        pluginv2::diagnostics_server::SERVICE_NAME,
        pluginv2::stream_server::SERVICE_NAME,
        pluginv2::admission_control_server::SERVICE_NAME,
        pluginv2::resource_conversion_server::SERVICE_NAME,
        go_plugin::grpc_controller_server::SERVICE_NAME,
        go_plugin::grpc_stdio_server::SERVICE_NAME,
        go_plugin::grpc_broker_server::SERVICE_NAME,
    ];
    assert_eq!(
        names,
        [
            "pluginv2.Resource",
            "pluginv2.Data",
            "pluginv2.Diagnostics",
            "pluginv2.Stream",
            "pluginv2.AdmissionControl",
            "pluginv2.ResourceConversion",
            "plugin.GRPCController",
            "plugin.GRPCStdio",
            "plugin.GRPCBroker",
        ]
    );
}
