//! Logging to Grafana: a `tracing` layer that writes hclog JSON lines to
//! stderr, the format go-plugin's host parses and re-logs at the right
//! level.
//!
//! One event is one line:
//!
//! ```text
//! {"@level":"info","@message":"query done","@module":"my_plugin::query","@timestamp":"2026-11-21T10:00:00.123456Z","rows":42}
//! ```
//!
//! * `@level` is `trace`, `debug`, `info`, `warn` or `error`;
//! * `@message` is the event's message (always a string: the host's parser
//!   requires it);
//! * `@timestamp` has exactly go-plugin's layout
//!   `2006-01-02T15:04:05.000000Z07:00` (microseconds, UTC): the host
//!   treats a line whose timestamp does not parse as plain text;
//! * `@module` is the event's target;
//! * the fields of the event and of every span around it follow, flat
//!   (the innermost value wins; `@` keys are reserved); a
//!   `logParams` field, a JSON object of the log attributes Grafana
//!   sent with the call, adds each attribute under its own key, as Go's
//!   logger writes them.
//!
//! # Filtering
//!
//! [`filter_from_env`] reads `GF_PLUGIN_LOG_LEVEL` (Grafana sets it from
//! `log_level` in the plugin's `[plugin.<id>]` section of grafana.ini), else
//! `RUST_LOG`, in `tracing_subscriber`'s targets syntax (`info`,
//! `debug,my_plugin::db=trace`). The default is `debug`, like the Go SDK's
//! logger: Grafana filters again by its own level. The HTTP/2 and gRPC
//! stack (`h2`, `hyper`, `tonic`, `tower`, …) is capped at `info` unless the
//! filter names it, because its debug output is one line per frame.

use std::fmt;
use std::io::{self, Write};

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Record};
use tracing::{Event, Id, Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// go-plugin's timestamp layout, `2006-01-02T15:04:05.000000Z07:00`, for
/// chrono, in UTC.
const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// The environment variable with the plugin's log filter.
pub const LOG_LEVEL_ENV: &str = "GF_PLUGIN_LOG_LEVEL";

/// Targets whose debug output is per frame or per poll: capped at `info`
/// unless a filter names them.
const CHATTY_TARGETS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
];

/// A [`Layer`] writing every event as one hclog JSON line.
///
/// It writes to stderr unless given another writer
/// ([`HclogLayer::with_writer`]). Combine it with a filter:
///
/// ```
/// use tracing_subscriber::prelude::*;
/// use plugin_serve::log::{HclogLayer, filter_from_env};
///
/// let subscriber = tracing_subscriber::registry().with(HclogLayer::new().with_filter(filter_from_env()));
/// tracing::subscriber::with_default(subscriber, || tracing::info!(rows = 42, "query done"));
/// ```
pub struct HclogLayer<W = fn() -> io::Stderr> {
    make_writer: W,
}

impl HclogLayer {
    /// A layer writing to stderr.
    pub fn new() -> Self {
        HclogLayer {
            make_writer: io::stderr,
        }
    }
}

impl Default for HclogLayer {
    fn default() -> Self {
        HclogLayer::new()
    }
}

impl<W> HclogLayer<W> {
    /// A layer writing to `make_writer` (for example a buffer in tests).
    pub fn with_writer<W2>(self, make_writer: W2) -> HclogLayer<W2>
    where
        W2: for<'writer> MakeWriter<'writer> + 'static,
    {
        HclogLayer { make_writer }
    }
}

impl<W> fmt::Debug for HclogLayer<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HclogLayer").finish_non_exhaustive()
    }
}

/// The span field holding the log attributes Grafana sent with a call, as a
/// JSON object; written as one key each. Their keys are only known at run
/// time, and a `tracing` field name is fixed where the span is declared.
pub(crate) const LOG_PARAMS_FIELD: &str = "logParams";

/// The recorded fields of a span, kept in its extensions.
#[derive(Debug, Default)]
struct SpanFields(Map<String, Value>);

