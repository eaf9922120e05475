//! [`Body`], the request and response body type of [`HttpClient`](crate::HttpClient).
//!
//! One type for both directions keeps every middleware's signature
//! `Request<Body> -> Response<Body>`, so layers compose and can be boxed into
//! a named, removable stack.

use std::{
    fmt,
    pin::Pin,
    task::{Context, Poll},
};

use bytes::Bytes;
use http_body::{Frame, SizeHint};
use http_body_util::{BodyExt, Empty, Full, combinators::UnsyncBoxBody};

use crate::error::{BoxError, Error};

/// A streaming HTTP body whose errors are this crate's [`Error`].
pub struct Body(UnsyncBoxBody<Bytes, Error>);

impl Body {
    /// Wraps any [`http_body::Body`] of [`Bytes`].
    ///
    /// Errors that already are an [`Error`] pass through unchanged; others
    /// become [`Error::Other`].
    pub fn new<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        Self(body.map_err(Error::other).boxed_unsync())
    }

    /// Wraps a body whose errors are already this crate's [`Error`], without
    /// an extra conversion step.
    pub(crate) fn from_body<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes, Error = Error> + Send + 'static,
    {
        Self(body.boxed_unsync())
    }

    /// An empty body.
    pub fn empty() -> Self {
        Self::from_body(Empty::new().map_err(|never| match never {}))
    }

    /// Reads the whole body into memory.
    pub async fn collect_bytes(self) -> Result<Bytes, Error> {
        Ok(self.collect().await?.to_bytes())
    }

    /// Reads the whole body and decodes it as UTF-8 (invalid sequences are
    /// replaced, as data source error pages are not always valid UTF-8).
    pub async fn text(self) -> Result<String, Error> {
        let bytes = self.collect_bytes().await?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

impl Default for Body {
    fn default() -> Self {
        Self::empty()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Body")
            .field("size_hint", &http_body::Body::size_hint(&self.0))
            .finish_non_exhaustive()
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Self::from_body(Full::new(bytes).map_err(|never| match never {}))
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from(Bytes::from(bytes))
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Self::from(Bytes::from(text))
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Self::from(Bytes::from_static(text.as_bytes()))
    }
}

impl From<()> for Body {
    fn from((): ()) -> Self {
        Self::empty()
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.0).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.0.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn conversions_round_trip() {
        assert_eq!(Body::from("abc").text().await.unwrap(), "abc");
        assert_eq!(
            Body::from(vec![1u8, 2]).collect_bytes().await.unwrap(),
            [1, 2][..]
        );
        assert!(Body::empty().collect_bytes().await.unwrap().is_empty());
        assert_eq!(
            http_body::Body::size_hint(&Body::from(String::from("x"))).exact(),
            Some(1)
        );
    }
}
