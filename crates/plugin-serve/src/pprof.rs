//! CPU profiling over HTTP (feature `pprof`), switched on as Grafana
//! switches it on for Go plugins.
//!
//! | variable | meaning | default |
//! |---|---|---|
//! | `GF_PLUGIN_PROFILING_ENABLED` | `true` to serve profiles (`profiling_enabled` in `[plugin.<id>]`) | off |
//! | `GF_PLUGINS_PROFILER` | deprecated: the plugin id to profile | |
//! | `GF_PLUGIN_PROFILING_PORT` | the port | 6060 |
//! | `GF_PLUGINS_PROFILER_PORT` | deprecated port variable, read first | |
//!
//! The endpoint listens on 127.0.0.1 only (the Go SDK listens on every
//! interface) and serves:
//!
//! * `/debug/pprof/profile?seconds=N`: a CPU profile over `N` seconds
//!   (default 30, at most 300) in pprof's gzip-less protobuf format, as
//!   `go tool pprof` and Grafana Pyroscope read it;
//! * `/debug/pprof/cmdline`: the command line, NUL-separated;
//! * `/debug/pprof/`: an index of the above.
//!
//! Go's heap, block, mutex and trace profiles have no equivalent here.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use pprof::protos::Message as _;
use tokio::net::TcpListener;

use crate::error::Error;

/// The variable that switches profiling on.
pub const PROFILING_ENABLED_ENV: &str = "GF_PLUGIN_PROFILING_ENABLED";
/// The deprecated variable naming the plugin id to profile.
pub const PROFILER_DEPRECATED_ENV: &str = "GF_PLUGINS_PROFILER";
/// The variable with the port.
pub const PROFILING_PORT_ENV: &str = "GF_PLUGIN_PROFILING_PORT";
/// The deprecated variable with the port.
pub const PROFILER_PORT_DEPRECATED_ENV: &str = "GF_PLUGINS_PROFILER_PORT";
/// The port when none is set.
pub const DEFAULT_PROFILING_PORT: u16 = 6060;

/// Sampling frequency of CPU profiles, in Hz (Go's default rate).
const SAMPLING_HZ: i32 = 100;
/// Longest CPU profile served.
const MAX_PROFILE_SECONDS: u64 = 300;
/// CPU profile length without `seconds`.
const DEFAULT_PROFILE_SECONDS: u64 = 30;

/// The port to serve profiles on, when the environment asks for profiling.
pub fn port_from_env(plugin_id: &str) -> Result<Option<u16>, Error> {
    let enabled = match std::env::var(PROFILER_DEPRECATED_ENV) {
        Ok(profiled_id) => profiled_id == plugin_id,
        Err(_) => std::env::var(PROFILING_ENABLED_ENV).is_ok_and(|value| value == "true"),
    };
    if !enabled {
        return Ok(None);
    }
    for name in [PROFILER_PORT_DEPRECATED_ENV, PROFILING_PORT_ENV] {
        if let Ok(value) = std::env::var(name) {
            return value
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| Error::invalid_env(name, &value, "not a port number"));
        }
    }
    Ok(Some(DEFAULT_PROFILING_PORT))
}

/// Starts the profiling endpoint in the background when the environment
/// asks for it; problems are logged, never fatal.
pub(crate) fn start_from_env(plugin_id: &str) {
    match port_from_env(plugin_id) {
        Ok(None) => {}
        Ok(Some(port)) => {
            tokio::spawn(async move {
                let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
                if let Err(err) = serve(address).await {
                    tracing::error!(error = %err, "cannot serve profiles");
                }
            });
        }
        Err(err) => tracing::error!(error = %err, "profiling not started"),
    }
}

/// Serves the profiling endpoint on `address` until the process exits.
pub async fn serve(address: SocketAddr) -> Result<(), Error> {
    let listener = TcpListener::bind(address)
        .await
        .map_err(|source| Error::Listen {
            address: address.to_string(),
            source,
        })?;
    tracing::info!(%address, "profiling enabled");
    serve_on(listener).await
}

/// Serves the profiling endpoint on an already bound listener.
pub async fn serve_on(listener: TcpListener) -> Result<(), Error> {
    loop {
        let (stream, _) = listener
            .accept()
            .await
            .map_err(|err| Error::io("accepting a profiling connection", err))?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(|request| async move {
                Ok::<_, Infallible>(route(request).await)
            });
            if let Err(err) = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(error = %err, "profiling connection failed");
            }
        });
    }
}

