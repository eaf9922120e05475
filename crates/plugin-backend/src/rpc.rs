//! The endpoint table: every call Grafana makes on a plugin, written down
//! once, and everything that follows from it.
//!
//! # One place per endpoint
//!
//! The table at the bottom of this module lists the endpoints, grouped by
//! the capability trait a plugin author implements. One entry names the
//! endpoint, its Go name, its wire method, its [`Scope`], the capability
//! method with its request (and, for streamed answers, its sender) and
//! response, and the Go SDK's answer when the plugin lacks the capability.
//! From that table the `endpoints!` macro generates:
//!
//! * [`Endpoint`], the endpoint as a value (names, [`Endpoint::ALL`],
//!   [`Endpoint::scope`]);
//! * one type per endpoint ([`QueryData`], [`CallResource`], …)
//!   implementing [`Rpc`]: the endpoint as a type, with its request and
//!   response types;
//! * the capability traits ([`QueryDataHandler`], [`StreamHandler`], …),
//!   their forwarding through `Arc`, and [`Plugin`]'s
//!   `with_*` methods and dispatch, with the Go answer for a missing
//!   capability;
//! * [`Handler`]: one generic method, [`Handler::call`], plus one named
//!   convenience method per endpoint;
//! * [`AnyRequest`] and [`AnyResponse`], the endpoints as one enum, which is
//!   what a tower [`Service`](tower_service::Service) sees through
//!   [`TowerLayer`](crate::middleware::TowerLayer).
//!
//! Middleware ([`crate::middleware::Middleware`]) and instance management
//! are generic over [`Rpc`], so they are written once for every endpoint.
//! Adding an endpoint is one entry here (plus its converters in
//! [`crate::convert`] and its line in the serving crate's gRPC adapter).
//!
//! Generic code that treats one endpoint specially does so by type
//! ([`downcast`], [`downcast_ref`]); after monomorphisation the check is a
//! constant, so the generic path costs nothing.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use http::StatusCode;

use crate::admission::{AdmissionRequest, MutationResponse, ValidationResponse};
use crate::chunked::{ChunkedDataWriter, QueryChunkedDataRequest};
use crate::context::PluginContext;
use crate::conversion::{ConversionRequest, ConversionResponse};
use crate::data::{QueryDataRequest, QueryDataResponse};
use crate::diagnostics::{
    CheckHealthRequest, CheckHealthResult, CollectMetricsRequest, CollectMetricsResult,
};
use crate::error::Error;
use crate::handler::{Plugin, convert_queries};
use crate::resource::{CallResourceRequest, CallResourceResponse, CallResourceResponseSender};
use crate::status::Status;
use crate::stream::{
    PublishStreamRequest, PublishStreamResponse, RunStreamRequest, StreamSender,
    SubscribeStreamRequest, SubscribeStreamResponse,
};

/// Who answers an endpoint when the plugin has one instance per data source
/// or app (the Go SDK's automanagement).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The instance the call's plugin context selects.
    Instance,
    /// The process: one handler for every instance.
    Process,
}

/// One endpoint, as a type: what [`Handler::call`] and middleware are
/// generic over.
///
/// Implemented by the unit types of this module ([`QueryData`],
/// [`CallResource`], …), one per [`Endpoint`]. A streamed endpoint's
/// request is the pair of SDK request and sender, e.g.
/// `(CallResourceRequest, CallResourceResponseSender)`; its response is `()`.
pub trait Rpc: Send + Sync + 'static {
    /// The endpoint as a value.
    const ENDPOINT: Endpoint;
    /// What the handler receives.
    type Request: Send + 'static;
    /// What the handler answers with.
    type Response: Send + 'static;

    /// The plugin context of `request`.
    fn plugin_context(request: &Self::Request) -> &PluginContext;

    /// The plugin context of `request`, to change.
    fn plugin_context_mut(request: &mut Self::Request) -> &mut PluginContext;

    /// `request` as the enum of every endpoint's request.
    fn into_any(request: Self::Request) -> AnyRequest;

    /// The response of this endpoint, if `response` is one.
    fn response_from_any(response: AnyResponse) -> Option<Self::Response>;

    /// Answers `request` with `plugin`'s capability, or as the Go SDK does
    /// without it.
    #[doc(hidden)]
    fn call_plugin(
        plugin: &Plugin,
        request: Self::Request,
    ) -> BoxFuture<'_, Result<Self::Response, Error>>;
}

/// Moves `value` into type `U` if it is one (`Err(value)` if not): how
/// generic code produces one endpoint's response, e.g. a
/// [`QueryDataResponse`] as `E::Response`.
pub fn downcast<T: 'static, U: 'static>(value: T) -> Result<U, T> {
    let mut slot = Some(value);
    match (&mut slot as &mut dyn Any).downcast_mut::<Option<U>>() {
        Some(target) => Ok(target.take().expect("the slot is full")),
        None => Err(slot.expect("the slot is full")),
    }
}

