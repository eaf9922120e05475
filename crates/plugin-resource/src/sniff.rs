//! Content-type sniffing for responses that set no `Content-Type`, as Go's
//! `http.DetectContentType` does it (the WHATWG MIME sniffing algorithm),
//! since the Go SDK's adapter gives such responses a sniffed type.

/// How many leading bytes the algorithm looks at.
pub(crate) const SNIFF_LEN: usize = 512;

/// The content type of a body that starts with `data`.
///
/// Always returns a valid content type: `application/octet-stream` when
/// nothing more specific matches.
pub(crate) fn content_type(data: &[u8]) -> &'static str {
    let data = &data[..data.len().min(SNIFF_LEN)];
    let first_non_ws = data
        .iter()
        .position(|&b| !is_whitespace(b))
        .unwrap_or(data.len());
    let trimmed = &data[first_non_ws..];

    if HTML_TAGS.iter().any(|tag| matches_html_tag(trimmed, tag)) {
        return "text/html; charset=utf-8";
    }
    if trimmed.starts_with(b"<?xml") {
        return "text/xml; charset=utf-8";
    }
    if let Some(&(_, content_type)) = EXACT
        .iter()
        .find(|(signature, _)| data.starts_with(signature))
    {
        return content_type;
    }
    if let Some(&(_, _, content_type)) = MASKED
        .iter()
        .find(|(pattern, mask, _)| matches_masked(data, pattern, mask))
    {
        return content_type;
    }
    if is_mp4(data) {
        return "video/mp4";
    }
    if !trimmed.iter().any(|&b| is_binary(b)) {
        return "text/plain; charset=utf-8";
    }
    "application/octet-stream"
}

/// Tags that mark HTML when they open the body (after whitespace), matched
/// case-insensitively and followed by a space or `>`.
const HTML_TAGS: &[&[u8]] = &[
    b"<!DOCTYPE HTML",
    b"<HTML",
    b"<HEAD",
    b"<SCRIPT",
    b"<IFRAME",
    b"<H1",
    b"<DIV",
    b"<FONT",
    b"<TABLE",
    b"<A",
    b"<STYLE",
    b"<TITLE",
    b"<B",
    b"<BODY",
    b"<BR",
    b"<P",
    b"<!--",
];

/// Prefixes that identify a type on their own, in the algorithm's order.
const EXACT: &[(&[u8], &str)] = &[
    (b"%PDF-", "application/pdf"),
    (b"%!PS-Adobe-", "application/postscript"),
    (b"\xFE\xFF", "text/plain; charset=utf-16be"),
    (b"\xFF\xFE", "text/plain; charset=utf-16le"),
    (b"\xEF\xBB\xBF", "text/plain; charset=utf-8"),
    (b"\x00\x00\x01\x00", "image/x-icon"),
    (b"\x00\x00\x02\x00", "image/x-icon"),
    (b"BM", "image/bmp"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"\x89PNG\x0D\x0A\x1A\x0A", "image/png"),
    (b"\xFF\xD8\xFF", "image/jpeg"),
    (b"ID3", "audio/mpeg"),
    (b"OggS\x00", "application/ogg"),
    (b"MThd\x00\x00\x00\x06", "audio/midi"),
    (b"\x1A\x45\xDF\xA3", "video/webm"),
    (b"\x00\x01\x00\x00", "font/ttf"),
    (b"OTTO", "font/otf"),
    (b"ttcf", "font/collection"),
    (b"wOFF", "font/woff"),
    (b"wOF2", "font/woff2"),
    (b"\x1F\x8B\x08", "application/x-gzip"),
    (b"PK\x03\x04", "application/zip"),
    (b"Rar!\x1A\x07\x00", "application/x-rar-compressed"),
    (b"Rar!\x1A\x07\x01\x00", "application/x-rar-compressed"),
    (b"\x00\x61\x73\x6D", "application/wasm"),
];

