//! JSON tokens written byte for byte as the Go SDK's frame writer writes them.
//!
//! `Frame.MarshalJSON` (data/frame.go, data/frame_json.go) writes with jsoniter's
//! `ConfigCompatibleWithStandardLibrary`: names with `Stream.WriteString`, values and labels with
//! `Stream.WriteVal`, which escapes HTML characters, and floats with `Stream.WriteFloat64`/
//! `WriteFloat32` (json-iterator/go stream_str.go, stream_float.go).

/// Which characters a string escape covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Escape {
    /// `Stream.WriteString` (frame and field names, refId, type names): `"`, `\` and control
    /// characters.
    Plain,
    /// `Stream.WriteVal` of a string (string values, labels): also `<`, `>`, `&`, U+2028 and
    /// U+2029, as `\u003c`, `\u003e`, `\u0026`, `\u2028`, `\u2029`.
    Html,
}

/// The escape of a byte: 0 none, `u` as `\u00XX`, [`SEPARATOR_LEAD`] maybe (U+2028/U+2029),
/// anything else as a backslash and that byte.
type EscapeTable = [u8; 256];

/// The first byte of U+2028 and U+2029 (`E2 80 A8`, `E2 80 A9`) in UTF-8.
const SEPARATOR_LEAD: u8 = 0xE2;

const fn escape_table(html: bool) -> EscapeTable {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    if html {
        table[b'<' as usize] = b'u';
        table[b'>' as usize] = b'u';
        table[b'&' as usize] = b'u';
        table[SEPARATOR_LEAD as usize] = SEPARATOR_LEAD;
    }
    table
}

const PLAIN: EscapeTable = escape_table(false);
const HTML: EscapeTable = escape_table(true);
const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes `s` as a JSON string. Rust strings are valid UTF-8, so jsoniter's `\ufffd` for invalid
/// bytes never applies.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str, escape: Escape) {
    let table = match escape {
        Escape::Plain => &PLAIN,
        Escape::Html => &HTML,
    };
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let kind = table[usize::from(b)];
        if kind == 0 {
            i += 1;
            continue;
        }
        if kind == SEPARATOR_LEAD {
            match bytes.get(i + 1..i + 3) {
                Some([0x80, last @ (0xA8 | 0xA9)]) => {
                    out.extend_from_slice(&bytes[start..i]);
                    out.extend_from_slice(b"\\u202");
                    out.push(if *last == 0xA8 { b'8' } else { b'9' });
                    i += 3;
                    start = i;
                }
                _ => i += 1,
            }
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if kind == b'u' {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xF)]);
        } else {
            out.push(b'\\');
            out.push(kind);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes a finite `f64` as `Stream.WriteFloat64` does: `strconv.AppendFloat(v, 'f', -1, 64)`,
/// or `'e'` for `|v| < 1e-6` and `|v| >= 1e21` (`1e-07`, `1e+21`: at least two exponent digits).
/// Negative zero is `-0`, which Go, JavaScript and serde_json all read back as `-0.0`.
pub(crate) fn write_f64(out: &mut Vec<u8>, value: f64, buffer: &mut ryu::Buffer) {
    if value == 0.0 {
        out.extend_from_slice(if value.is_sign_negative() {
            b"-0"
        } else {
            b"0"
        });
        return;
    }
    let abs = value.abs();
    let exponent_form = !(1e-6..1e21).contains(&abs);
    write_shortest(out, buffer.format_finite(value), exponent_form);
}

/// [`write_f64`] for `f32`: shortest `f32` digits, and the cutoffs compared in `f32` as
/// `Stream.WriteFloat32` compares them.
pub(crate) fn write_f32(out: &mut Vec<u8>, value: f32, buffer: &mut ryu::Buffer) {
    if value == 0.0 {
        out.extend_from_slice(if value.is_sign_negative() {
            b"-0"
        } else {
            b"0"
        });
        return;
    }
    let abs = value.abs();
    let exponent_form = !(1e-6_f32..1e21_f32).contains(&abs);
    write_shortest(out, buffer.format_finite(value), exponent_form);
}

/// Lays out ryu's shortest digits (`12.5`, `3.0`, `0.001`, `1e-7`, `1.5e300`) in Go's `'f'` or
/// `'e'` form.
fn write_shortest(out: &mut Vec<u8>, shortest: &str, exponent_form: bool) {
    let text = shortest.as_bytes();
    if !exponent_form && !text.contains(&b'e') {
        // ryu's plain form is Go's `'f'` form, except that ryu ends integers with `.0`.
        out.extend_from_slice(text.strip_suffix(b".0").unwrap_or(text));
        return;
    }
    let (negative, text) = match text.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, text),
    };
    let (mantissa, exponent) = match text.iter().position(|&b| b == b'e') {
        Some(at) => (&text[..at], parse_exponent(&text[at + 1..])),
        None => (text, 0),
    };
    // The value is 0.DIGITS × 10^point.
    let mut digits = [0_u8; 32];
    let mut len = 0;
    let mut point = None;
    for &b in mantissa {
        if b == b'.' {
            point = Some(len);
        } else if len < digits.len() {
            digits[len] = b;
            len += 1;
        }
    }
    let mut point = i32::try_from(point.unwrap_or(len)).unwrap_or(0) + exponent;
    let mut digits = &digits[..len];
    while let [b'0', rest @ ..] = digits {
        if rest.is_empty() {
            break;
        }
        digits = rest;
        point -= 1;
    }
    while let [rest @ .., b'0'] = digits {
        if rest.is_empty() {
            break;
        }
        digits = rest;
    }
    if negative {
        out.push(b'-');
    }
    let count = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    if exponent_form {
        out.push(digits[0]);
        if digits.len() > 1 {
            out.push(b'.');
            out.extend_from_slice(&digits[1..]);
        }
        let exponent = point - 1;
        out.extend_from_slice(if exponent < 0 { b"e-" } else { b"e+" });
        if exponent.abs() < 10 {
            out.push(b'0');
        }
        out.extend_from_slice(
            itoa::Buffer::new()
                .format(exponent.unsigned_abs())
                .as_bytes(),
        );
    } else if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', point.unsigned_abs() as usize));
        out.extend_from_slice(digits);
    } else if point >= count {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', (point - count) as usize));
    } else {
        let (whole, fraction) = digits.split_at(point as usize);
        out.extend_from_slice(whole);
        out.push(b'.');
        out.extend_from_slice(fraction);
    }
}

