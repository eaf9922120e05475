//! Time for Grafana backend plugins, read as Grafana's Go SDK reads it:
//! relative time ranges (`now-6h` to `now`, `now-1d/d`, `now/w` in a
//! dashboard's zone), intervals and durations (`10s`, `1h30m`, `1d`,
//! `1M`), a query's interval, and tidy query steps.
//!
//! ```
//! use std::time::Duration;
//! use chrono::{TimeZone, Utc};
//! use plugin_time::{Location, TimeRange};
//!
//! // Yesterday, all of it, in Chicago.
//! let now = Utc.with_ymd_and_hms(2020, 7, 26, 15, 12, 56).unwrap();
//! let range = TimeRange::new("now-1d/d", "now-1d/d")
//!     .with_now(now)
//!     .with_location(Location::from_name("America/Chicago")?);
//! assert_eq!(range.parse_from()?.to_rfc3339(), "2020-07-25T00:00:00-05:00");
//! assert_eq!(range.parse_to()?.to_rfc3339(), "2020-07-25T23:59:59.999-05:00");
//!
//! // The query's interval, and a step for it.
//! let step = plugin_time::interval_from("", "1m30s", 0, Duration::from_secs(15))?;
//! assert_eq!(step, Duration::from_secs(90));
//! assert_eq!(plugin_time::format_interval(step), "1m");
//! assert_eq!(plugin_time::round_interval(Duration::from_secs(42)), Duration::from_secs(30));
//! # Ok::<(), plugin_time::Error>(())
//! ```
//!
//! | Go (`backend/gtime`) | here |
//! | --- | --- |
//! | `TimeRange`, `NewTimeRange`, `ParseFrom`, `ParseTo` | [`TimeRange`], [`TimeRange::parse_from`], [`TimeRange::parse_to`] |
//! | `WithLocation`, `WithWeekstart`, `WithFiscalStartMonth`, `WithNow` | [`TimeRange::with_location`], [`TimeRange::with_week_start`], [`TimeRange::with_fiscal_start_month`], [`TimeRange::with_now`] |
//! | `time.LoadLocation` | [`Location::from_name`] |
//! | `ParseInterval`, `ParseDuration` | [`parse_interval`] (and [`parse_interval_at`]), [`parse_duration`] |
//! | `GetIntervalFrom`, `ParseIntervalStringToTimeDuration` | [`interval_from`], [`parse_interval_string`] |
//! | `FormatInterval`, `RoundInterval` | [`format_interval`], [`round_interval`] |
//!
//! The rules come from `backend/gtime` of grafana-plugin-sdk-go and from
//! github.com/jszwedko/go-datemath; the tests replay their test tables.
//! Where Go overflows silently, loops without bound or panics, this crate
//! returns an [`Error`]; no input makes it panic.

mod datemath;
mod error;
mod gotime;
mod interval;
mod range;

pub use error::Error;
pub use interval::{
    format_interval, interval_from, parse_duration, parse_interval, parse_interval_at,
    parse_interval_string, round_interval,
};
pub use range::{Location, TimeRange};
