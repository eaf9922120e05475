//! The Go SDK's golden-file formats (`experimental/golden_response_checker.go`), read and write.
//!
//! * `.txt`: an informative header (each frame's meta and a table), then the line
//!   `====== TEST DATA RESPONSE (arrow base64) ======` and one `FRAME=<base64 Arrow file>` line
//!   per frame (and `ERROR=<message>` for an error response).
//! * `.jsonc`: the same header as `//` comments, then the DataResponse as JSON:
//!   `{"status":200,"frames":[<frame JSON>...]}`. A bare frame or a list of frames is accepted too.
//!
//! ```
//! use plugin_data::{Field, Frame, golden::{self, GoldenResponse}};
//!
//! let response = GoldenResponse::from_frames(vec![
//!     Frame::new("A").with_field(Field::new("x", vec![1_i64, 2])),
//! ]);
//! let txt = golden::write_txt(&response)?;
//! assert_eq!(golden::read_txt(&txt)?.frames, response.frames);
//! let jsonc = golden::write_jsonc(&response)?;
//! assert_eq!(golden::read_jsonc(&jsonc)?.frames, response.frames);
//! # Ok::<(), plugin_data::Error>(())
//! ```

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::Error;
use crate::frame::{Frame, FrameInclude};

/// The line that starts the data section of a `.txt` golden file.
pub const DATA_SECTION_MARKER: &str = "====== TEST DATA RESPONSE (arrow base64) ======";

/// The line that opens and closes the header of golden files.
const MACHINE_GENERATED: &str = "🌟 This was machine generated.  Do not edit. 🌟\n";

/// The comment prefix of `.jsonc` header lines.
const JSONC_PREFIX: &str = "//  ";

/// A data response as stored in a golden file: frames, plus status and error.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct GoldenResponse {
    /// The frames, in order.
    pub frames: Vec<Frame>,
    /// The HTTP-like status (`.jsonc` files carry it; `.txt` files do not).
    pub status: Option<i32>,
    /// The error message, if the response is an error.
    pub error: Option<String>,
    /// The error source (`plugin` or `downstream`), if any.
    pub error_source: Option<String>,
}

impl GoldenResponse {
    /// A successful response (status 200) with these frames.
    pub fn from_frames(frames: Vec<Frame>) -> Self {
        GoldenResponse {
            frames,
            status: Some(200),
            error: None,
            error_source: None,
        }
    }
}

/// Reads a `.txt` golden file: decodes every `FRAME=` line after the data-section marker.
///
/// # Errors
///
/// [`Error::InvalidGolden`] when the marker is missing, a line has an unknown key or bad base64,
/// or a frame does not decode.
pub fn read_txt(text: &str) -> Result<GoldenResponse, Error> {
    let mut lines = text.lines();
    if !lines
        .by_ref()
        .any(|line| line.starts_with(DATA_SECTION_MARKER))
    {
        return Err(Error::InvalidGolden(format!(
            "no `{DATA_SECTION_MARKER}` line"
        )));
    }
    let mut response = GoldenResponse::default();
    for line in lines {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "FRAME" => {
                let bytes = BASE64
                    .decode(value.trim_end())
                    .map_err(|e| Error::InvalidGolden(format!("FRAME is not base64: {e}")))?;
                response.frames.push(Frame::from_arrow_ipc(&bytes)?);
            }
            "ERROR" => response.error = Some(value.to_owned()),
            other => return Err(Error::InvalidGolden(format!("unknown key {other:?}"))),
        }
    }
    Ok(response)
}

/// Writes a `.txt` golden file in the Go SDK's layout.
///
/// # Errors
///
/// Any error encoding a frame (e.g. fields of different lengths).
pub fn write_txt(response: &GoldenResponse) -> Result<String, Error> {
    let mut out = header(response)?;
    out.push_str(DATA_SECTION_MARKER);
    if let Some(error) = &response.error {
        out.push_str("\nERROR=");
        out.push_str(error);
    }
    for frame in &response.frames {
        out.push_str("\nFRAME=");
        out.push_str(&BASE64.encode(frame.to_arrow_ipc()?));
    }
    out.push('\n');
    Ok(out)
}

