//! The notes app, launched as Grafana launches it.

use grafana_plugin::backend::User;
use grafana_plugin::chrono::{TimeZone, Utc};
use grafana_plugin::prelude::*;
use grafana_plugin::testkit::{PluginClient, PluginLauncher};
use grafana_plugin::{http, serde_json, tokio};

/// The context Grafana sends for organisation `org_id`, with app settings
/// last saved at `saved` (seconds).
fn context(org_id: i64, saved: i64) -> PluginContext {
    let mut settings = AppInstanceSettings::default();
    settings.json_data = r#"{"title": "Team notes"}"#.into();
    settings.updated = Utc.timestamp_opt(1_795_000_000 + saved, 0).unwrap();
    let mut context = PluginContext::new("acme-notes-app")
        .with_app_instance_settings(settings)
        .with_user(User::new("ada").with_name("Ada"));
    context.org_id = org_id;
    context
}

async fn call(
    client: &PluginClient,
    context: PluginContext,
    method: http::Method,
    path: &str,
    body: &str,
) -> CallResourceResponse {
    let mut request = CallResourceRequest::new(method, path);
    request.plugin_context = context;
    request.body = body.to_owned().into();
    if !body.is_empty() {
        request.headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
    }
    client.call_resource(request).await.unwrap()
}

fn json(response: &CallResourceResponse) -> serde_json::Value {
    serde_json::from_slice(&response.body).unwrap()
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn each_organisation_has_its_own_notes() {
    let plugin = PluginLauncher::new(env!("CARGO_BIN_EXE_gpx_notes-app"))
        .launch()
        .await
        .unwrap();
    let client = plugin.client();

    let added = call(
        client,
        context(1, 0),
        http::Method::POST,
        "notes",
        r#"{"text": "deploy on Friday"}"#,
    )
    .await;
    assert_eq!(added.status, Some(http::StatusCode::CREATED));
    assert_eq!(
        json(&added),
        serde_json::json!({"id": 1, "text": "deploy on Friday", "author": "ada"})
    );

    let org1 = call(client, context(1, 0), http::Method::GET, "notes", "").await;
    assert_eq!(json(&org1).as_array().unwrap().len(), 1);
    let org2 = call(client, context(2, 0), http::Method::GET, "notes", "").await;
    assert_eq!(json(&org2), serde_json::json!([]));

    let health = client
        .check_health(CheckHealthRequest::new(context(1, 0)))
        .await
        .unwrap();
    assert_eq!(health.status, HealthStatus::Ok);
    assert_eq!(health.message, "Team notes: 1 notes");

    let settings = call(client, context(1, 0), http::Method::GET, "settings", "").await;
    assert_eq!(json(&settings), serde_json::json!({"title": "Team notes"}));

    let empty = call(
        client,
        context(1, 0),
        http::Method::POST,
        "notes",
        r#"{"text": "  "}"#,
    )
    .await;
    assert_eq!(empty.status, Some(http::StatusCode::BAD_REQUEST));
    plugin.shutdown().await.unwrap();
}

#[tokio::test(crate = "grafana_plugin::tokio")]
async fn saving_the_settings_starts_a_new_instance() {
    let plugin = PluginLauncher::new(env!("CARGO_BIN_EXE_gpx_notes-app"))
        .launch()
        .await
        .unwrap();
    let client = plugin.client();
    call(
        client,
        context(1, 0),
        http::Method::POST,
        "notes",
        r#"{"text": "kept in memory"}"#,
    )
    .await;
    let before = call(client, context(1, 0), http::Method::GET, "notes", "").await;
    assert_eq!(json(&before).as_array().unwrap().len(), 1);

    // Newer settings (a later `updated`) make the instance manager build a
    // fresh instance; this example keeps notes in memory only.
    let after = call(client, context(1, 60), http::Method::GET, "notes", "").await;
    assert_eq!(json(&after), serde_json::json!([]));
    plugin.shutdown().await.unwrap();
}