impl<S, W> Layer<S> for HclogLayer<W>
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    W: for<'writer> MakeWriter<'writer> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = SpanFields::default();
        attrs.record(&mut JsonFields(&mut fields.0));
        span.extensions_mut().insert(fields);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(fields) = extensions.get_mut::<SpanFields>() {
            values.record(&mut JsonFields(&mut fields.0));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let mut line = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(fields) = span.extensions().get::<SpanFields>() {
                    line.extend(
                        fields
                            .0
                            .iter()
                            .map(|(key, value)| (key.clone(), value.clone())),
                    );
                }
            }
        }
        event.record(&mut JsonFields(&mut line));
        let message = match line.remove("message") {
            Some(Value::String(message)) => message,
            Some(other) => other.to_string(),
            None => String::new(),
        };
        let metadata = event.metadata();
        line.insert("@level".into(), Value::from(level_name(*metadata.level())));
        line.insert("@message".into(), Value::from(message));
        line.insert("@module".into(), Value::from(metadata.target()));
        line.insert("@timestamp".into(), Value::from(timestamp_now()));

        let Ok(mut bytes) = serde_json::to_vec(&line) else {
            return;
        };
        bytes.push(b'\n');
        // One write per line, so lines from several threads never interleave
        // within the host's line reader. A failing stderr cannot be reported.
        let _ = self.make_writer.make_writer_for(metadata).write_all(&bytes);
    }
}

/// hclog's name for a level.
fn level_name(level: Level) -> &'static str {
    match level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// Now, in go-plugin's layout.
fn timestamp_now() -> String {
    chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now())
        .format(TIMESTAMP_FORMAT)
        .to_string()
}

/// Records fields into a JSON object, as hclog writes them: numbers and
/// booleans as themselves, errors and everything else as strings.
struct JsonFields<'a>(&'a mut Map<String, Value>);

impl JsonFields<'_> {
    fn insert(&mut self, field: &Field, value: Value) {
        let name = field.name();
        // `@` keys belong to hclog; `log.*` and `otel.*` fields are
        // tracing-log's and tracing-opentelemetry's instructions, not data.
        if name.starts_with('@') || name.starts_with("log.") || name.starts_with("otel.") {
            return;
        }
        self.0.insert(name.to_owned(), value);
    }
}

