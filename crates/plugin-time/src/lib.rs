//! Time for Grafana backend plugins, read as Grafana's Go SDK reads it:
//! intervals and durations (`10s`, `1h30m`, `1d`, `1M`), tidy query steps,
//! and relative time ranges (`now-6h`, `now/d`, `now-1M/M`).
//!
//! ```
//! use std::time::Duration;
//!
//! let step = plugin_time::parse_interval("1m30s")?;
//! assert_eq!(step, Duration::from_secs(90));
//! assert_eq!(plugin_time::format_interval(step), "1m");
//! assert_eq!(plugin_time::round_interval(Duration::from_secs(42)), Duration::from_secs(30));
//! # Ok::<(), plugin_time::Error>(())
//! ```
//!
//! The rules come from `backend/gtime` of grafana-plugin-sdk-go and from
//! github.com/jszwedko/go-datemath; the tests replay their test tables.

mod error;
mod gotime;
mod interval;

pub use error::Error;
pub use interval::{
    format_interval, parse_duration, parse_interval, parse_interval_at, round_interval,
};