/// Answers one request.
async fn route(request: Request<Incoming>) -> Response<Full<Bytes>> {
    match request.uri().path() {
        "/debug/pprof/profile" => match profile_seconds(request.uri().query()) {
            Ok(seconds) => cpu_profile(Duration::from_secs(seconds)).await,
            Err(message) => text(StatusCode::BAD_REQUEST, message),
        },
        "/debug/pprof/cmdline" => text(
            StatusCode::OK,
            std::env::args().collect::<Vec<_>>().join("\0"),
        ),
        "/debug/pprof/" | "/debug/pprof" => text(
            StatusCode::OK,
            "profile: CPU profile (?seconds=N), pprof protobuf\ncmdline: the command line\n"
                .to_owned(),
        ),
        _ => text(StatusCode::NOT_FOUND, "404 page not found\n".to_owned()),
    }
}

/// The `seconds` parameter of a profile request.
fn profile_seconds(query: Option<&str>) -> Result<u64, String> {
    let value = query
        .unwrap_or_default()
        .split('&')
        .find_map(|pair| pair.strip_prefix("seconds="))
        .map(|value| {
            value
                .parse::<u64>()
                .map_err(|_| format!("invalid seconds {value:?}\n"))
        })
        .transpose()?
        .unwrap_or(DEFAULT_PROFILE_SECONDS);
    match value {
        0 => Err("seconds must be positive\n".to_owned()),
        seconds => Ok(seconds.min(MAX_PROFILE_SECONDS)),
    }
}

/// Samples the process for `duration` and answers with the profile.
async fn cpu_profile(duration: Duration) -> Response<Full<Bytes>> {
    let (done, profile) = tokio::sync::oneshot::channel();
    // The profiler samples with signals and symbolizes synchronously; a
    // plain thread keeps both off the runtime and never delays its
    // shutdown.
    let spawned = std::thread::Builder::new()
        .name("pprof".into())
        .spawn(move || {
            let _ = done.send(record_cpu_profile(duration));
        });
    if let Err(err) = spawned {
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot start profiling: {err}\n"),
        );
    }
    match profile.await {
        Ok(Ok(bytes)) => Response::builder()
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .header(
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"profile\"",
            )
            .body(Full::new(Bytes::from(bytes)))
            .unwrap_or_else(|_| {
                text(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "bad response\n".to_owned(),
                )
            }),
        Ok(Err(message)) => text(StatusCode::INTERNAL_SERVER_ERROR, message),
        Err(_) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "profiling stopped\n".to_owned(),
        ),
    }
}

/// Records a CPU profile, encoded as pprof protobuf.
fn record_cpu_profile(duration: Duration) -> Result<Vec<u8>, String> {
    let guard = pprof::ProfilerGuardBuilder::default()
        .frequency(SAMPLING_HZ)
        .blocklist(&["libc", "libgcc", "pthread", "vdso"])
        .build()
        .map_err(|err| format!("cannot start profiling (is another profile running?): {err}\n"))?;
    std::thread::sleep(duration);
    let report = guard
        .report()
        .build()
        .map_err(|err| format!("cannot build the profile: {err}\n"))?;
    let profile = report
        .pprof()
        .map_err(|err| format!("cannot encode the profile: {err}\n"))?;
    Ok(profile.encode_to_vec())
}

/// A plain-text response.
fn text(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_durations_are_bounded() {
        assert_eq!(profile_seconds(None), Ok(DEFAULT_PROFILE_SECONDS));
        assert_eq!(profile_seconds(Some("debug=1&seconds=2")), Ok(2));
        assert_eq!(
            profile_seconds(Some("seconds=100000")),
            Ok(MAX_PROFILE_SECONDS)
        );
        assert!(profile_seconds(Some("seconds=0")).is_err());
        assert!(profile_seconds(Some("seconds=x")).is_err());
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn cpu_profiles_are_pprof_protobuf() {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(serve_on(listener));
        // Keep a core busy so the profile has samples.
        let busy = std::thread::spawn(|| {
            let started = std::time::Instant::now();
            let mut x = 0_u64;
            while started.elapsed() < Duration::from_millis(1200) {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            x
        });
        let response = http_get(address, "/debug/pprof/profile?seconds=1").await;
        let _ = busy.join();
        assert!(
            response.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&response[..40.min(response.len())])
        );
        let body = &response[response.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
        let profile = pprof::protos::Profile::decode(body).unwrap();
        assert!(!profile.sample_type.is_empty());
        let missing = http_get(address, "/nope").await;
        assert!(missing.starts_with(b"HTTP/1.1 404"));
    }

    /// A minimal HTTP/1.0-style GET, reading until the server closes.
    async fn http_get(address: SocketAddr, path: &str) -> Vec<u8> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.unwrap();
        response
    }
}
