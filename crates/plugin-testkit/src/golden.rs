//! Golden response files in the Go SDK's formats
//! (`experimental/golden_response_checker.go`), so a Rust plugin's tests
//! can share golden files with a Go plugin's.
//!
//! * `.txt`: a readable header (each frame's meta and table), then one
//!   `FRAME=<base64 Arrow file>` line per frame. Compared by decoding: the
//!   frames must be equal, value for value and type for type.
//! * `.jsonc`: the same header as `//` comments, then the DataResponse as
//!   JSON. Compared as JSON values (key order and whitespace do not matter).
//!
//! When a file is missing or differs, the check fails with a description
//! of the first difference — unless the environment variable
//! `UPDATE_GOLDEN=1` is set: then the file is (re)written from the response
//! and the check passes. Review the diff of the rewritten files before
//! committing them.
//!
//! ```
//! use plugin_backend::DataResponse;
//! use plugin_data::{Field, Frame};
//! use plugin_testkit::golden;
//!
//! let dir = tempfile::tempdir()?;
//! let path = dir.path().join("constant.golden.jsonc");
//! let response = DataResponse::from(Frame::new("constant").with_field(Field::new("value", vec![4.2])));
//!
//! // The first run writes the file (a test would set UPDATE_GOLDEN=1 for that) ...
//! golden::write(&path, &response)?;
//! // ... later runs compare against it.
//! golden::check(&path, &response)?;
//! let changed = DataResponse::from(Frame::new("constant").with_field(Field::new("value", vec![4.3])));
//! assert!(golden::check(&path, &changed).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;

use plugin_backend::DataResponse;
use plugin_data::golden::{self as format, GoldenResponse};
use serde_json::Value;

use crate::error::Error;

/// The environment variable that makes checks rewrite golden files.
pub const UPDATE_ENV: &str = "UPDATE_GOLDEN";

/// The two golden-file formats, chosen by file name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GoldenFormat {
    /// `.txt`: Arrow frames in base64.
    Txt,
    /// `.jsonc` (or `.json`): DataResponse JSON.
    Jsonc,
}

impl GoldenFormat {
    fn of(path: &Path) -> GoldenFormat {
        match path.extension().and_then(|extension| extension.to_str()) {
            Some("txt") => GoldenFormat::Txt,
            _ => GoldenFormat::Jsonc,
        }
    }
}

/// Whether `UPDATE_GOLDEN` asks for golden files to be rewritten (`1` or
/// `true`).
pub fn update_requested() -> bool {
    std::env::var(UPDATE_ENV).is_ok_and(|value| value == "1" || value.eq_ignore_ascii_case("true"))
}

/// Checks `response` against the golden file at `path` (`.txt` or
/// `.jsonc`, by extension); with `UPDATE_GOLDEN=1`, rewrites the file
/// instead when it is missing or differs.
///
/// # Errors
///
/// [`Error::GoldenMismatch`] when the file is missing or differs (and no
/// update was asked for); [`Error::Data`] when the file does not parse or
/// the response cannot be encoded; [`Error::Io`] when writing fails.
pub fn check(path: impl AsRef<Path>, response: &DataResponse) -> Result<(), Error> {
    let path = path.as_ref();
    match compare(path, response) {
        Ok(()) => Ok(()),
        // A mismatch, a missing file or one that no longer parses: rewrite it.
        Err(_) if update_requested() => write(path, response),
        Err(error) => Err(error),
    }
}

/// Writes `response` to the golden file at `path` in the format its
/// extension names (`.txt`, else `.jsonc`), creating parent directories.
///
/// # Errors
///
/// [`Error::Data`] when a frame cannot be encoded, [`Error::Io`] when
/// writing fails.
pub fn write(path: impl AsRef<Path>, response: &DataResponse) -> Result<(), Error> {
    let path = path.as_ref();
    let golden = to_golden(response);
    let text = match GoldenFormat::of(path) {
        GoldenFormat::Txt => format::write_txt(&golden)?,
        GoldenFormat::Jsonc => format::write_jsonc(&golden)?,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, text)?;
    Ok(())
}

/// Compares without ever writing.
fn compare(path: &Path, response: &DataResponse) -> Result<(), Error> {
    let mismatch = |diff: String| Error::GoldenMismatch {
        path: path.to_owned(),
        diff,
    };
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(mismatch("the golden file does not exist yet".to_owned()));
        }
        Err(error) => return Err(error.into()),
    };
    let actual = to_golden(response);
    match GoldenFormat::of(path) {
        GoldenFormat::Txt => {
            let expected = format::read_txt(&text)?;
            frames_difference(&expected, &actual).map_or(Ok(()), |diff| Err(mismatch(diff)))
        }
        GoldenFormat::Jsonc => {
            let json: String = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let expected: Value = serde_json::from_str(&json).map_err(plugin_data::Error::from)?;
            let actual: Value = serde_json::from_slice(&format::data_response_json(&actual)?)
                .map_err(plugin_data::Error::from)?;
            json_difference(&expected, &actual, "$").map_or(Ok(()), |diff| Err(mismatch(diff)))
        }
    }
}

