//! The plugin's stderr, kept for assertions.
//!
//! A plugin logs to Grafana by writing hclog JSON lines to stderr
//! (`{"@level":"info","@message":"…","@timestamp":"…",…}`). The launcher
//! drains stderr continuously, so the plugin never blocks on a full pipe,
//! and keeps every line in a [`PluginLog`]. [`PluginLog::entries`] parses the
//! lines as Grafana does; lines that are not hclog JSON stay available as
//! text.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::Notify;

/// How many trailing stderr lines error messages quote.
pub(crate) const ERROR_TAIL_LINES: usize = 20;

/// Every line a plugin wrote to stderr so far; cheap to clone, shared with
/// the task that reads the pipe.
#[derive(Clone, Default)]
pub struct PluginLog {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    lines: Mutex<Vec<String>>,
    appended: Notify,
}

impl PluginLog {
    /// Appends a line (without its newline).
    pub(crate) fn push(&self, line: String) {
        self.locked().push(line);
        self.shared.appended.notify_waiters();
    }

    fn locked(&self) -> MutexGuard<'_, Vec<String>> {
        // A panic while holding this lock cannot leave the Vec inconsistent.
        self.shared
            .lines
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Every line so far, in order.
    pub fn lines(&self) -> Vec<String> {
        self.locked().clone()
    }

    /// The last `count` lines joined with newlines.
    pub fn tail(&self, count: usize) -> String {
        let lines = self.locked();
        lines[lines.len().saturating_sub(count)..].join("\n")
    }

    /// The lines that are hclog JSON entries, parsed.
    pub fn entries(&self) -> Vec<LogEntry> {
        self.locked()
            .iter()
            .filter_map(|line| LogEntry::parse(line))
            .collect()
    }

    /// Whether any line contains `text`.
    pub fn contains(&self, text: &str) -> bool {
        self.locked().iter().any(|line| line.contains(text))
    }

    /// Waits until a line contains `text`, for at most `timeout`; returns
    /// whether one did.
    pub async fn wait_for(&self, text: &str, timeout: Duration) -> bool {
        let waiting = async {
            loop {
                // Register before checking, so a line pushed in between is not missed.
                let appended = self.shared.appended.notified();
                if self.contains(text) {
                    return;
                }
                appended.await;
            }
        };
        tokio::time::timeout(timeout, waiting).await.is_ok()
    }
}

impl fmt::Debug for PluginLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginLog")
            .field("lines", &self.locked().len())
            .finish()
    }
}

/// One hclog JSON log line.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct LogEntry {
    /// `@level`: `trace`, `debug`, `info`, `warn` or `error`.
    pub level: String,
    /// `@message`.
    pub message: String,
    /// `@timestamp`, as written (`2006-01-02T15:04:05.000000Z07:00`).
    pub timestamp: String,
    /// `@module`, when present.
    pub module: Option<String>,
    /// Every other key: the entry's key/value pairs.
    pub fields: Map<String, Value>,
}

impl LogEntry {
    /// Parses an hclog JSON line; `None` when the line is not a JSON object
    /// with `@level` and `@message` (Grafana logs such lines as plain text).
    pub fn parse(line: &str) -> Option<LogEntry> {
        let Value::Object(mut object) = serde_json::from_str(line).ok()? else {
            return None;
        };
        let mut take_string = |key: &str| match object.remove(key) {
            Some(Value::String(value)) => Some(value),
            _ => None,
        };
        let level = take_string("@level")?;
        let message = take_string("@message")?;
        let timestamp = take_string("@timestamp").unwrap_or_default();
        let module = take_string("@module");
        Some(LogEntry {
            level,
            message,
            timestamp,
            module,
            fields: object,
        })
    }

    /// Parses a line as go-plugin's host reads it (`log_entry.go`,
    /// `parseJSON`), insisting on a complete hclog entry: a JSON object whose
    /// `@message` and `@level` are strings (the host type-asserts both and
    /// crashes on anything else), `@level` one of hclog's five levels (else
    /// the host shows the raw line at debug level), and `@timestamp` a string
    /// that Go parses with `2006-01-02T15:04:05.000000Z07:00` (else the host
    /// shows the raw line).
    ///
    /// ```
    /// use plugin_testkit::LogEntry;
    ///
    /// let line = r#"{"@level":"info","@message":"ready","@timestamp":"2026-11-21T10:00:00.123456Z"}"#;
    /// assert_eq!(LogEntry::parse_strict(line)?.message, "ready");
    /// // Milliseconds only: Go's layout wants six fractional digits.
    /// let line = r#"{"@level":"info","@message":"ready","@timestamp":"2026-11-21T10:00:00.123Z"}"#;
    /// assert!(LogEntry::parse_strict(line).is_err());
    /// # Ok::<(), String>(())
    /// ```
    ///
    /// # Errors
    ///
    /// What the host would not accept, as text.
    pub fn parse_strict(line: &str) -> Result<LogEntry, String> {
        let Ok(Value::Object(mut object)) = serde_json::from_str(line) else {
            return Err("not a JSON object".to_owned());
        };
        let mut take_string = |key: &str| match object.remove(key) {
            Some(Value::String(value)) => Ok(value),
            Some(other) => Err(format!("{key} is not a string: {other}")),
            None => Err(format!("no {key}")),
        };
        let level = take_string("@level")?;
        let message = take_string("@message")?;
        let timestamp = take_string("@timestamp")?;
        let module = take_string("@module").ok();
        if !["trace", "debug", "info", "warn", "error"].contains(&level.as_str()) {
            return Err(format!("{level:?} is not an hclog level"));
        }
        if !parses_with_go_layout(&timestamp) {
            return Err(format!(
                "@timestamp {timestamp:?} does not parse with 2006-01-02T15:04:05.000000Z07:00"
            ));
        }
        Ok(LogEntry {
            level,
            message,
            timestamp,
            module,
            fields: object,
        })
    }