impl Visit for JsonFields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.insert(field, Value::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.insert(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.insert(field, Value::from(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.insert(field, Value::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == LOG_PARAMS_FIELD
            && let Ok(Value::Object(params)) = serde_json::from_str::<Value>(value)
        {
            self.0
                .extend(params.into_iter().filter(|(key, _)| !key.starts_with('@')));
            return;
        }
        self.insert(field, Value::from(value));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.insert(field, Value::from(value.to_string()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.insert(field, Value::from(format!("{value:?}")));
    }
}

/// The log filter from `GF_PLUGIN_LOG_LEVEL` or `RUST_LOG` (see the
/// [module docs](self)); a filter that does not parse is replaced by the
/// default, and a warning about it is logged once logging is installed.
pub fn filter_from_env() -> Targets {
    filter_from(environment_filter().as_deref()).0
}

/// The filter text from the environment, if any.
fn environment_filter() -> Option<String> {
    [LOG_LEVEL_ENV, "RUST_LOG"].iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    })
}

/// The filter for `spec`, and a warning when `spec` does not parse.
fn filter_from(spec: Option<&str>) -> (Targets, Option<String>) {
    let (mut targets, warning) = match spec.map(|spec| (spec, spec.trim().parse::<Targets>())) {
        None => (Targets::new().with_default(LevelFilter::DEBUG), None),
        Some((_, Ok(targets))) => (targets, None),
        Some((spec, Err(err))) => (
            Targets::new().with_default(LevelFilter::DEBUG),
            Some(format!(
                "ignoring the log filter {spec:?}: {err}; logging at debug"
            )),
        ),
    };
    let default = targets.default_level().unwrap_or(LevelFilter::OFF);
    let named: Vec<String> = targets
        .iter()
        .map(|(target, _)| target.to_owned())
        .collect();
    for chatty in CHATTY_TARGETS {
        if !named.iter().any(|target| target == chatty) {
            targets = targets.with_target(*chatty, default.min(LevelFilter::INFO));
        }
    }
    (targets, warning)
}

/// Installs [`HclogLayer`] (filtered by [`filter_from_env`]) and `extra`
/// layers as the global subscriber, unless the plugin installed one
/// already. Returns whether this call installed it.
pub(crate) fn install(
    extra: Vec<Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync>>,
) -> bool {
    use tracing_subscriber::layer::SubscriberExt;

    let (filter, warning) = filter_from(environment_filter().as_deref());
    let mut layers = extra;
    layers.insert(0, HclogLayer::new().with_filter(filter).boxed());
    let installed =
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layers))
            .is_ok();
    if let Some(warning) = warning {
        tracing::warn!("{warning}");
    }
    installed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    fn lines_of(f: impl FnOnce()) -> Vec<Map<String, Value>> {
        let buffer = Buffer::default();
        let subscriber =
            tracing_subscriber::registry().with(HclogLayer::new().with_writer(buffer.clone()));
        tracing::subscriber::with_default(subscriber, f);
        let bytes = buffer.0.lock().unwrap().clone();
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn events_become_hclog_lines() {
        let lines = lines_of(|| {
            let span = tracing::info_span!(
                "request",
                endpoint = "queryData",
                rows = tracing::field::Empty
            );
            let _entered = span.enter();
            span.record("rows", 3);
            tracing::warn!(rows = 42_u64, ok = true, ratio = 0.5, "query {} done", "A");
        });
        let [line] = &lines[..] else {
            panic!("{lines:?}")
        };
        assert_eq!(line["@level"], "warn");
        assert_eq!(line["@message"], "query A done");
        assert_eq!(line["@module"], module_path!());
        assert_eq!(line["endpoint"], "queryData");
        assert_eq!(line["rows"], 42, "the event's value wins over the span's");
        assert_eq!(line["ok"], true);
        assert_eq!(line["ratio"], 0.5);
        let timestamp = line["@timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_str(timestamp, "%Y-%m-%dT%H:%M:%S%.6f%:z").is_ok()
                || timestamp.ends_with('Z')
        );
        assert_eq!(timestamp.len(), "2026-11-21T10:00:00.123456Z".len());
    }

    #[test]
    fn grafanas_log_attributes_become_keys_of_their_own() {
        let lines = lines_of(|| {
            let span = tracing::info_span!("grpc_call", logParams = tracing::field::Empty);
            span.record(
                LOG_PARAMS_FIELD,
                r#"{"dashboardUID":"dash-1","panelID":"7","@level":"fatal"}"#,
            );
            let _entered = span.enter();
            tracing::info!("inside");
        });
        assert_eq!(lines[0]["dashboardUID"], "dash-1");
        assert_eq!(lines[0]["panelID"], "7");
        assert_eq!(lines[0]["@level"], "info", "reserved keys stay hclog's");
        assert!(lines[0].get(LOG_PARAMS_FIELD).is_none());
    }

    #[test]
    fn reserved_keys_cannot_be_overwritten() {
        let lines = lines_of(|| tracing::error!(message_count = 1, "boom"));
        assert_eq!(lines[0]["@level"], "error");
        assert_eq!(lines[0]["@message"], "boom");
        let lines = lines_of(|| tracing::info!(answer = 42));
        assert_eq!(lines[0]["@message"], "", "a message is always a string");
    }

    #[test]
    fn filters_come_from_the_environment_syntax() {
        let (filter, warning) = filter_from(None);
        assert!(warning.is_none());
        assert_eq!(filter.default_level(), Some(LevelFilter::DEBUG));
        assert!(filter.would_enable("h2::codec", &Level::INFO));
        assert!(!filter.would_enable("h2::codec", &Level::DEBUG));

        let (filter, _) = filter_from(Some("warn,h2=trace"));
        assert!(filter.would_enable("h2", &Level::TRACE));
        assert!(!filter.would_enable("my_plugin", &Level::INFO));
        assert!(
            !filter.would_enable("hyper", &Level::INFO),
            "chatty targets follow a stricter default"
        );

        let (filter, warning) = filter_from(Some("loud=[=="));
        assert!(warning.is_some());
        assert_eq!(filter.default_level(), Some(LevelFilter::DEBUG));
    }
}
