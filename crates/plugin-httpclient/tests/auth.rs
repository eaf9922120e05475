//! Outgoing authentication against local servers: AWS SigV4 signatures
//! that verify against what arrived (feature `sigv4`), OAuth 2.0
//! client-credentials tokens fetched once and cached (feature `oauth2`).
#![cfg(all(feature = "sigv4", feature = "oauth2"))]

mod common;

use std::{
    collections::HashMap,
    convert::Infallible,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, SystemTime},
};

use bytes::Bytes;
use http::{Request, Response, StatusCode, request::Parts};
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use plugin_httpclient::{
    DataSourceSettings, Error, HttpClient, HttpClientOptions, OAuth2AuthStyle,
    OAuth2ClientCredentials, ProxyOptions, SigV4Options,
};
use tokio::net::TcpListener;

use common::options;

/// What a server received: the request head and its whole body.
type Received = Arc<Mutex<Vec<(Parts, Bytes)>>>;

/// Serves HTTP/1.1, recording each request and answering with `respond`.
async fn spawn_recording<F>(respond: F) -> (SocketAddr, Received)
where
    F: Fn(&Parts, &Bytes) -> Response<Full<Bytes>> + Send + Sync + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let received: Received = Arc::default();
    let respond = Arc::new(respond);
    let log = received.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let respond = respond.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                    let respond = respond.clone();
                    let log = log.clone();
                    async move {
                        let (parts, body) = request.into_parts();
                        let body = body.collect().await.unwrap().to_bytes();
                        let response = respond(&parts, &body);
                        log.lock().unwrap().push((parts, body));
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, received)
}

fn ok() -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"ok")))
}

/// Seconds since the epoch of an `X-Amz-Date` (`20261203T131500Z`).
fn parse_amz_date(text: &str) -> SystemTime {
    let number = |range: std::ops::Range<usize>| text[range].parse::<i64>().unwrap();
    let (year, month, day) = (number(0..4), number(4..6), number(6..8));
    let (hour, minute, second) = (number(9..11), number(11..13), number(13..15));
    // Days from the civil date (H. Hinnant's algorithm).
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(seconds).unwrap())
}

/// Recomputes the signature of a received request, as AWS would: same
/// method, URI, signed headers and body, same time and scope.
fn expected_authorization(parts: &Parts, body: &Bytes, options: &SigV4Options) -> String {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};

    let header = |name: &str| parts.headers[name].to_str().unwrap().to_owned();
    let authorization = header("authorization");
    let signed: Vec<&str> = authorization
        .split("SignedHeaders=")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .split(';')
        .collect();
    let headers: Vec<(String, String)> = signed
        .iter()
        .filter(|name| **name != "x-amz-date" && **name != "x-amz-security-token")
        .map(|name| (name.to_string(), header(name)))
        .collect();
    let uri = format!("http://{}{}", header("host"), parts.uri);
    let identity = aws_credential_types::Credentials::new(
        options.access_key.clone(),
        options.secret_key.expose(),
        options
            .session_token
            .as_ref()
            .map(|token| token.expose().to_owned()),
        None,
        "test",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(&options.region)
        .name(&options.service)
        .time(parse_amz_date(&header("x-amz-date")))
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        parts.method.as_str(),
        &uri,
        headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = Request::new(());
    instructions.apply_to_request_http1x(&mut request);
    request.headers()["authorization"]
        .to_str()
        .unwrap()
        .to_owned()
}

fn sigv4_settings_options() -> HttpClientOptions {
    let json = serde_json::json!({
        "sigV4Auth": true,
        "sigV4AuthType": "keys",
        "sigV4Region": "eu-west-1",
    });
    let secure: HashMap<String, String> = [
        ("sigV4AccessKey", "AKIDEXAMPLE"),
        ("sigV4SecretKey", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        ("sigV4SessionToken", "session-token-value"),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value.to_owned()))
    .collect();
    let mut options =
        HttpClientOptions::from_data_source_settings(&DataSourceSettings::new(&json, &secure))
            .unwrap();
    options.proxy = ProxyOptions::none();
    options
}

