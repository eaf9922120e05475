//! [`plugin_serve::serve_on`]: the server Grafana talks to, on a socket the
//! test bound, stopped through go-plugin's controller or the trigger.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use plugin_backend::{
    CheckHealthHandler, CheckHealthRequest, CheckHealthResult, Error, HealthStatus, Plugin,
    PluginContext,
};
use plugin_proto::go_plugin::{self, grpc_controller_client::GrpcControllerClient};
use plugin_proto::pluginv2::{self, diagnostics_client::DiagnosticsClient};
use plugin_serve::{HEALTH_SERVICE_NAME, Listener, ServeOptions};
use tonic::transport::{Channel, Endpoint};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

struct Healthy;

impl CheckHealthHandler for Healthy {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        Ok(CheckHealthResult::ok("all good"))
    }
}

async fn tcp_listener() -> Listener {
    let socket = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    Listener::try_from(socket).unwrap()
}

async fn connect(address: &str) -> Channel {
    Endpoint::from_shared(format!("http://{address}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

#[tokio::test]
async fn serves_the_plugin_and_stops_on_the_hosts_shutdown_call() {
    let listener = tcp_listener().await;
    let address = listener.address();
    let cleaned_up = Arc::new(AtomicBool::new(false));
    let options = ServeOptions::new().on_shutdown({
        let cleaned_up = Arc::clone(&cleaned_up);
        || async move { cleaned_up.store(true, Ordering::SeqCst) }
    });
    let server = tokio::spawn(plugin_serve::serve_on(
        Plugin::new().with_check_health(Healthy),
        listener,
        options,
    ));
    let channel = connect(&address).await;

    let health = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: HEALTH_SERVICE_NAME.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(health.status, ServingStatus::Serving as i32);

    let result = DiagnosticsClient::new(channel.clone())
        .check_health(pluginv2::CheckHealthRequest::from(CheckHealthRequest::new(
            PluginContext::new("acme-test-datasource"),
        )))
        .await
        .unwrap()
        .into_inner();
    let result = CheckHealthResult::try_from(result).unwrap();
    assert_eq!(result.status, HealthStatus::Ok);
    assert_eq!(result.message, "all good");

    // The controller is served: a client stops the server as Grafana stops
    // a plugin process.
    GrpcControllerClient::new(channel)
        .shutdown(go_plugin::Empty {})
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops after the Shutdown call")
        .unwrap()
        .unwrap();
    assert!(
        cleaned_up.load(Ordering::SeqCst),
        "the cleanup hook ran before serve_on returned"
    );
}

#[tokio::test]
async fn stops_when_the_options_trigger_is_pulled() {
    let listener = tcp_listener().await;
    let options = ServeOptions::new();
    let shutdown = options.shutdown().clone();
    let server = tokio::spawn(plugin_serve::serve_on(Plugin::new(), listener, options));
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops once triggered")
        .unwrap()
        .unwrap();
}

#[cfg(unix)]
#[tokio::test]
async fn leaves_the_callers_unix_socket_file_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin.sock");
    let listener = Listener::from(tokio::net::UnixListener::bind(&path).unwrap());
    assert_eq!(listener.address(), path.display().to_string());
    let options = ServeOptions::new();
    options.shutdown().trigger();
    plugin_serve::serve_on(Plugin::new(), listener, options)
        .await
        .unwrap();
    assert!(path.exists(), "the socket file belongs to the caller");
}