/// Patterns with don't-care bytes (mask `0x00`), e.g. a RIFF chunk size.
const MASKED: &[(&[u8], &[u8], &str)] = &[
    (
        b"RIFF\x00\x00\x00\x00WEBPVP",
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF\xFF\xFF",
        "image/webp",
    ),
    (
        b"FORM\x00\x00\x00\x00AIFF",
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        "audio/aiff",
    ),
    (
        b"RIFF\x00\x00\x00\x00AVI ",
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        "video/avi",
    ),
    (
        b"RIFF\x00\x00\x00\x00WAVE",
        b"\xFF\xFF\xFF\xFF\x00\x00\x00\x00\xFF\xFF\xFF\xFF",
        "audio/wave",
    ),
];

fn matches_html_tag(data: &[u8], tag: &[u8]) -> bool {
    let Some((head, rest)) = data.split_at_checked(tag.len()) else {
        return false;
    };
    let same = tag.iter().zip(head).all(|(&t, &d)| {
        if t.is_ascii_uppercase() {
            d & 0xDF == t
        } else {
            d == t
        }
    });
    same && matches!(rest.first(), Some(b' ' | b'>'))
}

fn matches_masked(data: &[u8], pattern: &[u8], mask: &[u8]) -> bool {
    data.len() >= pattern.len()
        && pattern
            .iter()
            .zip(mask)
            .zip(data)
            .all(|((&p, &m), &d)| d & m == p)
}

/// The ISO base media file format with an `mp4` brand.
fn is_mp4(data: &[u8]) -> bool {
    let Some(size) = data.get(..4) else {
        return false;
    };
    let box_size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
    if data.len() < 12
        || data.len() < box_size
        || !box_size.is_multiple_of(4)
        || &data[4..8] != b"ftyp"
    {
        return false;
    }
    // Brands start at byte 8, four bytes each; bytes 12..16 are the minor
    // version, not a brand.
    (8..box_size)
        .step_by(4)
        .filter(|&start| start != 12)
        .any(|start| data.get(start..start + 3) == Some(b"mp4"))
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b'\t' | b'\n' | b'\x0C' | b'\r' | b' ')
}

/// Bytes that never occur in text.
fn is_binary(b: u8) -> bool {
    matches!(b, 0x00..=0x08 | 0x0B | 0x0E..=0x1A | 0x1C..=0x1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_like_go() {
        let cases: &[(&[u8], &str)] = &[
            (b"", "text/plain; charset=utf-8"),
            (b"hello world", "text/plain; charset=utf-8"),
            (b"{\"a\": 1}", "text/plain; charset=utf-8"),
            (b"  \n<!DOCTYPE html><html>", "text/html; charset=utf-8"),
            (b"<HtMl><body>", "text/html; charset=utf-8"),
            (b"<p>text", "text/html; charset=utf-8"),
            (b"<pre>text", "text/plain; charset=utf-8"),
            (b"<?xml version=\"1.0\"?>", "text/xml; charset=utf-8"),
            (b"%PDF-1.7", "application/pdf"),
            (b"\x89PNG\x0D\x0A\x1A\x0A\x00\x00", "image/png"),
            (b"RIFF\x10\x00\x00\x00WEBPVP8 ", "image/webp"),
            (b"\x1F\x8B\x08\x00", "application/x-gzip"),
            (
                b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
                "video/mp4",
            ),
            (b"\x00\x01\x02\x03binary", "application/octet-stream"),
        ];
        for (data, expected) in cases {
            assert_eq!(
                content_type(data),
                *expected,
                "{:?}",
                String::from_utf8_lossy(data)
            );
        }
    }

    #[test]
    fn only_the_first_512_bytes_count() {
        let mut data = vec![b'a'; SNIFF_LEN];
        data.push(0x00);
        assert_eq!(content_type(&data), "text/plain; charset=utf-8");
    }
}
