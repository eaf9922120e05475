//! `cargo xtask ci`: every check and test, in the order CI runs them.
//!
//! Stops at the first failing step and names it. Each step is an ordinary
//! command a developer can run alone; this module only sequences them.

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};

/// One step of the run: a name for the log and the command that performs it.
struct Step {
    name: &'static str,
    command: Command,
}

impl Step {
    fn cargo(name: &'static str, args: &[&str]) -> Self {
        let mut command = Command::new(cargo());
        command.args(args).current_dir(crate::project_root());
        Step { name, command }
    }

    fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }
}

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask ci");
    }
    let started = Instant::now();
    let steps = [
        Step::cargo("format", &["fmt", "--all", "--", "--check"]),
        Step::cargo(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--all-features",
                "--locked",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step::cargo(
            "tests",
            &["test", "--workspace", "--all-features", "--locked"],
        ),
        Step::cargo(
            "docs",
            &[
                "doc",
                "--workspace",
                "--all-features",
                "--no-deps",
                "--locked",
            ],
        )
        .env("RUSTDOCFLAGS", "-D warnings"),
    ];
    for step in steps {
        run_step(step)?;
    }

    announce("go interop");
    go_interop()?;

    announce("README example");
    crate::readme::check(&crate::project_root())?;

    announce("generated code");
    crate::proto::check(&crate::project_root())?;
    println!("generated protocol code is up to date");

    announce("cargo-deny");
    if !cargo_subcommand_installed("deny") {
        println!("skipped: cargo-deny is not installed (`cargo install cargo-deny` to run it)");
    } else if quietly_succeeds(Step::cargo("advisory database", &["deny", "fetch", "db"])) {
        run_step(Step::cargo("cargo-deny", &["deny", "--locked", "check"]))?;
    } else {
        // The RustSec database lives in a git repository; where it cannot be
        // reached, every check that needs no network still runs.
        println!("advisories skipped: the RustSec advisory database could not be fetched");
        run_step(Step::cargo(
            "cargo-deny",
            &["deny", "--locked", "check", "licenses", "bans", "sources"],
        ))?;
    }

    println!(
        "\nci: every step passed in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// The Go suite in `interop/go`: go-plugin's client and the Go SDK drive the
/// Rust plugins and decode their frames. It builds the plugins it starts with
/// cargo, into the workspace's target directory.
fn go_interop() -> anyhow::Result<()> {
    let go_available = Command::new("go")
        .arg("version")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !go_available {
        println!("skipped: `go` is not on PATH, so the Go interop suite (interop/go) did not run");
        return Ok(());
    }
    let dir = crate::project_root().join("interop/go");
    for args in [
        &["vet", "./..."][..],
        &["test", "-count=1", "-timeout=10m", "./..."][..],
    ] {
        let mut command = Command::new("go");
        command.args(args).current_dir(&dir);
        run_step(Step {
            name: "go interop",
            command,
        })?;
    }
    Ok(())
}

fn run_step(mut step: Step) -> anyhow::Result<()> {
    announce(step.name);
    let status = step
        .command
        .status()
        .with_context(|| format!("starting the {} step", step.name))?;
    if !status.success() {
        bail!("the {} step failed ({status})", step.name);
    }
    Ok(())
}

fn announce(name: &str) {
    println!("\n==> {name}");
}

/// The cargo that runs xtask, so a pinned toolchain is used for every step.
pub(crate) fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned())
}

fn cargo_subcommand_installed(name: &str) -> bool {
    let mut command = Command::new(cargo());
    command.args([name, "--version"]);
    quietly_succeeds(Step {
        name: "version",
        command,
    })
}

/// Runs a step with its output discarded and says whether it succeeded.
fn quietly_succeeds(mut step: Step) -> bool {
    step.command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}
