//! AWS Signature Version 4 (feature `sigv4`): signs every request for data
//! sources behind AWS (Amazon Managed Prometheus, OpenSearch, ...), as
//! Grafana's SigV4 middleware does for data sources with `sigV4Auth`.
//!
//! The settings are the Go SDK's (`backend/http_settings.go`: jsonData
//! `sigV4Auth`, `sigV4AuthType`, `sigV4Region`, secure `sigV4AccessKey`,
//! `sigV4SecretKey`, `sigV4SessionToken`); the AWS service name
//! ([`SigV4Options::service`], for example `aps` or `es`) is the plugin's to
//! set, as in Go. Only static keys are supported (`sigV4AuthType` `keys`);
//! the AWS SDK's credential chains and assumed roles are refused when the
//! client is built, rather than sending unsigned requests.
//!
//! The layer sits innermost, so the signature covers the request exactly as
//! it is sent. The body is read into memory to hash it.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
    time::SystemTime,
};

use aws_credential_types::Credentials;
use aws_sigv4::{
    http_request::{SignableBody, SignableRequest, SigningSettings, sign},
    sign::v4,
};
use http::{Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use crate::{body::Body, error::Error, options::SigV4Options};

/// The `sigV4AuthType` this layer signs with: static access keys.
pub const AUTH_TYPE_KEYS: &str = "keys";

/// Layer signing requests; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct SigV4Layer {
    options: SigV4Options,
}

impl SigV4Layer {
    /// Signs with `options`. Fails, naming the setting, when they cannot
    /// sign: no region, service or keys, or credentials other than static
    /// keys.
    pub fn new(options: &SigV4Options) -> Result<Self, Error> {
        match options.auth_type.as_str() {
            "" | AUTH_TYPE_KEYS => {}
            other => {
                return Err(Error::invalid_setting(
                    "sigV4AuthType",
                    format!(
                        "`{other}` is not supported; use `{AUTH_TYPE_KEYS}` (access and secret key)"
                    ),
                ));
            }
        }
        if !options.assume_role_arn.is_empty() {
            return Err(Error::invalid_setting(
                "sigV4AssumeRoleArn",
                "assuming a role is not supported; sign with the role's own keys",
            ));
        }
        for (key, empty) in [
            ("sigV4Region", options.region.is_empty()),
            ("sigV4AccessKey", options.access_key.is_empty()),
            ("sigV4SecretKey", options.secret_key.is_empty()),
        ] {
            if empty {
                return Err(Error::invalid_setting(key, "missing"));
            }
        }
        if options.service.is_empty() {
            return Err(Error::invalid_setting(
                "sigV4Service",
                "the plugin must set the AWS service name (SigV4Options::service, e.g. `aps`)",
            ));
        }
        Ok(Self {
            options: options.clone(),
        })
    }
}

impl<S> Layer<S> for SigV4Layer {
    type Service = SigV4Service<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SigV4Service {
            inner,
            options: self.options.clone(),
        }
    }
}

/// Service produced by [`SigV4Layer`].
#[derive(Clone, Debug)]
pub struct SigV4Service<S> {
    inner: S,
    options: SigV4Options,
}

impl<S> Service<Request<Body>> for SigV4Service<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Error> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        // The ready service goes into the future; a fresh clone stays.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let options = self.options.clone();
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let body = body.collect_bytes().await?;
            let mut request = Request::from_parts(parts, body);
            sign_request(&mut request, &options, SystemTime::now())?;
            inner.call(request.map(Body::from)).await
        })
    }
}

/// Adds the SigV4 headers (`Authorization`, `X-Amz-Date`, and
/// `X-Amz-Security-Token` with a session token) to `request`.
pub(crate) fn sign_request(
    request: &mut Request<bytes::Bytes>,
    options: &SigV4Options,
    time: SystemTime,
) -> Result<(), Error> {
    let invalid =
        |reason: String| Error::InvalidRequest(format!("cannot sign with SigV4: {reason}"));
    let identity = Credentials::new(
        options.access_key.clone(),
        options.secret_key.expose(),
        options
            .session_token
            .as_ref()
            .filter(|token| !token.is_empty())
            .map(|token| token.expose().to_owned()),
        None,
        "grafana-data-source-settings",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&options.region)
        .name(&options.service)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|error| invalid(error.to_string()))?
        .into();
    let uri = request.uri().to_string();
    let headers = request
        .headers()
        .iter()
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)));
    let signable = SignableRequest::new(
        request.method().as_str(),
        &uri,
        headers,
        SignableBody::Bytes(request.body()),
    )
    .map_err(|error| invalid(error.to_string()))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|error| invalid(error.to_string()))?
        .into_parts();
    instructions.apply_to_request_http1x(request);
    for (name, value) in request.headers_mut() {
        if name == http::header::AUTHORIZATION || name == "x-amz-security-token" {
            value.set_sensitive(true);
        }
    }
    Ok(())
}