/// Reads a `.jsonc` golden file: `//` comment lines are skipped, the rest is a DataResponse
/// (`{"status":..,"frames":[..]}`), a single frame, or a list of frames.
///
/// # Errors
///
/// [`Error::InvalidGolden`] or a JSON error when the document is none of these.
pub fn read_jsonc(text: &str) -> Result<GoldenResponse, Error> {
    let json = strip_comment_lines(text);
    response_from_json(json.as_bytes())
}

/// Writes a `.jsonc` golden file: the commented header, then the DataResponse as indented JSON.
///
/// # Errors
///
/// Any error encoding a frame.
pub fn write_jsonc(response: &GoldenResponse) -> Result<String, Error> {
    let header = header(response)?;
    let mut out = String::from(JSONC_PREFIX);
    out.push_str(
        &header
            .split('\n')
            .collect::<Vec<_>>()
            .join(&format!("\n{JSONC_PREFIX}")),
    );
    out.push_str(MACHINE_GENERATED);
    out.push_str(&pretty_json(&data_response_json(response)?, "  "));
    Ok(out)
}

/// The DataResponse JSON of a response (compact): `{"error"?,"errorSource"?,"status","frames"}`.
///
/// # Errors
///
/// Any error encoding a frame.
pub fn data_response_json(response: &GoldenResponse) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    out.push(b'{');
    if let Some(error) = &response.error {
        out.extend_from_slice(b"\"error\":");
        serde_json::to_writer(&mut out, error)?;
        out.push(b',');
    }
    if let Some(source) = &response.error_source {
        out.extend_from_slice(b"\"errorSource\":");
        serde_json::to_writer(&mut out, source)?;
        out.push(b',');
    }
    out.extend_from_slice(
        format!("\"status\":{},\"frames\":[", response.status.unwrap_or(200)).as_bytes(),
    );
    for (i, frame) in response.frames.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::json::encode::write_frame(&mut out, frame, FrameInclude::All)?;
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// The informative header of golden files: each frame's meta (indented JSON) and table.
///
/// # Errors
///
/// Any error rendering a frame (e.g. fields of different lengths).
pub fn header(response: &GoldenResponse) -> Result<String, Error> {
    Ok(format!("{MACHINE_GENERATED}{}", describe(response)?))
}

/// A readable description of a response for people: the error if any, then each frame's
/// meta (indented JSON) and table. This is the golden header without its banner.
///
/// # Errors
///
/// Any error rendering a frame (e.g. fields of different lengths).
pub fn describe(response: &GoldenResponse) -> Result<String, Error> {
    let mut out = String::new();
    if let Some(error) = &response.error {
        out.push_str("\nERROR: ");
        out.push_str(error);
    }
    for (index, frame) in response.frames.iter().enumerate() {
        out.push_str(&format!("\nFrame[{index}] "));
        if let Some(meta) = frame.meta() {
            let meta = pretty_json(&serde_json::to_vec(meta)?, "    ");
            out.push_str(&escape_html_like_go(&meta));
        }
        out.push('\n');
        out.push_str(&frame.to_table(100, 10)?);
        out.push_str("\n\n");
    }
    Ok(out)
}

/// Reads a golden file by extension: `.txt` or `.jsonc`/`.json`; anything else is sniffed
/// ([`read_any`]).
///
/// # Errors
///
/// I/O errors and the errors of the format's reader.
pub fn read_path(path: impl AsRef<Path>) -> Result<GoldenResponse, Error> {
    let bytes = std::fs::read(path)?;
    read_any(&bytes)
}

