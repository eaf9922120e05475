//! Grafana's date math (`now-6h`, `now/d`, `2014-11-18||+1M/w`), read and
//! evaluated as github.com/jszwedko/go-datemath does.
//!
//! An expression is an anchor, `now` or an absolute date (`2014`,
//! `2014-05-30T20:21:35.123+03:00`, `04:52:20`, or epoch milliseconds
//! followed by `||`), then adjustments applied left to right: `+3d` adds,
//! `/w` rounds down (or, for the end of a range, up) to the unit.
//!
//! The grammar is go-datemath's `datemath.y` and `datemath.l`, written as a
//! recursive descent parser: each rule below names the production it
//! follows. Where go-datemath would overflow silently, loop without bound
//! or panic (`now/b`), this module returns an error instead.

use chrono::{DateTime, Datelike, FixedOffset, TimeDelta, TimeZone, Utc, Weekday};

use crate::{
    Error,
    gotime::{self, Fields},
    range::{Location, Zone},
};

/// A date math unit (datemath.go: `timeUnit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Year,
    FiscalYear,
    Quarter,
    FiscalQuarter,
    Month,
    Week,
    Day,
    BusinessDay,
    Hour,
    Minute,
    Second,
}

/// How an expression is evaluated (datemath.go: `Options`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    /// The instant `now` stands for.
    pub(crate) now: DateTime<Utc>,
    /// The zone of dates that name none, and of `now`.
    pub(crate) location: Location,
    /// The first day of a week, for `/w`.
    pub(crate) week_start: Weekday,
    /// Round to the last millisecond of a unit instead of its first.
    pub(crate) round_up: bool,
    /// When a fiscal year starts; the year is ignored.
    pub(crate) fiscal_start: FiscalStart,
}

/// The start of a fiscal year: Go's `StartOfFiscalYear` without its year.
/// Grafana only ever sets the month; the default is January 1 at midnight,
/// as Go's zero `time.Time` gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FiscalStart {
    pub(crate) month: i64,
    pub(crate) day: i64,
    pub(crate) hour: i64,
    pub(crate) minute: i64,
    pub(crate) second: i64,
    pub(crate) nanosecond: i64,
}

impl FiscalStart {
    pub(crate) fn month(month: u32) -> Self {
        FiscalStart {
            month: i64::from(month),
            ..FiscalStart::default()
        }
    }

    fn in_year(self, year: i64) -> Fields {
        Fields {
            year,
            month: self.month,
            day: self.day,
            hour: self.hour,
            minute: self.minute,
            second: self.second,
            nanosecond: self.nanosecond,
        }
    }
}

impl Default for FiscalStart {
    fn default() -> Self {
        FiscalStart {
            month: 1,
            day: 1,
            hour: 0,
            minute: 0,
            second: 0,
            nanosecond: 0,
        }
    }
}

/// A parsed expression (datemath.go: `Expression`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expression {
    anchor: Anchor,
    adjustments: Vec<Adjustment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Anchor {
    Now,
    /// Wall-clock fields, in their own zone or, without one, in the
    /// options' location.
    Date(Fields, Option<FixedOffset>),
    /// Epoch milliseconds followed by `||`. Go reads them in the machine's
    /// local zone (`time.Unix`); here in UTC, which is what Go does on a
    /// server whose `TZ` is UTC or unset.
    Millis(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Adjustment {
    Add(i64, Unit),
    Round(Unit),
}

/// A token of datemath.l.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Digit(u8),
    Now,
    Plus,
    Minus,
    Colon,
    Pipes,
    Slash,
    Unit(Unit),
    Dot,
    TimeDelimiter,
    Utc,
    End,
    Invalid,
}

impl Token {
    fn describe(self) -> &'static str {
        match self {
            Token::Digit(_) => "a digit",
            Token::Now => "\"now\"",
            Token::Plus => "\"+\"",
            Token::Minus => "\"-\"",
            Token::Colon => "\":\"",
            Token::Pipes => "\"||\"",
            Token::Slash => "\"/\"",
            Token::Unit(_) => "a unit",
            Token::Dot => "\".\"",
            Token::TimeDelimiter => "\"T\"",
            Token::Utc => "\"Z\"",
            Token::End => "the end",
            Token::Invalid => "an unknown character",
        }
    }
}

