//! Every wire message converts to its SDK type and back unchanged, with every
//! field set; malformed messages are errors, not panics.

use std::collections::HashMap;
use std::fmt::Debug;

use bytes::Bytes;
use plugin_backend::{
    AdmissionRequest, AppInstanceSettings, CallResourceRequest, CallResourceResponse,
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
    ConversionRequest, ConversionResponse, DataFrameFormat, DataQuery, DataResponse,
    DataSourceInstanceSettings, Error, ErrorSource, GroupVersion, GroupVersionKind,
    MutationResponse, PluginContext, PublishStreamRequest, PublishStreamResponse,
    QueryChunkedDataRequest, QueryChunkedDataResponse, QueryDataRequest, QueryDataResponse,
    RawObject, Role, RunStreamRequest, Status, StatusResult, StreamPacket, SubscribeStreamRequest,
    SubscribeStreamResponse, TimeRange, User, ValidationResponse,
};
use plugin_data::{Field, Frame};
use plugin_proto::pluginv2;

/// Converts `message` to the SDK type `T` and back, asserting nothing changed.
fn assert_round_trip<T, P>(message: P)
where
    P: Clone + PartialEq + Debug + From<T>,
    T: TryFrom<P>,
    T::Error: Debug,
{
    let converted = T::try_from(message.clone()).expect("the message converts");
    assert_eq!(P::from(converted), message);
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|value| (*value).to_owned()).collect()
}

fn string_map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
        .collect()
}

fn full_plugin_context() -> pluginv2::PluginContext {
    pluginv2::PluginContext {
        org_id: 7,
        plugin_id: "acme-datasource".into(),
        user: Some(full_user()),
        app_instance_settings: Some(full_app_settings()),
        data_source_instance_settings: Some(full_data_source_settings()),
        grafana_config: string_map(&[
            ("GF_APP_URL", "https://grafana.example"),
            ("GF_CONCURRENT_QUERY_COUNT", "4"),
        ]),
        plugin_version: "1.2.3".into(),
        user_agent: "Grafana/11.3.0 (linux; amd64)".into(),
        api_version: "v0alpha1".into(),
        namespace: "stacks-12".into(),
    }
}

fn full_user() -> pluginv2::User {
    pluginv2::User {
        login: "jdoe".into(),
        name: "Jane Doe".into(),
        email: "jane@example.com".into(),
        role: "Editor".into(),
    }
}

