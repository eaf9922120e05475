//! User agent: `Grafana <plugin id>/<version>`, or Grafana's own user agent
//! ([`GrafanaUserAgent`], else the handler call's
//! [`OutgoingContext::user_agent`](plugin_backend::OutgoingContext::user_agent))
//! followed by `<plugin id>/<version>`, on requests
//! without a `User-Agent`. Without plugin identity the request is left as
//! is, as Go does without build info.

use std::task::{Context, Poll};

use http::{HeaderValue, Request, header::USER_AGENT};
use plugin_backend::outgoing;
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    extensions::GrafanaUserAgent,
    options::{HttpClientOptions, PluginInfo},
};

/// Layer setting the user agent; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct UserAgentLayer {
    suffix: Option<String>,
}

impl UserAgentLayer {
    /// Identifies requests as coming from `plugin`.
    pub fn new(plugin: &PluginInfo) -> Self {
        Self {
            suffix: Some(format!("{}/{}", plugin.id, plugin.version)),
        }
    }

    /// From [`HttpClientOptions::plugin`]; passes requests through
    /// unchanged when it is `None`.
    pub fn from_options(options: &HttpClientOptions) -> Self {
        match &options.plugin {
            Some(plugin) => Self::new(plugin),
            None => Self { suffix: None },
        }
    }
}

impl<S> Layer<S> for UserAgentLayer {
    type Service = UserAgentService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        UserAgentService {
            inner,
            suffix: self.suffix.clone(),
        }
    }
}

/// Service produced by [`UserAgentLayer`].
#[derive(Clone, Debug)]
pub struct UserAgentService<S> {
    inner: S,
    suffix: Option<String>,
}

impl<S, B> Service<Request<B>> for UserAgentService<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        if let Some(suffix) = &self.suffix
            && !request.headers().contains_key(USER_AGENT)
        {
            // The request's own, else the handler call's (Go:
            // `useragent.FromContext`), else plain "Grafana".
            let base = match request.extensions().get::<GrafanaUserAgent>() {
                Some(GrafanaUserAgent(value)) => value.to_str().ok().map(str::to_owned),
                None => outgoing::current()
                    .and_then(|context| context.user_agent().map(ToString::to_string)),
            };
            let base = base.as_deref().unwrap_or("Grafana");
            // A plugin ID or version with control characters cannot be
            // sent; leaving the header unset beats failing the request.
            if let Ok(value) = HeaderValue::from_str(&format!("{base} {suffix}")) {
                request.headers_mut().insert(USER_AGENT, value);
            }
        }
        self.inner.call(request)
    }
}
