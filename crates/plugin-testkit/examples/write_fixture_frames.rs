//! Writes [`plugin_testkit::fixtures::all_field_types`] with the Rust encoders into a directory,
//! for the Go interop suite (`interop/go/frames`) to decode with the Go SDK:
//!
//! ```text
//! cargo run -p plugin-testkit --example write_fixture_frames -- <dir>
//! ```
//!
//! Files: `all_types.arrow` (Arrow IPC), `all_types.json` (frame JSON, schema and data),
//! `all_types.schema.json` and `all_types.data.json` (the two halves Grafana streams separately).

use std::path::PathBuf;
use std::process::ExitCode;

use plugin_data::FrameInclude;
use plugin_testkit::fixtures;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: write_fixture_frames <dir>");
        return ExitCode::FAILURE;
    };
    match write(&dir) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("write_fixture_frames: {}: {error}", dir.display());
            ExitCode::FAILURE
        }
    }
}

fn write(dir: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    let frame = fixtures::all_field_types();
    std::fs::write(dir.join("all_types.arrow"), frame.to_arrow_ipc()?)?;
    for (name, include) in [
        ("all_types.json", FrameInclude::All),
        ("all_types.schema.json", FrameInclude::SchemaOnly),
        ("all_types.data.json", FrameInclude::DataOnly),
    ] {
        std::fs::write(dir.join(name), frame.to_json(include)?)?;
    }
    Ok(())
}