/// The longest token at the start of `s`, and its length in bytes.
// datemath.l: the rules, longest match first, the earlier rule on a tie.
fn lex(s: &[u8]) -> (Token, usize) {
    use Token as T;
    let unit = |u| (T::Unit(u), 1);
    match s {
        [] => (T::End, 0),
        [b'n', b'o', b'w', ..] => (T::Now, 3),
        [b'n', b'o', _, ..] => (T::Invalid, 3),
        [b'n', _, ..] => (T::Invalid, 2),
        [b'|', b'|', ..] => (T::Pipes, 2),
        [b'f', b'y', ..] => (T::Unit(Unit::FiscalYear), 2),
        [b'f', b'Q', ..] => (T::Unit(Unit::FiscalQuarter), 2),
        [c @ b'0'..=b'9', ..] => (T::Digit(c - b'0'), 1),
        [b'+', ..] => (T::Plus, 1),
        [b'-', ..] => (T::Minus, 1),
        [b':', ..] => (T::Colon, 1),
        [b'/', ..] => (T::Slash, 1),
        [b'.', ..] => (T::Dot, 1),
        [b'T', ..] => (T::TimeDelimiter, 1),
        [b'Z', ..] => (T::Utc, 1),
        [b'y', ..] => unit(Unit::Year),
        [b'Q', ..] => unit(Unit::Quarter),
        [b'M', ..] => unit(Unit::Month),
        [b'w', ..] => unit(Unit::Week),
        [b'd', ..] => unit(Unit::Day),
        [b'b', ..] => unit(Unit::BusinessDay),
        [b'h' | b'H', ..] => unit(Unit::Hour),
        [b'm', ..] => unit(Unit::Minute),
        [b's', ..] => unit(Unit::Second),
        _ => (T::Invalid, 1),
    }
}

