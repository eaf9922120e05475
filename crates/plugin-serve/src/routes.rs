//! Routing a gRPC request to the service it names.
//!
//! A gRPC request's path is `/<package.Service>/<Method>`. [`PluginRoutes`]
//! matches the service part against the handful of services a plugin
//! serves, a fixed set known when the server starts, so a string comparison
//! per service is the whole router; each generated service then picks the
//! method. A path naming no served service is answered `Unimplemented`, as
//! grpc-go answers it. One method is routed before its service:
//! `Data/QueryData` goes to [`query_data`], which sends frames without
//! copying them.
//!
//! The client's deadline (`grpc-timeout`) is applied here too: the handler
//! is dropped, and so cancelled, when it expires, and the call ends with
//! `DeadlineExceeded`.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body::Body;
use plugin_backend::{BoxError, Endpoint, Handler};
use plugin_proto::go_plugin::{grpc_broker_server, grpc_controller_server, grpc_stdio_server};
use plugin_proto::pluginv2::{
    admission_control_server, data_server, diagnostics_server, resource_conversion_server,
    resource_server, stream_server,
};
use tonic::Status;
use tonic::codegen::BoxFuture;
use tonic::server::NamedService;
use tonic_health::pb::health_server::HealthServer;
use tonic_health::server::HealthService;
use tower_service::Service;

use crate::adapters::Adapter;
use crate::deadline;
use crate::go_plugin::{Broker, Controller, Stdio};
use crate::query_data;
use crate::shutdown::Shutdown;

/// The response every service gives.
type GrpcResponse = http::Response<tonic::body::Body>;

/// Message size limits, applied to every `pluginv2` service.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MessageLimits {
    /// The largest request message accepted.
    pub(crate) receive: usize,
    /// The largest response message sent.
    pub(crate) send: usize,
}

/// Every service of one plugin server, as one tower service.
///
/// Cloning is cheap: each generated service shares its implementation
/// through an `Arc`.
pub(crate) struct PluginRoutes<H> {
    /// Answers `Data/QueryData` directly; see [`query_data`].
    adapter: Adapter<H>,
    limits: MessageLimits,
    health: HealthServer<HealthService>,
    // Diagnostics is always served; the others only when the handler
    // implements one of their endpoints.
    diagnostics: diagnostics_server::DiagnosticsServer<Adapter<H>>,
    data: Option<data_server::DataServer<Adapter<H>>>,
    resource: Option<resource_server::ResourceServer<Adapter<H>>>,
    stream: Option<stream_server::StreamServer<Adapter<H>>>,
    admission: Option<admission_control_server::AdmissionControlServer<Adapter<H>>>,
    conversion: Option<resource_conversion_server::ResourceConversionServer<Adapter<H>>>,
    /// go-plugin's host services, when Grafana started the plugin.
    host: Option<HostServices>,
}

/// The services go-plugin's host calls on a plugin it started.
#[derive(Clone)]
struct HostServices {
    controller: grpc_controller_server::GrpcControllerServer<Controller>,
    stdio: grpc_stdio_server::GrpcStdioServer<Stdio>,
    broker: grpc_broker_server::GrpcBrokerServer<Broker>,
}