fn full_app_settings() -> pluginv2::AppInstanceSettings {
    pluginv2::AppInstanceSettings {
        json_data: Bytes::from_static(br#"{"feature":true}"#),
        decrypted_secure_json_data: string_map(&[("appKey", "app-secret")]),
        last_updated_ms: 1_700_000_000_123,
        api_version: "v1".into(),
    }
}

fn full_data_source_settings() -> pluginv2::DataSourceInstanceSettings {
    pluginv2::DataSourceInstanceSettings {
        id: 42,
        name: "Acme prod".into(),
        url: "https://acme.example".into(),
        user: "reader".into(),
        database: "metrics".into(),
        basic_auth_enabled: true,
        basic_auth_user: "basic".into(),
        json_data: Bytes::from_static(br#"{"timeout":30}"#),
        decrypted_secure_json_data: string_map(&[("password", "ds-secret"), ("token", "ds-token")]),
        last_updated_ms: -86_400_000,
        uid: "acme-uid".into(),
        api_version: "v2".into(),
    }
}

fn full_query(ref_id: &str) -> pluginv2::DataQuery {
    pluginv2::DataQuery {
        ref_id: ref_id.into(),
        max_data_points: 1_000,
        interval_ms: 15_000,
        time_range: Some(pluginv2::TimeRange {
            from_epoch_ms: 1_700_000_000_000,
            to_epoch_ms: 1_700_003_600_000,
        }),
        json: Bytes::from_static(br#"{"expr":"up"}"#),
        query_type: "metrics".into(),
    }
}

fn full_headers() -> HashMap<String, String> {
    string_map(&[
        ("http_X-Dashboard-Uid", "dash"),
        ("Authorization", "Bearer t"),
    ])
}

#[test]
fn context_messages_round_trip() {
    assert_round_trip::<User, _>(full_user());
    assert_round_trip::<AppInstanceSettings, _>(full_app_settings());
    assert_round_trip::<PluginContext, _>(full_plugin_context());
    let message = full_data_source_settings();
    let settings =
        DataSourceInstanceSettings::try_from_proto(message.clone(), "acme-datasource").unwrap();
    assert_eq!(settings.plugin_id, "acme-datasource");
    assert_eq!(
        pluginv2::DataSourceInstanceSettings::from(settings),
        message
    );
}

#[test]
fn plugin_context_fields_are_typed() {
    let context = PluginContext::try_from(full_plugin_context()).unwrap();
    assert_eq!(context.user.as_ref().unwrap().role, Some(Role::Editor));
    assert_eq!(
        context.user_agent.as_ref().unwrap().grafana_version(),
        "11.3.0"
    );
    assert_eq!(context.grafana_config.concurrent_query_count().unwrap(), 4);
    let settings = context.data_source_instance_settings.as_deref().unwrap();
    assert_eq!(settings.updated.timestamp_millis(), -86_400_000);
    assert_eq!(
        settings.decrypted_secure_json_data.get("token"),
        Some("ds-token")
    );
    assert_eq!(context.data_source_uid(), Some("acme-uid"));
}

#[test]
fn data_messages_round_trip() {
    assert_round_trip::<TimeRange, _>(pluginv2::TimeRange {
        from_epoch_ms: -5,
        to_epoch_ms: 5,
    });
    assert_round_trip::<DataQuery, _>(full_query("A"));
    assert_round_trip::<QueryDataRequest, _>(pluginv2::QueryDataRequest {
        plugin_context: Some(full_plugin_context()),
        headers: full_headers(),
        queries: vec![full_query("A"), full_query("B")],
        format: pluginv2::DataFrameFormat::Json as i32,
    });
    assert_round_trip::<QueryChunkedDataRequest, _>(pluginv2::QueryChunkedDataRequest {
        plugin_context: Some(full_plugin_context()),
        headers: full_headers(),
        queries: vec![full_query("A")],
        format: pluginv2::DataFrameFormat::Arrow as i32,
    });
    assert_round_trip::<QueryChunkedDataResponse, _>(pluginv2::QueryChunkedDataResponse {
        ref_id: "A".into(),
        frame_id: "f0".into(),
        frame: Bytes::from_static(b"{}"),
        error: "partial".into(),
        status: 206,
        error_source: "downstream".into(),
        format: pluginv2::DataFrameFormat::Json as i32,
    });
}

fn sample_frame() -> Frame {
    Frame::new("cpu")
        .with_ref_id("A")
        .with_field(Field::new("value", vec![1.5_f64, 2.5]))
        .with_field(Field::new("host", vec![Some("a".to_owned()), None]))
}

#[test]
fn data_responses_round_trip_in_both_formats() {
    for format in [DataFrameFormat::Arrow, DataFrameFormat::Json] {
        let response = DataResponse::from(sample_frame())
            .with_error(Error::downstream("shard 3 timed out"))
            .with_status(Status::GATEWAY_TIMEOUT);
        let mut message = response.into_proto("A", format).unwrap();
        message.json_meta = Bytes::from_static(b"{\"meta\":1}");
        let decoded = DataResponse::try_from(message.clone()).unwrap();
        assert_eq!(decoded.frames, [sample_frame()], "{format:?}");
        assert_eq!(decoded.error_source, Some(ErrorSource::Downstream));
        assert_eq!(
            decoded.into_proto("A", format).unwrap(),
            message,
            "{format:?}"
        );

        let response =
            QueryDataResponse::new().with_response("A", DataResponse::from(sample_frame()));
        let message = response.into_proto(format).unwrap();
        let decoded = QueryDataResponse::try_from(message.clone()).unwrap();
        assert_eq!(decoded.into_proto(format).unwrap(), message);
    }
}

#[test]
fn resource_messages_round_trip() {
    let headers = HashMap::from([
        (
            "Accept".to_owned(),
            pluginv2::StringList {
                values: strings(&["application/json"]),
            },
        ),
        (
            "Set-Cookie".to_owned(),
            pluginv2::StringList {
                values: strings(&["a=1", "b=2"]),
            },
        ),
    ]);
    assert_round_trip::<CallResourceRequest, _>(pluginv2::CallResourceRequest {
        plugin_context: Some(full_plugin_context()),
        path: "namespaces/default".into(),
        method: "POST".into(),
        url: "/namespaces/default?limit=10".into(),
        headers: headers.clone(),
        body: Bytes::from_static(b"{\"q\":1}"),
    });
    assert_round_trip::<CallResourceResponse, _>(pluginv2::CallResourceResponse {
        code: 201,
        headers,
        body: Bytes::from_static(b"created"),
    });
}

#[test]
fn diagnostics_messages_round_trip() {
    assert_round_trip::<CheckHealthRequest, _>(pluginv2::CheckHealthRequest {
        plugin_context: Some(full_plugin_context()),
        headers: full_headers(),
    });
    assert_round_trip::<CheckHealthResult, _>(pluginv2::CheckHealthResponse {
        status: pluginv2::check_health_response::HealthStatus::Error as i32,
        message: "cannot connect".into(),
        json_details: Bytes::from_static(b"{\"host\":\"db\"}"),
    });
    assert_round_trip::<CollectMetricsRequest, _>(pluginv2::CollectMetricsRequest {
        plugin_context: Some(full_plugin_context()),
    });
    let metrics = pluginv2::CollectMetricsResponse {
        metrics: Some(pluginv2::collect_metrics_response::Payload {
            prometheus: Bytes::from_static(b"up 1\n"),
        }),
    };
    assert_eq!(
        pluginv2::CollectMetricsResponse::from(CollectMetricsResult::from(metrics.clone())),
        metrics
    );
}

#[test]
fn stream_messages_round_trip() {
    let data = Bytes::from_static(b"{\"channel\":\"ticks\"}");
    assert_round_trip::<SubscribeStreamRequest, _>(pluginv2::SubscribeStreamRequest {
        plugin_context: Some(full_plugin_context()),
        path: "ticks".into(),
        data: data.clone(),
        headers: full_headers(),
    });
    assert_round_trip::<PublishStreamRequest, _>(pluginv2::PublishStreamRequest {
        plugin_context: Some(full_plugin_context()),
        path: "ticks".into(),
        data: data.clone(),
        headers: full_headers(),
    });
    assert_round_trip::<RunStreamRequest, _>(pluginv2::RunStreamRequest {
        plugin_context: Some(full_plugin_context()),
        path: "ticks".into(),
        data: data.clone(),
        headers: full_headers(),
    });
    assert_round_trip::<SubscribeStreamResponse, _>(pluginv2::SubscribeStreamResponse {
        status: pluginv2::subscribe_stream_response::Status::PermissionDenied as i32,
        data: data.clone(),
    });
    assert_round_trip::<PublishStreamResponse, _>(pluginv2::PublishStreamResponse {
        status: pluginv2::publish_stream_response::Status::NotFound as i32,
        data: data.clone(),
    });
    let packet = pluginv2::StreamPacket { data };
    assert_eq!(
        pluginv2::StreamPacket::from(StreamPacket::from(packet.clone())),
        packet
    );
}

fn full_status_result() -> pluginv2::StatusResult {
    pluginv2::StatusResult {
        status: "Failure".into(),
        message: "no".into(),
        reason: "Invalid".into(),
        code: 422,
    }
}

#[test]
fn admission_and_conversion_messages_round_trip() {
    let kind = pluginv2::GroupVersionKind {
        group: "acme.grafana.app".into(),
        version: "v1".into(),
        kind: "Settings".into(),
    };
    assert_eq!(
        pluginv2::GroupVersionKind::from(GroupVersionKind::from(kind.clone())),
        kind
    );
    assert_round_trip::<AdmissionRequest, _>(pluginv2::AdmissionRequest {
        plugin_context: Some(full_plugin_context()),
        operation: pluginv2::admission_request::Operation::Update as i32,
        kind: Some(kind),
        object_bytes: Bytes::from_static(b"{\"new\":1}"),
        old_object_bytes: Bytes::from_static(b"{\"old\":1}"),
    });
    let validation = pluginv2::ValidationResponse {
        allowed: false,
        result: Some(full_status_result()),
        warnings: strings(&["deprecated field"]),
    };
    assert_eq!(
        pluginv2::ValidationResponse::from(ValidationResponse::from(validation.clone())),
        validation
    );
    let mutation = pluginv2::MutationResponse {
        allowed: true,
        result: Some(full_status_result()),
        warnings: strings(&["defaulted"]),
        object_bytes: Bytes::from_static(b"{\"mutated\":1}"),
    };
    assert_eq!(
        pluginv2::MutationResponse::from(MutationResponse::from(mutation.clone())),
        mutation
    );
    let status = full_status_result();
    assert_eq!(
        pluginv2::StatusResult::from(StatusResult::from(status.clone())),
        status
    );

    let object = pluginv2::RawObject {
        raw: Bytes::from_static(b"{}"),
        content_type: "application/json".into(),
    };
    assert_eq!(
        pluginv2::RawObject::from(RawObject::from(object.clone())),
        object
    );
    let version = pluginv2::GroupVersion {
        group: "acme.grafana.app".into(),
        version: "v2".into(),
    };
    assert_eq!(
        pluginv2::GroupVersion::from(GroupVersion::from(version.clone())),
        version
    );
    assert_round_trip::<ConversionRequest, _>(pluginv2::ConversionRequest {
        plugin_context: Some(full_plugin_context()),
        uid: "conversion-1".into(),
        objects: vec![object.clone()],
        target_version: Some(version),
    });
    let response = pluginv2::ConversionResponse {
        uid: "conversion-1".into(),
        result: Some(full_status_result()),
        objects: vec![object],
    };
    assert_eq!(
        pluginv2::ConversionResponse::from(ConversionResponse::from(response.clone())),
        response
    );
}

#[test]
fn out_of_range_times_are_errors() {
    let mut query = full_query("A");
    query.time_range = Some(pluginv2::TimeRange {
        from_epoch_ms: i64::MIN,
        to_epoch_ms: 0,
    });
    assert!(matches!(
        DataQuery::try_from(query),
        Err(Error::InvalidField { .. })
    ));

    let mut settings = full_app_settings();
    settings.last_updated_ms = i64::MAX;
    assert!(AppInstanceSettings::try_from(settings).is_err());

    let mut context = full_plugin_context();
    context
        .data_source_instance_settings
        .as_mut()
        .unwrap()
        .last_updated_ms = i64::MIN;
    assert!(PluginContext::try_from(context).is_err());

    let mut negative = full_query("A");
    negative.interval_ms = -1;
    assert!(DataQuery::try_from(negative).is_err());
}

/// A role a newer Grafana adds passes through by name, as in the Go SDK,
/// where `backend.User.Role` is a string (backend/common.go); it goes back
/// on the wire unchanged.
#[test]
fn unknown_roles_pass_through() {
    let mut context = full_plugin_context();
    context.user.as_mut().unwrap().role = "Superuser".into();
    let converted = PluginContext::try_from(context).unwrap();
    let user = converted.user.clone().unwrap();
    assert_eq!(user.role, Some(Role::Other("Superuser".into())));
    assert_eq!(pluginv2::User::from(user).role, "Superuser");
}

#[test]
fn unknown_enum_values_are_errors() {
    let mut none_role = full_user();
    none_role.role = "None".into();
    assert_eq!(User::try_from(none_role).unwrap().role, Some(Role::None));

    let bad_format = pluginv2::QueryDataRequest {
        plugin_context: Some(full_plugin_context()),
        format: 9,
        ..Default::default()
    };
    assert!(QueryDataRequest::try_from(bad_format).is_err());
    let bad_health = pluginv2::CheckHealthResponse {
        status: 5,
        ..Default::default()
    };
    assert!(CheckHealthResult::try_from(bad_health).is_err());
    let bad_source = pluginv2::DataResponse {
        error: "x".into(),
        error_source: "elsewhere".into(),
        ..Default::default()
    };
    assert!(DataResponse::try_from(bad_source).is_err());
}

#[test]
fn missing_contexts_and_required_messages_are_errors() {
    assert!(matches!(
        QueryDataRequest::try_from(pluginv2::QueryDataRequest::default()),
        Err(Error::MissingField("plugin context"))
    ));
    assert!(CallResourceRequest::try_from(pluginv2::CallResourceRequest::default()).is_err());
    assert!(CheckHealthRequest::try_from(pluginv2::CheckHealthRequest::default()).is_err());
    assert!(RunStreamRequest::try_from(pluginv2::RunStreamRequest::default()).is_err());
    let no_kind = pluginv2::AdmissionRequest {
        plugin_context: Some(full_plugin_context()),
        ..Default::default()
    };
    assert!(matches!(
        AdmissionRequest::try_from(no_kind),
        Err(Error::MissingField(_))
    ));
    let no_range = pluginv2::DataQuery {
        time_range: None,
        ..full_query("A")
    };
    assert!(matches!(
        DataQuery::try_from(no_range),
        Err(Error::MissingField(_))
    ));
    // Metrics requests need no context: their answer never depends on it.
    assert!(CollectMetricsRequest::try_from(pluginv2::CollectMetricsRequest::default()).is_ok());
}

#[test]
fn invalid_json_settings_are_errors_when_parsed() {
    let mut message = full_data_source_settings();
    message.json_data = Bytes::from_static(b"{\"timeout\":");
    let settings = DataSourceInstanceSettings::try_from_proto(message, "acme").unwrap();
    assert!(matches!(
        settings.parse_json_data::<serde_json::Value>(),
        Err(Error::Json { .. })
    ));
}
