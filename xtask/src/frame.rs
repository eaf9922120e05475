//! `cargo xtask frame FILE [--json]`: print the frames in an Arrow IPC file, a frame-JSON file
//! or a Go golden `.txt`/`.jsonc` file, as tables or (with `--json`) as frame JSON.
//!
//! The format is recognised by content (plugin_data::golden::read_any); this module only
//! parses arguments and prints.

use std::io::Write;

use anyhow::{Context, bail};
use plugin_data::FrameInclude;
use plugin_data::golden;

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let mut json = false;
    let mut path = None;
    for arg in args {
        match arg.as_str() {
            "--json" => json = true,
            flag if flag.starts_with('-') => {
                bail!("unknown option `{flag}` (usage: frame FILE [--json])")
            }
            file if path.is_none() => path = Some(file),
            extra => bail!("unexpected argument `{extra}` (usage: frame FILE [--json])"),
        }
    }
    let Some(path) = path else {
        bail!("missing FILE (usage: frame FILE [--json])")
    };
    let bytes = std::fs::read(path).with_context(|| format!("reading {path}"))?;
    let response = golden::read_any(&bytes).with_context(|| format!("decoding {path}"))?;

    let mut stdout = std::io::stdout().lock();
    if json {
        // One frame JSON document per line, so the output pipes into `jq` as a stream.
        for frame in &response.frames {
            stdout.write_all(&frame.to_json(FrameInclude::All)?)?;
            stdout.write_all(b"\n")?;
        }
    } else {
        stdout.write_all(golden::describe(&response)?.as_bytes())?;
    }
    stdout.flush()?;
    Ok(())
}
