//! Relative time ranges as Grafana sends them (`from=now-6h`, `to=now`),
//! and the zone they are read in.
// backend/gtime/time_range.go

use std::{fmt, str::FromStr};

use chrono::{DateTime, FixedOffset, Month, TimeDelta, Utc, Weekday};
use chrono_tz::Tz;

use crate::{
    Error,
    datemath::{self, FiscalStart, Options},
    interval,
};

/// A time zone that a [`TimeRange`] is read in: an IANA zone
/// (`America/Chicago`) or a fixed offset. Go's `*time.Location`.
///
/// ```
/// use plugin_time::Location;
///
/// let chicago: Location = "America/Chicago".parse()?;
/// assert_eq!(chicago.to_string(), "America/Chicago");
/// // Grafana's dashboard zones `utc` and `browser` are UTC on the server.
/// assert_eq!(Location::from_name("browser")?, Location::UTC);
/// assert!(Location::from_name("Mars/Olympus_Mons").is_err());
/// # Ok::<(), plugin_time::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location(Zone);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Zone {
    Named(Tz),
    Fixed(FixedOffset),
}

impl Location {
    /// Coordinated Universal Time, the zone of a range that names none.
    pub const UTC: Location = Location(Zone::Named(Tz::UTC));

    /// The zone called `name`: an IANA name as Go's `time.LoadLocation`
    /// reads it (`UTC`, `Europe/Berlin`, case-sensitive), the empty name
    /// for UTC, or one of Grafana's dashboard zones, `utc` and `browser`.
    ///
    /// A backend never learns the browser's zone, so `browser` is UTC
    /// here; a plugin that is sent the browser's IANA name should pass it
    /// instead.
    #[doc(alias = "LoadLocation")]
    pub fn from_name(name: &str) -> Result<Location, Error> {
        match name {
            "" | "UTC" | "utc" | "browser" => Ok(Location::UTC),
            _ => name
                .parse::<Tz>()
                .map(Location::from)
                .map_err(|_| Error::UnknownTimeZone(name.to_owned())),
        }
    }

    pub(crate) fn zone(self) -> Zone {
        self.0
    }
}

impl Default for Location {
    fn default() -> Self {
        Location::UTC
    }
}

impl From<Tz> for Location {
    fn from(tz: Tz) -> Self {
        Location(Zone::Named(tz))
    }
}

impl From<FixedOffset> for Location {
    fn from(offset: FixedOffset) -> Self {
        Location(Zone::Fixed(offset))
    }
}

impl FromStr for Location {
    type Err = Error;

    fn from_str(name: &str) -> Result<Self, Error> {
        Location::from_name(name)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Zone::Named(tz) => f.write_str(tz.name()),
            Zone::Fixed(offset) => write!(f, "{offset}"),
        }
    }
}

/// A time range as Grafana writes it, `from` and `to` as text, read
/// against a fixed `now`. Go's `gtime.TimeRange` with its options.
///
/// Each end is, in the order Go tries them:
///
/// 1. milliseconds since the epoch: `1474973725473`;
/// 2. a Grafana duration before `now`: `5m`, `7d` (the fixed lengths of
///    [`parse_duration`](crate::parse_duration));
/// 3. date math: `now`, `now-6h`, `now/d`, `now-1M/M`, `now/fy`,
///    `2014-05-30T20:21:35.123Z`, `2014-11-18||+1M/w`.
///
/// Rounding (`/d`) goes down to the start of the unit in
/// [`parse_from`](Self::parse_from) and up to its last millisecond in
/// [`parse_to`](Self::parse_to), so `now-1d/d` to `now-1d/d` is all of
/// yesterday.
///
/// ```
/// use chrono::{TimeZone, Utc, Weekday};
/// use plugin_time::{Location, TimeRange};
///
/// let now = Utc.with_ymd_and_hms(2020, 7, 26, 15, 12, 56).unwrap();
/// let range = TimeRange::new("now-1w/w", "now-1w/w")
///     .with_now(now)
///     .with_location("America/Chicago".parse::<Location>()?)
///     .with_week_start(Weekday::Sun);
/// assert_eq!(range.parse_from()?.to_rfc3339(), "2020-07-19T00:00:00-05:00");
/// assert_eq!(range.parse_to()?.to_rfc3339(), "2020-07-25T23:59:59.999-05:00");
/// # Ok::<(), plugin_time::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TimeRange {
    /// The start, as Grafana wrote it.
    pub from: String,
    /// The end, as Grafana wrote it.
    pub to: String,
    /// The instant `now` stands for.
    pub now: DateTime<Utc>,
    /// The zone of `now` and of dates that name no zone (Go's
    /// `WithLocation`); UTC by default.
    pub location: Location,
    /// The first day of a week, for `/w` (Go's `WithWeekstart`); Monday by
    /// default.
    pub week_start: Weekday,
    /// The month a fiscal year starts in, on its first day, for `fy` and
    /// `fQ` (Go's `WithFiscalStartMonth`); January by default.
    pub fiscal_start_month: Month,
}

