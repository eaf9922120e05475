//! The services go-plugin's host calls on every plugin, besides the
//! plugin's own: `plugin.GRPCController`, `plugin.GRPCStdio` and
//! `plugin.GRPCBroker`.
//!
//! * `GRPCController/Shutdown` is how Grafana stops a plugin: it calls it,
//!   waits 2 s, then kills the process. It pulls the [`Shutdown`] trigger
//!   and answers at once; the server then drains.
//! * `GRPCStdio/StreamStdio` forwards a Go plugin's redirected stdout and
//!   stderr. A Rust plugin logs to the real stderr (the host reads it from
//!   the pipe), so the stream stays open, sends nothing, and ends when the
//!   server shuts down; the host reads that end as EOF.
//! * `GRPCBroker/StartStream` brokers extra connections, which Grafana never
//!   asks for. The stream is accepted and idles until shutdown, so the
//!   host's broker goroutine sees no error.

use std::pin::Pin;

use futures_util::stream::{self, Stream, StreamExt};
use plugin_proto::go_plugin::{
    self, grpc_broker_server, grpc_controller_server, grpc_stdio_server,
};
use tonic::{Request, Response, Status, Streaming};

use crate::shutdown::Shutdown;

/// A response stream that sends nothing and ends on shutdown.
type IdleStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// A stream that stays open, sending nothing, until `shutdown` is pulled;
/// `held` (the request stream, if any) lives as long.
fn idle_until<T: Send + 'static>(shutdown: Shutdown, held: impl Send + 'static) -> IdleStream<T> {
    let idle = async move {
        shutdown.triggered().await;
        drop(held);
    };
    Box::pin(stream::once(idle).filter_map(|()| async { None }))
}

/// `plugin.GRPCController`.
#[derive(Debug, Clone)]
pub(crate) struct Controller {
    pub(crate) shutdown: Shutdown,
}

#[tonic::async_trait]
impl grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _: Request<go_plugin::Empty>,
    ) -> Result<Response<go_plugin::Empty>, Status> {
        tracing::debug!("the host asked the plugin to shut down");
        self.shutdown.trigger();
        Ok(Response::new(go_plugin::Empty {}))
    }
}

/// `plugin.GRPCStdio`.
#[derive(Debug, Clone)]
pub(crate) struct Stdio {
    pub(crate) shutdown: Shutdown,
}

#[tonic::async_trait]
impl grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = IdleStream<go_plugin::StdioData>;

    async fn stream_stdio(
        &self,
        _: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        Ok(Response::new(idle_until(self.shutdown.clone(), ())))
    }
}

/// `plugin.GRPCBroker`.
#[derive(Debug, Clone)]
pub(crate) struct Broker {
    pub(crate) shutdown: Shutdown,
}

#[tonic::async_trait]
impl grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = IdleStream<go_plugin::ConnInfo>;

    async fn start_stream(
        &self,
        request: Request<Streaming<go_plugin::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        Ok(Response::new(idle_until(
            self.shutdown.clone(),
            request.into_inner(),
        )))
    }
}
