//! `cargo xtask frame FILE [--json]`: print the frames in a file.

pub(crate) fn run(_args: &[String]) -> anyhow::Result<()> {
    anyhow::bail!("`cargo xtask frame` is not available yet")
}
