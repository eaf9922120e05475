//! Building binaries with cargo and finding what it built.
//!
//! Asks cargo for JSON messages and reads each binary's path from them, so
//! `CARGO_TARGET_DIR`, `--target` and profiles are honoured without guessing
//! where the output lands.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, ensure};
use serde_json::Value;

/// A binary cargo built.
#[derive(Debug)]
pub(crate) struct BuiltBinary {
    /// The bin target's name.
    pub(crate) name: String,
    /// The manifest of the package it belongs to.
    pub(crate) manifest: PathBuf,
    /// Where the executable is.
    pub(crate) path: PathBuf,
}

/// `cargo build --manifest-path <manifest>` with extra arguments.
#[derive(Debug)]
pub(crate) struct CargoBuild {
    command: Command,
    description: String,
}

impl CargoBuild {
    pub(crate) fn new(manifest: &Path) -> Self {
        let mut command = Command::new(crate::ci::cargo());
        command
            .args(["build", "--message-format=json-render-diagnostics"])
            .arg("--manifest-path")
            .arg(manifest)
            .stdout(Stdio::piped());
        CargoBuild {
            command,
            description: manifest.display().to_string(),
        }
    }

    pub(crate) fn args<'a>(mut self, args: impl IntoIterator<Item = &'a str>) -> Self {
        self.command.args(args);
        self
    }

    pub(crate) fn release(self, release: bool) -> Self {
        if release {
            self.args(["--release"])
        } else {
            self
        }
    }

    pub(crate) fn env(mut self, key: &str, value: &str) -> Self {
        self.command.env(key, value);
        self
    }

    /// Runs the build (compiler output goes to the terminal) and returns every
    /// binary it produced or found up to date.
    pub(crate) fn run(mut self) -> anyhow::Result<Vec<BuiltBinary>> {
        let mut child = self
            .command
            .spawn()
            .with_context(|| format!("starting cargo build for {}", self.description))?;
        let stdout = child.stdout.take().context("cargo build stdout")?;
        let mut binaries = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let message: Value = serde_json::from_str(&line?).unwrap_or(Value::Null);
            let is_binary = message["reason"] == "compiler-artifact"
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|kind| kind == "bin"));
            if let (true, Some(path), Some(name), Some(manifest)) = (
                is_binary,
                message["executable"].as_str(),
                message["target"]["name"].as_str(),
                message["manifest_path"].as_str(),
            ) {
                binaries.push(BuiltBinary {
                    name: name.to_owned(),
                    manifest: PathBuf::from(manifest),
                    path: PathBuf::from(path),
                });
            }
        }
        let status = child.wait()?;
        ensure!(
            status.success(),
            "cargo build for {} failed ({status})",
            self.description
        );
        Ok(binaries)
    }
}

/// Builds binary `bin` of package `package` in the workspace of `manifest`
/// and returns its path.
pub(crate) fn build_binary(
    manifest: &Path,
    package: &str,
    bin: &str,
    release: bool,
) -> anyhow::Result<PathBuf> {
    CargoBuild::new(manifest)
        .args(["--package", package, "--bin", bin])
        .release(release)
        .run()?
        .into_iter()
        .find(|built| built.name == bin)
        .map(|built| built.path)
        .with_context(|| format!("cargo built {package} but reported no executable {bin}"))
}