fn parse_exponent(text: &[u8]) -> i32 {
    std::str::from_utf8(text)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f64_text(value: f64) -> String {
        let mut out = Vec::new();
        write_f64(&mut out, value, &mut ryu::Buffer::new());
        String::from_utf8(out).unwrap_or_default()
    }

    fn f32_text(value: f32) -> String {
        let mut out = Vec::new();
        write_f32(&mut out, value, &mut ryu::Buffer::new());
        String::from_utf8(out).unwrap_or_default()
    }

    fn str_text(value: &str, escape: Escape) -> String {
        let mut out = Vec::new();
        write_str(&mut out, value, escape);
        String::from_utf8(out).unwrap_or_default()
    }

    /// Expected texts are Go's `strconv.AppendFloat` output as jsoniter's `WriteFloat64` uses it.
    #[test]
    fn f64_as_go_writes_it() {
        let cases = [
            (1.0, "1"),
            (-2.5, "-2.5"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (100.0, "100"),
            (123_456_789.0, "123456789"),
            (1e15, "1000000000000000"),
            (1e16, "10000000000000000"),
            (1.5e17, "150000000000000000"),
            (1e20, "100000000000000000000"),
            (9.999999999999999e20, "999999999999999900000"),
            (1e21, "1e+21"),
            (1.5e300, "1.5e+300"),
            (f64::MAX, "1.7976931348623157e+308"),
            (0.001, "0.001"),
            (1e-5, "0.00001"),
            (1.5e-6, "0.0000015"),
            (1e-6, "0.000001"),
            (9.9e-7, "9.9e-07"),
            (1e-7, "1e-07"),
            (1e-10, "1e-10"),
            (5e-324, "5e-324"),
            (-1e-100, "-1e-100"),
            (0.0, "0"),
            (-0.0, "-0"),
        ];
        for (value, expected) in cases {
            assert_eq!(f64_text(value), expected, "{value:e}");
        }
    }

    #[test]
    fn f32_with_f32_digits_and_cutoffs() {
        let cases = [
            (0.1_f32, "0.1"),
            (1.5_f32, "1.5"),
            (16_777_216.0_f32, "16777216"),
            (1e21_f32, "1e+21"),
            (1e-6_f32, "0.000001"),
            (1e-7_f32, "1e-07"),
            (3.4028235e38_f32, "3.4028235e+38"),
        ];
        for (value, expected) in cases {
            assert_eq!(f32_text(value), expected, "{value:e}");
        }
    }

    /// Every shortest text reads back as the same float, whichever layout it took.
    #[test]
    fn float_texts_round_trip() {
        let mut value = 5e-324_f64;
        while value.is_finite() {
            for v in [value, -value, value * 3.7, value / 1.3] {
                let text = f64_text(v);
                assert_eq!(text.parse::<f64>().ok(), Some(v), "{text}");
            }
            value *= 10.0;
        }
    }

    #[test]
    fn strings_as_jsoniter_escapes_them() {
        let s = "a\"b\\c\n\r\t\u{1}\u{8}\u{c}\u{1f}<>&\u{2028}\u{2029}\u{2027}é€😀\u{7f}";
        assert_eq!(
            str_text(s, Escape::Html),
            r#""a\"b\\c\n\r\t\u0001\u0008\u000c\u001f\u003c\u003e\u0026\u2028\u2029"#.to_owned()
                + "\u{2027}é€😀\u{7f}\""
        );
        assert_eq!(
            str_text(s, Escape::Plain),
            r#""a\"b\\c\n\r\t\u0001\u0008\u000c\u001f<>&"#.to_owned()
                + "\u{2028}\u{2029}\u{2027}é€😀\u{7f}\""
        );
        assert_eq!(str_text("", Escape::Html), r#""""#);
        assert_eq!(str_text("plain", Escape::Html), r#""plain""#);
    }
}
