//! `cargo xtask readme`: builds the README's example data source as a new
//! crate whose only dependency is `grafana-plugin`, the way a plugin author
//! starts.
//!
//! The example is the first `rust` code block under the README heading
//! [`HEADING`]. The crate is written to a temporary directory with the
//! workspace's `Cargo.lock`, so it builds offline against the versions the
//! workspace tests, into the workspace's target directory, so the SDK is not
//! built a second time.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, bail};

/// The README section whose first code block is the example.
const HEADING: &str = "## A data source in a few lines";

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    if !args.is_empty() {
        bail!("usage: cargo xtask readme");
    }
    check(&crate::project_root())
}

/// Builds the README's example as a crate depending only on `grafana-plugin`.
pub(crate) fn check(root: &Path) -> anyhow::Result<()> {
    let readme = fs::read_to_string(root.join("README.md")).context("reading README.md")?;
    let example = example(&readme)?;

    let dir = tempfile::tempdir().context("creating a directory for the example crate")?;
    let facade = root.join("crates/grafana-plugin");
    let manifest = format!(
        "[package]\n\
         name = \"readme-example\"\n\
         version = \"0.0.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\n\
         [dependencies]\n\
         grafana-plugin = {{ path = {facade:?} }}\n\n\
         # Not a member of the SDK's workspace.\n\
         [workspace]\n",
        facade = facade.display().to_string(),
    );
    fs::create_dir(dir.path().join("src"))?;
    fs::write(dir.path().join("Cargo.toml"), manifest)?;
    fs::write(dir.path().join("src/main.rs"), example)?;
    fs::copy(root.join("Cargo.lock"), dir.path().join("Cargo.lock"))
        .context("copying Cargo.lock")?;

    let status = Command::new(crate::ci::cargo())
        .args(["build", "--offline", "--quiet"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", root.join("target"))
        .status()
        .context("starting cargo")?;
    if !status.success() {
        bail!("the README example does not build against grafana-plugin alone ({status})");
    }
    println!("the README example builds with grafana-plugin as its only dependency");
    Ok(())
}

/// The first `rust` code block after [`HEADING`].
fn example(readme: &str) -> anyhow::Result<&str> {
    let section = readme
        .split_once(HEADING)
        .map(|(_, rest)| rest)
        .with_context(|| format!("README.md has no `{HEADING}` section"))?;
    let (_, block) = section
        .split_once("```rust")
        .context("the README section has no rust code block")?;
    let (_, code) = block
        .split_once('\n')
        .context("the README's code block is empty")?;
    let (code, _) = code
        .split_once("\n```")
        .context("the README's code block is not closed")?;
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_first_rust_block_of_the_section() {
        let readme = "# x\n```rust\nnot this\n```\n## A data source in a few lines\n\ntext\n\n```rust,no_run\nfn main() {}\n```\n```rust\nnor this\n```\n";
        assert_eq!(example(readme).unwrap(), "fn main() {}");
    }

    #[test]
    fn a_missing_section_is_an_error() {
        assert!(example("# nothing here\n").is_err());
    }
}
