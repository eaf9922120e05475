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

    /// The value of key `key`, when the entry has it.
    pub fn field(&self, key: &str) -> Option<&Value> {
        self.fields.get(key)
    }
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
