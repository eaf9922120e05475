//! [`Value`]: one cell as a driver read it, and the text formats of SQL timestamps.

use std::borrow::Cow;
use std::fmt;

/// One cell of a result row, as the driver read it, before it becomes a frame value.
///
/// SQLite gives each value its storage class (`Int`, `Float`, `Text`, `Bytes`); PostgreSQL
/// values arrive already parsed for the column's field type, or as `Text` for types a frame
/// has no field type for. [`Converter`](crate::Converter)s receive and return `Value`s.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// SQL `NULL`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// An unsigned integer.
    UInt(u64),
    /// A floating-point number.
    Float(f64),
    /// Text.
    Text(Cow<'a, str>),
    /// Raw bytes (a BLOB or `bytea`).
    Bytes(Cow<'a, [u8]>),
    /// A time, in nanoseconds since the Unix epoch.
    Time(i64),
}

impl Value<'_> {
    /// This value, owning its text or bytes.
    pub fn into_owned(self) -> Value<'static> {
        match self {
            Value::Null => Value::Null,
            Value::Bool(v) => Value::Bool(v),
            Value::Int(v) => Value::Int(v),
            Value::UInt(v) => Value::UInt(v),
            Value::Float(v) => Value::Float(v),
            Value::Text(v) => Value::Text(Cow::Owned(v.into_owned())),
            Value::Bytes(v) => Value::Bytes(Cow::Owned(v.into_owned())),
            Value::Time(v) => Value::Time(v),
        }
    }

    /// A short name of the value's kind, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int64",
            Value::UInt(_) => "uint64",
            Value::Float(_) => "float64",
            Value::Text(_) => "string",
            Value::Bytes(_) => "bytes",
            Value::Time(_) => "time",
        }
    }
}

impl fmt::Display for Value<'_> {
    /// The value as text, the way a string column holds it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(v) => write!(f, "{v}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::UInt(v) => write!(f, "{v}"),
            Value::Float(v) => write!(f, "{v}"),
            Value::Text(v) => f.write_str(v),
            Value::Bytes(v) => f.write_str(&String::from_utf8_lossy(v)),
            Value::Time(v) => f.write_str(&format_rfc3339_nanos(*v)),
        }
    }
}

impl From<&str> for Value<'static> {
    fn from(value: &str) -> Self {
        Value::Text(Cow::Owned(value.to_owned()))
    }
}

impl From<String> for Value<'static> {
    fn from(value: String) -> Self {
        Value::Text(Cow::Owned(value))
    }
}

impl From<i64> for Value<'static> {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<f64> for Value<'static> {
    fn from(value: f64) -> Self {
        Value::Float(value)
    }
}

impl From<bool> for Value<'static> {
    fn from(value: bool) -> Self {
        Value::Bool(value)
    }
}

impl<T: Into<Value<'static>>> From<Option<T>> for Value<'static> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Value::Null, Into::into)
    }
}