/// `value` as a `U`, if it is one: how generic code looks into one
/// endpoint's request or response.
pub fn downcast_ref<T: 'static, U: 'static>(value: &T) -> Option<&U> {
    (value as &dyn Any).downcast_ref()
}

/// `value` as a mutable `U`, if it is one.
pub fn downcast_mut<T: 'static, U: 'static>(value: &mut T) -> Option<&mut U> {
    (value as &mut dyn Any).downcast_mut()
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A capability handler behind one pointer, answering one endpoint.
pub(crate) trait DynEndpoint<E: Rpc>: Send + Sync {
    fn call(&self, request: E::Request) -> BoxFuture<'_, Result<E::Response, Error>>;
}

/// Generates everything the [module docs](self) list from the table.
macro_rules! endpoints {
    ($(
        $(#[$capability_doc:meta])*
        trait $capability:ident;
        $(#[$with_doc:meta])*
        fn $with:ident;
        {$(
            $(#[$doc:meta])*
            $name:ident = $go_name:literal, $wire:literal, $scope:ident:
            fn $method:ident($request:ident: $request_ty:ty $(, $sender:ident: $sender_ty:ty)?)
                -> $response:ty;
            $(before $intercept:path;)?
            else $missing:block
        )+}
    )+) => {
        /// One of the calls Grafana makes on a plugin.
        ///
        /// The names ([`Endpoint::as_str`]) are the Go SDK's, so logs and
        /// the `endpoint` label of the request metrics read the same for Go
        /// and Rust plugins.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Endpoint {$($(
            #[doc = concat!("`", $wire, "`.")]
            $name,
        )+)+}

        const ENDPOINT_COUNT: usize = [$($(stringify!($name)),+),+].len();

        impl Endpoint {
            /// Every endpoint, in protocol order.
            pub const ALL: [Endpoint; ENDPOINT_COUNT] = [$($(Endpoint::$name),+),+];

            /// The Go SDK's name, e.g. `queryData`.
            pub const fn as_str(self) -> &'static str {
                match self {$($(Endpoint::$name => $go_name,)+)+}
            }

            /// Who answers it under instance management.
            pub const fn scope(self) -> Scope {
                match self {$($(Endpoint::$name => Scope::$scope,)+)+}
            }
        }

        $($(
            #[doc = concat!("`", $wire, "` as a type; see [`Rpc`].")]
            #[derive(Debug, Clone, Copy, Default)]
            pub struct $name;

            #[allow(unused_parens)]
            impl Rpc for $name {
                const ENDPOINT: Endpoint = Endpoint::$name;
                type Request = ($request_ty $(, $sender_ty)?);
                type Response = $response;

                #[allow(unused_parens, unused_variables)]
                fn plugin_context(request: &Self::Request) -> &PluginContext {
                    let ($request $(, $sender)?) = request;
                    &$request.plugin_context
                }

                #[allow(unused_parens, unused_variables)]
                fn plugin_context_mut(request: &mut Self::Request) -> &mut PluginContext {
                    let ($request $(, $sender)?) = request;
                    &mut $request.plugin_context
                }

                fn into_any(request: Self::Request) -> AnyRequest {
                    AnyRequest::$name(request)
                }

                fn response_from_any(response: AnyResponse) -> Option<Self::Response> {
                    match response {
                        AnyResponse::$name(response) => Some(response),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }

                fn call_plugin(
                    plugin: &Plugin,
                    request: Self::Request,
                ) -> BoxFuture<'_, Result<Self::Response, Error>> {
                    $(
                        let request = match $intercept(plugin, request) {
                            Ok(answer) => return answer,
                            Err(request) => request,
                        };
                    )?
                    match &plugin.endpoints.$method {
                        Some(handler) => handler.call(request),
                        None => {
                            #[allow(unused_parens, unused_variables, unused_mut)]
                            let ($request $(, mut $sender)?) = request;
                            Box::pin(async move $missing)
                        }
                    }
                }
            }

            impl<T: $capability> DynEndpoint<$name> for T {
                #[allow(unused_parens)]
                fn call(
                    &self,
                    request: <$name as Rpc>::Request,
                ) -> BoxFuture<'_, Result<$response, Error>> {
                    let ($request $(, $sender)?) = request;
                    Box::pin($capability::$method(self, $request $(, $sender)?))
                }
            }
        )+)+

        /// Every endpoint's request, as one type: what a tower service
        /// under [`TowerLayer`](crate::middleware::TowerLayer) receives.
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum AnyRequest {$($(
            #[doc = concat!("`", $wire, "`.")]
            $name(<$name as Rpc>::Request),
        )+)+}

        impl AnyRequest {
            /// The endpoint this request is for.
            pub fn endpoint(&self) -> Endpoint {
                match self {$($(AnyRequest::$name(_) => Endpoint::$name,)+)+}
            }

            /// The plugin context of the request.
            pub fn plugin_context(&self) -> &PluginContext {
                match self {$($(AnyRequest::$name(request) => $name::plugin_context(request),)+)+}
            }

            /// Answers the request with `handler`.
            pub fn call<H: Handler>(self, handler: &H) -> BoxFuture<'_, Result<AnyResponse, Error>> {
                match self {$($(
                    AnyRequest::$name(request) => Box::pin(async move {
                        handler.call::<$name>(request).await.map(AnyResponse::$name)
                    }),
                )+)+}
            }
        }

        /// Every endpoint's response, as one type.
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum AnyResponse {$($(
            #[doc = concat!("`", $wire, "`.")]
            $name($response),
        )+)+}

        $(
            $(#[$capability_doc])*
            pub trait $capability: Send + Sync {$(
                $(#[$doc])*
                fn $method(
                    &self,
                    $request: $request_ty,
                    $($sender: $sender_ty,)?
                ) -> impl Future<Output = Result<$response, Error>> + Send;
            )+}

            /// Capability handlers behind an `Arc` are handlers too, so one
            /// value can serve several capabilities without cloning its state.
            impl<T: $capability + ?Sized> $capability for Arc<T> {$(
                fn $method(
                    &self,
                    $request: $request_ty,
                    $($sender: $sender_ty,)?
                ) -> impl Future<Output = Result<$response, Error>> + Send {
                    T::$method(self, $request $(, $sender)?)
                }
            )+}
        )+

        /// Every endpoint of the plugin protocol: what middleware wraps and
        /// what the server calls.
        ///
        /// An implementation answers [`call`](Handler::call), generic over
        /// the endpoint ([`Rpc`]); the named methods (`query_data`,
        /// `call_resource`, …) call it and are there for callers. Build one
        /// with [`Plugin`] from capability handlers, wrap it with
        /// [`HandlerBuilder`](crate::middleware::HandlerBuilder), or
        /// implement it directly.
        #[allow(unused_parens, clippy::double_parens)]
        pub trait Handler: Send + Sync {
            /// Answers one call of endpoint `E`.
            fn call<E: Rpc>(
                &self,
                request: E::Request,
            ) -> impl Future<Output = Result<E::Response, Error>> + Send;

            /// Whether this handler has a capability answering `endpoint`,
            /// rather than the answer the Go SDK gives without one.
            ///
            /// The server registers only the gRPC services of endpoints a
            /// plugin implements, as the Go SDK's `GRPCServeOpts` does
            /// (backend/serve.go), and instance management answers a missing
            /// instance capability with `Unimplemented`, as Go's
            /// automanagement does (internal/automanagement/manager.go). The
            /// default, `true`, suits a handler that answers every endpoint;
            /// wrappers forward it.
            fn implements(&self, endpoint: Endpoint) -> bool {
                let _ = endpoint;
                true
            }

            $($(
                #[doc = concat!("`", $wire, "`: [`call`](Handler::call) with [`", stringify!($name), "`].")]
                fn $method(
                    &self,
                    $request: $request_ty,
                    $($sender: $sender_ty,)?
                ) -> impl Future<Output = Result<$response, Error>> + Send {
                    self.call::<$name>(($request $(, $sender)?))
                }
            )+)+
        }

        /// The capability handler of each endpoint a [`Plugin`] has.
        #[derive(Clone, Default)]
        pub(crate) struct PluginEndpoints {$($(
            pub(crate) $method: Option<Arc<dyn DynEndpoint<$name>>>,
        )+)+}

        impl PluginEndpoints {
            /// Whether a capability handler answers `endpoint`.
            pub(crate) fn has(&self, endpoint: Endpoint) -> bool {
                match endpoint {$($(Endpoint::$name => self.$method.is_some(),)+)+}
            }
        }

        impl fmt::Debug for PluginEndpoints {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct("Endpoints")
                    $($(.field(stringify!($method), &self.$method.is_some()))+)+
                    .finish()
            }
        }

        impl Plugin {$(
            $(#[$with_doc])*
            pub fn $with(mut self, handler: impl $capability + 'static) -> Self {
                let handler = Arc::new(handler);
                $(
                    self.endpoints.$method =
                        Some(Arc::clone(&handler) as Arc<dyn DynEndpoint<$name>>);
                )+
                self
            }
        )+}
    };
}

