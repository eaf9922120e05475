//! Building the `http::Request` a service sees from a
//! [`CallResourceRequest`].

use bytes::Bytes;
use http::{Request, Uri};
use http_body_util::Full;
use plugin_backend::CallResourceRequest;

use crate::error::Error;

/// The body type of the requests the service receives: the whole request
/// body, which Grafana sends in one message.
pub type ResourceRequestBody = Full<Bytes>;

/// The HTTP request for `request`, as the Go SDK's adapter builds it:
///
/// * the target is the resource path, with a leading `/` added, plus the
///   raw query of the request URL;
/// * method, headers (every value of repeated ones) and body are copied;
/// * the [`PluginContext`](plugin_backend::PluginContext) and, when there is
///   one, the [`User`](plugin_backend::User) go into the extensions.
pub(crate) fn http_request(
    request: CallResourceRequest,
) -> Result<Request<ResourceRequestBody>, Error> {
    let CallResourceRequest {
        plugin_context,
        path,
        method,
        url,
        headers,
        body,
        ..
    } = request;
    let target = request_target(&path, &url);
    let uri = Uri::try_from(target.as_str()).map_err(|source| Error::InvalidUrl {
        url: target,
        source: source.into(),
    })?;

    let mut http_request = Request::new(Full::new(body));
    *http_request.method_mut() = method;
    *http_request.uri_mut() = uri;
    *http_request.headers_mut() = headers;
    let extensions = http_request.extensions_mut();
    if let Some(user) = plugin_context.user.clone() {
        extensions.insert(user);
    }
    extensions.insert(plugin_context);
    Ok(http_request)
}

/// `/<path>?<raw query of url>`, with the bytes that `http` does not accept
/// in a request target percent-encoded.
///
/// Grafana sends the path decoded, so it may hold spaces or non-ASCII
/// characters that a request target cannot; Go's `url.Parse` accepts them
/// and so must we. A `?` in the path starts the query, as it does in Go,
/// where the target is built by concatenation too.
fn request_target(path: &str, url: &str) -> String {
    let query = raw_query(url);
    let mut target = String::with_capacity(path.len() + query.map_or(0, str::len) + 2);
    if !path.starts_with('/') {
        target.push('/');
    }
    percent_encode_into(&mut target, path);
    if let Some(query) = query.filter(|query| !query.is_empty()) {
        target.push('?');
        percent_encode_into(&mut target, query);
    }
    target
}

/// The raw query of `url`: after the first `?`, before any `#`.
fn raw_query(url: &str) -> Option<&str> {
    let (_, query) = url.split_once('?')?;
    Some(
        query
            .split_once('#')
            .map_or(query, |(query, _fragment)| query),
    )
}

fn percent_encode_into(target: &mut String, text: &str) {
    for &byte in text.as_bytes() {
        if is_target_byte(byte) {
            target.push(char::from(byte));
        } else {
            target.push('%');
            target.push(char::from(HEX[usize::from(byte >> 4)]));
            target.push(char::from(HEX[usize::from(byte & 0x0F)]));
        }
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Bytes a request target may hold as they are: RFC 3986 unreserved and
/// sub-delimiters, `:`, `@`, `/`, `?`, and `%` (the path may already be
/// percent-encoded, and encoding it twice would change its meaning).
fn is_target_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric()
        || matches!(
            byte,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
                | b'/'
                | b'?'
                | b'%'
        )
}

#[cfg(test)]
mod tests {
    use http::{HeaderValue, Method, header};
    use plugin_backend::{PluginContext, User};

    use super::*;

    fn target(path: &str, url: &str) -> String {
        let mut request = CallResourceRequest::new(Method::GET, path);
        request.url = url.to_owned();
        http_request(request).unwrap().uri().to_string()
    }

    #[test]
    fn target_is_built_like_the_go_adapter() {
        assert_eq!(
            target("api/items", "/api/items?limit=10&sort=name"),
            "/api/items?limit=10&sort=name"
        );
        assert_eq!(
            target("/already/slashed", "/already/slashed"),
            "/already/slashed"
        );
        assert_eq!(target("", "?q=1"), "/?q=1");
        assert_eq!(target("items", "/items?"), "/items");
        assert_eq!(target("items", "/items?a=1#fragment"), "/items?a=1");
        assert_eq!(target("a b/ü", "/ignored?x=y z"), "/a%20b/%C3%BC?x=y%20z");
        assert_eq!(target("encoded%2Fslash", ""), "/encoded%2Fslash");
        assert_eq!(target("hash#tag", ""), "/hash%23tag");
    }

    #[test]
    fn method_headers_body_and_context_are_carried_over() {
        let mut request = CallResourceRequest::new(Method::POST, "items");
        request
            .headers
            .append(header::ACCEPT, HeaderValue::from_static("text/plain"));
        request
            .headers
            .append(header::ACCEPT, HeaderValue::from_static("application/json"));
        request.body = Bytes::from_static(b"{}");
        request.plugin_context = PluginContext::new("my-app").with_user(User::new("admin"));

        let http_request = http_request(request).unwrap();
        assert_eq!(http_request.method(), Method::POST);
        let accept: Vec<_> = http_request
            .headers()
            .get_all(header::ACCEPT)
            .iter()
            .collect();
        assert_eq!(accept, ["text/plain", "application/json"]);
        assert_eq!(
            http_request
                .extensions()
                .get::<PluginContext>()
                .unwrap()
                .plugin_id,
            "my-app"
        );
        assert_eq!(
            http_request.extensions().get::<User>().unwrap().login,
            "admin"
        );
    }
}
