//! `cargo xtask package <plugin dir> [--target T]... [--debug]`: build a
//! plugin's binaries and lay them out the way Grafana loads them.
//!
//! Grafana looks for `<plugin dir>/<executable>_<os>_<arch>[.exe]`, with
//! `executable` from plugin.json and Go's names for the platform (`linux`,
//! `darwin`, `windows`; `amd64`, `arm64`, `arm`). This command writes
//! `dist/<plugin id>/` (a folder Grafana can load as it is) and
//! `dist/<plugin id>-<version>.zip`, whose single top folder is the plugin id
//! and whose binaries are mode 0755.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail, ensure};
use serde_json::Value;

use crate::cargo_build::CargoBuild;

/// Files and folders shipped beside plugin.json when the plugin has them.
const ASSETS: &[&str] = &[
    "README.md",
    "CHANGELOG.md",
    "LICENSE",
    "module.js",
    "module.js.map",
    "img",
];

/// Environment variable through which the build receives the plugin's build
/// information (printed by the plugin's `-buildinfo` flag).
pub(crate) const BUILD_INFO_ENV: &str = "GRAFANA_PLUGIN_BUILD_INFO";

#[derive(Debug, PartialEq)]
struct Options {
    plugin_dir: PathBuf,
    targets: Vec<String>,
    debug: bool,
}

fn parse_args(args: &[String]) -> anyhow::Result<Options> {
    const USAGE: &str = "usage: cargo xtask package <plugin dir> [--target T]... [--debug]";
    let mut plugin_dir = None;
    let mut targets = Vec::new();
    let mut debug = false;
    let mut words = args.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--debug" => debug = true,
            "--target" => targets.push(words.next().context(USAGE)?.clone()),
            flag if flag.starts_with('-') => bail!("unknown option `{flag}`\n{USAGE}"),
            dir if plugin_dir.is_none() => plugin_dir = Some(PathBuf::from(dir)),
            extra => bail!("unexpected argument `{extra}`\n{USAGE}"),
        }
    }
    Ok(Options {
        plugin_dir: plugin_dir.context(USAGE)?,
        targets,
        debug,
    })
}

pub(crate) fn run(args: &[String]) -> anyhow::Result<()> {
    let options = parse_args(args)?;
    let plugin_dir = options
        .plugin_dir
        .canonicalize()
        .with_context(|| format!("plugin directory {}", options.plugin_dir.display()))?;
    let plugin = PluginJson::find(&plugin_dir)?;

    let targets = if options.targets.is_empty() {
        vec![host_target()?]
    } else {
        options.targets.clone()
    };
    // Refuse every unusable target before spending minutes on a build.
    let platforms = targets
        .iter()
        .map(|target| {
            ensure_target_installed(target)?;
            Platform::from_target(target)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;

    let dist = crate::project_root().join("dist");
    let staging = dist.join(&plugin.id);
    if staging.exists() {
        fs::remove_dir_all(&staging).with_context(|| format!("clearing {}", staging.display()))?;
    }
    fs::create_dir_all(&staging)?;
    fs::copy(&plugin.path, staging.join("plugin.json"))?;
    for asset in ASSETS {
        let from = plugin_dir.join(asset);
        if from.exists() {
            copy_recursively(&from, &staging.join(asset))?;
        }
    }

    let mut binaries = Vec::new();
    for (target, platform) in targets.iter().zip(&platforms) {
        let built = build(&plugin_dir, &plugin, target, options.debug)?;
        let name = platform.binary_name(&plugin.executable);
        let to = staging.join(&name);
        fs::copy(&built, &to).with_context(|| format!("copying {}", built.display()))?;
        set_executable(&to)?;
        println!("built {name} ({target})");
        binaries.push(name);
    }

    let archive = dist.join(format!("{}-{}.zip", plugin.id, plugin.version));
    write_zip(&staging, &plugin.id, &binaries, &archive)?;
    println!("wrote {}", staging.display());
    println!("wrote {}", archive.display());
    Ok(())
}

/// The parts of plugin.json that packaging depends on, checked.
#[derive(Debug)]
struct PluginJson {
    path: PathBuf,
    id: String,
    executable: String,
    version: String,
}

impl PluginJson {
    /// Reads `plugin.json` from the plugin directory (or its `src/`, the Go
    /// SDK's layout).
    fn find(plugin_dir: &Path) -> anyhow::Result<Self> {
        let path = ["plugin.json", "src/plugin.json"]
            .iter()
            .map(|p| plugin_dir.join(p))
            .find(|p| p.is_file())
            .with_context(|| format!("no plugin.json in {}", plugin_dir.display()))?;
        let text = fs::read_to_string(&path)?;
        Self::parse(&text, path)
    }

    fn parse(text: &str, path: PathBuf) -> anyhow::Result<Self> {
        let where_ = path.display().to_string();
        let json: Value =
            serde_json::from_str(text).with_context(|| format!("{where_} is not valid JSON"))?;
        let string = |key: &str| -> anyhow::Result<String> {
            match json.get(key) {
                Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.clone()),
                Some(Value::String(_)) => bail!("{where_}: \"{key}\" is empty"),
                Some(_) => bail!("{where_}: \"{key}\" must be a string"),
                None => bail!("{where_}: \"{key}\" is missing"),
            }
        };

        let id = string("id")?;
        ensure!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
            "{where_}: \"id\" {id:?} may hold only lower-case letters, digits, '-' and '_'"
        );
        let kind = string("type")?;
        ensure!(
            matches!(
                kind.as_str(),
                "datasource" | "app" | "renderer" | "secretsmanager"
            ),
            "{where_}: \"type\" is {kind:?}; a backend plugin is a datasource, app, renderer or secretsmanager"
        );
        ensure!(
            json.get("backend") == Some(&Value::Bool(true)),
            "{where_}: \"backend\" must be true for Grafana to start the plugin's binary"
        );
        // Go's nested layout writes "../gpx_name"; the binary still lands in
        // the plugin's root folder.
        let executable = string("executable")?;
        let executable = executable.trim_start_matches("../").to_owned();
        ensure!(
            !executable.contains(['/', '\\']),
            "{where_}: \"executable\" {executable:?} must be a file name, not a path"
        );
        let version = json
            .pointer("/info/version")
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty() && !v.contains('%'))
            .unwrap_or("0.0.0")
            .to_owned();
        Ok(PluginJson {
            path,
            id,
            executable,
            version,
        })
    }
}