#[tokio::test]
async fn sigv4_signatures_verify_against_what_arrived() {
    let (address, received) = spawn_recording(|_, _| ok()).await;
    let mut options = sigv4_settings_options();
    let sigv4 = options.sigv4.as_mut().expect("sigV4Auth is on");
    assert_eq!(sigv4.region, "eu-west-1");
    sigv4.service = "aps".to_owned();
    let sigv4 = sigv4.clone();
    let debug = format!("{sigv4:?}");
    assert!(!debug.contains("wJalrXUtnFEMI"), "{debug}");
    assert!(!debug.contains("session-token-value"), "{debug}");

    let mut custom = options.clone();
    custom
        .headers
        .insert("x-scope-orgid", "tenant-1".parse().unwrap());
    let client = HttpClient::new(custom).unwrap();
    let request = Request::post(format!("http://{address}/api/v1/query?query=up&time=1"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("query=up")
        .unwrap();
    let response = client.send(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    let received = received.lock().unwrap();
    let (parts, body) = &received[0];
    let authorization = parts.headers["authorization"].to_str().unwrap();
    let amz_date = parts.headers["x-amz-date"].to_str().unwrap();
    assert_eq!(amz_date.len(), 16, "{amz_date}");
    assert!(
        authorization.starts_with(&format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/{}/eu-west-1/aps/aws4_request, SignedHeaders=",
            &amz_date[..8]
        )),
        "{authorization}"
    );
    assert!(
        authorization.contains("x-scope-orgid"),
        "custom headers are signed: {authorization}"
    );
    assert_eq!(parts.headers["x-amz-security-token"], "session-token-value");
    assert_eq!(body.as_ref(), b"query=up");
    assert_eq!(authorization, expected_authorization(parts, body, &sigv4));
}

#[tokio::test]
async fn sigv4_settings_that_cannot_sign_are_refused() {
    let mut options = sigv4_settings_options();
    let error = HttpClient::new(options.clone()).unwrap_err();
    assert!(
        matches!(error, Error::InvalidSetting { ref key, .. } if key == "sigV4Service"),
        "{error}"
    );

    let sigv4 = options.sigv4.as_mut().unwrap();
    sigv4.service = "es".to_owned();
    sigv4.auth_type = "default".to_owned();
    let error = HttpClient::new(options).unwrap_err();
    assert!(
        matches!(error, Error::InvalidSetting { ref key, .. } if key == "sigV4AuthType"),
        "{error}"
    );

    let mut by_hand = common::options();
    by_hand.sigv4 = Some(SigV4Options::with_keys("us-east-1", "es", "AKID", ""));
    let error = HttpClient::new(by_hand).unwrap_err();
    assert!(
        matches!(error, Error::InvalidSetting { ref key, .. } if key == "sigV4SecretKey"),
        "{error}"
    );
}

/// A token endpoint issuing `tok-1`, `tok-2`, ... valid for `expires_in`
/// seconds, counting its calls.
async fn spawn_token_endpoint(expires_in: u64) -> (SocketAddr, Received, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let (address, received) = spawn_recording(move |_, _| {
        let call = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let body = serde_json::json!({
            "access_token": format!("tok-{call}"),
            "token_type": "bearer",
            "expires_in": expires_in,
        });
        Response::new(Full::new(Bytes::from(body.to_string())))
    })
    .await;
    (address, received, calls)
}

fn oauth2_client(token: SocketAddr, auth_style: OAuth2AuthStyle) -> HttpClient {
    let mut options = options();
    let mut credentials = OAuth2ClientCredentials::new(
        format!("http://{token}/oauth/token"),
        "my-client",
        "s3cr3t&x",
    )
    .with_scopes(["read", "write"]);
    credentials.auth_style = auth_style;
    let debug = format!("{credentials:?}");
    assert!(!debug.contains("s3cr3t"), "{debug}");
    options.oauth2 = Some(credentials);
    HttpClient::new(options).unwrap()
}

#[tokio::test]
async fn oauth2_tokens_are_fetched_once_and_cached() {
    let (token, token_requests, calls) = spawn_token_endpoint(3600).await;
    let (api, api_requests) = spawn_recording(|_, _| ok()).await;
    let client = oauth2_client(token, OAuth2AuthStyle::Header);

    let requests = (0..3).map(|_| client.get(format!("http://{api}/data")));
    for response in futures_util::future::join_all(requests).await {
        assert_eq!(response.unwrap().status(), StatusCode::OK);
    }
    assert_eq!(
        calls.load(Ordering::SeqCst),
        1,
        "one fetch for concurrent requests"
    );
    for (parts, _) in api_requests.lock().unwrap().iter() {
        assert_eq!(parts.headers["authorization"], "Bearer tok-1");
    }

    {
        let token_requests = token_requests.lock().unwrap();
        let (parts, body) = &token_requests[0];
        assert_eq!(parts.method, http::Method::POST);
        assert_eq!(parts.uri.path(), "/oauth/token");
        assert_eq!(
            parts.headers["content-type"],
            "application/x-www-form-urlencoded"
        );
        // base64("my-client:s3cr3t%26x"): RFC 6749 §2.3.1 form-encodes both.
        assert_eq!(
            parts.headers["authorization"],
            "Basic bXktY2xpZW50OnMzY3IzdCUyNng="
        );
        assert_eq!(
            body.as_ref(),
            b"grant_type=client_credentials&scope=read+write"
        );
    }

    // A request with its own credentials keeps them.
    let request = Request::get(format!("http://{api}/own"))
        .header("authorization", "Bearer mine")
        .body(())
        .unwrap();
    client.send(request).await.unwrap();
    assert_eq!(
        api_requests.lock().unwrap().last().unwrap().0.headers["authorization"],
        "Bearer mine"
    );
}

#[tokio::test]
async fn oauth2_tokens_about_to_expire_are_replaced() {
    // 5 s is inside the 10 s early-expiry margin: every request refreshes.
    let (token, token_requests, calls) = spawn_token_endpoint(5).await;
    let (api, api_requests) = spawn_recording(|_, _| ok()).await;
    let client = oauth2_client(token, OAuth2AuthStyle::Params);
    client.get(format!("http://{api}/a")).await.unwrap();
    client.get(format!("http://{api}/b")).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    let seen: Vec<String> = api_requests
        .lock()
        .unwrap()
        .iter()
        .map(|(parts, _)| parts.headers["authorization"].to_str().unwrap().to_owned())
        .collect();
    assert_eq!(seen, ["Bearer tok-1", "Bearer tok-2"]);
    let token_requests = token_requests.lock().unwrap();
    let (parts, body) = &token_requests[0];
    assert!(!parts.headers.contains_key("authorization"));
    assert_eq!(
        body.as_ref(),
        b"grant_type=client_credentials&scope=read+write&client_id=my-client&client_secret=s3cr3t%26x"
    );
}

#[tokio::test]
async fn a_refused_token_request_is_a_clear_error_and_not_cached() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let (token, _) = spawn_recording(move |_, _| {
        counter.fetch_add(1, Ordering::SeqCst);
        let mut response = Response::new(Full::new(Bytes::from_static(
            br#"{"error":"invalid_client","error_description":"secret s3cr3t is wrong"}"#,
        )));
        *response.status_mut() = StatusCode::UNAUTHORIZED;
        response
    })
    .await;
    let (api, api_requests) = spawn_recording(|_, _| ok()).await;
    let client = oauth2_client(token, OAuth2AuthStyle::Header);
    for _ in 0..2 {
        let error = client.get(format!("http://{api}/")).await.unwrap_err();
        let text = error.to_string();
        assert!(text.contains("status 401: invalid_client"), "{text}");
        assert!(!text.contains("s3cr3t"), "{text}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(
        api_requests.lock().unwrap().is_empty(),
        "nothing sent unauthenticated"
    );
}
