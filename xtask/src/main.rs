//! `cargo xtask`: the project's automation, written in Rust so that it runs
//! wherever cargo does (see <https://github.com/matklad/cargo-xtask>).
//!
//! One module per subcommand. The binary keeps its dependencies few because it
//! is built before any task can run.

mod bench;
mod cargo_build;
mod ci;
mod demo;
mod frame;
mod package;
mod proto;
mod readme;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  demo [--release]    build the example data source, start it the way Grafana
                      does and drive it: health check, query, resource call,
                      live stream; prints the decoded frames as tables
  ci                  run every check and test CI runs (fmt, clippy, tests, docs,
                      generated-code freshness, cargo-deny when installed)
  proto [--check]     regenerate crates/plugin-proto from proto/ (--check: fail
                      if the checked-in code is stale instead of writing it)
  frame FILE [--json] print the frames in an Arrow IPC file, a frame-JSON file or
                      a Go golden .txt/.jsonc file as tables (or as frame JSON)
  package DIR [--target T]... [--debug]
                      build a plugin's binaries (release unless --debug) and
                      write dist/<id>/ and dist/<id>-<version>.zip
  readme              build the README's example as a new crate that depends
                      only on grafana-plugin
  bench [--quick]     the same workloads on this SDK and on grafana-plugin-sdk
                      0.5 (benches/compare), figures for docs/benchmarks.md
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let result = match command.as_str() {
        "bench" => bench::run(rest),
        "ci" => ci::run(rest),
        "demo" => demo::run(rest),
        "proto" => proto::run(rest),
        "frame" => frame::run(rest),
        "package" => package::run(rest),
        "readme" => readme::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => Err(anyhow::anyhow!("unknown command `{other}`\n\n{USAGE}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // `{:#}` prints the whole context chain on one line, no backtrace.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// The workspace root: xtask lives one level below it.
fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