    /// The value of key `key`, when the entry has it.
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }
}

/// Whether Go's `time.Parse` accepts `text` with the layout
/// `2006-01-02T15:04:05.000000Z07:00` (`time/format.go`): exactly six
/// fractional digits, `Z` or `±hh:mm`, and every field in Go's range.
fn parses_with_go_layout(text: &str) -> bool {
    let bytes = text.as_bytes();
    let number = |start: usize, len: usize| -> Option<u32> {
        let digits = bytes.get(start..start + len)?;
        digits
            .iter()
            .all(u8::is_ascii_digit)
            .then(|| digits.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
    };
    let separators = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ];
    if !separators
        .iter()
        .all(|&(at, byte)| bytes.get(at) == Some(&byte))
    {
        return false;
    }
    let fields = (
        number(0, 4),
        number(5, 2),
        number(8, 2),
        number(11, 2),
        number(14, 2),
        number(17, 2),
        number(20, 6),
    );
    let (Some(year), Some(month), Some(day), Some(hour), Some(minute), Some(second), Some(_)) =
        fields
    else {
        return false;
    };
    let zone = match bytes.get(26..) {
        Some(b"Z") => true,
        Some([b'+' | b'-', _, _, b':', _, _]) => {
            // Go allows offsets up to 24:60 here.
            number(27, 2).is_some_and(|h| h <= 24) && number(30, 2).is_some_and(|m| m <= 60)
        }
        _ => false,
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    zone && (1..=12).contains(&month)
        && (1..=days).contains(&day)
        && hour < 24
        && minute < 60
        && second < 60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hclog_lines_and_keeps_the_rest() {
        let log = PluginLog::default();
        log.push(r#"{"@level":"info","@message":"Plugin started","@timestamp":"2026-11-21T10:00:00.000000Z","pluginId":"acme"}"#.to_owned());
        log.push("panic: boom".to_owned());
        let entries = log.entries();
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].level, "info");
        assert_eq!(entries[0].message, "Plugin started");
        assert_eq!(entries[0].field("pluginId"), Some(&Value::from("acme")));
        assert!(entries[0].field("@level").is_none());
        assert_eq!(log.tail(1), "panic: boom");
        assert_eq!(log.lines().len(), 2);
    }

    #[test]
    fn lines_without_level_or_message_are_not_entries() {
        assert!(LogEntry::parse(r#"{"@message":"no level"}"#).is_none());
        assert!(LogEntry::parse("[INFO] plain").is_none());
        assert!(LogEntry::parse("[1,2]").is_none());
    }

    #[test]
    fn strict_parsing_follows_go_plugins_host() {
        let line = |level: &str, timestamp: &str| {
            format!(r#"{{"@level":{level},"@message":"m","@timestamp":"{timestamp}","k":1}}"#)
        };
        let entry =
            LogEntry::parse_strict(&line(r#""warn""#, "2024-02-29T23:59:59.000001+05:30")).unwrap();
        assert_eq!(
            (entry.level.as_str(), entry.message.as_str()),
            ("warn", "m")
        );
        assert_eq!(entry.field("k"), Some(&Value::from(1)));

        let reason = |line: &str| LogEntry::parse_strict(line).unwrap_err();
        let good = "2026-11-21T10:00:00.123456Z";
        assert!(reason(&line("3", good)).contains("not a string"));
        assert!(reason(&line(r#""fatal""#, good)).contains("not an hclog level"));
        assert!(reason(r#"{"@level":"info","@message":"m"}"#).contains("no @timestamp"));
        assert!(reason("[INFO] plain").contains("not a JSON object"));
        for timestamp in [
            "2026-11-21T10:00:00.123Z",
            "2026-11-21T10:00:00.1234567Z",
            "2026-11-21 10:00:00.123456Z",
            "2026-11-21T10:00:00.123456",
            "2026-11-21T10:00:00.123456+0100",
            "2025-02-29T10:00:00.123456Z",
            "2026-13-01T10:00:00.123456Z",
            "2026-11-21T24:00:00.123456Z",
            "2026-11-21T10:00:60.123456Z",
        ] {
            let line = line(r#""info""#, timestamp);
            assert!(reason(&line).contains("does not parse"), "{timestamp}");
        }
    }

    #[tokio::test]
    async fn wait_for_sees_lines_pushed_later() {
        let log = PluginLog::default();
        let writer = log.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            writer.push("ready to serve".to_owned());
        });
        assert!(log.wait_for("ready", Duration::from_secs(5)).await);
        assert!(
            !log.wait_for("never printed", Duration::from_millis(20))
                .await
        );
    }
}