endpoints! {
    /// Answers data queries.
    trait QueryDataHandler;
    /// This plugin, answering data queries with `handler`.
    fn with_query_data;
    {
        /// Runs the queries of `request`, answering each by its `ref_id`.
        ///
        /// A failing query is a [`DataResponse`](crate::DataResponse) with an
        /// error; `Err` fails the whole request.
        QueryData = "queryData", "Data/QueryData", Instance:
        fn query_data(request: QueryDataRequest) -> QueryDataResponse;
        else { Err(Error::Unimplemented(Endpoint::QueryData)) }
    }

    /// Answers data queries chunk by chunk.
    trait QueryChunkedDataHandler;
    /// This plugin, answering chunked data queries with `handler`.
    fn with_query_chunked_data;
    {
        /// Runs the queries of `request`, writing frames through `writer`.
        QueryChunkedData = "queryChunkedData", "Data/QueryChunkedData", Instance:
        fn query_chunked_data(request: QueryChunkedDataRequest, writer: ChunkedDataWriter) -> ();
        else { writer.write_error("", Status::NOT_IMPLEMENTED, None).await }
    }

    /// Answers HTTP requests to the plugin's resources.
    trait CallResourceHandler;
    /// This plugin, answering resource calls with `handler`.
    fn with_call_resource;
    {
        /// Answers `request` through `sender`: one message with status and
        /// headers, then as many body-only messages as needed.
        CallResource = "callResource", "Resource/CallResource", Instance:
        fn call_resource(request: CallResourceRequest, sender: CallResourceResponseSender) -> ();
        else { sender.send(CallResourceResponse::new(StatusCode::NOT_IMPLEMENTED)).await }
    }

    /// Checks the plugin's health.
    trait CheckHealthHandler;
    /// This plugin, answering health checks with `handler`.
    fn with_check_health;
    {
        /// Checks whether the plugin (usually a data source instance) works.
        CheckHealth = "checkHealth", "Diagnostics/CheckHealth", Instance:
        fn check_health(request: CheckHealthRequest) -> CheckHealthResult;
        else { Ok(CheckHealthResult::ok("")) }
    }

    /// Reports the plugin's metrics.
    trait CollectMetricsHandler;
    /// This plugin, answering metrics requests with `handler` instead of the
    /// default Prometheus registry.
    fn with_collect_metrics;
    {
        /// Returns metrics in Prometheus text format.
        CollectMetrics = "collectMetrics", "Diagnostics/CollectMetrics", Process:
        fn collect_metrics(request: CollectMetricsRequest) -> CollectMetricsResult;
        else { CollectMetricsResult::from_default_registry() }
    }

    /// Serves Grafana Live streams.
    trait StreamHandler;
    /// This plugin, serving streams with `handler`.
    fn with_stream;
    {
        /// Decides whether a user may subscribe to a path.
        SubscribeStream = "subscribeStream", "Stream/SubscribeStream", Instance:
        fn subscribe_stream(request: SubscribeStreamRequest) -> SubscribeStreamResponse;
        else { Err(Error::Unimplemented(Endpoint::SubscribeStream)) }

        /// Decides whether a user may publish to a path, and what to publish.
        PublishStream = "publishStream", "Stream/PublishStream", Instance:
        fn publish_stream(request: PublishStreamRequest) -> PublishStreamResponse;
        else { Err(Error::Unimplemented(Endpoint::PublishStream)) }

        /// Runs the stream of a path, sending packets until done or until
        /// sending fails because Grafana cancelled.
        RunStream = "runStream", "Stream/RunStream", Instance:
        fn run_stream(request: RunStreamRequest, sender: StreamSender) -> ();
        else { Err(Error::Unimplemented(Endpoint::RunStream)) }
    }

    /// Validates and mutates objects before Grafana stores them.
    trait AdmissionHandler;
    /// This plugin, validating and mutating objects with `handler`.
    fn with_admission;
    {
        /// Validates an object.
        ValidateAdmission = "validateAdmission", "AdmissionControl/ValidateAdmission", Process:
        fn validate_admission(request: AdmissionRequest) -> ValidationResponse;
        else { Err(Error::Unimplemented(Endpoint::ValidateAdmission)) }

        /// Mutates an object.
        MutateAdmission = "mutateAdmission", "AdmissionControl/MutateAdmission", Process:
        fn mutate_admission(request: AdmissionRequest) -> MutationResponse;
        else { Err(Error::Unimplemented(Endpoint::MutateAdmission)) }
    }

    /// Converts objects between API versions.
    trait ConversionHandler;
    /// This plugin, converting objects with `handler`.
    fn with_conversion;
    {
        /// Converts the objects of `request` to its target version.
        ///
        /// Requests whose objects are query data requests go to the
        /// [`QueryConversionHandler`](crate::QueryConversionHandler)
        /// instead, when the plugin has one.
        ConvertObjects = "convertObjects", "ResourceConversion/ConvertObjects", Process:
        fn convert_objects(request: ConversionRequest) -> ConversionResponse;
        before convert_queries;
        else { Err(Error::Unimplemented(Endpoint::ConvertObjects)) }
    }
}
