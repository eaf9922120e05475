//! OAuth 2.0 client credentials (feature `oauth2`, RFC 6749 §4.4): requests
//! without an `Authorization` header get `Bearer <token>`, the token fetched
//! from the token endpoint once and reused until it expires (10 s early, as
//! Go's `golang.org/x/oauth2` does).
//!
//! Concurrent requests wait for one fetch. The token request bypasses the
//! middleware stack (no forwarded user headers reach the token endpoint) but
//! uses the client's connections, TLS, proxy and timeouts. A failed fetch
//! is not cached. Tokens and the client secret are sensitive header values,
//! never logged.
//!
//! For forwarding the *user's* OAuth token instead, see
//! [`HttpClientOptions::oauth_pass_through`](crate::HttpClientOptions::oauth_pass_through).

use std::{
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::{Duration, Instant},
};

use base64::{Engine as _, engine::general_purpose::STANDARD};
use http::{HeaderValue, Method, Request, Response, header};
use tokio::sync::Mutex;
use tower::ServiceExt as _;
use tower_layer::Layer;
use tower_service::Service;

use crate::{
    body::Body,
    error::Error,
    middleware::HttpService,
    options::{OAuth2AuthStyle, OAuth2ClientCredentials},
};

/// How long before its expiry a token is replaced.
const EXPIRY_MARGIN: Duration = Duration::from_secs(10);

/// Layer adding client-credentials tokens; see the [module docs](self).
#[derive(Clone)]
pub struct OAuth2Layer {
    cache: Arc<TokenCache>,
}

impl std::fmt::Debug for OAuth2Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2Layer")
            .field("credentials", &self.cache.credentials)
            .finish_non_exhaustive()
    }
}

impl OAuth2Layer {
    /// Fetches tokens for `credentials` through `token_service` (the
    /// client's transport; [`HttpClientBuilder::build`](crate::HttpClientBuilder::build)
    /// passes its own).
    pub fn new(credentials: OAuth2ClientCredentials, token_service: HttpService) -> Self {
        Self {
            cache: Arc::new(TokenCache {
                credentials,
                token_service,
                token: Mutex::new(None),
            }),
        }
    }
}

impl<S> Layer<S> for OAuth2Layer {
    type Service = OAuth2Service<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OAuth2Service {
            inner,
            cache: self.cache.clone(),
        }
    }
}

/// Service produced by [`OAuth2Layer`].
#[derive(Clone)]
pub struct OAuth2Service<S> {
    inner: S,
    cache: Arc<TokenCache>,
}

impl<S> std::fmt::Debug for OAuth2Service<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuth2Service").finish_non_exhaustive()
    }
}

impl<S> Service<Request<Body>> for OAuth2Service<S>
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

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let cache = self.cache.clone();
        Box::pin(async move {
            if !request.headers().contains_key(header::AUTHORIZATION) {
                let authorization = cache.authorization().await?;
                request
                    .headers_mut()
                    .insert(header::AUTHORIZATION, authorization);
            }
            inner.call(request).await
        })
    }
}

struct TokenCache {
    credentials: OAuth2ClientCredentials,
    token_service: HttpService,
    token: Mutex<Option<CachedToken>>,
}

struct CachedToken {
    authorization: HeaderValue,
    /// `None`: the endpoint gave no lifetime; the token never expires.
    refresh_after: Option<Instant>,
}

impl TokenCache {
    /// The `Authorization` value, fetching a token if none is fresh.
    async fn authorization(&self) -> Result<HeaderValue, Error> {
        let mut slot = self.token.lock().await;
        if let Some(token) = slot.as_ref()
            && token
                .refresh_after
                .is_none_or(|refresh_after| Instant::now() < refresh_after)
        {
            return Ok(token.authorization.clone());
        }
        let token = self.fetch().await?;
        let authorization = token.authorization.clone();
        *slot = Some(token);
        Ok(authorization)
    }

    async fn fetch(&self) -> Result<CachedToken, Error> {
        let credentials = &self.credentials;
        let mut form = vec![("grant_type", "client_credentials")];
        let scope = credentials.scopes.join(" ");
        if !scope.is_empty() {
            form.push(("scope", &scope));
        }
        for (key, value) in &credentials.endpoint_params {
            form.push((key, value));
        }
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(&credentials.token_url)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json");
        match credentials.auth_style {
            OAuth2AuthStyle::Header => {
                // RFC 6749 §2.3.1: both parts form-encoded, then Basic.
                let pair = format!(
                    "{}:{}",
                    form_encode(&credentials.client_id),
                    form_encode(credentials.client_secret.expose())
                );
                let mut value = HeaderValue::from_str(&format!("Basic {}", STANDARD.encode(pair)))
                    .map_err(|_| Error::invalid_setting("oauth2", "unusable client credentials"))?;
                value.set_sensitive(true);
                builder = builder.header(header::AUTHORIZATION, value);
            }
            OAuth2AuthStyle::Params => {
                form.push(("client_id", &credentials.client_id));
                form.push(("client_secret", credentials.client_secret.expose()));
            }
        }
        let body: Vec<String> = form
            .iter()
            .map(|(key, value)| format!("{}={}", form_encode(key), form_encode(value)))
            .collect();
        let request = builder
            .body(Body::from(body.join("&")))
            .map_err(|error| Error::invalid_setting("oauth2.tokenUrl", error.to_string()))?;

        let fail = |reason: String| Error::OAuth2Token {
            token_url: credentials.token_url.clone(),
            reason,
        };
        let response = self
            .token_service
            .clone()
            .oneshot(request)
            .await
            .map_err(|error| {
                let downstream = error.is_downstream_http_error();
                let error = fail(error.to_string());
                if downstream {
                    error.into_downstream()
                } else {
                    error
                }
            })?;
        let status = response.status();
        let bytes = response.into_body().collect_bytes().await?;
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if !status.is_success() {
            // Only the error code: descriptions may echo request values.
            let code = json
                .get("error")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("no error code");
            return Err(fail(format!("status {}: {code}", status.as_u16())));
        }
        let access_token = json
            .get("access_token")
            .and_then(serde_json::Value::as_str)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| fail("the response has no access_token".to_owned()))?;
        let token_type = match json.get("token_type").and_then(serde_json::Value::as_str) {
            // RFC 6750's scheme, whatever case the endpoint answered in.
            None | Some("") => "Bearer",
            Some(kind) if kind.eq_ignore_ascii_case("bearer") => "Bearer",
            Some(kind) => kind,
        };
        let mut authorization = HeaderValue::from_str(&format!("{token_type} {access_token}"))
            .map_err(|_| fail("the access token is not a valid header value".to_owned()))?;
        authorization.set_sensitive(true);
        let expires_in = json
            .get("expires_in")
            .and_then(|value| value.as_u64().or_else(|| value.as_str()?.parse().ok()))
            .filter(|&seconds| seconds > 0);
        Ok(CachedToken {
            authorization,
            refresh_after: expires_in.map(|seconds| {
                (Instant::now() + Duration::from_secs(seconds))
                    .checked_sub(EXPIRY_MARGIN)
                    .unwrap_or_else(Instant::now)
            }),
        })
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
fn form_encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                encoded.push(char::from(byte));
            }
            b' ' => encoded.push('+'),
            other => encoded.push_str(&format!("%{other:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_encoding_escapes_reserved_bytes() {
        assert_eq!(form_encode("a b&c=d/é~"), "a+b%26c%3Dd%2F%C3%A9~");
    }
}