/// The golden-file view of a response: frames, status, error and source.
fn to_golden(response: &DataResponse) -> GoldenResponse {
    let mut golden = GoldenResponse::from_frames(response.frames.clone());
    golden.status = Some(i32::from(response.effective_status().as_u16()));
    golden.error = response.error.as_ref().map(ToString::to_string);
    golden.error_source = response
        .error_source
        .map(|source| source.as_str().to_owned());
    golden
}

/// The first difference between the frames (and error) of two responses.
fn frames_difference(expected: &GoldenResponse, actual: &GoldenResponse) -> Option<String> {
    if expected.error != actual.error {
        return Some(format!(
            "error: expected {:?}, got {:?}",
            expected.error, actual.error
        ));
    }
    if expected.frames.len() != actual.frames.len() {
        return Some(format!(
            "expected {} frames, got {}",
            expected.frames.len(),
            actual.frames.len()
        ));
    }
    let (index, (want, got)) = expected
        .frames
        .iter()
        .zip(&actual.frames)
        .enumerate()
        .find(|(_, (want, got))| want != got)?;
    let table = |frame: &plugin_data::Frame| {
        frame
            .to_table(100, 20)
            .unwrap_or_else(|error| error.to_string())
    };
    let (want_table, got_table) = (table(want), table(got));
    if want_table == got_table {
        // Same values: the difference is in metadata, labels, config or types.
        Some(format!(
            "frame {index} differs outside its values:\nexpected: {want:#?}\ngot: {got:#?}"
        ))
    } else {
        Some(format!(
            "frame {index} differs:\nexpected:\n{want_table}\ngot:\n{got_table}"
        ))
    }
}

/// The first difference between two JSON values, with its path.
fn json_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(want), Value::Object(got)) => {
            for key in want.keys().chain(got.keys()) {
                let child = format!("{path}.{key}");
                match (want.get(key), got.get(key)) {
                    (Some(w), Some(g)) => {
                        if let Some(diff) = json_difference(w, g, &child) {
                            return Some(diff);
                        }
                    }
                    (Some(w), None) => return Some(format!("{child}: expected {w}, missing")),
                    (None, Some(g)) => return Some(format!("{child}: unexpected {g}")),
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(want), Value::Array(got)) => {
            if let Some(diff) = want
                .iter()
                .zip(got)
                .enumerate()
                .find_map(|(i, (w, g))| json_difference(w, g, &format!("{path}[{i}]")))
            {
                return Some(diff);
            }
            (want.len() != got.len()).then(|| {
                format!(
                    "{path}: expected {} elements, got {}",
                    want.len(),
                    got.len()
                )
            })
        }
        (want, got) if want == got => None,
        (want, got) => Some(format!("{path}: expected {want}, got {got}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plugin_backend::{Error as BackendError, Status};
    use plugin_data::{Field, Frame};

    fn response(value: f64) -> DataResponse {
        DataResponse::from(
            Frame::new("metrics")
                .with_field(Field::new("value", vec![value, 2.0]))
                .with_field(Field::new("host", vec![Some("a"), None])),
        )
    }

    #[test]
    fn txt_round_trip_and_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/metrics.golden.txt");
        write(&path, &response(1.0)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(format::DATA_SECTION_MARKER));
        compare(&path, &response(1.0)).unwrap();

        let error = compare(&path, &response(1.5)).unwrap_err();
        let Error::GoldenMismatch { diff, .. } = error else {
            panic!("expected a mismatch, got {error}")
        };
        assert!(diff.contains("frame 0 differs"), "{diff}");
    }

    #[test]
    fn jsonc_compares_as_json_and_reports_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.golden.jsonc");
        write(&path, &response(1.0)).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().starts_with("//"));
        compare(&path, &response(1.0)).unwrap();

        let Err(Error::GoldenMismatch { diff, .. }) = compare(&path, &response(3.0)) else {
            panic!("expected a mismatch")
        };
        assert!(
            diff.starts_with("$.frames[0].data.values[0][0]: expected 1, got 3"),
            "{diff}"
        );
    }

    #[test]
    fn errors_and_statuses_are_part_of_the_response() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("error.golden.jsonc");
        let failed = DataResponse::error_with_status(Status::BAD_GATEWAY, "upstream down");
        write(&path, &failed).unwrap();
        compare(&path, &failed).unwrap();
        let other = DataResponse::from_error(BackendError::plugin("bad query"));
        assert!(compare(&path, &other).is_err());
    }

    #[test]
    fn a_missing_file_is_a_mismatch() {
        let dir = tempfile::tempdir().unwrap();
        let error = compare(&dir.path().join("absent.golden.txt"), &response(1.0)).unwrap_err();
        assert!(error.to_string().contains("does not exist yet"), "{error}");
    }

    #[test]
    fn json_difference_finds_missing_and_extra_keys() {
        let want: Value = serde_json::json!({"a": 1, "b": [1, 2]});
        assert_eq!(json_difference(&want, &want.clone(), "$"), None);
        let got: Value = serde_json::json!({"a": 1, "b": [1], "c": true});
        assert_eq!(
            json_difference(&want, &got, "$").unwrap(),
            "$.b: expected 2 elements, got 1"
        );
        let got: Value = serde_json::json!({"b": [1, 2]});
        assert_eq!(
            json_difference(&want, &got, "$").unwrap(),
            "$.a: expected 1, missing"
        );
    }
}
