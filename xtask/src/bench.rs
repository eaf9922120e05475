//! `cargo xtask bench [--quick]`: this SDK against its peers — the Go SDK
//! (`grafana-plugin-sdk-go` v0.300.0) and crates.io `grafana-plugin-sdk`
//! 0.5 — on the same workload, in one run on one machine.
//!
//! Builds, all optimised:
//!
//! 1. this SDK's `examples/bench-datasource` (`--release`);
//! 2. the Go SDK's `benches/compare/go-datasource` (its own Go module) with
//!    the flags Grafana's mage build uses (the Go SDK's `build/common.go`:
//!    `CGO_ENABLED=0`, tag `arrow_json_stdlib`, `-ldflags '-w -s -extldflags
//!    "-static"'`) plus `-trimpath`, into the directory of the first binary;
//!    skipped with a message when `go` is not on `PATH`;
//! 3. the crate 0.5's `benches/compare/peer-datasource` (same contract, own
//!    workspace);
//! 4. the measuring client `benches/compare/driver` (own workspace, so that
//!    it is optimised whatever profile xtask itself runs in),
//!
//! then runs the driver on the binaries. The driver starts each plugin
//! through plugin-testkit as Grafana does and prints a Markdown table (see
//! `benches/compare/driver/src/main.rs` for what is measured and how);
//! `docs/benchmarks.md` records the figures.

use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, bail, ensure};

use crate::cargo_build::build_binary;

/// The Go plugin's executable name (Grafana's `gpx_` convention).
const GO_BINARY: &str = "gpx_go-datasource";

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => bail!("usage: cargo xtask bench [--quick]"),
    };
    let root = crate::project_root();
    let compare = root.join("benches/compare");
    println!("==> building the three bench plugins and the driver (optimised)");
    let ours = build_binary(
        &root.join("Cargo.toml"),
        "bench-datasource",
        "gpx_bench-datasource",
        true,
    )?;
    let output_dir = ours
        .parent()
        .context("the bench-datasource binary has no directory")?;
    let go = build_go_plugin(&compare.join("go-datasource"), output_dir)?;
    let peer = build_binary(
        &compare.join("peer-datasource/Cargo.toml"),
        "peer-datasource",
        "gpx_peer-datasource",
        true,
    )?;
    let driver = build_binary(
        &compare.join("driver/Cargo.toml"),
        "bench-driver",
        "bench-driver",
        true,
    )?;

    // `<column name>=<binary>`, this SDK first: the driver's ratios compare
    // every other plugin with the first.
    let mut plugins = vec![("this SDK", ours)];
    plugins.extend(go.map(|go| ("grafana-plugin-sdk-go v0.300.0", go)));
    plugins.push(("grafana-plugin-sdk 0.5", peer));

    let mut command = Command::new(&driver);
    if quick {
        command.arg("--quick");
    }
    for (name, binary) in plugins {
        let mut arg = OsString::from(format!("{name}="));
        arg.push(binary);
        command.arg(arg);
    }
    let status = command
        .status()
        .with_context(|| format!("cannot run {}", driver.display()))?;
    ensure!(status.success(), "the bench driver failed ({status})");
    Ok(())
}

/// Builds the Go SDK's plugin in `module` into `output_dir`, or returns
/// `None` (with a message) when there is no `go` command.
fn build_go_plugin(module: &Path, output_dir: &Path) -> anyhow::Result<Option<PathBuf>> {
    match Command::new("go")
        .arg("version")
        .stdout(Stdio::null())
        .status()
    {
        Err(error) if error.kind() == ErrorKind::NotFound => {
            println!("==> go is not on PATH: skipping the Go SDK (grafana-plugin-sdk-go) column");
            return Ok(None);
        }
        Err(error) => return Err(error).context("cannot run `go version`"),
        Ok(status) => ensure!(status.success(), "`go version` failed ({status})"),
    }
    let binary = output_dir.join(GO_BINARY);
    let status = Command::new("go")
        .current_dir(module)
        .env("CGO_ENABLED", "0")
        .args(["build", "-trimpath", "-tags", "arrow_json_stdlib"])
        .args(["-ldflags", r#"-w -s -extldflags "-static""#])
        .arg("-o")
        .arg(&binary)
        .arg(".")
        .status()
        .with_context(|| format!("cannot run go build in {}", module.display()))?;
    ensure!(
        status.success(),
        "go build in {} failed ({status})",
        module.display()
    );
    Ok(Some(binary))
}