/// Reads frames from bytes of any supported kind, recognised by content: an Arrow IPC file, a
/// `.txt` golden file, a `.jsonc` golden file, DataResponse JSON, QueryDataResponse JSON
/// (`{"results":{refId: DataResponse}}`), a frame JSON object or a list of them.
///
/// # Errors
///
/// [`Error::InvalidGolden`] when the bytes are none of these, or the format's decode error.
pub fn read_any(bytes: &[u8]) -> Result<GoldenResponse, Error> {
    if bytes.starts_with(b"ARROW1") {
        return Ok(GoldenResponse::from_frames(vec![Frame::from_arrow_ipc(
            bytes,
        )?]));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| Error::InvalidGolden("not an Arrow file and not UTF-8 text".to_owned()))?;
    if text
        .lines()
        .any(|line| line.starts_with(DATA_SECTION_MARKER))
    {
        return read_txt(text);
    }
    read_jsonc(text)
}

fn strip_comment_lines(text: &str) -> String {
    // JSON strings cannot contain raw newlines, so a line starting with `//` is never data.
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Any of the JSON shapes golden files hold, as one object with optional keys (serde's
/// untagged enums cannot hold raw JSON values).
#[derive(Deserialize)]
struct ObjectDocument {
    #[serde(default)]
    schema: Option<Box<RawValue>>,
    #[serde(default)]
    results: Option<std::collections::BTreeMap<String, Box<RawValue>>>,
    #[serde(default)]
    frames: Option<Vec<Box<RawValue>>>,
    #[serde(default)]
    status: Option<i32>,
    #[serde(default)]
    error: Option<String>,
    #[serde(rename = "errorSource", default)]
    error_source: Option<String>,
}

fn response_from_json(bytes: &[u8]) -> Result<GoldenResponse, Error> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let frames: Vec<Box<RawValue>> = serde_json::from_slice(bytes)?;
        return Ok(GoldenResponse::from_frames(decode_frames(&frames)?));
    }
    if first != Some(&b'{') {
        return Err(Error::InvalidGolden(
            "expected a JSON object or array".to_owned(),
        ));
    }
    let document: ObjectDocument = serde_json::from_slice(bytes)?;
    if document.schema.is_some() {
        return Ok(GoldenResponse::from_frames(vec![Frame::from_json(bytes)?]));
    }
    if let Some(results) = document.results {
        // QueryDataResponse: every refId's response, in refId order.
        let mut all = GoldenResponse::from_frames(Vec::new());
        for response in results.values() {
            let response = response_from_json(response.get().as_bytes())?;
            all.frames.extend(response.frames);
            all.error = all.error.or(response.error);
        }
        return Ok(all);
    }
    if document.frames.is_none() && document.error.is_none() && document.status.is_none() {
        return Err(Error::InvalidGolden(
            "not a DataResponse, frame or list of frames".to_owned(),
        ));
    }
    Ok(GoldenResponse {
        frames: decode_frames(document.frames.as_deref().unwrap_or_default())?,
        status: document.status,
        error: document.error,
        error_source: document.error_source,
    })
}

fn decode_frames(frames: &[Box<RawValue>]) -> Result<Vec<Frame>, Error> {
    frames
        .iter()
        .map(|f| Frame::from_json(f.get().as_bytes()))
        .collect()
}

/// Re-indents compact JSON (as `json.MarshalIndent` would), keeping key order.
/// Escapes `<`, `>`, `&`, U+2028 and U+2029 as Go's `encoding/json` does by
/// default (`encoding/json/encode.go`, `HTMLEscape`), so the meta in a golden
/// file's header reads as the Go SDK writes it. These characters only occur
/// inside JSON strings, so replacing them in the whole text is exact.
fn escape_html_like_go(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn pretty_json(compact: &[u8], indent: &str) -> String {
    let text = String::from_utf8_lossy(compact);
    let mut out = String::with_capacity(text.len() * 2);
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut chars = text.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str(indent);
        }
    };
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                if matches!(chars.peek(), Some('}' | ']')) {
                    if let Some(close) = chars.next() {
                        out.push(close);
                    }
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    out
}
