//! Resource calls ↔ wire messages.

use std::collections::HashMap;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use plugin_proto::pluginv2;

use super::required_plugin_context;
use crate::error::Error;
use crate::resource::{CallResourceRequest, CallResourceResponse};

/// The header map of a wire header list; invalid names or values, and more
/// headers than an `http::HeaderMap` holds, are errors.
fn headers_from_proto(headers: HashMap<String, pluginv2::StringList>) -> Result<HeaderMap, Error> {
    let too_many = |_| {
        Error::invalid(
            "resource headers",
            "more headers than an HTTP request holds",
        )
    };
    let mut map = HeaderMap::try_with_capacity(headers.len()).map_err(too_many)?;
    for (name, values) in headers {
        let name = HeaderName::try_from(name.as_str()).map_err(|_| {
            Error::invalid(
                "resource header",
                format!("{name:?} is not a valid header name"),
            )
        })?;
        for value in values.values {
            let value = HeaderValue::try_from(value).map_err(|_| {
                Error::invalid(
                    "resource header",
                    format!("the value of {name} is not valid"),
                )
            })?;
            map.try_append(name.clone(), value).map_err(too_many)?;
        }
    }
    Ok(map)
}

/// The wire header list of a header map, with names in Go's canonical form
/// (`Content-Type`), which is what Grafana's Go code expects to look up.
fn headers_to_proto(headers: &HeaderMap) -> HashMap<String, pluginv2::StringList> {
    let mut list: HashMap<String, pluginv2::StringList> =
        HashMap::with_capacity(headers.keys_len());
    for name in headers.keys() {
        let values = headers
            .get_all(name)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect();
        list.insert(
            canonical_header_name(name.as_str()),
            pluginv2::StringList { values },
        );
    }
    list
}

/// `content-type` → `Content-Type`: upper-case the first letter and every
/// letter after a dash, as Go's `textproto.CanonicalMIMEHeaderKey` does.
fn canonical_header_name(name: &str) -> String {
    let mut upper = true;
    name.chars()
        .map(|c| {
            let mapped = if upper {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            };
            upper = c == '-';
            mapped
        })
        .collect()
}

impl TryFrom<pluginv2::CallResourceRequest> for CallResourceRequest {
    type Error = Error;

    fn try_from(message: pluginv2::CallResourceRequest) -> Result<Self, Error> {
        let method = Method::from_bytes(message.method.as_bytes()).map_err(|_| {
            Error::invalid(
                "resource method",
                format!("{:?} is not an HTTP method", message.method),
            )
        })?;
        Ok(CallResourceRequest {
            plugin_context: required_plugin_context(message.plugin_context)?,
            path: message.path,
            method,
            url: message.url,
            headers: headers_from_proto(message.headers)?,
            body: message.body,
        })
    }
}

impl From<CallResourceRequest> for pluginv2::CallResourceRequest {
    fn from(request: CallResourceRequest) -> Self {
        pluginv2::CallResourceRequest {
            plugin_context: Some(request.plugin_context.into()),
            path: request.path,
            method: request.method.as_str().to_owned(),
            url: request.url,
            headers: headers_to_proto(&request.headers),
            body: request.body,
        }
    }
}

impl TryFrom<pluginv2::CallResourceResponse> for CallResourceResponse {
    type Error = Error;

    fn try_from(message: pluginv2::CallResourceResponse) -> Result<Self, Error> {
        let status = match message.code {
            0 => None,
            code => Some(
                u16::try_from(code)
                    .ok()
                    .and_then(|code| StatusCode::from_u16(code).ok())
                    .ok_or_else(|| {
                        Error::invalid("resource status", format!("{code} is not an HTTP status"))
                    })?,
            ),
        };
        Ok(CallResourceResponse {
            status,
            headers: headers_from_proto(message.headers)?,
            body: message.body,
        })
    }
}

impl From<CallResourceResponse> for pluginv2::CallResourceResponse {
    fn from(response: CallResourceResponse) -> Self {
        pluginv2::CallResourceResponse {
            code: response
                .status
                .map(|status| i32::from(status.as_u16()))
                .unwrap_or_default(),
            headers: headers_to_proto(&response.headers),
            body: response.body,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_are_canonicalised_for_grafana() {
        assert_eq!(canonical_header_name("content-type"), "Content-Type");
        assert_eq!(
            canonical_header_name("x-grafana-org-id"),
            "X-Grafana-Org-Id"
        );
        assert_eq!(canonical_header_name("etag"), "Etag");
    }

    #[test]
    fn invalid_headers_and_statuses_are_errors() {
        let bad_name = pluginv2::CallResourceResponse {
            code: 200,
            headers: [(
                "bad header".to_owned(),
                pluginv2::StringList {
                    values: vec!["x".into()],
                },
            )]
            .into(),
            ..Default::default()
        };
        assert!(CallResourceResponse::try_from(bad_name).is_err());
        let bad_status = pluginv2::CallResourceResponse {
            code: 42,
            ..Default::default()
        };
        assert!(CallResourceResponse::try_from(bad_status).is_err());
        let continuation = pluginv2::CallResourceResponse {
            body: "more".into(),
            ..Default::default()
        };
        assert_eq!(
            CallResourceResponse::try_from(continuation).unwrap().status,
            None
        );
    }
}
