//! Number and time formatting that matches the Go SDK's output (`%v` in tables, time strings).

/// Splits Rust's `{:e}` output (`1.5e-7`) into mantissa and decimal exponent.
fn split_exponent(exp_repr: &str) -> (&str, i32) {
    match exp_repr.split_once('e') {
        Some((mantissa, exp)) => (mantissa, exp.parse().unwrap_or(0)),
        None => (exp_repr, 0),
    }
}

/// Go's `%v` for a float: shortest digits, `%e` form when the exponent is below -4 or at least
/// 6 (`1e+06`), `NaN`, `+Inf`, `-Inf`.
///
/// `display` and `exp_repr` are the value's shortest `{}` and `{:e}` renderings at its own
/// precision (so `f32` values print with `f32` digits).
pub(crate) fn go_float_v(value: f64, display: &str, exp_repr: String) -> String {
    if value.is_nan() {
        return "NaN".to_owned();
    }
    if value.is_infinite() {
        return if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned();
    }
    let (mantissa, exp) = split_exponent(&exp_repr);
    if value != 0.0 && !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        display.to_owned()
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm; exact for the whole i64-nanosecond range.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The UTC calendar parts of a nanosecond timestamp:
/// (year, month, day, hour, minute, second, nanosecond).
pub(crate) fn utc_parts(nanos: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let secs = nanos.div_euclid(1_000_000_000);
    let nano = nanos.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400) as u32;
    let (year, month, day) = civil_from_days(days);
    (year, month, day, sod / 3_600, sod / 60 % 60, sod % 60, nano)
}

/// Go's `time.Time.String()` for a UTC instant: `2019-09-09 14:30:45.5 +0000 UTC`.
pub(crate) fn go_time_string(nanos: i64) -> String {
    let (year, month, day, hour, minute, second, nano) = utc_parts(nanos);
    let mut out = format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}");
    if nano != 0 {
        let fraction = format!("{nano:09}");
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push_str(" +0000 UTC");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_v_floats() {
        let v = |x: f64| go_float_v(x, &x.to_string(), format!("{x:e}"));
        assert_eq!(v(8.26), "8.26");
        assert_eq!(v(1e6), "1e+06");
        assert_eq!(v(123456.0), "123456");
        assert_eq!(v(0.0001), "0.0001");
        assert_eq!(v(0.00001), "1e-05");
        assert_eq!(v(f64::NAN), "NaN");
        assert_eq!(v(f64::NEG_INFINITY), "-Inf");
        assert_eq!(v(0.0), "0");
    }

    #[test]
    fn times() {
        assert_eq!(go_time_string(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(
            go_time_string(1_568_039_445_000_000_000),
            "2019-09-09 14:30:45 +0000 UTC"
        );
        assert_eq!(
            go_time_string(-1),
            "1969-12-31 23:59:59.999999999 +0000 UTC"
        );
    }
}