impl<H: Handler + 'static> PluginRoutes<H> {
    /// The `pluginv2` services answered by `handler`, and the health
    /// service.
    ///
    /// As the Go SDK's `GRPCServeOpts` (backend/serve.go), a service is
    /// registered only when the handler [implements](Handler::implements)
    /// one of its endpoints, Diagnostics always; a call to a service that
    /// is not registered is `Unimplemented` ("unknown service"), which
    /// Grafana treats as an endpoint the plugin does not implement
    /// (pkg/plugins/backendplugin/grpcplugin/client_v2.go). One difference:
    /// Go serves Data only with a QueryData handler, this also for a plugin
    /// with only chunked queries, which would otherwise be unreachable.
    pub(crate) fn new(
        handler: Arc<H>,
        health: HealthServer<HealthService>,
        limits: MessageLimits,
    ) -> Self {
        let serves = |endpoints: &[Endpoint]| endpoints.iter().any(|&e| handler.implements(e));
        let data = serves(&[Endpoint::QueryData, Endpoint::QueryChunkedData]);
        let resource = serves(&[Endpoint::CallResource]);
        let stream = serves(&[
            Endpoint::SubscribeStream,
            Endpoint::PublishStream,
            Endpoint::RunStream,
        ]);
        let admission = serves(&[Endpoint::ValidateAdmission, Endpoint::MutateAdmission]);
        let conversion = serves(&[Endpoint::ConvertObjects]);
        let adapter = Adapter::new(handler);
        macro_rules! limited {
            ($server:expr) => {
                $server
                    .max_decoding_message_size(limits.receive)
                    .max_encoding_message_size(limits.send)
            };
        }
        PluginRoutes {
            adapter: adapter.clone(),
            limits,
            health,
            diagnostics: limited!(diagnostics_server::DiagnosticsServer::new(adapter.clone())),
            data: data.then(|| limited!(data_server::DataServer::new(adapter.clone()))),
            resource: resource
                .then(|| limited!(resource_server::ResourceServer::new(adapter.clone()))),
            stream: stream.then(|| limited!(stream_server::StreamServer::new(adapter.clone()))),
            admission: admission.then(|| {
                limited!(admission_control_server::AdmissionControlServer::new(
                    adapter.clone()
                ))
            }),
            conversion: conversion.then(|| {
                limited!(resource_conversion_server::ResourceConversionServer::new(
                    adapter.clone()
                ))
            }),
            host: None,
        }
    }

    /// Adds go-plugin's controller, stdio and broker services, all bound
    /// to `shutdown`.
    pub(crate) fn with_host_services(mut self, shutdown: &Shutdown) -> Self {
        self.host = Some(HostServices {
            controller: grpc_controller_server::GrpcControllerServer::new(Controller {
                shutdown: shutdown.clone(),
            }),
            stdio: grpc_stdio_server::GrpcStdioServer::new(Stdio {
                shutdown: shutdown.clone(),
            }),
            broker: grpc_broker_server::GrpcBrokerServer::new(Broker {
                shutdown: shutdown.clone(),
            }),
        });
        self
    }
}

impl<H> Clone for PluginRoutes<H> {
    fn clone(&self) -> Self {
        PluginRoutes {
            adapter: self.adapter.clone(),
            limits: self.limits,
            health: self.health.clone(),
            data: self.data.clone(),
            resource: self.resource.clone(),
            diagnostics: self.diagnostics.clone(),
            stream: self.stream.clone(),
            admission: self.admission.clone(),
            conversion: self.conversion.clone(),
            host: self.host.clone(),
        }
    }
}

impl<H> std::fmt::Debug for PluginRoutes<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginRoutes")
            .field("host_services", &self.host.is_some())
            .finish_non_exhaustive()
    }
}

impl<H, B> Service<http::Request<B>> for PluginRoutes<H>
where
    H: Handler + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError> + Send + 'static,
{
    type Response = GrpcResponse;
    type Error = Infallible;
    type Future = BoxFuture<GrpcResponse, Infallible>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // Every generated service is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let deadline = deadline::from_headers(request.headers());
        let path = request.uri().path();
        let response: Self::Future = if path == query_data::PATH && self.data.is_some() {
            let response = query_data::call(self.adapter.clone(), request, self.limits);
            Box::pin(async move { Ok(response.await) })
        } else {
            let response = self.route_to_service(request);
            Box::pin(async move { response.await.map(oversized_is_resource_exhausted) })
        };
        match deadline {
            None => response,
            Some(deadline) => Box::pin(deadline::limit(response, deadline)),
        }
    }
}

