//! `cargo xtask bench [--quick]`: this SDK against the peer SDK (crates.io
//! `grafana-plugin-sdk` 0.5) on the same workload, in one run on one
//! machine.
//!
//! Builds, all `--release`:
//!
//! 1. this SDK's `examples/bench-datasource`;
//! 2. the peer's `benches/compare/peer-datasource` (same contract, own
//!    workspace);
//! 3. the measuring client `benches/compare/driver` (own workspace, so that
//!    it is optimised whatever profile xtask itself runs in),
//!
//! then runs the driver on the two binaries. The driver starts each plugin
//! through plugin-testkit as Grafana does and prints a Markdown table (see
//! `benches/compare/driver/src/main.rs` for what is measured and how);
//! `docs/benchmarks.md` records the figures.

use std::process::Command;

use anyhow::{Context, bail, ensure};

use crate::cargo_build::build_binary;

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let quick = match args {
        [] => false,
        [flag] if flag == "--quick" => true,
        _ => bail!("usage: cargo xtask bench [--quick]"),
    };
    let root = crate::project_root();
    let compare = root.join("benches/compare");
    println!("==> building this SDK's bench-datasource, the peer's and the driver (--release)");
    let ours = build_binary(
        &root.join("Cargo.toml"),
        "bench-datasource",
        "gpx_bench-datasource",
        true,
    )?;
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

    let mut command = Command::new(&driver);
    if quick {
        command.arg("--quick");
    }
    let status = command
        .arg(&ours)
        .arg(&peer)
        .status()
        .with_context(|| format!("cannot run {}", driver.display()))?;
    ensure!(status.success(), "the bench driver failed ({status})");
    Ok(())
}