struct Parser<'a> {
    /// The whole input, for errors.
    input: &'a str,
    /// The part the lexer reads.
    text: &'a str,
    tokens: Vec<(Token, usize)>,
    next: usize,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        // Go's lexer reads a NUL byte as the end of the input.
        let text = input.split('\0').next().unwrap_or_default();
        let mut tokens = Vec::with_capacity(text.len() + 1);
        let mut at = 0;
        loop {
            let (token, mut len) = lex(&text.as_bytes()[at..]);
            tokens.push((token, at));
            if token == Token::End {
                break;
            }
            // An invalid token ends on a character, so positions and
            // slices stay on character boundaries.
            while !text.is_char_boundary(at + len) {
                len += 1;
            }
            at += len;
        }
        Parser {
            input,
            text,
            tokens,
            next: 0,
        }
    }

    fn peek(&self) -> Token {
        self.tokens[self.next].0
    }

    fn bump(&mut self) -> Token {
        let token = self.peek();
        if token != Token::End {
            self.next += 1;
        }
        token
    }

    /// An error at token `index`.
    fn error_at(&self, index: usize, reason: String) -> Error {
        let at = self.tokens[index].1;
        Error::InvalidTime {
            input: self.input.to_owned(),
            reason,
            position: self.text[..at].chars().count() + 1,
        }
    }

    /// The next token was not one of `expected`.
    fn unexpected(&self, expected: &str) -> Error {
        let found = match self.peek() {
            Token::End => "the end".to_owned(),
            token => {
                let at = self.tokens[self.next].1;
                let c = self.text[at..].chars().next().unwrap_or_default();
                format!("{} {c:?}", token.describe())
            }
        };
        self.error_at(self.next, format!("expected {expected}, found {found}"))
    }

    fn expect(&mut self, token: Token, expected: &str) -> Result<(), Error> {
        if self.peek() == token {
            self.bump();
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    fn digit(&mut self, expected: &str) -> Result<i64, Error> {
        match self.peek() {
            Token::Digit(d) => {
                self.bump();
                Ok(i64::from(d))
            }
            _ => Err(self.unexpected(expected)),
        }
    }

    /// Two digits, and the index of the first for errors.
    fn two_digits(&mut self, what: &str) -> Result<(i64, usize), Error> {
        let start = self.next;
        let expected = format!("two digits of the {what}");
        let tens = self.digit(&expected)?;
        let ones = self.digit(&expected)?;
        Ok((tens * 10 + ones, start))
    }

    fn digit_run(&self) -> usize {
        self.tokens[self.next..]
            .iter()
            .take_while(|(t, _)| matches!(t, Token::Digit(_)))
            .count()
    }

    // datemath.y: start, expression
    fn expression(mut self) -> Result<Expression, Error> {
        let anchor = match self.peek() {
            Token::Now => {
                self.bump();
                Anchor::Now
            }
            Token::Digit(_) => {
                let anchor = self.absolute()?;
                match self.peek() {
                    Token::Pipes => {
                        self.bump();
                    }
                    Token::End => {}
                    _ => return Err(self.unexpected("\"||\" or the end")),
                }
                anchor
            }
            _ => return Err(self.unexpected("\"now\", a date or epoch milliseconds")),
        };
        let adjustments = self.adjustments()?;
        Ok(Expression {
            anchor,
            adjustments,
        })
    }

    // datemath.y: absolute_date_expression
    fn absolute(&mut self) -> Result<Anchor, Error> {
        match self.digit_run() {
            2 => {
                let (hour, minute, second, nanosecond) = self.time()?;
                let fields = Fields {
                    year: 1970,
                    month: 1,
                    day: 1,
                    hour,
                    minute,
                    second,
                    nanosecond,
                };
                Ok(Anchor::Date(fields, None))
            }
            4 => {
                let (year, month, day) = self.date()?;
                let mut fields = Fields {
                    year,
                    month,
                    day,
                    hour: 0,
                    minute: 0,
                    second: 0,
                    nanosecond: 0,
                };
                let mut zone = None;
                if self.peek() == Token::TimeDelimiter {
                    self.bump();
                    (fields.hour, fields.minute, fields.second, fields.nanosecond) = self.time()?;
                    zone = self.timezone()?;
                }
                Ok(Anchor::Date(fields, zone))
            }
            // datemath.y: millitimestamp, five digits or more.
            n if n >= 5 => {
                let start = self.next;
                let mut millis: i64 = 0;
                for _ in 0..n {
                    let d = self.digit("a digit")?;
                    millis = millis
                        .checked_mul(10)
                        .and_then(|m| m.checked_add(d))
                        .ok_or_else(|| {
                            self.error_at(start, "epoch milliseconds out of range".to_owned())
                        })?;
                }
                Ok(Anchor::Millis(millis))
            }
            _ => Err(self.error_at(
                self.next,
                "expected a four-digit year, a two-digit hour or epoch milliseconds".to_owned(),
            )),
        }
    }

    // datemath.y: date, year, month, day
    fn date(&mut self) -> Result<(i64, i64, i64), Error> {
        let mut year = 0;
        for _ in 0..4 {
            year = year * 10 + self.digit("a digit of the year")?;
        }
        if self.peek() != Token::Minus {
            return Ok((year, 1, 1));
        }
        self.bump();
        let (month, at) = self.two_digits("month")?;
        if month > 12 {
            return Err(self.error_at(at, format!("month out of bounds {month}")));
        }
        if self.peek() != Token::Minus {
            return Ok((year, month, 1));
        }
        self.bump();
        let (day, at) = self.two_digits("day")?;
        if day > days_in(month, year) {
            return Err(self.error_at(at, format!("day {day} out of bounds for month {month}")));
        }
        Ok((year, month, day))
    }

    // datemath.y: time, hour, minute, second, nanoseconds
    fn time(&mut self) -> Result<(i64, i64, i64, i64), Error> {
        let bounded = |p: &Self, (value, at): (i64, usize), max: i64, what: &str| {
            if value > max {
                Err(p.error_at(at, format!("{what} out of bounds {value}")))
            } else {
                Ok(value)
            }
        };
        let hour = self.two_digits("hour")?;
        let hour = bounded(self, hour, 23, "hours")?;
        let (mut minute, mut second, mut nanosecond) = (0, 0, 0);
        if self.peek() == Token::Colon {
            self.bump();
            let m = self.two_digits("minute")?;
            minute = bounded(self, m, 59, "minutes")?;
            if self.peek() == Token::Colon {
                self.bump();
                let s = self.two_digits("second")?;
                second = bounded(self, s, 59, "seconds")?;
                if self.peek() == Token::Dot {
                    self.bump();
                    // Go reads one to three digits of a fraction, no more.
                    let mut scale = 100_000_000;
                    nanosecond = self.digit("a digit of the fraction")? * scale;
                    for _ in 0..2 {
                        let Token::Digit(d) = self.peek() else { break };
                        self.bump();
                        scale /= 10;
                        nanosecond += i64::from(d) * scale;
                    }
                }
            }
        }
        Ok((hour, minute, second, nanosecond))
    }

    // datemath.y: timezone
    fn timezone(&mut self) -> Result<Option<FixedOffset>, Error> {
        let sign = match self.peek() {
            Token::Utc => {
                self.bump();
                return Ok(FixedOffset::east_opt(0));
            }
            Token::Plus => 1,
            Token::Minus => -1,
            _ => return Ok(None),
        };
        let start = self.next;
        self.bump();
        let (hours, _) = self.two_digits("zone's hours")?;
        self.expect(Token::Colon, "\":\" in the zone offset")?;
        let (minutes, _) = self.two_digits("zone's minutes")?;
        // Go takes any two digits (+99:99); chrono's offsets stay under a day.
        let seconds = sign * (hours * 3_600 + minutes * 60);
        i32::try_from(seconds)
            .ok()
            .and_then(FixedOffset::east_opt)
            .map(Some)
            .ok_or_else(|| self.error_at(start, "zone offset out of range".to_owned()))
    }

    // datemath.y: date_math_expressions, date_math_expression, sign, factor
    fn adjustments(&mut self) -> Result<Vec<Adjustment>, Error> {
        let mut out = Vec::new();
        loop {
            let adjustment = match self.peek() {
                Token::End => return Ok(out),
                Token::Plus | Token::Minus => {
                    let start = self.next;
                    let sign = if self.bump() == Token::Minus { -1 } else { 1 };
                    let mut factor: Option<i64> = None;
                    while let Token::Digit(d) = self.peek() {
                        self.bump();
                        factor = factor
                            .unwrap_or(0)
                            .checked_mul(10)
                            .and_then(|f| f.checked_add(i64::from(d)));
                        if factor.is_none() {
                            return Err(self.error_at(start, "number out of range".to_owned()));
                        }
                    }
                    Adjustment::Add(sign * factor.unwrap_or(1), self.unit()?)
                }
                Token::Slash => {
                    self.bump();
                    let at = self.next;
                    match self.unit()? {
                        // go-datemath parses `/b`, then panics evaluating it.
                        Unit::BusinessDay => {
                            return Err(
                                self.error_at(at, "cannot round to business days".to_owned())
                            );
                        }
                        unit => Adjustment::Round(unit),
                    }
                }
                _ => return Err(self.unexpected("\"+\", \"-\", \"/\" or the end")),
            };
            out.push(adjustment);
        }
    }

    fn unit(&mut self) -> Result<Unit, Error> {
        match self.peek() {
            Token::Unit(unit) => {
                self.bump();
                Ok(unit)
            }
            _ => Err(self.unexpected("a unit (y, fy, Q, fQ, M, w, d, b, h, m, s)")),
        }
    }
}

/// The days in `month` of `year`; month 0 is the December before, as Go's
/// `time.Date` normalises it.
// datemath.go: daysIn
fn days_in(month: i64, year: i64) -> i64 {
    Fields {
        year,
        month: month + 1,
        day: 0,
        hour: 0,
        minute: 0,
        second: 0,
        nanosecond: 0,
    }
    .normalize()
    .map_or(31, |d| i64::from(d.day()))
}

/// Parses a date math expression (datemath.go: `Parse`).
pub(crate) fn parse(input: &str) -> Result<Expression, Error> {
    Parser::new(input).expression()
}

impl Expression {
    /// The instant the expression stands for (datemath.go:
    /// `Expression.Time`); `input` names the expression in errors.
    pub(crate) fn evaluate(
        &self,
        options: &Options,
        input: &str,
    ) -> Result<DateTime<FixedOffset>, Error> {
        let out_of_range = || Error::OutOfRange(input.to_owned());
        let utc = FixedOffset::east_opt(0).ok_or_else(out_of_range)?;
        // datemath.go: anchorDateNow, anchorDate
        match (&self.anchor, options.location.zone()) {
            (Anchor::Now, Zone::Named(tz)) => {
                self.adjust(options.now.with_timezone(&tz), options, input)
            }
            (Anchor::Now, Zone::Fixed(offset)) => {
                self.adjust(options.now.with_timezone(&offset), options, input)
            }
            (Anchor::Date(fields, Some(offset)), _) => self.adjust(
                fields.resolve(offset).ok_or_else(out_of_range)?,
                options,
                input,
            ),
            (Anchor::Date(fields, None), Zone::Named(tz)) => self.adjust(
                fields.resolve(&tz).ok_or_else(out_of_range)?,
                options,
                input,
            ),
            (Anchor::Date(fields, None), Zone::Fixed(offset)) => self.adjust(
                fields.resolve(&offset).ok_or_else(out_of_range)?,
                options,
                input,
            ),
            (Anchor::Millis(millis), _) => {
                let t = DateTime::from_timestamp_millis(*millis).ok_or_else(out_of_range)?;
                self.adjust(t.with_timezone(&utc), options, input)
            }
        }
    }

    fn adjust<Tz: TimeZone>(
        &self,
        mut t: DateTime<Tz>,
        options: &Options,
        input: &str,
    ) -> Result<DateTime<FixedOffset>, Error> {
        for adjustment in &self.adjustments {
            t = match *adjustment {
                Adjustment::Add(n, unit) => add(&t, n, unit),
                Adjustment::Round(unit) => round(&t, unit, options),
            }
            .ok_or_else(|| Error::OutOfRange(input.to_owned()))?;
        }
        Ok(t.fixed_offset())
    }
}

/// `t` plus `n` units; `None` when out of range.
// datemath.go: addUnits
fn add<Tz: TimeZone>(t: &DateTime<Tz>, n: i64, unit: Unit) -> Option<DateTime<Tz>> {
    let exact = |secs: i64| {
        let delta = TimeDelta::try_seconds(secs.checked_mul(n)?)?;
        t.clone().checked_add_signed(delta)
    };
    match unit {
        Unit::Year | Unit::FiscalYear => gotime::add_date(t, n, 0, 0),
        Unit::Quarter | Unit::FiscalQuarter => gotime::add_date(t, 0, n.checked_mul(3)?, 0),
        Unit::Month => gotime::add_date(t, 0, n, 0),
        Unit::Week => gotime::add_date(t, 0, 0, n.checked_mul(7)?),
        Unit::Day => gotime::add_date(t, 0, 0, n),
        Unit::BusinessDay => add_business_days(t, n),
        Unit::Hour => exact(3_600),
        Unit::Minute => exact(60),
        Unit::Second => exact(1),
    }
}

/// `t` moved by `n` business days (Monday to Friday), one calendar day at a
/// time and past any weekend, as go-datemath's loop does.
fn add_business_days<Tz: TimeZone>(t: &DateTime<Tz>, n: i64) -> Option<DateTime<Tz>> {
    let weekend = |t: &DateTime<Tz>| matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
    let step = n.signum();
    let mut left = n.unsigned_abs();
    let mut t = t.clone();
    // Go loops `n` times. Every five business days past the first are one
    // week, so a long run jumps whole weeks and loops over the rest; this
    // bounds the work (a wall clock in a daylight-saving gap may then land
    // an hour off where Go's day-by-day walk would have moved it).
    const LOOP: u64 = 1_000;
    if left > LOOP {
        let weeks = (left - LOOP) / 5;
        t = gotime::add_date(&t, 0, 0, step * 7 * i64::try_from(weeks).ok()?)?;
        left -= weeks * 5;
    }
    for _ in 0..left {
        t = gotime::add_date(&t, 0, 0, step)?;
        while weekend(&t) {
            t = gotime::add_date(&t, 0, 0, step)?;
        }
    }
    Some(t)
}

/// `t` rounded down to the unit, or with `round_up` to the last millisecond
/// of the unit; `None` out of range (or for business days, which the
/// parser rejects).
// datemath.go: truncateUnits
fn round<Tz: TimeZone>(t: &DateTime<Tz>, unit: Unit, options: &Options) -> Option<DateTime<Tz>> {
    let start = round_down(t, unit, options)?;
    if options.round_up {
        add(&start, 1, unit)?.checked_sub_signed(TimeDelta::milliseconds(1))
    } else {
        Some(start)
    }
}

fn round_down<Tz: TimeZone>(
    t: &DateTime<Tz>,
    unit: Unit,
    options: &Options,
) -> Option<DateTime<Tz>> {
    let tz = t.timezone();
    let f = Fields::of(t);
    let midnight = Fields {
        hour: 0,
        minute: 0,
        second: 0,
        nanosecond: 0,
        ..f
    };
    match unit {
        Unit::Year => Fields {
            month: 1,
            day: 1,
            ..midnight
        }
        .resolve(&tz),
        Unit::FiscalYear => first_day_of_fiscal_year(t, options.fiscal_start),
        Unit::Quarter => Fields {
            month: (f.month - 1) / 3 * 3 + 1,
            day: 1,
            ..midnight
        }
        .resolve(&tz),
        Unit::FiscalQuarter => {
            let first = first_day_of_fiscal_year(t, options.fiscal_start)?;
            let first_month = i64::from(first.month());
            let months = (f.month - first_month).rem_euclid(12) / 3 * 3;
            gotime::add_date(&first, 0, months, 0)
        }
        Unit::Month => Fields { day: 1, ..midnight }.resolve(&tz),
        Unit::Week => {
            let diff = i64::from(t.weekday().num_days_from_sunday())
                - i64::from(options.week_start.num_days_from_sunday());
            let mut today = midnight.resolve(&tz)?;
            if diff < 0 {
                today = gotime::add_date(&today, 0, 0, -7)?;
            }
            gotime::add_date(&today, 0, 0, -diff)
        }
        Unit::Day => midnight.resolve(&tz),
        // Go's `Truncate` works on the instant, not the wall clock: in a
        // zone half an hour off UTC, `/h` lands on the half hour.
        Unit::Hour => truncate(t, 3_600),
        Unit::Minute => truncate(t, 60),
        Unit::Second => truncate(t, 1),
        Unit::BusinessDay => None,
    }
}

/// `t` rounded down to a multiple of `secs` since the epoch (Go's
/// `Time.Truncate`, whose zero time is a whole number of days before it).
fn truncate<Tz: TimeZone>(t: &DateTime<Tz>, secs: i64) -> Option<DateTime<Tz>> {
    let floor = t.timestamp().div_euclid(secs) * secs;
    let utc = DateTime::from_timestamp(floor, 0)?;
    Some(utc.with_timezone(&t.timezone()))
}

/// The start of the fiscal year `t` is in, in `t`'s zone.
// datemath.go: firstDayOfFiscalYear
fn first_day_of_fiscal_year<Tz: TimeZone>(
    t: &DateTime<Tz>,
    start: FiscalStart,
) -> Option<DateTime<Tz>> {
    let tz = t.timezone();
    let year = i64::from(t.year());
    let first = start.in_year(year).resolve(&tz)?;
    if first > *t {
        start.in_year(year - 1).resolve(&tz)
    } else {
        Some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::SecondsFormat;

    fn rfc3339(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[derive(Clone, Copy)]
    struct Case {
        input: &'static str,
        out: &'static str,
        now: &'static str,
        location: Option<i32>,
        round_up: bool,
        fiscal: Option<FiscalStart>,
        week_start: Option<Weekday>,
    }

    const CASE: Case = Case {
        input: "",
        out: "",
        now: "",
        location: None,
        round_up: false,
        fiscal: None,
        week_start: None,
    };

    const fn case(input: &'static str, out: &'static str) -> Case {
        Case { input, out, ..CASE }
    }

    const fn at(now: &'static str, input: &'static str, out: &'static str) -> Case {
        Case {
            input,
            out,
            now,
            ..CASE
        }
    }

    const fn fiscal(month: i64, day: i64, hour: i64, minute: i64) -> Option<FiscalStart> {
        Some(FiscalStart {
            month,
            day,
            hour,
            minute,
            second: 0,
            nanosecond: 0,
        })
    }

    fn evaluate(c: &Case) -> Result<DateTime<FixedOffset>, Error> {
        let location = match c.location {
            Some(secs) => Location::from(FixedOffset::east_opt(secs).unwrap()),
            None => Location::UTC,
        };
        let options = Options {
            // Go's test uses the wall clock when `now` is unset; these
            // cases do not read it.
            now: if c.now.is_empty() {
                Utc::now()
            } else {
                rfc3339(c.now)
            },
            location,
            week_start: c.week_start.unwrap_or(Weekday::Mon),
            round_up: c.round_up,
            fiscal_start: c.fiscal.unwrap_or_default(),
        };
        parse(c.input)?.evaluate(&options, c.input)
    }

    // go-datemath datemath_test.go: TestParseAndEvaluate (every success case).
    #[test]
    fn parse_and_evaluate_table() {
        use Weekday::*;
        let now = "2014-11-18T14:27:32.000Z";
        let cases = [
            // basic dates
            case("2014", "2014-01-01T00:00:00.000Z"),
            case("2014-05", "2014-05-01T00:00:00.000Z"),
            case("2014-05-30", "2014-05-30T00:00:00.000Z"),
            case("2014-05-30T20", "2014-05-30T20:00:00.000Z"),
            case("2014-05-30T20:21", "2014-05-30T20:21:00.000Z"),
            case("2014-05-30T20:21:35", "2014-05-30T20:21:35.000Z"),
            case("2014-05-30T20:21:35.123", "2014-05-30T20:21:35.123Z"),
            // basic math
            case("2014-11-18||+y", "2015-11-18T00:00:00.000Z"),
            case("2014-11-18||+fy", "2015-11-18T00:00:00.000Z"),
            case("2014-11-18||-2y", "2012-11-18T00:00:00.000Z"),
            case("2014-11-18||+1fQ", "2015-02-18T00:00:00.000Z"),
            case("2014-11-18||+3M", "2015-02-18T00:00:00.000Z"),
            case("2014-11-18||-M", "2014-10-18T00:00:00.000Z"),
            case("2014-11-18||+1w", "2014-11-25T00:00:00.000Z"),
            case("2014-11-18||-3w", "2014-10-28T00:00:00.000Z"),
            case("2014-11-18||+22d", "2014-12-10T00:00:00.000Z"),
            case("2014-11-18||-423d", "2013-09-21T00:00:00.000Z"),
            case("2014-11-18T14||+13h", "2014-11-19T03:00:00.000Z"),
            case("2014-11-18T14||-1h", "2014-11-18T13:00:00.000Z"),
            case("2014-11-18T14||+13H", "2014-11-19T03:00:00.000Z"),
            case("2014-11-18T14||-1H", "2014-11-18T13:00:00.000Z"),
            case("2014-11-18T14:27||+10240m", "2014-11-25T17:07:00.000Z"),
            case("2014-11-18T14:27||-10m", "2014-11-18T14:17:00.000Z"),
            case("2014-11-18T14:27:32||+60s", "2014-11-18T14:28:32.000Z"),
            case("2014-11-18T14:27:32||-3600s", "2014-11-18T13:27:32.000Z"),
            case("2014-11-19T14:27:32||/w", "2014-11-17T00:00:00.000Z"),
            case("2014-11-01T14:27:32||/w", "2014-10-27T00:00:00.000Z"),
            // lenient math
            case("2014-05-30T20:21||", "2014-05-30T20:21:00.000Z"),
            // multiple adjustments
            case("2014-11-18||+1M-1M", "2014-11-18T00:00:00.000Z"),
            case("2014-11-18||+1M-1m", "2014-12-17T23:59:00.000Z"),
            case("2014-11-18||-1m+1M", "2014-12-17T23:59:00.000Z"),
            case("2014-11-18||+1M/M", "2014-12-01T00:00:00.000Z"),
            case("2014-11-18||+1M/M+1h", "2014-12-01T01:00:00.000Z"),
            // now
            at(now, "now", "2014-11-18T14:27:32.000Z"),
            at(now, "now+M", "2014-12-18T14:27:32.000Z"),
            at(now, "now/m", "2014-11-18T14:27:00.000Z"),
            Case {
                round_up: true,
                ..at(now, "now/m", "2014-11-18T14:27:59.999Z")
            },
            at(now, "now/Q", "2014-10-01T00:00:00.000Z"),
            at(
                "2014-03-18T14:27:32.000Z",
                "now/Q",
                "2014-01-01T00:00:00.000Z",
            ),
            Case {
                round_up: true,
                ..at(now, "now/Q", "2014-12-31T23:59:59.999Z")
            },
            // fiscal years and quarters
            Case {
                fiscal: fiscal(2, 1, 0, 0),
                ..at(now, "now/fQ", "2014-11-01T00:00:00.000Z")
            },
            Case {
                fiscal: fiscal(2, 1, 0, 0),
                ..at(
                    "2015-01-18T14:27:32.000Z",
                    "now/fQ",
                    "2014-11-01T00:00:00.000Z",
                )
            },
            Case {
                fiscal: fiscal(12, 15, 12, 30),
                ..at(
                    "2015-01-18T14:27:32.000Z",
                    "now/fQ",
                    "2014-12-15T12:30:00.000Z",
                )
            },
            Case {
                fiscal: fiscal(2, 1, 0, 0),
                ..at(now, "now/fy", "2014-02-01T00:00:00.000Z")
            },
            Case {
                fiscal: fiscal(4, 15, 0, 0),
                ..at(
                    "2015-02-18T14:27:32.000Z",
                    "now/fy",
                    "2014-04-15T00:00:00.000Z",
                )
            },
            Case {
                fiscal: fiscal(2, 29, 0, 0),
                ..at(
                    "2016-02-28T15:30:50.000Z",
                    "now/fy",
                    "2015-03-01T00:00:00.000Z",
                )
            },
            Case {
                fiscal: fiscal(2, 29, 0, 0),
                ..at(
                    "2017-02-28T15:30:50.000Z",
                    "now/fy",
                    "2016-02-29T00:00:00.000Z",
                )
            },
            Case {
                fiscal: fiscal(2, 29, 0, 0),
                ..at(
                    "2017-02-28T15:30:50.000Z",
                    "now/fy+fy",
                    "2017-03-01T00:00:00.000Z",
                )
            },
            // Go's zero time.Time: January 1.
            at(
                "2022-01-04T10:10:10.000Z",
                "now/fQ",
                "2022-01-01T00:00:00.000Z",
            ),
            // epoch times
            case("04:52:20", "1970-01-01T04:52:20.000Z"),
            // timestamps
            case("1418248078000", "2014-12-10T21:47:58.000Z"),
            case("32484216259000", "2999-05-20T17:24:19.000Z"),
            case("253382837059000", "9999-05-20T17:24:19.000Z"),
            case("1418248078000||/m", "2014-12-10T21:47:00.000Z"),
            // timezones
            case("2014-05-30T20:21+03:00", "2014-05-30T17:21:00.000Z"),
            case("2014-05-30T20:21Z", "2014-05-30T20:21:00.000Z"),
            Case {
                location: Some(7_200),
                ..case("2014-05-30T20:21", "2014-05-30T18:21:00.000Z")
            },
            Case {
                location: Some(7_200),
                ..case("2014-05-30T20:21+03:00", "2014-05-30T17:21:00.000Z")
            },
            // business days
            at(now, "now+5b", "2014-11-25T14:27:32.000Z"),
            at(now, "now-5b", "2014-11-11T14:27:32.000Z"),
            // weekdays
            Case {
                week_start: Some(Fri),
                ..case("2020-03-12||/w", "2020-03-06T00:00:00Z")
            },
            Case {
                week_start: Some(Sat),
                ..case("2020-03-12||/w", "2020-03-07T00:00:00Z")
            },
            Case {
                week_start: Some(Sun),
                ..case("2020-03-12||/w", "2020-03-08T00:00:00Z")
            },
            Case {
                week_start: Some(Mon),
                ..case("2020-03-12||/w", "2020-03-09T00:00:00Z")
            },
            Case {
                week_start: Some(Tue),
                ..case("2020-03-12||/w", "2020-03-10T00:00:00Z")
            },
            Case {
                week_start: Some(Wed),
                ..case("2020-03-12||/w", "2020-03-11T00:00:00Z")
            },
            Case {
                week_start: Some(Thu),
                ..case("2020-03-12||/w", "2020-03-12T00:00:00Z")
            },
            Case {
                week_start: Some(Thu),
                ..case("2020-01-01||/w", "2019-12-26T00:00:00Z")
            },
        ];
        for c in &cases {
            let got = evaluate(c).unwrap_or_else(|e| panic!("{}: {e}", c.input));
            assert_eq!(got, rfc3339(c.out), "{}", c.input);
        }
        // Go's ExampleParse, with now 2014-05-30T20:21:35.123Z.
        let example = "2014-05-30T20:21:35.123Z";
        for (input, out) in [
            ("now-15m", "2014-05-30T20:06:35.123Z"),
            ("now/w", "2014-05-26T00:00:00Z"),
            ("now+1M", "2014-06-30T20:21:35.123Z"),
            ("2014-05-31||+1M/w", "2014-06-30T00:00:00Z"),
        ] {
            let got = evaluate(&at(example, input, out)).unwrap();
            assert_eq!(
                got.to_rfc3339_opts(SecondsFormat::AutoSi, true),
                rfc3339(out).to_rfc3339_opts(SecondsFormat::AutoSi, true),
                "{input}"
            );
        }
    }

    // go-datemath datemath_test.go: TestParseAndEvaluate, the error cases.
    // Go's messages name yacc tokens (`syntax error: unexpected
    // tINVALID_TOKEN, expecting tNOW or tDIGIT at character 3 starting
    // with "no"`) and count the character after the token; these name the
    // token that is wrong and where it starts.
    #[test]
    fn parse_errors_table() {
        let cases: &[(&str, &str)] = &[
            (
                "2014-05-35T20:21:21Z",
                r#"invalid time "2014-05-35T20:21:21Z": day 35 out of bounds for month 5 at character 9"#,
            ),
            (
                "no",
                r#"invalid time "no": expected "now", a date or epoch milliseconds, found an unknown character 'n' at character 1"#,
            ),
            (
                "npe",
                r#"invalid time "npe": expected "now", a date or epoch milliseconds, found an unknown character 'n' at character 1"#,
            ),
            (
                "now-nope",
                r#"invalid time "now-nope": expected a unit (y, fy, Q, fQ, M, w, d, b, h, m, s), found an unknown character 'n' at character 5"#,
            ),
            (
                "now-1d/b",
                r#"invalid time "now-1d/b": cannot round to business days at character 8"#,
            ),
            (
                "definitely-nope",
                r#"invalid time "definitely-nope": expected "now", a date or epoch milliseconds, found a unit 'd' at character 1"#,
            ),
        ];
        for &(input, message) in cases {
            let err = evaluate(&case(input, "")).unwrap_err();
            assert_eq!(err.to_string(), message, "{input}");
        }
    }

    #[test]
    fn grammar_edges() {
        let ok = [
            // A year alone takes a time after `T`; month and day 00 are
            // normalised as Go's time.Date does.
            ("2014T10", "2014-01-01T10:00:00Z"),
            ("2014-00", "2013-12-01T00:00:00Z"),
            ("2014-03-00", "2014-02-28T00:00:00Z"),
            ("2014-05-30T20:21:35.1", "2014-05-30T20:21:35.100Z"),
            ("2014-05-30T20:21:35.12", "2014-05-30T20:21:35.120Z"),
            ("2014-05-30T20:21-03:00", "2014-05-30T23:21:00Z"),
            ("20||+1h", "1970-01-01T21:00:00Z"),
            ("2014-11-18||+0d", "2014-11-18T00:00:00Z"),
            ("2014-11-18||+007d", "2014-11-25T00:00:00Z"),
            // Go's lexer stops at a NUL byte.
            ("2014\0garbage", "2014-01-01T00:00:00Z"),
            // Five business days from a Saturday is the next Friday; long
            // runs jump whole weeks and agree with the walk.
            ("2014-11-15||+5b", "2014-11-21T00:00:00Z"),
            ("2014-11-18||+2000b", "2022-07-19T00:00:00Z"),
            ("2014-11-18||+2000b-2000b", "2014-11-18T00:00:00Z"),
        ];
        for (input, out) in ok {
            let got = evaluate(&case(input, out)).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got, rfc3339(out), "{input:?}");
        }
        let errors = [
            "",
            "201",
            "2014-5",
            "2014-13",
            "2014-02-30",
            "24",
            "20:60",
            "20:59:60",
            "2014-05-30T20:21:35.1234",
            "2014-05-30T20:21:35.",
            "20+03:00",
            "2014-05-30+1d",
            "now||",
            "now+",
            "now-1",
            "now/",
            "now/b",
            "now 1d",
            " now",
            "2014-05-30T20:21+3:00",
            "2014-05-30T20:21+99:00",
            "now+99999999999999999999d",
            "99999999999999999999||",
            "now+9999999999y",
            "now+9999999999999999h",
        ];
        for input in errors {
            assert!(
                evaluate(&at("2014-11-18T14:27:32Z", input, "")).is_err(),
                "{input:?}"
            );
        }
    }

    #[test]
    fn error_positions_count_characters() {
        for (input, position) in [
            ("é", 1),
            ("ééé", 1),
            ("nowé", 4),
            ("2014-05-30Té", 12),
            ("né", 1),
        ] {
            match evaluate(&case(input, "")) {
                Err(Error::InvalidTime { position: got, .. }) => {
                    assert_eq!(got, position, "{input:?}");
                }
                other => panic!("{input:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn round_up_ends_each_unit() {
        let now = "2014-11-18T14:27:32.5Z";
        for (input, out) in [
            ("now/y", "2014-12-31T23:59:59.999Z"),
            ("now/M", "2014-11-30T23:59:59.999Z"),
            ("now/w", "2014-11-23T23:59:59.999Z"),
            ("now/d", "2014-11-18T23:59:59.999Z"),
            ("now/h", "2014-11-18T14:59:59.999Z"),
            ("now/s", "2014-11-18T14:27:32.999Z"),
            ("now/fy", "2014-12-31T23:59:59.999Z"),
            ("now/fQ", "2014-12-31T23:59:59.999Z"),
        ] {
            let c = Case {
                round_up: true,
                ..at(now, input, out)
            };
            assert_eq!(evaluate(&c).unwrap(), rfc3339(out), "{input}");
        }
    }

    #[test]
    fn hours_truncate_the_instant_not_the_wall_clock() {
        // India is UTC+05:30: Go's Truncate(time.Hour) keeps UTC hours.
        let c = Case {
            location: Some(19_800),
            ..at("2014-11-18T14:27:32Z", "now/h", "2014-11-18T14:00:00Z")
        };
        assert_eq!(evaluate(&c).unwrap(), rfc3339("2014-11-18T14:00:00Z"));
        let c = Case {
            location: Some(19_800),
            ..at("2014-11-18T14:27:32Z", "now/d", "")
        };
        assert_eq!(evaluate(&c).unwrap(), rfc3339("2014-11-17T18:30:00Z"));
    }
}
