//! What hyper's HTTP/2 server (the `h2` crate) does with the `:authority`
//! that gRPC C-core (Python, C++, Ruby), grpc-java and grpcurl send over a
//! unix socket: the socket path, raw or %-encoded. It is not a valid
//! authority (RFC 3986 §3.2: no `/`, and `%` only in userinfo), and h2
//! resets the stream with PROTOCOL_ERROR; h2 has no setting that relaxes
//! this (hyperium/h2#487 is unmerged). The README's troubleshooting section
//! documents the limitation and the workaround, a valid authority such as
//! `localhost`, which this test also checks on the same connection.
//!
//! The client writes HTTP/2 frames by hand: `h2`'s own client takes the
//! authority from an `http::Uri`, which cannot hold these values either.
//! If h2 ever accepts them, the first assertion fails: then update the
//! README and turn the test around.

#![cfg(unix)]

use std::time::Duration;

use plugin_backend::{CheckHealthHandler, CheckHealthRequest, CheckHealthResult, Error, Plugin};
use plugin_serve::{Listener, ServeOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// The client connection preface (RFC 9113 §3.4).
const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;

const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

/// RST_STREAM's error code for a malformed request.
const PROTOCOL_ERROR: u32 = 0x1;

/// How one call ended.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// The server reset the stream with this error code.
    Reset(u32),
    /// The server answered; these are the gRPC messages it sent.
    Answered(Vec<Vec<u8>>),
}

struct Healthy;

impl CheckHealthHandler for Healthy {
    async fn check_health(&self, _: CheckHealthRequest) -> Result<CheckHealthResult, Error> {
        Ok(CheckHealthResult::ok("all good"))
    }
}

/// `n` as an HPACK integer with an `prefix_bits`-bit prefix (RFC 7541 §5.1),
/// the prefix's other bits being `flags`.
fn hpack_integer(out: &mut Vec<u8>, flags: u8, prefix_bits: u32, mut n: usize) {
    let max = (1usize << prefix_bits) - 1;
    if n < max {
        out.push(flags | n as u8);
        return;
    }
    out.push(flags | max as u8);
    n -= max;
    while n >= 128 {
        out.push((n % 128) as u8 | 0x80);
        n /= 128;
    }
    out.push(n as u8);
}

/// A header block of literals without indexing and with literal names, no
/// Huffman coding: the encoder's simplest form, valid for any value.
fn header_block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in fields {
        block.push(0x00);
        for string in [name, value] {
            hpack_integer(&mut block, 0x00, 7, string.len());
            block.extend_from_slice(string.as_bytes());
        }
    }
    block
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut out = Vec::with_capacity(9 + payload.len());
    out.extend_from_slice(&length[1..]);
    out.extend_from_slice(&[kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A raw HTTP/2 client connection.
struct Connection {
    stream: UnixStream,
}

impl Connection {
    async fn open(path: &std::path::Path) -> Self {
        let mut stream = UnixStream::connect(path).await.unwrap();
        stream.write_all(PREFACE).await.unwrap();
        stream.write_all(&frame(SETTINGS, 0, 0, &[])).await.unwrap();
        Connection { stream }
    }

    /// Calls `grpc.health.v1.Health/Check` for service `plugin` on `stream`
    /// with `authority`, and reads until the call ends.
    async fn health_check(&mut self, stream: u32, authority: &str) -> Outcome {
        let headers = header_block(&[
            (":method", "POST"),
            (":scheme", "http"),
            (":path", "/grpc.health.v1.Health/Check"),
            (":authority", authority),
            ("content-type", "application/grpc"),
            ("te", "trailers"),
        ]);
        // HealthCheckRequest { service: "plugin" }, in gRPC's length-prefixed
        // message framing.
        let message = b"\x0a\x06plugin";
        let mut body = vec![0];
        body.extend_from_slice(&u32::try_from(message.len()).unwrap().to_be_bytes());
        body.extend_from_slice(message);

        let mut request = frame(HEADERS, END_HEADERS, stream, &headers);
        request.extend(frame(DATA, END_STREAM, stream, &body));
        self.stream.write_all(&request).await.unwrap();

        tokio::time::timeout(Duration::from_secs(10), self.read_until_end_of(stream))
            .await
            .expect("the server ends the call")
    }

    async fn read_until_end_of(&mut self, stream: u32) -> Outcome {
        let mut data = Vec::new();
        loop {
            let mut header = [0; 9];
            self.stream.read_exact(&mut header).await.unwrap();
            let length = u32::from_be_bytes([0, header[0], header[1], header[2]]) as usize;
            let (kind, flags) = (header[3], header[4]);
            let id = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & !(1 << 31);
            let mut payload = vec![0; length];
            self.stream.read_exact(&mut payload).await.unwrap();

            match kind {
                SETTINGS if flags & ACK == 0 => {
                    self.stream
                        .write_all(&frame(SETTINGS, ACK, 0, &[]))
                        .await
                        .unwrap();
                }
                GOAWAY => panic!("the server closed the connection: {payload:?}"),
                RST_STREAM if id == stream => {
                    let code = u32::from_be_bytes(payload[..4].try_into().unwrap());
                    return Outcome::Reset(code);
                }
                DATA if id == stream => data.extend_from_slice(&payload),
                _ => {}
            }
            if id == stream && matches!(kind, DATA | HEADERS) && flags & END_STREAM != 0 {
                return Outcome::Answered(grpc_messages(&data));
            }
        }
    }
}

/// Splits a gRPC response body into its messages.
fn grpc_messages(mut body: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    while body.len() >= 5 {
        let length = u32::from_be_bytes(body[1..5].try_into().unwrap()) as usize;
        messages.push(body[5..5 + length].to_vec());
        body = &body[5 + length..];
    }
    assert!(body.is_empty(), "a truncated gRPC message");
    messages
}

/// What each client sends as `:authority` for a socket at `path`.
fn socket_path_authorities(path: &str) -> [(&'static str, String); 3] {
    let percent_encoded = path.replace('%', "%25").replace('/', "%2F");
    [
        // gRPC C-core from 1.57 on: grpc/grpc#38142.
        ("C-core", percent_encoded.clone()),
        ("C-core, unix: target", format!("unix:{percent_encoded}")),
        // grpc-java, grpcurl: the path itself.
        ("grpc-java", path.to_owned()),
    ]
}

#[tokio::test]
async fn a_socket_path_as_authority_is_reset_and_localhost_is_served() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("plugin123");
    let listener = Listener::from(tokio::net::UnixListener::bind(&path).unwrap());
    let options = ServeOptions::new();
    let shutdown = options.shutdown().clone();
    let server = tokio::spawn(plugin_serve::serve_on(
        Plugin::new().with_check_health(Healthy),
        listener,
        options,
    ));

    let mut connection = Connection::open(&path).await;
    let mut stream = 1;
    for (client, authority) in socket_path_authorities(&path.display().to_string()) {
        assert_eq!(
            connection.health_check(stream, &authority).await,
            Outcome::Reset(PROTOCOL_ERROR),
            "{client} sends {authority:?}"
        );
        stream += 2;
    }
    // The workaround, on the same connection: a reset stream leaves the
    // connection usable.
    assert_eq!(
        connection.health_check(stream, "localhost").await,
        // HealthCheckResponse { status: SERVING }
        Outcome::Answered(vec![vec![0x08, 0x01]])
    );

    // Closed first: the server would wait for an open connection to go.
    drop(connection);
    shutdown.trigger();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("the server stops once triggered")
        .unwrap();
}