/// A platform in Go's vocabulary, which is what Grafana uses to pick a binary.
#[derive(Debug, PartialEq)]
struct Platform {
    os: &'static str,
    arch: &'static str,
}

impl Platform {
    fn from_target(target: &str) -> anyhow::Result<Self> {
        let arch = match target.split('-').next().unwrap_or_default() {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            a if a.starts_with("arm") || a.starts_with("thumbv7") => "arm",
            "i686" | "i586" => "386",
            other => bail!("no Grafana architecture name for `{other}` (target {target})"),
        };
        let os = if target.contains("-linux-") {
            "linux"
        } else if target.contains("-windows-") {
            "windows"
        } else if target.contains("-apple-darwin") {
            "darwin"
        } else if target.contains("-freebsd") {
            "freebsd"
        } else {
            bail!("no Grafana operating-system name for target {target}")
        };
        Ok(Platform { os, arch })
    }

    fn binary_name(&self, executable: &str) -> String {
        let suffix = if self.os == "windows" { ".exe" } else { "" };
        format!("{executable}_{}_{}{suffix}", self.os, self.arch)
    }
}

fn host_target() -> anyhow::Result<String> {
    let output = Command::new(rustc()).arg("-vV").output()?;
    String::from_utf8(output.stdout)?
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .context("`rustc -vV` printed no host triple")
}

/// Refuses a target whose standard library is not installed: the build would
/// fail minutes later with a less helpful message.
fn ensure_target_installed(target: &str) -> anyhow::Result<()> {
    let output = Command::new(rustc())
        .args(["--print", "target-libdir", "--target", target])
        .output()?;
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    let has_std = output.status.success()
        && fs::read_dir(&libdir).is_ok_and(|entries| {
            entries.flatten().any(|e| {
                let name = e.file_name();
                let name = name.to_string_lossy();
                name.starts_with("libstd-") && name.ends_with(".rlib")
            })
        });
    ensure!(
        has_std,
        "target {target} is not installed for this toolchain, so no binary can be built for it \
         (`rustup target add {target}` where downloads are possible)"
    );
    Ok(())
}