impl<H: Handler + 'static> PluginRoutes<H> {
    /// Hands `request` to the generated service its path names.
    fn route_to_service<B>(
        &mut self,
        request: http::Request<B>,
    ) -> BoxFuture<GrpcResponse, Infallible>
    where
        B: Body + Send + 'static,
        B::Error: Into<BoxError> + Send + 'static,
    {
        // A service the plugin does not serve is an unknown one.
        macro_rules! served {
            ($service:expr, $name:expr) => {
                match $service.as_mut() {
                    Some(service) => service.call(request),
                    None => unknown_service($name),
                }
            };
        }
        match service_name(request.uri().path()) {
            diagnostics_server::SERVICE_NAME => self.diagnostics.call(request),
            name @ data_server::SERVICE_NAME => served!(self.data, name),
            name @ resource_server::SERVICE_NAME => served!(self.resource, name),
            name @ stream_server::SERVICE_NAME => served!(self.stream, name),
            name @ admission_control_server::SERVICE_NAME => served!(self.admission, name),
            name @ resource_conversion_server::SERVICE_NAME => served!(self.conversion, name),
            name if name == HealthServer::<HealthService>::NAME => self.health.call(request),
            name => match &mut self.host {
                Some(host) if name == grpc_controller_server::SERVICE_NAME => {
                    host.controller.call(request)
                }
                Some(host) if name == grpc_stdio_server::SERVICE_NAME => host.stdio.call(request),
                Some(host) if name == grpc_broker_server::SERVICE_NAME => host.broker.call(request),
                _ => unknown_service(name),
            },
        }
    }
}

/// The encoded `grpc-message` of tonic's answer to a request message over
/// the receive limit ("Error, decoded message length too large: …").
const DECODED_TOO_LARGE: &str = "decoded%20message%20length%20too%20large";

/// `response` with grpc-go's code for a request message over the receive
/// limit: tonic's generated services answer `OutOfRange`, grpc-go (which
/// Grafana's own plugins use) `ResourceExhausted` (rpc_util.go,
/// `recvAndDecompress`: "grpc: received message larger than max"). That
/// answer is trailers-only, so its status is in the headers.
fn oversized_is_resource_exhausted(mut response: GrpcResponse) -> GrpcResponse {
    let headers = response.headers_mut();
    let oversized = headers.get("grpc-status").is_some_and(|code| code == "11")
        && headers
            .get("grpc-message")
            .and_then(|message| message.to_str().ok())
            .is_some_and(|message| message.contains(DECODED_TOO_LARGE));
    if oversized {
        headers.insert(
            "grpc-status",
            http::HeaderValue::from_static(RESOURCE_EXHAUSTED),
        );
    }
    response
}

/// `ResourceExhausted` as a `grpc-status` value.
const RESOURCE_EXHAUSTED: &str = "8";

/// The service part of a gRPC path, `package.Service` of
/// `/package.Service/Method`; empty when the path has no such part.
fn service_name(path: &str) -> &str {
    path.strip_prefix('/')
        .and_then(|rest| rest.split_once('/'))
        .map_or("", |(service, _method)| service)
}

/// The answer to a path that names no service this server has.
fn unknown_service(name: &str) -> BoxFuture<GrpcResponse, Infallible> {
    let status = Status::unimplemented(format!("unknown service {name}"));
    Box::pin(std::future::ready(Ok(status.into_http())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_is_the_first_path_segment() {
        assert_eq!(service_name("/pluginv2.Data/QueryData"), "pluginv2.Data");
        assert_eq!(
            service_name("/grpc.health.v1.Health/Check"),
            "grpc.health.v1.Health"
        );
        assert_eq!(service_name("/pluginv2.Data/"), "pluginv2.Data");
    }

    #[test]
    fn paths_without_a_method_name_no_service() {
        assert_eq!(service_name("/pluginv2.Data"), "");
        assert_eq!(service_name("pluginv2.Data/QueryData"), "");
        assert_eq!(service_name("/"), "");
        assert_eq!(service_name(""), "");
    }
}