impl TimeRange {
    /// The range `from` to `to`, read against the current time. Go's
    /// `gtime.NewTimeRange`.
    pub fn new(from: impl Into<String>, to: impl Into<String>) -> Self {
        TimeRange {
            from: from.into(),
            to: to.into(),
            now: Utc::now(),
            location: Location::UTC,
            week_start: Weekday::Mon,
            fiscal_start_month: Month::January,
        }
    }

    /// Reads the range against `now` instead of the current time.
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = now;
        self
    }

    /// Reads `now` and dates without a zone in `location`.
    pub fn with_location(mut self, location: Location) -> Self {
        self.location = location;
        self
    }

    /// Starts weeks on `day` when rounding to `w`.
    pub fn with_week_start(mut self, day: Weekday) -> Self {
        self.week_start = day;
        self
    }

    /// Starts fiscal years on the first of `month`.
    pub fn with_fiscal_start_month(mut self, month: Month) -> Self {
        self.fiscal_start_month = month;
        self
    }

    /// The start of the range, rounding down. Go's `TimeRange.ParseFrom`.
    ///
    /// The result is in the zone it was computed in: UTC for epoch
    /// milliseconds and durations, the zone a date names, or
    /// [`location`](Self::location).
    #[doc(alias = "ParseFrom")]
    pub fn parse_from(&self) -> Result<DateTime<FixedOffset>, Error> {
        parse_time(&self.from, &self.options(false))
    }

    /// The end of the range, rounding up to the last millisecond of a
    /// unit. Go's `TimeRange.ParseTo`.
    #[doc(alias = "ParseTo")]
    pub fn parse_to(&self) -> Result<DateTime<FixedOffset>, Error> {
        parse_time(&self.to, &self.options(true))
    }

    /// Both ends, as the absolute range a query carries (what Go's
    /// `GetFromAsTimeUTC` and `GetToAsTimeUTC` give, without their silent
    /// fallback to the epoch on an error).
    pub fn parse(&self) -> Result<plugin_backend::TimeRange, Error> {
        Ok(plugin_backend::TimeRange::new(
            self.parse_from()?.to_utc(),
            self.parse_to()?.to_utc(),
        ))
    }

    fn options(&self, round_up: bool) -> Options {
        Options {
            now: self.now,
            location: self.location,
            week_start: self.week_start,
            round_up,
            fiscal_start: FiscalStart::month(self.fiscal_start_month.number_from_month()),
        }
    }
}

/// One end of a range.
// backend/gtime/time_range.go: parsableTime.parse
fn parse_time(input: &str, options: &Options) -> Result<DateTime<FixedOffset>, Error> {
    let out_of_range = || Error::OutOfRange(input.to_owned());
    // Milliseconds since the epoch, as strconv.ParseInt reads them (an
    // optional sign, decimal digits).
    if let Ok(millis) = input.parse::<i64>() {
        return DateTime::from_timestamp_millis(millis)
            .map(|t| t.fixed_offset())
            .ok_or_else(out_of_range);
    }
    // A duration before now (a negative one is after it).
    if let Ok(nanos) = interval::parse_duration_nanos(input) {
        return options
            .now
            .checked_sub_signed(TimeDelta::nanoseconds(nanos))
            .map(|t| t.fixed_offset())
            .ok_or_else(out_of_range);
    }
    datemath::parse(input)?.evaluate(options, input)
}
