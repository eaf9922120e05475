//! A throwaway PostgreSQL server for tests, from the machine's Debian package
//! (`/usr/lib/postgresql/*/bin`): a fresh cluster in a temporary directory, reachable only
//! through a unix socket in that directory, stopped when the guard drops, even when a test
//! panics. PostgreSQL refuses to run as root, so as root the server runs as `postgres`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A running server; dropping it stops the server and removes its files.
pub(crate) struct PostgresServer {
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    // Dropped after `Drop::drop` stopped the server.
    _dir: tempfile::TempDir,
}

fn run(mut command: Command, what: &str) -> Result<Output, String> {
    let output = command.output().map_err(|e| format!("{what}: {e}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// The newest `bin` directory of the Debian PostgreSQL packages.
fn find_bin() -> Option<PathBuf> {
    let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
        .filter(|bin| bin.join("initdb").is_file() && bin.join("pg_ctl").is_file())
        .collect();
    bins.sort_by_key(|bin| {
        let version = bin
            .parent()
            .and_then(Path::file_name)
            .and_then(|v| v.to_str())
            .unwrap_or("");
        version.parse::<u32>().unwrap_or(0)
    });
    bins.pop()
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl PostgresServer {
    /// Starts a server; `None` (after one line on stderr) when this machine has no
    /// PostgreSQL binaries. Any other failure panics: a machine with the binaries must be
    /// able to run the tests.
    pub(crate) fn start() -> Option<PostgresServer> {
        let Some(bin) = find_bin() else {
            eprintln!(
                "skipping PostgreSQL tests: no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)"
            );
            return None;
        };
        let dir = tempfile::tempdir().expect("temporary directory");
        let run_as = is_root().then(|| "postgres".to_owned());
        if let Some(user) = &run_as {
            run(
                {
                    let mut c = Command::new("chown");
                    c.arg(user).arg(dir.path());
                    c
                },
                "chown",
            )
            .unwrap();
        }
        let server = PostgresServer {
            bin,
            data: dir.path().join("data"),
            run_as,
            _dir: dir,
        };
        server
            .pg(
                "initdb",
                &[
                    "-D",
                    server.data.to_str().unwrap(),
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "--no-sync",
                ],
            )
            .unwrap();
        let socket_dir = server.socket_dir();
        // No TCP at all: the socket lives in the test's own directory, so parallel test
        // runs never race for a port. `-w` waits until the server accepts connections.
        let options =
            format!("-k {socket_dir} -c listen_addresses='' -c fsync=off -c full_page_writes=off");
        let log = server.data.parent().unwrap().join("server.log");
        server
            .pg(
                "pg_ctl",
                &[
                    "-D",
                    server.data.to_str().unwrap(),
                    "-o",
                    &options,
                    "-l",
                    log.to_str().unwrap(),
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
            )
            .unwrap();
        Some(server)
    }

    fn socket_dir(&self) -> String {
        self.data.parent().unwrap().display().to_string()
    }

    fn pg(&self, tool: &str, args: &[&str]) -> Result<Output, String> {
        let program = self.bin.join(tool);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.args(["-u", user, "--"]).arg(program);
                c
            }
            None => Command::new(program),
        };
        command.args(args).current_dir(self.data.parent().unwrap());
        run(command, tool)
    }

    /// The connection URL of database `postgres` as user `postgres`.
    pub(crate) fn url(&self) -> String {
        format!(
            "postgres://postgres@localhost/postgres?host={}",
            self.socket_dir()
        )
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let data = self.data.to_str().unwrap().to_owned();
        if let Err(error) = self.pg("pg_ctl", &["-D", &data, "-m", "immediate", "-w", "stop"]) {
            eprintln!("stopping the test PostgreSQL server: {error}");
        }
    }
}
