//! The few pieces of Go's `time` package whose exact behaviour Grafana's
//! parsing depends on: `time.ParseDuration`, and `time.Date`'s
//! normalisation of out-of-range fields and its choice of offset on a
//! daylight-saving transition.
//!
//! Go's `time.Duration` is a signed count of nanoseconds; here it is an
//! `i64` of nanoseconds too, and only the public API turns it into
//! [`std::time::Duration`].

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};

use crate::Error;

/// Nanoseconds per unit of Go's duration syntax.
// time/format.go: unitMap
fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return None,
    })
}

const LIMIT: u64 = 1 << 63;

/// Go's `time.ParseDuration`: a possibly signed sequence of decimal
/// numbers, each with an optional fraction and a unit (`300ms`, `-1.5h`,
/// `2h45m`), as signed nanoseconds.
// time/format.go: ParseDuration
pub(crate) fn parse_duration(input: &str) -> Result<i64, Error> {
    let invalid = || Error::InvalidDuration(input.to_owned());
    let mut s = input.as_bytes();
    let mut neg = false;
    if let [c @ (b'-' | b'+'), rest @ ..] = s {
        neg = *c == b'-';
        s = rest;
    }
    // Go's special case: a bare "0" needs no unit.
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(invalid());
        }
        let (mut v, rest, pre) = leading_int(s).ok_or_else(invalid)?;
        s = rest;
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if let [b'.', rest @ ..] = s {
            let (x, sc, rest, consumed) = leading_fraction(rest);
            (f, scale, post, s) = (x, sc, consumed, rest);
        }
        if !pre && !post {
            return Err(invalid());
        }
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(Error::MissingUnit(input.to_owned()));
        }
        let (unit_bytes, rest) = s.split_at(unit_len);
        s = rest;
        // The unit ends at an ASCII byte or at the end, so it is whole UTF-8.
        let unit = std::str::from_utf8(unit_bytes).unwrap_or_default();
        let Some(unit_ns) = unit_nanos(unit) else {
            return Err(Error::UnknownUnit {
                unit: unit.to_owned(),
                input: input.to_owned(),
            });
        };
        if v > LIMIT / unit_ns {
            return Err(invalid());
        }
        v *= unit_ns;
        if f > 0 {
            // As Go: float64 keeps fractions of hours nanosecond-exact.
            v += (f as f64 * (unit_ns as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        total += v;
        if total > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        // `total` is at most 2^63, so its negation is an i64.
        return Ok((-(total as i128)) as i64);
    }
    i64::try_from(total).map_err(|_| invalid())
}

/// The leading `[0-9]*` of `s`: its value, the rest, and whether any digit
/// was read; `None` on overflow past 2^63.
fn leading_int(s: &[u8]) -> Option<(u64, &[u8], bool)> {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut x: u64 = 0;
    for &c in &s[..n] {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(c - b'0');
        if x > LIMIT {
            return None;
        }
    }
    Some((x, &s[n..], n > 0))
}

/// The leading `[0-9]*` of a fraction: value, scale, rest and whether any
/// digit was read. Past 2^63 it stops gaining precision, as Go's does.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8], bool) {
    let n = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let (mut x, mut scale, mut overflow) = (0u64, 1f64, false);
    for &c in &s[..n] {
        if overflow {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let y = x * 10 + u64::from(c - b'0');
        if y > LIMIT {
            overflow = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[n..], n > 0)
}

/// Wall-clock fields that may be out of their usual ranges, as Go's
/// `time.Date` takes them (October 32 is November 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fields {
    pub(crate) year: i64,
    pub(crate) month: i64,
    pub(crate) day: i64,
    pub(crate) hour: i64,
    pub(crate) minute: i64,
    pub(crate) second: i64,
    pub(crate) nanosecond: i64,
}

impl Fields {
    /// The wall-clock fields of `t` in its own zone.
    pub(crate) fn of<Tz: TimeZone>(t: &DateTime<Tz>) -> Self {
        let n = t.naive_local();
        Fields {
            year: i64::from(n.year()),
            month: i64::from(n.month()),
            day: i64::from(n.day()),
            hour: i64::from(n.hour()),
            minute: i64::from(n.minute()),
            second: i64::from(n.second()),
            // A leap second (chrono's >= 1e9) is Go's next second.
            nanosecond: i64::from(n.nanosecond()),
        }
    }

    /// The normalised wall clock, or `None` outside chrono's years.
    // time/time.go: Date (the normalisation)
    pub(crate) fn normalize(self) -> Option<NaiveDateTime> {
        let m = i128::from(self.month) - 1;
        let year = i128::from(self.year) + m.div_euclid(12);
        let month = u32::try_from(m.rem_euclid(12) + 1).ok()?;
        let first = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, 1)?;
        let epoch_days = i128::from(first.signed_duration_since(NaiveDate::default()).num_days());
        let nanos = i128::from(self.nanosecond);
        let secs = (epoch_days + i128::from(self.day) - 1) * 86_400
            + i128::from(self.hour) * 3_600
            + i128::from(self.minute) * 60
            + i128::from(self.second)
            + nanos.div_euclid(1_000_000_000);
        let nsec = u32::try_from(nanos.rem_euclid(1_000_000_000)).ok()?;
        DateTime::from_timestamp(i64::try_from(secs).ok()?, nsec).map(|t| t.naive_utc())
    }

    /// Go's `time.Date(…, loc)`: these fields as a time in `tz`, or `None`
    /// when out of range.
    pub(crate) fn resolve<Tz: TimeZone>(self, tz: &Tz) -> Option<DateTime<Tz>> {
        resolve_wall(self.normalize()?, tz)
    }
}

/// The instant whose wall clock in `tz` is `wall`, choosing as Go's
/// `time.Date` does where a transition skips or repeats it: take the offset
/// in effect at `wall` read as UTC, and if that offset is not in effect at
/// the instant it gives, the offset at that instant.
// time/time.go: Date (the zone lookup)
pub(crate) fn resolve_wall<Tz: TimeZone>(wall: NaiveDateTime, tz: &Tz) -> Option<DateTime<Tz>> {
    let offset_at =
        |utc: NaiveDateTime| i64::from(tz.offset_from_utc_datetime(&utc).fix().local_minus_utc());
    let first = offset_at(wall);
    let guess = wall.checked_sub_signed(chrono::TimeDelta::seconds(first))?;
    let offset = offset_at(guess);
    let utc = wall.checked_sub_signed(chrono::TimeDelta::seconds(offset))?;
    Some(tz.from_utc_datetime(&utc))
}

/// Go's `t.AddDate(years, months, days)`: calendar arithmetic on the wall
/// clock, normalised and resolved again in `t`'s zone.
pub(crate) fn add_date<Tz: TimeZone>(
    t: &DateTime<Tz>,
    years: i64,
    months: i64,
    days: i64,
) -> Option<DateTime<Tz>> {
    let f = Fields::of(t);
    Fields {
        year: f.year.checked_add(years)?,
        month: f.month.checked_add(months)?,
        day: f.day.checked_add(days)?,
        ..f
    }
    .resolve(&t.timezone())
}