/// Builds the plugin's binary for `target` and returns its path.
fn build(
    plugin_dir: &Path,
    plugin: &PluginJson,
    target: &str,
    debug: bool,
) -> anyhow::Result<PathBuf> {
    let manifest = plugin_dir.join("Cargo.toml");
    ensure!(
        manifest.is_file(),
        "no Cargo.toml in {}",
        plugin_dir.display()
    );
    let build_time_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_millis();
    let build_info = serde_json::json!({
        "time": build_time_ms as u64,
        "pluginID": plugin.id,
        "version": plugin.version,
    });

    let binaries: Vec<_> = CargoBuild::new(&manifest)
        .args(["--target", target])
        .release(!debug)
        .env(BUILD_INFO_ENV, &build_info.to_string())
        .run()?
        .into_iter()
        .filter(|built| built.manifest == manifest)
        .collect();
    match binaries.as_slice() {
        [] => bail!("{} builds no binary", manifest.display()),
        [only] => Ok(only.path.clone()),
        several => several
            .iter()
            .find(|built| built.name == plugin.executable)
            .map(|built| built.path.clone())
            .with_context(|| {
                format!(
                    "{} builds several binaries; name one `{}`",
                    manifest.display(),
                    plugin.executable
                )
            }),
    }
}

fn copy_recursively(from: &Path, to: &Path) -> anyhow::Result<()> {
    if from.is_dir() {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            copy_recursively(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        fs::copy(from, to).with_context(|| format!("copying {}", from.display()))?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755))?;
    Ok(())
}

#[cfg(not(unix))]
fn set_executable(_path: &Path) -> anyhow::Result<()> {
    Ok(())
}