const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// Days from 1970-01-01 to `year-month-day` in the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Formats nanoseconds since the epoch as RFC 3339 in UTC with the shortest fraction, like
/// Go's `time.RFC3339Nano`.
pub(crate) fn format_rfc3339_nanos(nanos: i64) -> String {
    let seconds = nanos.div_euclid(NANOS_PER_SECOND);
    let fraction = nanos.rem_euclid(NANOS_PER_SECOND);
    let (year, month, day) = civil_from_days(seconds.div_euclid(86_400));
    let second_of_day = seconds.rem_euclid(86_400);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:09}");
        out.push('.');
        out.push_str(digits.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// A small cursor over ASCII digits.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let start = self.at;
        let mut value = 0_i64;
        while self.at < self.bytes.len()
            && self.at - start < max
            && self.bytes[self.at].is_ascii_digit()
        {
            value = value * 10 + i64::from(self.bytes[self.at] - b'0');
            self.at += 1;
        }
        let count = self.at - start;
        (count >= min).then_some((value, count))
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.bytes.get(self.at) == Some(&byte);
        self.at += usize::from(found);
        found
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// Parses a SQL timestamp in text form into nanoseconds since the Unix epoch.
///
/// Accepts what PostgreSQL prints with `DateStyle=ISO` (`2024-01-02 03:04:05.123456+00`,
/// dates, offsets like `+05:30`) and the layouts mattn/go-sqlite3 reads for `DATE`,
/// `DATETIME` and `TIMESTAMP` columns (`2006-01-02 15:04:05.999999999-07:00`, a `T` or a
/// space between date and time, a trailing `Z`, minutes-only times, dates). Values without an
/// offset are UTC. `None` for anything else (including `infinity` and BC dates).
pub fn parse_timestamp(text: &str) -> Option<i64> {
    let mut c = Cursor {
        bytes: text.trim().as_bytes(),
        at: 0,
    };
    let (year, _) = c.digits(4, 4)?;
    let month = if c.eat(b'-') {
        c.digits(2, 2)?.0
    } else {
        return None;
    };
    let day = if c.eat(b'-') {
        c.digits(2, 2)?.0
    } else {
        return None;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month as u32, day as u32);
    let mut nanos_of_day = 0_i64;
    if c.eat(b' ') || c.eat(b'T') {
        let (hour, _) = c.digits(2, 2)?;
        if !c.eat(b':') {
            return None;
        }
        let (minute, _) = c.digits(2, 2)?;
        let mut second = 0;
        let mut fraction = 0;
        if c.eat(b':') {
            second = c.digits(2, 2)?.0;
            if c.eat(b'.') {
                let (digits, count) = c.digits(1, 9)?;
                fraction = digits * 10_i64.pow(9 - count as u32);
                // Digits beyond nanoseconds are dropped, as Go drops them.
                while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                    c.at += 1;
                }
            }
        }
        if hour > 24 || minute > 59 || second > 60 {
            return None;
        }
        nanos_of_day = (hour * 3600 + minute * 60 + second) * NANOS_PER_SECOND + fraction;
    }
    let mut offset_seconds = 0;
    if c.eat(b'Z') || c.eat(b'z') {
    } else if let Some(sign @ (b'+' | b'-')) = c.peek() {
        c.at += 1;
        let (hours, _) = c.digits(2, 2)?;
        let mut minutes = 0;
        let mut seconds = 0;
        let colon = c.eat(b':');
        if colon || c.peek().is_some_and(|b| b.is_ascii_digit()) {
            minutes = c.digits(2, 2)?.0;
            if c.eat(b':') {
                seconds = c.digits(2, 2)?.0;
            }
        }
        offset_seconds =
            (hours * 3600 + minutes * 60 + seconds) * if sign == b'-' { -1 } else { 1 };
    }
    if !c.done() {
        return None;
    }
    (days * 86_400 - offset_seconds)
        .checked_mul(NANOS_PER_SECOND)?
        .checked_add(nanos_of_day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T2024: i64 = 1_704_164_645; // 2024-01-02T03:04:05Z

    #[test]
    fn parses_postgres_and_sqlite_layouts() {
        let s = T2024 * NANOS_PER_SECOND;
        for (text, want) in [
            ("2024-01-02 03:04:05", s),
            ("2024-01-02T03:04:05Z", s),
            ("2024-01-02 03:04:05+00", s),
            ("2024-01-02 05:04:05+02", s),
            ("2024-01-02 08:34:05+05:30", s),
            ("2024-01-02T03:04:05.5", s + 500_000_000),
            ("2024-01-02 03:04:05.123456789123", s + 123_456_789),
            ("2024-01-01 22:04:05-05:00", s),
            ("2024-01-02 03:04", s - 5 * NANOS_PER_SECOND),
            (
                "2024-01-02",
                (T2024 - 3 * 3600 - 4 * 60 - 5) * NANOS_PER_SECOND,
            ),
            ("1969-12-31 23:59:59", -NANOS_PER_SECOND),
        ] {
            assert_eq!(parse_timestamp(text), Some(want), "{text}");
        }
        for bad in [
            "",
            "infinity",
            "2024-13-01",
            "2024-01-02 03",
            "2024-01-02 03:04:05 BC",
            "yesterday",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(
            format_rfc3339_nanos(T2024 * NANOS_PER_SECOND),
            "2024-01-02T03:04:05Z"
        );
        assert_eq!(
            format_rfc3339_nanos(T2024 * NANOS_PER_SECOND + 120_000_000),
            "2024-01-02T03:04:05.12Z"
        );
        assert_eq!(
            format_rfc3339_nanos(-NANOS_PER_SECOND),
            "1969-12-31T23:59:59Z"
        );
    }
}