/// Zips `staging` so that the archive's single top folder is `top`; the
/// `binaries` (names inside `staging`) get mode 0755, everything else 0644.
/// Timestamps are fixed, so the same inputs give the same archive.
fn write_zip(staging: &Path, top: &str, binaries: &[String], archive: &Path) -> anyhow::Result<()> {
    use zip::write::SimpleFileOptions;

    let mut files = Vec::new();
    collect_files(staging, staging, &mut files)?;
    files.sort();

    let mut zip = zip::ZipWriter::new(fs::File::create(archive)?);
    let base = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    zip.add_directory(format!("{top}/"), base.unix_permissions(0o755))?;
    for relative in files {
        let mode = if binaries.contains(&relative) {
            0o755
        } else {
            0o644
        };
        zip.start_file(format!("{top}/{relative}"), base.unix_permissions(mode))?;
        zip.write_all(&fs::read(staging.join(&relative))?)?;
    }
    zip.finish()?;
    Ok(())
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else {
            let relative = path.strip_prefix(root)?;
            // Zip paths use '/' on every platform.
            let parts: Vec<_> = relative.iter().map(|p| p.to_string_lossy()).collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

fn rustc() -> String {
    std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> anyhow::Result<PluginJson> {
        PluginJson::parse(json, PathBuf::from("plugin.json"))
    }

    #[test]
    fn reads_a_backend_plugin_json() {
        let plugin = parse(
            r#"{"id":"acme-demo-datasource","type":"datasource","backend":true,
                "executable":"gpx_demo","info":{"version":"1.2.3"}}"#,
        )
        .expect("valid");
        assert_eq!(plugin.id, "acme-demo-datasource");
        assert_eq!(plugin.executable, "gpx_demo");
        assert_eq!(plugin.version, "1.2.3");
    }

    #[test]
    fn nested_executable_prefix_is_stripped() {
        let plugin =
            parse(r#"{"id":"a-b-app","type":"app","backend":true,"executable":"../gpx_b"}"#)
                .expect("valid");
        assert_eq!(plugin.executable, "gpx_b");
        assert_eq!(plugin.version, "0.0.0");
    }

    #[test]
    fn plugin_json_errors_name_the_problem() {
        let cases = [
            (
                r#"{"type":"datasource","backend":true,"executable":"x"}"#,
                "\"id\" is missing",
            ),
            (
                r#"{"id":"a","type":"panel","backend":true,"executable":"x"}"#,
                "\"type\"",
            ),
            (
                r#"{"id":"a","type":"datasource","executable":"x"}"#,
                "\"backend\" must be true",
            ),
            (
                r#"{"id":"a","type":"datasource","backend":true}"#,
                "\"executable\" is missing",
            ),
            (
                r#"{"id":"a","type":"datasource","backend":true,"executable":"bin/x"}"#,
                "file name",
            ),
            (
                r#"{"id":"Bad Id","type":"datasource","backend":true,"executable":"x"}"#,
                "\"id\"",
            ),
            ("{not json", "not valid JSON"),
        ];
        for (json, expected) in cases {
            let error = format!("{:#}", parse(json).expect_err(json));
            assert!(error.contains(expected), "{json}: {error}");
        }
    }

    #[test]
    fn targets_map_to_grafana_platform_names() {
        let name = |target: &str| {
            Platform::from_target(target)
                .map(|p| p.binary_name("gpx_x"))
                .expect(target)
        };
        assert_eq!(name("x86_64-unknown-linux-gnu"), "gpx_x_linux_amd64");
        assert_eq!(name("x86_64-unknown-linux-musl"), "gpx_x_linux_amd64");
        assert_eq!(name("aarch64-unknown-linux-gnu"), "gpx_x_linux_arm64");
        assert_eq!(name("armv7-unknown-linux-gnueabihf"), "gpx_x_linux_arm");
        assert_eq!(name("x86_64-pc-windows-msvc"), "gpx_x_windows_amd64.exe");
        assert_eq!(name("x86_64-apple-darwin"), "gpx_x_darwin_amd64");
        assert_eq!(name("aarch64-apple-darwin"), "gpx_x_darwin_arm64");
        assert!(Platform::from_target("wasm32-unknown-unknown").is_err());
    }

    #[test]
    fn uninstalled_targets_are_refused_and_the_host_is_accepted() {
        ensure_target_installed(&host_target().expect("host")).expect("host target works");
        let error =
            ensure_target_installed("riscv64gc-unknown-none-elf").expect_err("not installed here");
        assert!(format!("{error:#}").contains("not installed"), "{error:#}");
    }

    #[test]
    fn arguments_parse() {
        let args: Vec<String> = ["examples/ds", "--target", "a", "--target", "b", "--debug"]
            .map(String::from)
            .into();
        assert_eq!(
            parse_args(&args).expect("valid"),
            Options {
                plugin_dir: "examples/ds".into(),
                targets: vec!["a".into(), "b".into()],
                debug: true,
            }
        );
        assert!(parse_args(&[]).is_err());
        assert!(parse_args(&["--target".into()]).is_err());
        assert!(parse_args(&["a".into(), "b".into()]).is_err());
    }

    #[test]
    fn archive_has_one_top_folder_and_executable_binaries() {
        let staging = tempfile::tempdir().expect("tempdir");
        fs::write(staging.path().join("plugin.json"), "{}").expect("write");
        fs::create_dir(staging.path().join("img")).expect("mkdir");
        fs::write(staging.path().join("img/logo.svg"), "<svg/>").expect("write");
        let binary = staging.path().join("gpx_x_linux_amd64");
        fs::write(&binary, b"\x7fELF").expect("write");
        set_executable(&binary).expect("chmod");

        let out = tempfile::tempdir().expect("tempdir");
        let archive_path = out.path().join("a.zip");
        let binaries = ["gpx_x_linux_amd64".to_owned()];
        write_zip(
            staging.path(),
            "acme-x-datasource",
            &binaries,
            &archive_path,
        )
        .expect("zip");

        let mut archive =
            zip::ZipArchive::new(fs::File::open(&archive_path).expect("open")).expect("read zip");
        let mut entries = Vec::new();
        for i in 0..archive.len() {
            let file = archive.by_index(i).expect("entry");
            entries.push((
                file.name().expect("UTF-8 entry name").into_owned(),
                file.unix_mode().map(|m| m & 0o777),
            ));
        }
        assert!(
            entries
                .iter()
                .all(|(name, _)| name.starts_with("acme-x-datasource/"))
        );
        let mode = |name: &str| {
            entries
                .iter()
                .find(|(n, _)| n == name)
                .and_then(|(_, mode)| *mode)
        };
        assert_eq!(mode("acme-x-datasource/gpx_x_linux_amd64"), Some(0o755));
        assert_eq!(mode("acme-x-datasource/plugin.json"), Some(0o644));
        assert_eq!(mode("acme-x-datasource/img/logo.svg"), Some(0o644));
    }
}
